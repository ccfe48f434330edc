//! Encoder restarts in proxy and hybrid mode, with ffmpeg as the encoder writing live
//! HLS into a real local origin (which logs every request) and a plain HTTP viewer
//! going through StreamGate. After a clean stop (the playlist gains `#EXT-X-ENDLIST`)
//! or a crash (it does not), ffmpeg starts again from `index0.ts`: the first request
//! the viewer makes once the origin has the new playlist must get that playlist and
//! the new bytes of every reused segment name, never the first run's cached ones.
//! Recordings (the event is over) stay cached and play with the origin down.

use crate::common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;

fn ffmpeg_available() -> bool {
    match Command::new("ffmpeg").arg("-version").output() {
        Ok(out) if out.status.success() => true,
        _ if std::env::var_os("CI").is_some() => {
            panic!("ffmpeg is required under CI (apt-get install ffmpeg)")
        }
        _ => {
            eprintln!("skipping: ffmpeg is not installed");
            false
        }
    }
}

/// A live encoder: one-second segments into `<dir>/index.m3u8`, the whole event kept
/// in the playlist (as with `record`), picture from `source` (a lavfi graph), so two
/// runs with different sources write different bytes under the same names.
fn encoder(dir: &Path, source: &str) -> Encoder {
    let child = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-re"])
        .args(["-f", "lavfi", "-i", source])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-tune",
            "zerolatency",
        ])
        .args(["-g", "10", "-keyint_min", "10", "-sc_threshold", "0"])
        .args(["-f", "hls", "-hls_time", "1", "-hls_list_size", "0"])
        .args(["-hls_flags", "temp_file"])
        .arg(dir.join("index.m3u8"))
        .stdout(Stdio::null())
        .spawn()
        .expect("start ffmpeg");
    Encoder(Some(child))
}

/// A running ffmpeg, killed if a failing test drops it.
struct Encoder(Option<Child>);

