//! Access codes ("tokens" in the seed's paths, kept for its scripts) and viewer sessions
//! through the admin API. Revoking is runtime state, so it is allowed for the codes of
//! config-managed events too; generating is not (their codes come from batches in the
//! file). Every revocation and forced release reaches the HLS edges through the
//! revocation feed, which is woken at once. The wire types
//! and their conversions from store rows are in `model`.

mod model;

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Json, PlainText};
use streamgate_core::{CodeId, EventId, SessionId};
use streamgate_store::codes::{self, CodeQuery, GenerateError};
use streamgate_store::sessions::{self, EndReason};
use streamgate_store::{events, format_ms, now_ms};

use super::auth::AdminAuth;
use super::events::timeout_ms;
use super::{CODES_PER_PAGE, config_managed};
use crate::api::ApiTags;
use crate::error::ApiError;
use crate::state::AppState;

pub use self::model::*;

/// Code and session endpoints.
pub struct CodesApi;

#[OpenApi(tag = "ApiTags::Admin")]
impl CodesApi {
    /// An event's codes: filter by status, search code or label, 50 per page.
    #[oai(
        path = "/api/admin/events/:id/tokens",
        method = "get",
        operation_id = "listEventTokens"
    )]
    async fn list_for_event(
        &self,
        state: Data<&Arc<AppState>>,
        _auth: AdminAuth,
        /// The event id.
        id: Path<String>,
        /// Only codes with this status.
        status: Query<Option<Status>>,
        /// Substring of the code or label (case-insensitive).
        search: Query<Option<String>>,
        /// Page from 1.
        page: Query<Option<i64>>,
    ) -> Result<Json<CodeList>, ApiError> {
        require_event(&state, &id.0).await?;
        list(&state, Some(&id.0), status.0, search.0.as_deref(), page.0).await
    }

    /// Makes 1..=500 codes for an API-managed event, all or none. 409 for a
    /// config-managed event (declare a batch in the file instead).
    #[oai(
        path = "/api/admin/events/:id/tokens",
        method = "post",
        operation_id = "generateEventTokens"
    )]
    async fn generate(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AdminAuth,
        /// The event id.
        id: Path<String>,
        body: Json<GenerateRequest>,
    ) -> Result<Generated, ApiError> {
        let admin = auth.admin();
        let max = i64::from(state.config().platform.max_codes_per_request.min(500));
        let count = body.0.count;
        if !(1..=max).contains(&count) {
            return Err(ApiError::bad_request(format!(
                "count must be between 1 and {max}"
            )));
        }
        let label = body
            .0
            .label
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty());
        if label.as_ref().is_some_and(|l| l.chars().count() > 100) {
            return Err(ApiError::bad_request(
                "label must be at most 100 characters",
            ));
        }
        let ids = codes::generate(
            &state.store,
            &EventId::from(id.0.as_str()),
            count.unsigned_abs(),
            label.as_deref(),
            &admin.actor(),
        )
        .await
        .map_err(|e| match e {
            GenerateError::NotFound => ApiError::not_found("Event not found"),
            GenerateError::ConfigManaged => config_managed(&state, &id.0),
            GenerateError::Store(e) => e.into(),
        })?;
        let mut tokens = Vec::with_capacity(ids.len());
        for code_id in &ids {
            tokens.push(one(&state, code_id.as_str()).await?);
        }
        Ok(Generated::Created(Json(GenerateResponse {
            generated: i64::try_from(ids.len()).unwrap_or(i64::MAX),
            tokens,
        })))
    }

    /// An event's codes as CSV: `code,label,status,createdAt,expiresAt`.
    #[oai(
        path = "/api/admin/events/:id/tokens/export",
        method = "get",
        operation_id = "exportEventTokens"
    )]
    async fn export(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AdminAuth,
        /// The event id.
        id: Path<String>,
    ) -> Result<CsvExport, ApiError> {
        let admin = auth.admin();
        let mut out = Vec::new();
        let exported = streamgate_store::reads::export_codes_csv(
            &state.store,
            &EventId::from(id.0.as_str()),
            timeout_ms(&state),
            &mut out,
        )
        .await;
        match exported {
            Ok(n) => {
                let detail = format!("{n} codes");
                super::auth::record(
                    &state,
                    streamgate_store::logs::Audit {
                        actor: &admin.actor(),
                        action: "code.export",
                        target: Some(&id.0),
                        outcome: "ok",
                        detail: Some(&detail),
                    },
                )
                .await;
            }
            Err(streamgate_store::StoreError::EventNotFound(_)) => {
                return Err(ApiError::not_found("Event not found"));
            }
            Err(e) => return Err(e.into()),
        }
        let name = format!("{}-codes.csv", safe_file_name(&id.0));
        Ok(CsvExport::Csv(
            PlainText(String::from_utf8_lossy(&out).into_owned()),
            format!("attachment; filename=\"{name}\""),
        ))
    }

    /// Codes across events: filter by status and event, search code or label.
    #[oai(
        path = "/api/admin/tokens",
        method = "get",
        operation_id = "listTokens"
    )]
    async fn list_all(
        &self,
        state: Data<&Arc<AppState>>,
        _auth: AdminAuth,
        /// Only codes with this status.
        status: Query<Option<Status>>,
        /// Only this event's codes.
        #[oai(name = "eventId")]
        event_id: Query<Option<String>>,
        /// Substring of the code or label (case-insensitive).
        search: Query<Option<String>>,
        /// Page from 1.
        page: Query<Option<i64>>,
    ) -> Result<Json<CodeList>, ApiError> {
        list(
            &state,
            event_id.0.as_deref().filter(|s| !s.is_empty()),
            status.0,
            search.0.as_deref(),
            page.0,
        )
        .await
    }

    /// Revokes a code: the player stops within about a second (HLS edges hear of it
    /// through the revocation feed) and the code cannot be redeemed again.
    #[oai(
        path = "/api/admin/tokens/:id/revoke",
        method = "post",
        operation_id = "revokeToken"
    )]
    async fn revoke(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AdminAuth,
        /// The code's row id.
        id: Path<String>,
    ) -> Result<Json<AdminCode>, ApiError> {
        set_revoked(&state, &auth, &id.0, true).await
    }

    /// Lets a revoked code play again.
    #[oai(
        path = "/api/admin/tokens/:id/unrevoke",
        method = "post",
        operation_id = "unrevokeToken"
    )]
    async fn unrevoke(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AdminAuth,
        /// The code's row id.
        id: Path<String>,
    ) -> Result<Json<AdminCode>, ApiError> {
        set_revoked(&state, &auth, &id.0, false).await
    }

    /// Revokes many codes in one transaction.
    #[oai(
        path = "/api/admin/tokens/bulk-revoke",
        method = "post",
        operation_id = "bulkRevokeTokens"
    )]
    async fn bulk_revoke(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AdminAuth,
        body: Json<BulkRevokeRequest>,
    ) -> Result<Json<BulkRevokeResponse>, ApiError> {
        let admin = auth.admin();
        let ids: Vec<CodeId> = body.0.token_ids.into_iter().map(CodeId::from).collect();
        if ids.is_empty() || ids.len() > MAX_BULK {
            return Err(ApiError::bad_request(format!(
                "tokenIds must name between 1 and {MAX_BULK} codes"
            )));
        }
        let revoked = codes::bulk_revoke(&state.store, &ids, &admin.actor()).await?;
        state.feed.bump();
        Ok(Json(BulkRevokeResponse {
            revoked: i64::try_from(revoked).unwrap_or(i64::MAX),
        }))
    }

    /// The event's sessions that have not ended.
    #[oai(
        path = "/api/admin/events/:id/sessions",
        method = "get",
        operation_id = "listEventSessions"
    )]
    async fn sessions(
        &self,
        state: Data<&Arc<AppState>>,
        _auth: AdminAuth,
        /// The event id.
        id: Path<String>,
    ) -> Result<Json<SessionList>, ApiError> {
        require_event(&state, &id.0).await?;
        let live_after = now_ms() - timeout_ms(&state);
        let items = sessions::open_for_event(&state.store, &EventId::from(id.0.as_str()))
            .await?
            .into_iter()
            .map(|s| AdminViewerSession {
                stale: s.last_heartbeat <= live_after,
                id: s.id.into_string(),
                code_id: s.code_id.into_string(),
                code: s.code,
                label: s.label,
                client_ip: s.client_ip,
                user_agent: s.user_agent,
                started_at: format_ms(s.started_at),
                last_heartbeat: format_ms(s.last_heartbeat),
                token_shared_at: s.shared_at.map(format_ms),
                shared_addresses: s.shared_addresses,
            })
            .collect();
        Ok(Json(SessionList { items }))
    }

    /// Ends a viewer's session: their player stops, and the code can be redeemed on
    /// another device at once.
    #[oai(
        path = "/api/admin/sessions/:id/release",
        method = "post",
        operation_id = "forceReleaseSession"
    )]
    async fn release(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AdminAuth,
        /// The session id.
        id: Path<String>,
    ) -> Result<Json<ForceReleaseResponse>, ApiError> {
        let admin = auth.admin();
        let released = sessions::end(
            &state.store,
            &SessionId::from(id.0.as_str()),
            EndReason::Forced,
            &admin.actor(),
        )
        .await?
        .ok_or_else(|| ApiError::not_found("Session not found"))?;
        state.feed.bump();
        if released
            && let Some(event) = streamgate_store::analytics::session_event(
                &state.store,
                &SessionId::from(id.0.as_str()),
            )
            .await?
        {
            state.metrics.events.session_end(event.as_str(), "forced");
        }
        Ok(Json(ForceReleaseResponse { released }))
    }
}

