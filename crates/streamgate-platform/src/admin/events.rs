//! Events through the admin API. Events made here are `api`-managed and fully
//! editable; events declared in `streamgate.toml` are listed and shown but every change
//! answers 409 naming the file, as provisioned dashboards do in Grafana. Input is parsed
//! once into an [`EventRow`] with every rule checked (start before end, URLs that
//! parse, access window 0..=168 hours), so the store never sees an unchecked value.

use std::collections::HashMap;
use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use streamgate_store::codes::{self, StatusCounts};
use streamgate_store::events::{self, EventFilter, EventRow, EventSort, ManagedBy};
use streamgate_store::{format_ms, now_ms, to_ms};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::auth::AdminAuth;
use super::{change_error, paging};
use crate::error::ApiError;
use crate::state::AppState;
use crate::viewer::ApiTags;

/// Codes of an event by status.
#[derive(Debug, Clone, Copy, Default, Object)]
pub struct CodeCounts {
    /// All codes.
    pub total: i64,
    /// Never redeemed.
    pub unused: i64,
    /// Redeemed, no live session.
    pub redeemed: i64,
    /// Watching now.
    pub active: i64,
    /// Past their expiry.
    pub expired: i64,
    /// Revoked.
    pub revoked: i64,
}

impl From<StatusCounts> for CodeCounts {
    fn from(c: StatusCounts) -> Self {
        Self {
            total: c.total(),
            unused: c.unused,
            redeemed: c.redeemed,
            active: c.active,
            expired: c.expired,
            revoked: c.revoked,
        }
    }
}

/// An event as the admin API shows it.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct AdminEvent {
    /// Slug (config) or UUID (API).
    pub id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Upstream override for proxy mode.
    #[oai(nullable)]
    pub stream_url: Option<String>,
    /// Poster image URL.
    #[oai(nullable)]
    pub poster_url: Option<String>,
    /// Scheduled start (RFC 3339).
    pub starts_at: String,
    /// Scheduled end (RFC 3339).
    pub ends_at: String,
    /// Hours after the end during which codes still work.
    pub access_window_hours: i64,
    /// Viewers may watch.
    pub is_active: bool,
    /// Hidden from the default listing.
    pub is_archived: bool,
    /// `config` (declared in streamgate.toml) or `api`.
    pub managed_by: String,
    /// True for config-managed events: the admin API may not change them.
    pub read_only: bool,
    /// Made (RFC 3339).
    pub created_at: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
    /// Its codes by status.
    pub codes: CodeCounts,
}

impl AdminEvent {
    fn of(e: &EventRow, counts: StatusCounts) -> Self {
        Self {
            id: e.id.clone(),
            title: e.title.clone(),
            description: e.description.clone(),
            stream_url: e.stream_url.clone(),
            poster_url: e.poster_url.clone(),
            starts_at: format_ms(e.starts_at),
            ends_at: format_ms(e.ends_at),
            access_window_hours: e.access_window_hours,
            is_active: e.is_active,
            is_archived: e.is_archived,
            managed_by: e.managed_by.as_str().to_owned(),
            read_only: e.managed_by == ManagedBy::Config,
            created_at: format_ms(e.created_at),
            updated_at: format_ms(e.updated_at),
            codes: counts.into(),
        }
    }
}

/// A page of events.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct EventList {
    /// The events on this page.
    pub items: Vec<AdminEvent>,
    /// Events matching on every page.
    pub total: i64,
    /// This page, from 1.
    pub page: i64,
    /// Events per page.
    pub per_page: i64,
}

/// Which events to list.
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "lowercase")]
pub enum EventListFilter {
    /// Not archived (the default).
    Current,
    /// Active, not archived.
    Active,
    /// Deactivated, not archived.
    Inactive,
    /// Not started yet.
    Upcoming,
    /// On now.
    Live,
    /// Ended.
    Past,
    /// Archived only.
    Archived,
    /// Everything.
    All,
}

/// What to sort events by.
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "camelCase")]
pub enum EventSortKey {
    /// Scheduled start (the default).
    StartsAt,
    /// Title.
    Title,
    /// Creation time.
    CreatedAt,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "lowercase")]
pub enum SortOrder {
    /// Ascending (the default).
    Asc,
    /// Descending.
    Desc,
}