impl Drop for Encoder {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Stops the encoder: `clean` as an operator would (SIGINT: ffmpeg finishes the
/// playlist with `#EXT-X-ENDLIST`), otherwise as a crash (SIGKILL).
fn stop(mut encoder: Encoder, clean: bool) {
    let Some(mut child) = encoder.0.take() else {
        return;
    };
    let signal = if clean { "-INT" } else { "-KILL" };
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    child.wait().expect("ffmpeg exits");
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn segments(playlist: &str) -> Vec<String> {
    playlist
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

const LIVE_EVENT: &str = "[[events]]\nid = \"live\"\ntitle = \"Live\"\n\
    starts_at = 2026-01-01T00:00:00Z\nends_at = 2099-01-01T00:00:00Z\n";

async fn restart_case(hybrid: bool, clean: bool) {
    if !ffmpeg_available() {
        return;
    }
    let upstream = tempfile::tempdir().expect("tmp");
    let dir = upstream.path().join("live");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let origin = Origin::start(upstream.path().to_owned(), Duration::ZERO).await;
    let cache = tempfile::tempdir().expect("tmp");
    let local = tempfile::tempdir().expect("tmp");
    let mut section = proxy_section(&origin.base, cache.path(), "");
    if hybrid {
        section.push_str(&local_section(local.path()));
    }
    let hls = hls(&section, LIVE_EVENT, None).await;
    let token = sign(&claims("live"));
    let playlist_file = dir.join("index.m3u8");
    let playlist_url = hls.url("/streams/live/index.m3u8");

    // Run 1: the viewer watches three segments, which are cached.
    let first = encoder(&dir, "testsrc2=size=160x120:rate=10");
    assert!(
        eventually(Duration::from_secs(30), || async {
            segments(&read(&playlist_file)).len() >= 3
        })
        .await,
        "ffmpeg wrote no live playlist"
    );
    let (status, body) = fetch(&playlist_url, &token).await;
    assert_eq!(status, 200);
    let mut old = Vec::new();
    for name in segments(&String::from_utf8_lossy(&body)).iter().take(3) {
        let (status, bytes) = fetch(&hls.url(&format!("/streams/live/{name}")), &token).await;
        assert_eq!(status, 200);
        old.push((name.clone(), bytes));
    }
    assert!(cache.path().join("live/index0.ts").is_file());

    // The gap: what the viewer sees while the encoder is away.
    stop(first, clean);
    let gap = read(&playlist_file);
    assert_eq!(gap.contains("#EXT-X-ENDLIST"), clean);
    let (status, body) = fetch(&playlist_url, &token).await;
    assert_eq!(status, 200);
    assert_eq!(String::from_utf8_lossy(&body), gap);
    assert_eq!(
        fetch(&hls.url("/streams/live/index0.ts"), &token).await.0,
        200
    );

    // Run 2 reuses the names.
    let second = encoder(&dir, "color=c=red:size=160x120:rate=10");
    assert!(
        eventually(Duration::from_secs(30), || async {
            let now = read(&playlist_file);
            now != gap && !now.contains("#EXT-X-ENDLIST") && !segments(&now).is_empty()
        })
        .await,
        "ffmpeg did not start again"
    );
    // The first request after the origin has the new playlist gets it.
    let before = read(&playlist_file);
    let (status, body) = fetch(&playlist_url, &token).await;
    let after = read(&playlist_file);
    assert_eq!(status, 200);
    let served = String::from_utf8_lossy(&body).into_owned();
    assert!(
        served == before || served == after,
        "served:\n{served}\norigin had:\n{before}"
    );
    assert!(!served.contains("#EXT-X-ENDLIST"));
    // And every reused name the new playlist lists comes with the new bytes.
    for (name, old_bytes) in &old {
        if !segments(&served).contains(name) {
            continue;
        }
        let now = std::fs::read(dir.join(name)).expect("origin segment");
        let (status, bytes) = fetch(&hls.url(&format!("/streams/live/{name}")), &token).await;
        assert_eq!(status, 200);
        assert_eq!(
            bytes.as_ref(),
            now.as_slice(),
            "{name} is the origin's new one"
        );
        assert_ne!(&bytes, old_bytes, "{name} is not the first run's");
    }
    assert!(segments(&served).contains(&"index0.ts".to_owned()));
    stop(second, false);
    // The viewer never reached the origin itself: every origin request came from
    // StreamGate, without the viewer's token.
    assert!(
        origin
            .requests()
            .iter()
            .all(|r| !r.authorization && r.query.as_deref().is_none_or(|q| !q.contains("__token")))
    );
    hls.stop().await;
    origin.stop().await;
}

#[tokio::test]
async fn proxy_clean_stop_then_restart_serves_the_new_stream() {
    restart_case(false, true).await;
}

#[tokio::test]
async fn proxy_crash_then_restart_serves_the_new_bytes() {
    restart_case(false, false).await;
}

#[tokio::test]
async fn hybrid_clean_stop_then_restart_serves_the_new_stream() {
    restart_case(true, true).await;
}

#[tokio::test]
async fn hybrid_crash_then_restart_serves_the_new_bytes() {
    restart_case(true, false).await;
}

/// A restart the edge never saw in a playlist (a segment rewritten under its name
/// while the playlist stayed the same, as after an edge restart): live segments are
/// re-validated against the origin's ETag, so the new bytes arrive.
#[tokio::test]
async fn a_live_segment_replaced_at_the_origin_is_validated_not_replayed() {
    let upstream = tempfile::tempdir().expect("tmp");
    let dir = upstream.path().join("live");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("index.m3u8"),
        "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nindex0.ts\n",
    )
    .expect("write");
    std::fs::write(dir.join("index0.ts"), b"first run").expect("write");
    let origin = Origin::start(upstream.path().to_owned(), Duration::ZERO).await;
    let cache = tempfile::tempdir().expect("tmp");
    let hls = hls(
        &proxy_section(&origin.base, cache.path(), ""),
        LIVE_EVENT,
        None,
    )
    .await;
    let token = sign(&claims("live"));
    let seg = hls.url("/streams/live/index0.ts");
    assert_eq!(
        fetch(&hls.url("/streams/live/index.m3u8"), &token).await.0,
        200
    );
    let resp = reqwest::Client::new()
        .get(&seg)
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    // A live segment may be replaced under its name: the browser must re-validate.
    assert_eq!(resp.headers()["cache-control"], "private, no-cache");
    let etag = resp.headers()["etag"].clone();
    assert_eq!(resp.bytes().await.expect("body").as_ref(), b"first run");
    let again = reqwest::Client::new()
        .get(&seg)
        .bearer_auth(&token)
        .header("if-none-match", etag)
        .send()
        .await
        .expect("get");
    assert_eq!(again.status(), 304, "unchanged: no body again");
    std::fs::write(dir.join("index0.ts"), b"second run").expect("write");
    assert!(
        eventually(Duration::from_secs(10), || async {
            fetch(&seg, &token).await.1.as_ref() == b"second run"
        })
        .await,
        "the cached first-run bytes kept being served"
    );
    // The origin is down: a re-validation fails and the copy held still plays.
    origin.down.store(true, Ordering::SeqCst);
    let asked = origin.hits("live/index0.ts");
    assert!(
        eventually(Duration::from_secs(10), || async {
            let (status, body) = fetch(&seg, &token).await;
            assert_eq!((status, body.as_ref()), (200, b"second run".as_slice()));
            origin.hits("live/index0.ts") > asked
        })
        .await,
        "no re-validation was tried"
    );
    let (status, body) = fetch(&seg, &token).await;
    assert_eq!((status, body.as_ref()), (200, b"second run".as_slice()));
    hls.stop().await;
    origin.stop().await;
}

/// After the event (its window is over) the recording is immutable: playlists and
/// segments come from the cache without asking, and keep playing with the origin down.
#[tokio::test]
async fn a_recording_stays_cached_and_plays_with_the_origin_down() {
    let origin = Origin::start(sample_streams(), Duration::ZERO).await;
    let cache = tempfile::tempdir().expect("tmp");
    let events = "[[events]]\nid = \"demo\"\ntitle = \"Demo\"\n\
        starts_at = 2026-01-01T00:00:00Z\nends_at = 2026-01-02T00:00:00Z\n";
    let hls = hls(&proxy_section(&origin.base, cache.path(), ""), events, None).await;
    let token = sign(&claims("demo"));
    let files = ["360p/index.m3u8", "360p/seg_000.ts", "360p/seg_001.ts"];
    for f in files {
        assert_eq!(
            fetch(&hls.url(&format!("/streams/demo/{f}")), &token)
                .await
                .0,
            200
        );
    }
    origin.down.store(true, Ordering::SeqCst);
    let asked = origin.total.load(Ordering::SeqCst);
    for f in files {
        let resp = reqwest::Client::new()
            .get(hls.url(&format!("/streams/demo/{f}")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), 200, "{f}");
        if f.ends_with(".ts") {
            assert_eq!(resp.headers()["cache-control"], "private, max-age=3600");
        }
    }
    assert_eq!(
        origin.total.load(Ordering::SeqCst),
        asked,
        "nothing was asked"
    );
    hls.stop().await;
    origin.stop().await;
}
