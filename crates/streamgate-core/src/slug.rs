//! Identifiers that operators type into `streamgate.toml` and that end up in URLs
//! (`/streams/<event>/...`) and in JWT path prefixes. They are parsed once, at the edge,
//! so nothing downstream ever sees a string that could smuggle `/` or `..` into a path.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// The pattern every slug matches; kept as a string so the JSON Schema and the parser
/// share one definition.
pub const SLUG_PATTERN: &str = "^[a-z0-9][a-z0-9-]{0,62}$";

/// A config-declared identifier (event id, edge id): lowercase ASCII letters, digits
/// and `-`, 1 to 63 characters, not starting with `-`. Safe to use as a path segment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

/// Why a string is not a slug; the message is shown to operators as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    /// Nothing was given.
    #[error("must not be empty")]
    Empty,
    /// More than 63 characters: it would not fit a DNS label, which edge ids may become.
    #[error("is {0} characters long; at most 63 are allowed")]
    TooLong(usize),
    /// Starts with `-`, which reads as a command-line flag.
    #[error("must start with a lowercase letter or a digit")]
    BadStart,
    /// Holds something other than `a-z`, `0-9` or `-`.
    #[error("may only hold lowercase letters, digits and '-' (found {0:?})")]
    BadChar(char),
}

impl Slug {
    /// Parses `value`, refusing anything that is not a slug.
    pub fn parse(value: &str) -> Result<Self, SlugError> {
        let first = value.chars().next().ok_or(SlugError::Empty)?;
        if value.len() > 63 {
            return Err(SlugError::TooLong(value.len()));
        }
        if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
            return Err(SlugError::BadStart);
        }
        if let Some(bad) = value
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(SlugError::BadChar(bad));
        }
        Ok(Self(value.to_owned()))
    }

    /// The slug as text, for paths, SQL parameters and messages.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = SlugError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Slug> for String {
    fn from(value: Slug) -> Self {
        value.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl JsonSchema for Slug {
    fn schema_name() -> Cow<'static, str> {
        "Slug".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": SLUG_PATTERN,
            "description": "Lowercase letters, digits and '-', 1 to 63 characters, starting with a letter or digit.",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_typical_slugs() {
        for ok in ["demo", "keynote-2026", "a", "0day", &"a".repeat(63)] {
            assert_eq!(Slug::parse(ok).map(String::from), Ok(ok.to_string()));
        }
    }

    #[test]
    fn refuses_what_could_escape_a_path() {
        assert_eq!(Slug::parse(""), Err(SlugError::Empty));
        assert_eq!(Slug::parse("-x"), Err(SlugError::BadStart));
        assert_eq!(Slug::parse("Demo"), Err(SlugError::BadStart));
        assert_eq!(Slug::parse("a/b"), Err(SlugError::BadChar('/')));
        assert_eq!(Slug::parse("a..b"), Err(SlugError::BadChar('.')));
        assert_eq!(Slug::parse("a_b"), Err(SlugError::BadChar('_')));
        assert_eq!(Slug::parse(&"a".repeat(64)), Err(SlugError::TooLong(64)));
    }

    #[test]
    fn parser_agrees_with_schema_pattern() {
        // The schema pattern is what editors and outside validators enforce; the parser is
        // what the binary enforces. A disagreement would let a file pass one and fail the other.
        let re = jsonschema::validator_for(
            &serde_json::json!({"type": "string", "pattern": SLUG_PATTERN}),
        )
        .expect("pattern compiles");
        for candidate in [
            "demo",
            "x-",
            "-x",
            "A",
            "a.b",
            "",
            "9",
            &"b".repeat(63),
            &"b".repeat(64),
        ] {
            assert_eq!(
                re.is_valid(&serde_json::json!(candidate)),
                Slug::parse(candidate).is_ok(),
                "{candidate:?}"
            );
        }
    }
}
