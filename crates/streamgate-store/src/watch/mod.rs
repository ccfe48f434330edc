//! Hot reload: watch `streamgate.toml` and run validate -> plan -> apply on every
//! change. A change that fails any step changes nothing; the error (with file, line,
//! column and rule) and the time of the last good apply are kept in a
//! [`ReloadStatus`] that the platform shows on `/health` and in the admin console, and
//! every refusal is an audit-log entry.
//!
//! A reload is never the way an audience loses access:
//! - the file is read only once it has stopped changing (two equal reads after the
//!   debounce), so a save caught half-written is not applied;
//! - a file that declares nothing (empty, whitespace, comments only) is refused;
//! - a reload never prunes, and the destroy guard refuses to retire events that still
//!   have redeemed codes or viewers (see `reconcile`);
//! - the file is followed through symlinks (ConfigMap `..data` swaps, links into a git
//!   checkout) and checked every `poll_interval` as well, so the running configuration
//!   never silently drifts from the file.
//!
//! Directories are watched, not the file, because editors save by writing a new file
//! and renaming it over the old one, which a watch on the old inode would miss. Events
//! are debounced so that one save (often several file-system events) is one reload.

mod file;
mod status;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};
use streamgate_core::env::Env;
use streamgate_core::load::load_text_with;
use streamgate_core::validate::{KeyPath, Location, Rule, decode_utf8, is_blank};
use streamgate_core::{Config, Diagnostic, Role};
use time::OffsetDateTime;
use tokio::sync::{mpsc, watch};

use crate::reconcile::{self, ApplyOptions};
use crate::{Store, StoreError};
use file::{ContentHash, Read, Route};
pub use status::{
    ReloadError, ReloadStatus, StatusHandle, clear_refusal, record_apply, record_refusal,
};

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

/// How often the file is read even when no event came: the longest a change on a file
/// system without events waits.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(3);

/// How to watch.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// The config file.
    pub path: PathBuf,
    /// The environment captured at start (it does not change while running).
    pub env: Env,
    /// The role being served, for validation.
    pub role: Option<Role>,
    /// Quiet time after the last file event before reading, and the gap between the
    /// two reads that must agree.
    pub debounce: Duration,
    /// How often the file is checked without an event ([`DEFAULT_POLL_INTERVAL`]).
    pub poll_interval: Duration,
}

/// What the watcher knows about the file between checks.
#[derive(Debug, Default)]
struct Seen {
    /// The content of the running configuration, once a reload has read it.
    applied: Option<ContentHash>,
    /// The content last refused (not reported again until it changes).
    refused: Option<ContentHash>,
    /// The read error last reported.
    unreadable: Option<String>,
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
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let route = Arc::new(std::sync::RwLock::new(Route::of(&options.path)));
    let filter = route.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && file::is_change(&event.kind)
            && filter
                .read()
                .is_ok_and(|r| event.paths.iter().any(|p| r.concerns(p)))
        {
            let _ = tx.send(());
        }
    })
    .map_err(|e| StoreError::Io(std::io::Error::other(e)))?;
    let mut watched = Route::default();
    follow(&mut watcher, &mut watched, &route, &options.path);
    if let Ok(mut s) = status.lock() {
        s.watching = true;
    }
    tracing::info!(path = %options.path.display(), "watching the config file for changes");

    // What the caller applied was read before the watch began: the first check always
    // reloads, so an edit that landed in between is not taken for "unchanged" (a reload
    // that finds the running configuration changes and counts nothing).
    let mut seen = Seen::default();
    let mut poll = tokio::time::interval_at(
        tokio::time::Instant::now() + options.poll_interval,
        options.poll_interval,
    );
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            event = rx.recv() => if event.is_none() { break },
            _ = poll.tick() => {}
        }
        // Debounce: wait for a quiet period so a save is seen once, whole.
        loop {
            match tokio::time::timeout(options.debounce, rx.recv()).await {
                Ok(Some(())) => continue,
                Ok(None) => return Ok(()),
                Err(_) => break,
            }
        }
        let settle = options.debounce.max(Duration::from_millis(50));
        let read = tokio::select! {
            () = &mut shutdown => break,
            read = file::stable_read(&options.path, settle, &mut rx) => read,
        };
        let Some(read) = read else { break };
        // A symlink may point elsewhere now (a ConfigMap update, a new checkout).
        follow(&mut watcher, &mut watched, &route, &options.path);
        check(&store, &options, read, &mut seen, &config, &status).await;
    }
    drop(watcher);
    Ok(())
}

