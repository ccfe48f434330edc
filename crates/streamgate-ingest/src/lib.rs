//! Live ingest: an organiser's encoder (OBS, vMix, ffmpeg) publishes SRT or RTMP to
//! StreamGate, and one supervised ffmpeg per event turns it into the HLS ladder in
//! `<stream_root>/<event>/` that the gate serves, keeping every segment as the
//! recording when the event says `record`.
//!
//! ffmpeg does the media work; this crate decides what it runs ([`command`]), keeps it
//! running and reports on it ([`supervisor`], [`progress`]), closes the recording when
//! the encoder is gone for good ([`finish`]), checks RTMP stream keys before ffmpeg
//! sees a publisher ([`rtmp_gate`]; ffmpeg's RTMP listener accepts any key), and
//! follows the configuration ([`service`], [`reload`]).

pub mod command;
pub mod finish;
pub mod progress;
pub mod reload;
pub mod rtmp_gate;
pub mod service;
pub mod supervisor;

pub use service::Ingest;
