//! `streamgate platform` as operators run it: two processes sharing one PostgreSQL
//! database keep the one-device rule, a bad edit of streamgate.toml shows on /health
//! without changing anything, and SIGTERM is a clean stop.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{Value, json};
use streamgate_testkit::TestDb;

const EVENT: &str = "\n[[events]]\nid = \"race\"\ntitle = \"Race\"\nstarts_at = 2026-01-01T00:00:00Z\nends_at = 2099-01-01T00:00:00Z\n\n[[events.codes]]\nlabel = \"t\"\ncount = 20\n";

fn config() -> String {
    format!(
        "[platform]\nlisten = \"127.0.0.1:0\"\n[platform.rate_limits]\nvalidate_per_minute = 100000\n[hls]\nstream_root = \"streams\"\npublic_url = \"http://127.0.0.1:9\"\n{EVENT}"
    )
}

struct Running {
    child: Child,
    base: String,
    log: mpsc::Receiver<String>,
}

fn start(dir: &Path, database_url: &str) -> Running {
    start_with(dir, database_url, &[])
}

fn start_with(dir: &Path, database_url: &str, args: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_streamgate"))
        .arg("platform")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env(
            "PLAYBACK_SIGNING_SECRET",
            "cli-test-signing-secret-0123456789abcdef",
        )
        .env("INTERNAL_API_KEY", "cli-test-internal-key-0123")
        .env(
            "ADMIN_PASSWORD_HASH",
            "$2b$12$C6UzMDM.H6dfI/f/IKxGhuS8y6ZkzqDvWqqbDNrXxZ6YQ1Y6F6H5y",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn streamgate platform");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, log) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let base = wait_for(&log, "platform listening on ")
        .split("platform listening on ")
        .nth(1)
        .expect("address")
        .trim()
        .to_owned();
    Running { child, base, log }
}

fn wait_for(log: &mpsc::Receiver<String>, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match log.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(line) => eprintln!("platform: {line}"),
            Err(_) => break,
        }
    }
    panic!("no log line containing {needle:?}");
}

