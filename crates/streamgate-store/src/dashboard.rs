//! The numbers on the admin dashboard, each one query so the page stays cheap however
//! many codes there are.

use crate::{Store, StoreError};

/// Events by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct EventTotals {
    /// Every event.
    pub total: i64,
    /// Active and not archived.
    pub active: i64,
    /// Not started yet, not archived.
    pub upcoming: i64,
    /// Running now, active, not archived.
    pub live: i64,
    /// Archived.
    pub archived: i64,
}

/// Counts events by state at `now` (Unix ms).
pub async fn event_totals(store: &Store, now: i64) -> Result<EventTotals, StoreError> {
    Ok(sqlx::query_as(
        "SELECT COUNT(*) AS total, \
                COUNT(CASE WHEN is_active = 1 AND is_archived = 0 THEN 1 END) AS active, \
                COUNT(CASE WHEN is_archived = 0 AND starts_at > $1 THEN 1 END) AS upcoming, \
                COUNT(CASE WHEN is_archived = 0 AND is_active = 1 AND starts_at <= $2 AND ends_at > $3 THEN 1 END) AS live, \
                COUNT(CASE WHEN is_archived = 1 THEN 1 END) AS archived \
         FROM events",
    )
    .bind(now)
    .bind(now)
    .bind(now)
    .fetch_one(store.pool())
    .await?)
}
