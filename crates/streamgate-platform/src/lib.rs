//! The platform service: where an access code becomes a playback token.
//!
//! [`Platform::build`] does everything that can fail before the first request (open
//! and migrate the database, apply `streamgate.toml`, check the signing secret, reach
//! Redis, bind the port) and hands back the bound address, so tests run the real
//! service on port 0. [`Platform::run`] serves until the shutdown future resolves, with
//! the config watcher and the PostgreSQL LISTEN task beside it under one
//! [`streamgate_core::tasks::Supervisor`] (a task that fails stops the platform with
//! that error), and drains in-flight requests before returning.
//!
//! Modules: one per API group (`viewer`, `internal`, `health`, `admin` with the
//! console), plus the pieces they share (`error`, `client_ip`, `ratelimit`, `feed`,
//! `probe`, `metrics`, `state`).

pub mod admin;
pub mod assets;
pub mod audience;
pub mod client_ip;
pub mod error;
pub mod feed;
pub mod health;
pub mod internal;
pub mod metrics;
pub mod probe;
pub mod ratelimit;
pub mod session_events;
pub mod state;
pub mod viewer;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::http::{HeaderValue, Method};
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::middleware::CookieJarManager;
use poem::{Endpoint, EndpointExt, IntoResponse, Route};
use poem_openapi::OpenApiService;
use streamgate_core::Config;
use streamgate_core::env::Env;
use streamgate_core::jwt::{JwtError, PlaybackKeys};
use streamgate_core::secrets::Secrets;
use streamgate_core::tasks::{Supervisor, TaskFailure};
use streamgate_store::reconcile::{self, ApplyOptions};
use streamgate_store::watch::{self, ReloadStatus, StatusHandle, WatchOptions};
use streamgate_store::{Backend, Store, StoreError};
use tokio::sync::watch as channel;

use crate::feed::FeedSignal;
use crate::metrics::Metrics;
use crate::probe::Prober;
use crate::ratelimit::RateLimiter;
use crate::state::AppState;

