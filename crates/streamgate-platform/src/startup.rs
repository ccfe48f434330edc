//! Start-up: everything that can fail before the first request ([`Platform::build`]),
//! then serving beside the background tasks until shutdown ([`Platform::run`],
//! [`RunningPlatform`]).

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
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
use crate::http::app;
use crate::metrics::Metrics;
use crate::probe::Prober;
use crate::ratelimit::RateLimiter;
use crate::state::AppState;
use crate::{admin, audience, feed, ratelimit};

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
        apply_at_start(&store, &config, &options, &reload).await?;
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

/// The start-up apply of the configuration: applied, or refused by the destroy guard
/// (then the platform serves the database as it is and reports the refusal).
async fn apply_at_start(
    store: &Store,
    config: &Config,
    options: &PlatformOptions,
    reload: &StatusHandle,
) -> Result<(), PlatformError> {
    // A long start-up apply (many codes) shows its progress at debug level, which
    // also tells a test that the apply is under way.
    let mut progress = |made: u64, total: u64| {
        tracing::debug!("configuration apply: {made} of {total} codes made");
    };
    let applied = reconcile::apply(
        store,
        config,
        ApplyOptions {
            prune: options.prune,
            allow_retire: false,
            actor: "config",
            progress: Some(&mut progress),
        },
    )
    .await;
    match applied {
        Ok(report) => {
            tracing::info!(
                "configuration applied: {}",
                report.plan.to_string().lines().last().unwrap_or_default()
            );
            watch::record_apply(reload);
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
            watch::record_refusal(store, reload, &file, e.to_string(), Vec::new()).await;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
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
