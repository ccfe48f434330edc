//! The HLS server's typed endpoints: `/health`, `/metrics` and the per-event cache
//! clear. The stream route itself is a plain poem handler (see [`crate::serve`]):
//! poem-openapi cannot express a path of any depth, and the hot path should not pay
//! for extractors it does not need. Its contract is added to the description by
//! [`openapi_yaml`] so clients still see it.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::auth::ApiKey;
use poem_openapi::param::Path;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi, OpenApiService, SecurityScheme, Tags};

use crate::state::HlsState;

/// Tags of the HLS server's API.
#[derive(Tags)]
pub enum HlsTags {
    /// Health, metrics and cache control of an HLS edge.
    Hls,
}

/// `X-Internal-Api-Key`: the key the platform and HLS servers share.
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "X-Internal-Api-Key", key_in = "header")]
pub struct InternalKey(ApiKey);

/// `GET /health` body.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct HlsHealth {
    /// `ok`; `starting` before the first revocation sync; `stale` when syncs have
    /// failed for five minutes (the edge still serves with what it knows); `degraded`
    /// when an event's ingest cannot listen.
    pub status: String,
    /// `local`, `proxy` or `hybrid`.
    pub mode: String,
    /// This edge's id (`hls.edge_id`).
    #[oai(nullable)]
    pub edge_id: Option<String>,
    /// Entries in the revocation sets (codes, events, sessions).
    pub revocation_cache_size: u64,
    /// Seconds since the last successful revocation sync (absent: never).
    #[oai(nullable)]
    pub last_sync_ago_seconds: Option<f64>,
    /// `push` (the platform answers as soon as something is revoked) or `poll`.
    pub sync_mode: String,
    /// The revocation-log position applied.
    pub revocation_cursor: i64,
    /// The last sync error, while syncs fail.
    #[oai(nullable)]
    pub sync_error: Option<String>,
    /// Files in the segment cache (absent without an upstream).
    #[oai(nullable)]
    pub cache_entries: Option<u64>,
    /// Bytes in the segment cache.
    #[oai(nullable)]
    pub cache_bytes: Option<u64>,
    /// Build version.
    pub version: String,
    /// Seconds since start.
    pub uptime_seconds: u64,
    /// The live ingest of each event whose stream this process takes (empty when
    /// none runs here).
    pub ingest: Vec<streamgate_core::ingest::IngestHealth>,
}

/// `DELETE /admin/cache/{eventId}` body.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct CacheCleared {
    /// Always true.
    pub cleared: bool,
    /// Files removed.
    pub removed: u64,
}

/// An error body.
#[derive(Debug, Object)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: String,
}

/// Answers of the cache clear.
#[derive(Debug, ApiResponse)]
pub enum ClearResponse {
    /// Cleared (also when nothing was cached).
    #[oai(status = 200)]
    Cleared(Json<CacheCleared>),
    /// Not a valid event id.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Wrong or missing internal key.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
}

/// The typed endpoints.
pub struct HlsApi;

#[OpenApi(tag = "HlsTags::Hls")]
impl HlsApi {
    /// Health of this edge: content mode, revocation sync, segment cache.
    #[oai(path = "/health", method = "get", operation_id = "hlsHealth")]
    async fn health(&self, state: Data<&Arc<HlsState>>) -> Json<HlsHealth> {
        Json(health(&state))
    }

    /// Prometheus metrics (text exposition format).
    #[oai(path = "/metrics", method = "get", operation_id = "hlsMetrics")]
    async fn metrics(&self, state: Data<&Arc<HlsState>>) -> PlainText<String> {
        let revocations = state
            .gate
            .revocations()
            .read()
            .map(|s| s.len())
            .unwrap_or_default();
        let mut text = state.metrics.render(
            revocations,
            (state.gate.memoised(), state.gate.memo_bytes()),
            &state.sync.snapshot(),
            state.source.cache().map(|c| c.stats()),
        );
        if state.ingest.is_some() {
            text.push_str(&streamgate_core::ingest::render_metrics(
                &state.ingest_health(),
            ));
        }
        PlainText(text)
    }

