//! The two append-only logs. The revocation log feeds the HLS edges, which resume from
//! the last `seq` they saw; the audit log answers "who did what, when".

use sqlx::AnyConnection;
use streamgate_core::{CodeId, EventId, SessionId};

use crate::{Backend, Store, StoreError, now_ms};

/// Advisory lock taken before appending to the revocation log on PostgreSQL. Holding it
/// until commit makes sequence order equal commit order, so an edge that has seen
/// `seq = n` can never later find a committed entry below `n`.
const LOG_LOCK: i64 = 0x5347_5245; // "SGRE"

/// The kinds are the feed's wire contract, defined once in core.
pub use streamgate_core::revocation::RevocationKind;

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
        sql.push_str(&crate::params::Params::new().rows(chunk.len(), 5));
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
    if backend == Backend::Postgres {
        // Delivered at commit, to every platform process listening: their waiting
        // feed requests answer at once instead of at their next poll.
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(NOTIFY_CHANNEL)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The PostgreSQL NOTIFY channel that says "the revocation log grew".
pub const NOTIFY_CHANNEL: &str = "streamgate_revocations";

/// "The revocation log grew", heard from every process writing to the same PostgreSQL
/// database ([`Store::subscribe_revocations`]).
pub struct RevocationSubscription {
    listener: sqlx::postgres::PgListener,
}

impl RevocationSubscription {
    /// Waits for the next append committed by any process. An error means the LISTEN
    /// connection was lost: subscribe again (something may have been missed meanwhile).
    pub async fn next(&mut self) -> Result<(), StoreError> {
        self.listener.recv().await?;
        Ok(())
    }
}

impl Store {
    /// Subscribes to appends to the revocation log on PostgreSQL, on a connection of
    /// its own; `None` on SQLite, which has no notifications (readers re-check).
    pub async fn subscribe_revocations(
        &self,
    ) -> Result<Option<RevocationSubscription>, StoreError> {
        if self.backend() != Backend::Postgres {
            return Ok(None);
        }
        let mut listener = sqlx::postgres::PgListener::connect(self.url()).await?;
        listener.listen(NOTIFY_CHANNEL).await?;
        Ok(Some(RevocationSubscription { listener }))
    }
}

/// One revocation-log entry as read back.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LogEntry {
    /// Position in the log; the cursor an edge resumes from.
    pub seq: i64,
    /// What happened ([`RevocationKind::Unknown`] for a spelling this build predates).
    #[sqlx(try_from = "String")]
    pub kind: RevocationKind,
    /// Event concerned.
    pub event_id: EventId,
    /// Code concerned, if any.
    pub code_id: Option<CodeId>,
    /// Session concerned, if any.
    pub session_id: Option<SessionId>,
    /// When, Unix ms.
    pub at: i64,
}

/// Where a feed read starts.
#[derive(Debug, Clone, Copy)]
pub enum Since {
    /// Entries with `seq` greater than this (the cursor; 0 for everything).
    Cursor(i64),
    /// Entries logged at or after this time, Unix ms (the seed's `since`).
    Time(i64),
}

/// Reads up to `limit` entries after `since`, oldest first. Session ends older than
/// `session_horizon_ms` are left out: every token of such a session has expired (no
/// token outlives its TTL, and none is issued after the end), so they cannot matter to
/// an edge and would only grow a fresh edge's first sync.
pub async fn read_revocations(
    store: &Store,
    since: Since,
    session_horizon_ms: i64,
    limit: i64,
) -> Result<Vec<LogEntry>, StoreError> {
    let (column, value) = match since {
        Since::Cursor(seq) => ("seq >", seq),
        Since::Time(at) => ("at >=", at),
    };
    let sql = format!(
        "SELECT seq, kind, event_id, code_id, session_id, at FROM revocation_log \
         WHERE {column} $1 AND (kind <> 'session_ended' OR at >= $2) ORDER BY seq LIMIT $3"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(value)
        .bind(session_horizon_ms)
        .bind(limit)
        .fetch_all(store.pool())
        .await?)
}

