//! Test support: the real platform (on a fresh SQLite file or PostgreSQL database) and
//! the real HLS server, both on 127.0.0.1 port 0, plus a tiny upstream origin whose
//! requests are counted, and a raw HTTP client for paths no URL library would send.

#![allow(dead_code, unused_imports)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use streamgate_core::jwt::{Claims, PlaybackKeys};
use streamgate_core::{Role, Secret};
use streamgate_hls::state::HlsState;
use streamgate_hls::{HlsOptions, HlsServer, RunningHls};
use streamgate_platform::RunningPlatform;
use streamgate_platform::state::AppState;
use streamgate_testkit::harness;
pub use streamgate_testkit::harness::{ADMIN_HASH, INTERNAL_KEY, SIGNING_SECRET, env};
pub use streamgate_testkit::{TestDb, eventually};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

/// The repository's sample stream (`streams/demo`).
pub fn sample_streams() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../streams")
}

pub fn keys() -> PlaybackKeys {
    PlaybackKeys::new(&Secret::new(SIGNING_SECRET), None).expect("keys")
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Claims for `event`, valid for a minute.
pub fn claims(event: &str) -> Claims {
    Claims {
        sub: "code-1".into(),
        eid: event.into(),
        sid: "session-1".into(),
        sp: Claims::stream_prefix(event),
        iat: now(),
        exp: now() + 60,
        nbf: None,
        probe: false,
    }
}

pub fn sign(claims: &Claims) -> String {
    keys().sign(claims).expect("sign")
}

/// A running server and how to stop it.
pub struct Running<S> {
    pub base: String,
    pub addr: SocketAddr,
    pub state: Arc<S>,
    handle: Handle,
}

enum Handle {
    Platform(RunningPlatform),
    Hls(RunningHls),
}

impl<S> Running<S> {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The running HLS server, for tests that reach its task supervisor.
    pub fn hls(&self) -> Option<&RunningHls> {
        match &self.handle {
            Handle::Hls(h) => Some(h),
            Handle::Platform(_) => None,
        }
    }

    /// Stops an HLS server and returns how it ended.
    pub async fn stop_hls(self) -> Result<(), streamgate_hls::HlsError> {
        match self.handle {
            Handle::Hls(h) => h.stop().await,
            Handle::Platform(_) => panic!("not an HLS server"),
        }
    }

    pub async fn stop(self) {
        match self.handle {
            Handle::Platform(p) => p.stop().await.expect("platform runs"),
            Handle::Hls(h) => h.stop().await.expect("hls runs"),
        }
    }
}

/// The platform on `db` with `events` (TOML `[[events]]` text), on a free port.
pub async fn platform(db: &TestDb, events: &str) -> Running<AppState> {
    platform_on(db, events, "127.0.0.1:0").await
}

/// The platform on `db` listening on `listen` (to restart one on the same port).
pub async fn platform_on(db: &TestDb, events: &str, listen: &str) -> Running<AppState> {
    let text = format!(
        "[platform]\nlisten = \"{listen}\"\n[platform.rate_limits]\nvalidate_per_minute = 100000\n\
         refresh_per_hour = 100000\n[hls]\nstream_root = \"{}\"\npublic_url = \"http://127.0.0.1:9\"\n{events}",
        sample_streams().display()
    );
    let mut env = env();
    env.set("DATABASE_URL", db.url.as_str());
    let platform = harness::start_platform(&text, env, None).await;
    let addr = platform.local_addr();
    Running {
        base: format!("http://{addr}"),
        addr,
        state: platform.state(),
        handle: Handle::Platform(platform),
    }
}

/// The HLS server with this `[hls]` body (and optional `[[events]]` after it),
/// syncing from `platform_url` (`None`: a port where nothing listens, and no wait for
/// a first sync that cannot happen).
pub async fn hls(hls_section: &str, events: &str, platform_url: Option<&str>) -> Running<HlsState> {
    let text = format!(
        "[platform]\npublic_url = \"http://127.0.0.1:3000\"\n\
         [hls]\nlisten = \"127.0.0.1:0\"\n{hls_section}\n{events}"
    );
    let loaded = harness::load(&text, &env(), Role::Hls);
    let server = HlsServer::build(
        &loaded.config,
        &loaded.secrets,
        HlsOptions {
            platform_url: Some(
                url::Url::parse(platform_url.unwrap_or("http://127.0.0.1:9/")).expect("url"),
            ),
            first_sync_wait: Some(if platform_url.is_some() {
                Duration::from_secs(5)
            } else {
                Duration::ZERO
            }),
            ingest: None,
        },
    )
    .await
    .expect("hls starts")
    .spawn();
    let addr = server.local_addr();
    Running {
        base: format!("http://{addr}"),
        addr,
        state: server.state(),
        handle: Handle::Hls(server),
    }
}

/// `[hls]` lines for local files from `root`.
pub fn local_section(root: &Path) -> String {
    format!("stream_root = \"{}\"\n", root.display())
}

/// Redeems `code` at the platform; returns the validate answer.
pub async fn redeem(platform: &Running<AppState>, code: &str) -> Value {
    let resp = reqwest::Client::new()
        .post(platform.url("/api/tokens/validate"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .expect("validate");
    assert_eq!(resp.status(), 200, "validate {code}");
    resp.json().await.expect("json")
}

/// The codes of an event (row id, code), oldest first.
pub async fn codes(db: &TestDb, event: &str) -> Vec<(streamgate_core::CodeId, String)> {
    streamgate_testkit::sqlx::any::install_default_drivers();
    let pool = streamgate_testkit::sqlx::AnyPool::connect(&db.url)
        .await
        .expect("pool");
    let rows = streamgate_testkit::sqlx::query(
        "SELECT id, code FROM access_codes WHERE event_id = $1 ORDER BY created_at, code",
    )
    .bind(event)
    .fetch_all(&pool)
    .await
    .expect("codes");
    pool.close().await;
    rows.iter()
        .map(|r| {
            let id: String = streamgate_testkit::sqlx::Row::get(r, "id");
            (id.into(), streamgate_testkit::sqlx::Row::get(r, "code"))
        })
        .collect()
}

/// `[[events]]` text for the event `demo` with `count` codes.
pub fn demo_events(count: u32) -> String {
    format!(
        "\n[[events]]\nid = \"demo\"\ntitle = \"Demo\"\nstarts_at = 2026-01-01T00:00:00Z\n\
         ends_at = 2099-01-01T00:00:00Z\n\n[[events.codes]]\nlabel = \"t\"\ncount = {count}\n"
    )
}

/// GET `url` and parse the JSON answer.
pub async fn get_json(url: &str) -> Value {
    reqwest::get(url)
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

/// GET `url` as text.
pub async fn get_text(url: &str) -> String {
    reqwest::get(url)
        .await
        .expect("request")
        .text()
        .await
        .expect("text")
}

/// GET with a bearer token; returns the status.
pub async fn get_status(url: &str, token: Option<&str>) -> u16 {
    let mut req = reqwest::Client::new().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("request").status().as_u16()
}

/// Sends `GET <raw path>` exactly as written (no normalisation) and returns the
/// status code and body.
pub async fn raw_get(addr: SocketAddr, raw_path: &str, token: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "GET {raw_path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

/// A real HTTP origin on 127.0.0.1 port 0 serving files from a directory, counting
/// requests per path, optionally slow, and switchable to "down" (connection refused
/// is simulated by answering 503 while down, or by stopping it). Like nginx it sends
/// `ETag` and `Last-Modified` and answers `If-None-Match` with 304. Every request is
/// logged (`path?query`, and whether it carried an `Authorization` header), and
/// requests with `_HLS_msn` can be held for `hold_blocking`.
pub struct Origin {
    pub base: String,
    pub hits: Arc<Mutex<HashMap<String, u64>>>,
    pub total: Arc<AtomicU64>,
    pub down: Arc<AtomicBool>,
    pub log: Arc<Mutex<Vec<OriginRequest>>>,
    pub hold_blocking: Arc<Mutex<Duration>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Origin {
    /// Serves `root` (files under `<root>/<path>`), each answer delayed by `delay`.
    pub async fn start(root: PathBuf, delay: Duration) -> Self {
        use poem::listener::{Acceptor, Listener};
        let hits: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
        let total = Arc::new(AtomicU64::new(0));
        let down = Arc::new(AtomicBool::new(false));
        let log: Arc<Mutex<Vec<OriginRequest>>> = Arc::default();
        let hold_blocking = Arc::new(Mutex::new(Duration::ZERO));
        let (h, t, d, l, hb) = (
            hits.clone(),
            total.clone(),
            down.clone(),
            log.clone(),
            hold_blocking.clone(),
        );
        let app = poem::endpoint::make(move |req: poem::Request| {
            let (hits, total, down, root) = (h.clone(), t.clone(), d.clone(), root.clone());
            let (log, hold) = (l.clone(), *hb.lock().expect("hold"));
            async move {
                let path = req.uri().path().trim_start_matches('/').to_owned();
                let query = req.uri().query().map(str::to_owned);
                log.lock().expect("log").push(OriginRequest {
                    path: path.clone(),
                    query: query.clone(),
                    authorization: req.headers().contains_key("authorization"),
                    user_agent: req
                        .headers()
                        .get("user-agent")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned),
                });
                total.fetch_add(1, Ordering::SeqCst);
                *hits.lock().expect("hits").entry(path.clone()).or_default() += 1;
                tokio::time::sleep(delay).await;
                if query.as_deref().is_some_and(|q| q.contains("_HLS_msn=")) {
                    tokio::time::sleep(hold).await;
                }
                if down.load(Ordering::SeqCst) {
                    return poem::Response::builder()
                        .status(poem::http::StatusCode::SERVICE_UNAVAILABLE)
                        .body("down");
                }
                origin_file(&root.join(&path), &req)
            }
        });
        let acceptor = poem::listener::TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind origin");
        let addr = acceptor.local_addr()[0]
            .as_socket_addr()
            .copied()
            .expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor)
                .run_with_graceful_shutdown(
                    app,
                    async {
                        let _ = stopped.await;
                    },
                    Some(Duration::from_secs(1)),
                )
                .await;
        });
        Self {
            base: format!("http://{addr}"),
            hits,
            total,
            down,
            log,
            hold_blocking,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The requests made so far.
    pub fn requests(&self) -> Vec<OriginRequest> {
        self.log.lock().expect("log").clone()
    }

    pub fn hits(&self, path: &str) -> u64 {
        self.hits
            .lock()
            .expect("hits")
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// One request the origin received.
#[derive(Debug, Clone)]
pub struct OriginRequest {
    pub path: String,
    pub query: Option<String>,
    pub authorization: bool,
    pub user_agent: Option<String>,
}

/// A file as nginx serves it: `ETag` ("mtime-length") and `Last-Modified`, 304 for a
/// matching `If-None-Match`.
fn origin_file(file: &Path, req: &poem::Request) -> poem::Response {
    use poem::http::{StatusCode, header};
    let (Ok(meta), Ok(bytes)) = (std::fs::metadata(file), std::fs::read(file)) else {
        return poem::Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body("no");
    };
    let modified = meta.modified().unwrap_or(std::time::SystemTime::UNIX_EPOCH);
    let nanos = modified
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let etag = format!("\"{nanos:x}-{:x}\"", bytes.len());
    let last_modified = httpdate::fmt_http_date(modified);
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return poem::Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header(header::ETAG, etag)
            .finish();
    }
    poem::Response::builder()
        .header(header::ETAG, etag)
        .header(header::LAST_MODIFIED, last_modified)
        .body(bytes)
}

/// The `[hls]` lines of proxy mode: `origin`, and the segment cache in `cache`.
pub fn proxy_section(origin: &str, cache: &std::path::Path, extra: &str) -> String {
    format!(
        "upstream_origin = \"{origin}\"\nsegment_cache_root = \"{}\"\n{extra}",
        cache.display()
    )
}

/// GET with the token as a bearer: status and body.
pub async fn fetch(url: &str, token: &str) -> (u16, bytes::Bytes) {
    let resp = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    let status = resp.status().as_u16();
    (status, resp.bytes().await.expect("body"))
}
