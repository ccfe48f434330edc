//! SPEC section 3, internal rows: the revocation feed the HLS edges poll. A revoked
//! code, a deactivated event and an ended session each show up, in order, by cursor and
//! by the seed's `since`; a waiting request answers as soon as something is logged.

use crate::common;

use std::time::{Duration, Instant};

use common::{App, INTERNAL_KEY, TestDb, token};
use serde_json::json;
use streamgate_store::logs::{self, Revocation, RevocationKind};

/// How long a test waits for what must happen before calling it a hang: generous, it
/// catches "never", not "slow".
const HANG_GUARD: Duration = Duration::from_secs(20);

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn the_feed_needs_the_key_and_a_starting_point(db) {
        let app = App::start(&db).await;
        let n = db.name;
        let (status, body) = app.get("/api/revocations?cursor=0", &[]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("Authorization required")),
            "{n}"
        );
        let (status, body) = app
            .get(
                "/api/revocations?cursor=0",
                &[("x-internal-api-key", "wrong-key-wrong-key")],
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("Invalid internal API key")),
            "{n}"
        );
        let (status, body) = app
            .get("/api/revocations", &[("x-internal-api-key", INTERNAL_KEY)])
            .await;
        assert_eq!(status, 400, "{n}");
        assert!(body["error"].as_str().unwrap().contains("since"), "{body}");
        let (status, _) = app
            .get(
                "/api/revocations?since=yesterday",
                &[("x-internal-api-key", INTERNAL_KEY)],
            )
            .await;
        assert_eq!(status, 400, "{n}");
        app.stop().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn revocations_deactivations_and_session_ends_reach_the_feed_in_order(db) {
        let app = App::start(&db).await;
        let n = db.name;
        let empty = app.feed(0).await;
        assert_eq!(empty["entries"], json!([]), "{n}");
        let start = empty["cursor"].as_i64().unwrap();

        // A session ends (release), a code is revoked, an event is deactivated.
        let code = app.code("live", 3).await;
        let (_, body) = app.validate(&code).await;
        let t = token(&body);
        let sid = common::claims(&t)["sid"].as_str().unwrap().to_owned();
        let code_id = common::claims(&t)["sub"].as_str().unwrap().to_owned();
        assert_eq!(
            app.post("/api/playback/release", json!({}), Some(&t))
                .await
                .0,
            200
        );
        let store = &app.state.store;
        let mut tx = store.begin_write().await.unwrap();
        logs::append_revocations(
            &mut tx,
            store.backend(),
            &[
                Revocation {
                    kind: RevocationKind::CodeRevoked,
                    event_id: "live",
                    code_id: Some(&code_id),
                    session_id: None,
                },
                Revocation {
                    kind: RevocationKind::EventDeactivated,
                    event_id: "live",
                    code_id: None,
                    session_id: None,
                },
            ],
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let feed = app.feed(start).await;
        let kinds: Vec<&str> = feed["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            ["session_ended", "code_revoked", "event_deactivated"],
            "{n}"
        );
        assert_eq!(feed["entries"][0]["sessionId"], sid.as_str());
        assert_eq!(
            feed["revocations"][0]["codeId"],
            code_id.as_str(),
            "seed shape"
        );
        assert_eq!(
            feed["eventDeactivations"][0]["eventId"], "live",
            "seed shape"
        );
        let seqs: Vec<i64> = feed["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
        assert_eq!(feed["cursor"].as_i64(), seqs.last().copied());
        // From the returned cursor: nothing new.
        let again = app.feed(feed["cursor"].as_i64().unwrap()).await;
        assert_eq!(again["entries"], json!([]), "{n}");
        assert_eq!(again["cursor"], feed["cursor"]);
        // The seed's `since`: the same entries by time.
        let (status, by_time) = app
            .get(
                "/api/revocations?since=2000-01-01T00:00:00Z",
                &[("x-internal-api-key", INTERNAL_KEY)],
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(by_time["entries"].as_array().unwrap().len(), 3, "{n}");
        assert!(by_time["serverTime"].as_str().unwrap().ends_with('Z'));
        // The edge's sync is remembered for the dashboard.
        let edges = logs::edge_syncs(store).await.unwrap();
        assert!(
            edges
                .iter()
                .any(|e| e.id == "test-edge" && e.last_cursor == feed["cursor"].as_i64().unwrap()),
            "{n} {edges:?}"
        );

        app.stop().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn a_waiting_request_answers_as_soon_as_something_is_logged(db) {
        let app = App::start(&db).await;
        let n = db.name;
        let cursor = app.feed(0).await["cursor"].as_i64().unwrap();
        let code = app.code("live", 4).await;
        let (_, body) = app.validate(&code).await;
        let t = token(&body);
        // Nothing new: the wait runs its course.
        let began = Instant::now();
        let (status, body) = app
            .get(
                &format!("/api/revocations?cursor={cursor}&wait=300"),
                &[("x-internal-api-key", INTERNAL_KEY)],
            )
            .await;
        assert_eq!((status, body["entries"].clone()), (200, json!([])));
        assert!(
            began.elapsed() >= Duration::from_millis(290),
            "{n}: waited {:?}",
            began.elapsed()
        );

        let mut latencies = Vec::new();
        let mut cursor = cursor;
        for round in 0..5 {
            // The longest wait there is: an answer before it runs out was woken by the
            // change (or found it on a re-check), not sent because the wait ended.
            let url = app.url(&format!("/api/revocations?cursor={cursor}&wait=30000"));
            let client = app.client.clone();
            let parked = app.state.feed.waiters();
            let waiting = tokio::spawn(async move {
                let resp = client
                    .get(url)
                    .header("x-internal-api-key", INTERNAL_KEY)
                    .send()
                    .await
                    .unwrap();
                (
                    Instant::now(),
                    resp.json::<serde_json::Value>().await.unwrap(),
                )
            });
            // The change comes while the request waits: once it listens for wake-ups.
            assert!(
                common::eventually(HANG_GUARD, || async { app.state.feed.waiters() > parked })
                    .await,
                "{n}: the request never started waiting"
            );
            let changed = Instant::now();
            // A session end through the API (round 0) or a revocation from elsewhere.
            if round == 0 {
                assert_eq!(
                    app.post("/api/playback/release", json!({}), Some(&t))
                        .await
                        .0,
                    200
                );
            } else {
                let store = &app.state.store;
                let mut tx = store.begin_write().await.unwrap();
                logs::append_revocations(
                    &mut tx,
                    store.backend(),
                    &[Revocation {
                        kind: RevocationKind::CodeRevoked,
                        event_id: "live",
                        code_id: Some("x"),
                        session_id: None,
                    }],
                )
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
            // A hang guard well inside the request's 30 s wait, not a latency bound.
            let (answered, body) = tokio::time::timeout(HANG_GUARD, waiting)
                .await
                .unwrap_or_else(|_| panic!("{n}: the change did not end the wait"))
                .unwrap();
            assert_eq!(body["entries"].as_array().unwrap().len(), 1, "{n} {body}");
            cursor = body["cursor"].as_i64().unwrap();
            latencies.push(answered.duration_since(changed));
        }
        // Printed for whoever tunes the re-check interval; not asserted (no timing
        // assertions in tests).
        println!("{n}: feed wake-up latency after a change: {latencies:?}");
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_waiting_feed_request_is_answered_when_the_platform_stops() {
    let db = TestDb::sqlite();
    let app = App::start(&db).await;
    let cursor = app.feed(0).await["cursor"].as_i64().unwrap();
    let url = app.url(&format!("/api/revocations?cursor={cursor}&wait=30000"));
    let parked = app.state.feed.waiters();
    let waiting = tokio::spawn(async move {
        reqwest::Client::new()
            .get(url)
            .header("x-internal-api-key", INTERNAL_KEY)
            .send()
            .await
    });
    // The request has reached the handler and waits for news.
    assert!(
        common::eventually(HANG_GUARD, || async { app.state.feed.waiters() > parked }).await,
        "the request never started waiting"
    );
    assert!(!waiting.is_finished(), "the request waits for news");
    app.stop().await;
    let resp = waiting
        .await
        .unwrap()
        .expect("answered, not cut off by the drain");
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["entries"].as_array().map(Vec::len), Some(0));
    assert_eq!(body["cursor"].as_i64(), Some(cursor));
}
