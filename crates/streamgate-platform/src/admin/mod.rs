//! The admin API (SPEC section 3, "Admin") and the console that uses it.
//!
//! One module per resource, each an `#[OpenApi]` impl: `auth` (login, logout, session
//! check, and the credential checks every other handler starts with), `events`,
//! `codes` (codes and viewer sessions), `overview` (dashboard, config status, audit
//! log). The console itself is served by `crate::assets`. Every change is audited
//! with the admin as actor; every change that affects playback is in the revocation
//! log, and the feed is woken so the HLS edges hear of it at once.

pub mod analytics;
pub mod auth;
pub mod codes;
pub mod events;
pub mod keys;
pub mod overview;

use streamgate_store::events::ChangeError;

pub use auth::{Admin, AdminAuth, AdminSession};

use crate::error::ApiError;
use crate::state::AppState;

/// Largest page an admin listing returns.
pub const MAX_PER_PAGE: i64 = 100;

/// Codes per page (SPEC: 50).
pub const CODES_PER_PAGE: i64 = 50;

/// Checks `page` and `per_page` query values.
pub fn paging(
    page: Option<i64>,
    per_page: Option<i64>,
    default: i64,
) -> Result<(i64, i64), ApiError> {
    let page = page.unwrap_or(1);
    if page < 1 {
        return Err(ApiError::bad_request("page must be 1 or more"));
    }
    let per_page = per_page.unwrap_or(default);
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(ApiError::bad_request(format!(
            "perPage must be between 1 and {MAX_PER_PAGE}"
        )));
    }
    Ok((page, per_page))
}

/// The 409 for a change to an event that `streamgate.toml` owns, naming the file.
pub fn config_managed(state: &AppState, event_id: &str) -> ApiError {
    let file = state.config_file.as_ref().map_or_else(
        || "the configuration file".to_owned(),
        |p| p.display().to_string(),
    );
    ApiError::conflict(format!(
        "Event \"{event_id}\" is managed by {file}; change it there"
    ))
}

/// Maps an event change's failure to its status.
pub fn change_error(state: &AppState, event_id: &str, e: ChangeError) -> ApiError {
    match e {
        ChangeError::NotFound => ApiError::not_found("Event not found"),
        ChangeError::ConfigManaged => config_managed(state, event_id),
        ChangeError::Redeemed(n) => ApiError::conflict(format!(
            "{n} access codes of this event were redeemed; delete with force=true to remove it anyway"
        )),
        ChangeError::IdTaken(id) => {
            ApiError::conflict(format!("An event with id `{id}` already exists"))
        }
        ChangeError::IdFixed(n) => ApiError::conflict(format!(
            "The id cannot change: {n} access codes of this event were redeemed, and their viewers' tokens name it"
        )),
        ChangeError::Invalid(message) => ApiError::bad_request(message),
        ChangeError::Store(e) => e.into(),
    }
}
