//! The viewer API (SPEC section 3, "Viewer"): where a ticket becomes a playback token,
//! and where the player keeps its session alive, refreshes its token and lets go.
//! Handlers are thin: the checks live in `streamgate_store::sessions`, the signing in
//! `streamgate_core::jwt`; here they are put in SPEC order and mapped to statuses.

use std::sync::Arc;
use std::time::Duration;

use poem::Request;
use poem::web::Data;
use poem_openapi::auth::Bearer;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, SecurityScheme};

pub use crate::api::ApiTags;
use streamgate_core::ingest::IngestState;
use streamgate_core::jwt::Claims;
use streamgate_core::{AccessCode, CodeId, EventId, SessionId};
use streamgate_store::events::EventRow;
use streamgate_store::sessions::{self, EndReason, Redeem, SessionCheck, Viewer};
use streamgate_store::{format_ms, now_ms};

use crate::client_ip::client_ip_text;
use crate::error::ApiError;
use crate::ratelimit::Limit;
use crate::state::AppState;

/// A playback token in `Authorization: Bearer`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT")]
pub struct PlaybackToken(Bearer);

/// `POST /api/tokens/validate` body.
#[derive(Debug, Object)]
pub struct ValidateRequest {
    /// The access code from the ticket (surrounding whitespace is ignored).
    #[oai(nullable)]
    pub code: Option<String>,
}

/// What the portal shows about the event.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct EventSummary {
    /// The event's id (for the status endpoint).
    pub id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Scheduled start (RFC 3339).
    pub starts_at: String,
    /// Scheduled end (RFC 3339).
    pub ends_at: String,
    /// Poster image URL.
    #[oai(nullable)]
    pub poster_url: Option<String>,
    /// The stream is live now.
    pub is_live: bool,
}

/// A successful redemption.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct ValidateResponse {
    /// The event.
    pub event: EventSummary,
    /// The playback JWT for the HLS server.
    pub playback_token: String,
    /// The HLS server's base URL.
    pub playback_base_url: String,
    /// The master playlist's path on the HLS server.
    pub stream_path: String,
    /// When the access code stops working (RFC 3339).
    pub expires_at: String,
    /// Seconds until the playback token expires.
    pub token_expires_in: i64,
    /// How often the player should send a heartbeat.
    pub heartbeat_interval_seconds: i64,
}

/// A fresh playback token.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct RefreshResponse {
    /// The new JWT (same session).
    pub playback_token: String,
    /// Seconds until it expires.
    pub token_expires_in: i64,
}

/// `{"ok": true}`.
#[derive(Debug, Object)]
pub struct HeartbeatResponse {
    /// Always true.
    pub ok: bool,
}

/// `{"released": true}`.
#[derive(Debug, Object)]
pub struct ReleaseResponse {
    /// Always true, also when the session was already gone.
    pub released: bool,
}

/// Release body: the token, for `navigator.sendBeacon`, which cannot set headers.
#[derive(Debug, Object)]
pub struct ReleaseBody {
    /// The playback JWT (optional when sent in `Authorization`).
    #[oai(nullable)]
    pub token: Option<String>,
}

/// `GET /api/events/{id}/status` answer.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct EventStatus {
    /// The event id.
    pub event_id: String,
    /// `not-started`, `live`, `ended` or `recording`.
    pub status: String,
    /// Scheduled start (RFC 3339).
    pub starts_at: String,
    /// Scheduled end (RFC 3339).
    pub ends_at: String,
}

/// The viewer endpoints.
pub struct ViewerApi;

const CODE_REQUIRED: &str = "Access code is required";
const INVALID_CODE: &str = "Invalid access code";
const EXPIRED: &str = "Access code has expired";
const REVOKED: &str = "Access code has been revoked";
const UNAVAILABLE: &str = "This event is not currently available";
const BAD_TOKEN: &str = "Invalid or expired playback token";
const SESSION_GONE: &str = "Session not found or expired";
const SESSION_TAKEN: &str = "This access code is now in use on another device";

