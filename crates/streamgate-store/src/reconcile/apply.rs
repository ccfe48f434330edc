//! Carrying a plan out, in one transaction.

use sqlx::AnyConnection;
use streamgate_core::{Config, EventId};

use super::plan::{Change, Plan, PlanOptions, plan_in};
use super::staging;
use crate::codes::{self, NewCodes};
use crate::events;
use crate::logs::{self, Audit, Revocation, RevocationKind};
use crate::row::Flag;
use crate::{Backend, Store, StoreError, now_ms};

/// Advisory lock key of the applier on PostgreSQL: one apply at a time across every
/// platform process sharing the database.
const APPLY_LOCK: i64 = 0x5347_4150; // "SGAP"

/// How to apply.
pub struct ApplyOptions<'a> {
    /// Delete removed events and revoke surplus codes instead of refusing.
    pub prune: bool,
    /// Retire removed events even when they still have redeemed codes or viewers
    /// (`--allow-retire`). Never set by a hot reload.
    pub allow_retire: bool,
    /// Who is applying, for the audit log (`config`, `cli`).
    pub actor: &'a str,
    /// Called with (codes made so far, codes to make in all).
    pub progress: Option<&'a mut (dyn FnMut(u64, u64) + Send)>,
}

impl Default for ApplyOptions<'_> {
    fn default() -> Self {
        Self {
            prune: false,
            allow_retire: false,
            actor: "config",
            progress: None,
        }
    }
}

/// What an apply did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    /// The plan that was carried out.
    pub plan: Plan,
    /// Codes made.
    pub codes_made: u64,
    /// Codes revoked by `--prune`.
    pub codes_revoked: u64,
}

