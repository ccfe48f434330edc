//! `streamgate plan`, `apply` and `codes export` as operators run them: exit codes,
//! two processes applying at once on PostgreSQL, and `apply --watch` as a long-running
//! process that survives bad edits and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use streamgate_testkit::TestDb;

fn streamgate(dir: &Path, database_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_streamgate"));
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url);
    cmd
}

fn config_with(events: usize, codes: u32) -> String {
    let mut text = String::from("[hls]\nstream_root = \"streams\"\n");
    for i in 0..events {
        text.push_str(&format!(
            "\n[[events]]\nid = \"event-{i}\"\ntitle = \"Event {i}\"\nstarts_at = 2030-01-01T00:00:00Z\nends_at = 2030-01-02T00:00:00Z\n\n[[events.codes]]\nlabel = \"tickets\"\ncount = {codes}\n"
        ));
    }
    text
}

async fn pool(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(url).await.expect("connect")
}

#[tokio::test]
async fn plan_exits_2_with_changes_0_without_and_1_on_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite();
    std::fs::write(dir.path().join("streamgate.toml"), config_with(2, 5)).expect("write");
    let run = |args: &[&str]| {
        streamgate(dir.path(), &db.url)
            .args(args)
            .output()
            .expect("run")
    };
    let code = |args: &[&str]| run(args).status.code();
    assert_eq!(code(&["plan"]), Some(2));
    let applied = run(&["apply"]);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    assert!(String::from_utf8_lossy(&applied.stdout).contains("Applied: 10 code(s) made"));
    assert_eq!(code(&["plan"]), Some(0));
    let export = run(&["codes", "export", "--event", "event-1"]);
    let csv = String::from_utf8_lossy(&export.stdout).into_owned();
    assert_eq!(csv.lines().count(), 6, "{csv}");
    assert!(csv.starts_with("code,label,status,createdAt,expiresAt\n"));
    let missing = run(&["codes", "export", "--event", "nope"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no event with id \"nope\""));
    std::fs::write(dir.path().join("streamgate.toml"), config_with(2, 3)).expect("write");
    let lowered = run(&["plan"]);
    assert_eq!(lowered.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&lowered.stdout).contains("rerun with --prune"));
    assert_eq!(code(&["apply"]), Some(1), "apply refuses the same plan");
    assert_eq!(code(&["plan", "--prune"]), Some(2));
    std::fs::write(
        dir.path().join("streamgate.toml"),
        "[hls]\nstream_root = 5\n",
    )
    .expect("write");
    assert_eq!(code(&["plan"]), Some(1), "an invalid file is an error");
}

#[tokio::test]
async fn two_processes_applying_at_once_on_postgresql_give_one_result() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("streamgate.toml"), config_with(20, 500)).expect("write");
    // Migrate first, so the race is the apply and not the schema creation.
    assert!(
        streamgate(dir.path(), &db.url)
            .arg("plan")
            .output()
            .expect("plan")
            .status
            .code()
            == Some(2)
    );
    let spawn = || {
        streamgate(dir.path(), &db.url)
            .arg("apply")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let pool = pool(&db.url).await;
    let n = |sql: &'static str| streamgate_testkit::count(&pool, sql);
    assert_eq!(n("SELECT COUNT(*) FROM events").await, 20);
    assert_eq!(
        n("SELECT COUNT(*) FROM access_codes").await,
        10_000,
        "no duplicates"
    );
    assert_eq!(
        n("SELECT COUNT(DISTINCT code) FROM access_codes").await,
        10_000
    );
    assert_eq!(
        n("SELECT COUNT(*) FROM audit_log WHERE action = 'config.apply'").await,
        1,
        "the second found nothing to do"
    );
    pool.close().await;
    db.cleanup().await;
}

/// Lines of a child's stderr, as they come.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().expect("stderr piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_for_line(rx: &mpsc::Receiver<String>, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(line) => eprintln!("child: {line}"),
            Err(_) => break,
        }
    }
    panic!("no log line containing {needle:?}");
}

#[tokio::test]
async fn apply_watch_survives_bad_edits_applies_good_ones_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite();
    let file: PathBuf = dir.path().join("streamgate.toml");
    std::fs::write(&file, config_with(1, 5)).expect("write");
    let mut child = streamgate(dir.path(), &db.url)
        .args(["apply", "--watch", "--debounce-ms", "50"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let log = lines_of(&mut child);
    wait_for_line(&log, "watching the config file");
    // A syntax error, an unknown key, and a valid file whose plan is refused (a batch
    // count going down without --prune).
    for (n, bad) in [
        "[[events]\n".to_owned(),
        "[hls]\nstream_root = \"s\"\nbogus = 1\n".to_owned(),
        config_with(1, 3),
    ]
    .iter()
    .enumerate()
    {
        streamgate_testkit::save_atomically(&file, &format!("# {n}\n{bad}"));
        wait_for_line(&log, "config change refused");
        assert!(
            child.try_wait().expect("try_wait").is_none(),
            "the process died on bad edit {n}"
        );
    }
    streamgate_testkit::save_atomically(&file, &config_with(1, 8));
    wait_for_line(&log, "config change applied");
    let pool = pool(&db.url).await;
    assert_eq!(
        streamgate_testkit::count(&pool, "SELECT COUNT(*) FROM access_codes").await,
        8
    );
    pool.close().await;
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(term.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "SIGTERM is a clean stop, got {status}");
}
