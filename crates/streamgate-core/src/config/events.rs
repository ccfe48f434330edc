//! Events and their access-code batches, as declared in `[[events]]`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use super::EventIngestConfig;
use crate::{Playlist, Slug, Timestamp};

/// An event viewers buy access to. The reconciler makes the database match these
/// declarations; runtime state (redemptions, sessions, revocations) is never touched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventConfig {
    /// Slug used in URLs and stream paths (`/streams/<id>/...`). Changing it makes a new event.
    pub id: Slug,
    /// Title shown to viewers on the ticket page and the player.
    #[schemars(length(min = 1, max = MAX_TITLE_CHARS))]
    pub title: String,
    /// Longer text shown on the pre-event screen.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(max = MAX_DESCRIPTION_CHARS))]
    pub description: String,
    /// Upstream URL of this event's stream, overriding `hls.upstream_origin/<id>/` in proxy mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_url: Option<Url>,
    /// The playlist viewers are sent to, inside the event's folder (`/streams/<id>/`) or
    /// beside `stream_url`: `master.m3u8`, `hls/main.m3u8`... For the default
    /// `index.m3u8` the HLS server also tries `master.m3u8` and `stream.m3u8`.
    #[serde(default, skip_serializing_if = "Playlist::is_default")]
    #[schemars(extend("default" = "index.m3u8"))]
    pub playlist: Playlist,
    /// Poster image shown before playback starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poster_url: Option<Url>,
    /// When the event starts; before it, viewers see a countdown.
    pub starts_at: Timestamp,
    /// When the event ends; must be after `starts_at`.
    pub ends_at: Timestamp,
    /// Hours after `ends_at` during which codes still play the recording (0 = live only).
    /// Fixed into each code when it is made.
    #[serde(default = "default_access_window_hours")]
    #[schemars(range(min = 0, max = MAX_ACCESS_WINDOW_HOURS))]
    pub access_window_hours: u32,
    /// Whether viewers may watch. `false` refuses every code of the event.
    #[serde(default = "default_true")]
    pub active: bool,
    /// Archived events are hidden from the default admin lists.
    #[serde(default)]
    pub archived: bool,
    /// Take the stream from the organiser's encoder (SRT or RTMP) and write it as HLS
    /// into `<stream_root>/<id>/`; unset when something else produces the HLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingest: Option<EventIngestConfig>,
    /// Batches of access codes to keep in existence for this event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<CodeBatchConfig>,
}

/// A named batch of access codes. The reconciler makes `count` codes with this label;
/// raising `count` makes more, lowering it needs `apply --prune`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBatchConfig {
    /// Label stored on every code of the batch (e.g. `press`, `early-bird`); unique per event.
    #[schemars(length(min = 1, max = 100))]
    pub label: String,
    /// How many codes the batch holds.
    #[schemars(range(min = 1, max = MAX_BATCH_COUNT))]
    pub count: u32,
    /// `false` suspends every code of the batch (refused like revoked codes) without
    /// deleting it; unset follows the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// The longest event title, in characters: it has to fit the ticket page and the player.
pub const MAX_TITLE_CHARS: u32 = 200;

/// The longest event description, in characters.
pub const MAX_DESCRIPTION_CHARS: u32 = 5000;

/// The seed's default: codes keep working for two days after the event for the recording.
pub const DEFAULT_ACCESS_WINDOW_HOURS: u32 = 48;

/// The largest access window the seed's admin guide allows: one week.
pub const MAX_ACCESS_WINDOW_HOURS: u32 = 168;

/// The largest batch declared in one `[[events.codes]]` table.
pub const MAX_BATCH_COUNT: u32 = 100_000;

fn default_access_window_hours() -> u32 {
    DEFAULT_ACCESS_WINDOW_HOURS
}

fn default_true() -> bool {
    true
}
