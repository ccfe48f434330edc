//! What every request of one HLS server shares. Built once by
//! [`crate::HlsServer::build`]; nothing in it touches a database.

use std::sync::Arc;
use std::time::Instant;

use streamgate_core::Secret;
use streamgate_core::config::TrustedProxy;

use crate::files::FileCache;
use crate::gate::Gate;
use crate::metrics::Metrics;
use crate::shared::SharedTokens;
use crate::source::Source;
use crate::sync::SyncStatus;

/// Shared state of one HLS server.
#[derive(Debug)]
pub struct HlsState {
    /// Token checks and the revocation sets.
    pub gate: Gate,
    /// Which addresses use each session's token (shared-token detection).
    pub shared: SharedTokens,
    /// `hls.trusted_proxies`: whose `X-Forwarded-For` names the viewer.
    pub trusted_proxies: Vec<TrustedProxy>,
    /// Local files, upstream and the segment cache.
    pub source: Source,
    /// Recently served files, in memory.
    pub files: FileCache,
    /// The revocation sync's progress.
    pub sync: Arc<SyncStatus>,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// The key the platform and the operator present on internal calls.
    pub internal_key: Secret,
    /// `hls.edge_id`.
    pub edge_id: Option<String>,
    /// Whether revocations are pushed (waiting requests) rather than polled.
    pub push: bool,
    /// Process start, for uptime.
    pub started: Instant,
    /// The ingest running beside this server, if any.
    pub ingest:
        Option<tokio::sync::watch::Receiver<Arc<Vec<streamgate_core::ingest::IngestHealth>>>>,
}

impl HlsState {
    /// The ingest health of every event whose stream this process takes.
    pub fn ingest_health(&self) -> Vec<streamgate_core::ingest::IngestHealth> {
        self.ingest
            .as_ref()
            .map(|rx| rx.borrow().as_ref().clone())
            .unwrap_or_default()
    }

    /// What the event's ingest is doing, when it runs here.
    pub fn ingest_state(&self, event: &str) -> Option<streamgate_core::ingest::IngestState> {
        let rx = self.ingest.as_ref()?;
        let health = rx.borrow();
        health.iter().find(|h| h.event_id == event).map(|h| h.state)
    }
}
