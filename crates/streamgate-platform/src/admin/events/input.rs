//! Admin input turned into an [`EventRow`], every rule checked here so that the store
//! never sees an unchecked value. The limits are core's, the ones `validate` applies to
//! `streamgate.toml`, so an event is valid in the console exactly when it would be valid
//! in the file.

use streamgate_core::Playlist;
use streamgate_core::config::{MAX_ACCESS_WINDOW_HOURS, MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS};
use streamgate_store::events::EventRow;
use streamgate_store::to_ms;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::model::EventUpdate;

/// Applies `update` to `event`, checking every rule; the error is the 400 message.
pub(super) fn apply_update(event: &mut EventRow, update: EventUpdate) -> Result<(), String> {
    if let Some(title) = update.title {
        let title = title.trim();
        if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS as usize {
            return Err(format!("title must be 1 to {MAX_TITLE_CHARS} characters"));
        }
        title.clone_into(&mut event.title);
    }
    if let Some(description) = update.description {
        if description.chars().count() > MAX_DESCRIPTION_CHARS as usize {
            return Err(format!(
                "description must be at most {MAX_DESCRIPTION_CHARS} characters"
            ));
        }
        event.description = description;
    }
    if let Some(url) = update.stream_url {
        event.stream_url = optional_url("streamUrl", &url)?;
    }
    if let Some(name) = update.playlist {
        event.playlist = playlist(&name)?;
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
        if !(0..=i64::from(MAX_ACCESS_WINDOW_HOURS)).contains(&hours) {
            return Err(format!(
                "accessWindowHours must be between 0 and {MAX_ACCESS_WINDOW_HOURS}"
            ));
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

/// An empty name goes back to the default, as an empty URL clears one.
fn playlist(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Playlist::default().into());
    }
    Playlist::parse(text)
        .map(String::from)
        .map_err(|e| format!("playlist {e}"))
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

pub(super) fn timestamp(field: &str, text: &str) -> Result<i64, String> {
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .map(to_ms)
        .map_err(|_| {
            format!("{field} must be an RFC 3339 date and time, e.g. 2026-12-01T18:00:00Z")
        })
}
