//! Hot reload: watch `streamgate.toml` and run validate -> plan -> apply on every
//! change. A change that fails any step changes nothing; the error (with file, line,
//! column and rule) and the time of the last good apply are kept in a
//! [`ReloadStatus`] that the platform shows on `/health` and in the admin console.
//!
//! The directory is watched, not the file, because editors save by writing a new file
//! and renaming it over the old one, which a watch on the old inode would miss. Events
//! are debounced so that one save (often several file-system events) is one reload.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};
use streamgate_core::env::Env;
use streamgate_core::load::load_text_with;
use streamgate_core::{Config, Diagnostic, Role};
use time::OffsetDateTime;
use tokio::sync::{mpsc, watch};

use crate::reconcile::{self, ApplyOptions};
use crate::{Store, StoreError};

/// Settings that a running process cannot change; an edit to one is reported and the
/// old value kept until a restart.
const RESTART_REQUIRED: &[&str] = &[
    "platform.listen",
    "platform.database_url",
    "platform.redis_url",
    "hls.listen",
    "hls.stream_root",
    "hls.segment_cache_root",
];

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

/// What the platform shows about configuration-as-code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadStatus {
    /// Successful applies since start (the start-up apply included).
    pub applies: u64,
    /// Edits refused (invalid file, plan errors, database errors).
    pub rejected: u64,
    /// When the configuration last applied.
    pub last_applied_at: Option<OffsetDateTime>,
    /// The last refusal; cleared by the next good apply.
    pub last_error: Option<ReloadError>,
    /// Settings edited in the file that keep their old value until a restart.
    pub restart_required: Vec<String>,
}

/// A shared, cheaply cloned handle on the reload status.
pub type StatusHandle = Arc<Mutex<ReloadStatus>>;

/// How to watch.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// The config file.
    pub path: PathBuf,
    /// The environment captured at start (it does not change while running).
    pub env: Env,
    /// The role being served, for validation.
    pub role: Option<Role>,
    /// Quiet time after the last file event before reloading.
    pub debounce: Duration,
    /// Apply with `--prune`.
    pub prune: bool,
}

/// Records a successful apply done outside the watcher (the one at start).
pub fn record_apply(status: &StatusHandle) {
    if let Ok(mut s) = status.lock() {
        s.applies += 1;
        s.last_applied_at = Some(OffsetDateTime::now_utc());
        s.last_error = None;
    }
}

/// Watches until `shutdown` resolves. `config` holds the running configuration and
/// receives every successfully applied one.
pub async fn run(
    store: Store,
    options: WatchOptions,
    config: watch::Sender<Arc<Config>>,
    status: StatusHandle,
    shutdown: impl Future<Output = ()>,
) -> Result<(), StoreError> {
    let dir = match options.path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = options.path.file_name().map(ToOwned::to_owned);
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && event.paths.iter().any(|p| p.file_name() == name.as_deref())
        {
            let _ = tx.send(());
        }
    })
    .map_err(|e| StoreError::Io(std::io::Error::other(e)))?;
    watcher
        .watch(&dir, RecursiveMode::NonRecursive)
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))?;
    tracing::info!(path = %options.path.display(), "watching the config file for changes");

    // What the caller applied was read before the watch began: an edit that lands in
    // between must not be taken for "unchanged", so the first event always reloads
    // (a reload that finds nothing to do changes nothing).
    let mut last_text: Option<String> = None;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            event = rx.recv() => if event.is_none() { break },
        }
        // Debounce: wait for a quiet period so a save is seen once, whole.
        loop {
            match tokio::time::timeout(options.debounce, rx.recv()).await {
                Ok(Some(())) => continue,
                Ok(None) => return Ok(()),
                Err(_) => break,
            }
        }
        let text = match std::fs::read_to_string(&options.path) {
            Ok(text) => text,
            Err(e) => {
                // Mid-rename, or deleted: keep running on the last good configuration.
                tracing::warn!(
                    "config change refused, cannot read {}: {e}",
                    options.path.display()
                );
                reject(
                    &status,
                    format!(
                        "cannot read {}: {e}; keeping the last good configuration",
                        options.path.display()
                    ),
                    Vec::new(),
                );
                continue;
            }
        };
        if last_text.as_deref() == Some(text.as_str()) {
            continue;
        }
        last_text = Some(text.clone());
        reload(&store, &options, &text, &config, &status).await;
    }
    drop(watcher);
    Ok(())
}

