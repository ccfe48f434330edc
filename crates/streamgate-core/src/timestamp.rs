//! Instants written in `streamgate.toml` (event schedules). TOML has a native datetime
//! type and operators also write quoted RFC 3339 strings; both are accepted, but only
//! with an explicit offset, because a schedule without a time zone is a bug waiting for
//! the first viewer in another country.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// An RFC 3339 instant with an offset, such as `2026-11-25T18:00:00Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

/// Why a text is not an instant we accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not an RFC 3339 date-time with an offset (for example 2026-11-25T18:00:00Z)")]
pub struct TimestampError {
    text: String,
}

impl Timestamp {
    /// Parses RFC 3339 text. TOML writes datetimes with a space instead of `T` in some
    /// tools, so that spelling is accepted too.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let normalised = normalise(text);
        OffsetDateTime::parse(&normalised, &Rfc3339)
            .map(Self)
            .map_err(|_| TimestampError {
                text: text.to_owned(),
            })
    }

    /// The instant, for arithmetic and storage.
    pub fn get(self) -> OffsetDateTime {
        self.0
    }

    /// Wraps an instant computed elsewhere (now, a database row).
    pub fn from_datetime(value: OffsetDateTime) -> Self {
        Self(value)
    }
}

fn normalise(text: &str) -> Cow<'_, str> {
    // `2026-11-25 18:00:00Z` is valid TOML; RFC 3339 allows the space too but the `time`
    // parser only takes `T`.
    if text.len() > 10 && text.as_bytes()[10] == b' ' {
        let mut owned = text.to_owned();
        owned.replace_range(10..11, "T");
        Cow::Owned(owned)
    } else {
        Cow::Borrowed(text)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.format(&Rfc3339) {
            Ok(text) => f.write_str(&text),
            Err(_) => write!(f, "{:?}", self.0),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Timestamp {
    fn schema_name() -> Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "An RFC 3339 date-time with an offset, e.g. 2026-11-25T18:00:00Z (a TOML offset date-time or a quoted string).",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_offsets_and_toml_spacing() {
        let a = Timestamp::parse("2026-11-25T18:00:00Z").expect("utc");
        let b = Timestamp::parse("2026-11-25 19:00:00+01:00").expect("space and offset");
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "2026-11-25T18:00:00Z");
    }

    #[test]
    fn refuses_local_times_and_nonsense() {
        for bad in [
            "2026-11-25T18:00:00",
            "2026-11-25",
            "tomorrow",
            "2026-13-01T00:00:00Z",
            "",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad:?}");
        }
    }
}
