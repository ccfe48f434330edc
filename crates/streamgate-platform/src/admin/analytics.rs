//! Audience analytics through the admin API: an event's peak, unique viewers, watch
//! time and concurrent-viewer timeline as JSON, and its per-code figures as CSV. The
//! figures come from the database (`streamgate_store::analytics`), so every platform
//! instance answers the same.

use std::sync::Arc;
use streamgate_core::EventId;
use streamgate_core::csv::safe_cell;

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};
use streamgate_store::analytics::{self, Clock, CodeStats, EventAnalytics};
use streamgate_store::{events, format_ms, now_ms};

use super::auth::AdminAuth;
use super::events::timeout_ms;
use crate::api::ApiTags;
use crate::error::ApiError;
use crate::state::AppState;

/// One point of the concurrent-viewer timeline.
#[derive(Debug, Clone, Object)]
pub struct ViewerPoint {
    /// Start of the bucket (RFC 3339).
    pub at: String,
    /// Most viewers watching at one moment within the bucket.
    pub viewers: i64,
}

/// An event's audience.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct EventAnalyticsBody {
    /// The event.
    pub event_id: String,
    /// Most viewers watching at one moment.
    pub peak_concurrent_viewers: i64,
    /// Start of the minute of the first peak (RFC 3339); null when nobody watched.
    #[oai(nullable)]
    pub peak_at: Option<String>,
    /// Distinct codes that started a session (one code is one ticket).
    pub unique_viewers: i64,
    /// Sessions started (a reload or a change of device starts another).
    pub sessions: i64,
    /// Total watch time, minutes (one decimal).
    pub watch_minutes: f64,
    /// Watch time per unique viewer, minutes (one decimal).
    pub average_watch_minutes: f64,
    /// Viewers with a live session now.
    pub viewers_now: i64,
    /// Width of a timeline bucket in seconds: 60, or more for spans over a day.
    pub interval_seconds: i64,
    /// When these figures were computed (RFC 3339).
    pub generated_at: String,
    /// One point per bucket from the first session to the last (or now).
    pub timeline: Vec<ViewerPoint>,
}

/// Milliseconds as minutes with one decimal.
#[allow(clippy::cast_precision_loss)]
fn minutes(ms: i64) -> f64 {
    (ms as f64 / 6_000.0).round() / 10.0
}

impl EventAnalyticsBody {
    fn of(event_id: &str, a: EventAnalytics, now: i64) -> Self {
        let average = if a.unique_viewers > 0 {
            a.watch_ms / a.unique_viewers
        } else {
            0
        };
        Self {
            event_id: event_id.to_owned(),
            peak_concurrent_viewers: a.peak_viewers,
            peak_at: a.peak_at.map(format_ms),
            unique_viewers: a.unique_viewers,
            sessions: a.sessions,
            watch_minutes: minutes(a.watch_ms),
            average_watch_minutes: minutes(average),
            viewers_now: a.viewers_now,
            interval_seconds: a.interval_ms / 1000,
            generated_at: format_ms(now),
            timeline: a
                .timeline
                .into_iter()
                .map(|p| ViewerPoint {
                    at: format_ms(p.at),
                    viewers: p.viewers,
                })
                .collect(),
        }
    }
}

/// One event's viewers now.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct EventViewers {
    /// The event.
    pub event_id: String,
    /// Its title.
    pub title: String,
    /// Viewers with a live session.
    pub viewers: i64,
}

/// Viewers now across events.
#[derive(Debug, Clone, Object)]
pub struct ViewersNow {
    /// Viewers with a live session, all events.
    pub total: i64,
    /// The most watched events, most viewers first (at most [`TOP_EVENTS`]).
    pub events: Vec<EventViewers>,
}

/// Most events [`ViewersNow`] lists.
pub const TOP_EVENTS: usize = 10;

/// The analytics JSON, or 404.
#[derive(Debug, ApiResponse)]
pub enum AnalyticsResponse {
    /// The figures.
    #[oai(status = 200)]
    Ok(Json<EventAnalyticsBody>),
}

/// The per-code export.
#[derive(Debug, ApiResponse)]
pub enum AnalyticsCsv {
    /// `code,label,firstSeen,lastSeen,sessions,watchMinutes,devices,addresses`, one
    /// line per code of the event (unused codes too), spreadsheet-safe.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Csv(
        PlainText<String>,
        /// `attachment; filename="<event>-analytics.csv"`.
        #[oai(header = "Content-Disposition")]
        String,
    ),
}

/// Analytics endpoints.
pub struct AnalyticsApi;

