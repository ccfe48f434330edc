//! The token gate as players and attackers meet it: every refusal is the same 403,
//! and revocations made at the platform (a code revoked, a session released, an event
//! switched off in streamgate.toml) are refused at the edge, on SQLite and PostgreSQL.

use crate::common;

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use common::*;
use serde_json::json;
use streamgate_core::env::Env;
use streamgate_core::load::load_text;
use streamgate_store::reconcile::{self, ApplyOptions};

const PLAYLIST: &str = "/streams/demo/360p/index.m3u8";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A token with this header and payload, signed with HMAC-SHA-256 of the test secret
/// (so only the header decides whether it should pass).
fn forge(
    header: serde_json::Value,
    payload: serde_json::Value,
    alg: jsonwebtoken::Algorithm,
) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(SIGNING_SECRET.as_bytes());
    let mut h = jsonwebtoken::Header::new(alg);
    if let Some(kid) = header.get("kid").and_then(|k| k.as_str()) {
        h.kid = Some(kid.to_owned());
    }
    jsonwebtoken::encode(&h, &payload, &key).expect("encode")
}

#[tokio::test]
async fn every_refusal_is_one_vague_403() {
    let hls = hls(&local_section(&sample_streams()), "", None).await;
    let get = |token: Option<String>| {
        let url = hls.url(PLAYLIST);
        async move { get_status(&url, token.as_deref()).await }
    };
    let good = sign(&claims("demo"));
    assert_eq!(get(Some(good.clone())).await, 200);

    // No token at all: 401, the only other answer.
    let resp = reqwest::get(hls.url(PLAYLIST)).await.expect("get");
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.json::<serde_json::Value>().await.expect("json"),
        json!({"error": "Authorization required"})
    );

    let mut cases: Vec<(&str, String)> = Vec::new();
    let mut bad_sig = good.clone();
    let last = bad_sig.pop().expect("char");
    bad_sig.push(if last == 'A' { 'B' } else { 'A' });
    cases.push(("bad signature", bad_sig));
    let body = serde_json::to_value(claims("demo")).expect("claims");
    cases.push((
        "alg none",
        format!(
            "{}.{}.",
            b64(br#"{"alg":"none","typ":"JWT"}"#),
            b64(body.to_string().as_bytes())
        ),
    ));
    cases.push((
        "HS384 with the right secret",
        forge(json!({}), body.clone(), jsonwebtoken::Algorithm::HS384),
    ));
    let mut expired = claims("demo");
    expired.exp = now() - 1;
    cases.push(("expired", sign(&expired)));
    cases.push(("another event's token", sign(&claims("other"))));
    let mut wrong_sp = claims("demo");
    wrong_sp.sp = "/streams/".into();
    cases.push(("sp wider than the event", sign(&wrong_sp)));
    let mut no_sid = body.clone();
    no_sid.as_object_mut().expect("object").remove("sid");
    cases.push((
        "missing sid",
        forge(json!({}), no_sid, jsonwebtoken::Algorithm::HS256),
    ));
    let mut no_exp = body.clone();
    no_exp.as_object_mut().expect("object").remove("exp");
    cases.push((
        "missing exp",
        forge(json!({}), no_exp, jsonwebtoken::Algorithm::HS256),
    ));
    let mut probe = claims("demo");
    probe.probe = true;
    let probe = sign(&probe);
    cases.push(("probe token on GET", probe.clone()));
    cases.push(("garbage", "not-a-token".into()));
    // RFC 7519 4.1.5: a token minted for later does not open the stream now.
    let mut not_yet = claims("demo");
    not_yet.nbf = Some(now() + 3600);
    cases.push(("nbf an hour ahead", sign(&not_yet)));
    let mut from_tomorrow = claims("demo");
    from_tomorrow.iat = now() + 86_400;
    from_tomorrow.exp = now() + 90_000;
    cases.push(("iat a day ahead", sign(&from_tomorrow)));

    for (what, token) in cases {
        let resp = reqwest::Client::new()
            .get(hls.url(PLAYLIST))
            .bearer_auth(&token)
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), 403, "{what}");
        assert_eq!(
            resp.json::<serde_json::Value>().await.expect("json"),
            json!({"error": "Access denied"}),
            "{what}"
        );
        // The query-string spelling gets the same answer.
        let q = reqwest::get(format!("{}?__token={token}", hls.url(PLAYLIST)))
            .await
            .expect("get");
        assert_eq!(q.status(), 403, "{what} in the query");
    }

    // A probe token may HEAD.
    let head = reqwest::Client::new()
        .head(hls.url("/streams/demo/index.m3u8"))
        .bearer_auth(&probe)
        .send()
        .await
        .expect("head");
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.headers()["content-type"],
        "application/vnd.apple.mpegurl"
    );
    hls.stop().await;
}

