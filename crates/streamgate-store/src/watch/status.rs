//! What the platform shows about configuration-as-code: the last good apply, the last
//! refused edit, and whether the file on disk is what is running.

use std::sync::{Arc, Mutex};

use streamgate_core::Diagnostic;
use time::OffsetDateTime;

use crate::Store;
use crate::logs::{self, Audit};

/// Why the last reload did not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadError {
    /// When it failed.
    pub at: OffsetDateTime,
    /// The whole report, as printed.
    pub message: String,
    /// The located problems, when validation failed (empty for database errors).
    pub diagnostics: Vec<Diagnostic>,
}

impl ReloadError {
    /// One line for logs, the audit log and banners: the first located problem, or the
    /// first line of the message.
    pub fn summary(&self) -> String {
        let line = match self.diagnostics.first() {
            Some(d) => format!("{}: {}", d.location, d.message),
            None => self
                .message
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.ends_with(':'))
                .unwrap_or(self.message.as_str())
                .to_owned(),
        };
        let mut line: String = line.chars().take(300).collect();
        if self.diagnostics.len() > 1 {
            line.push_str(&format!(" (and {} more)", self.diagnostics.len() - 1));
        }
        line
    }
}

/// What the platform shows about configuration-as-code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadStatus {
    /// Successful applies since start (the start-up apply included).
    pub applies: u64,
    /// Edits refused (invalid file, plan errors, database errors).
    pub rejected: u64,
    /// When the configuration last applied.
    pub last_applied_at: Option<OffsetDateTime>,
    /// The last refusal, kept while the file differs from the running configuration:
    /// cleared by the next good apply, or when the file is back to what is running.
    pub last_error: Option<ReloadError>,
    /// Settings edited in the file that keep their old value until a restart.
    pub restart_required: Vec<String>,
    /// The watcher's file-system watches are in place: from now on an edit is seen when
    /// it is saved, where before only the periodic check would find it.
    pub watching: bool,
}

impl ReloadStatus {
    /// Whether the running configuration differs from the file because an edit was
    /// refused: `/health` says `degraded` and the console shows a banner.
    pub fn is_degraded(&self) -> bool {
        self.last_error.is_some()
    }
}

/// A shared, cheaply cloned handle on the reload status.
pub type StatusHandle = Arc<Mutex<ReloadStatus>>;

/// Records a successful apply done outside the watcher (the one at start).
pub fn record_apply(status: &StatusHandle) {
    if let Ok(mut s) = status.lock() {
        s.applies += 1;
        s.last_applied_at = Some(OffsetDateTime::now_utc());
        s.last_error = None;
    }
}

/// Records a refused edit: kept on the status (health, console) and written to the
/// audit log, so a refusal is never only a log line. An audit write that fails (the
/// database is down, which may be why the edit was refused) is logged and dropped.
pub async fn record_refusal(
    store: &Store,
    status: &StatusHandle,
    file: &str,
    message: String,
    diagnostics: Vec<Diagnostic>,
) {
    let error = ReloadError {
        at: OffsetDateTime::now_utc(),
        message,
        diagnostics,
    };
    let summary = error.summary();
    if let Ok(mut s) = status.lock() {
        s.rejected += 1;
        s.last_error = Some(error);
    }
    let entry = Audit {
        actor: "config",
        action: "config.refused",
        target: Some(file),
        outcome: "refused",
        detail: Some(&summary),
    };
    if let Err(e) = logs::audit(store, entry).await {
        tracing::warn!("could not write the refused config edit to the audit log: {e}");
    }
}

/// Clears a refusal because the file is again what is running (a refused edit undone,
/// a deleted file restored).
pub fn clear_refusal(status: &StatusHandle) -> bool {
    match status.lock() {
        Ok(mut s) if s.last_error.is_some() => {
            s.last_error = None;
            true
        }
        _ => false,
    }
}