fn stop(mut running: Running) {
    let term = Command::new("kill")
        .args(["-TERM", &running.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(term.success());
    let status = running.child.wait().expect("wait");
    assert!(status.success(), "SIGTERM is a clean stop, got {status}");
    wait_for(&running.log, "platform stopped");
}

async fn codes(url: &str) -> Vec<String> {
    codes_where(url, "").await
}

/// The codes of one event (`event` is a test constant).
async fn codes_of(url: &str, event: &'static str) -> Vec<String> {
    codes_where(url, event).await
}

async fn codes_where(url: &str, event: &str) -> Vec<String> {
    streamgate_testkit::sqlx::any::install_default_drivers();
    let pool = streamgate_testkit::sqlx::AnyPool::connect(url)
        .await
        .expect("pool");
    let rows = streamgate_testkit::sqlx::query(
        "SELECT code FROM access_codes WHERE $1 = '' OR event_id = $1 ORDER BY created_at, code",
    )
    .bind(event)
    .fetch_all(&pool)
    .await
    .expect("codes");
    pool.close().await;
    rows.iter()
        .map(|r| streamgate_testkit::sqlx::Row::get(r, "code"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_platform_processes_on_postgresql_let_exactly_one_device_in() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("streamgate.toml"), config()).expect("write");
    // Both start at once: the apply at start runs once (advisory lock).
    let (a, b) = (start(dir.path(), &db.url), start(dir.path(), &db.url));
    let codes = codes(&db.url).await;
    assert_eq!(codes.len(), 20, "one apply's worth of codes");
    let client = reqwest::Client::new();
    for (round, code) in codes.iter().enumerate() {
        let attempts = (0..50).map(|i| {
            let base = if i % 2 == 0 { &a.base } else { &b.base };
            client
                .post(format!("{base}/api/tokens/validate"))
                .json(&json!({ "code": code }))
                .send()
        });
        let statuses: Vec<u16> = join_all(attempts)
            .await
            .into_iter()
            .map(|r| r.expect("response").status().as_u16())
            .collect();
        let ok = statuses.iter().filter(|s| **s == 200).count();
        let in_use = statuses.iter().filter(|s| **s == 409).count();
        assert_eq!((ok, in_use), (1, 49), "round {round}: {statuses:?}");
    }
    stop(a);
    stop(b);
    db.cleanup().await;
}

#[tokio::test]
async fn a_bad_edit_shows_on_health_and_a_good_one_applies() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("streamgate.toml");
    std::fs::write(&file, config()).expect("write");
    let running = start(dir.path(), &db.url);
    let health = || async {
        reqwest::get(format!("{}/health", running.base))
            .await
            .expect("health")
            .json::<Value>()
            .await
            .expect("json")
    };
    streamgate_testkit::save_atomically(&file, &config().replace("count = 20", "count = \"many\""));
    wait_for(&running.log, "config change refused");
    let body = health().await;
    assert_eq!(body["config"]["rejected"], 1, "{body}");
    assert_eq!(
        body["status"], "degraded",
        "the file and the running config differ: {body}"
    );
    assert!(
        body["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("streamgate.toml:"),
        "{body}"
    );
    let problem = &body["config"]["lastError"]["problems"][0];
    assert!(
        problem["location"]
            .as_str()
            .unwrap()
            .contains("streamgate.toml:"),
        "{body}"
    );
    streamgate_testkit::save_atomically(&file, &config().replace("count = 20", "count = 25"));
    wait_for(&running.log, "config change applied");
    let body = health().await;
    assert_eq!(body["config"]["applies"], 2, "{body}");
    assert_eq!(body["config"]["lastError"], Value::Null);
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(codes(&db.url).await.len(), 25);
    stop(running);
}

async fn validate(base: &str, code: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/api/tokens/validate"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .expect("validate")
        .status()
        .as_u16()
}

async fn health_of(base: &str) -> (u16, Value) {
    let res = reqwest::get(format!("{base}/health"))
        .await
        .expect("health");
    (res.status().as_u16(), res.json().await.expect("json"))
}

streamgate_testkit::backend_tests! {
    /// The accident the destroy guard is for, on both databases: `platform --prune` running,
    /// a viewer watching, and the file saved empty (a ConfigMap that came up blank, an editor
    /// that crashed). Nothing is deleted or retired, /health says why it is degraded, and a
    /// restart on the truncated file keeps serving the event instead of retiring it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_empty_save_under_prune_takes_no_viewer_offline(db) {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("streamgate.toml");
        let two = format!(
            "{}{}",
            config(),
            EVENT
                .replace("\"race\"", "\"second\"")
                .replace("\"Race\"", "\"Second\"")
        );
        std::fs::write(&file, &two).expect("write");
        let running = start_with(dir.path(), &db.url, &["--prune"]);
        assert_eq!(codes(&db.url).await.len(), 40, "{}", db.name);
        let (race, second) = (
            codes_of(&db.url, "race").await,
            codes_of(&db.url, "second").await,
        );
        assert_eq!(
            validate(&running.base, &second[0]).await,
            200,
            "{}",
            db.name
        );

        for blank in ["", "#:schema ./schemas/streamgate.schema.json\n"] {
            streamgate_testkit::save_atomically(&file, blank);
            wait_for(&running.log, "config change refused");
            let (status, body) = health_of(&running.base).await;
            assert_eq!(
                status, 200,
                "{}: degraded is still serving: {body}",
                db.name
            );
            assert_eq!(body["status"], "degraded", "{}: {body}", db.name);
            assert!(
                body["reason"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("declares nothing"),
                "{}: {body}",
                db.name
            );
        }
        assert_eq!(
            validate(&running.base, &race[0]).await,
            200,
            "{}: codes still work",
            db.name
        );
        assert_eq!(
            validate(&running.base, &second[1]).await,
            200,
            "{}",
            db.name
        );

        // A save cut short after the first event: the second has a viewer, so it stays.
        let cut = two.rfind("\n[[events]]").expect("second event");
        streamgate_testkit::save_atomically(&file, &two[..cut]);
        wait_for(&running.log, "config change refused");
        stop(running);

        // Restarted on the truncated file: the guard refuses the retire, the platform
        // serves on with the database as it was and says so.
        let running = start(dir.path(), &db.url);
        let (status, body) = health_of(&running.base).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("degraded")),
            "{}: {body}",
            db.name
        );
        assert!(
            body["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("`second`"),
            "{}: {body}",
            db.name
        );
        assert_eq!(
            validate(&running.base, &second[2]).await,
            200,
            "{}: the second event still plays",
            db.name
        );
        streamgate_testkit::save_atomically(&file, &two);
        wait_for(&running.log, "config change applied");
        assert_eq!(
            health_of(&running.base).await.1["status"],
            "ok",
            "{}",
            db.name
        );
        stop(running);
        db.cleanup().await;
    }
}
