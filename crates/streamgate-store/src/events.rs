//! Event rows. Config-managed and API-managed events share one table; `managed_by`
//! says who may change a row (the reconciler, or the admin API).

use sqlx::AnyConnection;
use streamgate_core::EventId;

use crate::logs::{Audit, Revocation, RevocationKind, append_audit, append_revocations};
use crate::{Store, StoreError};

/// Who owns an event's definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManagedBy {
    /// Declared in `streamgate.toml`; read-only through the admin API.
    Config,
    /// Made through the admin API; editable there.
    Api,
}

/// The stored spelling: anything but `config` is an API event.
impl From<String> for ManagedBy {
    fn from(stored: String) -> Self {
        if stored == "config" {
            ManagedBy::Config
        } else {
            ManagedBy::Api
        }
    }
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

/// An event as stored (read by its derived `FromRow`, also from `SELECT e.*` joins).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    /// Slug (config) or UUID (API).
    pub id: EventId,
    /// Shown to viewers.
    pub title: String,
    /// Shown on the pre-event screen.
    pub description: String,
    /// Upstream override for proxy mode.
    pub stream_url: Option<String>,
    /// The playlist viewers are sent to, relative to `/streams/<id>/` (a valid
    /// [`streamgate_core::Playlist`]; `index.m3u8` unless the event names another).
    pub playlist: String,
    /// Poster image.
    pub poster_url: Option<String>,
    /// Start, Unix ms.
    pub starts_at: i64,
    /// End, Unix ms.
    pub ends_at: i64,
    /// Hours after the end during which new codes stay valid.
    pub access_window_hours: i64,
    /// Viewers may watch.
    #[sqlx(try_from = "crate::row::Flag")]
    pub is_active: bool,
    /// Hidden from default lists.
    #[sqlx(try_from = "crate::row::Flag")]
    pub is_archived: bool,
    /// Owner of the definition.
    #[sqlx(try_from = "String")]
    pub managed_by: ManagedBy,
    /// Made, Unix ms.
    pub created_at: i64,
    /// Last changed, Unix ms.
    pub updated_at: i64,
}

impl EventRow {
    /// When codes made now for this event stop working.
    pub fn code_expiry(&self) -> i64 {
        self.ends_at
            .saturating_add(self.access_window_hours.saturating_mul(3_600_000))
    }
}

const COLUMNS: &str = "id, title, description, stream_url, playlist, poster_url, starts_at, ends_at, access_window_hours, is_active, is_archived, managed_by, created_at, updated_at";

/// Every event, in id order.
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<EventRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM events ORDER BY id"
    )))
    .fetch_all(&mut *conn)
    .await?)
}

/// One event.
pub async fn get(conn: &mut AnyConnection, id: &EventId) -> Result<Option<EventRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM events WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// One event, on a connection of its own (for callers outside a transaction).
pub async fn find(store: &Store, id: &EventId) -> Result<Option<EventRow>, StoreError> {
    let mut conn = store.pool().acquire().await?;
    get(&mut conn, id).await
}

/// Stores a new event.
pub async fn insert(conn: &mut AnyConnection, e: &EventRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO events (id, title, description, stream_url, poster_url, starts_at, ends_at, access_window_hours, is_active, is_archived, managed_by, created_at, updated_at, playlist) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
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
    .bind(&e.playlist)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Rewrites an event's definition (not its id, owner or creation time).
pub async fn update(conn: &mut AnyConnection, e: &EventRow) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE events SET title = $2, description = $3, stream_url = $4, poster_url = $5, starts_at = $6, ends_at = $7, \
         access_window_hours = $8, is_active = $9, is_archived = $10, updated_at = $11, playlist = $12 WHERE id = $1",
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
    .bind(&e.playlist)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes an event with its codes and sessions (foreign keys cascade).
pub async fn delete(conn: &mut AnyConnection, id: &EventId) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM events WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Which events an admin listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventFilter {
    /// Everything not archived.
    #[default]
    Current,
    /// Active and not archived.
    Active,
    /// Deactivated and not archived.
    Inactive,
    /// Not started yet, not archived.
    Upcoming,
    /// Between start and end now, active, not archived.
    Live,
    /// Ended, not archived.
    Past,
    /// Archived only.
    Archived,
    /// Every event.
    All,
}

/// The order of an admin listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventSort {
    /// Soonest start first.
    #[default]
    StartsAt,
    /// Latest start first.
    StartsAtDesc,
    /// By title.
    Title,
    /// By title, Z first.
    TitleDesc,
    /// Oldest first.
    CreatedAt,
    /// Newest first.
    CreatedAtDesc,
}

