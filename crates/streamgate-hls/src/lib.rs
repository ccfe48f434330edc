//! The HLS media server: where every playlist and segment request is checked against
//! a playback token before a byte of video leaves.
//!
//! It has no database. What it knows about revocations comes from the platform's
//! revocation feed ([`sync`]); what it serves comes from local files, an upstream
//! origin through an on-disk cache, or both ([`source`], [`cache`]). [`HlsServer::build`]
//! does everything that can fail before the first request (keys, content roots, cache
//! index, port) and hands back the bound address, so tests run the real server on port
//! 0; [`HlsServer::run`] serves until the shutdown future resolves and then lets
//! in-flight responses finish. Its background tasks (revocation sync, cache sweep,
//! shared-token reports) run under one [`streamgate_core::tasks::Supervisor`]: one that
//! fails stops the server with that error.
//!
//! Modules: the stream route ([`serve`]) and the typed endpoints ([`api`]), and what
//! they use: [`path`] (parsing request paths safely), [`gate`] (tokens), [`revocation`]
//! and [`sync`] (who may no longer watch), [`source`] and [`cache`] (content),
//! [`playlist`] (query-token and origin-URI rewriting), [`live`] (encoder restarts,
//! LL-HLS directives), [`upstream`] (origin requests), [`metrics`] and [`state`].

pub mod api;
pub mod cache;
pub mod files;
pub mod gate;
pub mod live;
pub mod metrics;
pub mod path;
pub mod playlist;
pub mod revocation;
pub mod sendfile;
pub mod serve;
pub mod server;
pub mod shared;
pub mod source;
pub mod state;
pub mod sync;
pub mod upstream;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use poem::http::{HeaderValue, Method};
use poem::middleware::Cors;
use poem::{Endpoint, EndpointExt, IntoResponse, Route, get};
use poem_openapi::OpenApiService;
use streamgate_core::Config;
use streamgate_core::ingest::IngestHealth;
use streamgate_core::jwt::{JwtError, PlaybackKeys};
use streamgate_core::secrets::Secrets;
use streamgate_core::tasks::{CancellationToken, Supervisor, TaskFailure};
use url::Url;

use crate::cache::{CacheError, SegmentCache};
use crate::gate::Gate;
use crate::metrics::Metrics;
use crate::revocation::RevocationSet;
use crate::source::{Source, SourceOptions};
use crate::state::HlsState;
use crate::sync::{SyncOptions, SyncStatus};

/// Memory for recently served files (see [`files`]).
pub const FILE_MEMORY_BYTES: u64 = 256 * 1024 * 1024;
/// How long `run` waits for the first revocation sync before serving anyway.
pub const FIRST_SYNC_WAIT: Duration = Duration::from_secs(5);

/// Why the HLS server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum HlsError {
    /// `PLAYBACK_SIGNING_SECRET` is missing or unusable.
    #[error("PLAYBACK_SIGNING_SECRET: {0}")]
    Keys(#[from] JwtError),
    /// A required secret is not set.
    #[error("{0} is not set (make one with `streamgate gen-secret`)")]
    MissingSecret(&'static str),
    /// Neither local content nor an upstream is configured.
    #[error(
        "the HLS server needs content: set STREAM_ROOT (local files), UPSTREAM_ORIGIN (proxy), or both (hybrid)"
    )]
    NoContent,
    /// `STREAM_ROOT` cannot be used.
    #[error("{0}")]
    StreamRoot(std::io::Error),
    /// The segment cache cannot be opened.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The listen address cannot be bound, or serving failed.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A background task (revocation sync, cache sweep, reports) failed or panicked,
    /// so the server stopped rather than serve on without it.
    #[error(transparent)]
    Task(#[from] TaskFailure),
}

/// What the server needs besides the configuration.
#[derive(Debug, Clone, Default)]
pub struct HlsOptions {
    /// Where to reach the platform, overriding `hls.platform_url` (`streamgate up`
    /// passes the platform it runs beside).
    pub platform_url: Option<Url>,
    /// How long `run` waits for the first revocation sync before answering requests
    /// ([`FIRST_SYNC_WAIT`] when unset).
    pub first_sync_wait: Option<Duration>,
    /// The health of the live ingest running beside this server (`up`, or `hls` with a
    /// stream root), for `/health`, `/metrics` and the platform's probe.
    pub ingest: Option<tokio::sync::watch::Receiver<Arc<Vec<IngestHealth>>>>,
}

/// An HLS server ready to serve: keys checked, content roots opened, port bound.
pub struct HlsServer {
    state: Arc<HlsState>,
    sync: SyncOptions,
    first_sync_wait: Duration,
    cors_origin: String,
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    shared_reports: tokio::sync::mpsc::Receiver<shared::Report>,
    tasks: Supervisor,
}

