//! Reading codes: the admin console's filtered page, the status endpoint's credential
//! check and the demo's unused codes.

use sqlx::AnyConnection;
use streamgate_core::{CodeId, EventId};

use super::status::{CodeStatus, status_sql};
use crate::{StoreError, now_ms};

/// A code as the admin console lists it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CodeRow {
    /// Row id (the JWT's `sub`).
    pub id: CodeId,
    /// The code itself.
    pub code: String,
    /// Its event.
    pub event_id: EventId,
    /// The event's title.
    pub event_title: String,
    /// Operator label.
    pub label: Option<String>,
    /// Derived status (by `status_sql`, so always one of its spellings).
    #[sqlx(try_from = "String")]
    pub status: CodeStatus,
    /// First redemption, Unix ms.
    pub redeemed_at: Option<i64>,
    /// Address of the first redemption.
    pub redeemed_ip: Option<String>,
    /// When revoked, Unix ms.
    pub revoked_at: Option<i64>,
    /// Fixed expiry, Unix ms.
    pub expires_at: i64,
    /// Made, Unix ms.
    pub created_at: i64,
}

/// What an admin code listing asks for.
#[derive(Debug, Clone, Default)]
pub struct CodeQuery<'a> {
    /// One event's codes, or every event's.
    pub event_id: Option<&'a EventId>,
    /// One code by row id.
    pub code_id: Option<&'a CodeId>,
    /// Only codes with this status.
    pub status: Option<CodeStatus>,
    /// Substring of the code or the label, case-insensitive.
    pub search: Option<&'a str>,
    /// Page number from 1.
    pub page: i64,
    /// Codes per page.
    pub per_page: i64,
}

/// One page of codes and the number matching in all.
#[derive(Debug, Clone)]
pub struct CodePage {
    /// Codes on this page, newest first.
    pub codes: Vec<CodeRow>,
    /// Codes matching on every page.
    pub total: i64,
}

/// Lists codes for the admin API. `session_timeout_ms` decides which sessions count
/// as live for the `active` status.
pub async fn list_page(
    store: &crate::Store,
    q: &CodeQuery<'_>,
    session_timeout_ms: i64,
) -> Result<CodePage, StoreError> {
    let now = now_ms();
    let inner = format!(
        "SELECT c.id, c.code, c.event_id, e.title AS event_title, c.label, c.redeemed_at, c.redeemed_ip, \
                c.revoked_at, c.expires_at, c.created_at, {} AS status \
         FROM access_codes c JOIN events e ON e.id = c.event_id",
        status_sql(1, 2)
    );
    // `$1` and `$2` are the status rule's (now, live-after).
    let mut params = crate::params::Params::after(2);
    let (filter, binds) = filter(q, &mut params);
    let live_after = now - session_timeout_ms;
    let count_sql = format!("SELECT COUNT(*) AS n FROM ({inner}) x{filter}");
    let mut count = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql))
        .bind(now)
        .bind(live_after);
    for b in &binds {
        count = count.bind(b.as_str());
    }
    let total: i64 = count.fetch_one(store.pool()).await?;
    let (limit, offset) = (params.one(), params.one());
    let page_sql = format!(
        "SELECT * FROM ({inner}) x{filter} ORDER BY created_at DESC, code ASC LIMIT {limit} OFFSET {offset}"
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(page_sql))
        .bind(now)
        .bind(live_after);
    for b in &binds {
        query = query.bind(b.as_str());
    }
    let codes = query
        .bind(q.per_page)
        .bind(q.page.saturating_sub(1).saturating_mul(q.per_page))
        .fetch_all(store.pool())
        .await?;
    Ok(CodePage { codes, total })
}

/// The `WHERE` clause of a code query and its values, in bind order.
fn filter(q: &CodeQuery<'_>, params: &mut crate::params::Params) -> (String, Vec<String>) {
    let mut conditions = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let mut add = |column: &str, value: String, conditions: &mut Vec<String>| {
        conditions.push(format!("{column} {}", params.one()));
        binds.push(value);
    };
    if let Some(event_id) = q.event_id {
        add("event_id =", event_id.to_string(), &mut conditions);
    }
    if let Some(code_id) = q.code_id {
        add("id =", code_id.to_string(), &mut conditions);
    }
    if let Some(status) = q.status {
        add("status =", status.as_str().to_owned(), &mut conditions);
    }
    if let Some(search) = q.search.map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = format!("%{}%", like_escape(&search.to_lowercase()));
        let (a, b) = (params.one(), params.one());
        conditions.push(format!(
            "(LOWER(code) LIKE {a} ESCAPE '\\' OR LOWER(COALESCE(label, '')) LIKE {b} ESCAPE '\\')"
        ));
        binds.push(pattern.clone());
        binds.push(pattern);
    }
    let clause = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    (clause, binds)
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// Whether `code` is a code of `event_id` (the status endpoint's credential check).
pub async fn belongs_to(
    conn: &mut AnyConnection,
    code: &str,
    event_id: &EventId,
) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) AS n FROM access_codes WHERE code = $1 AND event_id = $2",
    )
    .bind(code)
    .bind(event_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(n > 0)
}

/// Up to `limit` codes of `event_id` that were never redeemed and are not revoked or
/// suspended, oldest first: what `streamgate up` prints so the demo can be tried at once.
pub async fn unused_codes(
    store: &crate::Store,
    event_id: &EventId,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT code FROM access_codes WHERE event_id = $1 AND redeemed_at IS NULL \
         AND is_revoked = 0 AND is_suspended = 0 ORDER BY created_at, code LIMIT $2",
    )
    .bind(event_id)
    .bind(limit)
    .fetch_all(store.pool())
    .await?)
}