/// One page of an admin listing and the number of events matching in all.
#[derive(Debug, Clone)]
pub struct EventPage {
    /// The events on this page.
    pub events: Vec<EventRow>,
    /// Events matching the filter on every page.
    pub total: i64,
}

/// A page of events (`page` from 1) matching `filter`, in `sort` order, at `now`.
pub async fn list_page(
    store: &Store,
    filter: EventFilter,
    sort: EventSort,
    page: i64,
    per_page: i64,
    now: i64,
) -> Result<EventPage, StoreError> {
    // Each filter uses `now` at most twice; both get their own placeholder so the SQL
    // never reuses a parameter number.
    let (condition, binds): (&str, usize) = match filter {
        EventFilter::Current => ("is_archived = 0", 0),
        EventFilter::Active => ("is_archived = 0 AND is_active = 1", 0),
        EventFilter::Inactive => ("is_archived = 0 AND is_active = 0", 0),
        EventFilter::Upcoming => ("is_archived = 0 AND starts_at > $1", 1),
        EventFilter::Live => (
            "is_archived = 0 AND is_active = 1 AND starts_at <= $1 AND ends_at > $2",
            2,
        ),
        EventFilter::Past => ("is_archived = 0 AND ends_at <= $1", 1),
        EventFilter::Archived => ("is_archived = 1", 0),
        EventFilter::All => ("1 = 1", 0),
    };
    let order = match sort {
        EventSort::StartsAt => "starts_at ASC, id ASC",
        EventSort::StartsAtDesc => "starts_at DESC, id ASC",
        EventSort::Title => "title ASC, id ASC",
        EventSort::TitleDesc => "title DESC, id ASC",
        EventSort::CreatedAt => "created_at ASC, id ASC",
        EventSort::CreatedAtDesc => "created_at DESC, id ASC",
    };
    let count_sql = format!("SELECT COUNT(*) AS n FROM events WHERE {condition}");
    let mut count = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql));
    for _ in 0..binds {
        count = count.bind(now);
    }
    let total: i64 = count.fetch_one(store.pool()).await?;
    let mut params = crate::params::Params::after(binds);
    let (limit, offset) = (params.one(), params.one());
    let page_sql = format!(
        "SELECT {COLUMNS} FROM events WHERE {condition} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(page_sql));
    for _ in 0..binds {
        query = query.bind(now);
    }
    let events = query
        .bind(per_page)
        .bind(page.saturating_sub(1).saturating_mul(per_page))
        .fetch_all(store.pool())
        .await?;
    Ok(EventPage { events, total })
}

/// Why an admin change to an event was not made.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// No such event.
    #[error("event not found")]
    NotFound,
    /// The event is declared in `streamgate.toml`; only the file may change it.
    #[error("event is managed by the configuration file")]
    ConfigManaged,
    /// The change breaks a rule (the message says which); nothing was written.
    #[error("{0}")]
    Invalid(String),
    /// Deleting would lose redeemed codes and `force` was not given.
    #[error("{0} codes of this event were redeemed")]
    Redeemed(i64),
    /// The new id belongs to another event.
    #[error("an event with id `{0}` already exists")]
    IdTaken(String),
    /// The id names the stream folder and is inside every playback token issued for
    /// the event, so it is fixed once a code was redeemed.
    #[error("{0} codes of this event were redeemed; its id can no longer change")]
    IdFixed(i64),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ChangeError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(StoreError::Database(e))
    }
}

/// Loads an API-managed event for change inside `tx`.
async fn editable(conn: &mut AnyConnection, id: &EventId) -> Result<EventRow, ChangeError> {
    let event = get(conn, id).await?.ok_or(ChangeError::NotFound)?;
    if event.managed_by == ManagedBy::Config {
        return Err(ChangeError::ConfigManaged);
    }
    Ok(event)
}