impl HlsServer {
    /// Checks the secrets and content settings, opens the segment cache and binds.
    pub async fn build(
        config: &Config,
        secrets: &Secrets,
        options: HlsOptions,
    ) -> Result<Self, HlsError> {
        let hls = &config.hls;
        let signing = secrets
            .playback_signing_secret
            .as_ref()
            .ok_or(HlsError::MissingSecret("PLAYBACK_SIGNING_SECRET"))?;
        let keys = PlaybackKeys::new(signing, secrets.playback_signing_secret_previous.as_ref())?
            .with_leeway(hls.clock_skew_seconds);
        let internal_key = secrets
            .internal_api_key
            .clone()
            .ok_or(HlsError::MissingSecret("INTERNAL_API_KEY"))?;
        let event_urls: Vec<(String, Url)> = config
            .events
            .iter()
            .filter_map(|e| Some((e.id.as_str().to_owned(), e.stream_url.clone()?)))
            .collect();
        if hls.stream_root.is_none() && hls.upstream_origin.is_none() {
            return Err(HlsError::NoContent);
        }
        let proxies = hls.upstream_origin.is_some() || !event_urls.is_empty();
        let cache = if proxies {
            let root = cache_root(config);
            let max_bytes = (hls.segment_cache_max_size_gb * 1e9) as u64;
            let max_age = Duration::from_secs_f64(hls.segment_cache_max_age_hours * 3600.0);
            let cache = SegmentCache::open(&root, max_bytes, max_age)?;
            tracing::info!(
                "segment cache at {} holds {} files ({} bytes)",
                cache.root().display(),
                cache.stats().entries,
                cache.stats().bytes
            );
            Some(Arc::new(cache))
        } else {
            None
        };
        let source = Source::new(
            SourceOptions {
                local: hls.stream_root.clone(),
                upstream: hls.upstream_origin.clone(),
                event_urls,
                event_ends: config
                    .events
                    .iter()
                    .map(|e| (e.id.as_str().to_owned(), e.ends_at.get()))
                    .collect(),
                timeout: Duration::from_secs(hls.upstream_timeout_seconds.max(1)),
                blocking_timeout: Duration::from_secs(hls.blocking_reload_timeout_seconds),
                public_url: Some(hls.public_url.clone()),
            },
            cache,
        )
        .map_err(HlsError::StreamRoot)?;
        let revocations = Arc::new(RwLock::new(RevocationSet::default()));
        let platform_url = options
            .platform_url
            .clone()
            .or_else(|| hls.platform_url.clone())
            .unwrap_or_else(|| config.platform.public_url.clone());
        let sync = SyncOptions {
            platform_url: source::dir_url(platform_url),
            key: internal_key.clone(),
            edge_id: hls.edge_id.as_ref().map(|e| e.as_str().to_owned()),
            poll_interval: Duration::from_millis(hls.revocation_poll_interval_ms),
            push: hls.revocation_push,
            token_ttl: Duration::from_secs(u64::from(config.platform.playback_token_ttl_seconds)),
        };
        let cors_origin = hls
            .cors_allowed_origin
            .clone()
            .unwrap_or_else(|| config.platform.public_url.origin().ascii_serialization());
        let addr = hls.listen;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| HlsError::Listen { addr, source })?;
        let bound = listener.local_addr().unwrap_or(addr);
        let (shared, shared_reports) = shared::SharedTokens::new(
            hls.shared_token,
            Duration::from_secs(u64::from(hls.shared_token_window_seconds)),
            sync.edge_id.clone(),
        );
        let state = Arc::new(HlsState {
            gate: Gate::new(keys, revocations),
            shared,
            trusted_proxies: hls.trusted_proxies.clone(),
            source,
            files: files::FileCache::new(FILE_MEMORY_BYTES),
            sync: Arc::new(SyncStatus::default()),
            metrics: Metrics::default(),
            internal_key,
            edge_id: sync.edge_id.clone(),
            push: sync.push,
            started: Instant::now(),
            ingest: options.ingest.clone(),
        });
        Ok(Self {
            state,
            sync,
            first_sync_wait: options.first_sync_wait.unwrap_or(FIRST_SYNC_WAIT),
            cors_origin,
            listener,
            addr: bound,
            shared_reports,
            tasks: Supervisor::new(),
        })
    }

    /// The address actually bound (the port, when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (for tests and `streamgate up`).
    pub fn state(&self) -> Arc<HlsState> {
        self.state.clone()
    }

    /// The service's task supervisor: work spawned on it runs beside the server and
    /// stops it if it fails (how the tests add their own tasks).
    pub fn tasks(&self) -> &Supervisor {
        &self.tasks
    }

    /// Runs [`Self::run`] in a task until [`RunningHls::stop`].
    pub fn spawn(self) -> RunningHls {
        let (addr, state, tasks) = (self.addr, self.state.clone(), self.tasks.clone());
        let task = tokio::spawn(self.run(std::future::pending()));
        RunningHls {
            addr,
            state,
            tasks,
            task,
        }
    }

    /// Serves until `shutdown` resolves or a background task fails, then lets
    /// in-flight responses finish (up to 10 s) and stops the background tasks; a
    /// failed task is the error returned. The revocation sync runs beside it; the
    /// first sync gets a few seconds to finish before requests are answered, so a
    /// restarted edge does not admit tokens revoked while it was down.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), HlsError> {
        let tasks = self.tasks.clone();
        tasks.spawn(
            "revocation sync",
            sync::run(
                self.sync.clone(),
                self.state.gate.revocations().clone(),
                self.state.sync.clone(),
                tasks.background(),
            ),
        );
        if let Some(cache) = self.state.source.cache().cloned() {
            let stop = tasks.background();
            tasks.spawn("segment cache sweep", async move {
                sweep_cache(cache, stop).await;
                Ok::<(), std::convert::Infallible>(())
            });
        }
        tasks.spawn(
            "shared-token reports",
            shared::send_reports(
                self.shared_reports,
                self.sync.platform_url.clone(),
                self.sync.key.clone(),
                tasks.background(),
            ),
        );
        let first_sync = tokio::time::timeout(self.first_sync_wait, async {
            tokio::select! {
                () = self.state.sync.first_success() => {}
                () = tasks.stopping().cancelled() => {}
            }
        });
        if first_sync.await.is_err() {
            tracing::warn!(
                "no revocation sync with {} yet; serving with an empty revocation list until it succeeds",
                self.sync.platform_url
            );
        }
        let app = app(self.state.clone(), &self.cors_origin);
        tracing::info!(
            "HLS server listening on http://{} ({} mode, revocations {} from {})",
            self.addr,
            self.state.source.mode().as_str(),
            if self.sync.push { "pushed" } else { "polled" },
            self.sync.platform_url
        );
        let until = tasks.until_stopped(shutdown);
        let served = server::serve(self.listener, app, until, Duration::from_secs(10)).await;
        let finished = tasks.finish().await;
        tracing::info!("HLS server stopped");
        served.map_err(|source| HlsError::Listen {
            addr: self.addr,
            source,
        })?;
        Ok(finished?)
    }
}

