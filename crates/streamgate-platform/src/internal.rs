//! The revocation feed (SPEC section 3, "Internal"): how HLS edges, which have no
//! database, learn that a code was revoked, an event deactivated or a session ended.
//!
//! The seed's `since=<ISO 8601>` works, but clock time can miss an entry committed late
//! with an earlier timestamp; the sequence `cursor` cannot, because the store appends
//! under a lock held to commit (sequence order is commit order). With `wait`, a request
//! that finds nothing new stays open until something is logged, so a revocation reaches
//! a waiting edge in well under a second.

use std::sync::Arc;
use std::time::Duration;

use poem::Request;
use poem::web::Data;
use poem_openapi::auth::ApiKey;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, SecurityScheme};
use streamgate_core::revocation::{FeedEntry, RevocationKind};
use streamgate_core::{EventId, SessionId};
use streamgate_store::logs::{self, LogEntry, Since};
use streamgate_store::sessions::{self, SharedReport};
use streamgate_store::{format_ms, now_ms};

use crate::api::ApiTags;
use crate::client_ip::client_ip_text;
use crate::error::ApiError;
use crate::feed::RECHECK;
use crate::state::AppState;

/// Most entries in one answer; `more` says when there are others.
const PAGE: i64 = 5_000;
/// Longest a request may wait for news.
const MAX_WAIT_MS: u64 = 30_000;

/// `X-Internal-Api-Key`: the key the platform and HLS servers share.
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "X-Internal-Api-Key", key_in = "header")]
pub struct InternalKey(ApiKey);

/// A revoked code, in the seed's shape.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct CodeRevocation {
    /// The code's id (the JWT `sub`).
    pub code_id: String,
    /// Its event.
    pub event_id: String,
    /// When (RFC 3339).
    pub revoked_at: String,
}

/// A deactivated event, in the seed's shape.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct EventDeactivation {
    /// The event.
    pub event_id: String,
    /// When (RFC 3339).
    pub deactivated_at: String,
}

/// What an edge gets.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct RevocationFeed {
    /// Codes revoked in the range (seed shape).
    pub revocations: Vec<CodeRevocation>,
    /// Events deactivated in the range (seed shape).
    pub event_deactivations: Vec<EventDeactivation>,
    /// Every entry in the range, in order.
    pub entries: Vec<FeedEntry>,
    /// Pass as `cursor` next time.
    pub cursor: i64,
    /// More entries are waiting: ask again at once.
    pub more: bool,
    /// The platform's clock (RFC 3339): the seed's next `since`.
    pub server_time: String,
}

/// An edge's report: one session's token is in use from several addresses at once.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct SharedTokenReport {
    /// The session (the token's `sid`).
    #[oai(validator(max_length = 200))]
    pub session_id: String,
    /// Its event (the token's `eid`).
    #[oai(validator(max_length = 200))]
    pub event_id: String,
    /// The client addresses seen, the session's own first.
    #[oai(validator(max_items = 8, min_items = 2))]
    pub addresses: Vec<String>,
    /// Whether the edge refused the later address (`hls.shared_token = "refuse"`).
    #[oai(default)]
    pub refused: bool,
    /// The reporting edge's id.
    #[oai(validator(max_length = 200))]
    pub edge: Option<String>,
}

/// Whether the report was recorded on a session.
#[derive(Debug, Object)]
pub struct SharedTokenRecorded {
    /// `false` when the session is unknown (it may have been deleted with its event).
    pub recorded: bool,
}

/// HLS edge to platform endpoints.
pub struct InternalApi;

