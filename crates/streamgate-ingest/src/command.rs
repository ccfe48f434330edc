//! What ffmpeg is asked to do for one event: listen for the encoder, cut the ladder
//! into HLS in the event's folder, and append to what an earlier connection wrote.
//!
//! The layout is fixed so that the gate, the console and a restarted StreamGate agree
//! on it without asking ffmpeg: `<out>/index.m3u8` is the master playlist (the event's
//! default `playlist`), `<out>/<rendition>/index.m3u8` the media playlists and
//! `<out>/<rendition>/seg_00000.ts`... the segments. `append_list` makes a reconnecting
//! encoder continue the same playlists after an `#EXT-X-DISCONTINUITY` with the next
//! segment number, and `omit_endlist` leaves closing the recording to [`crate::finish`],
//! which knows whether the encoder is gone for good.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use streamgate_core::Secret;
use streamgate_core::config::{EventIngestConfig, IngestProtocol, IngestSettings, Rendition};

/// The master playlist's name in the event's folder.
pub const MASTER_PLAYLIST: &str = "index.m3u8";

/// Each rendition's media playlist, inside its folder.
pub const MEDIA_PLAYLIST: &str = "index.m3u8";

/// How much of the encoder's stream ffmpeg reads to learn its codecs before writing:
/// 2 s (one keyframe interval as streaming services ask of encoders) instead of
/// ffmpeg's 5 s, which was most of the delay before the first segment.
const PROBE: [&str; 2] = ["-analyzeduration", "2000000"];

/// Segments kept by a live-only (`record = false`) playlist.
const LIVE_WINDOW_SEGMENTS: u32 = 10;

/// Everything one ffmpeg run depends on; two runs with equal plans are the same run,
/// so a hot reload that changes nothing here does not disturb a publisher.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The event's folder, `<stream_root>/<event>/`.
    pub out_dir: PathBuf,
    /// The event's `[events.ingest]`.
    pub ingest: EventIngestConfig,
    /// `[ingest]`.
    pub settings: IngestSettings,
    /// The publish key (SRT passphrase; RTMP keys are checked by the gate instead).
    pub key: Secret,
    /// Where ffmpeg's RTMP listener waits behind the key gate (RTMP only).
    pub rtmp_backend: Option<SocketAddr>,
}

impl Plan {
    /// The rendition folders, highest first.
    pub fn rendition_names(&self) -> Vec<String> {
        self.ingest.rendition_names()
    }

    /// The media playlists ffmpeg writes.
    pub fn media_playlists(&self) -> Vec<PathBuf> {
        self.rendition_names()
            .iter()
            .map(|name| self.out_dir.join(name).join(MEDIA_PLAYLIST))
            .collect()
    }

    /// ffmpeg's input URL. It carries the SRT passphrase, so it is never logged.
    fn input(&self) -> Vec<OsString> {
        match (self.ingest.protocol, self.rtmp_backend) {
            (IngestProtocol::Srt, _) => {
                let host = match self.settings.bind {
                    std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                    std::net::IpAddr::V4(ip) => ip.to_string(),
                };
                // latency in microseconds: 200 ms absorbs ordinary internet jitter.
                let url = format!(
                    "srt://{host}:{}?mode=listener&passphrase={}&pbkeylen=16&latency=200000",
                    self.ingest.port,
                    self.key.expose()
                );
                args(PROBE)
                    .chain(args(["-f", "mpegts", "-i"]))
                    .chain([url.into()])
                    .collect()
            }
            (IngestProtocol::Rtmp, backend) => {
                let backend = backend.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
                let url = format!("rtmp://{backend}/live/stream");
                args(PROBE)
                    .chain(args(["-listen", "1", "-f", "flv", "-i"]))
                    .chain([url.into()])
                    .collect()
            }
        }
    }

    /// The whole command line after the program name.
    pub fn args(&self) -> Vec<OsString> {
        let mut out: Vec<OsString> = args([
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "warning",
            "-progress",
            "pipe:1",
            "-stats_period",
            "1",
        ])
        .collect();
        out.extend(self.input());
        if self.ingest.passthrough {
            out.extend(args(["-map", "0:v:0", "-map", "0:a:0", "-c", "copy"]));
        } else {
            out.extend(self.ladder_args(&self.ingest.renditions));
        }
        out.extend(self.hls_args());
        out
    }

