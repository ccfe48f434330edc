//! Rules the JSON Schema cannot express: schedules, uniqueness, cross-key requirements,
//! URL schemes, and secrets that were put in the file.

use std::collections::HashMap;

use serde_json::Value;
use url::Url;

use super::{KeyPath, Rule};
use crate::config::{
    Config, EventConfig, HlsConfig, MAX_ACCESS_WINDOW_HOURS, MAX_BATCH_COUNT, PlatformConfig,
    TopologyConfig,
};
use crate::load::Role;

/// A problem named by path, before it is given a location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The key it is about.
    pub path: KeyPath,
    /// Point at the key rather than its value (unknown or misplaced keys).
    pub at_key: bool,
    /// Which check found it.
    pub rule: Rule,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl Finding {
    /// A finding without a hint, pointing at the value.
    pub fn new(path: KeyPath, rule: Rule, message: impl Into<String>) -> Self {
        Self {
            path,
            at_key: false,
            rule,
            message: message.into(),
            hint: None,
        }
    }

    pub(super) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Words that mark a key as holding a secret. Apart from [`NOT_SECRETS`], our schema has
/// no such key, so a match is someone putting a secret where it would be committed to
/// git.
const SECRET_MARKERS: &[&str] = &[
    "secret",
    "password",
    "passwd",
    "api_key",
    "apikey",
    "private_key",
    "credential",
    "token",
];

/// Schema keys that contain a marker word but hold no secret.
const NOT_SECRETS: &[&str] = &[
    "playback_token_ttl_seconds",
    "shared_token",
    "shared_token_window_seconds",
];

/// Finds keys in the file that look like secrets, wherever they are, and says which
/// environment variable to use instead.
pub fn secret_keys_in_file(document: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    walk_for_secrets(document, &KeyPath::root(), &mut findings);
    findings
}

fn walk_for_secrets(value: &Value, at: &KeyPath, findings: &mut Vec<Finding>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let path = at.key(key);
                let lower = key.to_ascii_lowercase();
                if SECRET_MARKERS.iter().any(|m| lower.contains(m))
                    && !NOT_SECRETS.contains(&lower.as_str())
                {
                    let var = if lower.contains("sign") || lower.contains("jwt") {
                        "PLAYBACK_SIGNING_SECRET"
                    } else if lower.contains("password") || lower.contains("passwd") {
                        "ADMIN_PASSWORD_HASH"
                    } else if lower.contains("internal") || lower.contains("api_key") {
                        "INTERNAL_API_KEY"
                    } else {
                        "the matching environment variable"
                    };
                    let mut finding = Finding::new(
                        path,
                        Rule::Secret("secret-in-file"),
                        format!("`{key}` looks like a secret; secrets never live in streamgate.toml"),
                    )
                    .hint(format!(
                        "remove it from the file and set {var} (or {var}_FILE pointing at a file) in the environment"
                    ));
                    finding.at_key = true;
                    findings.push(finding);
                } else {
                    walk_for_secrets(child, &path, findings);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk_for_secrets(item, &at.index(i), findings);
            }
        }
        _ => {}
    }
}

/// What the rules look at: every part of the configuration that could be read. When
/// one event is malformed the others are still checked, so a single run reports
/// everything that can be known.
#[derive(Debug, Default)]
pub struct RuleInput<'a> {
    /// `[platform]`, if it has the right shape.
    pub platform: Option<&'a PlatformConfig>,
    /// `[hls]`, if it has the right shape.
    pub hls: Option<&'a HlsConfig>,
    /// `[topology]`, if it has the right shape.
    pub topology: Option<&'a TopologyConfig>,
    /// The events that have the right shape, with their index in the file.
    pub events: Vec<(usize, &'a EventConfig)>,
}

impl<'a> RuleInput<'a> {
    /// Everything of a configuration that parsed whole.
    pub fn whole(config: &'a Config) -> Self {
        Self {
            platform: Some(&config.platform),
            hls: Some(&config.hls),
            topology: Some(&config.topology),
            events: config.events.iter().enumerate().collect(),
        }
    }
}

/// Checks a configuration. `role` decides the cross-service rules: a platform-only
/// host (topology B) has no stream root, and that is fine there.
pub fn check_rules(input: &RuleInput<'_>, role: Option<Role>) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(platform) = input.platform {
        check_platform(platform, &mut findings);
    }
    if let Some(hls) = input.hls {
        check_hls(hls, input.topology, role, &mut findings);
    }
    if let Some(topology) = input.topology {
        check_topology(topology, &mut findings);
    }
    check_events(&input.events, &mut findings);
    super::ingest_rules::check_ingest(input, role, &mut findings);
    findings
}

