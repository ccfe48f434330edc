//! Access-code rows: making them in bulk, their status, and the CSV export.

use std::io::Write;

use sqlx::{AnyConnection, Row};
use streamgate_core::AccessCode;
use streamgate_core::csv::safe_cell;

use crate::{StoreError, format_ms, now_ms};

/// Rows per INSERT: 8 parameters each stays far below both engines' parameter limits.
const INSERT_CHUNK: usize = 500;

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

/// A batch of codes to make.
#[derive(Debug, Clone, Copy)]
pub struct NewCodes<'a> {
    /// Event they belong to.
    pub event_id: &'a str,
    /// Label operators see.
    pub label: Option<&'a str>,
    /// Config batch they count towards, if any.
    pub batch: Option<&'a str>,
    /// Made suspended (their batch has `active = false`).
    pub suspended: bool,
    /// Fixed expiry, Unix ms.
    pub expires_at: i64,
    /// How many.
    pub count: u64,
}

/// Makes `new.count` codes inside the caller's transaction and returns `(id, code)`
/// pairs. A generated code that already exists (about one chance in 2^71 per pair) is
/// skipped by the database and replaced, so the count is always exact.
/// `progress` is called with the number of codes made so far.
pub async fn insert(
    conn: &mut AnyConnection,
    new: &NewCodes<'_>,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Vec<(String, String)>, StoreError> {
    insert_into(conn, "access_codes", new, progress).await
}

/// [`insert`] into `table`, which has `access_codes`' columns and a unique `code` (the
/// reconciler's staging table, see `reconcile::staging`).
pub(crate) async fn insert_into(
    conn: &mut AnyConnection,
    table: &'static str,
    new: &NewCodes<'_>,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Vec<(String, String)>, StoreError> {
    let mut made = Vec::with_capacity(usize::try_from(new.count).unwrap_or(0));
    let created_at = now_ms();
    let mut remaining = new.count;
    while remaining > 0 {
        let n = usize::try_from(remaining)
            .unwrap_or(usize::MAX)
            .min(INSERT_CHUNK);
        let batch: Vec<(String, String)> = (0..n)
            .map(|_| {
                (
                    uuid::Uuid::new_v4().to_string(),
                    AccessCode::generate().as_str().to_owned(),
                )
            })
            .collect();
        let mut sql = format!(
            "INSERT INTO {table} (id, code, event_id, label, batch, is_suspended, expires_at, created_at) VALUES "
        );
        for i in 0..n {
            let b = i * 8;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8
            ));
        }
        sql.push_str(" ON CONFLICT (code) DO NOTHING RETURNING id");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, code) in &batch {
            query = query
                .bind(id.as_str())
                .bind(code.as_str())
                .bind(new.event_id)
                .bind(new.label)
                .bind(new.batch)
                .bind(i64::from(new.suspended))
                .bind(new.expires_at)
                .bind(created_at);
        }
        let inserted: Vec<String> = query
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| row.try_get::<String, _>(0))
            .collect::<Result<_, _>>()?;
        let inserted: std::collections::HashSet<String> = inserted.into_iter().collect();
        let before = made.len();
        made.extend(batch.into_iter().filter(|(id, _)| inserted.contains(id)));
        remaining -= (made.len() - before) as u64;
        progress(made.len() as u64);
    }
    Ok(made)
}

