//! The console's overview pages: dashboard totals with each HLS edge's sync health, the
//! state of configuration-as-code (last apply, last refused edit with file and line),
//! and the audit log.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use streamgate_core::validate::Location;
use streamgate_store::{codes, dashboard, events, format_ms, logs, now_ms, sessions, to_ms};

use super::auth::AdminAuth;
use super::events::{CodeCounts, timeout_ms};
use crate::api::ApiTags;
use crate::error::ApiError;
use crate::state::AppState;

/// An edge counts as healthy when it synced this recently (push edges come back at
/// least every 30 s; polling edges every `revocation_poll_interval_ms`).
pub const EDGE_HEALTHY_SECONDS: i64 = 120;

/// Events by state.
#[derive(Debug, Object)]
pub struct EventCounts {
    /// Every event.
    pub total: i64,
    /// Active, not archived.
    pub active: i64,
    /// Not started yet.
    pub upcoming: i64,
    /// On now.
    pub live: i64,
    /// Archived.
    pub archived: i64,
}

/// An upcoming event on the dashboard.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct UpcomingEvent {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Start (RFC 3339).
    pub starts_at: String,
}

/// One HLS edge's revocation sync.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct EdgeHealth {
    /// The edge's id (`hls.edge_id`, or its address).
    pub id: String,
    /// Where it syncs from.
    #[oai(nullable)]
    pub address: Option<String>,
    /// Last sync (RFC 3339).
    pub last_sync_at: String,
    /// Seconds since then.
    pub last_sync_ago_seconds: i64,
    /// The revocation-log position it has.
    pub cursor: i64,
    /// Entries it has not fetched yet.
    pub lag: i64,
    /// Synced within the last two minutes.
    pub healthy: bool,
}

/// `GET /api/admin/dashboard` answer.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct Dashboard {
    /// Events by state.
    pub events: EventCounts,
    /// Codes by status, every event together.
    pub codes: CodeCounts,
    /// Sessions with a heartbeat within the session timeout.
    pub active_viewers: i64,
    /// The next events to start (up to 5).
    pub upcoming: Vec<UpcomingEvent>,
    /// Every HLS edge that ever synced.
    pub edges: Vec<EdgeHealth>,
    /// The revocation log's newest position.
    pub revocation_log_head: i64,
}

/// A located problem in the refused config edit.
#[derive(Debug, Object)]
pub struct ConfigDiagnostic {
    /// The file, or `environment variable X`, or `built-in default`.
    pub file: String,
    /// 1-based line, for file problems.
    #[oai(nullable)]
    pub line: Option<i64>,
    /// 1-based column, for file problems.
    #[oai(nullable)]
    pub column: Option<i64>,
    /// The key concerned (`events[0].ends_at`), empty for the whole document.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    #[oai(nullable)]
    pub hint: Option<String>,
}

/// The last refused config edit.
#[derive(Debug, Object)]
pub struct ConfigRefusal {
    /// When (RFC 3339).
    pub at: String,
    /// The whole report.
    pub message: String,
    /// One line for the console's banner: the first problem with its place.
    pub summary: String,
    /// Each problem with its place.
    pub diagnostics: Vec<ConfigDiagnostic>,
}

/// `GET /api/admin/config` answer.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct AdminConfigStatus {
    /// The watched file, when there is one.
    #[oai(nullable)]
    pub path: Option<String>,
    /// Whether edits to it are applied while running.
    pub watching: bool,
    /// Good applies since start.
    pub applies: i64,
    /// Refused edits since start.
    pub rejected: i64,
    /// Last good apply (RFC 3339).
    #[oai(nullable)]
    pub last_applied_at: Option<String>,
    /// Settings edited that keep their old value until a restart.
    pub restart_required: Vec<String>,
    /// The last refused edit; cleared by the next good one.
    #[oai(nullable)]
    pub last_error: Option<ConfigRefusal>,
}

/// One audit-log entry.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct AuditItem {
    /// Position in the log.
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// `admin`, `admin-token:<name>`, `config`, or a viewer's IP address.
    pub actor: String,
    /// Dotted verb (`code.revoke`, `event.create`, `admin.login`, ...).
    pub action: String,
    /// What it was done to.
    #[oai(nullable)]
    pub target: Option<String>,
    /// `ok` or a short reason.
    pub outcome: String,
    /// More detail (never a code or a token).
    #[oai(nullable)]
    pub detail: Option<String>,
    /// The access code the entry is about (code and session actions), for operators.
    #[oai(nullable)]
    pub code: Option<String>,
    /// That code's label.
    #[oai(nullable)]
    pub code_label: Option<String>,
}

/// A page of the audit log.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct AuditList {
    /// Newest first.
    pub items: Vec<AuditItem>,
    /// Entries matching on every page.
    pub total: i64,
    /// This page, from 1.
    pub page: i64,
    /// Entries per page.
    pub per_page: i64,
}

/// Dashboard, config status and audit endpoints.
pub struct OverviewApi;

