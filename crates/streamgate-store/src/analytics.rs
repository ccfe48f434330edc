//! Audience analytics: how many watched an event, at the peak, for how long, and per
//! code (issue 21).
//!
//! Everything is derived in SQL from the `sessions` table, which every platform
//! instance shares: a session's row holds its start, its last heartbeat (each heartbeat
//! moves it) and its end, so the database alone knows who watched when, and no instance
//! keeps counts of its own. Storage grows by one row per session, not per heartbeat or
//! per minute, and [`prune`] bounds it by age (`platform.analytics_retention_days`).
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
//! within that minute. Starts and ends become +1 and -1 events, a running sum in start
//! order (ends before starts at the same millisecond, so a reload is not two viewers)
//! gives the concurrency after each event, and the maximum per minute is the point.
//! The database does the sort and the sum; only one row per active minute comes back.

use sqlx::Row;

use crate::{Store, StoreError};

/// A minute, in Unix milliseconds.
pub const MINUTE_MS: i64 = 60_000;

/// Most points a timeline has: longer spans are put into wider buckets (2, 3, …
/// minutes), each the most viewers of its minutes, so a week of recordings still
/// draws as one chart.
pub const MAX_POINTS: i64 = 1440;

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
#[derive(Debug, Clone, PartialEq)]
pub struct EventAnalytics {
    /// Most viewers watching at one moment.
    pub peak_viewers: i64,
    /// Start of the minute of the first peak, Unix ms (`None`: nobody watched).
    pub peak_at: Option<i64>,
    /// Distinct codes that started a session (a code is a ticket, so a viewer).
    pub unique_viewers: i64,
    /// Sessions started (reloads and device changes make more than one per code).
    pub sessions: i64,
    /// Total watch time, ms.
    pub watch_ms: i64,
    /// Sessions live now.
    pub viewers_now: i64,
    /// Codes whose sessions came from more than one address: shared tickets.
    pub shared_codes: i64,
    /// Width of a timeline bucket, ms (a minute unless the span is long).
    pub interval_ms: i64,
    /// The timeline, one point per bucket from the first session's to the last's.
    pub timeline: Vec<Point>,
}

/// The part of the effective-end rule that every query shares; `$2` is now and `$3`
/// the session timeout, in ms. See the module documentation.
const SPANS: &str = "SELECT s.code_id, s.client_ip, s.user_agent, s.started_at AS b, \
     CASE WHEN s.ended_at IS NOT NULL AND s.end_reason <> 'timeout' \
               AND s.ended_at - s.last_heartbeat <= $3 THEN s.ended_at \
          WHEN s.ended_at IS NULL AND s.last_heartbeat >= $2 - $3 THEN $2 \
          ELSE s.last_heartbeat END AS e, \
     CASE WHEN s.ended_at IS NULL AND s.last_heartbeat >= $2 - $3 THEN 1 ELSE 0 END AS live \
     FROM sessions s WHERE s.event_id = $1 AND s.started_at <= $2";

/// A minute with starts or ends in it: the most viewers at one moment in it, the net
/// change over it, and whether a change came at its very first millisecond (then the
/// viewers carried in from the minute before never held during it).
#[derive(Debug, Clone, Copy)]
struct Minute {
    minute: i64,
    peak: i64,
    net: i64,
    starts_changed: bool,
}

/// The audience figures of `event_id` as of `clock.now`.
pub async fn event_analytics(
    store: &Store,
    event_id: &str,
    clock: Clock,
) -> Result<EventAnalytics, StoreError> {
    let totals = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS sessions, COUNT(DISTINCT code_id) AS viewers, \
         CAST(COALESCE(SUM(CASE WHEN e > b THEN e - b ELSE 0 END), 0) AS BIGINT) AS watch_ms, \
         CAST(COALESCE(SUM(live), 0) AS BIGINT) AS live FROM ({SPANS}) spans"
    )))
    .bind(event_id)
    .bind(clock.now)
    .bind(clock.timeout_ms)
    .fetch_one(store.pool())
    .await?;
    let shared = sqlx::query(
        "SELECT COUNT(*) AS n FROM (SELECT code_id FROM sessions WHERE event_id = $1 \
         GROUP BY code_id HAVING COUNT(DISTINCT client_ip) > 1) shared",
    )
    .bind(event_id)
    .fetch_one(store.pool())
    .await?;
    let minutes = minutes(store, event_id, clock).await?;
    let (timeline, interval_ms) = timeline(&minutes, MAX_POINTS);
    let peak = minutes
        .iter()
        .copied()
        .reduce(|best, m| if m.peak > best.peak { m } else { best });
    Ok(EventAnalytics {
        peak_viewers: peak.map_or(0, |m| m.peak.max(0)),
        peak_at: peak.filter(|m| m.peak > 0).map(|m| m.minute * MINUTE_MS),
        unique_viewers: totals.try_get("viewers")?,
        sessions: totals.try_get("sessions")?,
        watch_ms: totals.try_get("watch_ms")?,
        viewers_now: totals.try_get("live")?,
        shared_codes: shared.try_get("n")?,
        interval_ms,
        timeline,
    })
}

