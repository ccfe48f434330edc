//! Proxy and hybrid modes against a real local origin whose requests are counted: one
//! upstream request for many concurrent misses, an origin outage (502 for what is not
//! cached, cached segments still served), live playlists never cached, a restart that
//! keeps the cache, eviction by size, the per-event cache clear, and hybrid's order.

use crate::common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use futures::future::join_all;

#[tokio::test]
async fn concurrent_misses_make_one_upstream_request_and_outages_serve_the_cache() {
    let cache_dir = tempfile::tempdir().expect("tmp");
    let origin = Origin::start(sample_streams(), Duration::from_millis(300)).await;
    let section = proxy_section(&origin.base, cache_dir.path(), "");
    let hls = hls(&section, "", None).await;
    let token = sign(&claims("demo"));
    let seg = hls.url("/streams/demo/360p/seg_001.ts");
    let on_disk = std::fs::read(sample_streams().join("demo/360p/seg_001.ts")).expect("read");

    let answers = join_all((0..50).map(|_| fetch(&seg, &token))).await;
    for (status, body) in &answers {
        assert_eq!(*status, 200);
        assert_eq!(body.as_ref(), on_disk.as_slice());
    }
    assert_eq!(
        origin.hits("demo/360p/seg_001.ts"),
        1,
        "50 misses, one fetch"
    );
    assert_eq!(fetch(&seg, &token).await.0, 200);
    assert_eq!(
        origin.hits("demo/360p/seg_001.ts"),
        1,
        "then served from the cache"
    );
    assert!(cache_dir.path().join("demo/360p/seg_001.ts").is_file());

    // A finished (VOD) playlist is kept, but while its event might still be live
    // (this server does not know its schedule) it is asked for again every time: an
    // encoder restart may make it live again.
    let vod = hls.url("/streams/demo/360p/index.m3u8");
    assert_eq!(fetch(&vod, &token).await.0, 200);
    assert_eq!(fetch(&vod, &token).await.0, 200);
    assert_eq!(origin.hits("demo/360p/index.m3u8"), 2);
    assert!(cache_dir.path().join("demo/360p/index.m3u8").is_file());

    // The origin goes down: what is cached still plays (the kept playlist too), the
    // rest is a clear 502.
    origin.down.store(true, Ordering::SeqCst);
    assert_eq!(fetch(&seg, &token).await.0, 200);
    let (status, body) = fetch(&vod, &token).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("#EXT-X-ENDLIST"));
    let resp = reqwest::Client::new()
        .get(hls.url("/streams/demo/360p/seg_002.ts"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 502);
    assert_eq!(
        resp.json::<serde_json::Value>().await.expect("json"),
        serde_json::json!({"error": "Stream source unavailable"})
    );
    // Not found upstream is not found here.
    origin.down.store(false, Ordering::SeqCst);
    assert_eq!(
        fetch(&hls.url("/streams/demo/360p/seg_999.ts"), &token)
            .await
            .0,
        404
    );

    // A restart keeps the cache: with the origin down, the segment still plays.
    hls.stop().await;
    origin.down.store(true, Ordering::SeqCst);
    let hls = common::hls(&section, "", None).await;
    let (status, body) = fetch(&hls.url("/streams/demo/360p/seg_001.ts"), &token).await;
    assert_eq!(status, 200);
    assert_eq!(body.as_ref(), on_disk.as_slice());
    let health = get_json(&hls.url("/health")).await;
    assert_eq!(health["mode"], "proxy");
    assert_eq!(health["cacheEntries"], 2, "{health}");

    // Clearing an event's cache needs the internal key, then really clears it.
    let client = reqwest::Client::new();
    let denied = client
        .delete(hls.url("/admin/cache/demo"))
        .header("x-internal-api-key", "wrong-key-wrong-key")
        .send()
        .await
        .expect("delete");
    assert_eq!(denied.status(), 401);
    // Without the header at all: the same JSON shape, not the framework's plain text.
    let missing = client
        .delete(hls.url("/admin/cache/demo"))
        .send()
        .await
        .expect("delete");
    assert_eq!(missing.status(), 401);
    let body: serde_json::Value = missing.json().await.expect("a JSON error");
    assert_eq!(body["error"], "Authorization required");
    let cleared = client
        .delete(hls.url("/admin/cache/demo"))
        .header("x-internal-api-key", INTERNAL_KEY)
        .send()
        .await
        .expect("delete");
    assert_eq!(cleared.status(), 200);
    let body: serde_json::Value = cleared.json().await.expect("json");
    assert_eq!(body["cleared"], true);
    assert_eq!(body["removed"], 2);
    assert_eq!(
        fetch(&hls.url("/streams/demo/360p/seg_001.ts"), &token)
            .await
            .0,
        502
    );
    assert!(!cache_dir.path().join("demo").exists());
    hls.stop().await;
    origin.stop().await;
}

