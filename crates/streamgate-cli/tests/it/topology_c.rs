//! Topology C on one machine, as separate processes: one platform and two HLS edges
//! (`streamgate platform`, `streamgate hls` twice) on their own ports. A revocation
//! reaches both edges; an edge killed with SIGKILL and started again catches up with
//! what was revoked while it was down; the platform knows both edges by id.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use streamgate_testkit::TestDb;

const SIGNING: &str = "topology-signing-secret-0123456789abcdef";
const INTERNAL: &str = "topology-internal-key-0123456789";

fn streams() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../streams")
}

fn config() -> String {
    format!(
        "[platform]\nlisten = \"127.0.0.1:0\"\n[platform.rate_limits]\nvalidate_per_minute = 100000\n\n\
         [hls]\nlisten = \"127.0.0.1:0\"\nstream_root = \"{}\"\n\n\
         [[topology.edges]]\nid = \"eu-1\"\npublic_url = \"https://eu.hls.example.com\"\nregion = \"eu-west\"\n\n\
         [[topology.edges]]\nid = \"us-1\"\npublic_url = \"https://us.hls.example.com\"\nregion = \"us-east\"\n\n\
         [[events]]\nid = \"demo\"\ntitle = \"Demo\"\nstarts_at = 2026-01-01T00:00:00Z\n\
         ends_at = 2099-01-01T00:00:00Z\n\n[[events.codes]]\nlabel = \"t\"\ncount = 6\n",
        streams().display()
    )
}

struct Proc {
    child: Child,
    base: String,
}

/// Starts `streamgate <role>` and waits for `<needle>http://ADDR` in its log.
fn start(dir: &Path, role: &str, env: &[(&str, &str)], needle: &str) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_streamgate"));
    cmd.arg(role)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PLAYBACK_SIGNING_SECRET", SIGNING)
        .env("INTERNAL_API_KEY", INTERNAL)
        .env(
            "ADMIN_PASSWORD_HASH",
            "$2b$12$C6UzMDM.H6dfI/f/IKxGhuS8y6ZkzqDvWqqbDNrXxZ6YQ1Y6F6H5y",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn streamgate");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(rest) = line.split(needle).nth(1) {
                    let addr = rest.split_whitespace().next().expect("address");
                    // Keep draining the log so the process never blocks on stderr.
                    std::thread::spawn(move || while rx.recv().is_ok() {});
                    return Proc {
                        child,
                        base: addr.to_owned(),
                    };
                }
                seen.push(line);
            }
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("{role} never logged {needle:?}:\n{}", seen.join("\n"));
}

fn kill(mut p: Proc, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &p.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let _ = p.child.wait();
}

async fn status(url: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

async fn eventually_refused(url: &str, token: &str) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if status(url, token).await == 403 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_edges_follow_one_platform_and_a_restarted_edge_catches_up() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("streamgate.toml"), config()).expect("write");
    let platform = start(
        dir.path(),
        "platform",
        &[("DATABASE_URL", &db.url)],
        "platform listening on ",
    );
    let edge_env = |id: &'static str| {
        vec![
            ("STREAMGATE_HLS__EDGE_ID", id),
            ("PLATFORM_APP_URL", platform.base.as_str()),
        ]
    };
    let eu = start(
        dir.path(),
        "hls",
        &edge_env("eu-1"),
        "HLS server listening on ",
    );
    let us = start(
        dir.path(),
        "hls",
        &edge_env("us-1"),
        "HLS server listening on ",
    );
    assert_ne!(eu.base, us.base);

    streamgate_testkit::sqlx::any::install_default_drivers();
    let pool = streamgate_testkit::sqlx::AnyPool::connect(&db.url)
        .await
        .expect("pool");
    let codes: Vec<(String, String)> = streamgate_testkit::sqlx::query(
        "SELECT id, code FROM access_codes ORDER BY created_at, code",
    )
    .fetch_all(&pool)
    .await
    .expect("codes")
    .iter()
    .map(|r| {
        (
            streamgate_testkit::sqlx::Row::get(r, "id"),
            streamgate_testkit::sqlx::Row::get(r, "code"),
        )
    })
    .collect();
    let client = reqwest::Client::new();
    let mut tokens = Vec::new();
    for (_, code) in codes.iter().take(3) {
        let body: Value = client
            .post(format!("{}/api/tokens/validate", platform.base))
            .json(&json!({ "code": code }))
            .send()
            .await
            .expect("validate")
            .json()
            .await
            .expect("json");
        tokens.push(body["playbackToken"].as_str().expect("token").to_owned());
    }
    let playlist = |edge: &Proc| format!("{}/streams/demo/index.m3u8", edge.base);
    for t in &tokens {
        assert_eq!(status(&playlist(&eu), t).await, 200);
        assert_eq!(status(&playlist(&us), t).await, 200);
    }

    // A session released at the platform is refused at both edges.
    let released = client
        .post(format!("{}/api/playback/release", platform.base))
        .json(&json!({ "token": tokens[0] }))
        .send()
        .await
        .expect("release");
    assert_eq!(released.status(), 200);
    assert!(eventually_refused(&playlist(&eu), &tokens[0]).await, "eu-1");
    assert!(eventually_refused(&playlist(&us), &tokens[0]).await, "us-1");

    // us-1 dies hard; a code is revoked meanwhile (by another process on the database).
    kill(us, "-KILL");
    let store = streamgate_store::Store::connect(&db.url)
        .await
        .expect("store");
    streamgate_store::codes::set_revoked(&store, &codes[1].0.as_str().into(), true, "admin")
        .await
        .expect("revoke");
    store.close().await;
    assert!(
        eventually_refused(&playlist(&eu), &tokens[1]).await,
        "eu-1 hears it"
    );

    // Started again, us-1 catches up before it serves.
    let us = start(
        dir.path(),
        "hls",
        &edge_env("us-1"),
        "HLS server listening on ",
    );
    assert_eq!(
        status(&playlist(&us), &tokens[1]).await,
        403,
        "revoked while it was down"
    );
    assert_eq!(status(&playlist(&us), &tokens[2]).await, 200);
    assert_eq!(status(&playlist(&eu), &tokens[2]).await, 200);

    // The platform knows both edges by id.
    let edges: Vec<String> = streamgate_testkit::sqlx::query("SELECT id FROM edges ORDER BY id")
        .fetch_all(&pool)
        .await
        .expect("edges")
        .iter()
        .map(|r| streamgate_testkit::sqlx::Row::get(r, "id"))
        .collect();
    assert_eq!(edges, ["eu-1", "us-1"]);
    pool.close().await;
    kill(eu, "-TERM");
    kill(us, "-TERM");
    kill(platform, "-TERM");
}
