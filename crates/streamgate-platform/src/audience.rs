//! Audience figures outside the admin API: Prometheus series labelled by event, the
//! sealing of final minutes, and the hourly retention pruning of old sessions
//! (`platform.analytics_retention_days`).
//!
//! The per-event gauge is read from the database at scrape time, so every instance
//! reports the same viewers. The counters are this process's own (Prometheus sums
//! them over instances and handles restarts). Labels are bounded: event ids come from
//! the database, never from a request, and at most [`MAX_EVENT_LABELS`] distinct
//! events get their own series; the rest are counted under `event="_other"`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use streamgate_core::EventId;
use streamgate_core::tasks::CancellationToken;
use streamgate_store::analytics;

use crate::state::AppState;

/// Most distinct events with their own series.
pub const MAX_EVENT_LABELS: usize = 100;

/// The label of every event past [`MAX_EVENT_LABELS`].
pub const OTHER: &str = "_other";

/// Why sessions end, as counted (a fixed set: bounded labels).
pub const END_REASONS: [&str; 3] = ["released", "timeout", "forced"];

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    redemptions: u64,
    ends: [u64; END_REASONS.len()],
}

/// Redemptions and session ends per event, in this process.
#[derive(Debug, Default)]
pub struct EventCounters {
    by_event: Mutex<BTreeMap<String, Counts>>,
}

impl EventCounters {
    fn bump(&self, event_id: &str, f: impl FnOnce(&mut Counts)) {
        let Ok(mut all) = self.by_event.lock() else {
            return;
        };
        let key = if all.contains_key(event_id) || all.len() < MAX_EVENT_LABELS {
            event_id
        } else {
            OTHER
        };
        f(all.entry(key.to_owned()).or_default());
    }

    /// Counts a code of `event_id` that started a session.
    pub fn redemption(&self, event_id: &str) {
        self.bump(event_id, |c| c.redemptions += 1);
    }

    /// Counts a session of `event_id` that ended for `reason` (one of [`END_REASONS`]).
    pub fn session_end(&self, event_id: &str, reason: &str) {
        if let Some(i) = END_REASONS.iter().position(|r| *r == reason) {
            self.bump(event_id, |c| c.ends[i] += 1);
        }
    }

    /// The counters and the `viewers` gauge (event, live sessions) in the text format.
    pub fn render(&self, out: &mut String, viewers: &[(EventId, i64)]) {
        out.push_str("# HELP streamgate_event_viewers Viewers with a live session, per event (read from the database).\n");
        out.push_str("# TYPE streamgate_event_viewers gauge\n");
        for (event, n) in bounded(viewers) {
            let _ = writeln!(
                out,
                "streamgate_event_viewers{{event=\"{}\"}} {n}",
                escape(&event)
            );
        }
        let all = self.by_event.lock().map(|m| m.clone()).unwrap_or_default();
        out.push_str("# HELP streamgate_event_redemptions_total Codes that started a viewer session, per event.\n");
        out.push_str("# TYPE streamgate_event_redemptions_total counter\n");
        for (event, c) in &all {
            let _ = writeln!(
                out,
                "streamgate_event_redemptions_total{{event=\"{}\"}} {}",
                escape(event),
                c.redemptions
            );
        }
        out.push_str(
            "# HELP streamgate_event_session_ends_total Viewer sessions ended, per event and reason.\n",
        );
        out.push_str("# TYPE streamgate_event_session_ends_total counter\n");
        for (event, c) in &all {
            for (i, reason) in END_REASONS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "streamgate_event_session_ends_total{{event=\"{}\",reason=\"{reason}\"}} {}",
                    escape(event),
                    c.ends[i]
                );
            }
        }
    }
}

/// The first [`MAX_EVENT_LABELS`] events (most watched first, as the store orders
/// them) and the rest summed under [`OTHER`].
fn bounded(viewers: &[(EventId, i64)]) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = viewers
        .iter()
        .take(MAX_EVENT_LABELS)
        .map(|(event, n)| (event.to_string(), *n))
        .collect();
    let rest: i64 = viewers.iter().skip(MAX_EVENT_LABELS).map(|(_, n)| n).sum();
    if viewers.len() > MAX_EVENT_LABELS {
        out.push((OTHER.to_owned(), rest));
    }
    out
}

/// A label value as the exposition format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// How often old sessions are pruned.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// How often final minutes are sealed (the first time a minute after start).
pub const SEAL_EVERY: Duration = Duration::from_secs(60);

/// Prunes sessions older than the retention at once and every [`PRUNE_EVERY`], and
/// seals final minutes every [`SEAL_EVERY`], until `stop` is cancelled. Every instance
/// runs it: pruning is idempotent and sealing guarded (see
/// `streamgate_store::analytics::seal`).
pub async fn maintain(state: Arc<AppState>, stop: CancellationToken) {
    let mut pruned_at: Option<Instant> = None;
    loop {
        if pruned_at.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            prune(&state).await;
            pruned_at = Some(Instant::now());
        }
        tokio::select! {
            () = tokio::time::sleep(SEAL_EVERY) => {}
            () = stop.cancelled() => return,
        }
        let clock = analytics::Clock {
            now: streamgate_store::now_ms(),
            timeout_ms: i64::from(state.config().platform.session_timeout_seconds) * 1000,
        };
        if let Err(e) = analytics::seal(&state.store, clock).await {
            tracing::warn!("analytics: sealing minutes failed: {e}");
        }
    }
}

async fn prune(state: &AppState) {
    let days = i64::from(state.config().platform.analytics_retention_days);
    let before = streamgate_store::now_ms() - days * 86_400_000;
    match analytics::prune(&state.store, before).await {
        Ok(0) => {}
        Ok(n) => tracing::info!("analytics retention: deleted {n} sessions older than {days} days"),
        Err(e) => tracing::warn!("analytics retention: pruning failed: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_stay_bounded() {
        let counters = EventCounters::default();
        for i in 0..MAX_EVENT_LABELS + 5 {
            counters.redemption(&format!("event-{i}"));
        }
        counters.session_end("event-0", "released");
        counters.session_end("event-0", "not-a-reason");
        let mut out = String::new();
        counters.render(&mut out, &[]);
        let series = out
            .lines()
            .filter(|l| l.starts_with("streamgate_event_redemptions_total{"))
            .count();
        assert_eq!(series, MAX_EVENT_LABELS + 1);
        assert!(out.contains("streamgate_event_redemptions_total{event=\"_other\"} 5"));
        assert!(out.contains(
            "streamgate_event_session_ends_total{event=\"event-0\",reason=\"released\"} 1"
        ));
    }

    #[test]
    fn the_viewer_gauge_folds_the_tail_into_other() {
        let viewers: Vec<(EventId, i64)> = (0..MAX_EVENT_LABELS + 2)
            .map(|i| (EventId::from(format!("e{i}")), 1))
            .collect();
        let folded = bounded(&viewers);
        assert_eq!(folded.len(), MAX_EVENT_LABELS + 1);
        assert_eq!(folded.last(), Some(&(OTHER.to_owned(), 2)));
        assert_eq!(escape("a\"b\\c"), "a\\\"b\\\\c");
    }
}