/// An HLS server serving in a background task ([`HlsServer::spawn`]).
pub struct RunningHls {
    addr: SocketAddr,
    state: Arc<HlsState>,
    tasks: Supervisor,
    task: tokio::task::JoinHandle<Result<(), HlsError>>,
}

impl RunningHls {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state.
    pub fn state(&self) -> Arc<HlsState> {
        self.state.clone()
    }

    /// The running server's task supervisor (see [`HlsServer::tasks`]).
    pub fn tasks(&self) -> &Supervisor {
        &self.tasks
    }

    /// Resolves when the server begins to stop: after [`Self::stop`], or by itself
    /// when a background task failed (`up` then stops the other service too).
    pub async fn stopping(&self) {
        self.tasks.stopping().cancelled().await;
    }

    /// Stops it as SIGTERM would and waits for in-flight responses; the error of a
    /// background task that failed, if one did.
    pub async fn stop(self) -> Result<(), HlsError> {
        self.tasks.stop();
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(TaskFailure {
                task: "HLS server",
                reason: format!("panicked: {e}"),
            }
            .into()),
        }
    }
}

/// `segment_cache_root`, else `<stream_root>/cache`, else `data/segment-cache`.
pub fn cache_root(config: &Config) -> PathBuf {
    let hls = &config.hls;
    hls.segment_cache_root
        .clone()
        .or_else(|| hls.stream_root.as_ref().map(|r| r.join("cache")))
        .unwrap_or_else(|| PathBuf::from("data/segment-cache"))
}

/// Removes cache entries past their age once a minute.
async fn sweep_cache(cache: Arc<SegmentCache>, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(60)) => {}
            () = stop.cancelled() => return,
        }
        let cache = cache.clone();
        let removed = tokio::task::spawn_blocking(move || cache.remove_expired())
            .await
            .unwrap_or(0);
        if removed > 0 {
            tracing::info!("segment cache: removed {removed} files past their age");
        }
    }
}