/// A new API-managed event.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct NewEvent {
    /// The event's id: a slug (lowercase letters, digits and `-`, up to 63), which is
    /// also its folder under `stream_root` (`streams/<id>/`). A UUID when absent.
    #[oai(nullable)]
    pub id: Option<String>,
    /// Shown to viewers (1..=200 characters).
    pub title: String,
    /// Shown on the pre-event screen.
    #[oai(nullable)]
    pub description: Option<String>,
    /// Upstream stream URL for proxy mode.
    #[oai(nullable)]
    pub stream_url: Option<String>,
    /// Poster image URL.
    #[oai(nullable)]
    pub poster_url: Option<String>,
    /// Scheduled start (RFC 3339).
    pub starts_at: String,
    /// Scheduled end (RFC 3339), after the start.
    pub ends_at: String,
    /// Hours after the end during which codes still work (0..=168, default 48).
    #[oai(nullable)]
    pub access_window_hours: Option<i64>,
    /// Viewers may watch (default true).
    #[oai(nullable)]
    pub is_active: Option<bool>,
}

/// Changes to an API-managed event: only the fields given change; an empty string
/// clears `streamUrl` or `posterUrl`.
#[derive(Debug, Default, Object)]
#[oai(rename_all = "camelCase")]
pub struct EventUpdate {
    /// New title.
    #[oai(nullable)]
    pub title: Option<String>,
    /// New description.
    #[oai(nullable)]
    pub description: Option<String>,
    /// New upstream URL ("" clears it).
    #[oai(nullable)]
    pub stream_url: Option<String>,
    /// New poster URL ("" clears it).
    #[oai(nullable)]
    pub poster_url: Option<String>,
    /// New start (RFC 3339).
    #[oai(nullable)]
    pub starts_at: Option<String>,
    /// New end (RFC 3339).
    #[oai(nullable)]
    pub ends_at: Option<String>,
    /// New access window in hours (0..=168). Codes already made keep their expiry.
    #[oai(nullable)]
    pub access_window_hours: Option<i64>,
    /// Active or not.
    #[oai(nullable)]
    pub is_active: Option<bool>,
}

/// `DELETE /api/admin/events/{id}` answer.
#[derive(Debug, Object)]
pub struct DeleteResponse {
    /// Always true.
    pub deleted: bool,
    /// How many codes went with the event.
    pub codes: i64,
}

/// 201 with the made event.
#[derive(Debug, ApiResponse)]
pub enum Created {
    /// Made.
    #[oai(status = 201)]
    Created(Json<AdminEvent>),
}

/// Applies `update` to `event`, checking every rule; the error is the 400 message.
fn apply_update(event: &mut EventRow, update: EventUpdate) -> Result<(), String> {
    if let Some(title) = update.title {
        let title = title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err("title must be 1 to 200 characters".into());
        }
        title.clone_into(&mut event.title);
    }
    if let Some(description) = update.description {
        if description.chars().count() > 5000 {
            return Err("description must be at most 5000 characters".into());
        }
        event.description = description;
    }
    if let Some(url) = update.stream_url {
        event.stream_url = optional_url("streamUrl", &url)?;
    }
    if let Some(url) = update.poster_url {
        event.poster_url = optional_url("posterUrl", &url)?;
    }
    if let Some(t) = update.starts_at {
        event.starts_at = timestamp("startsAt", &t)?;
    }
    if let Some(t) = update.ends_at {
        event.ends_at = timestamp("endsAt", &t)?;
    }
    if let Some(hours) = update.access_window_hours {
        if !(0..=168).contains(&hours) {
            return Err("accessWindowHours must be between 0 and 168".into());
        }
        event.access_window_hours = hours;
    }
    if let Some(active) = update.is_active {
        event.is_active = active;
    }
    if event.starts_at >= event.ends_at {
        return Err("startsAt must be before endsAt".into());
    }
    Ok(())
}

fn optional_url(field: &str, text: &str) -> Result<Option<String>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match url::Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(Some(u.to_string())),
        Ok(_) => Err(format!("{field} must be an http or https URL")),
        Err(e) => Err(format!("{field} is not a valid URL: {e}")),
    }
}

fn timestamp(field: &str, text: &str) -> Result<i64, String> {
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .map(to_ms)
        .map_err(|_| {
            format!("{field} must be an RFC 3339 date and time, e.g. 2026-12-01T18:00:00Z")
        })
}

