//! The two append-only logs. The revocation log feeds the HLS edges, which resume from
//! the last `seq` they saw; the audit log answers "who did what, when".

use sqlx::AnyConnection;

use crate::{Backend, StoreError, now_ms};

/// Advisory lock taken before appending to the revocation log on PostgreSQL. Holding it
/// until commit makes sequence order equal commit order, so an edge that has seen
/// `seq = n` can never later find a committed entry below `n`.
const LOG_LOCK: i64 = 0x5347_5245; // "SGRE"

/// What happened, as the edges need to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationKind {
    /// A code may no longer play.
    CodeRevoked,
    /// A revoked code may play again.
    CodeUnrevoked,
    /// Nobody may watch the event.
    EventDeactivated,
    /// The event is watchable again.
    EventReactivated,
    /// A session ended (release, timeout, takeover); its token must stop working.
    SessionEnded,
}

impl RevocationKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationKind::CodeRevoked => "code_revoked",
            RevocationKind::CodeUnrevoked => "code_unrevoked",
            RevocationKind::EventDeactivated => "event_deactivated",
            RevocationKind::EventReactivated => "event_reactivated",
            RevocationKind::SessionEnded => "session_ended",
        }
    }
}

/// One revocation-log entry to append.
#[derive(Debug, Clone, Copy)]
pub struct Revocation<'a> {
    /// What happened.
    pub kind: RevocationKind,
    /// The event concerned.
    pub event_id: &'a str,
    /// The code concerned, for code entries.
    pub code_id: Option<&'a str>,
    /// The session concerned, for session entries.
    pub session_id: Option<&'a str>,
}

/// Appends entries inside the caller's transaction.
pub async fn append_revocations(
    conn: &mut AnyConnection,
    backend: Backend,
    entries: &[Revocation<'_>],
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LOG_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let at = now_ms();
    for chunk in entries.chunks(500) {
        let mut sql = String::from(
            "INSERT INTO revocation_log (kind, event_id, code_id, session_id, at) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 5;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5
            ));
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for e in chunk {
            query = query
                .bind(e.kind.as_str())
                .bind(e.event_id)
                .bind(e.code_id)
                .bind(e.session_id)
                .bind(at);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// One audit entry.
#[derive(Debug, Clone, Copy)]
pub struct Audit<'a> {
    /// `config`, `admin`, `admin-token:<name>` or a viewer's IP address.
    pub actor: &'a str,
    /// Dotted verb, e.g. `config.apply`, `code.revoke`.
    pub action: &'a str,
    /// What it was done to.
    pub target: Option<&'a str>,
    /// `ok` or a short failure reason.
    pub outcome: &'a str,
    /// Free text (never a code or a token).
    pub detail: Option<&'a str>,
}

/// Appends an audit entry inside the caller's transaction or on a pool connection.
pub async fn append_audit(conn: &mut AnyConnection, entry: Audit<'_>) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO audit_log (at, actor, action, target, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(now_ms())
        .bind(entry.actor)
        .bind(entry.action)
        .bind(entry.target)
        .bind(entry.outcome)
        .bind(entry.detail)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
