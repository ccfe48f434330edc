//! `GET|HEAD /streams/{eventId}/{path...}`: the request every player makes, many times
//! a minute. The order of checks is SPEC section 5's: a token must be present (401),
//! the path must be a plain path to a servable file (404), the token must admit this
//! request (403, the same vague answer for every reason), and the content must exist
//! (404) or be fetchable (502).
//!
//! Playlists are sent from memory with `Cache-Control: no-store`, with URIs naming the
//! origin turned into gated paths and, when the token came in the query string, every
//! URI rewritten to carry it ([`playlist::Rewriter`]). Their LL-HLS delivery
//! directives (`_HLS_msn`, `_HLS_part`, `_HLS_skip`) go to the source; nothing else of
//! the query does. Segments are sent as files with Range and conditional-request
//! support (from memory, and with `sendfile` where the body is large: [`crate::sendfile`]);
//! JSON documents (steering manifests, asset lists) with `no-store`.
//!
//! Browser caching of segments ([`segment_cache_control`]): while an event's live
//! window is open, an encoder restart reuses segment names, so a segment is
//! `private, no-cache`: the browser keeps it but asks again with its `ETag`, and gets a
//! 304 (no body) while it is the same file, the new bytes once it is not. Recordings
//! (the window is over) are immutable: `private, max-age=3600`.

use std::sync::Arc;

use bytes::Bytes;
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::web::{Data, StaticFileRequest};
use poem::{Body, FromRequest, IntoResponse, Request, Response, handler};

use crate::files::{self, Loaded};
use crate::live::Directives;
use crate::path::{MediaKind, StreamPath};
use crate::playlist;
use crate::shared;
use crate::source::{Content, SourceError};
use crate::state::HlsState;

/// Segments of a recording never change: let the viewer's browser keep them.
const RECORDING_CACHE_CONTROL: &str = "private, max-age=3600";
/// Segments of a live event may be replaced under the same name by an encoder
/// restart: the browser must re-validate (a 304 while unchanged).
const LIVE_CACHE_CONTROL: &str = "private, no-cache";

/// The `Cache-Control` of a segment of `path`'s event.
pub fn segment_cache_control(state: &HlsState, path: &StreamPath) -> &'static str {
    if state.source.is_recording(path) {
        RECORDING_CACHE_CONTROL
    } else {
        LIVE_CACHE_CONTROL
    }
}

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
        && state.shared.observe_session(
            verified.session_key(),
            verified.probe(),
            addr,
            std::time::Instant::now(),
            || state.gate.session_ids(token),
        ) == shared::Verdict::Refuse
    {
        tracing::debug!("refused {} {path}: token shared", req.method());
        state.metrics.request("denied_shared");
        return json_error(StatusCode::FORBIDDEN, "Access denied");
    }
    let directives = match kind {
        MediaKind::Playlist => Directives::from_query(req.uri().query()),
        _ => Directives::default(),
    };
    // The platform's probe learns the ingest's state here, found or not.
    let ingest = verified
        .probe()
        .then(|| state.ingest_state(path.event_id()))
        .flatten();
    let content = match state.source.get(&path, &directives).await {
        Ok(content) => content,
        Err(SourceError::NotFound) => {
            state.metrics.request("not_found");
            return with_ingest_state(json_error(StatusCode::NOT_FOUND, "Not found"), ingest);
        }
        Err(SourceError::Upstream(e)) => {
            tracing::warn!("upstream failed for {path}: {e}");
            state.metrics.request("upstream_error");
            return json_error(StatusCode::BAD_GATEWAY, "Stream source unavailable");
        }
    };
    let mut resp = respond(state, req, &path, kind, content, via_query.then_some(token)).await;
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
        resp.extensions_mut().remove::<crate::sendfile::FileBody>();
    }
    with_ingest_state(resp, ingest)
}

/// Adds [`INGEST_STATE_HEADER`](streamgate_core::ingest::INGEST_STATE_HEADER) to a
/// probe's answer.
fn with_ingest_state(
    mut resp: Response,
    state: Option<streamgate_core::ingest::IngestState>,
) -> Response {
    if let Some(state) = state {
        resp.headers_mut().insert(
            streamgate_core::ingest::INGEST_STATE_HEADER,
            poem::http::HeaderValue::from_static(state.as_str()),
        );
    }
    resp
}

/// The response for found content, by kind.
async fn respond(
    state: &HlsState,
    req: &Request,
    path: &StreamPath,
    kind: MediaKind,
    content: Content,
    query_token: Option<&str>,
) -> Response {
    match kind {
        MediaKind::Playlist => playlist_response(state, path, content, query_token),
        MediaKind::Segment(content_type) => {
            let mut resp = segment_response(state, req, content, content_type).await;
            if resp.status().is_success() {
                resp.headers_mut().insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static(segment_cache_control(state, path)),
                );
            }
            resp
        }
        MediaKind::Document(content_type) => {
            let mut resp = segment_response(state, req, content, content_type).await;
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
    }
}

fn playlist_response(
    state: &HlsState,
    path: &StreamPath,
    content: Content,
    token: Option<&str>,
) -> Response {
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
    let map = |url: &url::Url| {
        let mapped = state.source.origin_path(path.event_id(), url);
        if mapped.is_none() && state.source.is_origin_host(url) {
            tracing::warn!(
                "{path} names a file on the origin outside event {}; it is passed unchanged",
                path.event_id()
            );
        }
        mapped
    };
    let rewriter = playlist::Rewriter {
        token,
        origin: Some((path, &map)),
        public_url: state.source.public_url(),
    };
    let body = match std::str::from_utf8(&bytes) {
        Ok(text) if rewriter.touches(text) => Bytes::from(rewriter.rewrite(text)),
        Ok(_) => bytes,
        // Not text, so not a playlist a player could use either.
        Err(_) if token.is_some() => {
            return json_error(StatusCode::BAD_GATEWAY, "Stream source unavailable");
        }
        Err(_) => bytes,
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
    match content {
        Content::Bytes(bytes) => files::respond(req, bytes, None, None, content_type),
        Content::File(path) => match state.files.open(&path) {
            Ok((Loaded::Memory(f), open)) => {
                // A HEAD sends no body, so there is nothing to send from the file.
                let open = open.filter(|_| req.method() != Method::HEAD).map(Arc::new);
                files::respond(req, f.bytes.clone(), Some(&f), open, content_type)
            }
            Ok((Loaded::TooLarge, _)) => stream_from_disk(req, &path, content_type).await,
            Err(e) => {
                tracing::warn!("cannot read {}: {e}", path.display());
                json_error(StatusCode::NOT_FOUND, "Not found")
            }
        },
    }
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
