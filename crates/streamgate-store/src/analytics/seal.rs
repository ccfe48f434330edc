//! Sealing: writing down the minutes that can no longer change, so that a query reads
//! them instead of recomputing them from every session of a big event.
//!
//! A minute is final once it is older than the session timeout (plus a minute of
//! margin for clocks): every session that covered it has either ended (its end is
//! fixed) or is open, and an open session only moves its end forward from a heartbeat
//! within the timeout. (A session that went stale and then heartbeats again is counted
//! from then on; the sealed minutes between say it was not watched, which it was not.)
//!
//! Any platform instance may seal, at any time, as often as it likes: each step moves
//! `analytics_events.sealed_until` from the value it read to the new one in one
//! transaction, guarded by that value, so of two instances racing one writes and the
//! other's transaction changes nothing.

use super::{Clock, MINUTE_MS, span_totals, tail};
use streamgate_core::EventId;

use crate::{Store, StoreError};

/// Minutes per insert statement.
const BATCH: usize = 200;

/// Where sealing may go up to at `clock`: minute-aligned, a timeout and a minute back.
pub fn seal_target(clock: Clock) -> i64 {
    (clock.now - clock.timeout_ms).div_euclid(MINUTE_MS) * MINUTE_MS - MINUTE_MS
}

/// Seals every event with sessions that may still count past its sealed point.
/// Returns how many events advanced.
pub async fn seal(store: &Store, clock: Clock) -> Result<usize, StoreError> {
    let ids: Vec<EventId> = sqlx::query_scalar(
        "SELECT e.id FROM events e LEFT JOIN analytics_events a ON a.event_id = e.id \
         WHERE EXISTS (SELECT 1 FROM sessions s WHERE s.event_id = e.id \
           AND (s.ended_at IS NULL OR s.ended_at >= COALESCE(a.sealed_until, 0)))",
    )
    .fetch_all(store.pool())
    .await?;
    let mut advanced = 0;
    for id in ids {
        if seal_event(store, &id, clock).await? {
            advanced += 1;
        }
    }
    Ok(advanced)
}

/// Seals the final minutes of `event_id`. Returns whether it advanced (false: nothing
/// to seal yet, or another instance sealed the same minutes first).
pub async fn seal_event(
    store: &Store,
    event_id: &EventId,
    clock: Clock,
) -> Result<bool, StoreError> {
    let target = seal_target(clock);
    let current: Option<i64> =
        sqlx::query_scalar("SELECT sealed_until FROM analytics_events WHERE event_id = $1")
            .bind(event_id)
            .fetch_optional(store.pool())
            .await?;
    let from = match current {
        Some(until) => until,
        None => {
            let first: Option<i64> =
                sqlx::query_scalar("SELECT MIN(started_at) AS b FROM sessions WHERE event_id = $1")
                    .bind(event_id)
                    .fetch_one(store.pool())
                    .await?;
            match first {
                Some(b) => b.div_euclid(MINUTE_MS) * MINUTE_MS,
                None => return Ok(false),
            }
        }
    };
    if from >= target {
        return Ok(false);
    }
    let last = target / MINUTE_MS;
    let values: Vec<(i64, i64)> = tail(store, event_id, clock, from)
        .await?
        .1
        .into_iter()
        .filter(|(m, v)| *m < last && *v > 0)
        .collect();
    // The sessions that ended between the two points join the sealed totals.
    let ended = span_totals(
        store,
        event_id,
        clock,
        from,
        &format!(" AND s.ended_at < {target}"),
    )
    .await?;
    write(store, event_id, current, target, ended, &values).await
}

/// Moves the sealed point from `current` to `target` with the ended sessions' totals
/// and writes the minutes, unless another instance moved it first.
async fn write(
    store: &Store,
    event_id: &EventId,
    current: Option<i64>,
    target: i64,
    ended: super::Totals,
    values: &[(i64, i64)],
) -> Result<bool, StoreError> {
    let mut tx = store.begin_write().await?;
    let moved = match current {
        Some(until) => sqlx::query(
            "UPDATE analytics_events SET sealed_until = $1, sessions = sessions + $2, \
             watch_ms = watch_ms + $3 WHERE event_id = $4 AND sealed_until = $5",
        )
        .bind(target)
        .bind(ended.sessions)
        .bind(ended.watch_ms)
        .bind(event_id)
        .bind(until),
        None => sqlx::query(
            "INSERT INTO analytics_events (sealed_until, sessions, watch_ms, event_id) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(target)
        .bind(ended.sessions)
        .bind(ended.watch_ms)
        .bind(event_id),
    }
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved == 0 {
        return Ok(false);
    }
    for chunk in values.chunks(BATCH) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|(m, v)| format!("($1, {m}, {v})"))
            .collect();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO analytics_minutes (event_id, minute, viewers) VALUES {} \
             ON CONFLICT (event_id, minute) DO NOTHING",
            rows.join(", ")
        )))
        .bind(event_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}