/// Writes an event's codes as CSV: `code,label,status,createdAt,expiresAt`.
/// Every cell passes through [`safe_cell`], so a label cannot become a spreadsheet formula.
/// `session_timeout_ms` decides which sessions still count as live.
pub async fn export_csv(
    conn: &mut AnyConnection,
    event_id: &str,
    session_timeout_ms: i64,
    out: impl Write,
) -> Result<u64, StoreError> {
    if crate::events::get(conn, event_id).await?.is_none() {
        return Err(StoreError::EventNotFound(event_id.to_owned()));
    }
    let now = now_ms();
    let rows = sqlx::query(
        "SELECT c.code, c.label, c.is_revoked, c.is_suspended, c.redeemed_at, c.expires_at, c.created_at, \
                (SELECT COUNT(*) FROM sessions s WHERE s.code_id = c.id AND s.ended_at IS NULL AND s.last_heartbeat > $2) AS live \
         FROM access_codes c WHERE c.event_id = $1 ORDER BY c.created_at, c.code",
    )
    .bind(event_id)
    .bind(now - session_timeout_ms)
    .fetch_all(&mut *conn)
    .await?;
    let mut writer = csv::Writer::from_writer(out);
    let csv_err = |e: csv::Error| StoreError::Io(std::io::Error::other(e));
    writer
        .write_record(["code", "label", "status", "createdAt", "expiresAt"])
        .map_err(csv_err)?;
    for row in &rows {
        let revoked = row.try_get::<i64, _>("is_revoked")? != 0
            || row.try_get::<i64, _>("is_suspended")? != 0;
        let redeemed = row.try_get::<Option<i64>, _>("redeemed_at")?.is_some();
        let live = row.try_get::<i64, _>("live")? > 0;
        let expires_at: i64 = row.try_get("expires_at")?;
        let status = CodeStatus::derive(revoked, expires_at, redeemed, live, now);
        let code: String = row.try_get("code")?;
        let label: Option<String> = row.try_get("label")?;
        let created_at: i64 = row.try_get("created_at")?;
        let (created_at, expires_at) = (format_ms(created_at), format_ms(expires_at));
        let cells = [
            code.as_str(),
            label.as_deref().unwrap_or(""),
            status.as_str(),
            &created_at,
            &expires_at,
        ];
        // Labels are typed by people: no cell may become a spreadsheet formula.
        writer
            .write_record(cells.map(safe_cell).iter().map(|c| c.as_bytes()))
            .map_err(csv_err)?;
    }
    writer.flush()?;
    Ok(rows.len() as u64)
}

/// Whether `code` is a code of `event_id` (the status endpoint's credential check).
pub async fn belongs_to(
    conn: &mut AnyConnection,
    code: &str,
    event_id: &str,
) -> Result<bool, StoreError> {
    let row =
        sqlx::query("SELECT COUNT(*) AS n FROM access_codes WHERE code = $1 AND event_id = $2")
            .bind(code)
            .bind(event_id)
            .fetch_one(&mut *conn)
            .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

/// Up to `limit` codes of `event_id` that were never redeemed and are not revoked or
/// suspended, oldest first: what `streamgate up` prints so the demo can be tried at once.
pub async fn unused_codes(
    store: &crate::Store,
    event_id: &str,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT code FROM access_codes WHERE event_id = $1 AND redeemed_at IS NULL \
         AND is_revoked = 0 AND is_suspended = 0 ORDER BY created_at, code LIMIT $2",
    )
    .bind(event_id)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(|row| Ok(row.try_get("code")?)).collect()
}