/// The minutes with starts or ends, in order, computed by the database.
async fn minutes(store: &Store, event_id: &str, clock: Clock) -> Result<Vec<Minute>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "WITH spans AS ({SPANS}), \
         pts AS (SELECT b AS t, 1 AS d FROM spans \
                 UNION ALL SELECT CASE WHEN e < b THEN b ELSE e END AS t, -1 AS d FROM spans), \
         run AS (SELECT t, d, SUM(d) OVER (ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS v FROM pts) \
         SELECT t / {MINUTE_MS} AS m, MAX(v) AS peak, SUM(d) AS net, MIN(t) AS first_t \
         FROM run GROUP BY t / {MINUTE_MS} ORDER BY m"
    )))
    .bind(event_id)
    .bind(clock.now)
    .bind(clock.timeout_ms)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let minute: i64 = row.try_get("m")?;
            Ok(Minute {
                minute,
                peak: row.try_get("peak")?,
                net: row.try_get("net")?,
                starts_changed: row.try_get::<i64, _>("first_t")? == minute * MINUTE_MS,
            })
        })
        .collect()
}

/// Fills the gaps between active minutes (a quiet minute keeps the viewers the last
/// active one ended with) and groups minutes into at most `max_points` buckets.
/// Returns the points and the bucket width in ms.
fn timeline(minutes: &[Minute], max_points: i64) -> (Vec<Point>, i64) {
    let (Some(first), Some(last)) = (minutes.first(), minutes.last()) else {
        return (Vec::new(), MINUTE_MS);
    };
    let span = last.minute - first.minute + 1;
    let width = (span + max_points - 1) / max_points.max(1);
    let mut points = Vec::new();
    let mut carry = 0_i64;
    let mut rows = minutes.iter().peekable();
    let mut start = first.minute;
    while start <= last.minute {
        let end = start + width;
        let mut viewers = 0;
        let mut minute = start;
        while let Some(m) = rows.next_if(|m| m.minute < end) {
            // The carry held from `minute` until this row's minute, and through the
            // start of this one unless a change came at its first millisecond.
            if m.minute > minute || !m.starts_changed {
                viewers = viewers.max(carry);
            }
            viewers = viewers.max(m.peak);
            carry += m.net;
            minute = m.minute + 1;
        }
        if minute < end {
            viewers = viewers.max(carry);
        }
        points.push(Point {
            at: start * MINUTE_MS,
            viewers: viewers.max(0),
        });
        start = end;
    }
    (points, width * MINUTE_MS)
}

