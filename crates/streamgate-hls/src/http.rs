//! The HTTP application around the stream route and the typed API: CORS for the one
//! allowed origin, an access log without tokens, security headers, JSON errors.

use std::sync::Arc;
use std::time::{Duration, Instant};

use poem::http::{HeaderValue, Method};
use poem::middleware::Cors;
use poem::{Endpoint, EndpointExt, IntoResponse, Route, get};

use crate::state::HlsState;

use crate::api::api_service;
use crate::{path, playlist, serve};

/// The whole HTTP application around `state`: CORS for the one allowed origin, an
/// access log without tokens, and security headers.
pub fn app(
    state: Arc<HlsState>,
    cors_origin: &str,
) -> impl Endpoint<Output = poem::Response> + use<> {
    let api = api_service();
    let cors = Cors::new()
        .allow_origin(cors_origin)
        .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
        .allow_headers(["authorization", "range"])
        .expose_headers(["content-length", "content-range", "accept-ranges"])
        .max_age(86_400);
    Route::new()
        .at("/streams/*path", get(serve::stream).head(serve::stream))
        .nest("/", api)
        .data(state)
        .with(cors)
        .around(|ep, req| async move {
            let started = Instant::now();
            // The access log is built only when it is wanted: formatting on every
            // request showed up in profiles.
            let logged = (tracing::enabled!(target: "streamgate::access", tracing::Level::INFO))
                .then(|| (req.method().clone(), req.uri().clone()));
            let resp = ep.call(req).await.map(IntoResponse::into_response);
            let mut resp = match resp {
                Ok(r) => r,
                Err(e) if e.is_from_response() => e.into_response(),
                // Errors raised below the typed API (a missing key, an unknown route,
                // a wrong method) answer in the same JSON shape as everything else.
                Err(e) => json_error(e.status()),
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
            Ok(resp)
        })
}

fn json_error(status: poem::http::StatusCode) -> poem::Response {
    use poem::http::StatusCode;
    let message = match status {
        StatusCode::UNAUTHORIZED => "Authorization required",
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::METHOD_NOT_ALLOWED => "Method not allowed",
        StatusCode::BAD_REQUEST => "Malformed request",
        s if s.is_server_error() => "Internal server error",
        _ => "Request refused",
    };
    poem::Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(format!("{{\"error\":\"{message}\"}}"))
}

/// One access-log line, with every credential-named parameter (`__token` under any
/// spelling) dropped from the query and JWT-looking text replaced anywhere in it
/// ([`streamgate_core::redact`]): stream requests at info, the rest (health checks,
/// metrics scrapes) at debug.
fn access_log(method: &Method, uri: &poem::http::Uri, status: u16, took: Duration) {
    let path = streamgate_core::redact::redact_text(uri.path());
    let ms = took.as_secs_f64() * 1000.0;
    let query = uri.query().and_then(playlist::redact_query);
    let sep = if query.is_some() { "?" } else { "" };
    let query = query.unwrap_or_default();
    if path.starts_with(path::STREAMS_PREFIX) {
        tracing::info!(target: "streamgate::access", "{method} {path}{sep}{query} {status} {ms:.1}ms");
    } else {
        tracing::debug!(target: "streamgate::access", "{method} {path}{sep}{query} {status} {ms:.1}ms");
    }
}