#[OpenApi(tag = "ApiTags::Admin")]
impl OverviewApi {
    /// Totals and the HLS edges' sync health.
    #[oai(
        path = "/api/admin/dashboard",
        method = "get",
        operation_id = "dashboard"
    )]
    async fn dashboard(
        &self,
        state: Data<&Arc<AppState>>,
        _auth: AdminAuth,
    ) -> Result<Json<Dashboard>, ApiError> {
        let now = now_ms();
        let totals = dashboard::event_totals(&state.store, now).await?;
        let counts = codes::status_counts(&state.store, None, timeout_ms(&state)).await?;
        let mut all = codes::StatusCounts::default();
        for c in counts.values() {
            all.merge(c);
        }
        let active_viewers = sessions::count_live(&state.store, timeout_ms(&state)).await?;
        let upcoming = events::list_page(
            &state.store,
            events::EventFilter::Upcoming,
            events::EventSort::StartsAt,
            1,
            5,
            now,
        )
        .await?
        .events
        .into_iter()
        .map(|e| UpcomingEvent {
            id: e.id.into_string(),
            title: e.title,
            starts_at: format_ms(e.starts_at),
        })
        .collect();
        let head = logs::last_seq(&state.store).await?;
        let edges = logs::edge_syncs(&state.store)
            .await?
            .into_iter()
            .map(|e| {
                let ago = ((now - e.last_sync_at) / 1000).max(0);
                EdgeHealth {
                    id: e.id,
                    address: e.address,
                    last_sync_at: format_ms(e.last_sync_at),
                    last_sync_ago_seconds: ago,
                    cursor: e.last_cursor,
                    lag: (head - e.last_cursor).max(0),
                    healthy: ago <= EDGE_HEALTHY_SECONDS,
                }
            })
            .collect();
        Ok(Json(Dashboard {
            events: EventCounts {
                total: totals.total,
                active: totals.active,
                upcoming: totals.upcoming,
                live: totals.live,
                archived: totals.archived,
            },
            codes: all.into(),
            active_viewers,
            upcoming,
            edges,
            revocation_log_head: head,
        }))
    }

    /// Configuration-as-code: last apply, refused edits with file, line and column,
    /// and settings waiting for a restart.
    #[oai(
        path = "/api/admin/config",
        method = "get",
        operation_id = "configStatus"
    )]
    async fn config(
        &self,
        state: Data<&Arc<AppState>>,
        _auth: AdminAuth,
    ) -> Result<Json<AdminConfigStatus>, ApiError> {
        let status = state
            .reload
            .lock()
            .map(|s| s.clone())
            .map_err(|_| ApiError::internal())?;
        let last_error = status.last_error.map(|e| ConfigRefusal {
            at: format_ms(to_ms(e.at)),
            summary: e.summary(),
            message: e.message,
            diagnostics: e
                .diagnostics
                .into_iter()
                .map(|d| {
                    let (file, line, column) = match &d.location {
                        Location::File { path, line, column } => (
                            path.display().to_string(),
                            i64::try_from(*line).ok(),
                            i64::try_from(*column).ok(),
                        ),
                        other => (other.to_string(), None, None),
                    };
                    ConfigDiagnostic {
                        file,
                        line,
                        column,
                        path: d.path.to_string(),
                        message: d.message,
                        hint: d.hint,
                    }
                })
                .collect(),
        });
        Ok(Json(AdminConfigStatus {
            path: state.config_file.as_ref().map(|p| p.display().to_string()),
            watching: state.watching,
            applies: i64::try_from(status.applies).unwrap_or(i64::MAX),
            rejected: i64::try_from(status.rejected).unwrap_or(i64::MAX),
            last_applied_at: status.last_applied_at.map(|t| format_ms(to_ms(t))),
            restart_required: status.restart_required,
            last_error,
        }))
    }

    /// The audit log, newest first; `action` keeps entries whose action starts with it.
    #[oai(path = "/api/admin/audit", method = "get", operation_id = "auditLog")]
    async fn audit(
        &self,
        state: Data<&Arc<AppState>>,
        _auth: AdminAuth,
        /// Page from 1.
        page: Query<Option<i64>>,
        /// Entries per page (1..=100, default 50).
        #[oai(name = "perPage")]
        per_page: Query<Option<i64>>,
        /// Action prefix, e.g. `code.` or `admin.login`.
        action: Query<Option<String>>,
        /// Only entries about this access code (exact, as printed on the ticket).
        code: Query<Option<String>>,
    ) -> Result<Json<AuditList>, ApiError> {
        let (page, per_page) = super::paging(page.0, per_page.0, 50)?;
        let code = code.0.as_deref().map(str::trim).filter(|c| !c.is_empty());
        let (entries, total) = logs::audit_page(
            &state.store,
            action.0.as_deref().filter(|a| !a.is_empty()),
            code,
            page,
            per_page,
        )
        .await?;
        Ok(Json(AuditList {
            items: entries
                .into_iter()
                .map(|e| AuditItem {
                    id: e.id,
                    at: format_ms(e.at),
                    actor: e.actor,
                    action: e.action,
                    target: e.target,
                    outcome: e.outcome,
                    detail: e.detail,
                    code: e.code,
                    code_label: e.code_label,
                })
                .collect(),
            total,
            page,
            per_page,
        }))
    }
}
