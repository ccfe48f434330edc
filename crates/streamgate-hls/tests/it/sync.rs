//! Revocation sync when things go wrong: in poll mode, with the platform stopped for a
//! while, the edge keeps admitting valid tokens and refusing what it knows is revoked,
//! says so on /health, and catches up without loss when the platform is back.

use crate::common;

use std::time::Duration;

use common::*;

const PLAYLIST: &str = "/streams/demo/index.m3u8";

async fn health(hls: &Running<streamgate_hls::state::HlsState>) -> serde_json::Value {
    get_json(&hls.url("/health")).await
}

#[tokio::test]
async fn a_platform_outage_keeps_known_revocations_and_catches_up_after() {
    let db = TestDb::sqlite();
    let platform = platform(&db, &demo_events(4)).await;
    let listen = platform.addr.to_string();
    let section = format!(
        "{}revocation_push = false\nrevocation_poll_interval_ms = 200\n",
        local_section(&sample_streams())
    );
    let hls = hls(&section, "", Some(&platform.base)).await;
    let codes = codes(&db, "demo").await;
    let mut tokens = Vec::new();
    for (_, code) in codes.iter().take(3) {
        tokens.push(
            redeem(&platform, code).await["playbackToken"]
                .as_str()
                .expect("token")
                .to_owned(),
        );
    }
    let status = |i: usize| {
        let (url, token) = (hls.url(PLAYLIST), tokens[i].clone());
        async move { get_status(&url, Some(&token)).await }
    };
    let bound = Duration::from_secs(15);

    // Polling picks up a revocation.
    streamgate_store::codes::set_revoked(&platform.state.store, &codes[0].0, true, "test")
        .await
        .expect("revoke");
    assert!(eventually(bound, || async { status(0).await == 403 }).await);
    assert_eq!(health(&hls).await["syncMode"], "poll");

    // The platform goes away; a code is revoked meanwhile (another platform process
    // on the same database, say).
    platform.stop().await;
    let store = streamgate_store::Store::connect(&db.url)
        .await
        .expect("store");
    streamgate_store::codes::set_revoked(&store, &codes[1].0, true, "test")
        .await
        .expect("revoke while the edge cannot hear");
    store.close().await;
    assert!(
        eventually(bound, || async {
            health(&hls).await["syncError"]
                .as_str()
                .is_some_and(|e| e.contains("cannot reach"))
        })
        .await,
        "the failing sync shows on /health"
    );
    assert_eq!(status(0).await, 403, "known revocations still hold");
    assert_eq!(
        status(1).await,
        200,
        "not yet known: the edge serves what it knows"
    );
    assert_eq!(status(2).await, 200, "valid tokens keep playing");

    // Back on the same address: the edge resumes from its cursor and misses nothing.
    let platform = platform_on(&db, &demo_events(4), &listen).await;
    assert!(
        eventually(bound, || async { status(1).await == 403 }).await,
        "the revocation made during the outage arrived"
    );
    assert_eq!(status(2).await, 200);
    let h = health(&hls).await;
    assert_eq!(h["status"], "ok", "{h}");
    assert!(h["syncError"].is_null(), "{h}");
    assert_eq!(h["revocationCacheSize"], 2, "{h}");
    hls.stop().await;
    platform.stop().await;
}

#[tokio::test]
async fn an_entry_of_an_unknown_kind_is_counted_and_the_feed_goes_on() {
    let db = TestDb::sqlite();
    let platform = platform(&db, &demo_events(2)).await;
    let hls = hls(&local_section(&sample_streams()), "", Some(&platform.base)).await;
    let codes = codes(&db, "demo").await;
    let token = redeem(&platform, &codes[0].1).await["playbackToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let bound = Duration::from_secs(15);

    // A newer platform process on the same database logs a kind this build predates,
    // then a revocation this build knows follows it.
    streamgate_testkit::sqlx::any::install_default_drivers();
    let pool = streamgate_testkit::sqlx::AnyPool::connect(&db.url)
        .await
        .expect("pool");
    streamgate_testkit::sqlx::query(
        "INSERT INTO revocation_log (kind, event_id, code_id, session_id, at) \
         VALUES ('code_suspended', 'demo', $1, NULL, $2)",
    )
    .bind(&codes[0].0)
    .bind(now() * 1000)
    .execute(&pool)
    .await
    .expect("log an entry of a newer kind");
    pool.close().await;
    streamgate_store::codes::set_revoked(&platform.state.store, &codes[0].0, true, "test")
        .await
        .expect("revoke");

    assert!(
        eventually(bound, || async {
            get_status(&hls.url(PLAYLIST), Some(&token)).await == 403
        })
        .await,
        "the revocation after the unknown entry still arrives"
    );
    let metrics = get_text(&hls.url("/metrics")).await;
    assert!(
        metrics.contains("streamgate_hls_revocation_unknown_kinds_total 1\n"),
        "{metrics}"
    );
    hls.stop().await;
    platform.stop().await;
}

#[tokio::test]
async fn a_panicking_background_task_stops_the_hls_server_with_an_error() {
    let db = TestDb::sqlite();
    let platform = platform(&db, &demo_events(1)).await;
    let hls = hls(&local_section(&sample_streams()), "", Some(&platform.base)).await;
    let running = hls.hls().expect("an HLS server");
    running.tasks().spawn("test task", async {
        if hls_test_panics() {
            panic!("watcher exploded");
        }
        Ok::<(), String>(())
    });
    // Nobody calls stop: the panic alone makes the server stop.
    running.stopping().await;
    let err = hls.stop_hls().await.expect_err("the panic is the result");
    assert_eq!(
        err.to_string(),
        "background task `test task` panicked: watcher exploded"
    );
    platform.stop().await;
}

fn hls_test_panics() -> bool {
    true
}
