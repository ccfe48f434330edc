//! What every handler shares. Built once by [`crate::Platform::build`]; the running
//! configuration inside it changes with each good apply of `streamgate.toml`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use streamgate_core::Config;
use streamgate_core::jwt::PlaybackKeys;
use streamgate_core::secrets::Secret;
use streamgate_core::tasks::CancellationToken;
use streamgate_store::Store;
use streamgate_store::watch::StatusHandle;
use tokio::sync::watch;

use crate::admin::keys::AdminKeys;
use crate::feed::FeedSignal;
use crate::metrics::Metrics;
use crate::probe::Prober;
use crate::ratelimit::RateLimiter;

/// Shared state of one platform process.
#[derive(Debug)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The running configuration (replaced by hot reloads).
    pub config: watch::Receiver<Arc<Config>>,
    /// Signs and checks playback tokens.
    pub keys: PlaybackKeys,
    /// The key HLS edges present on internal calls.
    pub internal_key: Option<Secret>,
    /// `INGEST_SECRET`, when set here: the console shows publish URLs with it.
    pub ingest_secret: Option<Secret>,
    /// Request budgets.
    pub limiter: RateLimiter,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// Wakes waiting revocation-feed requests.
    pub feed: Arc<FeedSignal>,
    /// Asks the HLS server whether a stream is up.
    pub prober: Prober,
    /// Configuration-as-code status for `/health`.
    pub reload: StatusHandle,
    /// Process start, for uptime.
    pub started: Instant,
    /// Cancelled when the server starts shutting down, so waiting revocation-feed
    /// requests and session event streams answer at once instead of holding the drain
    /// for up to their wait (the service's [`streamgate_core::tasks::Supervisor`]).
    pub stopping: CancellationToken,
    /// The admin password hash and the console cookie's key.
    pub admin: AdminKeys,
    /// The config file as the operator named it (for "change it there" messages).
    pub config_file: Option<PathBuf>,
    /// Whether edits to the config file are applied while running.
    pub watching: bool,
}

impl AppState {
    /// A snapshot of the running configuration.
    pub fn config(&self) -> Arc<Config> {
        self.config.borrow().clone()
    }
}