    /// Removes everything the segment cache holds for one event (after re-encoding a
    /// recording, say). Needs the internal API key.
    #[oai(
        path = "/admin/cache/:event_id",
        method = "delete",
        operation_id = "clearEventCache"
    )]
    async fn clear_cache(
        &self,
        state: Data<&Arc<HlsState>>,
        key: InternalKey,
        /// The event whose cached files go.
        event_id: Path<String>,
    ) -> ClearResponse {
        if !state.internal_key.matches(&key.0.key) {
            return ClearResponse::Unauthorized(Json(ErrorBody {
                error: "Invalid internal API key".into(),
            }));
        }
        if !crate::path::is_event_id(&event_id.0) {
            return ClearResponse::BadRequest(Json(ErrorBody {
                error: "Invalid event id".into(),
            }));
        }
        let removed = state
            .source
            .cache()
            .map_or(0, |c| c.clear_event(&event_id.0));
        tracing::info!("cleared {removed} cached files of event {}", event_id.0);
        ClearResponse::Cleared(Json(CacheCleared {
            cleared: true,
            removed: removed as u64,
        }))
    }
}

/// The health document.
pub fn health(state: &HlsState) -> HlsHealth {
    let sync = state.sync.snapshot();
    let revocation_cache_size = state
        .gate
        .revocations()
        .read()
        .map(|s| s.len() as u64)
        .unwrap_or_default();
    let status = match (sync.last_sync_ago, sync.failing_for) {
        (None, _) => "starting",
        (_, Some(failing)) if failing >= crate::sync::ALERT_AFTER.as_secs_f64() => "stale",
        _ => "ok",
    };
    let cache = state.source.cache().map(|c| c.stats());
    let ingest = state.ingest_health();
    let status = match streamgate_core::ingest::overall_status(&ingest) {
        "ok" => status,
        degraded => degraded,
    };
    HlsHealth {
        ingest,
        status: status.into(),
        mode: state.source.mode().as_str().into(),
        edge_id: state.edge_id.clone(),
        revocation_cache_size,
        last_sync_ago_seconds: sync.last_sync_ago.map(|s| (s * 10.0).round() / 10.0),
        sync_mode: if state.push { "push" } else { "poll" }.into(),
        revocation_cursor: sync.cursor,
        sync_error: sync.last_error,
        cache_entries: cache.map(|c| c.entries),
        cache_bytes: cache.map(|c| c.bytes),
        version: env!("CARGO_PKG_VERSION").into(),
        uptime_seconds: state.started.elapsed().as_secs(),
    }
}

/// The typed API service.
pub fn api_service() -> OpenApiService<HlsApi, ()> {
    OpenApiService::new(
        HlsApi,
        "StreamGate HLS server API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Token-gated HLS delivery, health, metrics and cache control of a StreamGate HLS \
         edge. Errors are JSON objects {\"error\": \"<message>\"}.",
    )
}

/// The stream route's contract, which poem-openapi cannot declare (a path of any
/// depth); inserted under `paths:` of the generated description. Kept as YAML in
/// `streams_path.yaml`, indented as it is inserted, so it reads and diffs as YAML.
const STREAMS_PATH_YAML: &str = include_str!("streams_path.yaml");

const PLAYBACK_TOKEN_SCHEME_YAML: &str = r#"    PlaybackToken:
      type: http
      scheme: bearer
      bearerFormat: JWT
      description: A playback token from the platform (HS256, one hour).
"#;

/// The HLS server's OpenAPI description (YAML), as committed in `openapi-hls.yaml`.
pub fn openapi_yaml() -> String {
    let spec = api_service().spec_yaml();
    let mut out = String::with_capacity(spec.len() + STREAMS_PATH_YAML.len() + 256);
    for line in spec.split_inclusive('\n') {
        out.push_str(line);
        if line == "paths:\n" {
            out.push_str(STREAMS_PATH_YAML);
        } else if line == "  securitySchemes:\n" {
            out.push_str(PLAYBACK_TOKEN_SCHEME_YAML);
        }
    }
    out
}
