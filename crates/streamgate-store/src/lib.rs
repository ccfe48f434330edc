//! StreamGate's persistence: one schema on an embedded SQLite file (the default) or on
//! PostgreSQL (production), reached through sqlx's `Any` driver so that every query is
//! written once and runs on both. That choice fixes the column types to TEXT and BIGINT
//! (times in Unix milliseconds, flags as 0/1); the migration sets differ only where the
//! engines do (identity columns). Rows are read into `#[derive(sqlx::FromRow)]` structs
//! (flags through `row::Flag`), ids travel as core's `EventId`, `CodeId` and
//! `SessionId`, and callers above the store get functions taking `&Store`, never the
//! pool (only this crate's own tests reach it, through the `testing` feature).
//!
//! The store holds two kinds of state, and the split is the contract of
//! configuration-as-code: *desired* state that `streamgate.toml` declares (events, code
//! batches), which [`reconcile`] makes the database match, and *runtime* state
//! (redemptions, sessions, revocations, audit) that no reconcile ever touches.

pub mod admin_tokens;
pub mod analytics;
pub mod codes;
pub mod copy;
pub mod dashboard;
pub mod db;
pub mod events;
pub mod logs;
mod params;
pub mod reads;
pub mod reconcile;
mod row;
pub mod sessions;
#[cfg(feature = "testing")]
pub mod testing;
pub mod watch;

pub use db::{Backend, Store, WriteTx};

/// What can go wrong below the API; the platform maps these to HTTP statuses once.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not one StreamGate can use.
    #[error("unsupported database URL {0:?}: use sqlite://path, file:path or postgres://...")]
    UnsupportedUrl(String),
    /// The database could not be reached or opened.
    #[error("cannot open the database at {url}: {source}")]
    Connect {
        /// The URL with any password masked.
        url: String,
        /// Why.
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The configuration cannot be applied as it is (see the messages).
    #[error("the configuration cannot be applied:\n  {}", .0.join("\n  "))]
    Plan(Vec<String>),
    /// The destroy guard refused: the change would retire events that still have
    /// redeemed codes or viewers (see the messages for how to do it on purpose).
    #[error("the configuration cannot be applied:\n  {}", .0.join("\n  "))]
    Guarded(Vec<String>),
    /// An event asked for does not exist.
    #[error("no event with id {0:?}")]
    EventNotFound(String),
    /// Filesystem trouble around the database file or config file.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// Whether the database is out of reach (down, restarting, refusing connections)
    /// rather than the request being wrong: the caller may retry (the API answers 503,
    /// not 500). Decided here so that nothing above the store looks at sqlx errors.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Connect { .. } => true,
            StoreError::Database(e) => match e {
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
                sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                    // 08: connection exception; 57P01-03: the server is shutting down,
                    // crashed, or not accepting connections yet.
                    code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
                }),
                _ => false,
            },
            _ => false,
        }
    }
}

/// Milliseconds since the Unix epoch: the one time representation in the database.
pub fn now_ms() -> i64 {
    to_ms(time::OffsetDateTime::now_utc())
}

/// An instant as Unix milliseconds.
pub fn to_ms(t: time::OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Unix milliseconds as an instant (clamped into the representable range).
pub fn from_ms(ms: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// RFC 3339 text of Unix milliseconds, for CSV and messages.
pub fn format_ms(ms: i64) -> String {
    streamgate_core::Timestamp::from_datetime(from_ms(ms)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_unavailable_and_a_wrong_request_is_not() {
        assert!(StoreError::Database(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(StoreError::Database(sqlx::Error::PoolClosed).is_unavailable());
        assert!(!StoreError::Database(sqlx::Error::RowNotFound).is_unavailable());
        assert!(!StoreError::EventNotFound("demo".into()).is_unavailable());
    }

    #[tokio::test]
    async fn a_closed_port_is_unavailable() {
        // Port 9 (discard) has no PostgreSQL behind it on any test machine.
        let err = Store::connect("postgres://postgres@127.0.0.1:9/none")
            .await
            .expect_err("nothing listens there");
        assert!(err.is_unavailable(), "{err}");
    }
}
