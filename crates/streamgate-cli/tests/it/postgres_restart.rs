//! PostgreSQL stopped under a running platform turns redemptions into clear 503s
//! (`Service temporarily unavailable`), which become 200s again when the database is
//! back, without restarting the platform; a code refused during the outage was not
//! half-redeemed. Alone in its test binary: it stops the server other tests use.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use streamgate_testkit::TestDb;

use crate::common;

fn config(codes: u32) -> String {
    format!(
        "[platform]\nlisten = \"127.0.0.1:0\"\n[platform.rate_limits]\nvalidate_per_minute = 100000\n\n[hls]\nstream_root = \"streams\"\n\n\
         [[events]]\nid = \"live\"\ntitle = \"Live\"\nstarts_at = 2026-01-01T00:00:00Z\nends_at = 2099-01-02T00:00:00Z\n\n\
         [[events.codes]]\nlabel = \"tickets\"\ncount = {codes}\n"
    )
}

/// The local PostgreSQL cluster, for `pg_ctlcluster VERSION main stop|start`.
fn cluster_version() -> Option<String> {
    std::fs::read_dir("/etc/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .next()
}

fn pg_ctl(version: &str, action: &str) -> bool {
    Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", version, "main", action])
        .status()
        .is_ok_and(|s| s.success())
}

/// Makes sure the cluster is running again whatever happens in the test.
struct Restart(String);

impl Drop for Restart {
    fn drop(&mut self) {
        pg_ctl(&self.0, "start");
    }
}

async fn validate(client: &reqwest::Client, base: &str, code: &str) -> (u16, Value) {
    match client
        .post(format!("{base}/api/tokens/validate"))
        .json(&json!({ "code": code }))
        .send()
        .await
    {
        Ok(resp) => {
            let status = resp.status().as_u16();
            (status, resp.json().await.unwrap_or(Value::Null))
        }
        Err(e) => panic!("the platform itself must answer: {e}"),
    }
}

#[tokio::test]
async fn postgres_stopped_under_the_platform_gives_503s_then_recovers_without_a_restart() {
    // Alone on the server: the other tests of this binary wait while it is stopped.
    let Some(db) = TestDb::postgres_exclusive().await else {
        return;
    };
    let can_restart =
        cluster_version().is_some() && Command::new("pg_ctlcluster").arg("--help").output().is_ok();
    if !can_restart {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "this test stops and starts the local PostgreSQL cluster: pg_ctlcluster is needed"
        );
        eprintln!("skipped: no local PostgreSQL cluster to stop and start");
        db.cleanup().await;
        return;
    }
    let version = cluster_version().expect("version");
    let platform = common::platform(&db.url, &config(40)).await;
    let base = format!("http://{}", platform.local_addr());
    let codes: Vec<String> = {
        streamgate_testkit::sqlx::any::install_default_drivers();
        let pool = streamgate_testkit::sqlx::AnyPool::connect(&db.url)
            .await
            .expect("pool");
        let rows = streamgate_testkit::sqlx::query("SELECT code FROM access_codes ORDER BY code")
            .fetch_all(&pool)
            .await
            .expect("codes");
        pool.close().await;
        rows.iter()
            .map(|r| streamgate_testkit::sqlx::Row::get(r, "code"))
            .collect()
    };
    let client = reqwest::Client::new();
    assert_eq!(validate(&client, &base, &codes[0]).await.0, 200);

    let guard = Restart(version.clone());
    assert!(pg_ctl(&version, "stop"), "pg_ctlcluster stop");
    let mut during = Vec::new();
    for code in &codes[1..4] {
        let started = Instant::now();
        let (status, body) = validate(&client, &base, code).await;
        during.push((status, body["error"].clone(), started.elapsed()));
    }
    assert!(pg_ctl(&version, "start"), "pg_ctlcluster start");
    drop(guard);
    for (status, error, took) in &during {
        assert_eq!(
            (*status, error.as_str()),
            (503, Some("Service temporarily unavailable")),
            "a database outage is a clear 503 (answered after {took:?})"
        );
    }

    // Back without restarting the platform: the pool reconnects.
    let mut recovered = false;
    for code in &codes[4..] {
        let (status, _) = validate(&client, &base, code).await;
        if status == 200 {
            recovered = true;
            break;
        }
        assert_eq!(status, 503, "only 503 while reconnecting");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(
        recovered,
        "redemptions work again after the database returns"
    );
    // The codes refused during the outage were not half-redeemed.
    for code in &codes[1..4] {
        assert_eq!(validate(&client, &base, code).await.0, 200, "{code}");
    }
    platform.stop().await.expect("stops");
    db.cleanup().await;
}