#[OpenApi(tag = "ApiTags::Viewer")]
impl ViewerApi {
    /// Redeem an access code: start this device's session and get a playback token.
    #[oai(
        path = "/api/tokens/validate",
        method = "post",
        operation_id = "validateCode"
    )]
    async fn validate(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Json<ValidateRequest>,
    ) -> Result<Json<ValidateResponse>, ApiError> {
        let config = state.config();
        let ip = client_ip_text(req, &state.config().platform.trusted_proxies);
        let limit = Limit {
            name: "validate",
            max: config.platform.rate_limits.validate_per_minute,
            window: Duration::from_secs(60),
        };
        // Only failed attempts count (the budget is against guessing, and a household
        // or an office redeeming six tickets is not guessing); the check comes before
        // the lookup so that, once failures used it up, a right guess gets the same 429.
        if let Err(e) = state.limiter.check(limit, &ip).await {
            state.metrics.redemption("rate_limited");
            return Err(ApiError::too_many(e.retry_after));
        }
        let Ok(code) = AccessCode::parse(body.0.code.as_deref().unwrap_or_default()) else {
            state.metrics.redemption("bad_request");
            let _ = state.limiter.hit(limit, &ip).await;
            return Err(ApiError::bad_request(CODE_REQUIRED));
        };
        let viewer = Viewer {
            ip: &ip,
            user_agent: req
                .headers()
                .get("user-agent")
                .and_then(|v| v.to_str().ok()),
        };
        let timeout_ms = i64::from(config.platform.session_timeout_seconds) * 1000;
        let outcome = sessions::redeem(&state.store, code.as_str(), viewer, timeout_ms).await?;
        state.metrics.redemption(outcome.outcome());
        if matches!(outcome, Redeem::Unknown | Redeem::Expired | Redeem::Revoked) {
            let _ = state.limiter.hit(limit, &ip).await;
        }
        let redemption = match outcome {
            Redeem::Started(r) => r,
            Redeem::Unknown => return Err(ApiError::unauthorized(INVALID_CODE)),
            Redeem::Expired => return Err(ApiError::gone(EXPIRED)),
            Redeem::Revoked => return Err(ApiError::forbidden(REVOKED)),
            Redeem::EventInactive => return Err(ApiError::forbidden(UNAVAILABLE)),
            Redeem::InUse => return Err(ApiError::in_use()),
        };
        state
            .metrics
            .events
            .redemption(redemption.event.id.as_str());
        if redemption.ended_stale {
            // A stale session's end was logged: let waiting edges know now.
            state.feed.bump();
            state
                .metrics
                .events
                .session_end(redemption.event.id.as_str(), "timeout");
        }
        let (token, expires_in) = issue(
            &state,
            redemption.code_id.as_str(),
            redemption.event.id.as_str(),
            redemption.session_id.as_str(),
            redemption.expires_at,
        )?;
        let status = event_status(&state, &redemption.event).await;
        let event = &redemption.event;
        Ok(Json(ValidateResponse {
            event: EventSummary {
                id: event.id.to_string(),
                title: event.title.clone(),
                description: event.description.clone(),
                starts_at: format_ms(event.starts_at),
                ends_at: format_ms(event.ends_at),
                poster_url: event.poster_url.clone(),
                is_live: status == "live",
            },
            playback_token: token,
            playback_base_url: config.hls.public_url.as_str().trim_end_matches('/').into(),
            stream_path: format!(
                "{}{}",
                Claims::stream_prefix(event.id.as_str()),
                event.playlist
            ),
            expires_at: format_ms(redemption.expires_at),
            token_expires_in: expires_in,
            heartbeat_interval_seconds: i64::from(config.platform.heartbeat_interval_seconds),
        }))
    }

    /// Get a new playback token for the same session (the player calls this before
    /// the current one expires).
    #[oai(
        path = "/api/playback/refresh",
        method = "post",
        operation_id = "refreshToken"
    )]
    async fn refresh(
        &self,
        state: Data<&Arc<AppState>>,
        auth: PlaybackToken,
    ) -> Result<Json<RefreshResponse>, ApiError> {
        let claims = verified(&state, &auth.0.token)?;
        let config = state.config();
        let limit = Limit {
            name: "refresh",
            max: config.platform.rate_limits.refresh_per_hour,
            window: Duration::from_secs(3600),
        };
        if let Err(e) = state.limiter.hit(limit, &claims.sub).await {
            return Err(ApiError::too_many(e.retry_after));
        }
        match touch(&state, &claims).await? {
            SessionCheck::Live { expires_at, event } => {
                let (token, expires_in) = issue(
                    &state,
                    &claims.sub,
                    event.id.as_str(),
                    &claims.sid,
                    expires_at,
                )?;
                Ok(Json(RefreshResponse {
                    playback_token: token,
                    token_expires_in: expires_in,
                }))
            }
            other => Err(session_error(other)),
        }
    }

    /// Keep this device's session alive (every 30 s while playing). Also how a player
    /// that has all it needs buffered learns that it must stop: 403 when the code was
    /// revoked or the event switched off, 410 when access has ended.
    #[oai(
        path = "/api/playback/heartbeat",
        method = "post",
        operation_id = "heartbeat"
    )]
    async fn heartbeat(
        &self,
        state: Data<&Arc<AppState>>,
        auth: PlaybackToken,
    ) -> Result<Json<HeartbeatResponse>, ApiError> {
        let claims = verified(&state, &auth.0.token)?;
        match touch(&state, &claims).await? {
            SessionCheck::Live { .. } => Ok(Json(HeartbeatResponse { ok: true })),
            other => Err(session_error(other)),
        }
    }

    /// End this device's session so the code can be used elsewhere at once. The token
    /// may come in the body, for `navigator.sendBeacon`, which cannot set headers: the
    /// body may also be sent as `text/plain` (sendBeacon's default), holding this JSON
    /// object or the bare token.
    #[oai(
        path = "/api/playback/release",
        method = "post",
        operation_id = "releaseSession"
    )]
    async fn release(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Json<ReleaseBody>,
    ) -> Result<Json<ReleaseResponse>, ApiError> {
        let from_body = body.0.token;
        let from_header = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        let Some(token) = from_header.or(from_body) else {
            return Err(ApiError::unauthorized("Authorization required"));
        };
        let claims = verified(&state, &token)?;
        let ip = client_ip_text(req, &state.config().platform.trusted_proxies);
        if sessions::end(
            &state.store,
            &SessionId::from(claims.sid.as_str()),
            EndReason::Released,
            &ip,
        )
        .await?
            == Some(true)
        {
            state.feed.bump();
            state.metrics.events.session_end(&claims.eid, "released");
        }
        Ok(Json(ReleaseResponse { released: true }))
    }

    /// Whether the event has started, is live, has ended, or is available as a
    /// recording. Needs a code of that event. Limited per address
    /// (`status_per_minute`, generous for the pre-event screen's 30 s poll), and a
    /// failed lookup counts against the validate limit, so it is no faster an oracle
    /// for guessing codes than redeeming them.
    #[oai(
        path = "/api/events/:id/status",
        method = "get",
        operation_id = "eventStatus"
    )]
    async fn status(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        id: Path<String>,
        code: Query<Option<String>>,
    ) -> Result<Json<EventStatus>, ApiError> {
        let ip = client_ip_text(req, &state.config().platform.trusted_proxies);
        let limits = &state.config().platform.rate_limits;
        let status_limit = Limit {
            name: "status",
            max: limits.status_per_minute,
            window: Duration::from_secs(60),
        };
        let validate_limit = Limit {
            name: "validate",
            max: limits.validate_per_minute,
            window: Duration::from_secs(60),
        };
        state
            .limiter
            .hit(status_limit, &ip)
            .await
            .map_err(|e| ApiError::too_many(e.retry_after))?;
        // Checked before the lookup: once failures used the budget, a right guess must
        // not be told apart from a wrong one.
        state
            .limiter
            .check(validate_limit, &ip)
            .await
            .map_err(|e| ApiError::too_many(e.retry_after))?;
        match lookup_status(&state, &id.0, code.0.as_deref()).await {
            Err(e) if matches!(e, ApiError::Unauthorized(_)) => {
                let _ = state.limiter.hit(validate_limit, &ip).await;
                Err(e)
            }
            other => other,
        }
    }
}