#[OpenApi(tag = "ApiTags::Internal")]
impl InternalApi {
    /// Revocation entries after `cursor` (or since the time `since`), optionally
    /// waiting up to `wait` milliseconds for the first new one.
    #[oai(
        path = "/api/revocations",
        method = "get",
        operation_id = "revocations"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn revocations(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        key: InternalKey,
        /// ISO 8601 time: entries logged at or after it (the seed's parameter).
        since: Query<Option<String>>,
        /// Sequence cursor from the previous answer: entries after it (0: everything).
        cursor: Query<Option<i64>>,
        /// Milliseconds to wait for news when there is none (at most 30000).
        wait: Query<Option<u64>>,
        /// The calling edge's id, for the dashboard's edge health.
        edge: Query<Option<String>>,
    ) -> Result<Json<RevocationFeed>, ApiError> {
        check_key(&state, &key.0.key)?;
        let from = match (cursor.0, since.0.as_deref()) {
            (Some(c), _) => Since::Cursor(c.max(0)),
            (None, Some(s)) => Since::Time(parse_time(s)?),
            (None, None) => {
                return Err(ApiError::bad_request(
                    "Missing since parameter (an ISO 8601 time) or cursor",
                ));
            }
        };
        let ttl_ms = i64::from(state.config().platform.playback_token_ttl_seconds) * 1000;
        let deadline = tokio::time::Instant::now()
            + Duration::from_millis(wait.0.unwrap_or(0).min(MAX_WAIT_MS));
        let mut wake = state.feed.subscribe();
        let stopping = state.stopping.clone();
        let entries = loop {
            let entries =
                logs::read_revocations(&state.store, from, now_ms() - ttl_ms, PAGE).await?;
            if !entries.is_empty()
                || tokio::time::Instant::now() >= deadline
                || stopping.is_cancelled()
            {
                break entries;
            }
            let nap = tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + RECHECK));
            tokio::select! {
                _ = wake.changed() => {}
                () = nap => {}
                // Shutting down: answer now (with what there is) so the drain does
                // not wait out every edge's waiting request.
                () = stopping.cancelled() => {}
            }
        };
        let next = match (entries.last(), from) {
            (Some(last), _) => last.seq,
            (None, Since::Cursor(c)) => c,
            (None, Since::Time(_)) => logs::last_seq(&state.store).await?,
        };
        let ip = client_ip_text(req, &state.config().platform.trusted_proxies);
        let edge_id = edge
            .0
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| ip.clone());
        logs::record_edge_sync(&state.store, &edge_id, next, &ip).await?;
        Ok(Json(feed(entries, next)))
    }

    /// An HLS edge saw one session's playback token used from two client addresses at
    /// the same time: the session is marked "token shared" in the console, an audit
    /// entry is written and `streamgate_shared_tokens_total` counts it.
    #[oai(
        path = "/api/internal/shared-tokens",
        method = "post",
        operation_id = "reportSharedToken"
    )]
    async fn shared_token(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        key: InternalKey,
        body: Json<SharedTokenReport>,
    ) -> Result<Json<SharedTokenRecorded>, ApiError> {
        check_key(&state, &key.0.key)?;
        let report = body.0;
        let addresses: Vec<String> = report
            .addresses
            .iter()
            .map(|a| a.parse::<std::net::IpAddr>().map(|ip| ip.to_string()))
            .collect::<Result<_, _>>()
            .map_err(|_| ApiError::bad_request("addresses must be IP addresses"))?;
        let edge = report
            .edge
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| client_ip_text(req, &state.config().platform.trusted_proxies));
        let actor = format!("edge:{edge}");
        let recorded = sessions::mark_shared(
            &state.store,
            SharedReport {
                session_id: &SessionId::from(report.session_id.as_str()),
                event_id: &EventId::from(report.event_id.as_str()),
                addresses: &addresses.join(", "),
                actor: &actor,
                refused: report.refused,
            },
        )
        .await?;
        if recorded {
            state.metrics.shared_token(report.refused);
            tracing::warn!(
                "{actor} saw the token of session {} ({}) used from {} at once{}",
                report.session_id,
                report.event_id,
                addresses.join(" and "),
                if report.refused {
                    "; the later address was refused"
                } else {
                    ""
                }
            );
        }
        Ok(Json(SharedTokenRecorded { recorded }))
    }
}

/// Compares the presented key with ours in constant time.
pub fn check_key(state: &AppState, presented: &str) -> Result<(), ApiError> {
    let ok = state
        .internal_key
        .as_ref()
        .is_some_and(|k| k.matches(presented));
    if ok {
        Ok(())
    } else {
        Err(ApiError::unauthorized("Invalid internal API key"))
    }
}

fn parse_time(s: &str) -> Result<i64, ApiError> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(streamgate_store::to_ms)
        .map_err(|_| {
            ApiError::bad_request("since must be an ISO 8601 time such as 2026-01-01T00:00:00Z")
        })
}

fn feed(entries: Vec<LogEntry>, cursor: i64) -> RevocationFeed {
    let more = i64::try_from(entries.len()).unwrap_or(i64::MAX) >= PAGE;
    let revocations = entries
        .iter()
        .filter(|e| e.kind == RevocationKind::CodeRevoked)
        .filter_map(|e| {
            Some(CodeRevocation {
                code_id: e.code_id.as_ref()?.to_string(),
                event_id: e.event_id.to_string(),
                revoked_at: format_ms(e.at),
            })
        })
        .collect();
    let event_deactivations = entries
        .iter()
        .filter(|e| e.kind == RevocationKind::EventDeactivated)
        .map(|e| EventDeactivation {
            event_id: e.event_id.to_string(),
            deactivated_at: format_ms(e.at),
        })
        .collect();
    RevocationFeed {
        revocations,
        event_deactivations,
        entries: entries
            .into_iter()
            .map(|e| FeedEntry {
                seq: e.seq,
                kind: e.kind,
                event_id: e.event_id.into_string(),
                code_id: e.code_id.map(String::from),
                session_id: e.session_id.map(String::from),
                at: format_ms(e.at),
            })
            .collect(),
        cursor,
        more,
        server_time: format_ms(now_ms()),
    }
}
