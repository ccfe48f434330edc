//! Live ingest as an organiser and viewers meet it: `streamgate up` with an event that
//! takes its stream, ffmpeg as the encoder (test pattern and tone over SRT or RTMP)
//! and ffmpeg as the viewer through the gate with only `?__token=`.
//!
//! A wrong key is refused and writes nothing; the right key plays in every rendition
//! and makes the event `live`; an encoder killed mid-event and reconnected continues the
//! same playlists after a discontinuity (no restarted segment names) while a viewer
//! keeps playing; when the encoder is gone for good the playlists gain
//! `#EXT-X-ENDLIST` and the recording plays from the first segment, also after
//! StreamGate restarts.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common;
use common::binary::spawn;
use common::ingest::*;

#[tokio::test(flavor = "multi_thread")]
async fn srt_ingest_plays_survives_a_reconnect_and_becomes_the_recording() {
    let setup = Setup::new("srt");
    let (up, platform, codes) = setup.up();
    let hls = setup.hls();
    let client = reqwest::Client::new();
    let url = setup.publish_url();
    let named = format!(
        "ingest of live      SRT on port {}  (publish URL: streamgate ingest-url --event live)",
        setup.ingest_port
    );
    assert!(
        up.lines.iter().any(|l| l.contains(&named)),
        "up names the ingest: {:?}",
        up.lines
    );
    assert!(
        url.starts_with(&format!(
            "srt://127.0.0.1:{}?passphrase=",
            setup.ingest_port
        )),
        "{url}"
    );
    assert_eq!(wrong_part(&url).len(), 32);

    assert_refused(&setup, &url, "srt");
    assert_eq!(status(&client, &platform, &codes[0]).await, "not-started");

    // The right key: every rendition plays through the gate with only ?__token=.
    let started = Instant::now();
    let mut first = publish(&url, "srt", 12, 440);
    let token = redeem(&client, &platform, &codes[0]).await;
    let master = format!("{hls}/streams/live/index.m3u8?__token={token}");
    wait_until("the master playlist is served", || {
        let (client, master) = (client.clone(), master.clone());
        async move {
            playlist_text(&client, &master)
                .await
                .is_some_and(|t| t.contains("160p/index.m3u8"))
        }
    })
    .await;
    let media = |name: &str| format!("{hls}/streams/live/{name}/index.m3u8?__token={token}");
    every_rendition(
        &client,
        "both renditions have segments",
        [media("240p"), media("160p")],
        "#EXTINF",
    )
    .await;
    eprintln!(
        "publish to first playable segment: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for name in ["240p", "160p"] {
        assert!(decodes_first_second(&media(name)), "rendition {name} plays");
    }
    wait_status(&client, &platform, &codes[0], "live").await;
    let h = health(&hls).await;
    assert_eq!(h["ingest"][0]["state"], "publishing", "{h}");
    assert_eq!(h["ingest"][0]["eventId"], "live", "{h}");
    assert!(h["ingest"][0]["fps"].as_f64().is_some(), "{h}");
    let metrics = text_of(&format!("{hls}/metrics")).await;
    assert!(
        metrics.contains("streamgate_ingest_publishing{event=\"live\"} 1"),
        "{metrics}"
    );

    // A viewer watches across the encoder's drop.
    let recorded = setup.dir.path().join("viewer.ts");
    let mut viewer = view(&media("240p"), &recorded);
    wait_until("the viewer is receiving the stream", || {
        let recorded = recorded.clone();
        async move { std::fs::metadata(&recorded).is_ok_and(|m| m.len() > 0) }
    })
    .await;
    // Part of the scenario, not an ordering wait: the first session's length counts
    // toward the recording's duration asserted below.
    tokio::time::sleep(Duration::from_secs(3)).await;
    first.kill().expect("kill the encoder");
    let _ = first.wait();
    wait_until("the ingest notices the encoder is gone", || {
        let hls = hls.clone();
        async move { health(&hls).await["ingest"][0]["state"] == "waiting" }
    })
    .await;
    let before = playlist_text(&client, &media("240p"))
        .await
        .expect("playlist");
    let (names_before, _) = segments(&before);

    // The encoder comes back, as OBS does: retrying until the listener takes it (SRT
    // notices a vanished peer after a few seconds of silence).
    let mut second = reconnect(&hls, &url, "srt").await;
    wait_until("the playlist continues after a discontinuity", || {
        let (client, url, n) = (client.clone(), media("240p"), names_before.len());
        async move {
            playlist_text(&client, &url).await.is_some_and(|t| {
                let (names, breaks) = segments(&t);
                names.len() > n + 2 && breaks >= 1
            })
        }
    })
    .await;
    let _ = second.wait();

    // Gone for good: after finish_after_seconds the playlists become the recording.
    every_rendition(
        &client,
        "every media playlist ends with ENDLIST",
        [media("240p"), media("160p")],
        "#EXT-X-ENDLIST",
    )
    .await;
    let finished = playlist_text(&client, &media("240p"))
        .await
        .expect("playlist");
    let (names, breaks) = segments(&finished);
    assert!(breaks >= 1, "{finished}");
    let numbers: Vec<u32> = names
        .iter()
        .map(|n| {
            n.trim_start_matches("seg_")
                .trim_end_matches(".ts")
                .parse()
                .unwrap_or_else(|_| panic!("segment name {n}"))
        })
        .collect();
    assert_eq!(numbers[0], 0, "the recording starts at the first segment");
    assert!(
        numbers.windows(2).all(|w| w[1] == w[0] + 1),
        "segment names never restart: {numbers:?}"
    );
    assert!(
        names_before.iter().all(|n| names.contains(n)),
        "nothing was lost"
    );
    let viewer_status = tokio::task::spawn_blocking(move || viewer.wait())
        .await
        .expect("join")
        .expect("viewer");
    assert!(viewer_status.success(), "the viewer played to the end");
    let watched = duration(recorded.to_str().expect("utf8"));
    assert!(
        watched > 8.0,
        "the viewer kept playing across the drop: {watched} s"
    );
    let total = duration(&media("240p"));
    assert!(total > 15.0, "the recording holds both sessions: {total} s");
    assert!(
        decodes_first_second(&media("240p")),
        "the recording plays from the start"
    );
    wait_status(&client, &platform, &codes[0], "recording").await;

    // StreamGate restarts: the recording is still there and still plays.
    let log = up.stop().join("\n");
    assert!(
        !log.contains(&wrong_part(&url)),
        "the publish key reached the log"
    );
    assert!(!log.contains(&token), "a token reached the log");
    let (again, platform, codes) = setup.up();
    let token = redeem(&client, &platform, &codes[1]).await;
    let url = format!("{hls}/streams/live/240p/index.m3u8?__token={token}");
    wait_until("the restarted ingest reports the recording", || {
        let hls = hls.clone();
        async move { health(&hls).await["ingest"][0]["state"] == "finished" }
    })
    .await;
    let replay = playlist_text(&client, &url)
        .await
        .expect("recording after restart");
    assert_eq!(segments(&replay).0, names, "the same recording");
    assert!(replay.contains("#EXT-X-ENDLIST"));
    assert!(decodes_first_second(&url));
    again.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn rtmp_ingest_checks_the_key_takes_one_encoder_and_rotates_keys() {
    let setup = Setup::new("rtmp");
    let (up, platform, codes) = setup.up_with(&["up"]);
    let hls = setup.hls();
    let client = reqwest::Client::new();
    let url = setup.publish_url();
    assert!(
        url.starts_with(&format!("rtmp://127.0.0.1:{}/live/", setup.ingest_port)),
        "{url}"
    );
    assert_refused(&setup, &url, "rtmp");

    let mut first = publish(&url, "rtmp", 40, 440);
    let token = redeem(&client, &platform, &codes[0]).await;
    let media = |name: &str| format!("{hls}/streams/live/{name}/index.m3u8?__token={token}");
    every_rendition(
        &client,
        "both renditions have segments",
        [media("240p"), media("160p")],
        "#EXTINF",
    )
    .await;
    for name in ["240p", "160p"] {
        assert!(decodes_first_second(&media(name)), "rendition {name} plays");
    }
    wait_status(&client, &platform, &codes[0], "live").await;

    // A second encoder with the right key while the first publishes is turned away.
    let mut second = publish(&url, "rtmp", 5, 880);
    let refused = second.wait().expect("wait");
    assert!(!refused.success(), "a second publisher is refused");
    assert!(
        first.try_wait().expect("try_wait").is_none(),
        "the first keeps publishing"
    );
    wait_until("health counts both refusals", || {
        let hls = hls.clone();
        async move { health(&hls).await["ingest"][0]["refusedPublishers"].as_u64() >= Some(2) }
    })
    .await;
    let h = health(&hls).await;
    assert_eq!(h["ingest"][0]["state"], "publishing", "{h}");
    assert!(
        h["ingest"][0]["inputKbps"]
            .as_f64()
            .is_some_and(|k| k > 0.0),
        "{h}"
    );
    let _ = first.kill();
    let _ = first.wait();

    // Rotating the key in streamgate.toml (hot reload): the old key stops working.
    let config = setup.dir.path().join("streamgate.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace(
            "finish_after_seconds = 12",
            "finish_after_seconds = 12\nkey_version = 2",
        ),
    )
    .expect("write");
    let rotated = setup.publish_url();
    assert_ne!(rotated, url, "a new key_version is a new key");
    wait_until("the ingest takes the new key", || {
        let hls = hls.clone();
        async move { health(&hls).await["ingest"][0]["state"] == "waiting" }
    })
    .await;
    // The running ingest learns the new key from the reload (within the watcher's poll).
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut old = publish(&url, "rtmp", 2, 440);
        if !old.wait().expect("wait").success() {
            break;
        }
        assert!(Instant::now() < deadline, "the old key still publishes");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let mut renewed = reconnect(&hls, &rotated, "rtmp").await;
    let _ = renewed.kill();
    let _ = renewed.wait();
    let log = up.stop().join("\n");
    for key in [wrong_part(&url), wrong_part(&rotated)] {
        assert!(!log.contains(&key), "a publish key reached the log");
    }
}