/// Revokes (`revoked = true`) or unrevokes a code by id, logging the change to the
/// revocation log (which the HLS edges replay) and the audit log in one transaction.
/// Returns whether the code exists; setting the state it already has logs nothing.
pub async fn set_revoked(
    store: &crate::Store,
    code_id: &str,
    revoked: bool,
    actor: &str,
) -> Result<bool, StoreError> {
    use crate::logs::{self, Audit, Revocation, RevocationKind};
    let mut tx = store.begin_write().await?;
    let row = sqlx::query("SELECT event_id, is_revoked FROM access_codes WHERE id = $1")
        .bind(code_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let event_id: String = row.try_get("event_id")?;
    if (row.try_get::<i64, _>("is_revoked")? != 0) == revoked {
        return Ok(true);
    }
    sqlx::query("UPDATE access_codes SET is_revoked = $1, revoked_at = $2 WHERE id = $3")
        .bind(i64::from(revoked))
        .bind(revoked.then(now_ms))
        .bind(code_id)
        .execute(&mut *tx)
        .await?;
    let kind = if revoked {
        RevocationKind::CodeRevoked
    } else {
        RevocationKind::CodeUnrevoked
    };
    logs::append_revocations(
        &mut tx,
        store.backend(),
        &[Revocation {
            kind,
            event_id: &event_id,
            code_id: Some(code_id),
            session_id: None,
        }],
    )
    .await?;
    logs::append_audit(
        &mut tx,
        Audit {
            actor,
            action: if revoked {
                "code.revoke"
            } else {
                "code.unrevoke"
            },
            target: Some(code_id),
            outcome: "ok",
            detail: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The status of `c` (an `access_codes` row) in SQL, the same rules as
/// [`CodeStatus::derive`]: `$NOW` and `$LIVE_AFTER` are the placeholders for now and for
/// the oldest heartbeat that still counts as live.
fn status_sql(now: usize, live_after: usize) -> String {
    format!(
        "CASE WHEN c.is_revoked <> 0 OR c.is_suspended <> 0 THEN 'revoked' \
              WHEN c.expires_at <= ${now} THEN 'expired' \
              WHEN EXISTS (SELECT 1 FROM sessions s WHERE s.code_id = c.id AND s.ended_at IS NULL AND s.last_heartbeat > ${live_after}) THEN 'active' \
              WHEN c.redeemed_at IS NOT NULL THEN 'redeemed' \
              ELSE 'unused' END"
    )
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

/// A code as the admin console lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRow {
    /// Row id (the JWT's `sub`).
    pub id: String,
    /// The code itself.
    pub code: String,
    /// Its event.
    pub event_id: String,
    /// The event's title.
    pub event_title: String,
    /// Operator label.
    pub label: Option<String>,
    /// Derived status.
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
    pub event_id: Option<&'a str>,
    /// One code by row id.
    pub code_id: Option<&'a str>,
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
    let mut conditions = Vec::new();
    let mut next = 3;
    let mut binds: Vec<String> = Vec::new();
    let mut add = |column: &str, value: String, conditions: &mut Vec<String>| {
        conditions.push(format!("{column} ${next}"));
        next += 1;
        binds.push(value);
    };
    if let Some(event_id) = q.event_id {
        add("event_id =", event_id.to_owned(), &mut conditions);
    }
    if let Some(code_id) = q.code_id {
        add("id =", code_id.to_owned(), &mut conditions);
    }
    if let Some(status) = q.status {
        add("status =", status.as_str().to_owned(), &mut conditions);
    }
    if let Some(search) = q.search.map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = format!("%{}%", like_escape(&search.to_lowercase()));
        conditions.push(format!(
            "(LOWER(code) LIKE ${} ESCAPE '\\' OR LOWER(COALESCE(label, '')) LIKE ${} ESCAPE '\\')",
            next,
            next + 1
        ));
        next += 2;
        binds.push(pattern.clone());
        binds.push(pattern);
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let live_after = now - session_timeout_ms;
    let count_sql = format!("SELECT COUNT(*) AS n FROM ({inner}) x{filter}");
    let mut count = sqlx::query(sqlx::AssertSqlSafe(count_sql))
        .bind(now)
        .bind(live_after);
    for b in &binds {
        count = count.bind(b.as_str());
    }
    let total: i64 = count.fetch_one(store.pool()).await?.try_get("n")?;
    let page_sql = format!(
        "SELECT * FROM ({inner}) x{filter} ORDER BY created_at DESC, code ASC LIMIT ${} OFFSET ${}",
        next,
        next + 1
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(page_sql))
        .bind(now)
        .bind(live_after);
    for b in &binds {
        query = query.bind(b.as_str());
    }
    let rows = query
        .bind(q.per_page)
        .bind(q.page.saturating_sub(1).saturating_mul(q.per_page))
        .fetch_all(store.pool())
        .await?;
    let codes = rows
        .iter()
        .map(|row| {
            let status: String = row.try_get("status")?;
            Ok(CodeRow {
                id: row.try_get("id")?,
                code: row.try_get("code")?,
                event_id: row.try_get("event_id")?,
                event_title: row.try_get("event_title")?,
                label: row.try_get("label")?,
                status: status.parse().unwrap_or(CodeStatus::Unused),
                redeemed_at: row.try_get("redeemed_at")?,
                redeemed_ip: row.try_get("redeemed_ip")?,
                revoked_at: row.try_get("revoked_at")?,
                expires_at: row.try_get("expires_at")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(CodePage { codes, total })
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
    events: Option<&[&str]>,
    session_timeout_ms: i64,
) -> Result<std::collections::HashMap<String, StatusCounts>, StoreError> {
    let now = now_ms();
    let filter = match events {
        Some([]) => return Ok(std::collections::HashMap::new()),
        Some(ids) => format!(
            " WHERE c.event_id IN ({})",
            (3..3 + ids.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => String::new(),
    };
    let sql = format!(
        "SELECT event_id, status, COUNT(*) AS n FROM \
         (SELECT c.event_id, {} AS status FROM access_codes c{filter}) x GROUP BY event_id, status",
        status_sql(1, 2)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .bind(now - session_timeout_ms);
    for id in events.unwrap_or_default() {
        query = query.bind(*id);
    }
    let rows = query.fetch_all(store.pool()).await?;
    let mut counts = std::collections::HashMap::<String, StatusCounts>::new();
    for row in &rows {
        let status: String = row.try_get("status")?;
        let Ok(status) = status.parse::<CodeStatus>() else {
            continue;
        };
        counts
            .entry(row.try_get("event_id")?)
            .or_default()
            .add(status, row.try_get("n")?);
    }
    Ok(counts)
}

/// Why codes could not be generated for an event.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// No such event.
    #[error("event not found")]
    NotFound,
    /// Config-managed events get their codes from batches in `streamgate.toml`.
    #[error("event is managed by the configuration file")]
    ConfigManaged,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Makes `count` codes for an API-managed event in one transaction (all or none),
/// labelled `label`, expiring at the event's current end plus access window; audited.
/// Returns the new codes' row ids.
pub async fn generate(
    store: &crate::Store,
    event_id: &str,
    count: u64,
    label: Option<&str>,
    actor: &str,
) -> Result<Vec<String>, GenerateError> {
    use crate::events::ManagedBy;
    use crate::logs::{self, Audit};
    let mut tx = store.begin_write().await?;
    let event = crate::events::get(&mut tx, event_id)
        .await?
        .ok_or(GenerateError::NotFound)?;
    if event.managed_by == ManagedBy::Config {
        return Err(GenerateError::ConfigManaged);
    }
    let made = insert(
        &mut tx,
        &NewCodes {
            event_id,
            label,
            batch: None,
            suspended: false,
            expires_at: event.code_expiry(),
            count,
        },
        &mut |_| {},
    )
    .await?;
    let detail = match label {
        Some(label) => format!("{count} codes labelled {label:?}"),
        None => format!("{count} codes"),
    };
    logs::append_audit(
        &mut tx,
        Audit {
            actor,
            action: "code.generate",
            target: Some(event_id),
            outcome: "ok",
            detail: Some(&detail),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(made.into_iter().map(|(id, _)| id).collect())
}

/// Revokes every code in `ids` that is not revoked yet, in one transaction, with one
/// revocation-log entry per code and one audit entry. Unknown ids are ignored. Returns
/// how many codes were newly revoked.
pub async fn bulk_revoke(
    store: &crate::Store,
    ids: &[String],
    actor: &str,
) -> Result<u64, StoreError> {
    use crate::logs::{self, Audit, Revocation, RevocationKind};
    let mut tx = store.begin_write().await?;
    let mut targets: Vec<(String, String)> = Vec::new();
    for chunk in ids.chunks(500) {
        let placeholders = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT id, event_id FROM access_codes WHERE is_revoked = 0 AND id IN ({placeholders})"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(&mut *tx).await? {
            targets.push((row.try_get("id")?, row.try_get("event_id")?));
        }
    }
    targets.sort();
    targets.dedup();
    let now = now_ms();
    for chunk in targets.chunks(500) {
        let placeholders = (2..=chunk.len() + 1)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE access_codes SET is_revoked = 1, revoked_at = $1 WHERE id IN ({placeholders})"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
        for (id, _) in chunk {
            query = query.bind(id.as_str());
        }
        query.execute(&mut *tx).await?;
    }
    let entries: Vec<Revocation<'_>> = targets
        .iter()
        .map(|(id, event_id)| Revocation {
            kind: RevocationKind::CodeRevoked,
            event_id,
            code_id: Some(id),
            session_id: None,
        })
        .collect();
    logs::append_revocations(&mut tx, store.backend(), &entries).await?;
    let detail = format!("{} of {} codes newly revoked", targets.len(), ids.len());
    logs::append_audit(
        &mut tx,
        Audit {
            actor,
            action: "code.bulk_revoke",
            target: None,
            outcome: "ok",
            detail: Some(&detail),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(targets.len() as u64)
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
