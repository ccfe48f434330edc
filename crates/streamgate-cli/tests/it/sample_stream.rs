//! The demo event's sample content, which `streamgate up` serves: a short HLS VOD with
//! two renditions. Checked from the playlists themselves and by ffprobe as a real HLS
//! client, so a broken regeneration cannot land.

use std::path::{Path, PathBuf};
use std::process::Command;

fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../streams/demo")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// URIs of a playlist: lines that are neither tags nor blank.
fn uris(playlist: &str) -> Vec<&str> {
    playlist
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("readable dir")
        .map(|e| e.expect("entry"))
        .map(|e| {
            let meta = e.metadata().expect("metadata");
            if meta.is_dir() {
                dir_size(&e.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

#[test]
fn demo_is_a_two_rendition_vod_of_short_segments_under_4_mb() {
    let master = read(&demo().join("index.m3u8"));
    assert!(master.starts_with("#EXTM3U"), "master playlist header");
    let variants: Vec<&str> = master
        .lines()
        .filter(|l| l.starts_with("#EXT-X-STREAM-INF:"))
        .collect();
    assert_eq!(variants.len(), 2, "two renditions:\n{master}");
    for v in &variants {
        assert!(v.contains("BANDWIDTH=") && v.contains("RESOLUTION="), "{v}");
    }
    let media = uris(&master);
    assert_eq!(media.len(), 2);
    for uri in media {
        assert!(
            !uri.contains("://") && !uri.starts_with('/'),
            "relative URIs only: {uri}"
        );
        let path = demo().join(uri);
        let playlist = read(&path);
        assert!(playlist.contains("#EXT-X-ENDLIST"), "{uri} is VOD");
        let durations: Vec<f64> = playlist
            .lines()
            .filter_map(|l| l.strip_prefix("#EXTINF:"))
            .map(|d| {
                d.trim_end_matches(',')
                    .split(',')
                    .next()
                    .unwrap_or("")
                    .parse()
                    .expect("EXTINF duration")
            })
            .collect();
        let total: f64 = durations.iter().sum();
        assert!((20.0..=30.0).contains(&total), "{uri}: {total} s in all");
        let (last, rest) = durations.split_last().expect("segments");
        for d in rest {
            assert!((2.0..=4.1).contains(d), "{uri}: a {d} s segment");
        }
        assert!(*last <= 4.1, "{uri}: last segment {last} s");
        let dir = path.parent().expect("parent");
        for segment in uris(&playlist) {
            let seg = dir.join(segment);
            assert!(
                seg.is_file() && seg.metadata().expect("meta").len() > 0,
                "{}",
                seg.display()
            );
        }
    }
    let size = dir_size(&demo());
    assert!(size < 4 * 1024 * 1024, "streams/demo is {size} bytes");
}

#[test]
fn ffprobe_reads_the_demo_as_hls() {
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(demo().join("index.m3u8"))
        .output();
    let out = match probe {
        Ok(out) => out,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("skipped: ffprobe is not installed ({e}); CI installs it");
            return;
        }
        Err(e) => panic!("ffprobe is required under CI: {e}"),
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let duration: f64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a duration");
    assert!((20.0..=30.0).contains(&duration), "{duration} s");
}

#[test]
fn the_committed_config_points_the_demo_event_at_this_content() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = read(&root.join("streamgate.toml"));
    let loaded = streamgate_core::load::load_text(
        &root.join("streamgate.toml"),
        Some(&text),
        &Default::default(),
        None,
    )
    .unwrap_or_else(|r| panic!("{r}"));
    let stream_root = loaded.config.hls.stream_root.expect("stream_root set");
    assert!(root.join(stream_root).join("demo/index.m3u8").is_file());
}
