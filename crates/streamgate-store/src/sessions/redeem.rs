//! Redeeming a code: the whole of `POST /api/tokens/validate` below HTTP, and the hot
//! path when thousands join at the start time.
//!
//! A fresh redemption on PostgreSQL costs four round trips: `BEGIN`, one locking read of
//! the code with its event and its live session, one statement that starts the session,
//! marks the code redeemed and writes the audit entry, and `COMMIT` (it was eight: the
//! pool's ping, `BEGIN`, five statements and `COMMIT`). SQLite runs in the process, where a statement is no round trip, and keeps
//! one statement a step.
//!
//! The locking read sees the code's row as it is after the lock is granted, but the
//! sessions it reads as they were when the statement began: a redemption that waited
//! for the lock behind another of the same code does not see the session the other
//! just started. The partial unique index on live sessions refuses the second session,
//! and the redemption is run once more from the start, when it sees the live session
//! and answers `InUse` (with its audit entry) as if it had not raced.

use sqlx::AnyConnection;
use streamgate_core::{CodeId, SessionId};

use super::{EndReason, end_in};
use crate::events::EventRow;
use crate::logs::{self, Audit};
use crate::{Backend, Store, StoreError, now_ms};

/// Who is redeeming, for the session row and the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    /// Client IP (after trusted-proxy resolution).
    pub ip: &'a str,
    /// `User-Agent`, if sent.
    pub user_agent: Option<&'a str>,
}

/// A started session.
#[derive(Debug, Clone)]
pub struct Redemption {
    /// The code's row id (the JWT's `sub`).
    pub code_id: CodeId,
    /// The new session's id (the JWT's `sid`).
    pub session_id: SessionId,
    /// When the code stops working, Unix ms.
    pub expires_at: i64,
    /// The event.
    pub event: EventRow,
    /// A stale session of the code was ended (and logged for the edges) to make room.
    pub ended_stale: bool,
}

/// The outcome of a redemption, in SPEC section 3's check order.
#[derive(Debug, Clone)]
pub enum Redeem {
    /// A session was started.
    Started(Box<Redemption>),
    /// No such code.
    Unknown,
    /// Past `expires_at`.
    Expired,
    /// Revoked, or its batch suspended.
    Revoked,
    /// The event is deactivated.
    EventInactive,
    /// A live session on another device holds the code.
    InUse,
}

impl Redeem {
    /// Short outcome name for metrics and the audit log.
    pub fn outcome(&self) -> &'static str {
        match self {
            Redeem::Started(_) => "ok",
            Redeem::Unknown => "unknown",
            Redeem::Expired => "expired",
            Redeem::Revoked => "revoked",
            Redeem::EventInactive => "event_inactive",
            Redeem::InUse => "in_use",
        }
    }
}

/// The code, its event and its live session, in one locking read.
#[derive(sqlx::FromRow)]
struct RedeemState {
    code_id: CodeId,
    #[sqlx(try_from = "crate::row::Flag")]
    is_revoked: bool,
    #[sqlx(try_from = "crate::row::Flag")]
    is_suspended: bool,
    expires_at: i64,
    /// The live session's id and last heartbeat, if one holds the code.
    live_id: Option<String>,
    live_heartbeat: Option<i64>,
    #[sqlx(flatten)]
    event: EventRow,
}

impl RedeemState {
    fn live(&self) -> Option<(&str, i64)> {
        self.live_id.as_deref().zip(self.live_heartbeat)
    }
}

/// The live session is read with two scalar subqueries on the live-session index rather
/// than a `LEFT JOIN`: PostgreSQL plans a prepared statement once per connection, and
/// planned while `sessions` is still empty (the doors just opened), the join became a
/// scan of every live session filtered by code: 1,400 rows read a redemption after 8,000
/// redemptions (`tup_fetched` in `pg_stat_database`), slower with every viewer. The
/// subqueries look up the code in the index whatever the table's statistics say.
macro_rules! redeem_state {
    () => {
        "SELECT c.id AS code_id, c.is_revoked, c.is_suspended, c.expires_at, \
     (SELECT s.id FROM sessions s WHERE s.code_id = c.id AND s.ended_at IS NULL) AS live_id, \
     (SELECT s.last_heartbeat FROM sessions s WHERE s.code_id = c.id AND s.ended_at IS NULL) \
     AS live_heartbeat, e.* \
     FROM access_codes c JOIN events e ON e.id = c.event_id WHERE c.code = $1"
    };
}

async fn redeem_state(
    conn: &mut AnyConnection,
    backend: Backend,
    code: &str,
) -> Result<Option<RedeemState>, StoreError> {
    let sql = match backend {
        // PostgreSQL locks the code's row; SQLite's write transaction holds the database.
        Backend::Postgres => concat!(redeem_state!(), " FOR UPDATE OF c"),
        Backend::Sqlite => redeem_state!(),
    };
    let state = sqlx::query_as(sql)
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(state)
}

/// Redeems `code` for `viewer`. `timeout_ms` is the session timeout: a live session
/// whose last heartbeat is older is stale, ended, and replaced.
pub async fn redeem(
    store: &Store,
    code: &str,
    viewer: Viewer<'_>,
    timeout_ms: i64,
) -> Result<Redeem, StoreError> {
    match redeem_once(store, code, viewer, timeout_ms).await? {
        Some(outcome) => Ok(outcome),
        // Lost a race for the code (see the module notes): once more, seeing the winner.
        None => Ok(redeem_once(store, code, viewer, timeout_ms)
            .await?
            .unwrap_or(Redeem::InUse)),
    }
}

