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
    let mut child = Command::new(env!("CARGO_BIN_EXE_streamgate"))
        .arg("platform")
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
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.expect("pool");
    let rows = sqlx::query("SELECT code FROM access_codes ORDER BY created_at, code")
        .fetch_all(&pool)
        .await
        .expect("codes");
    pool.close().await;
    rows.iter().map(|r| sqlx::Row::get(r, "code")).collect()
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
    assert_eq!(codes(&db.url).await.len(), 25);
    stop(running);
}
