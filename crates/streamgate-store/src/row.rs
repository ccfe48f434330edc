//! What the `#[derive(sqlx::FromRow)]` row structs need beyond sqlx: flag columns.
//!
//! Flags are INTEGER 0/1 on both engines, because a BOOLEAN column does not decode
//! through sqlx's `Any` driver (SQLite reports it as an integer). A field reads one as
//! a bool with `#[sqlx(try_from = "Flag")]`, so no row is mapped by hand.

use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Type};

/// A 0/1 flag column as decoded; `bool::from` gives the flag (any non-zero is set).
///
/// `pub` in this private module (so unreachable from outside the crate) because the
/// derived `FromRow` impls of public rows, such as [`crate::events::EventRow`], name it
/// in their bounds.
#[derive(Debug, Clone, Copy)]
pub struct Flag(bool);

impl<DB: Database> Type<DB> for Flag
where
    i64: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <i64 as Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <i64 as Type<DB>>::compatible(ty)
    }
}

impl<'r, DB: Database> Decode<'r, DB> for Flag
where
    i64: Decode<'r, DB>,
{
    fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Flag(<i64 as Decode<'r, DB>>::decode(value)? != 0))
    }
}

impl From<Flag> for bool {
    fn from(flag: Flag) -> Self {
        flag.0
    }
}
