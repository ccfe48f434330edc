//! Live ingest as declared in `streamgate.toml`: the per-event `[events.ingest]` table (how
//! an organiser's encoder reaches StreamGate and what ladder viewers get) and the
//! service-wide `[ingest]` table (where the ingest listens and which ffmpeg it runs).
//! The publish keys are not here: they are derived from `INGEST_SECRET` (see
//! [`crate::ingest`]), so the file can be committed.

use std::fmt;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `[events.ingest]`: StreamGate takes this event's stream from the organiser's encoder
/// (OBS, vMix, ffmpeg) and writes the HLS the gate serves into `<stream_root>/<id>/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventIngestConfig {
    /// How the encoder connects: `srt` (UDP, encrypted with the publish key as
    /// passphrase) or `rtmp` (TCP, the publish key as stream key).
    #[serde(default)]
    pub protocol: IngestProtocol,
    /// Port the encoder connects to (UDP for SRT, TCP for RTMP); one per event.
    #[schemars(range(min = 1, max = 65535))]
    pub port: u16,
    /// The qualities viewers can switch between, highest first. Defaults to
    /// 1080p/720p/480p/360p; ignored with `passthrough`.
    #[serde(default = "default_ladder", skip_serializing_if = "is_default_ladder")]
    #[schemars(length(min = 1, max = 8))]
    pub renditions: Vec<Rendition>,
    /// Send the encoder's own stream to viewers as it comes (one quality, no
    /// transcoding, almost no CPU). The encoder must send H.264 and AAC.
    #[serde(default)]
    pub passthrough: bool,
    /// Length of each HLS segment in seconds: shorter means less delay behind the
    /// encoder, longer means fewer requests. The encoder's keyframe interval should divide it.
    #[serde(default = "default_segment_seconds")]
    #[schemars(range(min = 1, max = 10))]
    pub segment_seconds: u32,
    /// Keep every segment of the event so that the live stream becomes the recording
    /// (an EVENT playlist that gains `#EXT-X-ENDLIST` at the end). `false` keeps a short
    /// sliding window and deletes older segments.
    #[serde(default = "default_true")]
    pub record: bool,
    /// Seconds the encoder may stay away before the stream is closed as a recording
    /// (`#EXT-X-ENDLIST`); reaching `ends_at` with no encoder closes it too. A
    /// reconnect within this time continues the same playlists.
    #[serde(default = "default_finish_after_seconds")]
    #[schemars(range(min = 5, max = 86_400))]
    pub finish_after_seconds: u32,
    /// Generation of the publish key. Raising it gives the event a new key (and refuses
    /// the old one) without touching `INGEST_SECRET` or any other event's key.
    #[serde(default = "default_key_version")]
    #[schemars(range(min = 1))]
    pub key_version: u32,
}

impl EventIngestConfig {
    /// The rendition folders ffmpeg writes, highest first: the ladder's names, or
    /// [`PASSTHROUGH_RENDITION`] alone with `passthrough`.
    pub fn rendition_names(&self) -> Vec<String> {
        if self.passthrough {
            vec![PASSTHROUGH_RENDITION.to_owned()]
        } else {
            self.renditions.iter().map(|r| r.name.clone()).collect()
        }
    }
}

/// The one rendition folder of a passthrough ingest.
pub const PASSTHROUGH_RENDITION: &str = "source";

/// The protocol an encoder publishes with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum IngestProtocol {
    /// SRT in listener mode: UDP, AES-encrypted with the publish key.
    #[default]
    Srt,
    /// RTMP: TCP, the publish key as stream key (`rtmp://host:port/live/<key>`).
    Rtmp,
}

impl IngestProtocol {
    /// The URL scheme and config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            IngestProtocol::Srt => "srt",
            IngestProtocol::Rtmp => "rtmp",
        }
    }
}

impl fmt::Display for IngestProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One quality of the ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rendition {
    /// Folder and label of this quality (`720p`): letters, digits, `-` and `_`.
    #[schemars(pattern(r"^[A-Za-z0-9_-]{1,32}$"))]
    pub name: String,
    /// Picture height in pixels; the width follows the source's aspect ratio.
    #[schemars(range(min = 144, max = 2160))]
    pub height: u32,
    /// Video bitrate in kbit/s.
    #[schemars(range(min = 100, max = 50_000))]
    pub video_kbps: u32,
    /// Audio bitrate in kbit/s.
    #[serde(default = "default_audio_kbps")]
    #[schemars(range(min = 32, max = 512))]
    pub audio_kbps: u32,
}

/// `[ingest]`: settings of the ingest service, wherever it runs (`up`, `hls`, or
/// `streamgate ingest` on an origin box).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct IngestSettings {
    /// Host name encoders use to reach the ingest, in the URLs `streamgate ingest-url`
    /// and the console show. Defaults to the host of `hls.public_url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub public_host: Option<String>,
    /// Address the ingest listeners bind to.
    pub bind: std::net::IpAddr,
    /// The ffmpeg program to run (a name on `PATH` or a path).
    pub ffmpeg: PathBuf,
    /// x264 speed preset for transcoded renditions: faster presets use less CPU for a
    /// little more bitrate at the same quality.
    pub x264_preset: X264Preset,
}

impl Default for IngestSettings {
    fn default() -> Self {
        Self {
            public_host: None,
            bind: std::net::IpAddr::from([0, 0, 0, 0]),
            ffmpeg: PathBuf::from("ffmpeg"),
            x264_preset: X264Preset::Veryfast,
        }
    }
}

/// x264's presets that keep up with live video on ordinary servers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum X264Preset {
    /// The least CPU.
    Ultrafast,
    /// Nearly the least CPU.
    Superfast,
    /// The usual choice for live transcoding.
    #[default]
    Veryfast,
    /// More CPU, a little better quality.
    Faster,
    /// x264's fast preset.
    Fast,
}

impl X264Preset {
    /// The name ffmpeg takes.
    pub fn as_str(self) -> &'static str {
        match self {
            X264Preset::Ultrafast => "ultrafast",
            X264Preset::Superfast => "superfast",
            X264Preset::Veryfast => "veryfast",
            X264Preset::Faster => "faster",
            X264Preset::Fast => "fast",
        }
    }
}

/// The ladder most players expect: four qualities from full HD down to a phone on a
/// weak connection, with Apple's authoring guideline bitrates.
pub fn default_ladder() -> Vec<Rendition> {
    [
        ("1080p", 1080, 5000, 160),
        ("720p", 720, 2800, 128),
        ("480p", 480, 1400, 128),
        ("360p", 360, 800, 96),
    ]
    .into_iter()
    .map(|(name, height, video_kbps, audio_kbps)| Rendition {
        name: name.to_owned(),
        height,
        video_kbps,
        audio_kbps,
    })
    .collect()
}

fn is_default_ladder(ladder: &[Rendition]) -> bool {
    ladder == default_ladder().as_slice()
}

fn default_segment_seconds() -> u32 {
    2
}

fn default_finish_after_seconds() -> u32 {
    600
}

fn default_key_version() -> u32 {
    1
}

fn default_audio_kbps() -> u32 {
    128
}

fn default_true() -> bool {
    true
}
