//! `GET /api/playback/events`: a server-sent-events stream an open player listens to,
//! so that a revoke, a forced release, a takeover by another device or an event switched
//! off reaches the viewer in about a second, whatever the player has buffered. The
//! heartbeat alone would tell it only at the next beat (30 s), and a recording that is
//! fully buffered asks the HLS server for nothing in the meantime.
//!
//! The stream checks the session when the revocation feed is bumped (every revoke,
//! release and takeover of this process; other processes through PostgreSQL's
//! NOTIFY) and every [`RECHECK`] besides (writers that bump nothing: the reconciler,
//! another process on the same SQLite file). The check reads only: an open stream never
//! keeps a closed player's session alive. `EventSource` cannot set headers, so the
//! token may come as `?token=` (logs redact it like every token).

use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::EventStream;
use poem_openapi::{Object, OpenApi};
use streamgate_core::{CodeId, SessionId};
use streamgate_store::sessions::{self, SessionCheck};

use crate::error::ApiError;
use crate::state::AppState;
use crate::viewer::{ApiTags, session_error, verified};

/// How often an open stream re-checks its session when nothing woke it.
pub const RECHECK: Duration = Duration::from_secs(5);

/// What the stream tells the player: `state` is `live` while it may play (sent once on
/// connect), then one `ended` event with the status and message the heartbeat would
/// give (403 revoked or switched off, 404 gone, 409 taken over, 410 expired), after
/// which the stream closes.
#[derive(Debug, Clone, Object)]
pub struct SessionEvent {
    /// `live` or `ended`.
    pub state: String,
    /// For `ended`: the HTTP status the heartbeat would answer.
    #[oai(nullable)]
    pub status: Option<u16>,
    /// For `ended`: the message the heartbeat would give.
    #[oai(nullable)]
    pub error: Option<String>,
}

impl SessionEvent {
    fn live() -> Self {
        Self {
            state: "live".to_owned(),
            status: None,
            error: None,
        }
    }

    fn ended(check: SessionCheck) -> Self {
        let (status, error) = session_error(check).status_and_message();
        Self {
            state: "ended".to_owned(),
            status: Some(status),
            error: Some(error),
        }
    }
}

/// The session-events stream.
pub struct SessionEventsApi;

#[OpenApi(tag = "ApiTags::Viewer")]
impl SessionEventsApi {
    /// Server-sent events about this device's session: `live` at once, then `ended`
    /// (with the status and message a heartbeat would give) as soon as the session
    /// may no longer play, within about a second. The token comes in
    /// `Authorization: Bearer` or as `?token=` (for `EventSource`). 401 for a bad token.
    #[oai(
        path = "/api/playback/events",
        method = "get",
        operation_id = "sessionEvents"
    )]
    async fn events(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        /// The playback token, when it cannot be sent in `Authorization`.
        token: Query<Option<String>>,
    ) -> Result<EventStream<BoxStream<'static, SessionEvent>>, ApiError> {
        let from_header = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        let Some(raw) = from_header.or(token.0) else {
            return Err(ApiError::unauthorized("Authorization required"));
        };
        let claims = verified(&state, &raw)?;
        let state = Arc::clone(&state);
        let (code_id, session_id) = (CodeId::from(claims.sub), SessionId::from(claims.sid));
        let first = sessions::check(&state.store, &code_id, &session_id).await?;
        if !matches!(first, SessionCheck::Live { .. }) {
            let ended = SessionEvent::ended(first);
            return Ok(EventStream::new(stream::iter([ended]).boxed()));
        }
        let watcher = Watcher {
            feed: state.feed.subscribe(),
            stopping: state.stopping.clone(),
            state,
            code_id,
            session_id,
        };
        // One `ended` event at most, then the stream closes.
        let watch = stream::unfold(Some(watcher), |watcher| async move {
            let mut watcher = watcher?;
            let ended = watcher.until_ended().await?;
            Some((ended, None))
        });
        let events = stream::iter([SessionEvent::live()]).chain(watch).boxed();
        Ok(EventStream::new(events).keep_alive(Duration::from_secs(15)))
    }
}

/// What one open stream waits on.
struct Watcher {
    state: Arc<AppState>,
    feed: tokio::sync::watch::Receiver<u64>,
    stopping: streamgate_core::tasks::CancellationToken,
    code_id: CodeId,
    session_id: SessionId,
}

impl Watcher {
    /// Waits until the session may no longer play (`Some`), or the server stops
    /// (`None`: the stream just closes and `EventSource` reconnects elsewhere).
    async fn until_ended(&mut self) -> Option<SessionEvent> {
        loop {
            if self.stopping.is_cancelled() {
                return None;
            }
            tokio::select! {
                _ = self.feed.changed() => {}
                () = self.stopping.cancelled() => return None,
                () = tokio::time::sleep(RECHECK) => {}
            }
            match sessions::check(&self.state.store, &self.code_id, &self.session_id).await {
                Ok(SessionCheck::Live { .. }) => {}
                Ok(other) => return Some(SessionEvent::ended(other)),
                // The database is away for a moment: keep the player going, look again.
                Err(e) => tracing::debug!("session events: check failed: {e}"),
            }
        }
    }
}