/// The newest sequence number in the log (0 when empty).
pub async fn last_seq(store: &Store) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) AS seq FROM revocation_log")
            .fetch_one(store.pool())
            .await?,
    )
}

/// Remembers that `edge` synced up to `cursor` now, for the dashboard.
pub async fn record_edge_sync(
    store: &Store,
    edge: &str,
    cursor: i64,
    address: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO edges (id, last_sync_at, last_cursor, address) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (id) DO UPDATE SET last_sync_at = excluded.last_sync_at, \
         last_cursor = excluded.last_cursor, address = excluded.address",
    )
    .bind(edge)
    .bind(now_ms())
    .bind(cursor)
    .bind(address)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// One edge's last sync.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EdgeSync {
    /// The edge's id.
    pub id: String,
    /// When it last polled, Unix ms.
    pub last_sync_at: i64,
    /// The cursor it was given.
    pub last_cursor: i64,
    /// Where it polled from.
    pub address: Option<String>,
}

/// Every edge that ever synced, by id.
pub async fn edge_syncs(store: &Store) -> Result<Vec<EdgeSync>, StoreError> {
    Ok(
        sqlx::query_as("SELECT id, last_sync_at, last_cursor, address FROM edges ORDER BY id")
            .fetch_all(store.pool())
            .await?,
    )
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

/// One audit entry as read back.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    /// Position in the log.
    pub id: i64,
    /// When, Unix ms.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// Dotted verb.
    pub action: String,
    /// What it was done to.
    pub target: Option<String>,
    /// `ok` or a short reason.
    pub outcome: String,
    /// Free text.
    pub detail: Option<String>,
    /// The access code the entry is about (a code action's target, or the code of a
    /// session action's session), so operators see which ticket, not a row id.
    pub code: Option<String>,
    /// That code's label.
    pub code_label: Option<String>,
}

/// A page (from 1) of the audit log, newest first, optionally only actions starting
/// with `action_prefix` and only entries about the access code `code`; with the number
/// of matching entries in all.
pub async fn audit_page(
    store: &Store,
    action_prefix: Option<&str>,
    code: Option<&str>,
    page: i64,
    per_page: i64,
) -> Result<(Vec<AuditEntry>, i64), StoreError> {
    let pattern = action_prefix.map_or_else(
        || "%".to_owned(),
        |p| {
            let escaped: String = p
                .chars()
                .flat_map(|c| {
                    let escape = matches!(c, '%' | '_' | '\\').then_some('\\');
                    escape.into_iter().chain(std::iter::once(c))
                })
                .collect();
            format!("{escaped}%")
        },
    );
    let code = code.unwrap_or_default();
    // A code action names the code's row; a session action names the session, whose
    // code is one join further.
    const FROM: &str = "FROM audit_log a \
         LEFT JOIN access_codes c ON c.id = a.target \
         LEFT JOIN sessions s ON s.id = a.target \
         LEFT JOIN access_codes sc ON sc.id = s.code_id \
         WHERE a.action LIKE $1 ESCAPE '\\' AND ($2 = '' OR COALESCE(c.code, sc.code) = $2)";
    let total: i64 =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) AS n {FROM}")))
            .bind(&pattern)
            .bind(code)
            .fetch_one(store.pool())
            .await?;
    let entries = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT a.id, a.at, a.actor, a.action, a.target, a.outcome, a.detail, \
                COALESCE(c.code, sc.code) AS code, COALESCE(c.label, sc.label) AS code_label \
         {FROM} ORDER BY a.id DESC LIMIT $3 OFFSET $4"
    )))
    .bind(&pattern)
    .bind(code)
    .bind(per_page)
    .bind(page.saturating_sub(1).saturating_mul(per_page))
    .fetch_all(store.pool())
    .await?;
    Ok((entries, total))
}

/// Appends one audit entry on its own (login attempts and other events outside a
/// larger transaction).
pub async fn audit(store: &Store, entry: Audit<'_>) -> Result<(), StoreError> {
    let mut conn = store.pool().acquire().await?;
    append_audit(&mut conn, entry).await
}
