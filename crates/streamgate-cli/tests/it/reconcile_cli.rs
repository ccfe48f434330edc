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

async fn pool(url: &str) -> streamgate_testkit::sqlx::AnyPool {
    streamgate_testkit::sqlx::any::install_default_drivers();
    streamgate_testkit::sqlx::AnyPool::connect(url)
        .await
        .expect("connect")
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

/// Eight processes opening one brand-new SQLite file at the same moment all migrate it
/// and apply (exactly one apply makes the codes), three rounds in a row.
#[test]
fn concurrent_first_starts_on_a_new_sqlite_file_all_succeed() {
    for round in 0..3 {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("streamgate.toml"), config_with(1, 5)).expect("write");
        let url = format!("sqlite://{}", dir.path().join("data/new.db").display());
        let children: Vec<Child> = (0..8)
            .map(|_| {
                streamgate(dir.path(), &url)
                    .arg("apply")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        let mut made = Vec::new();
        for child in children {
            let out = child.wait_with_output().expect("wait");
            assert!(
                out.status.success(),
                "round {round}: a concurrent first start failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            made.push(stdout.contains("Applied: 5 code(s) made"));
        }
        assert_eq!(
            made.iter().filter(|m| **m).count(),
            1,
            "round {round}: exactly one process made the codes"
        );
    }
}

/// `plan` marks a destroy, exits 1 while it is guarded, and `apply --allow-retire`
/// carries it out; `apply` alone refuses with the way to do it on purpose.
#[tokio::test]
async fn retiring_a_sold_event_needs_allow_retire() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite();
    let file = dir.path().join("streamgate.toml");
    std::fs::write(&file, config_with(2, 3)).expect("write");
    let run = |args: &[&str]| {
        streamgate(dir.path(), &db.url)
            .args(args)
            .output()
            .expect("run")
    };
    assert!(run(&["apply"]).status.success());
    let pool = pool(&db.url).await;
    streamgate_testkit::sqlx::query(
        "UPDATE access_codes SET redeemed_at = 1 WHERE event_id = 'event-1'",
    )
    .execute(&pool)
    .await
    .expect("redeem");
    std::fs::write(&file, config_with(1, 3)).expect("write");

    let plan = run(&["plan"]);
    let shown = String::from_utf8_lossy(&plan.stdout).into_owned();
    assert_eq!(plan.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("! DESTROY event event-1") && shown.contains("3 redeemed codes still valid"),
        "{shown}"
    );
    assert_eq!(run(&["plan", "--allow-retire"]).status.code(), Some(2));

    let refused = run(&["apply"]);
    let stderr = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(!refused.status.success());
    assert!(
        stderr.contains("`event-1`") && stderr.contains("--allow-retire"),
        "{stderr}"
    );
    let active: i64 =
        streamgate_testkit::sqlx::query_scalar("SELECT is_active FROM events WHERE id = 'event-1'")
            .fetch_one(&pool)
            .await
            .expect("row");
    assert_eq!(active, 1, "a refused apply changes nothing");

    assert!(run(&["apply", "--allow-retire"]).status.success());
    let active: i64 =
        streamgate_testkit::sqlx::query_scalar("SELECT is_active FROM events WHERE id = 'event-1'")
            .fetch_one(&pool)
            .await
            .expect("row");
    assert_eq!(active, 0);
    pool.close().await;
}
