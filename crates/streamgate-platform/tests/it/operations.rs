//! `/health` and `/metrics` as operators and Prometheus use them, and the shared rate
//! limit through Redis when two platform instances run.

use crate::common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{App, TestDb, platform_section};
use serde_json::json;

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn health_reports_the_database_and_the_config_status(db) {
        let app = App::start(&db).await;
        let (status, body) = app.get("/health", &[]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "ok");
        assert_eq!(body["database"], "ok");
        assert_eq!(body["databaseKind"], db.name);
        assert_eq!(body["config"]["applies"], 1, "the start-up apply");
        assert!(body["config"]["lastAppliedAt"].is_string());
        assert_eq!(body["config"]["lastError"], json!(null));
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn promtool_accepts_the_metrics() {
    let db = TestDb::sqlite();
    let app = App::start(&db).await;
    let code = app.code("live", 0).await;
    assert_eq!(app.validate(&code).await.0, 200);
    assert_eq!(app.validate(&code).await.0, 409);
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("streamgate_redemptions_total{outcome=\"ok\"} 1"),
        "{text}"
    );
    assert!(text.contains("streamgate_redemptions_total{outcome=\"in_use\"} 1"));
    assert!(text.contains("streamgate_active_sessions 1"));
    assert!(text.contains("streamgate_http_request_duration_seconds_count{route=\"validate\"} 2"));
    app.stop().await;

    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("skipped: promtool is not installed ({e}); CI installs it");
            return;
        }
        Err(e) => panic!("promtool is required under CI: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two platform instances with `redis_url` draw on one budget: 4 validations per
/// minute in all, whichever instance answers.
#[tokio::test]
async fn two_instances_share_one_rate_limit_through_redis() {
    let redis = "redis://127.0.0.1:6379";
    if redis::Client::open(redis)
        .and_then(|c| c.get_connection())
        .is_err()
    {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("Redis at {redis} is required under CI");
        }
        eprintln!("skipped: Redis at {redis} is unreachable");
        return;
    }
    let db = TestDb::sqlite();
    // A fresh client address per run (through a trusted proxy) keeps runs apart.
    let ip = format!("10.{}.{}.{}", rand_octet(), rand_octet(), rand_octet());
    let text = format!(
        "{}{}",
        platform_section(&format!(
            "redis_url = \"{redis}\"\ntrusted_proxies = [\"127.0.0.1/32\"]"
        ))
        .replace("validate_per_minute = 100000", "validate_per_minute = 4"),
        common::EVENTS
    );
    let a = App::start_with(&db, &text).await;
    let b = App::start_with(&db, &text).await;
    // Both instances count the six requests at the same second: one one-minute
    // window, whatever the time (no waiting for a minute to begin).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    a.state.limiter.pin_now(now);
    b.state.limiter.pin_now(now);
    let mut statuses = Vec::new();
    for i in 0..6 {
        let app = if i % 2 == 0 { &a } else { &b };
        let resp = app
            .client
            .post(app.url("/api/tokens/validate"))
            .header("x-forwarded-for", ip.as_str())
            .json(&json!({"code": "AAAAAAAAAAAA"}))
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 429, 429]);
    a.stop().await;
    b.stop().await;
}

fn rand_octet() -> u8 {
    (uuid::Uuid::new_v4().as_u128() % 250) as u8 + 1
}

#[tokio::test]
async fn a_failing_background_task_stops_the_platform_with_its_error() {
    let db = TestDb::sqlite();
    let app = App::start(&db).await;
    app.running()
        .tasks()
        .spawn("test task", async { Err::<(), _>("the disk is on fire") });
    // Nobody calls stop: the failure alone makes the platform stop.
    app.running().stopping().await;
    let err = app
        .stop_result()
        .await
        .expect_err("the failure is the result");
    assert_eq!(
        err.to_string(),
        "background task `test task` failed: the disk is on fire"
    );
    assert!(matches!(err, streamgate_platform::PlatformError::Task(_)));
}