#[OpenApi(tag = "ApiTags::Admin")]
impl AnalyticsApi {
    /// An event's audience: peak concurrent viewers and when, unique viewers, watch
    /// time, and the concurrent-viewer timeline (a point a minute).
    #[oai(
        path = "/api/admin/events/:id/analytics",
        method = "get",
        operation_id = "eventAnalytics"
    )]
    async fn analytics(
        &self,
        state: Data<&Arc<AppState>>,
        _auth: AdminAuth,
        /// The event id.
        id: Path<String>,
    ) -> Result<AnalyticsResponse, ApiError> {
        let clock = require_event(&state, &id.0).await?;
        let figures =
            analytics::event_analytics(&state.store, &EventId::from(id.0.as_str()), clock).await?;
        Ok(AnalyticsResponse::Ok(Json(EventAnalyticsBody::of(
            &id.0, figures, clock.now,
        ))))
    }

    /// Viewers now across events, most watched first: the dashboard's chart.
    #[oai(
        path = "/api/admin/analytics/viewers",
        method = "get",
        operation_id = "viewersNow"
    )]
    async fn viewers_now(
        &self,
        state: Data<&Arc<AppState>>,
        _auth: AdminAuth,
    ) -> Result<Json<ViewersNow>, ApiError> {
        let clock = Clock {
            now: now_ms(),
            timeout_ms: timeout_ms(&state),
        };
        let all = analytics::viewers_by_event(&state.store, clock).await?;
        let mut events = Vec::new();
        for (event_id, viewers) in all.iter().take(TOP_EVENTS) {
            let title = events::find(&state.store, event_id)
                .await?
                .map_or_else(|| event_id.to_string(), |e| e.title);
            events.push(EventViewers {
                event_id: event_id.to_string(),
                title,
                viewers: *viewers,
            });
        }
        Ok(Json(ViewersNow {
            total: all.iter().map(|(_, n)| n).sum(),
            events,
        }))
    }

    /// An event's audience per code as CSV:
    /// `code,label,firstSeen,lastSeen,sessions,watchMinutes,devices,addresses`.
    #[oai(
        path = "/api/admin/events/:id/analytics/export",
        method = "get",
        operation_id = "exportEventAnalytics"
    )]
    async fn export(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AdminAuth,
        /// The event id.
        id: Path<String>,
    ) -> Result<AnalyticsCsv, ApiError> {
        let clock = require_event(&state, &id.0).await?;
        let rows =
            analytics::code_stats(&state.store, &EventId::from(id.0.as_str()), clock).await?;
        let csv = write_csv(&rows)?;
        let detail = format!("{} codes", rows.len());
        super::auth::record(
            &state,
            streamgate_store::logs::Audit {
                actor: &auth.admin().actor(),
                action: "analytics.export",
                target: Some(&id.0),
                outcome: "ok",
                detail: Some(&detail),
            },
        )
        .await;
        let name = format!("{}-analytics.csv", super::codes::safe_file_name(&id.0));
        Ok(AnalyticsCsv::Csv(
            PlainText(csv),
            format!("attachment; filename=\"{name}\""),
        ))
    }
}

/// 404 unless the event exists; else the clock to compute its figures with.
async fn require_event(state: &AppState, id: &str) -> Result<Clock, ApiError> {
    match events::find(&state.store, &EventId::from(id)).await? {
        Some(_) => Ok(Clock {
            now: now_ms(),
            timeout_ms: timeout_ms(state),
        }),
        None => Err(ApiError::not_found("Event not found")),
    }
}

/// The CSV header of the per-code export.
pub const CSV_HEADER: [&str; 8] = [
    "code",
    "label",
    "firstSeen",
    "lastSeen",
    "sessions",
    "watchMinutes",
    "devices",
    "addresses",
];

fn write_csv(rows: &[CodeStats]) -> Result<String, ApiError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| {
        tracing::error!("cannot write the analytics CSV: {e}");
        ApiError::internal()
    };
    writer.write_record(CSV_HEADER).map_err(failed)?;
    for r in rows {
        let time = |t: Option<i64>| t.map(format_ms).unwrap_or_default();
        let record = [
            r.code.clone(),
            r.label.clone().unwrap_or_default(),
            time(r.first_seen),
            time(r.last_seen),
            r.sessions.to_string(),
            format!("{:.1}", minutes(r.watch_ms)),
            r.devices.to_string(),
            r.addresses.to_string(),
        ];
        writer
            .write_record(record.iter().map(|cell| safe_cell(cell).into_owned()))
            .map_err(failed)?;
    }
    let bytes = writer.into_inner().map_err(|e| {
        tracing::error!("cannot write the analytics CSV: {e}");
        ApiError::internal()
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_have_one_decimal() {
        assert!((minutes(90_000) - 1.5).abs() < f64::EPSILON);
        assert!((minutes(0)).abs() < f64::EPSILON);
        assert!((minutes(3_600_000) - 60.0).abs() < f64::EPSILON);
    }
}
