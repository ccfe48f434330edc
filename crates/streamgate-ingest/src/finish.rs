//! Closing the recording. ffmpeg runs with `omit_endlist`, because an encoder that
//! drops is not an event that ended: players that saw `#EXT-X-ENDLIST` stop reloading
//! and would never see the reconnect. The supervisor closes the playlists itself once
//! the encoder has been away for `finish_after_seconds`, or `ends_at` has passed with
//! no encoder; an EVENT playlist with an end is the recording, from the first second.
//! ffmpeg's `append_list` removes the end again if an encoder comes back after all.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The tag that makes a playlist a finished recording.
pub const ENDLIST: &str = "#EXT-X-ENDLIST";

/// What the event's playlists hold, read from disk (so a restarted StreamGate knows
/// a finished recording from a stream waiting for its encoder).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OnDisk {
    /// Segments listed by the first (highest) rendition's playlist.
    pub segments: u64,
    /// Whether every media playlist that exists ends with `#EXT-X-ENDLIST`.
    pub finished: bool,
}

/// Reads the media playlists. Missing ones count as empty and unfinished.
pub fn on_disk(playlists: &[PathBuf]) -> OnDisk {
    let mut state = OnDisk::default();
    let mut any = false;
    let mut all_finished = true;
    for (i, path) in playlists.iter().enumerate() {
        let Ok(text) = std::fs::read_to_string(path) else {
            all_finished = false;
            continue;
        };
        any = true;
        if i == 0 {
            state.segments = text.lines().filter(|l| l.starts_with("#EXTINF")).count() as u64;
        }
        all_finished &= has_endlist(&text);
    }
    state.finished = any && all_finished;
    state
}

fn has_endlist(text: &str) -> bool {
    text.lines().any(|l| l.trim() == ENDLIST)
}

/// Appends `#EXT-X-ENDLIST` to every playlist that lacks it, each replaced whole
/// (written beside it, then renamed) so a player never reads half a playlist.
/// Returns how many were closed.
pub fn close(playlists: &[PathBuf]) -> std::io::Result<usize> {
    let mut closed = 0;
    for path in playlists {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if has_endlist(&text) {
            continue;
        }
        let mut body = text;
        if !body.ends_with('\n') {
            body.push('\n');
        }
        body.push_str(ENDLIST);
        body.push('\n');
        replace(path, body.as_bytes())?;
        closed += 1;
    }
    Ok(closed)
}

fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("m3u8.closing");
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// kbit/s written into the rendition folders over the last `window`: the bytes of
/// segments modified within it.
pub fn output_kbps(out_dir: &Path, renditions: &[String], window: Duration) -> Option<f64> {
    let since = SystemTime::now().checked_sub(window)?;
    let mut bytes = 0u64;
    for name in renditions {
        let Ok(entries) = std::fs::read_dir(out_dir.join(name)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "ts") {
                continue;
            }
            if let Ok(meta) = entry.metadata()
                && meta.modified().is_ok_and(|m| m >= since)
            {
                bytes += meta.len();
            }
        }
    }
    Some(bytes as f64 * 8.0 / 1000.0 / window.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIVE: &str = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:2.000000,\nseg_00000.ts\n#EXTINF:2.000000,\nseg_00001.ts\n";

    #[test]
    fn closing_appends_the_end_once_and_keeps_every_segment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("720p.m3u8");
        let b = dir.path().join("360p.m3u8");
        let missing = dir.path().join("gone.m3u8");
        std::fs::write(&a, LIVE).expect("write");
        std::fs::write(&b, LIVE.trim_end()).expect("write");
        let lists = vec![a.clone(), b.clone()];
        assert_eq!(
            on_disk(&lists),
            OnDisk {
                segments: 2,
                finished: false
            }
        );
        assert_eq!(close(&[a.clone(), b.clone(), missing]).expect("close"), 2);
        assert_eq!(close(&lists).expect("close again"), 0);
        for path in &lists {
            let text = std::fs::read_to_string(path).expect("read");
            assert!(text.ends_with("seg_00001.ts\n#EXT-X-ENDLIST\n"), "{text}");
            assert_eq!(text.matches(ENDLIST).count(), 1);
        }
        assert!(on_disk(&lists).finished);
        assert!(!on_disk(&[dir.path().join("none.m3u8")]).finished);
    }
}
