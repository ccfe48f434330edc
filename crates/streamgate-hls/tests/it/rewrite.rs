//! URIs in playlists that would bypass the gate or break query-token playback:
//! origin-absolute URIs (ffmpeg's `-hls_base_url`) become gated paths and the player
//! never reaches the origin; absolute URIs under StreamGate's own `hls.public_url` get
//! the token in query mode (an AES-128 key, played by ffmpeg); other hosts pass
//! unchanged without the token; `.json` documents are served through the gate.

use crate::common;

use std::path::Path;
use std::process::Command;
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

/// Runs ffmpeg (blocking, in a task) and returns whether it succeeded and its log.
async fn ffmpeg(args: Vec<String>) -> (bool, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new("ffmpeg")
            .args(["-hide_banner", "-nostdin"])
            .args(&args)
            .output()
            .expect("run ffmpeg");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .expect("ffmpeg task")
}

/// Four one-second segments into `<dir>/index.m3u8` whose URIs are absolute
/// (`-hls_base_url`), as many packagers write them.
async fn encode_with_base_url(dir: &Path, base_url: &str) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let (ok, log) = ffmpeg(
        [
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=10",
            "-t",
            "4",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "10",
            "-f",
            "hls",
            "-hls_time",
            "1",
            "-hls_list_size",
            "0",
            "-hls_base_url",
            base_url,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([dir.join("index.m3u8").display().to_string()])
        .collect(),
    )
    .await;
    assert!(ok, "encoder failed:\n{log}");
}

#[tokio::test]
async fn origin_absolute_uris_go_through_the_gate_and_the_player_never_reaches_the_origin() {
    if !ffmpeg_available() {
        return;
    }
    let upstream = tempfile::tempdir().expect("tmp");
    let origin = Origin::start(upstream.path().to_owned(), Duration::ZERO).await;
    encode_with_base_url(
        &upstream.path().join("abs"),
        &format!("{}/abs/", origin.base),
    )
    .await;
    let written = std::fs::read_to_string(upstream.path().join("abs/index.m3u8")).expect("read");
    assert!(written.contains(&format!("{}/abs/index0.ts", origin.base)));
    let cache = tempfile::tempdir().expect("tmp");
    let hls = hls(&proxy_section(&origin.base, cache.path(), ""), "", None).await;
    let token = sign(&claims("abs"));
    let playlist = hls.url("/streams/abs/index.m3u8");

    let (status, body) = fetch(&playlist, &token).await;
    assert_eq!(status, 200);
    let served = String::from_utf8_lossy(&body).into_owned();
    assert!(!served.contains(&origin.base), "{served}");
    assert!(served.contains("\nindex0.ts\n"), "{served}");

    // ffmpeg as the player, once with the token in the query, once in a header.
    for query_mode in [true, false] {
        let mut args: Vec<String> = vec!["-loglevel".into(), "debug".into()];
        let input = if query_mode {
            format!("{playlist}?__token={token}")
        } else {
            args.extend([
                "-headers".into(),
                format!("Authorization: Bearer {token}\r\n"),
            ]);
            playlist.clone()
        };
        args.extend(["-i".into(), input]);
        args.extend(["-c", "copy", "-f", "null", "-"].map(String::from));
        let (ok, log) = ffmpeg(args).await;
        assert!(ok, "the player failed:\n{log}");
        for i in 0..4 {
            assert!(
                log.contains(&format!("index{i}.ts")),
                "index{i}.ts unplayed:\n{log}"
            );
        }
    }
    let requests = origin.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert!(
            r.user_agent
                .as_deref()
                .is_none_or(|ua| !ua.contains("Lavf")),
            "the player reached the origin: {r:?}"
        );
        assert!(!r.authorization && r.query.is_none(), "{r:?}");
    }
    hls.stop().await;
    origin.stop().await;
}

