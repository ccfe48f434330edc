//! The shape of `streamgate.toml`. These types are the single source of truth for three
//! things that must never drift: what the loader accepts, the JSON Schema editors and
//! CI check the file against (`schemas/streamgate.schema.json` is generated from them),
//! and the configuration reference in the README (generated from that schema).
//!
//! Every table refuses unknown keys, so a typo is an error rather than a silently
//! ignored setting. Secrets have no place here at all; see [`crate::secrets`].

mod events;
mod ingest;
mod services;

pub use events::{
    CodeBatchConfig, DEFAULT_ACCESS_WINDOW_HOURS, EventConfig, MAX_ACCESS_WINDOW_HOURS,
    MAX_BATCH_COUNT, MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS,
};
pub use ingest::{
    EventIngestConfig, IngestProtocol, IngestSettings, PASSTHROUGH_RENDITION, Rendition,
    X264Preset, default_ladder,
};
pub use services::{HlsConfig, PlatformConfig, RateLimits, SharedTokenMode, TrustedProxy};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::Slug;

/// Everything `streamgate.toml` declares: how the two services run, where the HLS
/// edges are, and which events exist with which access-code batches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
#[schemars(
    title = "streamgate.toml",
    description = "StreamGate configuration: services, deployment topology, events and access-code batches. Secrets are never set here; they come from the environment."
)]
pub struct Config {
    /// The platform service: viewer portal, admin console, platform API and reconciler.
    pub platform: PlatformConfig,
    /// The HLS media server: token gate, revocation cache, content sources, segment cache.
    pub hls: HlsConfig,
    /// Where the HLS edges of this deployment run (topology C); empty for topologies A and B.
    pub topology: TopologyConfig,
    /// The live ingest service: where encoders connect and which ffmpeg it runs. Only
    /// used when an event has `[events.ingest]`.
    pub ingest: IngestSettings,
    /// Events declared as code. They are read-only in the admin console; events made
    /// through the admin API live only in the database.
    pub events: Vec<EventConfig>,
}

/// The HLS edges of a multi-region deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TopologyConfig {
    /// One entry per HLS server. The platform shows each edge's revocation-sync health.
    pub edges: Vec<EdgeConfig>,
}

/// One HLS edge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EdgeConfig {
    /// Stable name of the edge; an HLS server says which edge it is with `hls.edge_id`.
    pub id: Slug,
    /// Base URL viewers use to reach this edge, e.g. `https://eu.hls.example.com`.
    pub public_url: Url,
    /// Free-form region label shown in the admin console, e.g. `eu-west`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

impl Config {
    /// The declared event with this id.
    pub fn event(&self, id: &str) -> Option<&EventConfig> {
        self.events.iter().find(|e| e.id.as_str() == id)
    }

    /// The JSON Schema of `streamgate.toml`, as committed in `schemas/`.
    pub fn json_schema() -> serde_json::Value {
        let schema = schemars::schema_for!(Config);
        schema.to_value()
    }

    /// The schema as the committed file holds it: pretty JSON with a final newline, so the
    /// file, `streamgate schema` and the staleness test agree byte for byte.
    pub fn json_schema_text() -> String {
        let mut text = serde_json::to_string_pretty(&Self::json_schema())
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    }
}
