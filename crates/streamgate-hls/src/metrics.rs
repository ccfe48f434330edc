//! Prometheus metrics of the HLS server, kept by hand like the platform's: a few
//! counters with fixed label sets, rendered in the text exposition format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::cache::CacheStats;
use crate::sync::SyncSnapshot;

/// Request outcomes, fixed so the label set is bounded.
pub const OUTCOMES: [&str; 11] = [
    "ok",
    "not_modified",
    "unauthorized",
    "denied_invalid",
    "denied_expired",
    "denied_path",
    "denied_probe",
    "denied_revoked",
    "denied_shared",
    "not_found",
    "upstream_error",
];

/// Counters of the stream route.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: [AtomicU64; OUTCOMES.len()],
    bytes: AtomicU64,
}

impl Metrics {
    /// Counts one request with `outcome` (one of [`OUTCOMES`]).
    pub fn request(&self, outcome: &str) {
        if let Some(i) = OUTCOMES.iter().position(|o| *o == outcome) {
            self.requests[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts body bytes sent from memory or declared by a file response.
    pub fn bytes(&self, n: u64) {
        self.bytes.fetch_add(n, Ordering::Relaxed);
    }

    /// The text exposition; `memo` is the gate's (memoised tokens, memo bytes).
    pub fn render(
        &self,
        revocations: usize,
        memo: (usize, usize),
        sync: &SyncSnapshot,
        cache: Option<CacheStats>,
    ) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP streamgate_hls_requests_total Stream requests by outcome.\n# TYPE streamgate_hls_requests_total counter"
        );
        for (i, outcome) in OUTCOMES.iter().enumerate() {
            let _ = writeln!(
                out,
                "streamgate_hls_requests_total{{outcome=\"{outcome}\"}} {}",
                self.requests[i].load(Ordering::Relaxed)
            );
        }
        let gauge = |out: &mut String, name: &str, help: &str, kind: &str, value: String| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        gauge(
            &mut out,
            "streamgate_hls_response_bytes_total",
            "Body bytes of successful stream responses.",
            "counter",
            self.bytes.load(Ordering::Relaxed).to_string(),
        );
        gauge(
            &mut out,
            "streamgate_hls_revocations",
            "Entries in the revocation sets (codes, events, sessions).",
            "gauge",
            revocations.to_string(),
        );
        gauge(
            &mut out,
            "streamgate_hls_memoised_tokens",
            "Verified tokens remembered by the gate.",
            "gauge",
            memo.0.to_string(),
        );
        gauge(
            &mut out,
            "streamgate_hls_memo_bytes",
            "Bytes the gate's token memo holds (divide by memoised_tokens for bytes per token).",
            "gauge",
            memo.1.to_string(),
        );
        gauge(
            &mut out,
            "streamgate_hls_revocation_cursor",
            "Last revocation-log sequence number applied.",
            "gauge",
            sync.cursor.to_string(),
        );
        gauge(
            &mut out,
            "streamgate_hls_revocation_sync_age_seconds",
            "Seconds since the last successful revocation sync (-1: never).",
            "gauge",
            format!("{:.3}", sync.last_sync_ago.unwrap_or(-1.0)),
        );
        gauge(
            &mut out,
            "streamgate_hls_revocation_sync_failures_total",
            "Failed revocation sync requests.",
            "counter",
            sync.failures.to_string(),
        );
        gauge(
            &mut out,
            "streamgate_hls_revocation_unknown_kinds_total",
            "Revocation feed entries of a kind this server does not know, skipped.",
            "counter",
            sync.unknown_kinds.to_string(),
        );
        if let Some(c) = cache {
            for (name, help, kind, value) in [
                (
                    "streamgate_hls_cache_entries",
                    "Files in the segment cache.",
                    "gauge",
                    c.entries,
                ),
                (
                    "streamgate_hls_cache_bytes",
                    "Bytes in the segment cache.",
                    "gauge",
                    c.bytes,
                ),
                (
                    "streamgate_hls_cache_hits_total",
                    "Segment cache hits.",
                    "counter",
                    c.hits,
                ),
                (
                    "streamgate_hls_cache_misses_total",
                    "Segment cache misses.",
                    "counter",
                    c.misses,
                ),
                (
                    "streamgate_hls_cache_evictions_total",
                    "Entries evicted for size or age.",
                    "counter",
                    c.evictions,
                ),
                (
                    "streamgate_hls_cache_write_errors_total",
                    "Downloads the cache could not store.",
                    "counter",
                    c.write_errors,
                ),
            ] {
                gauge(&mut out, name, help, kind, value.to_string());
            }
        }
        out
    }
}
