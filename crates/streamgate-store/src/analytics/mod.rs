//! Audience analytics: how many watched an event, at the peak, for how long, and per
//! code (issue 21).
//!
//! Everything is derived from the `sessions` table, which every platform instance
//! shares: a session's row holds its start, its last heartbeat (each heartbeat moves
//! it) and its end, so the database alone knows who watched when, and no instance
//! keeps counts of its own. Minutes that can no longer change are sealed ([`seal`])
//! into `analytics_minutes` (a row per minute with viewers) with the ended sessions'
//! count and watch time summed in `analytics_events`; a query reads those and derives
//! only the unsealed tail from the sessions still open or ended since. Storage grows by
//! one row per session and one per minute with viewers, never per heartbeat, and
//! [`prune`] bounds it by age (`platform.analytics_retention_days`).
//!
//! A session counts from its start until its last sign of life:
//! - ended by release or by an operator: until it ended, unless its last heartbeat was
//!   more than the session timeout before that (the viewer was gone already: a laptop
//!   that slept and sent its release on waking), then until that heartbeat;
//! - ended by timeout, or open with a heartbeat older than the timeout: until its last
//!   heartbeat (the platform learns of a timeout only when the code is used again);
//! - live: until now.
//!
//! The timeline has a point a minute: the most viewers watching at the same moment
//! within that minute. Starts and ends become +1 and -1 events, a running sum in time
//! order (ends before starts at the same millisecond, so a reload is not two viewers)
//! gives the concurrency after each event, and the maximum per minute is the point.
//! The database does the sort and the sum; one row per active minute comes back.

mod seal;
mod timeline;

pub use seal::{seal, seal_event};
pub use timeline::MAX_POINTS;
use timeline::Minute;

use streamgate_core::{EventId, SessionId};

use crate::{Store, StoreError};

/// A minute, in Unix milliseconds.
pub const MINUTE_MS: i64 = 60_000;

/// The instant the figures are computed for, and the session timeout that decides
/// which open sessions are still live.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Now, Unix ms.
    pub now: i64,
    /// `platform.session_timeout_seconds` in ms.
    pub timeout_ms: i64,
}

/// One point of the concurrent-viewer timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    /// Start of the bucket, Unix ms.
    pub at: i64,
    /// Most viewers watching at one moment within the bucket.
    pub viewers: i64,
}

/// An event's audience figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventAnalytics {
    /// Most viewers watching at one moment.
    pub peak_viewers: i64,
    /// Start of the minute of the first peak, Unix ms (`None`: nobody watched).
    pub peak_at: Option<i64>,
    /// Codes that started a session (a code is a ticket, so a viewer).
    pub unique_viewers: i64,
    /// Sessions started (reloads and device changes make more than one per code).
    pub sessions: i64,
    /// Total watch time, ms.
    pub watch_ms: i64,
    /// Sessions live now.
    pub viewers_now: i64,
    /// Width of a timeline bucket, ms (a minute unless the span is long).
    pub interval_ms: i64,
    /// The timeline, one point per bucket from the first minute with viewers to the
    /// last.
    pub timeline: Vec<Point>,
}

/// The sessions of event `$1` that may still count at or after `$4` (open, or ended
/// since), with their effective end `e` by the rule of the module documentation; `$2`
/// is now and `$3` the session timeout, in ms. `extra` narrows it further.
fn spans(extra: &str) -> String {
    format!(
        "SELECT s.code_id, s.client_ip, s.user_agent, s.started_at AS b, \
         CASE WHEN s.ended_at IS NOT NULL AND s.end_reason <> 'timeout' \
                   AND s.ended_at - s.last_heartbeat <= $3 THEN s.ended_at \
              WHEN s.ended_at IS NULL AND s.last_heartbeat >= $2 - $3 THEN $2 \
              ELSE s.last_heartbeat END AS e, \
         CASE WHEN s.ended_at IS NULL AND s.last_heartbeat >= $2 - $3 THEN 1 ELSE 0 END AS live \
         FROM sessions s WHERE s.event_id = $1 AND s.started_at <= $2 \
         AND (s.ended_at IS NULL OR s.ended_at >= $4){extra}"
    )
}

/// Figures of the sessions [`spans`] selects.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
struct Totals {
    /// How many.
    #[sqlx(rename = "n")]
    sessions: i64,
    /// Their watch time, ms.
    watch_ms: i64,
    /// How many are live.
    live: i64,
    /// How many started before `since` and still watched at it.
    carried: i64,
}

