//! Prometheus metrics, kept by hand: a few counters and one latency histogram need no
//! registry crate. Rendered in the text exposition format that `promtool check metrics`
//! accepts.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Redemption outcomes, fixed so the label set is bounded.
pub const OUTCOMES: [&str; 8] = [
    "ok",
    "unknown",
    "expired",
    "revoked",
    "event_inactive",
    "in_use",
    "rate_limited",
    "bad_request",
];

/// Routes timed by the latency histogram (anything else is `other`).
pub const ROUTES: [&str; 8] = [
    "validate",
    "refresh",
    "heartbeat",
    "release",
    "status",
    "revocations",
    "health",
    "other",
];

const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The platform's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    redemptions: [AtomicU64; OUTCOMES.len()],
    latency: Mutex<[Histogram; ROUTES.len()]>,
    /// Shared-token reports from HLS edges: [reported only, refused].
    shared_tokens: [AtomicU64; 2],
    /// Redemptions and session ends per event.
    pub events: crate::audience::EventCounters,
}

impl Metrics {
    /// Counts one redemption with `outcome` (one of [`OUTCOMES`]).
    pub fn redemption(&self, outcome: &str) {
        if let Some(i) = OUTCOMES.iter().position(|o| *o == outcome) {
            self.redemptions[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts one edge report of a token used from two addresses at once.
    pub fn shared_token(&self, refused: bool) {
        self.shared_tokens[usize::from(refused)].fetch_add(1, Ordering::Relaxed);
    }

    /// Records how long a request on `route` took.
    pub fn observe(&self, route: &str, took: Duration) {
        let i = ROUTES
            .iter()
            .position(|r| *r == route)
            .unwrap_or(ROUTES.len() - 1);
        let secs = took.as_secs_f64();
        if let Ok(mut all) = self.latency.lock() {
            let h = &mut all[i];
            for (b, bound) in BUCKETS.iter().enumerate() {
                if secs <= *bound {
                    h.counts[b] += 1;
                }
            }
            h.count += 1;
            h.sum += secs;
        }
    }

    /// The text exposition, with the gauges read at scrape time.
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP streamgate_shared_tokens_total Playback tokens an HLS edge saw from two addresses at once.\n",
        );
        out.push_str("# TYPE streamgate_shared_tokens_total counter\n");
        for (i, action) in ["reported", "refused"].iter().enumerate() {
            let n = self.shared_tokens[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "streamgate_shared_tokens_total{{action=\"{action}\"}} {n}"
            );
        }
        out.push_str("# HELP streamgate_redemptions_total Access-code redemptions by outcome.\n");
        out.push_str("# TYPE streamgate_redemptions_total counter\n");
        for (i, outcome) in OUTCOMES.iter().enumerate() {
            let n = self.redemptions[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "streamgate_redemptions_total{{outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP streamgate_http_request_duration_seconds Time to answer API requests.\n",
        );
        out.push_str("# TYPE streamgate_http_request_duration_seconds histogram\n");
        if let Ok(all) = self.latency.lock() {
            for (i, route) in ROUTES.iter().enumerate() {
                let h = &all[i];
                for (b, bound) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "streamgate_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                        h.counts[b]
                    );
                }
                let _ = writeln!(
                    out,
                    "streamgate_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "streamgate_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "streamgate_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count
                );
            }
        }
        for (name, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {value}");
        }
        out
    }
}