/// Watches the directories on the file's route, adding and dropping watches as
/// symlinks change. A directory that cannot be watched (gone for now) is left to the
/// periodic check.
fn follow(
    watcher: &mut notify::RecommendedWatcher,
    watched: &mut Route,
    route: &std::sync::RwLock<Route>,
    path: &std::path::Path,
) {
    let now = Route::of(path);
    if now.dirs == watched.dirs {
        if let Ok(mut r) = route.write() {
            *r = now;
        }
        return;
    }
    for gone in watched.dirs.difference(&now.dirs) {
        let _ = watcher.unwatch(gone);
    }
    let mut ok = std::collections::BTreeSet::new();
    for dir in &now.dirs {
        if watched.dirs.contains(dir) || watcher.watch(dir, RecursiveMode::NonRecursive).is_ok() {
            ok.insert(dir.clone());
        }
    }
    *watched = Route {
        dirs: ok,
        names: now.names.clone(),
    };
    if let Ok(mut r) = route.write() {
        *r = now;
    }
}

/// One check of what the file holds now.
async fn check(
    store: &Store,
    options: &WatchOptions,
    read: Read,
    seen: &mut Seen,
    config: &watch::Sender<Arc<Config>>,
    status: &StatusHandle,
) {
    let shown = options.path.display().to_string();
    let bytes = match read {
        Read::Stable(bytes) => bytes,
        Read::Unreadable(e) => {
            // Deleted, or mid-swap: keep running on the last good configuration.
            if seen.unreadable.as_deref() != Some(e.as_str()) {
                tracing::warn!("config change refused, cannot read {shown}: {e}");
                let message =
                    format!("cannot read {shown}: {e}; keeping the last good configuration");
                record_refusal(store, status, &shown, message, Vec::new()).await;
                seen.unreadable = Some(e);
                seen.refused = None;
            }
            return;
        }
    };
    seen.unreadable = None;
    let digest = file::hash(&bytes);
    if seen.applied == Some(digest) {
        if clear_refusal(status) {
            tracing::info!("{shown} is back to the running configuration");
        }
        return;
    }
    if seen.refused == Some(digest) {
        return;
    }
    let refusal = match decode_utf8(&options.path, &bytes) {
        Ok(text) if is_blank(text) => Some(blank_refusal(options, bytes.len())),
        Ok(text) => reload(store, options, text, config, status).await.err(),
        Err(diagnostic) => Some((
            format!("error: {diagnostic}\n1 problem found"),
            vec![*diagnostic],
        )),
    };
    match refusal {
        None => {
            seen.applied = Some(digest);
            seen.refused = None;
        }
        Some((message, diagnostics)) => {
            tracing::warn!(
                "config change refused, the last good configuration stays in force:
{message}"
            );
            record_refusal(store, status, &shown, message, diagnostics).await;
            seen.refused = Some(digest);
        }
    }
}

fn blank_refusal(options: &WatchOptions, len: usize) -> (String, Vec<Diagnostic>) {
    let diagnostic = Diagnostic {
        location: Location::File {
            path: options.path.clone(),
            line: 1,
            column: 1,
        },
        path: KeyPath::root(),
        message: format!(
            "the file declares nothing ({len} bytes of whitespace and comments): an empty file is never applied by a reload, since it would take every event offline"
        ),
        rule: Rule::Semantic("empty-file"),
        hint: Some(
            "restore the file; to retire events on purpose set `active = false` in their blocks or run `streamgate apply --allow-retire`".to_owned(),
        ),
    };
    (
        format!("error: {diagnostic}\n1 problem found"),
        vec![diagnostic],
    )
}

/// One reload of `text`: `Ok` when it applied (or changed nothing), `Err` with the
/// report and its located problems when refused.
async fn reload(
    store: &Store,
    options: &WatchOptions,
    text: &str,
    config: &watch::Sender<Arc<Config>>,
    status: &StatusHandle,
) -> Result<(), (String, Vec<Diagnostic>)> {
    let loaded = load_text_with(&options.path, Some(text), &options.env, options.role, false)
        .map_err(|report| (report.to_string(), report.diagnostics))?;
    let running = config.borrow().clone();
    let unchanged = loaded.config == *running;
    let (effective, restart_required) = keep_restart_only_settings(&running, loaded.config);
    let report = reconcile::apply(
        store,
        &effective,
        ApplyOptions {
            // A reload never deletes and never retires what people are using: both
            // are for `streamgate apply --prune / --allow-retire`, run by a person.
            prune: false,
            allow_retire: false,
            actor: "config",
            progress: None,
        },
    )
    .await
    .map_err(|e| (e.to_string(), Vec::new()))?;
    for warning in &report.plan.warnings {
        tracing::warn!("config: {warning}");
    }
    if unchanged && report.plan.is_empty() {
        // The file says what is running (the first check after start, a touch).
        clear_refusal(status);
        return Ok(());
    }
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
    Ok(())
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