/// [`Totals`] of the sessions [`spans`] selects.
async fn span_totals(
    store: &Store,
    event_id: &EventId,
    clock: Clock,
    since: i64,
    extra: &str,
) -> Result<Totals, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n, \
         CAST(COALESCE(SUM(CASE WHEN e > b THEN e - b ELSE 0 END), 0) AS BIGINT) AS watch_ms, \
         CAST(COALESCE(SUM(live), 0) AS BIGINT) AS live, \
         CAST(COALESCE(SUM(CASE WHEN b < $4 AND e >= $4 THEN 1 ELSE 0 END), 0) AS BIGINT) AS carried \
         FROM ({}) spans",
        spans(extra)
    )))
    .bind(event_id)
    .bind(clock.now)
    .bind(clock.timeout_ms)
    .bind(since)
    .fetch_one(store.pool())
    .await?)
}

/// A row of [`minutes`]' query, before the first change's time becomes a flag.
#[derive(sqlx::FromRow)]
struct MinuteRow {
    m: i64,
    peak: i64,
    net: i64,
    first_t: i64,
}

/// The running-sum rows of the changes at or after `since` (starts since, and ends
/// since of sessions not live), the sum counted from 0: add the viewers carried in.
/// Only recent changes are sorted, so a query costs what the last minutes hold, not
/// what the whole event holds; the live sessions' ends (now) are left out, as they
/// only say that the timeline stops.
async fn minutes(
    store: &Store,
    event_id: &EventId,
    clock: Clock,
    since: i64,
) -> Result<Vec<Minute>, StoreError> {
    let rows: Vec<MinuteRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "WITH spans AS ({}), \
         pts AS (SELECT b AS t, 1 AS d FROM spans WHERE b >= $4 \
                 UNION ALL SELECT CASE WHEN e < b THEN b ELSE e END AS t, -1 AS d FROM spans \
                 WHERE live = 0 AND e >= $4), \
         run AS (SELECT t, d, SUM(d) OVER (ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS v FROM pts) \
         SELECT t / {MINUTE_MS} AS m, MAX(v) AS peak, SUM(d) AS net, MIN(t) AS first_t \
         FROM run GROUP BY t / {MINUTE_MS} ORDER BY m",
        spans("")
    )))
    .bind(event_id)
    .bind(clock.now)
    .bind(clock.timeout_ms)
    .bind(since)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Minute {
            minute: row.m,
            peak: row.peak,
            net: row.net,
            starts_changed: row.first_t == row.m * MINUTE_MS,
        })
        .collect())
}

/// The sessions that may count at or after `since` (Unix ms, minute-aligned): their
/// totals, and viewers per minute (Unix minute, viewers) from `since` to now.
async fn tail(
    store: &Store,
    event_id: &EventId,
    clock: Clock,
    since: i64,
) -> Result<(Totals, Vec<(i64, i64)>), StoreError> {
    let totals = span_totals(store, event_id, clock, since, "").await?;
    let first = since.div_euclid(MINUTE_MS);
    // The viewers carried in, as changes in the minute before (left out when none, so
    // that the minutes filled in start at the first change).
    let mut rows: Vec<Minute> = (totals.carried > 0)
        .then_some(Minute {
            minute: first - 1,
            peak: totals.carried,
            net: totals.carried,
            starts_changed: false,
        })
        .into_iter()
        .collect();
    rows.extend(
        minutes(store, event_id, clock, since)
            .await?
            .into_iter()
            .map(|m| Minute {
                peak: m.peak + totals.carried,
                ..m
            }),
    );
    let mut values: Vec<(i64, i64)> = timeline::per_minute(&rows)
        .into_iter()
        .filter(|(m, _)| *m >= first)
        .collect();
    // Whoever is still watching watches until now.
    if totals.live > 0 {
        let now = clock.now.div_euclid(MINUTE_MS);
        // With no change since `since`, the live ones were carried in from before it.
        let quiet_from = if totals.carried > 0 { first } else { now };
        let from = values.last().map_or(quiet_from, |(m, _)| m + 1);
        values.extend((from..=now).map(|m| (m, totals.live)));
    }
    Ok((totals, values))
}

/// What sealing left for an event: minutes before `sealed_until` are in
/// `analytics_minutes`, sessions ended before it are summed.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
struct Sealed {
    #[sqlx(rename = "sealed_until")]
    until: i64,
    sessions: i64,
    watch_ms: i64,
}

async fn sealed(store: &Store, event_id: &EventId) -> Result<Sealed, StoreError> {
    let sealed: Option<Sealed> = sqlx::query_as(
        "SELECT sealed_until, sessions, watch_ms FROM analytics_events WHERE event_id = $1",
    )
    .bind(event_id)
    .fetch_optional(store.pool())
    .await?;
    Ok(sealed.unwrap_or_default())
}

