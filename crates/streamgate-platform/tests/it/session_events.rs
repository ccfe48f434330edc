//! `GET /api/playback/events`: an open player hears that its session ended (released
//! elsewhere, taken over, revoked even by a writer that wakes nobody) without waiting
//! for its next heartbeat, on SQLite and on PostgreSQL.

use crate::common;

use std::time::Duration;

use common::{App, token};
use serde_json::{Value, json};

/// The data of the server-sent events of one open stream, read as they come.
struct Events {
    resp: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn open(app: &App, token: &str) -> (u16, Self) {
        let resp = app
            .client
            .get(app.url(&format!("/api/playback/events?token={token}")))
            .send()
            .await
            .expect("connect");
        (
            resp.status().as_u16(),
            Self {
                resp,
                buffer: String::new(),
            },
        )
    }

    /// The next event's data (keep-alive comments skipped); panics after 60 s.
    async fn next(&mut self) -> Value {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let data: String = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim)
                    .collect();
                if !data.is_empty() {
                    return serde_json::from_str(&data).expect("event data is JSON");
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(60), self.resp.chunk())
                .await
                .expect("an event within 60 s")
                .expect("stream")
                .expect("the stream ended early");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_open_player_hears_at_once_that_its_session_ended(db) {
        let app = App::start(&db).await;
        let n = db.name;

        // Released (another tab, the console): 404, as the heartbeat would say.
        let code = app.code("live", 5).await;
        let (_, body) = app.validate(&code).await;
        let first = token(&body);
        let (status, mut events) = Events::open(&app, &first).await;
        assert_eq!(status, 200, "{n}");
        assert_eq!(events.next().await["state"], "live", "{n}");
        let (status, _) = app
            .post("/api/playback/release", json!({}), Some(&first))
            .await;
        assert_eq!(status, 200);
        let ended = events.next().await;
        assert_eq!(
            (ended["state"].as_str(), ended["status"].as_u64()),
            (Some("ended"), Some(404)),
            "{n}: {ended}"
        );

        // Revoked by a writer that wakes nobody (another process on the file, SQL by
        // hand): the stream's own re-check finds it.
        let (_, body) = app.validate(&code).await;
        let second = token(&body);
        let (_, mut events) = Events::open(&app, &second).await;
        assert_eq!(events.next().await["state"], "live");
        app.exec(
            "UPDATE access_codes SET is_revoked = 1 WHERE code = $1",
            &code,
        )
        .await;
        let ended = events.next().await;
        assert_eq!(
            (ended["status"].as_u64(), ended["error"].as_str()),
            (Some(403), Some("Access code has been revoked")),
            "{n}: {ended}"
        );

        // Taken over: the session went stale and another device redeemed.
        let other = app.code("live", 6).await;
        let (_, body) = app.validate(&other).await;
        let third = token(&body);
        let (_, mut events) = Events::open(&app, &third).await;
        assert_eq!(events.next().await["state"], "live");
        app.exec("UPDATE sessions SET last_heartbeat = 0 WHERE ended_at IS NULL AND code_id IN (SELECT id FROM access_codes WHERE code = $1)", &other).await;
        assert_eq!(
            app.validate(&other).await.0,
            200,
            "{n}: the other device gets in"
        );
        assert_eq!(events.next().await["status"], 409, "{n}");

        // A stream opened for a session that already ended says so and closes.
        let (status, mut events) = Events::open(&app, &first).await;
        assert_eq!(status, 200);
        assert_eq!(events.next().await["state"], "ended");
        // And a bad token is 401, like every playback call.
        assert_eq!(Events::open(&app, "garbage").await.0, 401, "{n}");
        app.stop().await;
        db.cleanup().await;
    }
}
