//! Large applies on SQLite without stopping redemptions.
//!
//! SQLite has one writer at a time, so an apply that makes 100,000 codes inside its
//! transaction holds every redemption for seconds. Instead the codes are first made in
//! a `TEMP` table on the applying connection: a temporary table lives in the
//! connection's own temp database, so filling it takes no lock on the main database and
//! redemptions run freely meanwhile. The apply's one transaction then copies the rows
//! over with a single `INSERT ... SELECT`, which SQLite does in its own code in a
//! fraction of the time. Readers still see the whole apply or none of it: nothing
//! reads the temp table, and it dies with the connection if the process does.

use sqlx::AnyConnection;

use super::plan::{Change, Plan};
use crate::StoreError;
use crate::codes::{self, NewCodes};

/// From how many codes an apply on SQLite stages them first.
pub(super) const STAGE_FROM: u64 = 5_000;

const CREATE: &str = "CREATE TEMP TABLE pending_codes (\
    id TEXT PRIMARY KEY NOT NULL, code TEXT NOT NULL UNIQUE, event_id TEXT NOT NULL, \
    label TEXT, batch TEXT, is_suspended BIGINT NOT NULL, expires_at BIGINT NOT NULL, \
    created_at BIGINT NOT NULL)";

/// Makes every code of `plan` in a fresh temp table on `conn`, reporting (made, total).
pub(super) async fn stage(
    conn: &mut AnyConnection,
    plan: &Plan,
    progress: &mut Option<&mut (dyn FnMut(u64, u64) + Send)>,
) -> Result<(), StoreError> {
    sqlx::query("DROP TABLE IF EXISTS temp.pending_codes")
        .execute(&mut *conn)
        .await?;
    sqlx::query(CREATE).execute(&mut *conn).await?;
    let total = plan.codes_to_make();
    let mut made = 0u64;
    for change in &plan.changes {
        let Change::AddCodes {
            event_id,
            batch,
            from,
            to,
            suspended,
            expires_at,
        } = change
        else {
            continue;
        };
        let new = NewCodes {
            event_id,
            label: Some(batch),
            batch: Some(batch),
            suspended: *suspended,
            expires_at: *expires_at,
            count: to - from,
        };
        let base = made;
        let mut report = |n: u64| {
            if let Some(progress) = progress.as_mut() {
                progress(base + n, total);
            }
        };
        made += codes::insert_into(conn, "pending_codes", &new, &mut report)
            .await?
            .len() as u64;
        // Let other tasks (redemptions on other connections) run between batches.
        tokio::task::yield_now().await;
    }
    Ok(())
}

/// Moves up to `new.count` staged codes matching `new` into `access_codes` inside the
/// apply's transaction; returns how many moved. Fewer than asked means the plan changed
/// since staging, or a staged code collided with an existing one: the caller makes the
/// rest directly.
pub(super) async fn promote(
    conn: &mut AnyConnection,
    new: &NewCodes<'_>,
) -> Result<u64, StoreError> {
    let moved = sqlx::query(
        "INSERT INTO access_codes (id, code, event_id, label, batch, is_suspended, expires_at, created_at) \
         SELECT id, code, event_id, label, batch, is_suspended, expires_at, created_at FROM temp.pending_codes \
         WHERE event_id = $1 AND batch = $2 AND is_suspended = $3 AND expires_at = $4 \
         ORDER BY id LIMIT $5 \
         ON CONFLICT (code) DO NOTHING",
    )
    .bind(new.event_id)
    .bind(new.batch)
    .bind(i64::from(new.suspended))
    .bind(new.expires_at)
    .bind(i64::try_from(new.count).unwrap_or(i64::MAX))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(moved)
}

/// Drops the temp table (inside the apply's transaction, so a rolled-back apply keeps
/// it until the next stage replaces it).
pub(super) async fn finish(conn: &mut AnyConnection) -> Result<(), StoreError> {
    sqlx::query("DROP TABLE IF EXISTS temp.pending_codes")
        .execute(&mut *conn)
        .await?;
    Ok(())
}