/// The status endpoint's work once the limits let the request through.
async fn lookup_status(
    state: &AppState,
    id: &str,
    code: Option<&str>,
) -> Result<Json<EventStatus>, ApiError> {
    let Some(event) = streamgate_store::reads::event(&state.store, &EventId::from(id)).await?
    else {
        return Err(ApiError::not_found("Event not found"));
    };
    let code = code
        .and_then(|c| AccessCode::parse(c).ok())
        .ok_or_else(|| ApiError::unauthorized(CODE_REQUIRED))?;
    if !streamgate_store::reads::code_belongs_to(&state.store, code.as_str(), &event.id).await? {
        return Err(ApiError::unauthorized(INVALID_CODE));
    }
    let status = event_status(state, &event).await;
    Ok(Json(EventStatus {
        event_id: event.id.to_string(),
        status: status.into(),
        starts_at: format_ms(event.starts_at),
        ends_at: format_ms(event.ends_at),
    }))
}

/// Verifies a playback token (401 for anything wrong with it).
pub(crate) fn verified(state: &AppState, token: &str) -> Result<Claims, ApiError> {
    match state.keys.verify(token) {
        Ok(claims) if !claims.probe => Ok(claims),
        _ => Err(ApiError::unauthorized(BAD_TOKEN)),
    }
}

