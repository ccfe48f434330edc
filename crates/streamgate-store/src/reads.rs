//! Reads for callers outside a transaction (API handlers, the CLI), each on a pooled
//! connection of its own. The functions they wrap take a connection so that the store
//! can use them inside its own transactions; callers above the store take `&Store`
//! and never hold a pool connection themselves.

use std::io::Write;

use streamgate_core::EventId;

use crate::events::EventRow;
use crate::{Store, StoreError, codes, events};

/// The event `id`, if there is one.
pub async fn event(store: &Store, id: &EventId) -> Result<Option<EventRow>, StoreError> {
    let mut conn = store.pool().acquire().await?;
    events::get(&mut conn, id).await
}

/// Whether the access code `code` is one of the event's.
pub async fn code_belongs_to(
    store: &Store,
    code: &str,
    event_id: &EventId,
) -> Result<bool, StoreError> {
    let mut conn = store.pool().acquire().await?;
    codes::belongs_to(&mut conn, code, event_id).await
}

/// Writes the event's codes as CSV to `out` ([`codes::export_csv`]); the number of
/// codes, or [`StoreError::EventNotFound`].
pub async fn export_codes_csv(
    store: &Store,
    event_id: &EventId,
    session_timeout_ms: i64,
    out: impl Write,
) -> Result<u64, StoreError> {
    let mut conn = store.pool().acquire().await?;
    codes::export_csv(&mut conn, event_id, session_timeout_ms, out).await
}