/// The audience figures of `event_id` as of `clock.now`: sealed minutes and totals
/// from the analytics tables, the rest from the sessions open or ended since.
pub async fn event_analytics(
    store: &Store,
    event_id: &EventId,
    clock: Clock,
) -> Result<EventAnalytics, StoreError> {
    let sealed = sealed(store, event_id).await?;
    let (totals, recent) = tail(store, event_id, clock, sealed.until).await?;
    let unique: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) AS n FROM access_codes WHERE event_id = $1 AND redeemed_at IS NOT NULL",
    )
    .bind(event_id)
    .fetch_one(store.pool())
    .await?;
    let mut values: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT minute, viewers FROM analytics_minutes WHERE event_id = $1 AND minute < $2 ORDER BY minute",
    )
    .bind(event_id)
    .bind(sealed.until / MINUTE_MS)
    .fetch_all(store.pool())
    .await?;
    values.extend(recent);
    let (timeline, interval_ms) = timeline::buckets(&values, MAX_POINTS);
    let peak = timeline::peak(&values);
    Ok(EventAnalytics {
        peak_viewers: peak.map_or(0, |p| p.1),
        peak_at: peak.map(|p| p.0 * MINUTE_MS),
        unique_viewers: unique,
        sessions: sealed.sessions + totals.sessions,
        watch_ms: sealed.watch_ms + totals.watch_ms,
        viewers_now: totals.live,
        interval_ms,
        timeline,
    })
}

/// One code's audience figures, for the export.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CodeStats {
    /// The code.
    pub code: String,
    /// Its label.
    pub label: Option<String>,
    /// First redemption, Unix ms.
    #[sqlx(rename = "redeemed_at")]
    pub first_seen: Option<i64>,
    /// End of its latest session (now, while live), Unix ms.
    pub last_seen: Option<i64>,
    /// Sessions started with it.
    pub sessions: i64,
    /// Total watch time, ms.
    pub watch_ms: i64,
    /// Distinct user agents.
    pub devices: i64,
    /// Distinct client addresses.
    pub addresses: i64,
}

/// Every code of `event_id` with its figures, in creation order (unused codes too,
/// with zeros).
pub async fn code_stats(
    store: &Store,
    event_id: &EventId,
    clock: Clock,
) -> Result<Vec<CodeStats>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT c.code, c.label, c.redeemed_at, COALESCE(x.sessions, 0) AS sessions, \
         COALESCE(x.watch_ms, 0) AS watch_ms, COALESCE(x.devices, 0) AS devices, \
         COALESCE(x.addresses, 0) AS addresses, x.last_seen \
         FROM access_codes c LEFT JOIN ( \
           SELECT code_id, COUNT(*) AS sessions, \
             CAST(SUM(CASE WHEN e > b THEN e - b ELSE 0 END) AS BIGINT) AS watch_ms, \
             COUNT(DISTINCT user_agent) AS devices, COUNT(DISTINCT client_ip) AS addresses, \
             MAX(e) AS last_seen \
           FROM ({}) spans GROUP BY code_id) x ON x.code_id = c.id \
         WHERE c.event_id = $1 ORDER BY c.created_at, c.code",
        spans("")
    )))
    .bind(event_id)
    .bind(clock.now)
    .bind(clock.timeout_ms)
    .bind(0_i64)
    .fetch_all(store.pool())
    .await?)
}

/// Live sessions per event, most watched first: the `/metrics` gauge and the
/// dashboard's chart. Events on air by their schedule (active, not archived) are
/// listed with 0 when nobody watches, so their series drops to 0 instead of vanishing.
pub async fn viewers_by_event(
    store: &Store,
    clock: Clock,
) -> Result<Vec<(EventId, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT e.id AS event_id, COUNT(s.id) AS n FROM events e \
         LEFT JOIN sessions s ON s.event_id = e.id AND s.ended_at IS NULL AND s.last_heartbeat >= $1 \
         WHERE s.id IS NOT NULL \
            OR (e.is_active = 1 AND e.is_archived = 0 AND e.starts_at <= $2 AND e.ends_at > $2) \
         GROUP BY e.id ORDER BY n DESC, e.id",
    )
    .bind(clock.now - clock.timeout_ms)
    .bind(clock.now)
    .fetch_all(store.pool())
    .await?)
}

/// The event a session belongs to (`None`: no such session).
pub async fn session_event(
    store: &Store,
    session_id: &SessionId,
) -> Result<Option<EventId>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT event_id FROM sessions WHERE id = $1")
            .bind(session_id)
            .fetch_optional(store.pool())
            .await?,
    )
}

/// Deletes sessions that showed no life since `before` (Unix ms): ended ones, and open
/// ones abandoned long ago (their tokens expired long before), and the sealed minutes
/// before it. The per-code figures and the timeline of that time go with them; an
/// event's totals (one row per event) and its codes' first redemptions stay. Returns
/// how many sessions were deleted.
pub async fn prune(store: &Store, before: i64) -> Result<u64, StoreError> {
    let mut tx = store.begin_write().await?;
    let deleted = sqlx::query(
        "DELETE FROM sessions WHERE last_heartbeat < $1 AND (ended_at IS NULL OR ended_at < $1)",
    )
    .bind(before)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM analytics_minutes WHERE minute < $1")
        .bind(before / MINUTE_MS)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(deleted)
}
