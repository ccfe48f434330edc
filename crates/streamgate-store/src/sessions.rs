//! Viewer sessions and the single-device rule.
//!
//! A redemption ([`redeem()`], in `redeem.rs`) checks the code, ends a stale session and
//! starts a new one in one write transaction that holds the code's row: SQLite's
//! `BEGIN IMMEDIATE` takes the database write lock, PostgreSQL's `SELECT ... FOR UPDATE`
//! takes the code's row lock. So under
//! any number of concurrent redemptions of one code, across processes too, exactly one
//! starts a session; the partial unique index on live sessions is the backstop.
//!
//! Every session end (release, timeout, takeover) is appended to the revocation log so
//! the HLS edges stop honouring that session's tokens.

use sqlx::AnyConnection;

use streamgate_core::{CodeId, EventId, SessionId};

use crate::events::EventRow;
use crate::logs::{self, Audit, Revocation, RevocationKind};
use crate::{Backend, Store, StoreError, now_ms};

mod redeem;

pub use redeem::{Redeem, Redemption, Viewer, redeem};

/// Why a session ended, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The viewer closed the page (release).
    Released,
    /// No heartbeat within the session timeout, found when the code was used again.
    Timeout,
    /// An operator ended it from the admin console.
    Forced,
}

impl EndReason {
    fn as_str(self) -> &'static str {
        match self {
            EndReason::Released => "released",
            EndReason::Timeout => "timeout",
            EndReason::Forced => "forced",
        }
    }
}

/// A code and its event, as the checks need them.
#[derive(sqlx::FromRow)]
struct CodeState {
    #[sqlx(try_from = "crate::row::Flag")]
    is_revoked: bool,
    #[sqlx(try_from = "crate::row::Flag")]
    is_suspended: bool,
    expires_at: i64,
    #[sqlx(flatten)]
    event: EventRow,
}

/// The code with row id `code_id` and its event (read without a lock: refresh and
/// heartbeat only read the code).
async fn code_state(
    conn: &mut AnyConnection,
    code_id: &CodeId,
) -> Result<Option<CodeState>, StoreError> {
    let state = sqlx::query_as(
        "SELECT c.is_revoked, c.is_suspended, c.expires_at, e.* \
         FROM access_codes c JOIN events e ON e.id = c.event_id WHERE c.id = $1",
    )
    .bind(code_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(state)
}

/// Ends a live session inside the caller's transaction and logs it for the edges.
/// Returns whether a live session was ended.
async fn end_in(
    conn: &mut AnyConnection,
    backend: Backend,
    session_id: &str,
    event_id: &EventId,
    code_id: &str,
    reason: EndReason,
) -> Result<bool, StoreError> {
    let ended = sqlx::query(
        "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL",
    )
    .bind(now_ms())
    .bind(reason.as_str())
    .bind(session_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if ended > 0 {
        logs::append_revocations(
            conn,
            backend,
            &[Revocation {
                kind: RevocationKind::SessionEnded,
                event_id: event_id.as_str(),
                code_id: Some(code_id),
                session_id: Some(session_id),
            }],
        )
        .await?;
    }
    Ok(ended > 0)
}

/// Where a token's session stands, for refresh and heartbeat.
#[derive(Debug, Clone)]
pub enum SessionCheck {
    /// Live, and the code and event still allow playback.
    Live {
        /// The code's fixed expiry, Unix ms (a new token never outlives it).
        expires_at: i64,
        /// The event.
        event: EventRow,
    },
    /// The code was deleted.
    UnknownCode,
    /// The code is revoked or suspended.
    Revoked,
    /// The event is deactivated.
    EventInactive,
    /// The code has expired.
    Expired,
    /// The session ended and nobody else holds the code.
    Gone,
    /// The session ended and another session holds the code now.
    TakenOver,
}

/// Why a code and its event no longer allow playback at `now`, if they do not: the
/// checks refresh, heartbeat and the session-events stream share.
fn code_refusal(state: &CodeState, now: i64) -> Option<SessionCheck> {
    if state.is_revoked || state.is_suspended {
        Some(SessionCheck::Revoked)
    } else if !state.event.is_active {
        Some(SessionCheck::EventInactive)
    } else if state.expires_at <= now {
        Some(SessionCheck::Expired)
    } else {
        None
    }
}

/// Checks a token's code, event and session, and when all is well records a heartbeat.
/// Used by refresh (which also checks the code and event) and heartbeat.
pub async fn touch(
    store: &Store,
    code_id: &CodeId,
    session_id: &SessionId,
    check_code: bool,
) -> Result<SessionCheck, StoreError> {
    let mut conn = store.pool().acquire().await?;
    let now = now_ms();
    let Some(state) = code_state(&mut conn, code_id).await? else {
        return Ok(SessionCheck::UnknownCode);
    };
    if check_code && let Some(refused) = code_refusal(&state, now) {
        return Ok(refused);
    }
    let touched = sqlx::query(
        "UPDATE sessions SET last_heartbeat = $1 WHERE id = $2 AND code_id = $3 AND ended_at IS NULL",
    )
    .bind(now)
    .bind(session_id)
    .bind(code_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if touched > 0 {
        return Ok(SessionCheck::Live {
            expires_at: state.expires_at,
            event: state.event,
        });
    }
    let other: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) AS n FROM sessions WHERE code_id = $1 AND ended_at IS NULL AND id <> $2",
    )
    .bind(code_id)
    .bind(session_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(if other > 0 {
        SessionCheck::TakenOver
    } else {
        SessionCheck::Gone
    })
}

/// [`touch`] without writing anything: whether the session may still play (code, event
/// and session), for the session-events stream an open player listens to. No heartbeat
/// is recorded, so a stream left open never keeps a closed player's session alive.
pub async fn check(
    store: &Store,
    code_id: &CodeId,
    session_id: &SessionId,
) -> Result<SessionCheck, StoreError> {
    let mut conn = store.pool().acquire().await?;
    let now = now_ms();
    let Some(state) = code_state(&mut conn, code_id).await? else {
        return Ok(SessionCheck::UnknownCode);
    };
    if let Some(refused) = code_refusal(&state, now) {
        return Ok(refused);
    }
    let open: Vec<SessionId> =
        sqlx::query_scalar("SELECT id FROM sessions WHERE code_id = $1 AND ended_at IS NULL")
            .bind(code_id)
            .fetch_all(&mut *conn)
            .await?;
    Ok(if open.iter().any(|id| id == session_id) {
        SessionCheck::Live {
            expires_at: state.expires_at,
            event: state.event,
        }
    } else if open.is_empty() {
        SessionCheck::Gone
    } else {
        SessionCheck::TakenOver
    })
}

/// Ends a session (viewer release or operator force). Returns whether it was live
/// (`Some(false)`: it had ended already, which is not an error), or `None` when no
/// such session exists.
pub async fn end(
    store: &Store,
    session_id: &SessionId,
    reason: EndReason,
    actor: &str,
) -> Result<Option<bool>, StoreError> {
    let mut tx = store.begin_write().await?;
    let row: Option<(EventId, String)> =
        sqlx::query_as("SELECT event_id, code_id FROM sessions WHERE id = $1")
            .bind(session_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((event_id, code_id)) = row else {
        return Ok(None);
    };
    let ended = end_in(
        &mut tx,
        store.backend(),
        session_id.as_str(),
        &event_id,
        &code_id,
        reason,
    )
    .await?;
    if ended {
        logs::append_audit(
            &mut tx,
            Audit {
                actor,
                action: "session.end",
                target: Some(session_id.as_str()),
                outcome: "ok",
                detail: Some(reason.as_str()),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Some(ended))
}

/// Sessions whose last heartbeat is within the timeout: "active viewers".
pub async fn count_live(store: &Store, timeout_ms: i64) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) AS n FROM sessions WHERE ended_at IS NULL AND last_heartbeat >= $1",
    )
    .bind(now_ms() - timeout_ms)
    .fetch_one(store.pool())
    .await?)
}

/// A session that has not ended, as the admin console lists it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OpenSession {
    /// Session id (the JWT's `sid`).
    pub id: SessionId,
    /// The code's row id.
    pub code_id: CodeId,
    /// The code (operators see codes; viewers' tokens never carry them).
    pub code: String,
    /// The code's label.
    pub label: Option<String>,
    /// Where the viewer is.
    pub client_ip: Option<String>,
    /// The viewer's browser.
    pub user_agent: Option<String>,
    /// Started, Unix ms.
    pub started_at: i64,
    /// Last heartbeat, Unix ms.
    pub last_heartbeat: i64,
    /// When an HLS edge first saw this session's token from two addresses at once.
    pub shared_at: Option<i64>,
    /// The addresses of the last such report, comma-separated.
    pub shared_addresses: Option<String>,
}

