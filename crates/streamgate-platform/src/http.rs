//! The HTTP application around the API: static assets, the console, body limits, the
//! `sendBeacon` body adapter, CORS-free routing and the access log.

use std::sync::Arc;
use std::time::Instant;

use poem::http::{HeaderValue, Method};
use poem::middleware::CookieJarManager;
use poem::{Endpoint, EndpointExt, IntoResponse, Route};

use crate::api::api_service;
use crate::state::AppState;
use crate::{assets, error};

/// Largest request body accepted (the API takes small JSON documents only).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The whole HTTP application around `state`.
pub fn app(state: Arc<AppState>) -> impl Endpoint {
    let api = api_service();
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    let timing = state.clone();
    Route::new()
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .at("/assets/*path", assets::portal_assets)
        .at("/shared/:file", assets::portal_shared)
        .at("/admin", assets::admin_index)
        .at("/admin/", assets::admin_index)
        .at("/admin/assets/*path", assets::admin_assets)
        .at("/admin/shared/:file", assets::admin_shared)
        .nest("/", api)
        .data(state)
        .with(CookieJarManager::new())
        .around(move |ep, req| {
            let state = timing.clone();
            async move {
                let route = route_name(req.uri().path());
                let is_docs = req.uri().path().starts_with("/docs");
                let started = Instant::now();
                let logged = tracing::enabled!(target: "streamgate::access", tracing::Level::DEBUG)
                    .then(|| (req.method().clone(), req.uri().clone()));
                let result = match body_too_large(&req) {
                    Some(err) => Err(err),
                    // The API's nest at "/" claims the bare "/" too: the portal's page
                    // is answered here, before routing.
                    None if req.uri().path() == "/"
                        && matches!(*req.method(), Method::GET | Method::HEAD) =>
                    {
                        Ok(assets::portal_page(&state))
                    }
                    None => ep.call(beacon_as_json(req).await).await,
                };
                state.metrics.observe(route, started.elapsed());
                let mut resp = match result {
                    Ok(resp) => resp.into_response(),
                    // Typed API errors already carry their JSON response.
                    Err(err) if err.is_from_response() => err.into_response(),
                    Err(err) => error::json_error(err).await,
                };
                if let Some((method, uri)) = logged {
                    access_log(&method, &uri, resp.status().as_u16(), started.elapsed());
                }
                let headers = resp.headers_mut();
                headers.insert(
                    "x-content-type-options",
                    HeaderValue::from_static("nosniff"),
                );
                headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
                // Behind https (the public URL says so), browsers must never come back
                // over plain http, where the session cookie would not be Secure.
                if state.config().platform.public_url.scheme() == "https" {
                    headers.insert(
                        "strict-transport-security",
                        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
                    );
                }
                if !is_docs && !headers.contains_key("content-security-policy") {
                    headers.insert(
                        "content-security-policy",
                        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
                    );
                }
                Ok(resp)
            }
        })
}

/// One access-log line at debug: access codes (`?code=`), tokens under any parameter
/// name and anything JWT-looking are left out ([`streamgate_core::redact`]).
fn access_log(method: &Method, uri: &poem::http::Uri, status: u16, took: std::time::Duration) {
    let path = streamgate_core::redact::redact_text(uri.path());
    let query = uri
        .query()
        .and_then(streamgate_core::redact::redact_query)
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let ms = took.as_secs_f64() * 1000.0;
    tracing::debug!(target: "streamgate::access", "{method} {path}{query} {status} {ms:.1}ms");
}

/// 413 for a declared body over [`MAX_BODY_BYTES`], 411 for a chunked body (whose
/// size would only be known after reading it all).
fn body_too_large(req: &poem::Request) -> Option<poem::Error> {
    use poem::http::StatusCode;
    let headers = req.headers();
    match headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .map(str::parse::<u64>)
    {
        Some(Ok(n)) if n > MAX_BODY_BYTES as u64 => {
            Some(poem::Error::from_status(StatusCode::PAYLOAD_TOO_LARGE))
        }
        Some(Ok(_)) => None,
        Some(Err(_)) => Some(poem::Error::from_string(
            "invalid Content-Length",
            StatusCode::BAD_REQUEST,
        )),
        None if headers.contains_key("transfer-encoding") => {
            Some(poem::Error::from_status(StatusCode::LENGTH_REQUIRED))
        }
        None => None,
    }
}

/// `navigator.sendBeacon` posts whatever body it is given: `text/plain` for a string, a
/// Blob's own type (or none), `application/x-www-form-urlencoded` for URLSearchParams,
/// `multipart/form-data` for FormData; and a page may call release with the header
/// alone. The release endpoint is described (and parsed) as JSON only, so that
/// generated clients see one body type: any other body becomes the JSON object it holds,
/// or `{"token": ...}` from the form field or bare text, or `{}`. The body was already
/// bounded by [`body_too_large`].
async fn beacon_as_json(mut req: poem::Request) -> poem::Request {
    if req.uri().path() != "/api/playback/release" {
        return req;
    }
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if content_type.starts_with("application/json") {
        return req;
    }
    let text = req.take_body().into_string().await.unwrap_or_default();
    let token = if content_type.starts_with("application/x-www-form-urlencoded") {
        url::form_urlencoded::parse(text.as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    } else if content_type.starts_with("multipart/form-data") {
        multipart_field(&text, "token")
    } else {
        None
    };
    let is_form = content_type.starts_with("multipart/")
        || content_type.starts_with("application/x-www-form-urlencoded");
    let text = text.trim();
    let json = match (token, serde_json::from_str::<serde_json::Value>(text)) {
        (Some(token), _) => serde_json::json!({ "token": token }),
        (None, Ok(value)) if value.is_object() => value,
        // Nothing sent, or a form without a token field: the header must carry it.
        (None, _) if text.is_empty() || is_form => serde_json::json!({}),
        (None, _) => serde_json::json!({ "token": text }),
    }
    .to_string();
    let headers = req.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.remove("content-length");
    req.set_body(json);
    req
}

/// The value of the form field `name` in a `multipart/form-data` body (text fields
/// only, which is all a release beacon carries).
fn multipart_field(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"");
    let start = body.find(&marker)?;
    let rest = &body[start..];
    let value_at = rest.find("\r\n\r\n").map(|i| i + 4)?;
    let value = &rest[value_at..];
    let end = value.find("\r\n--").unwrap_or(value.len());
    Some(value[..end].trim().to_owned()).filter(|v| !v.is_empty())
}

fn route_name(path: &str) -> &'static str {
    match path {
        "/api/tokens/validate" => "validate",
        "/api/playback/refresh" => "refresh",
        "/api/playback/heartbeat" => "heartbeat",
        "/api/playback/release" => "release",
        "/api/revocations" => "revocations",
        "/health" => "health",
        p if p.starts_with("/api/events/") && p.ends_with("/status") => "status",
        _ => "other",
    }
}
