//! The revocation feed's wire contract, written once: the store logs these kinds, the
//! platform serves these entries at `GET /api/revocations`, and the HLS edges replay
//! them. It is the most security-critical contract in the system (a kind spelled
//! differently on one side would silently drop revocations), so all three sides use
//! these types instead of their own strings.
//!
//! A kind this build does not know (a newer platform beside an older edge) parses as
//! [`RevocationKind::Unknown`] rather than failing the whole feed page; the edge logs
//! and counts it, it never ignores it silently.

use serde::{Deserialize, Serialize};

/// What happened, as the edges need to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationKind {
    /// A code may no longer play.
    CodeRevoked,
    /// A revoked code may play again.
    CodeUnrevoked,
    /// Nobody may watch the event.
    EventDeactivated,
    /// The event is watchable again.
    EventReactivated,
    /// A session ended (release, timeout, takeover); its token must stop working.
    SessionEnded,
    /// A kind this build does not know. Never written; read when a newer writer logged
    /// something this reader predates.
    #[serde(other)]
    Unknown,
}

impl RevocationKind {
    /// Every kind a writer may log, in a fixed order (for tests and the API schema).
    pub const KNOWN: [RevocationKind; 5] = [
        RevocationKind::CodeRevoked,
        RevocationKind::CodeUnrevoked,
        RevocationKind::EventDeactivated,
        RevocationKind::EventReactivated,
        RevocationKind::SessionEnded,
    ];

    /// The stored and wire spelling (the same as serde's).
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationKind::CodeRevoked => "code_revoked",
            RevocationKind::CodeUnrevoked => "code_unrevoked",
            RevocationKind::EventDeactivated => "event_deactivated",
            RevocationKind::EventReactivated => "event_reactivated",
            RevocationKind::SessionEnded => "session_ended",
            RevocationKind::Unknown => "unknown",
        }
    }

    /// Reads a stored spelling; anything else is [`RevocationKind::Unknown`].
    pub fn parse(stored: &str) -> RevocationKind {
        Self::KNOWN
            .into_iter()
            .find(|k| k.as_str() == stored)
            .unwrap_or(RevocationKind::Unknown)
    }
}

/// A stored spelling, read as [`RevocationKind::parse`] reads it (the store's row
/// structs decode the column through this).
impl From<String> for RevocationKind {
    fn from(stored: String) -> Self {
        RevocationKind::parse(&stored)
    }
}

/// One log entry, in order; what an edge replays to keep its sets exact (revocations
/// can be undone, sessions end).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename_all = "camelCase"))]
#[serde(rename_all = "camelCase")]
pub struct FeedEntry {
    /// Position in the log.
    pub seq: i64,
    // What happened. A plain comment on purpose: a doc comment here would make
    // poem-openapi wrap the enum's `$ref` in `allOf`, which client generators refuse
    // ("cannot take allOf a non-object"); the enum's own schema carries the description.
    #[allow(missing_docs)]
    pub kind: RevocationKind,
    /// The event.
    pub event_id: String,
    /// The code, for code and session entries.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub code_id: Option<String>,
    /// The session, for session entries.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub session_id: Option<String>,
    /// When (RFC 3339).
    pub at: String,
}

/// The OpenAPI description of [`RevocationKind`]: a string enum of the known kinds
/// (the platform never emits `unknown`, so the schema does not list it).
#[cfg(feature = "openapi")]
mod openapi {
    use std::borrow::Cow;

    use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
    use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
    use serde_json::Value;

    use super::RevocationKind;

    impl Type for RevocationKind {
        const IS_REQUIRED: bool = true;
        type RawValueType = Self;
        type RawElementValueType = Self;

        fn name() -> Cow<'static, str> {
            "RevocationKind".into()
        }

        fn schema_ref() -> MetaSchemaRef {
            MetaSchemaRef::Reference(Self::name().into_owned())
        }

        fn register(registry: &mut Registry) {
            registry.create_schema::<Self, _>(Self::name().into_owned(), |_| MetaSchema {
                description: Some("What happened, as the edges need to know it."),
                enum_items: RevocationKind::KNOWN
                    .iter()
                    .map(|k| Value::String(k.as_str().to_owned()))
                    .collect(),
                ..MetaSchema::new("string")
            });
        }

        fn as_raw_value(&self) -> Option<&Self::RawValueType> {
            Some(self)
        }

        fn raw_element_iter<'a>(
            &'a self,
        ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
            Box::new(self.as_raw_value().into_iter())
        }
    }

    impl ToJSON for RevocationKind {
        fn to_json(&self) -> Option<Value> {
            Some(Value::String(self.as_str().to_owned()))
        }
    }

    impl ParseFromJSON for RevocationKind {
        fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
            match value {
                Some(Value::String(s)) => Ok(RevocationKind::parse(&s)),
                other => Err(ParseError::expected_type(other.unwrap_or_default())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_keeps_its_wire_spelling() {
        let pinned = [
            (RevocationKind::CodeRevoked, "code_revoked"),
            (RevocationKind::CodeUnrevoked, "code_unrevoked"),
            (RevocationKind::EventDeactivated, "event_deactivated"),
            (RevocationKind::EventReactivated, "event_reactivated"),
            (RevocationKind::SessionEnded, "session_ended"),
        ];
        assert_eq!(pinned.map(|(k, _)| k), RevocationKind::KNOWN);
        for (kind, spelling) in pinned {
            assert_eq!(kind.as_str(), spelling);
            assert_eq!(RevocationKind::parse(spelling), kind);
            let json = serde_json::to_string(&kind).expect("serialise");
            assert_eq!(json, format!("\"{spelling}\""));
            let back: RevocationKind = serde_json::from_str(&json).expect("parse");
            assert_eq!(back, kind);
        }
    }

    #[test]
    fn an_unknown_kind_parses_as_unknown_instead_of_failing_the_entry() {
        assert_eq!(
            RevocationKind::parse("code_suspended"),
            RevocationKind::Unknown
        );
        let entry: FeedEntry = serde_json::from_str(
            r#"{"seq":7,"kind":"code_suspended","eventId":"demo","codeId":null,"at":"2026-01-01T00:00:00Z"}"#,
        )
        .expect("an entry of a newer kind still parses");
        assert_eq!(entry.kind, RevocationKind::Unknown);
        assert_eq!(entry.seq, 7);
        assert_eq!(entry.session_id, None);
    }
}