    fn ladder_args(&self, ladder: &[Rendition]) -> Vec<OsString> {
        let n = ladder.len();
        let mut graph = format!("[0:v:0]split={n}");
        for i in 0..n {
            graph.push_str(&format!("[s{i}]"));
        }
        for (i, r) in ladder.iter().enumerate() {
            graph.push_str(&format!(
                ";[s{i}]scale=-2:{},format=yuv420p[v{i}]",
                r.height
            ));
        }
        let mut out: Vec<OsString> = args(["-filter_complex"]).chain([graph.into()]).collect();
        for i in 0..n {
            out.extend(args(["-map"]).chain([format!("[v{i}]").into()]));
        }
        for _ in 0..n {
            out.extend(args(["-map", "0:a:0"]));
        }
        let seg = self.ingest.segment_seconds;
        // A keyframe at every segment boundary whatever the source's frame rate, so
        // every rendition's segments line up and each starts with a keyframe.
        let force = format!("expr:gte(t,n_forced*{seg})");
        out.extend(args([
            "-c:v",
            "libx264",
            "-preset",
            self.settings.x264_preset.as_str(),
            "-sc_threshold",
            "0",
            "-force_key_frames",
        ]));
        out.push(force.into());
        out.extend(args(["-c:a", "aac", "-ac", "2", "-ar", "48000"]));
        for (i, r) in ladder.iter().enumerate() {
            let kbps = r.video_kbps;
            out.extend([
                format!("-b:v:{i}").into(),
                format!("{kbps}k").into(),
                format!("-maxrate:v:{i}").into(),
                format!("{}k", kbps + kbps / 10).into(),
                format!("-bufsize:v:{i}").into(),
                format!("{}k", kbps * 2).into(),
                format!("-b:a:{i}").into(),
                format!("{}k", r.audio_kbps).into(),
            ]);
        }
        out
    }

    fn hls_args(&self) -> Vec<OsString> {
        let names = self.rendition_names();
        let map = names
            .iter()
            .enumerate()
            .map(|(i, name)| format!("v:{i},a:{i},name:{name}"))
            .collect::<Vec<_>>()
            .join(" ");
        let mut flags = "append_list+omit_endlist+independent_segments+temp_file".to_owned();
        let mut out: Vec<OsString> = args(["-f", "hls", "-hls_time"])
            .chain([self.ingest.segment_seconds.to_string().into()])
            .collect();
        if self.ingest.record {
            out.extend(args(["-hls_playlist_type", "event", "-hls_list_size", "0"]));
        } else {
            flags.push_str("+delete_segments");
            out.extend(args(["-hls_list_size"]).chain([LIVE_WINDOW_SEGMENTS.to_string().into()]));
        }
        out.extend(args(["-hls_flags"]).chain([flags.into()]));
        out.extend(
            args(["-hls_segment_filename"]).chain([path_arg(&self.out_dir, "%v/seg_%05d.ts")]),
        );
        out.extend(
            args(["-master_pl_name", MASTER_PLAYLIST, "-var_stream_map"]).chain([map.into()]),
        );
        out.push(path_arg(&self.out_dir, &format!("%v/{MEDIA_PLAYLIST}")));
        out
    }
}

fn args<const N: usize>(items: [&str; N]) -> impl Iterator<Item = OsString> {
    items.into_iter().map(OsString::from)
}

fn path_arg(dir: &Path, tail: &str) -> OsString {
    dir.join(tail).into_os_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use streamgate_core::config::default_ladder;

    fn plan(protocol: IngestProtocol, passthrough: bool, record: bool) -> Plan {
        Plan {
            out_dir: PathBuf::from("/srv/streams/launch"),
            ingest: EventIngestConfig {
                protocol,
                port: 9000,
                renditions: default_ladder(),
                passthrough,
                segment_seconds: 2,
                record,
                finish_after_seconds: 600,
                key_version: 1,
            },
            settings: IngestSettings::default(),
            key: Secret::new("00112233445566778899aabbccddeeff"),
            rtmp_backend: Some(SocketAddr::from(([127, 0, 0, 1], 41000))),
        }
    }

    fn joined(plan: &Plan) -> String {
        plan.args()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn srt_listens_with_the_key_as_passphrase_and_records_an_event_playlist() {
        let line = joined(&plan(IngestProtocol::Srt, false, true));
        assert!(line.contains("srt://0.0.0.0:9000?mode=listener&passphrase=00112233445566778899aabbccddeeff&pbkeylen=16"), "{line}");
        assert!(
            line.contains("-hls_playlist_type event -hls_list_size 0"),
            "{line}"
        );
        assert!(line.contains("append_list+omit_endlist"), "{line}");
        assert!(!line.contains("delete_segments"), "{line}");
        assert!(
            line.contains(
                "v:0,a:0,name:1080p v:1,a:1,name:720p v:2,a:2,name:480p v:3,a:3,name:360p"
            ),
            "{line}"
        );
        assert!(
            line.contains("/srv/streams/launch/%v/seg_%05d.ts"),
            "{line}"
        );
        assert!(
            line.ends_with("/srv/streams/launch/%v/index.m3u8"),
            "{line}"
        );
        assert!(line.contains("-b:v:1 2800k"), "{line}");
    }

    #[test]
    fn rtmp_listens_behind_the_gate_without_the_key() {
        let line = joined(&plan(IngestProtocol::Rtmp, false, true));
        assert!(
            line.contains("-listen 1 -f flv -i rtmp://127.0.0.1:41000/live/stream"),
            "{line}"
        );
        assert!(!line.contains("00112233445566778899aabbccddeeff"), "{line}");
    }

    #[test]
    fn passthrough_copies_one_rendition_and_live_only_keeps_a_window() {
        let p = plan(IngestProtocol::Srt, true, false);
        let line = joined(&p);
        assert!(line.contains("-c copy"), "{line}");
        assert!(!line.contains("libx264"), "{line}");
        assert!(line.contains("name:source"), "{line}");
        assert!(line.contains("delete_segments"), "{line}");
        assert_eq!(p.rendition_names(), ["source"]);
    }
}