/// Largest request body accepted (the API takes small JSON documents only).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Why the platform could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// The database could not be opened, migrated or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `PLAYBACK_SIGNING_SECRET` is missing or unusable.
    #[error("PLAYBACK_SIGNING_SECRET: {0}")]
    Keys(#[from] JwtError),
    /// A required secret is not set.
    #[error("{0} is not set (make one with `streamgate gen-secret`)")]
    MissingSecret(&'static str),
    /// Redis was configured but cannot be used.
    #[error(transparent)]
    Redis(#[from] ratelimit::RedisError),
    /// The listen address cannot be bound, or serving failed.
    #[error("cannot listen on {addr}: {source}{}", if source.kind() == std::io::ErrorKind::AddrInUse { " (is another StreamGate already running here?)" } else { "" })]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A background task (config watcher, LISTEN, maintenance) failed or panicked, so
    /// the platform stopped rather than serve on without it.
    #[error(transparent)]
    Task(#[from] TaskFailure),
}

/// What the platform needs from its caller besides the configuration.
#[derive(Debug, Clone)]
pub struct PlatformOptions {
    /// The config file to watch for changes (`None`: no hot reload).
    pub watch: Option<PathBuf>,
    /// The environment captured at start, for reloads.
    pub env: Env,
    /// Apply with `--prune` semantics at start (a reload never prunes).
    pub prune: bool,
    /// The config file as the operator named it, for messages that send them there
    /// (the admin API's 409 on config-managed events). `None`: no file was read.
    pub config_file: Option<PathBuf>,
}

/// A platform ready to serve: database migrated, config applied, port bound.
pub struct Platform {
    state: Arc<AppState>,
    config_tx: channel::Sender<Arc<Config>>,
    acceptor: TcpAcceptor,
    addr: SocketAddr,
    options: PlatformOptions,
    tasks: Supervisor,
}

impl Platform {
    /// Opens the database, applies the configuration, and binds the listen address.
    pub async fn build(
        config: Config,
        secrets: &Secrets,
        options: PlatformOptions,
    ) -> Result<Self, PlatformError> {
        let signing = secrets
            .playback_signing_secret
            .as_ref()
            .ok_or(PlatformError::MissingSecret("PLAYBACK_SIGNING_SECRET"))?;
        let keys = PlaybackKeys::new(signing, secrets.playback_signing_secret_previous.as_ref())?
            .with_leeway(config.hls.clock_skew_seconds);
        // The port first: a second instance on the same address (a second `up` in the
        // same folder) stops here, before it opens or changes the database.
        let addr = config.platform.listen;
        let acceptor = TcpListener::bind(addr)
            .into_acceptor()
            .await
            .map_err(|source| PlatformError::Listen { addr, source })?;
        let store = Store::connect(&config.platform.database_url).await?;
        let reload: StatusHandle = Arc::new(Mutex::new(ReloadStatus::default()));
        let applied = reconcile::apply(
            &store,
            &config,
            ApplyOptions {
                prune: options.prune,
                allow_retire: false,
                actor: "config",
                progress: None,
            },
        )
        .await;
        match applied {
            Ok(report) => {
                tracing::info!(
                    "configuration applied: {}",
                    report.plan.to_string().lines().last().unwrap_or_default()
                );
                watch::record_apply(&reload);
            }
            // A restart must not be how viewers lose access either: a file that would
            // retire events people are using is refused, and the platform serves on
            // with the database as it is, reporting the refusal like a refused edit.
            Err(e @ StoreError::Guarded(_)) => {
                tracing::warn!(
                    "configuration refused at start, serving the events as they are in the database: {e}"
                );
                let file = options
                    .config_file
                    .as_ref()
                    .map_or_else(|| "streamgate.toml".to_owned(), |p| p.display().to_string());
                watch::record_refusal(&store, &reload, &file, e.to_string(), Vec::new()).await;
            }
            Err(e) => return Err(e.into()),
        }
        let limiter = match &config.platform.redis_url {
            Some(url) => RateLimiter::redis(url).await?,
            None => RateLimiter::in_memory(),
        };
        let bound = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .unwrap_or(addr);
        let prober = Prober::new(config.hls.public_url.as_str());
        let admin = admin::auth::AdminKeys::new(signing, secrets.admin_password_hash.clone());
        let config_file = options.config_file.clone();
        let watching = options.watch.is_some();
        let (config_tx, config_rx) = channel::channel(Arc::new(config));
        let tasks = Supervisor::new();
        let state = Arc::new(AppState {
            store,
            config: config_rx,
            keys,
            internal_key: secrets.internal_api_key.clone(),
            ingest_secret: secrets.ingest_secret.clone(),
            limiter,
            metrics: Metrics::default(),
            feed: Arc::new(FeedSignal::default()),
            prober,
            reload,
            started: Instant::now(),
            stopping: tasks.stopping().clone(),
            admin,
            config_file,
            watching,
        });
        Ok(Self {
            state,
            config_tx,
            acceptor,
            addr: bound,
            options,
            tasks,
        })
    }

    /// The address actually bound (the port, when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (for tests and for `streamgate up`).
    pub fn state(&self) -> Arc<AppState> {
        self.state.clone()
    }

    /// The service's task supervisor: work spawned on it runs beside the service
    /// and stops it if it fails (how `up` and the tests add their own tasks).
    pub fn tasks(&self) -> &Supervisor {
        &self.tasks
    }

    /// Runs [`Self::run`] in a task until [`RunningPlatform::stop`].
    pub fn spawn(self) -> RunningPlatform {
        let (addr, state, tasks) = (self.addr, self.state.clone(), self.tasks.clone());
        let task = tokio::spawn(self.run(std::future::pending()));
        RunningPlatform {
            addr,
            state,
            tasks,
            task,
        }
    }

    /// Serves until `shutdown` resolves or a background task fails, then drains
    /// in-flight requests (up to 10 s) and stops the background tasks. A failed task
    /// is the error returned.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), PlatformError> {
        let tasks = self.tasks.clone();
        if let Some(path) = self.options.watch.clone() {
            let store = self.state.store.clone();
            let status = self.state.reload.clone();
            let config_tx = self.config_tx.clone();
            let options = WatchOptions {
                path,
                env: self.options.env.clone(),
                role: Some(streamgate_core::Role::Platform),
                debounce: Duration::from_millis(300),
                poll_interval: watch::DEFAULT_POLL_INTERVAL,
            };
            let stop = tasks.background().cancelled_owned();
            tasks.spawn(
                "config watcher",
                watch::run(store, options, config_tx, status, stop),
            );
        }
        let (state, stop) = (self.state.clone(), tasks.background());
        tasks.spawn("analytics maintenance", async move {
            audience::maintain(state, stop).await;
            Ok::<(), std::convert::Infallible>(())
        });
        if self.state.store.backend() == Backend::Postgres {
            let listen = feed::listen_postgres(
                self.state.store.clone(),
                self.state.feed.clone(),
                tasks.background(),
            );
            tasks.spawn("revocation LISTEN", async move {
                listen.await;
                Ok::<(), std::convert::Infallible>(())
            });
        }
        let app = app(self.state.clone());
        tracing::info!("platform listening on http://{}", self.addr);
        let served = poem::Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(
                app,
                tasks.until_stopped(shutdown),
                Some(Duration::from_secs(10)),
            )
            .await;
        let finished = tasks.finish().await;
        self.state.store.close().await;
        tracing::info!("platform stopped");
        served.map_err(|source| PlatformError::Listen {
            addr: self.addr,
            source,
        })?;
        Ok(finished?)
    }
}

/// A platform serving in a background task ([`Platform::spawn`]): what `streamgate up`
/// and the tests hold to reach it and stop it.
pub struct RunningPlatform {
    addr: SocketAddr,
    state: Arc<AppState>,
    tasks: Supervisor,
    task: tokio::task::JoinHandle<Result<(), PlatformError>>,
}

impl RunningPlatform {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state.
    pub fn state(&self) -> Arc<AppState> {
        self.state.clone()
    }

    /// The running service's task supervisor (see [`Platform::tasks`]).
    pub fn tasks(&self) -> &Supervisor {
        &self.tasks
    }

    /// Resolves when the platform begins to stop: after [`Self::stop`], or by itself
    /// when a background task failed (`up` then stops the other service too).
    pub async fn stopping(&self) {
        self.tasks.stopping().cancelled().await;
    }

    /// Stops it as SIGTERM would and waits for the drain; the error of a background
    /// task that failed, if one did.
    pub async fn stop(self) -> Result<(), PlatformError> {
        self.tasks.stop();
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(TaskFailure {
                task: "platform",
                reason: format!("panicked: {e}"),
            }
            .into()),
        }
    }
}

/// The admin API's endpoint groups.
pub type AdminApis = (
    admin::auth::AuthApi,
    admin::events::EventsApi,
    admin::codes::CodesApi,
    admin::overview::OverviewApi,
    admin::analytics::AnalyticsApi,
);

/// Every typed endpoint group of the platform.
pub type Apis = (
    viewer::ViewerApi,
    session_events::SessionEventsApi,
    internal::InternalApi,
    health::OpsApi,
    AdminApis,
);

/// The OpenAPI service: every typed endpoint of the platform.
pub fn api_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            viewer::ViewerApi,
            session_events::SessionEventsApi,
            internal::InternalApi,
            health::OpsApi,
            (
                admin::auth::AuthApi,
                admin::events::EventsApi,
                admin::codes::CodesApi,
                admin::overview::OverviewApi,
                admin::analytics::AnalyticsApi,
            ),
        ),
        "StreamGate platform API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Viewer, internal (HLS edge), operations and admin endpoints of the StreamGate platform. \
         Errors are JSON objects {\"error\": \"<message>\"}.",
    )
}

