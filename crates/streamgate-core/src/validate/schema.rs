//! The JSON Schema pass: the same schema editors and CI use, applied by the binary, so
//! a file that passes one passes the other.

use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use super::{Finding, KeyPath, Rule};
use crate::Config;

fn validator() -> Result<&'static jsonschema::Validator, String> {
    static VALIDATOR: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            jsonschema::options()
                .should_validate_formats(true)
                .build(&Config::json_schema())
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Checks a document (TOML turned into JSON, datetimes as RFC 3339 strings) against
/// the schema and returns every violation. Keys listed in `skip` (secret-looking keys,
/// already reported with a better message) are not reported again as unknown.
pub fn check_schema(document: &Value, skip: &[KeyPath]) -> Vec<Finding> {
    let validator = match validator() {
        Ok(v) => v,
        Err(e) => {
            // Only a bug in our own types can get here; say so instead of panicking.
            return vec![Finding::new(
                KeyPath::root(),
                Rule::Schema("compile".to_owned()),
                format!("internal error: the generated schema does not compile: {e}"),
            )];
        }
    };
    let mut findings = Vec::new();
    for error in validator.iter_errors(document) {
        let at = KeyPath::from_pointer(error.instance_path().as_str());
        let rule = Rule::Schema(error.schema_path().as_str().to_owned());
        match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for key in unexpected {
                    let path = at.key(key);
                    if skip.contains(&path) {
                        continue;
                    }
                    let mut finding =
                        Finding::new(path, rule.clone(), format!("unknown key `{key}`"));
                    finding.at_key = true;
                    finding.hint = allowed_keys_hint(&at);
                    findings.push(finding);
                }
            }
            ValidationErrorKind::Required { property } => {
                let name = property
                    .as_str()
                    .map_or_else(|| property.to_string(), str::to_owned);
                findings.push(Finding::new(
                    at,
                    rule,
                    format!("missing required key `{name}`"),
                ));
            }
            ValidationErrorKind::Format { format } if format == "date-time" => {
                let mut finding = Finding::new(at, rule, error.to_string());
                finding.hint = Some(
                    "write an RFC 3339 date-time with an offset, e.g. 2026-11-25T18:00:00Z"
                        .to_owned(),
                );
                findings.push(finding);
            }
            _ => findings.push(Finding::new(at, rule, error.to_string())),
        }
    }
    findings
}

/// Lists the keys the schema allows where an unknown key was found, which is what a
/// person fixing a typo wants to see.
fn allowed_keys_hint(at: &KeyPath) -> Option<String> {
    let schema = Config::json_schema();
    let mut node = &schema;
    for segment in at.segments() {
        node = resolve(&schema, node);
        node = match segment {
            super::Segment::Key(k) => node.get("properties")?.get(k)?,
            super::Segment::Index(_) => node.get("items")?,
        };
    }
    let node = resolve(&schema, node);
    let keys: Vec<&str> = node
        .get("properties")?
        .as_object()?
        .keys()
        .map(String::as_str)
        .collect();
    Some(format!("allowed here: {}", keys.join(", ")))
}

fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    // Follow local `$ref`s (`#/$defs/Name`), the only kind schemars emits.
    for _ in 0..8 {
        let Some(reference) = node.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let Some(name) = reference.strip_prefix("#/$defs/") else {
            break;
        };
        match root.get("$defs").and_then(|d| d.get(name)) {
            Some(target) => node = target,
            None => break,
        }
    }
    node
}
