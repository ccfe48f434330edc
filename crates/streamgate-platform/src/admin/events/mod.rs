//! Events through the admin API. Events made here are `api`-managed and fully
//! editable; events declared in `streamgate.toml` are listed and shown but every change
//! answers 409 naming the file, as provisioned dashboards do in Grafana. Input is parsed
//! once into an [`EventRow`] with every rule checked (`input`), so the store never sees
//! an unchecked value; `stream` says where the event's video is expected.

mod ingest;
mod input;
mod model;
mod stream;

use std::collections::HashMap;
use std::sync::Arc;

use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use streamgate_core::EventId;
use streamgate_core::config::DEFAULT_ACCESS_WINDOW_HOURS;
use streamgate_store::codes::{self, StatusCounts};
use streamgate_store::events::{self, EventFilter, EventRow, EventSort, ManagedBy};
use streamgate_store::now_ms;

pub use self::ingest::{EventIngest, PublishUrl};
use self::input::{apply_update, timestamp};
pub use self::model::*;
pub use self::stream::StreamLocation;
use super::auth::AdminAuth;
use super::{change_error, paging};
use crate::api::ApiTags;
use crate::error::ApiError;
use crate::state::AppState;

/// Loads one event with its code counts.
async fn load(state: &AppState, id: &EventId) -> Result<AdminEvent, ApiError> {
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
        let ids: Vec<&EventId> = found.events.iter().map(|e| &e.id).collect();
        let counts: HashMap<EventId, StatusCounts> =
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
            Some(raw) => EventId::from(
                streamgate_core::Slug::parse(raw)
                    .map_err(|e| ApiError::bad_request(format!("id: {e}")))?
                    .as_str(),
            ),
            None => EventId::from(uuid::Uuid::new_v4().to_string()),
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
            playlist: streamgate_core::Playlist::default().into(),
            poster_url: None,
            starts_at,
            ends_at,
            access_window_hours: i64::from(DEFAULT_ACCESS_WINDOW_HOURS),
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
                id: None,
                stream_url: body.stream_url,
                playlist: body.playlist,
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
        Ok(Json(load(&state, &EventId::from(id.0)).await?))
    }

    /// Where the event's video is expected (local path, origin URL, the path players
    /// get) and whether the HLS server serves its playlist now. Asks the HLS server on
    /// every call.
    #[oai(
        path = "/api/admin/events/:id/stream",
        method = "get",
        operation_id = "getEventStream"
    )]
    async fn stream(
        &self,
        state: Data<&Arc<AppState>>,
        _auth: AdminAuth,
        /// The event id.
        id: Path<String>,
    ) -> Result<Json<StreamLocation>, ApiError> {
        let event = events::find(&state.store, &EventId::from(id.0))
            .await?
            .ok_or_else(|| ApiError::not_found("Event not found"))?;
        Ok(Json(stream::locate(&state, &event).await))
    }

    /// The event's live ingest: how its encoder connects and what the ingest reports
    /// (asked of the HLS server on every call).
    #[oai(
        path = "/api/admin/events/:id/ingest",
        method = "get",
        operation_id = "getEventIngest"
    )]
    async fn ingest(
        &self,
        state: Data<&Arc<AppState>>,
        _auth: AdminAuth,
        /// The event id.
        id: Path<String>,
    ) -> Result<Json<EventIngest>, ApiError> {
        events::find(&state.store, &EventId::from(id.0.as_str()))
            .await?
            .ok_or_else(|| ApiError::not_found("Event not found"))?;
        Ok(Json(ingest::describe(&state, &id.0).await))
    }

    /// The event's publish URL with its key, for the organiser's encoder. Recorded in
    /// the audit log; 409 when the platform has no `INGEST_SECRET`.
    #[oai(
        path = "/api/admin/events/:id/ingest/publish-url",
        method = "post",
        operation_id = "revealPublishUrl"
    )]
    async fn publish_url(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AdminAuth,
        /// The event id.
        id: Path<String>,
    ) -> Result<Json<PublishUrl>, ApiError> {
        events::find(&state.store, &EventId::from(id.0.as_str()))
            .await?
            .ok_or_else(|| ApiError::not_found("Event not found"))?;
        Ok(Json(ingest::reveal(&state, &auth, &id.0).await?))
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
        let mut update = body.0;
        let mut id = EventId::from(id.0);
        let rename = match update.id.take().filter(|new| id != new.as_str()) {
            Some(new_id) => Some(
                streamgate_core::Slug::parse(new_id.trim())
                    .map_err(|e| ApiError::bad_request(format!("id: {e}")))?,
            ),
            None => None,
        };
        let apply = |e: &mut EventRow| apply_update(e, update);
        match &rename {
            // One transaction: a refused change renames nothing.
            Some(new_id) => {
                let to = EventId::from(new_id.as_str());
                events::rename(&state.store, &id, &to, &admin.actor(), apply)
                    .await
                    .map_err(|e| change_error(&state, id.as_str(), e))?
            }
            None => events::change(&state.store, &id, "event.update", &admin.actor(), apply)
                .await
                .map_err(|e| change_error(&state, id.as_str(), e))?,
        };
        if let Some(new_id) = rename {
            id = EventId::from(new_id.as_str());
        }
        state.feed.bump();
        Ok(Json(load(&state, &id).await?))
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
            &EventId::from(id.0.as_str()),
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
    let id = &EventId::from(id);
    events::change(&state.store, id, action, &admin.actor(), |e| {
        change(e);
        Ok(())
    })
    .await
    .map_err(|e| change_error(state, id.as_str(), e))?;
    state.feed.bump();
    Ok(Json(load(state, id).await?))
}
