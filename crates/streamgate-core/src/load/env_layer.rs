//! The environment layers: `STREAMGATE_<SECTION>__<KEY>` variables (typed by the
//! defaults) and the seed's variables (`PORT`, `DATABASE_URL`, ...), each remembered by
//! the key it sets so that a problem names the variable, not the key.

use std::collections::HashMap;
use std::net::SocketAddr;

use figment::Figment;
use figment::value::{Dict, Value as FigValue};
use serde_json::Value;

use super::{Layer, type_findings};
use crate::Config;
use crate::env::{CONFIG_VAR, DEV_ASSETS_VAR, Env, PREFIX, SEED_VARS, SeedKind};
use crate::secrets::SecretKind;
use crate::validate::{Diagnostic, Finding, KeyPath, Location, Report, Rule};

/// Names of secret variables, which never become config keys.
fn is_secret_var(name: &str) -> bool {
    let bare = name.strip_prefix(PREFIX).unwrap_or(name);
    let bare = bare.strip_suffix("_FILE").unwrap_or(bare);
    SecretKind::ALL.iter().any(|k| k.var() == bare)
}

/// The top-level tables of the configuration (`platform`, `hls`, ...), as the
/// defaults serialise them.
fn sections() -> Vec<String> {
    match serde_json::to_value(Config::default()) {
        Ok(Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

fn is_section(rest: &str) -> bool {
    sections().iter().any(|s| s.eq_ignore_ascii_case(rest))
}

/// The section `rest` starts with followed by a single `_` (`PLATFORM_LISTEN`).
fn section_prefix(rest: &str) -> Option<String> {
    sections().into_iter().find(|s| {
        rest.len() > s.len() + 1
            && rest[..s.len()].eq_ignore_ascii_case(s)
            && rest.as_bytes()[s.len()] == b'_'
    })
}

pub(super) fn prefixed_layer(
    env: &Env,
    env_keys: &mut HashMap<KeyPath, String>,
    report: &mut Report,
) -> Dict {
    let mut root = Dict::new();
    for (name, raw) in env.iter() {
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        if name == CONFIG_VAR || name == DEV_ASSETS_VAR || is_secret_var(name) || raw.is_empty() {
            continue;
        }
        if !rest.contains("__") && !is_section(rest) {
            // Not `STREAMGATE_<SECTION>__<KEY>`: a tool's own variable (STREAMGATE_BIN for
            // the bench scripts), unless it looks like a key with one underscore too few.
            if let Some(section) = section_prefix(rest) {
                report.diagnostics.push(Diagnostic {
                    location: Location::Env {
                        var: name.to_owned(),
                    },
                    path: KeyPath::root(),
                    message: format!(
                        "looks like a `{section}` setting, but nested keys are separated by two underscores"
                    ),
                    rule: Rule::Environment,
                    hint: Some(format!(
                        "e.g. {PREFIX}{}__{}",
                        section.to_ascii_uppercase(),
                        &rest[section.len() + 1..]
                    )),
                });
            }
            continue;
        }
        let keys: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
        if keys.iter().any(String::is_empty) {
            report.diagnostics.push(Diagnostic {
                location: Location::Env {
                    var: name.to_owned(),
                },
                path: KeyPath::root(),
                message: "empty key segment; nested keys are separated by exactly two underscores"
                    .to_owned(),
                rule: Rule::Environment,
                hint: Some("e.g. STREAMGATE_PLATFORM__RATE_LIMITS__REFRESH_PER_HOUR=20".to_owned()),
            });
            continue;
        }
        let path = keys.iter().fold(KeyPath::root(), |p, k| p.key(k));
        env_keys.insert(path, name.to_owned());
        let value = if looks_textual(&keys) {
            FigValue::from(raw.to_owned())
        } else {
            raw.parse::<FigValue>()
                .unwrap_or_else(|never| match never {})
        };
        insert_nested(&mut root, &keys, value);
    }
    root
}

/// Keys whose values are text even when they look like numbers or booleans.
fn looks_textual(keys: &[String]) -> bool {
    let defaults = serde_json::to_value(Config::default()).unwrap_or(Value::Null);
    let mut node = &defaults;
    for key in keys {
        match node.get(key) {
            Some(next) => node = next,
            None => {
                let last = keys.last().map(String::as_str).unwrap_or_default();
                return matches!(
                    last,
                    "platform_url"
                        | "edge_id"
                        | "stream_root"
                        | "upstream_origin"
                        | "segment_cache_root"
                        | "cors_allowed_origin"
                        | "redis_url"
                );
            }
        }
    }
    node.is_string()
}

fn insert_nested(dict: &mut Dict, keys: &[String], value: FigValue) {
    match keys {
        [] => {}
        [last] => {
            dict.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = dict
                .entry(first.clone())
                .or_insert_with(|| FigValue::from(Dict::new()));
            if !matches!(entry, FigValue::Dict(..)) {
                *entry = FigValue::from(Dict::new());
            }
            if let FigValue::Dict(_, inner) = entry {
                insert_nested(inner, rest, value);
            }
        }
    }
}

pub(super) fn seed_layer(
    env: &Env,
    so_far: &Figment,
    env_keys: &mut HashMap<KeyPath, String>,
    report: &mut Report,
) -> Dict {
    let mut root = Dict::new();
    for seed in SEED_VARS {
        let Some(raw) = env.get(seed.name) else {
            continue;
        };
        let raw = raw.trim();
        let keys: Vec<String> = seed.key.split('.').map(str::to_owned).collect();
        let bad = |what: &str| Diagnostic {
            location: Location::Env {
                var: seed.name.to_owned(),
            },
            path: KeyPath::dotted(seed.key),
            message: format!("{raw:?} is not {what}"),
            rule: Rule::Environment,
            hint: None,
        };
        let value = match seed.kind {
            SeedKind::Text => FigValue::from(raw.to_owned()),
            SeedKind::Integer => match raw.parse::<u64>() {
                Ok(n) => FigValue::from(n),
                Err(_) => {
                    report.diagnostics.push(bad("a whole number"));
                    continue;
                }
            },
            SeedKind::Number => match raw.parse::<f64>() {
                Ok(n) if n.is_finite() => FigValue::from(n),
                _ => {
                    report.diagnostics.push(bad("a number"));
                    continue;
                }
            },
            SeedKind::Port => match raw.parse::<u16>() {
                Ok(port) => {
                    let mut listen = so_far
                        .extract_inner::<SocketAddr>(seed.key)
                        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], port)));
                    listen.set_port(port);
                    FigValue::from(listen.to_string())
                }
                Err(_) => {
                    report.diagnostics.push(bad("a port number (0-65535)"));
                    continue;
                }
            },
        };
        env_keys.insert(KeyPath::dotted(seed.key), seed.name.to_owned());
        insert_nested(&mut root, &keys, value);
    }
    root
}

/// Each `STREAMGATE_*` variable layered alone over the file and checked, keeping the
/// problems that are its own.
pub(super) fn env_findings_one_by_one(env: &Env, base: &Figment) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, raw) in env.iter() {
        if !name.starts_with(PREFIX) {
            continue;
        }
        let mut one = Env::default();
        one.set(name, raw);
        let mut keys = HashMap::new();
        let layer = prefixed_layer(&one, &mut keys, &mut Report::default());
        if keys.is_empty() {
            continue;
        }
        let figment = base
            .clone()
            .merge(Layer::new("STREAMGATE_* environment", layer));
        if let Err(errors) = figment.extract::<Config>() {
            out.extend(
                type_findings(errors, &one, &keys, true)
                    .into_iter()
                    .filter(|f| keys.contains_key(&f.path)),
            );
        }
    }
    out
}
