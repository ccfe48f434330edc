//! What the events endpoints take and answer, as the OpenAPI document describes them.

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object};
use streamgate_store::codes::StatusCounts;
use streamgate_store::events::{EventRow, ManagedBy};
use streamgate_store::format_ms;

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
    /// The playlist viewers are sent to, inside `/streams/<id>/` (default `index.m3u8`).
    pub playlist: String,
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
    pub(super) fn of(e: &EventRow, counts: StatusCounts) -> Self {
        Self {
            id: e.id.to_string(),
            title: e.title.clone(),
            description: e.description.clone(),
            stream_url: e.stream_url.clone(),
            playlist: e.playlist.clone(),
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
    /// The playlist viewers are sent to, a `.m3u8` path inside the event's folder
    /// (`master.m3u8`, `hls/main.m3u8`...); `index.m3u8` when absent.
    #[oai(nullable)]
    pub playlist: Option<String>,
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
/// clears `streamUrl` or `posterUrl` and resets `playlist`.
#[derive(Debug, Default, Object)]
#[oai(rename_all = "camelCase")]
pub struct EventUpdate {
    /// New id (a slug): the event's stream folder changes with it. Refused (409) once
    /// a code of the event was redeemed, or when the id is taken.
    #[oai(nullable)]
    pub id: Option<String>,
    /// New title.
    #[oai(nullable)]
    pub title: Option<String>,
    /// New description.
    #[oai(nullable)]
    pub description: Option<String>,
    /// New upstream URL ("" clears it).
    #[oai(nullable)]
    pub stream_url: Option<String>,
    /// New playlist name ("" goes back to `index.m3u8`).
    #[oai(nullable)]
    pub playlist: Option<String>,
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