/// Topology C's origin box: `streamgate ingest` alone, with a passthrough event (the
/// encoder's own stream, no transcoding), its health on its own port, and a clean stop.
#[tokio::test(flavor = "multi_thread")]
async fn the_ingest_role_runs_alone_passes_the_stream_through_and_reports_health() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let health_port = free_port();
    let text = format!(
        "[hls]\nstream_root = \"origin\"\n\n[ingest]\npublic_host = \"127.0.0.1\"\nbind = \"127.0.0.1\"\n\n\
         [[events]]\nid = \"live\"\ntitle = \"Live\"\nstarts_at = 2026-01-01T00:00:00Z\n\
         ends_at = 2099-01-01T00:00:00Z\n\n[events.ingest]\nport = {port}\npassthrough = true\n\
         segment_seconds = 1\n"
    );
    std::fs::write(dir.path().join("streamgate.toml"), text).expect("config");
    let secret = ("INGEST_SECRET", "ingest-role-test-secret-0123456789abcdef");
    let health_addr = format!("127.0.0.1:{health_port}");
    // Without INGEST_SECRET the role refuses to start and says which variable.
    let refused = Command::new(env!("CARGO_BIN_EXE_streamgate"))
        .arg("ingest")
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("ingest");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("INGEST_SECRET is required but not set"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let mut ingest = spawn(
        dir.path(),
        &["ingest", "--health-listen", &health_addr],
        &[secret],
    );
    ingest.wait_for("ingest health at /health");
    let url = {
        let out = Command::new(env!("CARGO_BIN_EXE_streamgate"))
            .args(["ingest-url", "--event", "live"])
            .current_dir(dir.path())
            .env_clear()
            .env(secret.0, secret.1)
            .output()
            .expect("ingest-url");
        String::from_utf8(out.stdout)
            .expect("utf8")
            .trim()
            .to_owned()
    };
    let health_url = format!("http://{health_addr}/health");
    let mut encoder = publish(&url, "srt", 30, 440);
    let playlist = dir.path().join("origin/live/source/index.m3u8");
    wait_until("the passthrough rendition has segments", || {
        let playlist = playlist.clone();
        async move {
            std::fs::read_to_string(&playlist).is_ok_and(|t| t.matches("#EXTINF").count() >= 2)
        }
    })
    .await;
    let master =
        std::fs::read_to_string(dir.path().join("origin/live/index.m3u8")).expect("master");
    assert!(master.contains("source/index.m3u8"), "{master}");
    let file = playlist.to_str().expect("utf8").to_owned();
    assert!(decodes_first_second(&file), "the copied stream plays");
    wait_until("the health port says publishing", || {
        let url = health_url.clone();
        async move {
            let Ok(resp) = reqwest::get(&url).await else {
                return false;
            };
            let body: Value = resp.json().await.unwrap_or_default();
            body["status"] == "ok" && body["ingest"][0]["state"] == "publishing"
        }
    })
    .await;
    let metrics = text_of(&format!("http://{health_addr}/metrics")).await;
    assert!(
        metrics.contains("streamgate_ingest_publishing{event=\"live\"} 1"),
        "{metrics}"
    );
    let _ = encoder.kill();
    let _ = encoder.wait();

    // An edit of the file reaches the running ingest (no platform here: it reads the
    // file itself): a new key_version restarts ffmpeg with the new key.
    let config = dir.path().join("streamgate.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace(
            "segment_seconds = 1\n",
            "segment_seconds = 1\nkey_version = 2\n",
        ),
    )
    .expect("write");
    ingest.wait_for("config file changed: ingest follows it");
    ingest.wait_for("ingest settings changed: restarting ffmpeg");
    let mut old = publish(&url, "srt", 2, 440);
    assert!(
        !old.wait().expect("wait").success(),
        "the old key no longer publishes"
    );

    let log = ingest.stop().join("\n");
    assert!(
        !log.contains(&wrong_part(&url)),
        "the publish key reached the log"
    );
    // The clean stop took ffmpeg with it.
    let left = Command::new("pgrep")
        .args(["-f", &format!("127.0.0.1:{port}?mode=listener")])
        .output()
        .expect("pgrep");
    assert!(
        left.stdout.is_empty(),
        "ffmpeg outlived the ingest: {}",
        String::from_utf8_lossy(&left.stdout)
    );
}
