//! Starts the real platform on 127.0.0.1 port 0 against a fresh database (a temporary
//! SQLite file, or a new database on the PostgreSQL server) and talks to it over HTTP.

#![allow(dead_code, unused_imports)]

use std::sync::Arc;

use base64::Engine;
use serde_json::{Value, json};
use streamgate_platform::state::AppState;
use streamgate_testkit::harness;
pub use streamgate_testkit::harness::{ADMIN_HASH, INTERNAL_KEY, SIGNING_SECRET};
use streamgate_testkit::sqlx::AnyPool;
pub use streamgate_testkit::{TestDb, count, eventually};

/// A running platform.
pub struct App {
    pub base: String,
    pub client: reqwest::Client,
    pub pool: AnyPool,
    pub state: Arc<AppState>,
    running: streamgate_platform::RunningPlatform,
}

/// The config used unless a test passes its own `[[events]]`: three events.
pub const EVENTS: &str = r#"
[[events]]
id = "live"
title = "Live now"
description = "On air"
starts_at = 2026-01-01T00:00:00Z
ends_at = 2099-01-01T00:00:00Z

[[events.codes]]
label = "tickets"
count = 40

[[events]]
id = "over"
title = "Long over"
starts_at = 2020-01-01T00:00:00Z
ends_at = 2020-01-02T00:00:00Z
access_window_hours = 0

[[events.codes]]
label = "old"
count = 2

[[events]]
id = "off"
title = "Switched off"
starts_at = 2026-01-01T00:00:00Z
ends_at = 2099-01-01T00:00:00Z
active = false

[[events.codes]]
label = "tickets"
count = 2
"#;

/// The `[platform]` lines every test config starts with.
pub fn platform_section(extra: &str) -> String {
    format!(
        "[platform]\nlisten = \"127.0.0.1:0\"\nsession_timeout_seconds = 60\n{extra}\n\
         [platform.rate_limits]\nvalidate_per_minute = 100000\nrefresh_per_hour = 100000\n\n\
         [hls]\nstream_root = \"streams\"\n# Nothing listens here: status falls back to the schedule.\n\
         public_url = \"http://127.0.0.1:9\"\n"
    )
}

impl App {
    /// The platform on `db` with the default events.
    pub async fn start(db: &TestDb) -> Self {
        Self::start_with(db, &format!("{}{EVENTS}", platform_section(""))).await
    }

    /// The platform on `db` with this config text (its database URL is replaced).
    pub async fn start_with(db: &TestDb, text: &str) -> Self {
        Self::start_with_admin(db, text, ADMIN_HASH).await
    }

    /// The platform on `db` with this config text and this admin password hash.
    pub async fn start_with_admin(db: &TestDb, text: &str, admin_hash: &str) -> Self {
        let mut env = harness::env();
        env.set("DATABASE_URL", db.url.as_str());
        env.set("ADMIN_PASSWORD_HASH", admin_hash);
        let running = harness::start_platform(text, env, Some("streamgate.toml".into())).await;
        let base = format!("http://{}", running.local_addr());
        let state = running.state();
        streamgate_testkit::sqlx::any::install_default_drivers();
        let pool = AnyPool::connect(&db.url).await.expect("test pool");
        Self {
            base,
            client: reqwest::Client::new(),
            pool,
            state,
            running,
        }
    }

    /// The running platform (its task supervisor, its stop).
    pub fn running(&self) -> &streamgate_platform::RunningPlatform {
        &self.running
    }

    /// Stops the server, waits for it to drain and returns how it ended.
    pub async fn stop_result(self) -> Result<(), streamgate_platform::PlatformError> {
        let result = self.running.stop().await;
        self.pool.close().await;
        result
    }

    /// Stops the server and waits for it to drain.
    pub async fn stop(self) {
        self.running.stop().await.expect("platform runs");
        self.pool.close().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POST JSON; returns status and body (JSON, or `{"raw": text}`).
    pub async fn post(&self, path: &str, body: Value, bearer: Option<&str>) -> (u16, Value) {
        let mut req = self.client.post(self.url(path)).json(&body);
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        read(req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut req = self.client.get(self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        read(req.send().await.expect("request")).await
    }

    pub async fn validate(&self, code: &str) -> (u16, Value) {
        self.post("/api/tokens/validate", json!({ "code": code }), None)
            .await
    }

    /// A code of `event` (by batch label), in creation order.
    pub async fn code(&self, event: &str, n: usize) -> String {
        let rows = streamgate_testkit::sqlx::query(
            "SELECT code FROM access_codes WHERE event_id = $1 ORDER BY created_at, code",
        )
        .bind(event)
        .fetch_all(&self.pool)
        .await
        .expect("codes");
        streamgate_testkit::sqlx::Row::get(&rows[n], "code")
    }

    pub async fn exec(&self, sql: &'static str, arg: &str) {
        streamgate_testkit::sqlx::query(sql)
            .bind(arg)
            .execute(&self.pool)
            .await
            .expect("exec");
    }

    pub async fn feed(&self, cursor: i64) -> Value {
        let (status, body) = self
            .get(
                &format!("/api/revocations?cursor={cursor}&edge=test-edge"),
                &[("x-internal-api-key", INTERNAL_KEY)],
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

pub async fn read(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| json!({ "raw": text }));
    (status, body)
}

/// The claims of a JWT, unverified (tests look inside).
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64");
    serde_json::from_slice(&bytes).expect("json")
}

pub fn token(body: &Value) -> String {
    body["playbackToken"]
        .as_str()
        .unwrap_or_else(|| panic!("no token in {body}"))
        .to_owned()
}
