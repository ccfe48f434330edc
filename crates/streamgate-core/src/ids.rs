//! The ids that travel between the crates: an event's, an access code's row and a
//! viewer session's. Each is its own type so that a code id cannot be passed where an
//! event id is meant; on the wire and in the database each is its plain text (serde
//! `transparent`, and with the `sqlx` feature, which only the store enables, encoded
//! and decoded as the TEXT column it is).
//!
//! The types do not validate: an event id is a slug when the configuration declares
//! the event and a UUID when the admin API made it, and the database is the authority
//! on which ids exist. What they add is that the three kinds never mix.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The id as text (a borrow, no copy).
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id's text, moved out.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        /// Lets maps keyed by the id be looked up with plain text.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.0 == *other
            }
        }

        #[cfg(feature = "sqlx")]
        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            String: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as sqlx::Type<DB>>::compatible(ty)
            }
        }

        #[cfg(feature = "sqlx")]
        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            String: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <String as sqlx::Encode<'q, DB>>::encode_by_ref(&self.0, buf)
            }
        }

        #[cfg(feature = "sqlx")]
        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            String: sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                <String as sqlx::Decode<'r, DB>>::decode(value).map(Self)
            }
        }
    };
}

id_type! {
    /// An event's id: its slug (config-managed) or UUID (API-managed); also the name
    /// of its stream folder and the playback token's `eid`.
    EventId
}

id_type! {
    /// An access code's row id (the playback token's `sub`), not the code itself.
    CodeId
}

id_type! {
    /// A viewer session's id (the playback token's `sid`).
    SessionId
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_its_text_on_the_wire() {
        let id = EventId::from("keynote");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"keynote\"");
        let back: EventId = serde_json::from_str("\"keynote\"").unwrap();
        assert_eq!(back, id);
        assert_eq!(id, "keynote");
        assert_eq!(id.to_string(), "keynote");
    }
}
