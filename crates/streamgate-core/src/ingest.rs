//! Publish keys and publish URLs of live ingest. A key is never stored: it is the
//! HMAC of the event id and the event's `key_version` under `INGEST_SECRET`, so every
//! process holding the secret (the ingest that checks it, the platform's console and
//! `streamgate ingest-url` that show it) computes the same key without a database,
//! and raising `key_version` rotates one event's key alone.

use std::fmt::Write as _;

use crate::Secret;
use crate::config::{EventIngestConfig, IngestProtocol};
use crate::jwt::verify::HmacKey;

/// The key an encoder must present to publish `event` at `version`: 32 hex digits
/// (128 bits), which SRT takes as a passphrase (10 to 79 characters) and RTMP as a
/// stream key.
pub fn publish_key(secret: &Secret, event: &str, version: u32) -> Secret {
    let mac = HmacKey::new(secret.expose().as_bytes());
    let message = format!("streamgate-ingest-key\n{event}\n{version}");
    let tag = mac.tag(message.as_bytes());
    let mut hex = String::with_capacity(32);
    for byte in &tag[..16] {
        let _ = write!(hex, "{byte:02x}");
    }
    Secret::new(hex)
}

/// The URL an encoder publishes to, key included: what OBS's "Server" field (SRT) or
/// "Server" plus "Stream Key" (RTMP, split at the last `/`) takes.
pub fn publish_url(host: &str, ingest: &EventIngestConfig, key: &Secret) -> String {
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    match ingest.protocol {
        IngestProtocol::Srt => format!(
            "srt://{host}:{}?passphrase={}&pbkeylen=16",
            ingest.port,
            key.expose()
        ),
        IngestProtocol::Rtmp => format!("rtmp://{host}:{}/live/{}", ingest.port, key.expose()),
    }
}