/// One attempt; `None` when the unique index on live sessions refused the new session.
async fn redeem_once(
    store: &Store,
    code: &str,
    viewer: Viewer<'_>,
    timeout_ms: i64,
) -> Result<Option<Redeem>, StoreError> {
    let backend = store.backend();
    let mut tx = store.begin_write().await?;
    let now = now_ms();
    let outcome = match redeem_state(&mut tx, backend, code).await? {
        None => Redeem::Unknown,
        Some(s) if s.expires_at <= now => Redeem::Expired,
        Some(s) if s.is_revoked || s.is_suspended => Redeem::Revoked,
        Some(s) if !s.event.is_active => Redeem::EventInactive,
        Some(s) => {
            let Some(outcome) = start_session(&mut tx, backend, s, viewer, now, timeout_ms).await?
            else {
                return Ok(None);
            };
            outcome
        }
    };
    if !matches!(outcome, Redeem::Started(_)) {
        logs::append_audit(&mut tx, audit(viewer, None, outcome.outcome())).await?;
    }
    match tx.commit().await {
        Ok(()) => Ok(Some(outcome)),
        Err(e) if is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn audit<'a>(viewer: Viewer<'a>, target: Option<&'a str>, outcome: &'a str) -> Audit<'a> {
    Audit {
        actor: viewer.ip,
        action: "code.redeem",
        target,
        outcome,
        detail: None,
    }
}

/// Ends a stale session if there is one, then starts the new one, marks the code
/// redeemed and writes the redemption's audit entry. `Ok(None)`: the unique index
/// refused the session (a race lost); the transaction must be dropped.
async fn start_session(
    conn: &mut AnyConnection,
    backend: Backend,
    state: RedeemState,
    viewer: Viewer<'_>,
    now: i64,
    timeout_ms: i64,
) -> Result<Option<Redeem>, StoreError> {
    let ended_stale = state.live().is_some();
    if let Some((live_id, last_heartbeat)) = state.live() {
        if last_heartbeat >= now - timeout_ms {
            return Ok(Some(Redeem::InUse));
        }
        let (event_id, code_id) = (&state.event.id, state.code_id.as_str());
        end_in(
            conn,
            backend,
            live_id,
            event_id,
            code_id,
            EndReason::Timeout,
        )
        .await?;
    }
    let session_id = SessionId::from(uuid::Uuid::new_v4().to_string());
    let written = write_start(conn, backend, &state, session_id.as_str(), viewer, now).await;
    match written {
        Ok(()) => {}
        Err(e) if is_unique_violation(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    Ok(Some(Redeem::Started(Box::new(Redemption {
        code_id: state.code_id,
        session_id,
        expires_at: state.expires_at,
        event: state.event,
        ended_stale,
    }))))
}

macro_rules! insert_session {
    () => {
        "INSERT INTO sessions (id, code_id, event_id, client_ip, user_agent, started_at, \
         last_heartbeat) VALUES ($1, $2, $3, $4, $5, $6, $6)"
    };
}
macro_rules! mark_redeemed {
    () => {
        "UPDATE access_codes SET redeemed_at = COALESCE(redeemed_at, $6), \
         redeemed_ip = COALESCE(redeemed_ip, $4) WHERE id = $2"
    };
}
macro_rules! audit_redeemed {
    () => {
        "INSERT INTO audit_log (at, actor, action, target, outcome, detail) \
         VALUES ($6, $4, 'code.redeem', $2, 'ok', NULL)"
    };
}

/// The writes of a started redemption per engine, each statement taking the same six
/// arguments: PostgreSQL takes them as one statement (data-modifying CTEs), one round
/// trip; SQLite has no data-modifying CTEs, and a statement there is no round trip in
/// the process, so it runs them one by one.
const START_POSTGRES: &[&str] = &[concat!(
    "WITH s AS (",
    insert_session!(),
    "), c AS (",
    mark_redeemed!(),
    ") ",
    audit_redeemed!()
)];
const START_SQLITE: &[&str] = &[insert_session!(), mark_redeemed!(), audit_redeemed!()];

/// Starts the session, marks the code redeemed and writes the audit entry.
async fn write_start(
    conn: &mut AnyConnection,
    backend: Backend,
    state: &RedeemState,
    session_id: &str,
    viewer: Viewer<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let statements = match backend {
        Backend::Postgres => START_POSTGRES,
        Backend::Sqlite => START_SQLITE,
    };
    for sql in statements {
        bind_start(sqlx::query(*sql), state, session_id, viewer, now)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

fn bind_start<'q>(
    query: AnyQuery<'q>,
    state: &RedeemState,
    session_id: &str,
    viewer: Viewer<'q>,
    now: i64,
) -> AnyQuery<'q> {
    query
        .bind(session_id.to_owned())
        .bind(state.code_id.clone())
        .bind(state.event.id.clone())
        .bind(viewer.ip)
        .bind(viewer.user_agent.map(|ua| truncate(ua, 512)))
        .bind(now)
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}
