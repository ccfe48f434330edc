//! Revoking codes, one at a time or in bulk, with their revocation-log and audit entries.

use streamgate_core::CodeId;

use crate::row::Flag;
use crate::{StoreError, now_ms};

/// Revokes (`revoked = true`) or unrevokes a code by id, logging the change to the
/// revocation log (which the HLS edges replay) and the audit log in one transaction.
/// Returns whether the code exists; setting the state it already has logs nothing.
pub async fn set_revoked(
    store: &crate::Store,
    code_id: &CodeId,
    revoked: bool,
    actor: &str,
) -> Result<bool, StoreError> {
    use crate::logs::{self, Audit, Revocation, RevocationKind};
    let mut tx = store.begin_write().await?;
    let row: Option<(String, Flag)> =
        sqlx::query_as("SELECT event_id, is_revoked FROM access_codes WHERE id = $1")
            .bind(code_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((event_id, was_revoked)) = row else {
        return Ok(false);
    };
    if bool::from(was_revoked) == revoked {
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
            code_id: Some(code_id.as_str()),
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
            target: Some(code_id.as_str()),
            outcome: "ok",
            detail: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Revokes every code in `ids` that is not revoked yet, in one transaction, with one
/// revocation-log entry per code and one audit entry. Unknown ids are ignored. Returns
/// how many codes were newly revoked.
pub async fn bulk_revoke(
    store: &crate::Store,
    ids: &[CodeId],
    actor: &str,
) -> Result<u64, StoreError> {
    use crate::logs::{self, Audit, Revocation, RevocationKind};
    let mut tx = store.begin_write().await?;
    let mut targets: Vec<(String, String)> = Vec::new();
    for chunk in ids.chunks(500) {
        let placeholders = crate::params::Params::new().list(chunk.len());
        let sql = format!(
            "SELECT id, event_id FROM access_codes WHERE is_revoked = 0 AND id IN ({placeholders})"
        );
        let mut query = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.as_str());
        }
        targets.extend(query.fetch_all(&mut *tx).await?);
    }
    targets.sort();
    targets.dedup();
    let now = now_ms();
    for chunk in targets.chunks(500) {
        let placeholders = crate::params::Params::after(1).list(chunk.len());
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