#[tokio::test]
async fn live_playlists_are_fetched_every_time_and_query_tokens_rewrite_them() {
    let upstream = tempfile::tempdir().expect("tmp");
    let live = upstream.path().join("live");
    std::fs::create_dir_all(&live).expect("mkdir");
    std::fs::write(
        live.join("index.m3u8"),
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:4,\nseg_1.m4s\n",
    )
    .expect("write");
    let cache_dir = tempfile::tempdir().expect("tmp");
    let origin = Origin::start(upstream.path().to_owned(), Duration::ZERO).await;
    let hls = hls(&proxy_section(&origin.base, cache_dir.path(), ""), "", None).await;
    let token = sign(&claims("live"));
    let url = hls.url("/streams/live/index.m3u8");
    for _ in 0..3 {
        assert_eq!(fetch(&url, &token).await.0, 200);
    }
    assert_eq!(
        origin.hits("live/index.m3u8"),
        3,
        "a live playlist is never cached"
    );
    assert!(!cache_dir.path().join("live/index.m3u8").exists());

    let rewritten = get_text(&format!("{url}?__token={token}")).await;
    assert!(
        rewritten.contains(&format!("URI=\"init.mp4?__token={token}\"")),
        "{rewritten}"
    );
    assert!(
        rewritten.contains(&format!("\nseg_1.m4s?__token={token}\n")),
        "{rewritten}"
    );
    hls.stop().await;
    origin.stop().await;
}

#[tokio::test]
async fn the_cache_evicts_least_recently_used_segments_past_its_size() {
    let cache_dir = tempfile::tempdir().expect("tmp");
    let origin = Origin::start(sample_streams(), Duration::ZERO).await;
    // 0.001 GB = 1 MB: about four of the sample's 250 KB segments.
    let section = proxy_section(
        &origin.base,
        cache_dir.path(),
        "segment_cache_max_size_gb = 0.001\n",
    );
    let hls = hls(&section, "", None).await;
    let token = sign(&claims("demo"));
    for i in 0..6 {
        let url = hls.url(&format!("/streams/demo/360p/seg_{i:03}.ts"));
        assert_eq!(fetch(&url, &token).await.0, 200);
    }
    let cached: u64 = std::fs::read_dir(cache_dir.path().join("demo/360p"))
        .expect("dir")
        .map(|e| e.expect("entry").metadata().expect("meta").len())
        .sum();
    assert!(cached <= 1_000_000, "{cached} bytes on disk");
    let health = get_json(&hls.url("/health")).await;
    assert!(health["cacheBytes"].as_u64().expect("bytes") <= 1_000_000);
    assert!(health["cacheEntries"].as_u64().expect("entries") < 6);
    // The oldest went first: fetching it again goes upstream; the newest does not.
    assert_eq!(
        fetch(&hls.url("/streams/demo/360p/seg_005.ts"), &token)
            .await
            .0,
        200
    );
    assert_eq!(origin.hits("demo/360p/seg_005.ts"), 1);
    assert_eq!(
        fetch(&hls.url("/streams/demo/360p/seg_000.ts"), &token)
            .await
            .0,
        200
    );
    assert_eq!(origin.hits("demo/360p/seg_000.ts"), 2);
    hls.stop().await;
    origin.stop().await;
}

