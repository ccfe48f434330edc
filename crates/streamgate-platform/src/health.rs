//! `/health` and `/metrics`: what a load balancer, an operator and Prometheus ask.
//! Health includes configuration-as-code's state (last good apply, last refused edit
//! with file:line:column), so a bad push to git shows up where people look.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};
use streamgate_store::{analytics, logs, sessions};

use crate::api::ApiTags;
use crate::state::AppState;

/// One problem of a refused config edit.
#[derive(Debug, Object)]
pub struct ConfigProblem {
    /// `file:line:column`, or the variable's name.
    pub location: String,
    /// The rule or schema path that failed.
    pub rule: String,
    /// What is wrong.
    pub message: String,
}

/// The last refused config edit.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct ConfigError {
    /// When (RFC 3339).
    pub at: String,
    /// The whole report.
    pub message: String,
    /// One line for banners: the first problem with its `file:line:column`.
    pub summary: String,
    /// Located problems (empty for database errors).
    pub problems: Vec<ConfigProblem>,
}

/// Configuration-as-code status.
#[derive(Debug, Default, Object)]
#[oai(rename_all = "camelCase")]
pub struct ConfigStatus {
    /// Good applies since start.
    pub applies: u64,
    /// Refused edits since start.
    pub rejected: u64,
    /// Last good apply (RFC 3339).
    #[oai(nullable)]
    pub last_applied_at: Option<String>,
    /// Last refused edit, until the next good one.
    #[oai(nullable)]
    pub last_error: Option<ConfigError>,
    /// Edited settings that wait for a restart.
    pub restart_required: Vec<String>,
}

/// `GET /health` body.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct Health {
    /// `ok`, or `degraded` when the database cannot be reached (then 503) or the running
    /// configuration differs from the file because an edit was refused (still 200: the
    /// service works, an operator must act).
    pub status: String,
    /// Why the status is `degraded`.
    #[oai(nullable)]
    pub reason: Option<String>,
    /// `ok` or the database error.
    pub database: String,
    /// `sqlite` or `postgres`.
    pub database_kind: String,
    /// Configuration-as-code.
    pub config: ConfigStatus,
    /// The revocation log's newest sequence number.
    #[oai(nullable)]
    pub revocation_seq: Option<i64>,
    /// Build version.
    pub version: String,
    /// Seconds since start.
    pub uptime_seconds: u64,
}

/// `/health` answers 200 when healthy, 503 when not (same body).
#[derive(Debug, ApiResponse)]
pub enum HealthResponse {
    /// Healthy.
    #[oai(status = 200)]
    Ok(Json<Health>),
    /// The database cannot be reached.
    #[oai(status = 503)]
    Unavailable(Json<Health>),
}

/// Health and metrics.
pub struct OpsApi;

#[OpenApi(tag = "ApiTags::Operations")]
impl OpsApi {
    /// Liveness and readiness, with the configuration-as-code status.
    #[oai(path = "/health", method = "get", operation_id = "health")]
    async fn health(&self, state: Data<&Arc<AppState>>) -> HealthResponse {
        let seq = logs::last_seq(&state.store).await;
        let (database, revocation_seq) = match seq {
            Ok(seq) => ("ok".to_owned(), Some(seq)),
            Err(e) => (e.to_string(), None),
        };
        let config = config_status(&state);
        let reason = match (&revocation_seq, &config.last_error) {
            (None, _) => Some(format!("database: {database}")),
            (Some(_), Some(error)) => Some(format!(
                "config: an edit of the file was refused, the last good configuration is running: {}",
                error.summary
            )),
            (Some(_), None) => None,
        };
        let health = Health {
            status: if reason.is_none() { "ok" } else { "degraded" }.into(),
            reason,
            database,
            database_kind: match state.store.backend() {
                streamgate_store::Backend::Sqlite => "sqlite",
                streamgate_store::Backend::Postgres => "postgres",
            }
            .into(),
            config,
            revocation_seq,
            version: env!("CARGO_PKG_VERSION").into(),
            uptime_seconds: state.started.elapsed().as_secs(),
        };
        if revocation_seq.is_some() {
            HealthResponse::Ok(Json(health))
        } else {
            HealthResponse::Unavailable(Json(health))
        }
    }

    /// Prometheus metrics (text exposition format).
    #[oai(path = "/metrics", method = "get", operation_id = "metrics")]
    async fn metrics(&self, state: Data<&Arc<AppState>>) -> PlainText<String> {
        let timeout_ms = i64::from(state.config().platform.session_timeout_seconds) * 1000;
        let active = sessions::count_live(&state.store, timeout_ms)
            .await
            .unwrap_or(-1);
        let (applies, rejected) = state
            .reload
            .lock()
            .map(|s| (s.applies, s.rejected))
            .unwrap_or_default();
        #[allow(clippy::cast_precision_loss)]
        let gauges = [
            (
                "streamgate_active_sessions",
                "Viewer sessions with a heartbeat within the session timeout (-1: database unreachable).",
                active as f64,
            ),
            (
                "streamgate_config_applies",
                "Good applies of streamgate.toml since start.",
                applies as f64,
            ),
            (
                "streamgate_config_rejected",
                "Refused edits of streamgate.toml since start.",
                rejected as f64,
            ),
        ];
        let mut out = state.metrics.render(&gauges);
        let clock = analytics::Clock {
            now: streamgate_store::now_ms(),
            timeout_ms,
        };
        match analytics::viewers_by_event(&state.store, clock).await {
            Ok(viewers) => state.metrics.events.render(&mut out, &viewers),
            Err(e) => tracing::warn!("metrics: cannot read viewers per event: {e}"),
        }
        PlainText(out)
    }
}

fn config_status(state: &AppState) -> ConfigStatus {
    let Ok(s) = state.reload.lock() else {
        return ConfigStatus::default();
    };
    let rfc3339 = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    ConfigStatus {
        applies: s.applies,
        rejected: s.rejected,
        last_applied_at: s.last_applied_at.map(rfc3339),
        last_error: s.last_error.as_ref().map(|e| ConfigError {
            at: rfc3339(e.at),
            message: e.message.clone(),
            summary: e.summary(),
            problems: e
                .diagnostics
                .iter()
                .map(|d| ConfigProblem {
                    location: d.location.to_string(),
                    rule: d.rule.to_string(),
                    message: d.message.clone(),
                })
                .collect(),
        }),
        restart_required: s.restart_required.clone(),
    }
}
