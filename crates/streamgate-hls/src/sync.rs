//! Keeping the revocation sets in step with the platform's revocation log.
//!
//! The edge asks `GET /api/revocations?cursor=N` and replays the entries in order. In
//! push mode (the default) the request carries `wait`, so the platform holds it open
//! and answers the moment something is logged: a revocation reaches the edge in about
//! the time of one HTTP round trip. In poll mode the edge asks every
//! `REVOCATION_POLL_INTERVAL_MS`. Either way the cursor is a sequence number, so a
//! reconnect after an outage resumes exactly where it stopped and nothing is missed.
//!
//! When the platform cannot be reached the edge keeps serving with the sets it has,
//! retries with backoff, reports the failure on `/health`, and logs an `ALERT` once
//! failures have lasted five minutes (and again every five minutes while they last).

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::Deserialize;
use streamgate_core::Secret;
use streamgate_core::tasks::CancellationToken;
use url::Url;

use crate::revocation::{FeedEntry, RevocationSet, now_unix};

/// How long failures last before the `ALERT`.
pub const ALERT_AFTER: Duration = Duration::from_secs(300);
/// How long a push-mode request waits at the platform for news.
pub const PUSH_WAIT: Duration = Duration::from_secs(25);
/// Longest pause between retries after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A waiting request answered faster than this with nothing new was not held.
const MIN_WAIT: Duration = Duration::from_millis(200);
/// How often ended sessions are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// What the sync loop needs.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// The platform's base URL.
    pub platform_url: Url,
    /// `INTERNAL_API_KEY`.
    pub key: Secret,
    /// This edge's id, for the platform's dashboard.
    pub edge_id: Option<String>,
    /// `REVOCATION_POLL_INTERVAL_MS`.
    pub poll_interval: Duration,
    /// Wait at the platform for news (push) instead of polling.
    pub push: bool,
    /// How long a playback token lives; ended sessions are kept that long.
    pub token_ttl: Duration,
}

/// Why a task that talks to the platform (the sync, the shared-token reports) cannot
/// start. It stops the server: an edge that can never learn of revocations must not
/// serve on as if it could.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The HTTP client could not be built.
    #[error("cannot build an HTTP client for the platform: {0}")]
    Client(#[from] reqwest::Error),
    /// The endpoint's URL cannot be formed from the platform URL.
    #[error("bad platform URL: {0}")]
    Url(#[from] url::ParseError),
}

/// The sync's state, for `/health`, `/metrics` and the ALERT.
#[derive(Debug, Default)]
pub struct SyncStatus {
    inner: Mutex<StatusInner>,
    /// Wakes [`SyncStatus::first_success`] waiters on the first good sync.
    first: tokio::sync::Notify,
}

#[derive(Debug, Default, Clone)]
struct StatusInner {
    cursor: i64,
    last_success: Option<Instant>,
    failing_since: Option<Instant>,
    last_error: Option<String>,
    last_alert: Option<Instant>,
    syncs: u64,
    failures: u64,
    unknown_kinds: u64,
}

/// A copy of the sync's state.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncSnapshot {
    /// The last cursor seen.
    pub cursor: i64,
    /// Seconds since the last successful sync (`None`: never).
    pub last_sync_ago: Option<f64>,
    /// Seconds failures have lasted (`None`: not failing).
    pub failing_for: Option<f64>,
    /// The last error, while failing.
    pub last_error: Option<String>,
    /// Successful requests.
    pub syncs: u64,
    /// Failed requests.
    pub failures: u64,
    /// Entries of a kind this build does not know, skipped (a newer platform).
    pub unknown_kinds: u64,
}

impl SyncStatus {
    fn lock(&self) -> std::sync::MutexGuard<'_, StatusInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current state.
    pub fn snapshot(&self) -> SyncSnapshot {
        let s = self.lock().clone();
        SyncSnapshot {
            cursor: s.cursor,
            last_sync_ago: s.last_success.map(|t| t.elapsed().as_secs_f64()),
            failing_for: s.failing_since.map(|t| t.elapsed().as_secs_f64()),
            last_error: s.last_error,
            syncs: s.syncs,
            failures: s.failures,
            unknown_kinds: s.unknown_kinds,
        }
    }

    /// Whether at least one sync succeeded.
    pub fn synced(&self) -> bool {
        self.lock().last_success.is_some()
    }

    /// Resolves once a sync has succeeded (at once if one has): what the server waits
    /// on before answering its first request.
    pub async fn first_success(&self) {
        let notified = self.first.notified();
        tokio::pin!(notified);
        // Registered before the check, so a success in between is not missed.
        notified.as_mut().enable();
        if self.synced() {
            return;
        }
        notified.await;
    }

    fn success(&self, cursor: i64) {
        let mut s = self.lock();
        let first = s.last_success.is_none();
        if let Some(since) = s.failing_since.take() {
            tracing::info!(
                "revocation sync restored after {:.0} s; resumed at cursor {cursor}",
                since.elapsed().as_secs_f64()
            );
        }
        s.cursor = cursor;
        s.last_success = Some(Instant::now());
        s.last_error = None;
        s.last_alert = None;
        s.syncs += 1;
        drop(s);
        if first {
            self.first.notify_waiters();
        }
    }

    /// Entries at `seqs` had a kind this build does not know: they were skipped, which
    /// is logged and counted (`streamgate_hls_revocation_unknown_kinds_total`), never
    /// silent, since a kind the edge cannot apply may be a revocation it misses.
    fn unknown_kinds(&self, seqs: &[i64]) {
        self.lock().unknown_kinds += seqs.len() as u64;
        tracing::warn!(
            "revocation feed entries {seqs:?} have a kind this HLS server does not know \
             (is the platform newer?); skipped them and kept syncing"
        );
    }