/// The sessions of `event_id` that have not ended, newest heartbeat first.
pub async fn open_for_event(
    store: &Store,
    event_id: &EventId,
) -> Result<Vec<OpenSession>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT s.id, s.code_id, c.code, c.label, s.client_ip, s.user_agent, s.started_at, s.last_heartbeat, \
                s.shared_at, s.shared_addresses \
         FROM sessions s JOIN access_codes c ON c.id = s.code_id \
         WHERE s.event_id = $1 AND s.ended_at IS NULL ORDER BY s.last_heartbeat DESC, s.id",
    )
    .bind(event_id)
    .fetch_all(store.pool())
    .await?)
}

/// An HLS edge's report that one session's token is in use from several addresses.
#[derive(Debug, Clone, Copy)]
pub struct SharedReport<'a> {
    /// The session (the JWT's `sid`).
    pub session_id: &'a SessionId,
    /// Its event (the JWT's `eid`); a report naming another event is ignored.
    pub event_id: &'a EventId,
    /// The addresses seen, comma-separated.
    pub addresses: &'a str,
    /// Who reported it: `edge:<id>`.
    pub actor: &'a str,
    /// Whether the edge refused the later address (`hls.shared_token = "refuse"`).
    pub refused: bool,
}

/// Marks the session as shared (the first report's time is kept) and writes an audit
/// entry, in one transaction. `false` when no such session exists.
pub async fn mark_shared(store: &Store, report: SharedReport<'_>) -> Result<bool, StoreError> {
    let mut tx = store.begin_write().await?;
    let updated = sqlx::query(
        "UPDATE sessions SET shared_at = COALESCE(shared_at, $1), shared_addresses = $2 \
         WHERE id = $3 AND event_id = $4",
    )
    .bind(now_ms())
    .bind(report.addresses)
    .bind(report.session_id)
    .bind(report.event_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Ok(false);
    }
    let detail = format!("token seen from {} at once", report.addresses);
    crate::logs::append_audit(
        &mut tx,
        crate::logs::Audit {
            actor: report.actor,
            action: "session.token_shared",
            target: Some(report.session_id.as_str()),
            outcome: if report.refused {
                "refused"
            } else {
                "reported"
            },
            detail: Some(&detail),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
