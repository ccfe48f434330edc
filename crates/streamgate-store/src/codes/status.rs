//! A code's status (SPEC section 2) and its SQL twin, and the per-event counts by status.
//!
//! The rule lives twice, in [`CodeStatus::derive`] for rows already read and in
//! `status_sql` for filters and counts done by the database; the table-driven test in
//! `tests/it/code_status.rs` pins the two together on both engines.

use streamgate_core::EventId;

use crate::{StoreError, now_ms};

/// A viewer-facing status, derived from the row and its sessions (SPEC section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeStatus {
    /// Never redeemed.
    Unused,
    /// Redeemed, no live session now.
    Redeemed,
    /// A live session now.
    Active,
    /// Past its `expires_at`.
    Expired,
    /// Revoked, or its batch suspended; wins over expired.
    Revoked,
}

impl CodeStatus {
    /// The spelling used in the API and CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeStatus::Unused => "unused",
            CodeStatus::Redeemed => "redeemed",
            CodeStatus::Active => "active",
            CodeStatus::Expired => "expired",
            CodeStatus::Revoked => "revoked",
        }
    }

    /// Derives the status; `live` says whether a non-stale session exists.
    pub fn derive(revoked: bool, expires_at: i64, redeemed: bool, live: bool, now: i64) -> Self {
        if revoked {
            CodeStatus::Revoked
        } else if expires_at <= now {
            CodeStatus::Expired
        } else if live {
            CodeStatus::Active
        } else if redeemed {
            CodeStatus::Redeemed
        } else {
            CodeStatus::Unused
        }
    }
}

/// The status of `c` (an `access_codes` row) in SQL, the same rules as
/// [`CodeStatus::derive`]: `$NOW` and `$LIVE_AFTER` are the placeholders for now and for
/// the oldest heartbeat that still counts as live.
pub(super) fn status_sql(now: usize, live_after: usize) -> String {
    format!(
        "CASE WHEN c.is_revoked <> 0 OR c.is_suspended <> 0 THEN 'revoked' \
              WHEN c.expires_at <= ${now} THEN 'expired' \
              WHEN EXISTS (SELECT 1 FROM sessions s WHERE s.code_id = c.id AND s.ended_at IS NULL AND s.last_heartbeat > ${live_after}) THEN 'active' \
              WHEN c.redeemed_at IS NOT NULL THEN 'redeemed' \
              ELSE 'unused' END"
    )
}

/// The stored or SQL-derived spelling, for the derived `FromRow` of [`super::CodeRow`].
impl TryFrom<String> for CodeStatus {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl std::str::FromStr for CodeStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "unused" => CodeStatus::Unused,
            "redeemed" => CodeStatus::Redeemed,
            "active" => CodeStatus::Active,
            "expired" => CodeStatus::Expired,
            "revoked" => CodeStatus::Revoked,
            other => {
                return Err(format!(
                    "unknown status {other:?}: use unused, redeemed, active, expired or revoked"
                ));
            }
        })
    }
}

/// Codes by status, per event (`None` key: every event together).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    /// Never redeemed.
    pub unused: i64,
    /// Redeemed, no live session.
    pub redeemed: i64,
    /// A live session now.
    pub active: i64,
    /// Past expiry.
    pub expired: i64,
    /// Revoked or suspended.
    pub revoked: i64,
}

impl StatusCounts {
    /// All codes.
    pub fn total(&self) -> i64 {
        self.unused + self.redeemed + self.active + self.expired + self.revoked
    }

    /// Adds another event's counts to these (the dashboard's totals).
    pub fn merge(&mut self, other: &StatusCounts) {
        self.unused += other.unused;
        self.redeemed += other.redeemed;
        self.active += other.active;
        self.expired += other.expired;
        self.revoked += other.revoked;
    }

    fn add(&mut self, status: CodeStatus, n: i64) {
        match status {
            CodeStatus::Unused => self.unused += n,
            CodeStatus::Redeemed => self.redeemed += n,
            CodeStatus::Active => self.active += n,
            CodeStatus::Expired => self.expired += n,
            CodeStatus::Revoked => self.revoked += n,
        }
    }
}

/// Code counts by status for each event that has codes: of `events` only (the page
/// a listing shows), or of every event when `None` (the dashboard).
pub async fn status_counts(
    store: &crate::Store,
    events: Option<&[&EventId]>,
    session_timeout_ms: i64,
) -> Result<std::collections::HashMap<EventId, StatusCounts>, StoreError> {
    let now = now_ms();
    let filter = match events {
        Some([]) => return Ok(std::collections::HashMap::new()),
        Some(ids) => format!(
            " WHERE c.event_id IN ({})",
            crate::params::Params::after(2).list(ids.len())
        ),
        None => String::new(),
    };
    let sql = format!(
        "SELECT event_id, status, COUNT(*) AS n FROM \
         (SELECT c.event_id, {} AS status FROM access_codes c{filter}) x GROUP BY event_id, status",
        status_sql(1, 2)
    );
    let mut query = sqlx::query_as::<_, (EventId, String, i64)>(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .bind(now - session_timeout_ms);
    for id in events.unwrap_or_default() {
        query = query.bind(*id);
    }
    let rows = query.fetch_all(store.pool()).await?;
    let mut counts = std::collections::HashMap::<EventId, StatusCounts>::new();
    for (event_id, status, n) in rows {
        let Ok(status) = status.parse::<CodeStatus>() else {
            continue;
        };
        counts.entry(event_id).or_default().add(status, n);
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::CodeStatus;

    #[test]
    fn revoked_wins_over_expired_and_live_over_redeemed() {
        assert_eq!(
            CodeStatus::derive(true, 0, true, true, 10),
            CodeStatus::Revoked
        );
        assert_eq!(
            CodeStatus::derive(false, 10, true, true, 10),
            CodeStatus::Expired
        );
        assert_eq!(
            CodeStatus::derive(false, 20, true, true, 10),
            CodeStatus::Active
        );
        assert_eq!(
            CodeStatus::derive(false, 20, true, false, 10),
            CodeStatus::Redeemed
        );
        assert_eq!(
            CodeStatus::derive(false, 20, false, false, 10),
            CodeStatus::Unused
        );
    }
}