/// Loads one event with its code counts.
async fn load(state: &AppState, id: &str) -> Result<AdminEvent, ApiError> {
    let event = events::find(&state.store, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Event not found"))?;
    let counts = codes::status_counts(&state.store, Some(&[id]), timeout_ms(state)).await?;
    Ok(AdminEvent::of(
        &event,
        counts.get(id).copied().unwrap_or_default(),
    ))
}

/// The session timeout in ms: which sessions count as live.
pub fn timeout_ms(state: &AppState) -> i64 {
    i64::from(state.config().platform.session_timeout_seconds) * 1000
}

/// Event endpoints.
pub struct EventsApi;

#[OpenApi(tag = "ApiTags::Admin")]
impl EventsApi {
    /// Events with their code counts: filtered, sorted and paged.
    #[oai(
        path = "/api/admin/events",
        method = "get",
        operation_id = "listEvents"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        _auth: AdminAuth,
        /// Which events (default `current`: not archived).
        filter: Query<Option<EventListFilter>>,
        /// Sort key (default `startsAt`).
        sort: Query<Option<EventSortKey>>,
        /// Sort direction (default `asc`).
        order: Query<Option<SortOrder>>,
        /// Page from 1.
        page: Query<Option<i64>>,
        /// Events per page (1..=100, default 20).
        #[oai(name = "perPage")]
        per_page: Query<Option<i64>>,
    ) -> Result<Json<EventList>, ApiError> {
        let (page, per_page) = paging(page.0, per_page.0, 20)?;
        let filter = match filter.0.unwrap_or(EventListFilter::Current) {
            EventListFilter::Current => EventFilter::Current,
            EventListFilter::Active => EventFilter::Active,
            EventListFilter::Inactive => EventFilter::Inactive,
            EventListFilter::Upcoming => EventFilter::Upcoming,
            EventListFilter::Live => EventFilter::Live,
            EventListFilter::Past => EventFilter::Past,
            EventListFilter::Archived => EventFilter::Archived,
            EventListFilter::All => EventFilter::All,
        };
        let desc = matches!(order.0, Some(SortOrder::Desc));
        let sort = match (sort.0.unwrap_or(EventSortKey::StartsAt), desc) {
            (EventSortKey::StartsAt, false) => EventSort::StartsAt,
            (EventSortKey::StartsAt, true) => EventSort::StartsAtDesc,
            (EventSortKey::Title, false) => EventSort::Title,
            (EventSortKey::Title, true) => EventSort::TitleDesc,
            (EventSortKey::CreatedAt, false) => EventSort::CreatedAt,
            (EventSortKey::CreatedAt, true) => EventSort::CreatedAtDesc,
        };
        let found = events::list_page(&state.store, filter, sort, page, per_page, now_ms()).await?;
        let ids: Vec<&str> = found.events.iter().map(|e| e.id.as_str()).collect();
        let counts: HashMap<String, StatusCounts> =
            codes::status_counts(&state.store, Some(&ids), timeout_ms(&state)).await?;
        let total = found.total;
        Ok(Json(EventList {
            items: found
                .events
                .iter()
                .map(|e| AdminEvent::of(e, counts.get(&e.id).copied().unwrap_or_default()))
                .collect(),
            total,
            page,
            per_page,
        }))
    }

    /// Makes an API-managed event with the slug `id` given, or a new UUID; 409 when
    /// the id is taken.
    #[oai(
        path = "/api/admin/events",
        method = "post",
        operation_id = "createEvent"
    )]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AdminAuth,
        body: Json<NewEvent>,
    ) -> Result<Created, ApiError> {
        let admin = auth.admin();
        let body = body.0;
        let now = now_ms();
        let starts_at = timestamp("startsAt", &body.starts_at).map_err(ApiError::bad_request)?;
        let ends_at = timestamp("endsAt", &body.ends_at).map_err(ApiError::bad_request)?;
        let id = match body
            .id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty())
        {
            Some(raw) => streamgate_core::Slug::parse(raw)
                .map_err(|e| ApiError::bad_request(format!("id: {e}")))?
                .as_str()
                .to_owned(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        if events::find(&state.store, &id).await?.is_some() {
            return Err(ApiError::conflict(format!(
                "An event with id `{id}` already exists"
            )));
        }
        let mut event = EventRow {
            id,
            title: String::new(),
            description: String::new(),
            stream_url: None,
            poster_url: None,
            starts_at,
            ends_at,
            access_window_hours: 48,
            is_active: true,
            is_archived: false,
            managed_by: ManagedBy::Api,
            created_at: now,
            updated_at: now,
        };
        apply_update(
            &mut event,
            EventUpdate {
                title: Some(body.title),
                description: body.description,
                stream_url: body.stream_url,
                poster_url: body.poster_url,
                starts_at: None,
                ends_at: None,
                access_window_hours: body.access_window_hours,
                is_active: body.is_active,
            },
        )
        .map_err(ApiError::bad_request)?;
        events::create(&state.store, &event, &admin.actor()).await?;
        Ok(Created::Created(Json(AdminEvent::of(
            &event,
            StatusCounts::default(),
        ))))
    }

    /// One event with its code counts.
    #[oai(
        path = "/api/admin/events/:id",
        method = "get",
        operation_id = "getEvent"
    )]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        _auth: AdminAuth,
        /// The event id.
        id: Path<String>,
    ) -> Result<Json<AdminEvent>, ApiError> {
        Ok(Json(load(&state, &id.0).await?))
    }

    /// Changes an API-managed event (only the fields given). 409 for config-managed.
    #[oai(
        path = "/api/admin/events/:id",
        method = "put",
        operation_id = "updateEvent"
    )]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AdminAuth,
        /// The event id.
        id: Path<String>,
        body: Json<EventUpdate>,
    ) -> Result<Json<AdminEvent>, ApiError> {
        let admin = auth.admin();
        events::change(&state.store, &id.0, "event.update", &admin.actor(), |e| {
            apply_update(e, body.0)
        })
        .await
        .map_err(|e| change_error(&state, &id.0, e))?;
        state.feed.bump();
        Ok(Json(load(&state, &id.0).await?))
    }

    /// Deletes an API-managed event with its codes and sessions. Refused (409) when
    /// codes were redeemed, unless `force=true`.
    #[oai(
        path = "/api/admin/events/:id",
        method = "delete",
        operation_id = "deleteEvent"
    )]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AdminAuth,
        /// The event id.
        id: Path<String>,
        /// Delete even when codes were redeemed.
        force: Query<Option<bool>>,
    ) -> Result<Json<DeleteResponse>, ApiError> {
        let admin = auth.admin();
        let codes = events::remove(
            &state.store,
            &id.0,
            force.0.unwrap_or(false),
            &admin.actor(),
        )
        .await
        .map_err(|e| change_error(&state, &id.0, e))?;
        state.feed.bump();
        Ok(Json(DeleteResponse {
            deleted: true,
            codes,
        }))
    }

    /// Lets viewers watch again (reaches the HLS edges through the revocation feed).
    #[oai(
        path = "/api/admin/events/:id/activate",
        method = "post",
        operation_id = "activateEvent"
    )]
    async fn activate(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AdminAuth,
        /// The event id.
        id: Path<String>,
    ) -> Result<Json<AdminEvent>, ApiError> {
        set(&state, &auth, &id.0, "event.activate", |e| {
            e.is_active = true;
        })
        .await
    }

    /// Stops every viewer of the event: new redemptions get 403 and the HLS edges
    /// refuse its tokens within about a second.
    #[oai(
        path = "/api/admin/events/:id/deactivate",
        method = "post",
        operation_id = "deactivateEvent"
    )]
    async fn deactivate(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AdminAuth,
        /// The event id.
        id: Path<String>,
    ) -> Result<Json<AdminEvent>, ApiError> {
        set(&state, &auth, &id.0, "event.deactivate", |e| {
            e.is_active = false;
        })
        .await
    }

    /// Hides the event from the default listing.
    #[oai(
        path = "/api/admin/events/:id/archive",
        method = "post",
        operation_id = "archiveEvent"
    )]
    async fn archive(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AdminAuth,
        /// The event id.
        id: Path<String>,
    ) -> Result<Json<AdminEvent>, ApiError> {
        set(&state, &auth, &id.0, "event.archive", |e| {
            e.is_archived = true;
        })
        .await
    }

    /// Brings an archived event back to the default listing.
    #[oai(
        path = "/api/admin/events/:id/unarchive",
        method = "post",
        operation_id = "unarchiveEvent"
    )]
    async fn unarchive(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AdminAuth,
        /// The event id.
        id: Path<String>,
    ) -> Result<Json<AdminEvent>, ApiError> {
        set(&state, &auth, &id.0, "event.unarchive", |e| {
            e.is_archived = false;
        })
        .await
    }
}

/// One flag change on an event, the shared body of activate/deactivate/(un)archive.
async fn set(
    state: &AppState,
    auth: &AdminAuth,
    id: &str,
    action: &str,
    change: impl FnOnce(&mut EventRow),
) -> Result<Json<AdminEvent>, ApiError> {
    let admin = auth.admin();
    events::change(&state.store, id, action, &admin.actor(), |e| {
        change(e);
        Ok(())
    })
    .await
    .map_err(|e| change_error(state, id, e))?;
    state.feed.bump();
    Ok(Json(load(state, id).await?))
}
