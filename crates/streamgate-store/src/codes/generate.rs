//! Making codes: the bulk insert the reconciler uses and the admin API's generate.

use sqlx::AnyConnection;
use streamgate_core::AccessCode;
use streamgate_core::{CodeId, EventId};

use crate::{StoreError, now_ms};

/// Rows per INSERT: 8 parameters each stays far below both engines' parameter limits.
const INSERT_CHUNK: usize = 500;

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
        sql.push_str(&crate::params::Params::new().rows(n, 8));
        sql.push_str(" ON CONFLICT (code) DO NOTHING RETURNING id");
        let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
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
        let inserted: std::collections::HashSet<String> =
            query.fetch_all(&mut *conn).await?.into_iter().collect();
        let before = made.len();
        made.extend(batch.into_iter().filter(|(id, _)| inserted.contains(id)));
        remaining -= (made.len() - before) as u64;
        progress(made.len() as u64);
    }
    Ok(made)
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
    event_id: &EventId,
    count: u64,
    label: Option<&str>,
    actor: &str,
) -> Result<Vec<CodeId>, GenerateError> {
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
            event_id: event_id.as_str(),
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
            target: Some(event_id.as_str()),
            outcome: "ok",
            detail: Some(&detail),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(made.into_iter().map(|(id, _)| CodeId::from(id)).collect())
}