/// The typed API service.
pub fn api_service() -> OpenApiService<api::HlsApi, ()> {
    OpenApiService::new(
        api::HlsApi,
        "StreamGate HLS server API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Token-gated HLS delivery, health, metrics and cache control of a StreamGate HLS \
         edge. Errors are JSON objects {\"error\": \"<message>\"}.",
    )
}

/// The stream route's contract, which poem-openapi cannot declare (a path of any
/// depth); inserted under `paths:` of the generated description. Kept as YAML in
/// `streams_path.yaml`, indented as it is inserted, so it reads and diffs as YAML.
const STREAMS_PATH_YAML: &str = include_str!("streams_path.yaml");

const PLAYBACK_TOKEN_SCHEME_YAML: &str = r#"    PlaybackToken:
      type: http
      scheme: bearer
      bearerFormat: JWT
      description: A playback token from the platform (HS256, one hour).
"#;

/// The HLS server's OpenAPI description (YAML), as committed in `openapi-hls.yaml`.
pub fn openapi_yaml() -> String {
    let spec = api_service().spec_yaml();
    let mut out = String::with_capacity(spec.len() + STREAMS_PATH_YAML.len() + 256);
    for line in spec.split_inclusive('\n') {
        out.push_str(line);
        if line == "paths:\n" {
            out.push_str(STREAMS_PATH_YAML);
        } else if line == "  securitySchemes:\n" {
            out.push_str(PLAYBACK_TOKEN_SCHEME_YAML);
        }
    }
    out
}

/// The whole HTTP application around `state`: CORS for the one allowed origin, an
/// access log without tokens, and security headers.
pub fn app(
    state: Arc<HlsState>,
    cors_origin: &str,
) -> impl Endpoint<Output = poem::Response> + use<> {
    let api = api_service();
    let cors = Cors::new()
        .allow_origin(cors_origin)
        .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
        .allow_headers(["authorization", "range"])
        .expose_headers(["content-length", "content-range", "accept-ranges"])
        .max_age(86_400);
    Route::new()
        .at("/streams/*path", get(serve::stream).head(serve::stream))
        .nest("/", api)
        .data(state)
        .with(cors)
        .around(|ep, req| async move {
            let started = Instant::now();
            // The access log is built only when it is wanted: formatting on every
            // request showed up in profiles.
            let logged = (tracing::enabled!(target: "streamgate::access", tracing::Level::INFO))
                .then(|| (req.method().clone(), req.uri().clone()));
            let resp = ep.call(req).await.map(IntoResponse::into_response);
            let mut resp = match resp {
                Ok(r) => r,
                Err(e) if e.is_from_response() => e.into_response(),
                // Errors raised below the typed API (a missing key, an unknown route,
                // a wrong method) answer in the same JSON shape as everything else.
                Err(e) => json_error(e.status()),
            };
            if let Some((method, uri)) = logged {
                access_log(&method, &uri, resp.status().as_u16(), started.elapsed());
            }
            let headers = resp.headers_mut();
            headers.insert(
                "x-content-type-options",
                HeaderValue::from_static("nosniff"),
            );
            headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
            Ok(resp)
        })
}

fn json_error(status: poem::http::StatusCode) -> poem::Response {
    use poem::http::StatusCode;
    let message = match status {
        StatusCode::UNAUTHORIZED => "Authorization required",
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::METHOD_NOT_ALLOWED => "Method not allowed",
        StatusCode::BAD_REQUEST => "Malformed request",
        s if s.is_server_error() => "Internal server error",
        _ => "Request refused",
    };
    poem::Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(format!("{{\"error\":\"{message}\"}}"))
}

/// One access-log line, with every credential-named parameter (`__token` under any
/// spelling) dropped from the query and JWT-looking text replaced anywhere in it
/// ([`streamgate_core::redact`]): stream requests at info, the rest (health checks,
/// metrics scrapes) at debug.
fn access_log(method: &Method, uri: &poem::http::Uri, status: u16, took: Duration) {
    let path = streamgate_core::redact::redact_text(uri.path());
    let ms = took.as_secs_f64() * 1000.0;
    let query = uri.query().and_then(playlist::redact_query);
    let sep = if query.is_some() { "?" } else { "" };
    let query = query.unwrap_or_default();
    if path.starts_with(path::STREAMS_PREFIX) {
        tracing::info!(target: "streamgate::access", "{method} {path}{sep}{query} {status} {ms:.1}ms");
    } else {
        tracing::debug!(target: "streamgate::access", "{method} {path}{sep}{query} {status} {ms:.1}ms");
    }
}