fn check_platform(platform: &PlatformConfig, findings: &mut Vec<Finding>) {
    let at = KeyPath::dotted("platform");
    check_http_url(&platform.public_url, &at.key("public_url"), findings);
    check_database_url(&platform.database_url, &at.key("database_url"), findings);
    if platform.session_timeout_seconds <= platform.heartbeat_interval_seconds {
        findings.push(
            Finding::new(
                at.key("session_timeout_seconds"),
                Rule::Semantic("session-timeout"),
                format!(
                    "session_timeout_seconds ({}) must be longer than heartbeat_interval_seconds ({})",
                    platform.session_timeout_seconds, platform.heartbeat_interval_seconds
                ),
            )
            .hint("otherwise every viewer's session goes stale between two heartbeats"),
        );
    }
    for (name, value, min, max) in [
        (
            "session_timeout_seconds",
            platform.session_timeout_seconds,
            10,
            86_400,
        ),
        (
            "heartbeat_interval_seconds",
            platform.heartbeat_interval_seconds,
            5,
            3_600,
        ),
        (
            "playback_token_ttl_seconds",
            platform.playback_token_ttl_seconds,
            60,
            86_400,
        ),
        (
            "max_codes_per_request",
            platform.max_codes_per_request,
            1,
            500,
        ),
        (
            "analytics_retention_days",
            platform.analytics_retention_days,
            1,
            36_500,
        ),
    ] {
        check_range(&at.key(name), u64::from(value), min, max, findings);
    }
    if platform.app_name.trim().is_empty() {
        findings.push(Finding::new(
            at.key("app_name"),
            Rule::Semantic("non-empty"),
            "app_name must not be empty",
        ));
    }
    if let Some(redis) = &platform.redis_url {
        match Url::parse(redis) {
            Ok(u) if u.scheme() == "redis" || u.scheme() == "rediss" => {}
            _ => findings.push(Finding::new(
                at.key("redis_url"),
                Rule::Semantic("url"),
                format!("{redis:?} is not a redis:// or rediss:// URL"),
            )),
        }
    }
}

fn check_hls(
    hls: &HlsConfig,
    topology: Option<&TopologyConfig>,
    role: Option<Role>,
    findings: &mut Vec<Finding>,
) {
    let at = KeyPath::dotted("hls");
    check_http_url(&hls.public_url, &at.key("public_url"), findings);
    if let Some(url) = &hls.platform_url {
        check_http_url(url, &at.key("platform_url"), findings);
    }
    if let Some(url) = &hls.upstream_origin {
        check_http_url(url, &at.key("upstream_origin"), findings);
    }
    let serves_hls = !matches!(role, Some(Role::Platform | Role::Ingest));
    if serves_hls && hls.stream_root.is_none() && hls.upstream_origin.is_none() {
        findings.push(
            Finding::new(
                at.clone(),
                Rule::Semantic("hls-source"),
                "the HLS server needs content: set hls.stream_root (local files), hls.upstream_origin (proxy), or both (hybrid)",
            )
            .hint("or set STREAM_ROOT / UPSTREAM_ORIGIN in the environment"),
        );
    }
    if let Some(origin) = &hls.cors_allowed_origin
        && let Err(why) = parse_origin(origin)
    {
        findings.push(
                Finding::new(at.key("cors_allowed_origin"), Rule::Semantic("cors-origin"), why)
                    .hint("an origin is scheme://host[:port], as the browser sends it, e.g. https://app.example.com"),
            );
    }
    for (name, value) in [
        ("segment_cache_max_size_gb", hls.segment_cache_max_size_gb),
        (
            "segment_cache_max_age_hours",
            hls.segment_cache_max_age_hours,
        ),
    ] {
        if !(value.is_finite() && value > 0.0) {
            findings.push(Finding::new(
                at.key(name),
                Rule::Semantic("positive"),
                format!("{name} must be a positive number, got {value}"),
            ));
        }
    }
    check_range(
        &at.key("revocation_poll_interval_ms"),
        hls.revocation_poll_interval_ms,
        100,
        3_600_000,
        findings,
    );
    if let (Some(edge), Some(topology)) = (&hls.edge_id, topology)
        && !topology.edges.iter().any(|e| &e.id == edge)
    {
        findings.push(
            Finding::new(
                at.key("edge_id"),
                Rule::Semantic("edge-declared"),
                format!("edge `{edge}` is not declared in [[topology.edges]]"),
            )
            .hint("add a [[topology.edges]] entry with this id, or unset hls.edge_id"),
        );
    }
}

fn check_topology(topology: &TopologyConfig, findings: &mut Vec<Finding>) {
    let at = KeyPath::dotted("topology").key("edges");
    let mut seen = HashMap::new();
    for (i, edge) in topology.edges.iter().enumerate() {
        let here = at.index(i);
        check_http_url(&edge.public_url, &here.key("public_url"), findings);
        if let Some(first) = seen.insert(edge.id.clone(), i) {
            findings.push(Finding::new(
                here.key("id"),
                Rule::Semantic("unique-edge-id"),
                format!(
                    "edge id `{}` is already used by topology.edges[{first}]",
                    edge.id
                ),
            ));
        }
    }
}

