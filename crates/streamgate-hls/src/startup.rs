//! Start-up: everything that can fail before the first request ([`HlsServer::build`]),
//! then serving beside the background tasks until shutdown ([`HlsServer::run`],
//! [`RunningHls`]).

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

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

use crate::files;
use crate::http::app;
use crate::{server, shared, source, sync};

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