    fn failure(&self, error: String) {
        let mut s = self.lock();
        let now = Instant::now();
        let since = *s.failing_since.get_or_insert(now);
        s.failures += 1;
        let failing = now.duration_since(since);
        if failing >= ALERT_AFTER
            && s.last_alert
                .is_none_or(|t| now.duration_since(t) >= ALERT_AFTER)
        {
            s.last_alert = Some(now);
            tracing::error!(
                "ALERT: revocation sync has failed for {:.0} s (last error: {error}); serving with the revocations known at cursor {}",
                failing.as_secs_f64(),
                s.cursor
            );
        } else if s.last_error.is_none() {
            tracing::warn!("revocation sync failed: {error}; retrying");
        }
        s.last_error = Some(error);
    }
}

/// The platform's answer (only what the edge uses).
#[derive(Debug, Deserialize)]
struct Feed {
    entries: Vec<FeedEntry>,
    cursor: i64,
    #[serde(default)]
    more: bool,
}

/// Runs the sync until `shutdown` is cancelled; an error only when it cannot start.
pub async fn run(
    options: SyncOptions,
    set: Arc<RwLock<RevocationSet>>,
    status: Arc<SyncStatus>,
    shutdown: CancellationToken,
) -> Result<(), LinkError> {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()?;
    let endpoint = options.platform_url.join("api/revocations")?;
    let ttl_s = i64::try_from(options.token_ttl.as_secs()).unwrap_or(i64::MAX / 2);
    let mut cursor = 0i64;
    let mut caught_up = false;
    let mut failures = 0u32;
    let mut last_prune = Instant::now();
    loop {
        if shutdown.is_cancelled() {
            return Ok(());
        }
        let wait = if options.push && caught_up {
            PUSH_WAIT
        } else {
            Duration::ZERO
        };
        let asked = Instant::now();
        let request = fetch(&client, &endpoint, &options, cursor, wait);
        let result = tokio::select! {
            r = request => r,
            () = shutdown.cancelled() => return Ok(()),
        };
        let pause = match result {
            Ok(feed) => {
                failures = 0;
                apply_page(&set, &status, &feed, ttl_s);
                cursor = feed.cursor;
                caught_up = !feed.more;
                status.success(cursor);
                if last_prune.elapsed() >= PRUNE_EVERY {
                    set.write()
                        .unwrap_or_else(|p| p.into_inner())
                        .prune(now_unix());
                    last_prune = Instant::now();
                }
                if feed.more {
                    Duration::ZERO
                } else if options.push {
                    // An empty answer to a waiting request that came back at once means
                    // the platform does not hold requests (an older one): do not spin.
                    if !wait.is_zero() && feed.entries.is_empty() && asked.elapsed() < MIN_WAIT {
                        options.poll_interval.min(Duration::from_secs(1))
                    } else {
                        Duration::ZERO
                    }
                } else {
                    options.poll_interval
                }
            }
            Err(error) => {
                status.failure(error);
                failures = failures.saturating_add(1);
                let backoff = Duration::from_millis(500)
                    .saturating_mul(1 << failures.min(8))
                    .min(MAX_BACKOFF);
                if options.push {
                    backoff
                } else {
                    backoff.min(options.poll_interval)
                }
            }
        };
        if !pause.is_zero() {
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = shutdown.cancelled() => return Ok(()),
            }
        }
    }
}

/// Replays one answer's entries in order under one write lock.
fn apply_page(set: &RwLock<RevocationSet>, status: &SyncStatus, feed: &Feed, ttl_s: i64) {
    if feed.entries.is_empty() {
        return;
    }
    let mut unknown = Vec::new();
    {
        let mut set = set.write().unwrap_or_else(|p| p.into_inner());
        for entry in &feed.entries {
            if !set.apply(entry, ttl_s) {
                unknown.push(entry.seq);
            }
        }
    }
    if !unknown.is_empty() {
        status.unknown_kinds(&unknown);
    }
    tracing::debug!(
        "applied {} revocation entries up to cursor {}",
        feed.entries.len(),
        feed.cursor
    );
}

async fn fetch(
    client: &reqwest::Client,
    endpoint: &Url,
    options: &SyncOptions,
    cursor: i64,
    wait: Duration,
) -> Result<Feed, String> {
    let mut url = endpoint.clone();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("cursor", &cursor.to_string());
        if !wait.is_zero() {
            q.append_pair("wait", &wait.as_millis().to_string());
        }
        if let Some(edge) = &options.edge_id {
            q.append_pair("edge", edge);
        }
    }
    let resp = client
        .get(url)
        .header("x-internal-api-key", options.key.expose())
        .timeout(wait + Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| format!("cannot reach {endpoint}: {e}"))?;
    let status = resp.status();
    if !status.is_success() {
        let body = resp.text().await.unwrap_or_default();
        let hint = if status == reqwest::StatusCode::UNAUTHORIZED {
            " (is INTERNAL_API_KEY the same on the platform and this server?)"
        } else {
            ""
        };
        return Err(format!(
            "{endpoint} answered {status}{hint}: {}",
            body.chars().take(200).collect::<String>()
        ));
    }
    resp.json::<Feed>()
        .await
        .map_err(|e| format!("unreadable answer from {endpoint}: {e}"))
}
