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
            finish_after_minutes: 10,
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
        assert_ne!(publish_key(&secret, "a", 12), publish_key(&secret, "a\n1", 2));
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