/// Stores an event made through the admin API and audits it.
pub async fn create(store: &Store, event: &EventRow, actor: &str) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    insert(&mut tx, event).await?;
    append_audit(
        &mut tx,
        Audit {
            actor,
            action: "event.create",
            target: Some(event.id.as_str()),
            outcome: "ok",
            detail: Some(&event.title),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Applies `change` to an API-managed event in one transaction: audited, and a change
/// of `is_active` goes to the revocation log so the HLS edges follow it. When `change`
/// refuses (its message becomes [`ChangeError::Invalid`]) nothing is written.
pub async fn change(
    store: &Store,
    id: &EventId,
    action: &str,
    actor: &str,
    change: impl FnOnce(&mut EventRow) -> Result<(), String>,
) -> Result<EventRow, ChangeError> {
    let mut tx = store.begin_write().await?;
    let after = change_in(&mut tx, store.backend(), id, action, actor, change).await?;
    tx.commit().await?;
    Ok(after)
}

/// [`change`] inside a transaction the caller commits.
async fn change_in(
    conn: &mut AnyConnection,
    backend: crate::Backend,
    id: &EventId,
    action: &str,
    actor: &str,
    change: impl FnOnce(&mut EventRow) -> Result<(), String>,
) -> Result<EventRow, ChangeError> {
    let before = editable(conn, id).await?;
    let mut after = before.clone();
    change(&mut after).map_err(ChangeError::Invalid)?;
    if after != before {
        after.updated_at = crate::now_ms();
        update(conn, &after).await?;
        if after.is_active != before.is_active {
            let kind = if after.is_active {
                RevocationKind::EventReactivated
            } else {
                RevocationKind::EventDeactivated
            };
            append_revocations(
                conn,
                backend,
                &[Revocation {
                    kind,
                    event_id: id.as_str(),
                    code_id: None,
                    session_id: None,
                }],
            )
            .await?;
        }
    }
    append_audit(
        conn,
        Audit {
            actor,
            action,
            target: Some(id.as_str()),
            outcome: if after == before { "unchanged" } else { "ok" },
            detail: None,
        },
    )
    .await?;
    Ok(after)
}

/// Gives an API-managed event a new id (its stream folder's name), moving its codes
/// with it, as long as none was redeemed (a redeemed code's playback tokens and
/// sessions name the old id), and applies `change` as [`change`] does, in the same
/// transaction: a refused change renames nothing.
pub async fn rename(
    store: &Store,
    from: &EventId,
    to: &EventId,
    actor: &str,
    change: impl FnOnce(&mut EventRow) -> Result<(), String>,
) -> Result<EventRow, ChangeError> {
    let mut tx = store.begin_write().await?;
    let before = editable(&mut tx, from).await?;
    if from != to {
        move_event(&mut tx, before, to, actor).await?;
    }
    let after = change_in(&mut tx, store.backend(), to, "event.update", actor, change).await?;
    tx.commit().await?;
    Ok(after)
}

/// The id change of [`rename`]: a new row, the children moved, the old row gone.
async fn move_event(
    tx: &mut AnyConnection,
    before: EventRow,
    to: &EventId,
    actor: &str,
) -> Result<(), ChangeError> {
    let from = before.id.clone();
    if get(tx, to).await?.is_some() {
        return Err(ChangeError::IdTaken(to.to_string()));
    }
    let redeemed: i64 =
        sqlx::query_scalar("SELECT COUNT(redeemed_at) AS n FROM access_codes WHERE event_id = $1")
            .bind(&from)
            .fetch_one(&mut *tx)
            .await?;
    if redeemed > 0 {
        return Err(ChangeError::IdFixed(redeemed));
    }
    let moved = EventRow {
        id: to.clone(),
        updated_at: crate::now_ms(),
        ..before
    };
    insert(tx, &moved).await?;
    for table in [
        "access_codes",
        "sessions",
        "analytics_minutes",
        "analytics_events",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET event_id = $1 WHERE event_id = $2"
        )))
        .bind(to)
        .bind(&from)
        .execute(&mut *tx)
        .await?;
    }
    delete(tx, &from).await?;
    let detail = format!("{from} -> {to}");
    append_audit(
        tx,
        Audit {
            actor,
            action: "event.rename",
            target: Some(to.as_str()),
            outcome: "ok",
            detail: Some(&detail),
        },
    )
    .await?;
    Ok(())
}

/// Deletes an API-managed event with its codes and sessions. Refused when codes were
/// redeemed unless `force`. The edges are told the event is gone (a deactivation
/// entry), so tokens issued for it stop working at once rather than at expiry.
/// Returns how many codes went with it.
pub async fn remove(
    store: &Store,
    id: &EventId,
    force: bool,
    actor: &str,
) -> Result<i64, ChangeError> {
    let mut tx = store.begin_write().await?;
    editable(&mut tx, id).await?;
    let (total, redeemed): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*) AS total, COUNT(redeemed_at) AS redeemed FROM access_codes WHERE event_id = $1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    if redeemed > 0 && !force {
        return Err(ChangeError::Redeemed(redeemed));
    }
    append_revocations(
        &mut tx,
        store.backend(),
        &[Revocation {
            kind: RevocationKind::EventDeactivated,
            event_id: id.as_str(),
            code_id: None,
            session_id: None,
        }],
    )
    .await?;
    delete(&mut tx, id).await?;
    let detail = format!("{total} codes, {redeemed} redeemed");
    append_audit(
        &mut tx,
        Audit {
            actor,
            action: "event.delete",
            target: Some(id.as_str()),
            outcome: "ok",
            detail: Some(&detail),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(total)
}
