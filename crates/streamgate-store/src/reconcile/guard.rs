//! The destroy guard: what an event that is about to leave the file still holds.
//!
//! Retiring an event (deactivate and archive) takes its viewers offline. That is
//! right when the operator means it and a disaster when a save was cut short, a
//! ConfigMap came up empty or a block was deleted by mistake. So an event removed from
//! the file is retired only when nobody can be hurt by it: no unexpired, unrevoked code
//! of it has been redeemed and nobody is watching. Otherwise the plan refuses, naming
//! the event and the two deliberate ways (`active = false` / `archived = true` in the
//! file, or `streamgate apply --allow-retire`). The same rule runs for hot reload,
//! start-up and `apply`, so `plan` shows exactly what each would do.

use std::fmt;

use sqlx::AnyConnection;

use crate::StoreError;

/// What a removed event still has that a retire would take away.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Holdings {
    /// Redeemed codes that are neither revoked nor expired: tickets people use.
    pub redeemed_valid: u64,
    /// Sessions with a heartbeat within the session timeout: people watching now.
    pub live_sessions: u64,
}

impl Holdings {
    /// Whether retiring the event would cut anyone off.
    pub fn is_empty(&self) -> bool {
        self.redeemed_valid == 0 && self.live_sessions == 0
    }
}

impl fmt::Display for Holdings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural =
            |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut parts = Vec::new();
        if self.redeemed_valid > 0 {
            parts.push(plural(
                self.redeemed_valid,
                "redeemed code still valid",
                "redeemed codes still valid",
            ));
        }
        if self.live_sessions > 0 {
            parts.push(plural(
                self.live_sessions,
                "viewer watching now",
                "viewers watching now",
            ));
        }
        f.write_str(&parts.join(", "))
    }
}

/// Reads what `event_id` holds at `now` (Unix ms), counting sessions whose last
/// heartbeat is within `session_timeout_ms`.
pub(super) async fn holdings(
    conn: &mut AnyConnection,
    event_id: &str,
    now: i64,
    session_timeout_ms: i64,
) -> Result<Holdings, StoreError> {
    let redeemed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) AS n FROM access_codes \
         WHERE event_id = $1 AND redeemed_at IS NOT NULL AND is_revoked = 0 AND expires_at > $2",
    )
    .bind(event_id)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let live: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) AS n FROM sessions \
         WHERE event_id = $1 AND ended_at IS NULL AND last_heartbeat >= $2",
    )
    .bind(event_id)
    .bind(now - session_timeout_ms)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Holdings {
        redeemed_valid: u64::try_from(redeemed).unwrap_or(0),
        live_sessions: u64::try_from(live).unwrap_or(0),
    })
}

/// The refusal for retiring `events` (id and holdings), naming each and the ways to
/// do it on purpose.
pub(super) fn refusal(events: &[(String, Holdings)]) -> String {
    let list: Vec<String> = events
        .iter()
        .map(|(id, h)| format!("`{id}` ({h})"))
        .collect();
    format!(
        "refusing to retire {} removed from the file: {}. If this is intended, keep the \
         event's block and set `active = false` (or `archived = true`), or run \
         `streamgate apply --allow-retire`; if not, restore the block",
        if events.len() == 1 {
            "an event"
        } else {
            "events"
        },
        list.join(", ")
    )
}