/// Plans and applies in one transaction. Fails without changing anything when the
/// plan has errors or any statement fails.
pub async fn apply(
    store: &Store,
    config: &Config,
    mut options: ApplyOptions<'_>,
) -> Result<ApplyReport, StoreError> {
    let plan_options = PlanOptions {
        prune: options.prune,
        allow_retire: options.allow_retire,
    };
    // Many codes on SQLite: make them first without the write lock (see `staging`).
    let mut staged = false;
    let mut tx = if store.backend() == Backend::Sqlite {
        let ahead = super::plan::plan(store, config, plan_options).await?;
        if ahead.is_refused() || ahead.codes_to_make() < staging::STAGE_FROM {
            store.begin_write().await?
        } else {
            let mut conn = store.pool().acquire().await?;
            staging::stage(&mut conn, &ahead, &mut options.progress).await?;
            staged = true;
            store.begin_write_on(conn).await?
        }
    } else {
        store.begin_write().await?
    };
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(APPLY_LOCK)
            .execute(&mut *tx)
            .await?;
    }
    let plan = plan_in(&mut tx, config, plan_options).await?;
    if !plan.errors.is_empty() {
        return Err(StoreError::Plan(plan.errors));
    }
    if !plan.destroy_refusals.is_empty() {
        return Err(StoreError::Guarded(plan.destroy_refusals));
    }
    let total = plan.codes_to_make();
    let mut made_so_far = 0u64;
    let mut codes_revoked = 0u64;
    for change in &plan.changes {
        match change {
            Change::CreateEvent { row } => events::insert(&mut tx, row).await?,
            Change::UpdateEvent {
                row, was_active, ..
            } => {
                events::update(&mut tx, row).await?;
                let kind = match (*was_active, row.is_active) {
                    (true, false) => Some(RevocationKind::EventDeactivated),
                    (false, true) => Some(RevocationKind::EventReactivated),
                    _ => None,
                };
                if let Some(kind) = kind {
                    let entry = Revocation {
                        kind,
                        event_id: row.id.as_str(),
                        code_id: None,
                        session_id: None,
                    };
                    logs::append_revocations(&mut tx, store.backend(), &[entry]).await?;
                }
            }
            Change::AddCodes {
                event_id,
                batch,
                from,
                to,
                suspended,
                expires_at,
            } => {
                let mut new = NewCodes {
                    event_id,
                    label: Some(batch),
                    batch: Some(batch),
                    suspended: *suspended,
                    expires_at: *expires_at,
                    count: to - from,
                };
                if staged {
                    let moved = staging::promote(&mut tx, &new).await?;
                    made_so_far += moved;
                    new.count -= moved.min(new.count);
                }
                let base = made_so_far;
                let mut report = |n: u64| {
                    if let Some(progress) = options.progress.as_mut() {
                        progress(base + n, total);
                    }
                };
                made_so_far += codes::insert(&mut tx, &new, &mut report).await?.len() as u64;
            }
            Change::PruneCodes {
                event_id,
                batch,
                revoke,
                ..
            } => {
                codes_revoked +=
                    prune_codes(&mut tx, store.backend(), event_id, batch, *revoke).await?;
            }
            Change::SetBatchSuspended {
                event_id,
                batch,
                suspended,
            } => {
                set_suspended(&mut tx, store.backend(), event_id, batch, *suspended).await?;
            }
            Change::RetireEvent {
                event_id,
                was_active,
                ..
            } => {
                sqlx::query("UPDATE events SET is_active = 0, is_archived = 1, updated_at = $2 WHERE id = $1")
                    .bind(event_id.as_str())
                    .bind(now_ms())
                    .execute(&mut *tx)
                    .await?;
                if *was_active {
                    let entry = Revocation {
                        kind: RevocationKind::EventDeactivated,
                        event_id,
                        code_id: None,
                        session_id: None,
                    };
                    logs::append_revocations(&mut tx, store.backend(), &[entry]).await?;
                }
            }
            Change::DeleteEvent { event_id, .. } => {
                events::delete(&mut tx, &EventId::from(event_id.as_str())).await?;
                let entry = Revocation {
                    kind: RevocationKind::EventDeactivated,
                    event_id,
                    code_id: None,
                    session_id: None,
                };
                logs::append_revocations(&mut tx, store.backend(), &[entry]).await?;
            }
        }
    }
    if !plan.is_empty() {
        let summary = plan.to_string();
        let detail = summary.lines().last().unwrap_or_default();
        logs::append_audit(
            &mut tx,
            Audit {
                actor: options.actor,
                action: "config.apply",
                target: None,
                outcome: "ok",
                detail: Some(detail),
            },
        )
        .await?;
    }
    if staged {
        staging::finish(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(ApplyReport {
        plan,
        codes_made: made_so_far,
        codes_revoked,
    })
}

async fn prune_codes(
    conn: &mut AnyConnection,
    backend: Backend,
    event_id: &str,
    batch: &str,
    n: u64,
) -> Result<u64, StoreError> {
    // Already-revoked codes go first, then the newest: the codes most likely still unsold.
    let rows: Vec<(String, Flag)> = sqlx::query_as(
        "SELECT id, is_revoked FROM access_codes WHERE event_id = $1 AND batch = $2 AND redeemed_at IS NULL \
         ORDER BY is_revoked DESC, created_at DESC, id LIMIT $3",
    )
    .bind(event_id)
    .bind(batch)
    .bind(i64::try_from(n).unwrap_or(i64::MAX))
    .fetch_all(&mut *conn)
    .await?;
    let mut ids = Vec::with_capacity(rows.len());
    let mut newly_revoked = Vec::new();
    for (id, revoked) in rows {
        if !bool::from(revoked) {
            newly_revoked.push(id.clone());
        }
        ids.push(id);
    }
    let now = now_ms();
    for chunk in ids.chunks(500) {
        let placeholders = crate::params::Params::after(1).list(chunk.len());
        let sql = format!(
            "UPDATE access_codes SET is_revoked = 1, revoked_at = COALESCE(revoked_at, $1), batch = NULL WHERE id IN ({placeholders})"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    let entries: Vec<Revocation<'_>> = newly_revoked
        .iter()
        .map(|id| Revocation {
            kind: RevocationKind::CodeRevoked,
            event_id,
            code_id: Some(id),
            session_id: None,
        })
        .collect();
    logs::append_revocations(conn, backend, &entries).await?;
    Ok(ids.len() as u64)
}

async fn set_suspended(
    conn: &mut AnyConnection,
    backend: Backend,
    event_id: &str,
    batch: &str,
    suspended: bool,
) -> Result<(), StoreError> {
    let flip: Vec<String> = sqlx::query_scalar("SELECT id FROM access_codes WHERE event_id = $1 AND batch = $2 AND is_suspended = $3 AND is_revoked = 0")
        .bind(event_id)
        .bind(batch)
        .bind(i64::from(!suspended))
        .fetch_all(&mut *conn)
        .await?;
    sqlx::query("UPDATE access_codes SET is_suspended = $3 WHERE event_id = $1 AND batch = $2")
        .bind(event_id)
        .bind(batch)
        .bind(i64::from(suspended))
        .execute(&mut *conn)
        .await?;
    let kind = if suspended {
        RevocationKind::CodeRevoked
    } else {
        RevocationKind::CodeUnrevoked
    };
    let entries: Vec<Revocation<'_>> = flip
        .iter()
        .map(|id| Revocation {
            kind,
            event_id,
            code_id: Some(id),
            session_id: None,
        })
        .collect();
    logs::append_revocations(conn, backend, &entries).await
}
