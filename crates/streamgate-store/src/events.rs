//! Event rows. Config-managed and API-managed events share one table; `managed_by`
//! says who may change a row (the reconciler, or the admin API).

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::StoreError;

/// Who owns an event's definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManagedBy {
    /// Declared in `streamgate.toml`; read-only through the admin API.
    Config,
    /// Made through the admin API; editable there.
    Api,
}

impl ManagedBy {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ManagedBy::Config => "config",
            ManagedBy::Api => "api",
        }
    }
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// Slug (config) or UUID (API).
    pub id: String,
    /// Shown to viewers.
    pub title: String,
    /// Shown on the pre-event screen.
    pub description: String,
    /// Upstream override for proxy mode.
    pub stream_url: Option<String>,
    /// Poster image.
    pub poster_url: Option<String>,
    /// Start, Unix ms.
    pub starts_at: i64,
    /// End, Unix ms.
    pub ends_at: i64,
    /// Hours after the end during which new codes stay valid.
    pub access_window_hours: i64,
    /// Viewers may watch.
    pub is_active: bool,
    /// Hidden from default lists.
    pub is_archived: bool,
    /// Owner of the definition.
    pub managed_by: ManagedBy,
    /// Made, Unix ms.
    pub created_at: i64,
    /// Last changed, Unix ms.
    pub updated_at: i64,
}

impl EventRow {
    pub(crate) fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let managed: String = row.try_get("managed_by")?;
        Ok(Self {
            id: row.try_get("id")?,
            title: row.try_get("title")?,
            description: row.try_get("description")?,
            stream_url: row.try_get("stream_url")?,
            poster_url: row.try_get("poster_url")?,
            starts_at: row.try_get("starts_at")?,
            ends_at: row.try_get("ends_at")?,
            access_window_hours: row.try_get("access_window_hours")?,
            is_active: row.try_get::<i64, _>("is_active")? != 0,
            is_archived: row.try_get::<i64, _>("is_archived")? != 0,
            managed_by: if managed == "config" {
                ManagedBy::Config
            } else {
                ManagedBy::Api
            },
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }

    /// When codes made now for this event stop working.
    pub fn code_expiry(&self) -> i64 {
        self.ends_at
            .saturating_add(self.access_window_hours.saturating_mul(3_600_000))
    }
}

const COLUMNS: &str = "id, title, description, stream_url, poster_url, starts_at, ends_at, access_window_hours, is_active, is_archived, managed_by, created_at, updated_at";

/// Every event, in id order.
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<EventRow>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM events ORDER BY id"
    )))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(EventRow::from_row)
        .collect::<Result<_, _>>()?)
}

/// One event.
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<EventRow>, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM events WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(EventRow::from_row).transpose()?)
}

/// Stores a new event.
pub async fn insert(conn: &mut AnyConnection, e: &EventRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO events (id, title, description, stream_url, poster_url, starts_at, ends_at, access_window_hours, is_active, is_archived, managed_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&e.id)
    .bind(&e.title)
    .bind(&e.description)
    .bind(&e.stream_url)
    .bind(&e.poster_url)
    .bind(e.starts_at)
    .bind(e.ends_at)
    .bind(e.access_window_hours)
    .bind(i64::from(e.is_active))
    .bind(i64::from(e.is_archived))
    .bind(e.managed_by.as_str())
    .bind(e.created_at)
    .bind(e.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Rewrites an event's definition (not its id, owner or creation time).
pub async fn update(conn: &mut AnyConnection, e: &EventRow) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE events SET title = $2, description = $3, stream_url = $4, poster_url = $5, starts_at = $6, ends_at = $7, \
         access_window_hours = $8, is_active = $9, is_archived = $10, updated_at = $11 WHERE id = $1",
    )
    .bind(&e.id)
    .bind(&e.title)
    .bind(&e.description)
    .bind(&e.stream_url)
    .bind(&e.poster_url)
    .bind(e.starts_at)
    .bind(e.ends_at)
    .bind(e.access_window_hours)
    .bind(i64::from(e.is_active))
    .bind(i64::from(e.is_archived))
    .bind(e.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes an event with its codes and sessions (foreign keys cascade).
pub async fn delete(conn: &mut AnyConnection, id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM events WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
