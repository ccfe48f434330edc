//! The configuration reference in the README, generated from the JSON Schema so that
//! it cannot fall behind the code: a test fails when the README's copy differs.

use serde_json::Value;

use crate::Config;
use crate::env::{prefixed_var_for, seed_var_for};
use crate::secrets::SecretKind;

/// Marker lines between which the README holds the generated reference.
pub const BEGIN_MARKER: &str =
    "<!-- BEGIN GENERATED CONFIG REFERENCE (streamgate schema --markdown) -->";
/// See [`BEGIN_MARKER`].
pub const END_MARKER: &str = "<!-- END GENERATED CONFIG REFERENCE -->";

/// The reference as Markdown: one table per TOML table, then the secrets.
pub fn markdown() -> String {
    let schema = Config::json_schema();
    let mut out = String::new();
    let sections: [(&str, &[&str], bool); 9] = [
        ("[platform]", &["platform"], true),
        ("[platform.rate_limits]", &["platform", "rate_limits"], true),
        ("[hls]", &["hls"], true),
        ("[ingest]", &["ingest"], true),
        ("[[topology.edges]]", &["topology", "edges"], false),
        ("[[events]]", &["events"], false),
        ("[events.ingest]", &["events", "ingest"], false),
        (
            "[[events.ingest.renditions]]",
            &["events", "ingest", "renditions"],
            false,
        ),
        ("[[events.codes]]", &["events", "codes"], false),
    ];
    for (title, keys, env) in sections {
        let Some(node) = descend(&schema, keys) else {
            continue;
        };
        out.push_str(&format!("#### `{title}`\n\n"));
        out.push_str(
            "| key | type | default | environment | description |\n|---|---|---|---|---|\n",
        );
        let Some(props) = node.get("properties").and_then(Value::as_object) else {
            continue;
        };
        let required: Vec<&str> = node
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (name, prop) in props {
            let prop_resolved = resolve(&schema, prop);
            let optional_table = prop
                .get("anyOf")
                .and_then(Value::as_array)
                .is_some_and(|o| {
                    o.iter()
                        .any(|v| v.get("$ref").is_some() && is_table(resolve(&schema, v)))
                });
            if (is_table(prop_resolved) || optional_table) && !is_array(prop) {
                continue; // nested tables get their own section
            }
            if is_array(prop)
                && is_table(resolve(&schema, prop.get("items").unwrap_or(&Value::Null)))
            {
                continue;
            }
            let dotted = format!("{}.{name}", keys.join("."));
            let env_cell = if env {
                let mut vars = vec![format!("`{}`", prefixed_var_for(&dotted))];
                if let Some(seed) = seed_var_for(&dotted) {
                    vars.push(format!("`{}`", seed.name));
                }
                vars.join(", ")
            } else {
                "—".to_owned()
            };
            let default = match prop
                .get("default")
                .or_else(|| node.get("default").and_then(|d| d.get(name)))
            {
                Some(Value::Null) | None if required.contains(&name.as_str()) => {
                    "required".to_owned()
                }
                Some(Value::Null) | None => "unset".to_owned(),
                Some(v) => format!("`{}`", v),
            };
            out.push_str(&format!(
                "| `{name}` | {} | {default} | {env_cell} | {} |\n",
                type_of(&schema, prop),
                cell(
                    prop.get("description")
                        .or_else(|| prop_resolved.get("description"))
                )
            ));
        }
        out.push('\n');
    }
    out.push_str("#### Secrets (environment only, never in the file)\n\n");
    out.push_str("| variable | also | needed by | description |\n|---|---|---|---|\n");
    for kind in SecretKind::ALL {
        let var = kind.var();
        let (needed, what) = match kind {
            SecretKind::PlaybackSigningSecret => (
                "platform, hls",
                "HMAC-SHA256 key of playback tokens, at least 32 characters, identical on every service",
            ),
            SecretKind::PlaybackSigningSecretPrevious => (
                "optional",
                "the previous signing key, still accepted while a rotation is under way",
            ),
            SecretKind::InternalApiKey => (
                "platform, hls",
                "key HLS servers present to the platform's internal API, at least 16 characters",
            ),
            SecretKind::AdminPasswordHash => (
                "platform",
                "bcrypt hash of the admin password (`streamgate hash-password`)",
            ),
            SecretKind::IngestSecret => (
                "ingest (`up`, `hls`, `ingest`), platform for the console's publish URLs",
                "key the events' publish keys are derived from, at least 32 characters; needed only when an event has `[events.ingest]`",
            ),
        };
        out.push_str(&format!("| `{var}` | `{var}_FILE`, `STREAMGATE_{var}`, `STREAMGATE_{var}_FILE` | {needed} | {what} |\n"));
    }
    out
}

