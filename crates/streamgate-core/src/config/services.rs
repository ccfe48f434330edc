//! Settings of the two services, `[platform]` and `[hls]`. Defaults are the seed's
//! (deployment guide reference tables) and SPEC section 8's.

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use ipnet::IpNet;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::Slug;

/// What a listen address looks like (`0.0.0.0:3000`, `[::1]:4000`), so that editors and
/// schema validators refuse a port above 65535 or a host name as the binary does.
const SOCKET_ADDR_PATTERN: &str = r"^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}|\[[0-9A-Fa-f:.]+\]):(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}|0)$";

/// `[platform]`: the service that turns tickets into playback tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PlatformConfig {
    /// Address and port the platform listens on.
    #[schemars(pattern(SOCKET_ADDR_PATTERN))]
    pub listen: SocketAddr,
    /// Base URL browsers use to reach the platform; also the default CORS origin of the HLS server.
    pub public_url: Url,
    /// `sqlite://path` (created on first run), the seed's `file:./dev.db`, or
    /// `postgres://...`. Put a PostgreSQL password in `DATABASE_URL`, not here.
    pub database_url: String,
    /// Application name shown in the viewer portal and admin console.
    #[schemars(length(min = 1, max = 80))]
    pub app_name: String,
    /// Seconds without a heartbeat after which a viewer's session is abandoned and the
    /// code may be used on another device.
    #[schemars(range(min = 10, max = 86_400))]
    pub session_timeout_seconds: u32,
    /// How often the player sends a heartbeat; must be shorter than the session timeout.
    #[schemars(range(min = 5, max = 3_600))]
    pub heartbeat_interval_seconds: u32,
    /// Lifetime of a playback token; the player refreshes it before it runs out.
    #[schemars(range(min = 60, max = 86_400))]
    pub playback_token_ttl_seconds: u32,
    /// Largest number of codes one admin API call may generate.
    #[schemars(range(min = 1, max = 500))]
    pub max_codes_per_request: u32,
    /// Days that viewer sessions, and the audience analytics derived from them, are
    /// kept after their last heartbeat; older ones are deleted (hourly).
    #[schemars(range(min = 1, max = 36_500))]
    pub analytics_retention_days: u32,
    /// Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For` is believed;
    /// everyone else's client address is the socket's.
    pub trusted_proxies: Vec<TrustedProxy>,
    /// Redis URL for rate limits shared by several platform instances; unset keeps them in memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis_url: Option<String>,
    /// Request budgets per client.
    pub rate_limits: RateLimits,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 3000)),
            public_url: local_url(3000),
            database_url: "sqlite://data/streamgate.db".to_owned(),
            app_name: "StreamGate".to_owned(),
            session_timeout_seconds: 60,
            heartbeat_interval_seconds: 30,
            playback_token_ttl_seconds: 3600,
            max_codes_per_request: 500,
            analytics_retention_days: 90,
            trusted_proxies: Vec::new(),
            redis_url: None,
            rate_limits: RateLimits::default(),
        }
    }
}

/// `[platform.rate_limits]`: SPEC section 8's budgets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimits {
    /// Failed code redemptions (`POST /api/tokens/validate`: unknown, malformed, expired
    /// or revoked codes) per minute per client address; successful ones do not count, so
    /// a household or an office redeeming several tickets is never told to wait.
    #[schemars(range(min = 1))]
    pub validate_per_minute: u32,
    /// Token refreshes per hour per access code.
    #[schemars(range(min = 1))]
    pub refresh_per_hour: u32,
    /// Admin login attempts per minute per client address.
    #[schemars(range(min = 1))]
    pub admin_login_per_minute: u32,
    /// Event status lookups (`GET /api/events/{id}/status`) per minute per client
    /// address. The pre-event screen polls every 30 s, so 60 leaves room for many tabs
    /// behind one address; a failed lookup also counts against `validate_per_minute`.
    #[schemars(range(min = 1))]
    pub status_per_minute: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            validate_per_minute: 5,
            refresh_per_hour: 12,
            admin_login_per_minute: 10,
            status_per_minute: 60,
        }
    }
}