#[tokio::test]
async fn hybrid_serves_local_files_first_then_the_origin() {
    let local = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(local.path().join("demo/360p")).expect("mkdir");
    std::fs::write(
        local.path().join("demo/360p/index.m3u8"),
        "#EXTM3U\n#EXTINF:4,\nseg_000.ts\n#EXT-X-ENDLIST\n",
    )
    .expect("write");
    let origin = Origin::start(sample_streams(), Duration::ZERO).await;
    let section = format!(
        "stream_root = \"{}\"\nupstream_origin = \"{}\"\n",
        local.path().display(),
        origin.base
    );
    let hls = hls(&section, "", None).await;
    let token = sign(&claims("demo"));
    let (status, body) = fetch(&hls.url("/streams/demo/360p/index.m3u8"), &token).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("seg_000.ts"));
    assert_eq!(origin.hits("demo/360p/index.m3u8"), 0, "the local file won");
    assert_eq!(
        fetch(&hls.url("/streams/demo/360p/seg_000.ts"), &token)
            .await
            .0,
        200
    );
    assert_eq!(origin.hits("demo/360p/seg_000.ts"), 1);
    // The default cache lives inside the stream root; it is never served as content
    // of another "event" named cache.
    assert!(local.path().join("cache/demo/360p/seg_000.ts").is_file());
    let sneaky = sign(&claims("cache"));
    assert_eq!(
        fetch(&hls.url("/streams/cache/demo/360p/seg_000.ts"), &sneaky)
            .await
            .0,
        404
    );
    let health = get_json(&hls.url("/health")).await;
    assert_eq!(health["mode"], "hybrid");
    hls.stop().await;
    origin.stop().await;
}

#[tokio::test]
async fn an_events_stream_url_overrides_the_origin() {
    let origin = Origin::start(sample_streams(), Duration::ZERO).await;
    let cache_dir = tempfile::tempdir().expect("tmp");
    let events = format!(
        "[[events]]\nid = \"keynote\"\ntitle = \"Keynote\"\nstarts_at = 2026-01-01T00:00:00Z\n\
         ends_at = 2099-01-01T00:00:00Z\nstream_url = \"{}/demo/index.m3u8\"\n",
        origin.base
    );
    let section = format!(
        "upstream_origin = \"http://127.0.0.1:9/\"\nsegment_cache_root = \"{}\"\n",
        cache_dir.path().display()
    );
    let hls = hls(&section, &events, None).await;
    let token = sign(&claims("keynote"));
    assert_eq!(
        fetch(&hls.url("/streams/keynote/index.m3u8"), &token)
            .await
            .0,
        200
    );
    assert_eq!(origin.hits("demo/index.m3u8"), 1);
    assert_eq!(
        fetch(&hls.url("/streams/keynote/180p/seg_003.ts"), &token)
            .await
            .0,
        200
    );
    assert_eq!(origin.hits("demo/180p/seg_003.ts"), 1);
    hls.stop().await;
    origin.stop().await;
}

#[tokio::test]
async fn a_cache_that_cannot_be_written_serves_without_caching() {
    let cache_dir = tempfile::tempdir().expect("tmp");
    // A file where the event's directory should be: every write under it fails, as
    // on a full or read-only disk (permissions would not stop root).
    std::fs::write(cache_dir.path().join("demo"), b"in the way").expect("write");
    let origin = Origin::start(sample_streams(), Duration::ZERO).await;
    let hls = hls(&proxy_section(&origin.base, cache_dir.path(), ""), "", None).await;
    let token = sign(&claims("demo"));
    let on_disk = std::fs::read(sample_streams().join("demo/360p/seg_002.ts")).expect("read");
    for round in 1..=2 {
        let (status, body) = fetch(&hls.url("/streams/demo/360p/seg_002.ts"), &token).await;
        assert_eq!(status, 200);
        assert_eq!(body.as_ref(), on_disk.as_slice());
        assert_eq!(
            origin.hits("demo/360p/seg_002.ts"),
            round,
            "nothing was cached"
        );
    }
    let metrics = get_text(&hls.url("/metrics")).await;
    assert!(
        metrics.contains("streamgate_hls_cache_write_errors_total 2"),
        "{metrics}"
    );
    hls.stop().await;
    origin.stop().await;
}

#[tokio::test]
async fn shutdown_lets_in_flight_responses_finish() {
    let cache_dir = tempfile::tempdir().expect("tmp");
    let origin = Origin::start(sample_streams(), Duration::from_millis(1500)).await;
    let hls = hls(&proxy_section(&origin.base, cache_dir.path(), ""), "", None).await;
    let token = sign(&claims("demo"));
    let url = hls.url("/streams/demo/180p/seg_004.ts");
    let in_flight = tokio::spawn(async move { fetch(&url, &token).await });
    assert!(
        eventually(Duration::from_secs(10), || async {
            origin.total.load(std::sync::atomic::Ordering::SeqCst) > 0
        })
        .await
    );
    hls.stop().await;
    let (status, body) = in_flight.await.expect("request task");
    assert_eq!(status, 200, "the request that was being served completed");
    assert!(!body.is_empty());
    origin.stop().await;
}