fn descend<'a>(schema: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    let mut node = resolve(schema, schema);
    for key in keys {
        let mut prop = node.get("properties")?.get(*key)?;
        // An optional table is `anyOf: [{$ref}, {type: null}]`: the table is the `$ref`.
        if let Some(table) = prop
            .get("anyOf")
            .and_then(Value::as_array)
            .and_then(|options| options.iter().find(|o| o.get("$ref").is_some()))
        {
            prop = table;
        }
        node = if is_array(prop) {
            resolve(schema, prop.get("items")?)
        } else {
            resolve(schema, prop)
        };
    }
    Some(node)
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    let target = node
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| root.get("$defs")?.get(name));
    match target {
        Some(t) => resolve(root, t),
        None => node,
    }
}

fn types(node: &Value) -> Vec<&str> {
    match node.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => Vec::new(),
    }
}

fn is_table(node: &Value) -> bool {
    types(node).contains(&"object")
}

fn is_array(node: &Value) -> bool {
    types(node).contains(&"array")
}

fn type_of(root: &Value, prop: &Value) -> String {
    let node = resolve(root, prop);
    let mut t = types(node).join(" or ");
    // A described enum is `oneOf` its values, each a `const`.
    let values: Vec<String> = node
        .get("oneOf")
        .and_then(Value::as_array)
        .map(|options| {
            options
                .iter()
                .filter_map(|o| o.get("const").and_then(Value::as_str))
                .map(|v| format!("`{v}`"))
                .collect()
        })
        .unwrap_or_default();
    if t.is_empty() && !values.is_empty() {
        return format!("one of {}", values.join(", "));
    }
    if t.is_empty() {
        // `Option<T>` becomes anyOf [T, null].
        if let Some(any) = prop.get("anyOf").and_then(Value::as_array) {
            let parts: Vec<String> = any
                .iter()
                .filter(|v| types(v) != ["null"])
                .map(|v| type_of(root, v))
                .collect();
            return parts.join(" or ");
        }
    }
    if let ("array", Some(items)) = (t.as_str(), prop.get("items")) {
        t = format!("array of {}", type_of(root, items));
    }
    if let Some(format) = node.get("format").and_then(Value::as_str)
        && !format.starts_with("uint")
        && !format.starts_with("int")
        && format != "double"
    {
        t.push_str(&format!(" ({format})"));
    }
    let min = node.get("minimum").and_then(Value::as_f64);
    let max = node.get("maximum").and_then(Value::as_f64);
    match (min, max) {
        (Some(a), Some(b)) => t.push_str(&format!(" {a}..={b}")),
        (Some(a), None) if a > 0.0 => t.push_str(&format!(" ≥ {a}")),
        _ => {}
    }
    if prop.get("$ref").and_then(Value::as_str) == Some("#/$defs/Slug") {
        t = "slug".to_owned();
    }
    t
}

fn cell(description: Option<&Value>) -> String {
    description
        .and_then(Value::as_str)
        .unwrap_or("")
        .replace('\n', " ")
        .replace('|', "\\|")
}