fn check_events(events: &[(usize, &EventConfig)], findings: &mut Vec<Finding>) {
    let at = KeyPath::dotted("events");
    let mut seen = HashMap::new();
    for &(i, event) in events {
        let here = at.index(i);
        if let Some(first) = seen.insert(event.id.clone(), i) {
            findings.push(
                Finding::new(
                    here.key("id"),
                    Rule::Semantic("unique-event-id"),
                    format!(
                        "event id `{}` is already declared by events[{first}]",
                        event.id
                    ),
                )
                .hint("event ids are the events' identity; give each event its own"),
            );
        }
        if event.starts_at >= event.ends_at {
            findings.push(Finding::new(
                here.key("ends_at"),
                Rule::Semantic("schedule"),
                format!(
                    "ends_at ({}) must be after starts_at ({})",
                    event.ends_at, event.starts_at
                ),
            ));
        }
        if event.title.trim().is_empty() {
            findings.push(Finding::new(
                here.key("title"),
                Rule::Semantic("non-empty"),
                "title must not be empty",
            ));
        }
        check_range(
            &here.key("access_window_hours"),
            u64::from(event.access_window_hours),
            0,
            u64::from(MAX_ACCESS_WINDOW_HOURS),
            findings,
        );
        for (name, url) in [
            ("stream_url", &event.stream_url),
            ("poster_url", &event.poster_url),
        ] {
            if let Some(url) = url {
                check_http_url(url, &here.key(name), findings);
            }
        }
        let mut labels = HashMap::new();
        for (j, batch) in event.codes.iter().enumerate() {
            let batch_at = here.key("codes").index(j);
            if let Some(first) = labels.insert(batch.label.as_str(), j) {
                findings.push(Finding::new(
                    batch_at.key("label"),
                    Rule::Semantic("unique-batch-label"),
                    format!(
                        "batch label `{}` is already used by codes[{first}] of this event",
                        batch.label
                    ),
                ));
            }
            if batch.label.trim().is_empty() {
                findings.push(Finding::new(
                    batch_at.key("label"),
                    Rule::Semantic("non-empty"),
                    "label must not be empty",
                ));
            }
            check_range(
                &batch_at.key("count"),
                u64::from(batch.count),
                1,
                u64::from(MAX_BATCH_COUNT),
                findings,
            );
        }
    }
}

fn check_range(path: &KeyPath, value: u64, min: u64, max: u64, findings: &mut Vec<Finding>) {
    if value < min || value > max {
        findings.push(Finding::new(
            path.clone(),
            Rule::Semantic("range"),
            format!("{value} is out of range; allowed {min}..={max}"),
        ));
    }
}

fn check_http_url(url: &Url, path: &KeyPath, findings: &mut Vec<Finding>) {
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        findings.push(Finding::new(
            path.clone(),
            Rule::Semantic("url"),
            format!("{url} is not an http:// or https:// URL with a host"),
        ));
    }
}

fn check_database_url(url: &str, path: &KeyPath, findings: &mut Vec<Finding>) {
    match crate::load::DatabaseKind::of(url) {
        Some(crate::load::DatabaseKind::Postgres) => {
            if Url::parse(url)
                .ok()
                .and_then(|u| u.password().map(str::to_owned))
                .is_some()
            {
                // Reported with the file's location only when the file set it; see load.rs.
                findings.push(
                    Finding::new(
                        path.clone(),
                        Rule::Secret("secret-in-file"),
                        "database_url holds a password; secrets never live in streamgate.toml",
                    )
                    .hint("set DATABASE_URL (with the password) in the environment instead"),
                );
            }
        }
        Some(crate::load::DatabaseKind::Sqlite) => {}
        None => findings.push(
            Finding::new(
                path.clone(),
                Rule::Semantic("database-url"),
                format!("{url:?} is not a database URL StreamGate can use"),
            )
            .hint("use sqlite://path/to/file.db, file:./dev.db, or postgres://user@host:5432/db"),
        ),
    }
}

/// Checks that `origin` is a bare origin as browsers send it in the `Origin` header.
pub fn parse_origin(origin: &str) -> Result<String, String> {
    let url = Url::parse(origin).map_err(|e| format!("{origin:?} is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("{origin:?} is not an http(s) origin"));
    }
    if url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
    {
        return Err(format!("{origin:?} has more than scheme, host and port"));
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::secret_keys_in_file;

    #[test]
    fn no_key_of_our_own_schema_looks_like_a_secret() {
        // Every key the configuration has, with its default value.
        let document = serde_json::to_value(crate::Config::default()).expect("serialises");
        let findings = secret_keys_in_file(&document);
        assert!(
            findings.is_empty(),
            "schema keys refused as secrets: {:?}",
            findings
                .iter()
                .map(|f| f.message.clone())
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_secret_looking_key_is_refused_wherever_it_is() {
        let document =
            serde_json::json!({"platform": {"jwt_secret": "x"}, "events": [{"api_token": "y"}]});
        assert_eq!(secret_keys_in_file(&document).len(), 2);
    }
}