/// One reload of `text`; never fails the watcher.
async fn reload(
    store: &Store,
    options: &WatchOptions,
    text: &str,
    config: &watch::Sender<Arc<Config>>,
    status: &StatusHandle,
) {
    let loaded = match load_text_with(&options.path, Some(text), &options.env, options.role, false)
    {
        Ok(loaded) => loaded,
        Err(report) => {
            tracing::warn!(
                "config change refused, the last good configuration stays in force:\n{report}"
            );
            reject(status, report.to_string(), report.diagnostics);
            return;
        }
    };
    let running = config.borrow().clone();
    let (effective, restart_required) = keep_restart_only_settings(&running, loaded.config);
    let result = reconcile::apply(
        store,
        &effective,
        ApplyOptions {
            prune: options.prune,
            actor: "config",
            progress: None,
        },
    )
    .await;
    match result {
        Ok(report) => {
            tracing::info!(
                "config change applied: {}",
                report.plan.to_string().lines().last().unwrap_or_default()
            );
            for note in &restart_required {
                tracing::warn!("{note}");
            }
            if let Ok(mut s) = status.lock() {
                s.applies += 1;
                s.last_applied_at = Some(OffsetDateTime::now_utc());
                s.last_error = None;
                s.restart_required = restart_required;
            }
            config.send_replace(Arc::new(effective));
        }
        Err(e) => {
            tracing::warn!(
                "config change refused, the last good configuration stays in force: {e}"
            );
            reject(status, e.to_string(), Vec::new());
        }
    }
}

fn reject(status: &StatusHandle, message: String, diagnostics: Vec<Diagnostic>) {
    if let Ok(mut s) = status.lock() {
        s.rejected += 1;
        s.last_error = Some(ReloadError {
            at: OffsetDateTime::now_utc(),
            message,
            diagnostics,
        });
    }
}

/// Copies the settings that cannot change live from the running configuration into the
/// new one, and says which ones the file tried to change.
fn keep_restart_only_settings(running: &Config, mut new: Config) -> (Config, Vec<String>) {
    let mut notes = Vec::new();
    let (Ok(old_json), Ok(new_json)) = (serde_json::to_value(running), serde_json::to_value(&new))
    else {
        return (new, notes);
    };
    for key in RESTART_REQUIRED {
        let pointer = format!("/{}", key.replace('.', "/"));
        let (a, b) = (old_json.pointer(&pointer), new_json.pointer(&pointer));
        if a != b {
            let show = |v: Option<&serde_json::Value>| {
                v.map_or_else(|| "unset".to_owned(), ToString::to_string)
            };
            notes.push(format!(
                "{key}: restart required (running with {}, the file now says {})",
                show(a),
                show(b)
            ));
        }
    }
    new.platform.listen = running.platform.listen;
    new.platform
        .database_url
        .clone_from(&running.platform.database_url);
    new.platform
        .redis_url
        .clone_from(&running.platform.redis_url);
    new.hls.listen = running.hls.listen;
    new.hls.stream_root.clone_from(&running.hls.stream_root);
    new.hls
        .segment_cache_root
        .clone_from(&running.hls.segment_cache_root);
    (new, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_only_settings_keep_their_running_value() {
        let running = Config::default();
        let mut edited = Config::default();
        edited.platform.listen = "127.0.0.1:9999".parse().expect("addr");
        edited.platform.app_name = "Renamed".to_owned();
        let (effective, notes) = keep_restart_only_settings(&running, edited);
        assert_eq!(effective.platform.listen, running.platform.listen);
        assert_eq!(
            effective.platform.app_name, "Renamed",
            "live settings do change"
        );
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].starts_with("platform.listen: restart required"),
            "{notes:?}"
        );
    }
}
