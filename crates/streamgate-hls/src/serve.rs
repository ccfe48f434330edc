//! `GET|HEAD /streams/{eventId}/{path...}`: the request every player makes, many times
//! a minute. The order of checks is SPEC section 5's: a token must be present (401),
//! the path must be a plain path to a servable file (404), the token must admit this
//! request (403, the same vague answer for every reason), and the content must exist
//! (404) or be fetchable (502).
//!
//! Playlists are sent from memory with `Cache-Control: no-store` and, when the token
//! came in the query string, with every URI rewritten to carry it. Segments are sent
//! as files with Range and conditional-request support.

use std::sync::Arc;

use bytes::Bytes;
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::web::{Data, StaticFileRequest};
use poem::{Body, FromRequest, IntoResponse, Request, Response, handler};

use crate::files::{self, Loaded};
use crate::path::{MediaKind, StreamPath};
use crate::playlist;
use crate::shared;
use crate::source::{Content, SourceError};
use crate::state::HlsState;

/// Segments are immutable once published: let the viewer's browser keep them.
const SEGMENT_CACHE_CONTROL: &str = "private, max-age=3600";

/// A JSON error body in the API's shape.
pub fn json_error(status: StatusCode, message: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(format!("{{\"error\":\"{message}\"}}"))
}

/// The token of a request: `Authorization: Bearer`, else `?__token=`. The flag says
/// whether it came from the query (playlists are then rewritten).
pub fn request_token(req: &Request) -> Option<(&str, bool)> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION)
        && let Ok(text) = value.to_str()
        && let Some(token) = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
        && !token.trim().is_empty()
    {
        return Some((token.trim(), false));
    }
    req.uri()
        .query()
        .and_then(playlist::token_from_query)
        .map(|t| (t, true))
}

/// The stream route.
#[handler]
pub async fn stream(req: &Request, state: Data<&Arc<HlsState>>) -> Response {
    let state = *state;
    let Some((token, via_query)) = request_token(req) else {
        state.metrics.request("unauthorized");
        let mut resp = json_error(StatusCode::UNAUTHORIZED, "Authorization required");
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return resp;
    };
    let Some((path, kind)) = StreamPath::parse(req.uri().path()).and_then(|p| {
        let kind = p.kind()?;
        Some((p, kind))
    }) else {
        state.metrics.request("not_found");
        return json_error(StatusCode::NOT_FOUND, "Not found");
    };
    let is_head = req.method() == Method::HEAD;
    let verified = match state
        .gate
        .check(token, is_head, &path, req.method().as_str())
    {
        Ok(verified) => verified,
        Err(denied) => {
            tracing::debug!("refused {} {path}: {denied}", req.method());
            state.metrics.request(match denied.label() {
                "expired" => "denied_expired",
                "path" => "denied_path",
                "probe" => "denied_probe",
                "revoked" => "denied_revoked",
                _ => "denied_invalid",
            });
            return json_error(StatusCode::FORBIDDEN, "Access denied");
        }
    };
    if let Some(addr) = shared::client_addr(req, &state.trusted_proxies)
        && state
            .shared
            .observe(&verified.claims, addr, std::time::Instant::now())
            == shared::Verdict::Refuse
    {
        tracing::debug!("refused {} {path}: token shared", req.method());
        state.metrics.request("denied_shared");
        return json_error(StatusCode::FORBIDDEN, "Access denied");
    }
    let content = match state.source.get(&path).await {
        Ok(content) => content,
        Err(SourceError::NotFound) => {
            state.metrics.request("not_found");
            return json_error(StatusCode::NOT_FOUND, "Not found");
        }
        Err(SourceError::Upstream(e)) => {
            tracing::warn!("upstream failed for {path}: {e}");
            state.metrics.request("upstream_error");
            return json_error(StatusCode::BAD_GATEWAY, "Stream source unavailable");
        }
    };
    let mut resp = match kind {
        MediaKind::Playlist => playlist_response(state, content, via_query.then_some(token)),
        MediaKind::Segment(content_type) => {
            segment_response(state, req, content, content_type).await
        }
    };
    let outcome = match resp.status() {
        StatusCode::OK | StatusCode::PARTIAL_CONTENT => "ok",
        StatusCode::NOT_MODIFIED => "not_modified",
        StatusCode::NOT_FOUND => "not_found",
        _ => "ok",
    };
    state.metrics.request(outcome);
    if let Some(len) = resp
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        state.metrics.bytes(len);
    }
    if is_head {
        resp.set_body(Body::empty());
    }
    resp
}

fn playlist_response(state: &HlsState, content: Content, token: Option<&str>) -> Response {
    let bytes = match content {
        Content::Bytes(b) => b,
        Content::File(file) => match state.files.get(&file) {
            Ok(Loaded::Memory(f)) => f.bytes.clone(),
            Ok(Loaded::TooLarge) => {
                tracing::warn!("{} is too large to be a playlist", file.display());
                return json_error(StatusCode::NOT_FOUND, "Not found");
            }
            Err(e) => {
                tracing::warn!("cannot read {}: {e}", file.display());
                return json_error(StatusCode::NOT_FOUND, "Not found");
            }
        },
    };
    let body = match token {
        Some(token) => match std::str::from_utf8(&bytes) {
            Ok(text) => Bytes::from(playlist::add_token(text, token)),
            // Not text, so not a playlist a player could use either.
            Err(_) => return json_error(StatusCode::BAD_GATEWAY, "Stream source unavailable"),
        },
        None => bytes,
    };
    Response::builder()
        .content_type(MediaKind::Playlist.content_type())
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::CONTENT_LENGTH, body.len())
        .body(body)
}

async fn segment_response(
    state: &HlsState,
    req: &Request,
    content: Content,
    content_type: &'static str,
) -> Response {
    let mut resp = match content {
        Content::Bytes(bytes) => files::respond(req, bytes, None, content_type),
        Content::File(path) => match state.files.get(&path) {
            Ok(Loaded::Memory(f)) => files::respond(req, f.bytes.clone(), Some(&f), content_type),
            Ok(Loaded::TooLarge) => stream_from_disk(req, &path, content_type).await,
            Err(e) => {
                tracing::warn!("cannot read {}: {e}", path.display());
                json_error(StatusCode::NOT_FOUND, "Not found")
            }
        },
    };
    if resp.status().is_success() {
        resp.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(SEGMENT_CACHE_CONTROL),
        );
    }
    resp
}

/// Files too large for memory stream from disk, with poem's Range support.
async fn stream_from_disk(req: &Request, path: &std::path::Path, content_type: &str) -> Response {
    let files = match StaticFileRequest::from_request_without_body(req).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    match files.create_response(path, false, false) {
        Ok(file) => file.with_content_type(content_type).into_response(),
        Err(poem::error::StaticFileError::NotFound) => {
            json_error(StatusCode::NOT_FOUND, "Not found")
        }
        Err(e) => poem::error::ResponseError::as_response(&e),
    }
}