/// One code's audience figures, for the export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeStats {
    /// The code.
    pub code: String,
    /// Its label.
    pub label: Option<String>,
    /// First redemption, Unix ms.
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
    event_id: &str,
    clock: Clock,
) -> Result<Vec<CodeStats>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT c.code, c.label, c.redeemed_at, x.sessions, x.watch_ms, x.devices, x.addresses, x.last_seen \
         FROM access_codes c LEFT JOIN ( \
           SELECT code_id, COUNT(*) AS sessions, \
             CAST(SUM(CASE WHEN e > b THEN e - b ELSE 0 END) AS BIGINT) AS watch_ms, \
             COUNT(DISTINCT user_agent) AS devices, COUNT(DISTINCT client_ip) AS addresses, \
             MAX(e) AS last_seen \
           FROM ({SPANS}) spans GROUP BY code_id) x ON x.code_id = c.id \
         WHERE c.event_id = $1 ORDER BY c.created_at, c.code"
    )))
    .bind(event_id)
    .bind(clock.now)
    .bind(clock.timeout_ms)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(CodeStats {
                code: row.try_get("code")?,
                label: row.try_get("label")?,
                first_seen: row.try_get("redeemed_at")?,
                last_seen: row.try_get("last_seen")?,
                sessions: row.try_get::<Option<i64>, _>("sessions")?.unwrap_or(0),
                watch_ms: row.try_get::<Option<i64>, _>("watch_ms")?.unwrap_or(0),
                devices: row.try_get::<Option<i64>, _>("devices")?.unwrap_or(0),
                addresses: row.try_get::<Option<i64>, _>("addresses")?.unwrap_or(0),
            })
        })
        .collect()
}

/// Live sessions per event, most watched first: the `/metrics` gauge.
pub async fn viewers_by_event(store: &Store, clock: Clock) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT event_id, COUNT(*) AS n FROM sessions \
         WHERE ended_at IS NULL AND last_heartbeat >= $1 \
         GROUP BY event_id ORDER BY n DESC, event_id",
    )
    .bind(clock.now - clock.timeout_ms)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("event_id")?, row.try_get("n")?)))
        .collect()
}

/// The event a session belongs to (`None`: no such session).
pub async fn session_event(store: &Store, session_id: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT event_id FROM sessions WHERE id = $1")
        .bind(session_id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| r.try_get("event_id")).transpose()?)
}

/// Deletes sessions that showed no life since `before` (Unix ms): ended ones, and open
/// ones abandoned long ago (their tokens expired long before). Their analytics go with
/// them; codes keep their first redemption. Returns how many were deleted.
pub async fn prune(store: &Store, before: i64) -> Result<u64, StoreError> {
    let mut tx = store.begin_write().await?;
    let deleted = sqlx::query(
        "DELETE FROM sessions WHERE last_heartbeat < $1 AND (ended_at IS NULL OR ended_at < $1)",
    )
    .bind(before)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(minute: i64, peak: i64, net: i64) -> Minute {
        Minute {
            minute,
            peak,
            net,
            starts_changed: false,
        }
    }

    #[test]
    fn quiet_minutes_keep_the_viewers_of_the_last_active_one() {
        // Two start in minute 10, one leaves in minute 13, the other in minute 15.
        let (points, width) = timeline(&[m(10, 2, 2), m(13, 2, -1), m(15, 1, -1)], MAX_POINTS);
        assert_eq!(width, MINUTE_MS);
        let viewers: Vec<i64> = points.iter().map(|p| p.viewers).collect();
        assert_eq!(viewers, [2, 2, 2, 2, 1, 1]);
        assert_eq!(points[0].at, 10 * MINUTE_MS);
        assert_eq!(points[5].at, 15 * MINUTE_MS);
    }

    #[test]
    fn long_spans_become_wider_buckets_holding_their_peak() {
        // 10 minutes into at most 4 points: buckets of 3 minutes.
        let minutes = [m(0, 1, 1), m(4, 5, 0), m(5, 5, -1), m(9, 0, 0)];
        let (points, width) = timeline(&minutes, 4);
        assert_eq!(width, 3 * MINUTE_MS);
        let viewers: Vec<(i64, i64)> = points.iter().map(|p| (p.at / MINUTE_MS, p.viewers)).collect();
        assert_eq!(viewers, [(0, 1), (3, 5), (6, 0), (9, 0)]);
    }

    #[test]
    fn an_end_at_the_first_millisecond_of_a_minute_is_not_counted_in_it() {
        // Three watch; one leaves at 5:00.000 exactly, so minute 5 had two at most.
        let mut left = m(5, 2, -1);
        left.starts_changed = true;
        let (points, _) = timeline(&[m(0, 3, 3), left], MAX_POINTS);
        let viewers: Vec<i64> = points.iter().map(|p| p.viewers).collect();
        assert_eq!(viewers, [3, 3, 3, 3, 3, 2]);
    }

    #[test]
    fn no_sessions_no_points() {
        assert_eq!(timeline(&[], MAX_POINTS), (Vec::new(), MINUTE_MS));
    }
}