/// 404 unless the event exists.
async fn require_event(state: &AppState, id: &str) -> Result<(), ApiError> {
    match events::find(&state.store, &EventId::from(id)).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found("Event not found")),
    }
}

async fn list(
    state: &AppState,
    event_id: Option<&str>,
    status: Option<Status>,
    search: Option<&str>,
    page: Option<i64>,
) -> Result<Json<CodeList>, ApiError> {
    let (page, per_page) = super::paging(page, None, CODES_PER_PAGE)?;
    if search.is_some_and(|s| s.chars().count() > 100) {
        return Err(ApiError::bad_request(
            "search must be at most 100 characters",
        ));
    }
    let event_id = event_id.map(EventId::from);
    let found = codes::list_page(
        &state.store,
        &CodeQuery {
            event_id: event_id.as_ref(),
            code_id: None,
            status: status.map(Into::into),
            search,
            page,
            per_page,
        },
        timeout_ms(state),
    )
    .await?;
    Ok(Json(CodeList {
        items: found.codes.into_iter().map(Into::into).collect(),
        total: found.total,
        page,
        per_page,
    }))
}

/// One code by row id, or 404.
async fn one(state: &AppState, code_id: &str) -> Result<AdminCode, ApiError> {
    let found = codes::list_page(
        &state.store,
        &CodeQuery {
            code_id: Some(&CodeId::from(code_id)),
            page: 1,
            per_page: 1,
            ..CodeQuery::default()
        },
        timeout_ms(state),
    )
    .await?;
    found
        .codes
        .into_iter()
        .next()
        .map(Into::into)
        .ok_or_else(|| ApiError::not_found("Access code not found"))
}

async fn set_revoked(
    state: &AppState,
    auth: &AdminAuth,
    code_id: &str,
    revoked: bool,
) -> Result<Json<AdminCode>, ApiError> {
    let admin = auth.admin();
    if !codes::set_revoked(
        &state.store,
        &CodeId::from(code_id),
        revoked,
        &admin.actor(),
    )
    .await?
    {
        return Err(ApiError::not_found("Access code not found"));
    }
    state.feed.bump();
    Ok(Json(one(state, code_id).await?))
}

/// Keeps an event id usable as a download name (UUIDs and slugs already are).
pub(crate) fn safe_file_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
