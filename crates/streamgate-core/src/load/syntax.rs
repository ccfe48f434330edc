//! Reading the file as TOML: syntax errors located where the mistake is, and the
//! document normalised the way the schema and the typed model both read it.

use std::path::Path;

use serde_json::Value;

use crate::validate::{Diagnostic, KeyPath, Rule, SourceMap};

pub(super) fn parse_document(
    path: &Path,
    text: &str,
) -> Result<(Value, SourceMap), Box<Diagnostic>> {
    let map = SourceMap::new(path, text);
    match toml::from_str::<Value>(text) {
        Ok(mut document) => {
            datetimes_to_strings(&mut document);
            Ok((document, map))
        }
        Err(e) => {
            let at = e
                .span()
                .map_or(0, |span| opening_of_unclosed(text, e.message(), span.start));
            let location = map.location_of(at);
            Err(Box::new(Diagnostic {
                location,
                path: KeyPath::root(),
                message: e.message().trim().to_owned(),
                rule: Rule::Syntax,
                hint: None,
            }))
        }
    }
}

/// Where the mistake is for an error the parser only notices later: a multi-line
/// string left open is reported at the end of the file, but the operator must look
/// where it was opened.
fn opening_of_unclosed(text: &str, message: &str, at: usize) -> usize {
    let before = text.get(..at).unwrap_or(text);
    let opener = if message.contains("multi-line basic string") {
        "\"\"\""
    } else if message.contains("multi-line literal string") {
        "'''"
    } else {
        return at;
    };
    before.rfind(opener).unwrap_or(at)
}

/// TOML datetimes arrive as `{"$__toml_private_datetime": "..."}`; the schema and the
/// typed model both want the RFC 3339 text. A float with no fraction (`count = 3.0`)
/// becomes the integer: JSON Schema counts it as one, so editors and schema validators
/// accept it, and the binary must not refuse what they accept.
fn datetimes_to_strings(value: &mut Value) {
    if let Some(f) = value
        .as_f64()
        .filter(|f| value.is_f64() && f.fract() == 0.0)
        && f.abs() < 9.0e15
    {
        // Exact: every whole number below 2^53 is a whole f64.
        #[allow(clippy::cast_possible_truncation)]
        let whole = f as i64;
        *value = Value::from(whole);
        return;
    }
    match value {
        Value::Object(map) => {
            if let (1, Some(Value::String(text))) = (map.len(), map.get("$__toml_private_datetime"))
            {
                *value = Value::String(text.clone());
                return;
            }
            map.values_mut().for_each(datetimes_to_strings);
        }
        Value::Array(items) => items.iter_mut().for_each(datetimes_to_strings),
        _ => {}
    }
}