#[tokio::test]
async fn content_types_ranges_and_cache_headers() {
    let hls = hls(&local_section(&sample_streams()), "", None).await;
    let token = sign(&claims("demo"));
    let client = reqwest::Client::new();
    let playlist = client
        .get(hls.url(PLAYLIST))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(
        playlist.headers()["content-type"],
        "application/vnd.apple.mpegurl"
    );
    assert_eq!(playlist.headers()["cache-control"], "no-store");
    let text = playlist.text().await.expect("text");
    assert!(
        text.contains("\nseg_000.ts\n"),
        "header tokens are not written into playlists"
    );

    let full = client
        .get(hls.url("/streams/demo/360p/seg_000.ts"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(full.status(), 200);
    assert_eq!(full.headers()["content-type"], "video/mp2t");
    let whole = full.bytes().await.expect("bytes");
    let on_disk = std::fs::read(sample_streams().join("demo/360p/seg_000.ts")).expect("read");
    assert_eq!(whole.as_ref(), on_disk.as_slice());

    let part = client
        .get(hls.url("/streams/demo/360p/seg_000.ts"))
        .bearer_auth(&token)
        .header("range", "bytes=188-375")
        .send()
        .await
        .expect("get");
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 188-375/{}", on_disk.len()).as_str()
    );
    let etag = part.headers()["etag"].clone();
    assert_eq!(
        part.bytes().await.expect("bytes").as_ref(),
        &on_disk[188..376]
    );

    let unchanged = client
        .get(hls.url("/streams/demo/360p/seg_000.ts"))
        .bearer_auth(&token)
        .header("if-none-match", etag)
        .send()
        .await
        .expect("get");
    assert_eq!(unchanged.status(), 304);
    let beyond = client
        .get(hls.url("/streams/demo/360p/seg_000.ts"))
        .bearer_auth(&token)
        .header("range", "bytes=99999999-")
        .send()
        .await
        .expect("get");
    assert_eq!(beyond.status(), 416);

    for (path, status) in [
        ("/streams/demo/missing.ts", 404),
        ("/streams/demo/README.md", 404),
        ("/streams/demo/360p", 404),
    ] {
        assert_eq!(
            get_status(&hls.url(path), Some(&token)).await,
            status,
            "{path}"
        );
    }
    hls.stop().await;
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn revocations_made_at_the_platform_are_refused_at_the_edge(db) {
        let platform = platform(&db, &demo_events(6)).await;
        let hls = hls(&local_section(&sample_streams()), "", Some(&platform.base)).await;
        let codes = codes(&db, "demo").await;
        let tokens: Vec<String> = {
            let mut out = Vec::new();
            for (_, code) in codes.iter().take(3) {
                out.push(
                    redeem(&platform, code).await["playbackToken"]
                        .as_str()
                        .expect("token")
                        .to_owned(),
                );
            }
            out
        };
        for t in &tokens {
            assert_eq!(
                get_status(&hls.url(PLAYLIST), Some(t)).await,
                200,
                "{}",
                db.name
            );
        }
        let refused = |token: String| {
            let url = hls.url(PLAYLIST);
            move || {
                let (url, token) = (url.clone(), token.clone());
                async move { get_status(&url, Some(&token)).await == 403 }
            }
        };
        let allowed = |token: String| {
            let url = hls.url(PLAYLIST);
            move || {
                let (url, token) = (url.clone(), token.clone());
                async move { get_status(&url, Some(&token)).await == 200 }
            }
        };
        let bound = Duration::from_secs(15);

        // 1. A code revoked (the store call the admin API makes), then restored.
        let code_id = &codes[0].0;
        assert!(
            streamgate_store::codes::set_revoked(&platform.state.store, code_id, true, "test")
                .await
                .expect("revoke")
        );
        assert!(
            eventually(bound, refused(tokens[0].clone())).await,
            "{}: revoked code still plays",
            db.name
        );
        assert_eq!(get_status(&hls.url(PLAYLIST), Some(&tokens[1])).await, 200);
        streamgate_store::codes::set_revoked(&platform.state.store, code_id, false, "test")
            .await
            .expect("unrevoke");
        assert!(
            eventually(bound, allowed(tokens[0].clone())).await,
            "{}: unrevoked code refused",
            db.name
        );

        // 2. A session released by its player (sendBeacon shape: token in the body).
        let released = reqwest::Client::new()
            .post(platform.url("/api/playback/release"))
            .json(&json!({ "token": tokens[1] }))
            .send()
            .await
            .expect("release");
        assert_eq!(released.status(), 200);
        assert!(
            eventually(bound, refused(tokens[1].clone())).await,
            "{}: released session still plays",
            db.name
        );

        // 3. The event switched off in streamgate.toml and applied.
        let off = demo_events(6).replace(
            "ends_at = 2099-01-01T00:00:00Z\n",
            "ends_at = 2099-01-01T00:00:00Z\nactive = false\n",
        );
        let mut env = Env::default();
        env.set("DATABASE_URL", db.url.as_str());
        let loaded = load_text(
            Path::new("streamgate.toml"),
            Some(&format!("[hls]\nstream_root = \"streams\"\n{off}")),
            &env,
            None,
        )
        .unwrap_or_else(|r| panic!("{r}"));
        reconcile::apply(
            &platform.state.store,
            &loaded.config,
            ApplyOptions::default(),
        )
        .await
        .expect("apply");
        assert!(
            eventually(bound, refused(tokens[2].clone())).await,
            "{}: deactivated event still plays",
            db.name
        );

        let health = get_json(&hls.url("/health")).await;
        assert_eq!(health["status"], "ok");
        assert_eq!(health["syncMode"], "push");
        assert!(
            health["revocationCursor"].as_i64().unwrap_or(0) >= 4,
            "{health}"
        );
        hls.stop().await;
        platform.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_rewritten_live_playlist_is_served_fresh() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("live")).expect("mkdir");
    let file = dir.path().join("live/index.m3u8");
    std::fs::write(&file, "#EXTM3U\n#EXTINF:4,\nseg_1.ts\n").expect("write");
    let hls = hls(&local_section(dir.path()), "", None).await;
    let token = sign(&claims("live"));
    let get = || async {
        reqwest::Client::new()
            .get(hls.url("/streams/live/index.m3u8"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("text")
    };
    assert!(get().await.ends_with("seg_1.ts\n"));
    streamgate_testkit::save_atomically(
        &file,
        "#EXTM3U\n#EXTINF:4,\nseg_1.ts\n#EXTINF:4,\nseg_2.ts\n",
    );
    assert!(
        get().await.ends_with("seg_2.ts\n"),
        "the new version, not a cached copy"
    );
    hls.stop().await;
}
