//! An event's live ingest in the console: how the encoder connects, what the ingest
//! reports (from the HLS server beside which it runs), and the publish URL, shown only
//! when an operator asks for it and recorded in the audit log each time.

use poem_openapi::Object;
use streamgate_core::config::EventIngestConfig;
use streamgate_core::ingest::{IngestHealth, public_host, publish_key, publish_url};
use streamgate_store::logs::Audit;

use crate::admin::auth::{AdminAuth, record};
use crate::error::ApiError;
use crate::state::AppState;

/// An event's ingest settings and health.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct EventIngest {
    /// Whether `streamgate.toml` gives the event an `[events.ingest]` table.
    pub configured: bool,
    /// `srt` or `rtmp`.
    #[oai(nullable)]
    pub protocol: Option<String>,
    /// The port encoders connect to.
    #[oai(nullable)]
    pub port: Option<u16>,
    /// The publish key's generation (`key_version`).
    #[oai(nullable)]
    pub key_version: Option<u32>,
    /// The rendition folders, highest first.
    pub renditions: Vec<String>,
    /// Whether every segment is kept as the recording.
    pub record: bool,
    /// Whether the publish URL can be shown (`INGEST_SECRET` is set on the platform).
    pub can_reveal: bool,
    // What the ingest reports, when the HLS server beside it answers. (No doc comment:
    // a described $ref becomes allOf, which generated clients refuse.)
    #[oai(nullable)]
    pub health: Option<IngestHealth>,
    /// The state in words, for the console.
    pub detail: String,
}

/// `POST /api/admin/events/{id}/ingest/publish-url` body.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct PublishUrl {
    /// The URL the encoder publishes to, key included.
    pub publish_url: String,
}

fn declared(state: &AppState, id: &str) -> Option<EventIngestConfig> {
    state.config().event(id).and_then(|e| e.ingest.clone())
}

/// The event's ingest as the console shows it.
pub async fn describe(state: &AppState, id: &str) -> EventIngest {
    let Some(ingest) = declared(state, id) else {
        return EventIngest {
            configured: false,
            protocol: None,
            port: None,
            key_version: None,
            renditions: Vec::new(),
            record: false,
            can_reveal: false,
            health: None,
            detail: "StreamGate does not take this event's stream: add an [events.ingest] table in streamgate.toml to publish from OBS or another encoder.".into(),
        };
    };
    let health = state.prober.ingest_health(id).await;
    let detail = match &health {
        Ok(Some(h)) => match h.state {
            streamgate_core::ingest::IngestState::Publishing => format!(
                "An encoder is publishing ({} fps, {} dropped frames).",
                h.fps.map_or_else(|| "?".into(), |f| format!("{f:.0}")),
                h.dropped_frames
            ),
            streamgate_core::ingest::IngestState::Waiting => {
                "Waiting for the encoder to connect.".into()
            }
            streamgate_core::ingest::IngestState::Finished => {
                "The stream was closed: what was published is the recording.".into()
            }
            streamgate_core::ingest::IngestState::Failed => format!(
                "The ingest cannot run: {}",
                h.last_error.as_deref().unwrap_or("see the HLS server's log")
            ),
        },
        Ok(None) => "The HLS server reports no ingest for this event: the ingest runs elsewhere (streamgate ingest on the origin) or has not started.".into(),
        Err(why) => format!("Could not ask the HLS server: {why}."),
    };
    let renditions = ingest.rendition_names();
    EventIngest {
        configured: true,
        protocol: Some(ingest.protocol.to_string()),
        port: Some(ingest.port),
        key_version: Some(ingest.key_version),
        renditions,
        record: ingest.record,
        can_reveal: state.ingest_secret.is_some(),
        health: health.ok().flatten(),
        detail,
    }
}

/// The event's publish URL, recorded in the audit log (without the key).
pub async fn reveal(state: &AppState, auth: &AdminAuth, id: &str) -> Result<PublishUrl, ApiError> {
    let ingest = declared(state, id)
        .ok_or_else(|| ApiError::not_found("The event has no [events.ingest] table"))?;
    let secret = state.ingest_secret.as_ref().ok_or_else(|| {
        ApiError::conflict(
            "INGEST_SECRET is not set on the platform: run `streamgate ingest-url --event <id>` where the ingest runs",
        )
    })?;
    let key = publish_key(secret, id, ingest.key_version);
    let url = publish_url(&public_host(&state.config()), &ingest, &key);
    let actor = auth.admin().actor();
    record(
        state,
        Audit {
            actor: &actor,
            action: "ingest.reveal",
            target: Some(id),
            outcome: "ok",
            detail: Some(&format!("key version {}", ingest.key_version)),
        },
    )
    .await;
    Ok(PublishUrl { publish_url: url })
}
