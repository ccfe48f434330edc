//! Access-code rows: making them in bulk, their status, and the CSV export.

use std::io::Write;

use sqlx::{AnyConnection, Row};
use streamgate_core::AccessCode;

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
        let mut sql = String::from(
            "INSERT INTO access_codes (id, code, event_id, label, batch, is_suspended, expires_at, created_at) VALUES ",
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
        writer
            .write_record([
                code.as_str(),
                label.as_deref().unwrap_or(""),
                status.as_str(),
                &format_ms(created_at),
                &format_ms(expires_at),
            ])
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
