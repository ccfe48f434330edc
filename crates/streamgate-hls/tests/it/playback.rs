//! Query-token playback end to end, as Safari's native player does it: ffmpeg (a real
//! HLS client that sends no Authorization header) is given only the master playlist
//! URL with `?__token=` and must read every segment of both renditions through the
//! gate, using the URIs the server rewrote.

use crate::common;

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

/// A stream directory published as `master.m3u8` or `stream.m3u8` (many packagers, the
/// upstream StreamGate) plays at the `index.m3u8` the platform hands out, locally and
/// through a proxied origin; an `index.m3u8` that exists wins, and only the default name
/// at the top of the event falls back. ffmpeg then plays it with only a query token.
#[tokio::test]
async fn master_or_stream_m3u8_plays_at_the_default_name() {
    if !ffmpeg_available() {
        return;
    }
    let root = tempfile::tempdir().expect("tempdir");
    let copy = |event: &str, name: &str| {
        let dir = root.path().join(event);
        for entry in streamgate_testkit::files_under(&sample_streams().join("demo")) {
            let rel = entry
                .strip_prefix(sample_streams().join("demo"))
                .expect("inside");
            let to = if rel == std::path::Path::new("index.m3u8") {
                dir.join(name)
            } else {
                dir.join(rel)
            };
            std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
            std::fs::copy(&entry, &to).expect("copy");
        }
    };
    copy("mastered", "master.m3u8");
    copy("streamed", "stream.m3u8");
    copy("both", "index.m3u8");
    std::fs::write(
        root.path().join("both/master.m3u8"),
        "#EXTM3U\n#not this one\n",
    )
    .expect("write");
    let local = hls(&local_section(root.path()), "", None).await;
    for (event, from) in [
        ("mastered", "master.m3u8"),
        ("streamed", "stream.m3u8"),
        ("both", "index.m3u8"),
    ] {
        let token = sign(&claims(event));
        let (status, body) =
            fetch(&local.url(&format!("/streams/{event}/index.m3u8")), &token).await;
        let want = std::fs::read(root.path().join(event).join(from)).expect("source");
        assert_eq!(
            (status, body.as_ref()),
            (200, want.as_slice()),
            "{event}: served {from}"
        );
        // Only the default name, only at the top.
        let (status, _) = fetch(
            &local.url(&format!("/streams/{event}/360p/master.m3u8")),
            &token,
        )
        .await;
        assert_eq!(status, 404, "{event}");
    }
    let token = sign(&claims("mastered"));
    let master = format!(
        "{}?__token={token}",
        local.url("/streams/mastered/index.m3u8")
    );
    let out = tokio::task::spawn_blocking(move || {
        Command::new("ffmpeg")
            .args([
                "-hide_banner",
                "-nostdin",
                "-loglevel",
                "error",
                "-i",
                &master,
            ])
            .args(["-map", "0", "-c", "copy", "-f", "null", "-"])
            .output()
            .expect("run ffmpeg")
    })
    .await
    .expect("ffmpeg task");
    assert!(
        out.status.success(),
        "ffmpeg failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    local.stop().await;

    // Proxied: the origin publishes master.m3u8 only.
    let origin = Origin::start(root.path().to_path_buf(), std::time::Duration::ZERO).await;
    let cache = tempfile::tempdir().expect("cache");
    let proxy = hls(&proxy_section(&origin.base, cache.path(), ""), "", None).await;
    let (status, body) = fetch(
        &proxy.url("/streams/mastered/index.m3u8"),
        &sign(&claims("mastered")),
    )
    .await;
    assert_eq!(
        status,
        200,
        "proxied fallback: {}",
        String::from_utf8_lossy(&body)
    );
    assert!(
        String::from_utf8_lossy(&body).contains("#EXT-X-STREAM-INF"),
        "the master playlist"
    );
    proxy.stop().await;
    origin.stop().await;
}