/// The host in publish URLs: `[ingest] public_host`, else the host of the HLS server's
/// public URL (in topologies A and B the ingest runs where the HLS server does).
pub fn public_host(config: &crate::Config) -> String {
    config
        .ingest
        .public_host
        .clone()
        .or_else(|| config.hls.public_url.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Whether a process of `role` runs the events' ingest: some event declares
/// `[events.ingest]` and the process writes the stream root (`up`, `ingest`, or an HLS
/// server with a stream root; an edge that only proxies does not).
pub fn runs_here(config: &crate::Config, role: crate::Role) -> bool {
    use crate::Role;
    config.events.iter().any(|e| e.ingest.is_some())
        && match role {
            Role::Up | Role::Ingest => true,
            Role::Hls => config.hls.stream_root.is_some(),
            Role::Platform => false,
        }
}

/// Where an event's ingest is, as `/health`, `/metrics`, the console and the event
/// status read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", oai(rename_all = "lowercase"))]
pub enum IngestState {
    /// Listening; no encoder connected (before the event, or between reconnects).
    Waiting,
    /// An encoder is connected and segments are being written.
    Publishing,
    /// The stream was closed (`#EXT-X-ENDLIST`): what was published is the recording.
    Finished,
    /// ffmpeg cannot start or listen (port taken, ffmpeg missing); see `lastError`.
    Failed,
}

impl IngestState {
    /// The spelling of `/health`, metrics labels and the probe header.
    pub fn as_str(self) -> &'static str {
        match self {
            IngestState::Waiting => "waiting",
            IngestState::Publishing => "publishing",
            IngestState::Finished => "finished",
            IngestState::Failed => "failed",
        }
    }

    /// Reads [`IngestState::as_str`]'s spelling.
    pub fn parse(text: &str) -> Option<Self> {
        [
            IngestState::Waiting,
            IngestState::Publishing,
            IngestState::Finished,
            IngestState::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// The response header with which the HLS server tells the platform's probe what the
/// event's ingest is doing (only on probe requests, only where the ingest runs).
pub const INGEST_STATE_HEADER: &str = "x-streamgate-ingest";

/// One event's ingest health, from ffmpeg's `-progress` output and the supervisor.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", oai(rename_all = "camelCase"))]
pub struct IngestHealth {
    /// The event.
    pub event_id: String,
    /// `srt` or `rtmp`.
    pub protocol: String,
    /// The port encoders connect to.
    pub port: u16,
    // Waiting, publishing, finished or failed. (No doc comment: poem-openapi would wrap
    // the enum's $ref in allOf, which generated clients refuse.)
    pub state: IngestState,
    /// When the current encoder connected (RFC 3339), while publishing.
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub publishing_since: Option<String>,
    /// Seconds the current encoder has been connected.
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub uptime_seconds: Option<u64>,
    /// What the encoder sends, in kbit/s (RTMP: counted at the key gate; SRT: not
    /// known to ffmpeg's progress output, so absent).
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub input_kbps: Option<f64>,
    /// What the ladder writes, in kbit/s over the last seconds, all renditions.
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub output_kbps: Option<f64>,
    /// Frames per second ffmpeg is producing.
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub fps: Option<f64>,
    /// Frames written since the encoder connected.
    pub frames: u64,
    /// Frames ffmpeg dropped (it could not keep up, or the input jumped).
    pub dropped_frames: u64,
    /// Frames ffmpeg duplicated (the input arrived too slowly).
    pub duplicated_frames: u64,
    /// Encoding speed relative to real time (below 1.0 means falling behind).
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub speed: Option<f64>,
    /// Times ffmpeg was started again after it exited.
    pub restarts: u64,
    /// Publishers refused for a wrong key, or because another was connected.
    pub refused_publishers: u64,
    /// The last error ffmpeg reported (keys removed).
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub last_error: Option<String>,
    /// Whether every segment is kept as the recording.
    pub record: bool,
    /// The rendition folders, highest first (`source` with passthrough).
    pub renditions: Vec<String>,
}

/// `ok`, or `degraded` when an event's ingest cannot listen: the organiser's encoder
/// would be refused, which the operator must act on.
pub fn overall_status(health: &[IngestHealth]) -> &'static str {
    if health.iter().any(|h| h.state == IngestState::Failed) {
        "degraded"
    } else {
        "ok"
    }
}

/// The ingest's Prometheus metrics, per event (the HLS server's `/metrics` and the
/// ingest role's include them).
pub fn render_metrics(health: &[IngestHealth]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let gauge = |out: &mut String,
                 name: &str,
                 kind: &str,
                 help: &str,
                 value: &dyn Fn(&IngestHealth) -> Option<f64>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for h in health {
            if let Some(v) = value(h) {
                let _ = writeln!(out, "{name}{{event=\"{}\"}} {v}", h.event_id);
            }
        }
    };
    gauge(
        &mut out,
        "streamgate_ingest_publishing",
        "gauge",
        "1 while an encoder is connected to the event's ingest.",
        &|h| Some(f64::from(u8::from(h.state == IngestState::Publishing))),
    );
    gauge(
        &mut out,
        "streamgate_ingest_failed",
        "gauge",
        "1 while the event's ingest cannot start or listen.",
        &|h| Some(f64::from(u8::from(h.state == IngestState::Failed))),
    );
    gauge(
        &mut out,
        "streamgate_ingest_finished",
        "gauge",
        "1 once the event's stream was closed as the recording.",
        &|h| Some(f64::from(u8::from(h.state == IngestState::Finished))),
    );
    gauge(
        &mut out,
        "streamgate_ingest_uptime_seconds",
        "gauge",
        "Seconds the current encoder has been connected.",
        &|h| h.uptime_seconds.map(|s| s as f64),
    );
    gauge(
        &mut out,
        "streamgate_ingest_input_kbps",
        "gauge",
        "What the encoder sends, kbit/s (RTMP).",
        &|h| h.input_kbps,
    );
    gauge(
        &mut out,
        "streamgate_ingest_output_kbps",
        "gauge",
        "What the ladder writes, kbit/s, all renditions.",
        &|h| h.output_kbps,
    );
    gauge(
        &mut out,
        "streamgate_ingest_fps",
        "gauge",
        "Frames per second ffmpeg produces.",
        &|h| h.fps,
    );
    gauge(
        &mut out,
        "streamgate_ingest_speed",
        "gauge",
        "Encoding speed relative to real time.",
        &|h| h.speed,
    );
    gauge(
        &mut out,
        "streamgate_ingest_dropped_frames",
        "gauge",
        "Frames dropped since the encoder connected.",
        &|h| Some(h.dropped_frames as f64),
    );
    gauge(
        &mut out,
        "streamgate_ingest_restarts_total",
        "counter",
        "Times the event's ffmpeg was started again.",
        &|h| Some(h.restarts as f64),
    );
    gauge(
        &mut out,
        "streamgate_ingest_refused_publishers_total",
        "counter",
        "Publishers refused (wrong key, or another connected).",
        &|h| Some(h.refused_publishers as f64),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ingest(protocol: IngestProtocol) -> EventIngestConfig {
        EventIngestConfig {
            protocol,
            port: 9000,
            renditions: crate::config::default_ladder(),
            passthrough: false,
            segment_seconds: 2,
            record: true,
            finish_after_seconds: 600,
            key_version: 1,
        }
    }

    #[test]
    fn keys_differ_by_event_version_and_secret_and_are_stable() {
        let secret = Secret::new("ingest-secret-0123456789-abcdefghij");
        let a = publish_key(&secret, "launch", 1);
        assert_eq!(a.expose().len(), 32);
        assert!(a.expose().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(a, publish_key(&secret, "launch", 1));
        assert_ne!(a, publish_key(&secret, "launch", 2));
        assert_ne!(a, publish_key(&secret, "launch-2", 1));
        let other = Secret::new("another-secret-0123456789-abcdefghij");
        assert_ne!(a, publish_key(&other, "launch", 1));
        // "a\n1" + "2" must not collide with "a\n12": the version ends the message.
        assert_ne!(
            publish_key(&secret, "a", 12),
            publish_key(&secret, "a\n1", 2)
        );
    }

    #[test]
    fn urls_carry_the_key_where_each_protocol_expects_it() {
        let key = Secret::new("00112233445566778899aabbccddeeff");
        assert_eq!(
            publish_url("live.example.com", &ingest(IngestProtocol::Srt), &key),
            "srt://live.example.com:9000?passphrase=00112233445566778899aabbccddeeff&pbkeylen=16"
        );
        assert_eq!(
            publish_url("::1", &ingest(IngestProtocol::Rtmp), &key),
            "rtmp://[::1]:9000/live/00112233445566778899aabbccddeeff"
        );
    }
}