/// StreamGate's own absolute URL for a key, in a local playlist: in query mode it gets
/// the token (ffmpeg plays the encrypted stream); another host's URI does not.
#[tokio::test]
async fn a_key_uri_under_the_public_url_gets_the_token_and_plays() {
    if !ffmpeg_available() {
        return;
    }
    let root = tempfile::tempdir().expect("tmp");
    let dir = root.path().join("enc");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("k.key"), [7u8; 16]).expect("key");
    // The key info file names the key as the playlist will: a placeholder host that
    // is this server's public_url, replaced once the port is known.
    let info = dir.join("key.info");
    std::fs::write(
        &info,
        format!(
            "PUBLIC/streams/enc/k.key\n{}\n",
            dir.join("k.key").display()
        ),
    )
    .expect("info");
    let (ok, log) = ffmpeg(
        [
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=10",
            "-t",
            "3",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "10",
            "-f",
            "hls",
            "-hls_time",
            "1",
            "-hls_list_size",
            "0",
            "-hls_key_info_file",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([
            info.display().to_string(),
            dir.join("index.m3u8").display().to_string(),
        ])
        .collect(),
    )
    .await;
    assert!(ok, "encoder failed:\n{log}");
    // `hls.public_url` must be known before the port is: a placeholder host that
    // ffmpeg reaches through StreamGate itself, used as its HTTP proxy.
    let public = "http://streamgate.test";
    let text = std::fs::read_to_string(dir.join("index.m3u8")).expect("read");
    let text = text.replace("PUBLIC", public).replace(
        "#EXT-X-TARGETDURATION",
        "#EXT-X-SESSION-DATA:DATA-ID=\"x\",URI=\"https://other.example/data.json\"\n#EXT-X-TARGETDURATION",
    );
    std::fs::write(dir.join("index.m3u8"), &text).expect("write");
    let section = format!("{}public_url = \"{public}/\"\n", local_section(root.path()));
    let hls = hls(&section, "", None).await;
    let token = sign(&claims("enc"));
    let url = format!("{}?__token={token}", hls.url("/streams/enc/index.m3u8"));
    let rewritten = get_text(&url).await;
    assert!(
        rewritten.contains(&format!(
            "URI=\"{public}/streams/enc/k.key?__token={token}\""
        )),
        "{rewritten}"
    );
    assert!(rewritten.contains("URI=\"https://other.example/data.json\""));
    let (ok, log) = ffmpeg(
        [
            "-loglevel",
            "debug",
            "-http_proxy",
            &hls.base,
            "-i",
            &format!("{public}/streams/enc/index.m3u8?__token={token}"),
            "-c",
            "copy",
            "-f",
            "null",
            "-",
        ]
        .map(String::from)
        .to_vec(),
    )
    .await;
    assert!(ok, "the player failed:\n{log}");
    assert!(log.contains("k.key?__token="), "{log}");
    hls.stop().await;
}

#[tokio::test]
async fn json_documents_are_served_through_the_gate_and_never_cached() {
    let upstream = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(upstream.path().join("ev")).expect("mkdir");
    std::fs::write(
        upstream.path().join("ev/steering.json"),
        br#"{"VERSION":1,"TTL":10,"PATHWAY-PRIORITY":["A"]}"#,
    )
    .expect("write");
    let origin = Origin::start(upstream.path().to_owned(), Duration::ZERO).await;
    let cache = tempfile::tempdir().expect("tmp");
    let hls = hls(&proxy_section(&origin.base, cache.path(), ""), "", None).await;
    let token = sign(&claims("ev"));
    let url = hls.url("/streams/ev/steering.json");
    assert_eq!(get_status(&url, None).await, 401);
    for _ in 0..2 {
        let resp = reqwest::Client::new()
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "application/json");
        assert_eq!(resp.headers()["cache-control"], "no-store");
        let body: serde_json::Value = resp.json().await.expect("json");
        assert_eq!(body["VERSION"], 1);
    }
    assert_eq!(
        origin.hits("ev/steering.json"),
        2,
        "a steering manifest changes"
    );
    hls.stop().await;
    origin.stop().await;
}