/// `[hls]`: the media server that checks a token on every request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct HlsConfig {
    /// Address and port the HLS server listens on (`PORT` replaces the port).
    #[schemars(pattern(SOCKET_ADDR_PATTERN))]
    pub listen: SocketAddr,
    /// Base URL of the HLS server as browsers see it; the platform hands it to players.
    pub public_url: Url,
    /// URL the HLS server uses to reach the platform's internal API (revocations).
    /// Defaults to `platform.public_url`; in Docker Compose it is `http://platform:3000`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_url: Option<Url>,
    /// Which `[[topology.edges]]` entry this server is; reported to the platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edge_id: Option<Slug>,
    /// Directory of local HLS content, `<stream_root>/<event id>/...` (local or hybrid mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_root: Option<PathBuf>,
    /// Origin to proxy from, `<upstream_origin>/<event id>/<path>` (proxy or hybrid mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_origin: Option<Url>,
    /// Directory of the on-disk segment cache; defaults to `<stream_root>/cache`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_cache_root: Option<PathBuf>,
    /// Size cap of the segment cache in GB; least recently used segments go first.
    #[schemars(range(min = 0.001))]
    pub segment_cache_max_size_gb: f64,
    /// Age cap of cached segments in hours.
    #[schemars(range(min = 0.001))]
    pub segment_cache_max_age_hours: f64,
    /// How long an upstream request may take before the viewer gets 502 `Stream source
    /// unavailable` (proxy and hybrid modes), in seconds.
    #[schemars(range(min = 1, max = 600))]
    pub upstream_timeout_seconds: u64,
    /// How long an LL-HLS blocking playlist reload (`_HLS_msn`) may be held, by the
    /// origin in proxy mode or waiting for the file in local mode, before it fails
    /// (proxy) or the current playlist is sent (local), in seconds. Separate from
    /// `upstream_timeout_seconds` because LL-HLS allows a hold of three target durations.
    #[schemars(range(min = 1, max = 600))]
    pub blocking_reload_timeout_seconds: u64,
    /// How often to poll the platform for revocations when push is unavailable, in milliseconds.
    #[schemars(range(min = 100, max = 3_600_000))]
    pub revocation_poll_interval_ms: u64,
    /// Keep a request waiting at the platform so a revocation reaches this server in
    /// about a second; `false` polls every `revocation_poll_interval_ms` instead.
    pub revocation_push: bool,
    /// The one browser origin allowed by CORS, e.g. `https://app.example.com`.
    /// Defaults to the origin of `platform.public_url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors_allowed_origin: Option<String>,
    /// How many seconds a playback token's `iat` or `nbf` may lie in the future (clock
    /// skew between platform and edges); a token minted further ahead is refused (403).
    #[schemars(range(max = 600))]
    pub clock_skew_seconds: u32,
    /// What to do when one session's token is used from two client addresses at once
    /// (a shared `?__token=` URL): `report` it to the platform (console, audit log,
    /// metric), or also `refuse` the later address with the usual 403.
    pub shared_token: SharedTokenMode,
    /// How long an address counts as still playing after its last request, in
    /// seconds. A viewer whose address changes is taken over by the new address once
    /// the old one has been quiet this long.
    #[schemars(range(min = 5, max = 3_600))]
    pub shared_token_window_seconds: u32,
    /// Reverse proxies or CDN nodes (addresses or CIDR ranges) in front of this edge
    /// whose `X-Forwarded-For` is believed when telling viewers' addresses apart.
    pub trusted_proxies: Vec<TrustedProxy>,
}

/// `hls.shared_token`: the answer to a playback token seen from two addresses at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SharedTokenMode {
    /// Report it to the platform and keep serving both.
    #[default]
    Report,
    /// Report it and refuse the later address (403 `Access denied`).
    Refuse,
}

impl Default for HlsConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 4000)),
            public_url: local_url(4000),
            platform_url: None,
            edge_id: None,
            stream_root: None,
            upstream_origin: None,
            segment_cache_root: None,
            segment_cache_max_size_gb: 50.0,
            segment_cache_max_age_hours: 72.0,
            upstream_timeout_seconds: 15,
            blocking_reload_timeout_seconds: 30,
            revocation_poll_interval_ms: 30_000,
            revocation_push: true,
            cors_allowed_origin: None,
            clock_skew_seconds: crate::jwt::DEFAULT_LEEWAY_SECONDS,
            shared_token: SharedTokenMode::Report,
            shared_token_window_seconds: 30,
            trusted_proxies: Vec::new(),
        }
    }
}

fn local_url(port: u16) -> Url {
    Url::parse(&format!("http://localhost:{port}/")).expect("a literal localhost URL parses")
}

/// One trusted reverse proxy: a single address (`10.0.0.7`) or a range (`10.0.0.0/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrustedProxy(IpNet);

impl TrustedProxy {
    /// Whether a peer address belongs to this proxy entry.
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.0.contains(&addr)
    }
}

impl TryFrom<String> for TrustedProxy {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        if let Ok(net) = value.parse::<IpNet>() {
            return Ok(Self(net));
        }
        value
            .parse::<IpAddr>()
            .map(|addr| Self(IpNet::from(addr)))
            .map_err(|_| format!("{value:?} is neither an IP address nor a CIDR range"))
    }
}

impl From<TrustedProxy> for String {
    fn from(value: TrustedProxy) -> Self {
        value.to_string()
    }
}

impl fmt::Display for TrustedProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.prefix_len() == self.0.max_prefix_len() {
            write!(f, "{}", self.0.addr())
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl JsonSchema for TrustedProxy {
    fn schema_name() -> Cow<'static, str> {
        "TrustedProxy".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "An IP address (10.0.0.7) or CIDR range (10.0.0.0/8, fd00::/8).",
            "pattern": "^[0-9a-fA-F:.]+(/[0-9]{1,3})?$",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxy_accepts_addresses_and_ranges() {
        let one = TrustedProxy::try_from("10.0.0.7".to_owned()).expect("address");
        assert!(one.contains("10.0.0.7".parse().expect("ip")));
        assert!(!one.contains("10.0.0.8".parse().expect("ip")));
        assert_eq!(one.to_string(), "10.0.0.7");
        let range = TrustedProxy::try_from("10.0.0.0/8".to_owned()).expect("range");
        assert!(range.contains("10.200.0.1".parse().expect("ip")));
        assert!(TrustedProxy::try_from("proxy.local".to_owned()).is_err());
    }
}