/// Records a heartbeat for the code and session a verified token names, checking the
/// code and event too (refresh and heartbeat).
async fn touch(
    state: &AppState,
    claims: &Claims,
) -> Result<SessionCheck, streamgate_store::StoreError> {
    let code_id = CodeId::from(claims.sub.as_str());
    let session_id = SessionId::from(claims.sid.as_str());
    sessions::touch(&state.store, &code_id, &session_id, true).await
}

/// Signs a token for a session; it never outlives the code.
fn issue(
    state: &AppState,
    code_id: &str,
    event_id: &str,
    session_id: &str,
    code_expires_at_ms: i64,
) -> Result<(String, i64), ApiError> {
    let now = now_ms() / 1000;
    let ttl = i64::from(state.config().platform.playback_token_ttl_seconds);
    let exp = (now + ttl).min(code_expires_at_ms / 1000).max(now + 1);
    let claims = Claims {
        sub: code_id.to_owned(),
        eid: event_id.to_owned(),
        sid: session_id.to_owned(),
        sp: Claims::stream_prefix(event_id),
        iat: now,
        exp,
        nbf: None,
        probe: false,
    };
    let token = state.keys.sign(&claims).map_err(|e| {
        tracing::error!("{e}");
        ApiError::internal()
    })?;
    Ok((token, exp - now))
}

pub(crate) fn session_error(check: SessionCheck) -> ApiError {
    match check {
        SessionCheck::Revoked => ApiError::forbidden(REVOKED),
        SessionCheck::EventInactive => ApiError::forbidden(UNAVAILABLE),
        SessionCheck::Expired => ApiError::gone(EXPIRED),
        SessionCheck::TakenOver => ApiError::conflict(SESSION_TAKEN),
        SessionCheck::UnknownCode | SessionCheck::Gone | SessionCheck::Live { .. } => {
            ApiError::not_found(SESSION_GONE)
        }
    }
}

/// The schedule, corrected by asking the HLS server when it can be asked.
async fn event_status(state: &AppState, event: &EventRow) -> &'static str {
    let now = now_ms();
    if now < event.starts_at {
        return "not-started";
    }
    let (available, ingest) = state
        .prober
        .stream_state(&state.keys, event.id.as_str(), &event.playlist)
        .await;
    // Where StreamGate takes the stream itself, a closed recording is a recording even
    // before the scheduled end (the organiser stopped early).
    let window_ends = event.ends_at + event.access_window_hours * 3_600_000;
    if ingest == Some(IngestState::Finished) && available == Some(true) && now <= window_ends {
        return "recording";
    }
    if now <= event.ends_at {
        match available {
            Some(false) => "not-started",
            _ => "live",
        }
    } else {
        match available {
            Some(true) => "recording",
            Some(false) => "ended",
            None if now <= window_ends => "recording",
            None => "ended",
        }
    }
}