/// The committed `openapi.yaml`: what `streamgate openapi` prints.
pub fn openapi_yaml() -> String {
    api_service().spec_yaml()
}

/// The whole HTTP application around `state`.
pub fn app(state: Arc<AppState>) -> impl Endpoint {
    let api = api_service();
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    let timing = state.clone();
    Route::new()
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .at("/assets/:file", assets::portal_assets)
        .at("/admin", assets::admin_index)
        .at("/admin/", assets::admin_index)
        .at("/admin/assets/:file", assets::admin_assets)
        .nest("/", api)
        .data(state)
        .with(CookieJarManager::new())
        .around(move |ep, req| {
            let state = timing.clone();
            async move {
                let route = route_name(req.uri().path());
                let is_docs = req.uri().path().starts_with("/docs");
                let started = Instant::now();
                let logged = tracing::enabled!(target: "streamgate::access", tracing::Level::DEBUG)
                    .then(|| (req.method().clone(), req.uri().clone()));
                let result = match body_too_large(&req) {
                    Some(err) => Err(err),
                    // The API's nest at "/" claims the bare "/" too: the portal's page
                    // is answered here, before routing.
                    None if req.uri().path() == "/"
                        && matches!(*req.method(), Method::GET | Method::HEAD) =>
                    {
                        Ok(assets::portal_page(&state))
                    }
                    None => ep.call(beacon_as_json(req).await).await,
                };
                state.metrics.observe(route, started.elapsed());
                let mut resp = match result {
                    Ok(resp) => resp.into_response(),
                    // Typed API errors already carry their JSON response.
                    Err(err) if err.is_from_response() => err.into_response(),
                    Err(err) => error::json_error(err).await,
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
                // Behind https (the public URL says so), browsers must never come back
                // over plain http, where the session cookie would not be Secure.
                if state.config().platform.public_url.scheme() == "https" {
                    headers.insert(
                        "strict-transport-security",
                        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
                    );
                }
                if !is_docs && !headers.contains_key("content-security-policy") {
                    headers.insert(
                        "content-security-policy",
                        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
                    );
                }
                Ok(resp)
            }
        })
}

/// One access-log line at debug: access codes (`?code=`), tokens under any parameter
/// name and anything JWT-looking are left out ([`streamgate_core::redact`]).
fn access_log(method: &Method, uri: &poem::http::Uri, status: u16, took: std::time::Duration) {
    let path = streamgate_core::redact::redact_text(uri.path());
    let query = uri
        .query()
        .and_then(streamgate_core::redact::redact_query)
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let ms = took.as_secs_f64() * 1000.0;
    tracing::debug!(target: "streamgate::access", "{method} {path}{query} {status} {ms:.1}ms");
}

/// 413 for a declared body over [`MAX_BODY_BYTES`], 411 for a chunked body (whose
/// size would only be known after reading it all).
fn body_too_large(req: &poem::Request) -> Option<poem::Error> {
    use poem::http::StatusCode;
    let headers = req.headers();
    match headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .map(str::parse::<u64>)
    {
        Some(Ok(n)) if n > MAX_BODY_BYTES as u64 => {
            Some(poem::Error::from_status(StatusCode::PAYLOAD_TOO_LARGE))
        }
        Some(Ok(_)) => None,
        Some(Err(_)) => Some(poem::Error::from_string(
            "invalid Content-Length",
            StatusCode::BAD_REQUEST,
        )),
        None if headers.contains_key("transfer-encoding") => {
            Some(poem::Error::from_status(StatusCode::LENGTH_REQUIRED))
        }
        None => None,
    }
}

/// `navigator.sendBeacon` posts whatever body it is given: `text/plain` for a string, a
/// Blob's own type (or none), `application/x-www-form-urlencoded` for URLSearchParams,
/// `multipart/form-data` for FormData; and a page may call release with the header
/// alone. The release endpoint is described (and parsed) as JSON only, so that
/// generated clients see one body type: any other body becomes the JSON object it holds,
/// or `{"token": ...}` from the form field or bare text, or `{}`. The body was already
/// bounded by [`body_too_large`].
async fn beacon_as_json(mut req: poem::Request) -> poem::Request {
    if req.uri().path() != "/api/playback/release" {
        return req;
    }
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if content_type.starts_with("application/json") {
        return req;
    }
    let text = req.take_body().into_string().await.unwrap_or_default();
    let token = if content_type.starts_with("application/x-www-form-urlencoded") {
        url::form_urlencoded::parse(text.as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    } else if content_type.starts_with("multipart/form-data") {
        multipart_field(&text, "token")
    } else {
        None
    };
    let is_form = content_type.starts_with("multipart/")
        || content_type.starts_with("application/x-www-form-urlencoded");
    let text = text.trim();
    let json = match (token, serde_json::from_str::<serde_json::Value>(text)) {
        (Some(token), _) => serde_json::json!({ "token": token }),
        (None, Ok(value)) if value.is_object() => value,
        // Nothing sent, or a form without a token field: the header must carry it.
        (None, _) if text.is_empty() || is_form => serde_json::json!({}),
        (None, _) => serde_json::json!({ "token": text }),
    }
    .to_string();
    let headers = req.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.remove("content-length");
    req.set_body(json);
    req
}

/// The value of the form field `name` in a `multipart/form-data` body (text fields
/// only, which is all a release beacon carries).
fn multipart_field(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"");
    let start = body.find(&marker)?;
    let rest = &body[start..];
    let value_at = rest.find("\r\n\r\n").map(|i| i + 4)?;
    let value = &rest[value_at..];
    let end = value.find("\r\n--").unwrap_or(value.len());
    Some(value[..end].trim().to_owned()).filter(|v| !v.is_empty())
}

fn route_name(path: &str) -> &'static str {
    match path {
        "/api/tokens/validate" => "validate",
        "/api/playback/refresh" => "refresh",
        "/api/playback/heartbeat" => "heartbeat",
        "/api/playback/release" => "release",
        "/api/revocations" => "revocations",
        "/health" => "health",
        p if p.starts_with("/api/events/") && p.ends_with("/status") => "status",
        _ => "other",
    }
}
