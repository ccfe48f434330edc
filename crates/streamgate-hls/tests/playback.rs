//! Query-token playback end to end, as Safari's native player does it: ffmpeg (a real
//! HLS client that sends no Authorization header) is given only the master playlist
//! URL with `?__token=` and must read every segment of both renditions through the
//! gate, using the URIs the server rewrote.

mod common;

use std::process::Command;

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

#[tokio::test]
async fn ffmpeg_plays_both_renditions_with_only_a_query_token() {
    if !ffmpeg_available() {
        return;
    }
    let db = TestDb::sqlite();
    let platform = platform(&db, &demo_events(2)).await;
    let hls = hls(&local_section(&sample_streams()), "", Some(&platform.base)).await;
    let (_, code) = codes(&db, "demo").await.remove(0);
    let token = redeem(&platform, &code).await["playbackToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let master = format!("{}?__token={token}", hls.url("/streams/demo/index.m3u8"));
    let out = tokio::task::spawn_blocking(move || {
        Command::new("ffmpeg")
            .args([
                "-hide_banner",
                "-nostdin",
                "-loglevel",
                "debug",
                "-i",
                &master,
            ])
            .args(["-map", "0", "-c", "copy", "-f", "null", "-"])
            .output()
            .expect("run ffmpeg")
    })
    .await
    .expect("ffmpeg task");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ffmpeg failed:\n{log}");
    for rendition in ["360p", "180p"] {
        for seg in 0..6 {
            let name = format!("{rendition}/seg_{seg:03}.ts?__token=");
            assert!(
                log.contains(&name),
                "ffmpeg never opened {name} (rewritten URI):\n{log}"
            );
        }
    }
    // Every request the player made went through the gate and was admitted: the
    // master, two media playlists and twelve segments.
    let metrics = get_text(&hls.url("/metrics")).await;
    let ok: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("streamgate_hls_requests_total{outcome=\"ok\"} "))
        .and_then(|n| n.parse().ok())
        .expect("ok counter");
    assert!(ok >= 15, "{ok} admitted requests:\n{metrics}");
    assert!(metrics.contains("streamgate_hls_requests_total{outcome=\"unauthorized\"} 0"));
    hls.stop().await;
    platform.stop().await;
}
