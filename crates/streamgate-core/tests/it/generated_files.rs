//! Files generated from the code are committed so reviewers see config changes in
//! diffs and outside tools can use them without building. These tests fail when a
//! committed copy differs from what the code generates; run them with
//! `STREAMGATE_BLESS=1` to rewrite the copies.

use std::path::PathBuf;

use streamgate_core::{Config, reference};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bless() -> bool {
    std::env::var_os("STREAMGATE_BLESS").is_some()
}

#[test]
fn committed_schema_matches_the_config_types() {
    let path = root().join("schemas/streamgate.schema.json");
    let generated = Config::json_schema_text();
    if bless() {
        std::fs::write(&path, &generated).expect("write schema");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schemas/streamgate.schema.json is stale: run `cargo run -- schema > schemas/streamgate.schema.json` (or this test with STREAMGATE_BLESS=1)"
    );
}

#[test]
fn readme_reference_matches_the_schema() {
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md exists");
    let (Some(start), Some(end)) = (
        readme.find(reference::BEGIN_MARKER),
        readme.find(reference::END_MARKER),
    ) else {
        panic!("README.md lacks the generated reference markers");
    };
    let body_start = start + reference::BEGIN_MARKER.len() + 1;
    let generated = reference::markdown();
    if bless() && readme[body_start..end] != generated {
        let updated = format!("{}{}{}", &readme[..body_start], generated, &readme[end..]);
        std::fs::write(&path, updated).expect("write README");
        return;
    }
    assert!(
        readme[body_start..end] == generated,
        "the configuration reference in README.md is stale: run this test with STREAMGATE_BLESS=1"
    );
}

#[test]
fn schema_refuses_unknown_keys_everywhere() {
    // Unknown keys must be errors at every level, or a typo silently does nothing.
    fn walk(node: &serde_json::Value, at: &str, open: &mut Vec<String>) {
        if let Some(obj) = node.as_object() {
            if obj.contains_key("properties")
                && obj.get("additionalProperties") != Some(&serde_json::Value::Bool(false))
            {
                open.push(at.to_owned());
            }
            for (k, v) in obj {
                walk(v, &format!("{at}/{k}"), open);
            }
        }
    }
    let mut open = Vec::new();
    walk(&Config::json_schema(), "", &mut open);
    assert!(open.is_empty(), "tables that accept unknown keys: {open:?}");
}
