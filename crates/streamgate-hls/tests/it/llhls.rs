//! LL-HLS through StreamGate: the delivery directives `_HLS_msn`, `_HLS_part` and
//! `_HLS_skip` (and nothing else the viewer sent, never `__token`) reach the origin;
//! they are no part of a segment's cache key; a blocking reload held by the origin for
//! 20 s passes although `upstream_timeout_seconds` is 1 (the bound is separate); and in
//! local mode a blocking reload is answered when the requested segment appears (and at
//! once for a master playlist, which never gains one).

use crate::common;

use std::time::{Duration, Instant};

use common::*;

const LL: &str = "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n\
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.5,CAN-SKIP-UNTIL=12.0\n\
#EXT-X-PART-INF:PART-TARGET=0.5\n#EXT-X-MEDIA-SEQUENCE:0\n\
#EXTINF:2,\ns0.m4s\n#EXTINF:2,\ns1.m4s\n\
#EXT-X-PART:DURATION=0.5,URI=\"p2.0.m4s\",INDEPENDENT=YES\n\
#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p2.1.m4s\"\n";

fn ll_origin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("ll")).expect("mkdir");
    std::fs::write(dir.path().join("ll/index.m3u8"), LL).expect("write");
    std::fs::write(dir.path().join("ll/s1.m4s"), b"segment one").expect("write");
    dir
}

#[tokio::test]
async fn delivery_directives_reach_the_origin_and_nothing_else_does() {
    let upstream = ll_origin_dir();
    let origin = Origin::start(upstream.path().to_owned(), Duration::ZERO).await;
    let cache = tempfile::tempdir().expect("tmp");
    let hls = hls(&proxy_section(&origin.base, cache.path(), ""), "", None).await;
    let token = sign(&claims("ll"));
    let url = format!(
        "{}?_HLS_skip=YES&utm=x&_HLS_msn=2&_HLS_part=0&__token={token}",
        hls.url("/streams/ll/index.m3u8")
    );
    let (status, body) = fetch(&url, &token).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("p2.0.m4s"));
    let asked: Vec<_> = origin
        .requests()
        .into_iter()
        .filter(|r| r.path == "ll/index.m3u8")
        .collect();
    assert_eq!(asked.len(), 1);
    assert_eq!(
        asked[0].query.as_deref(),
        Some("_HLS_msn=2&_HLS_part=0&_HLS_skip=YES")
    );
    // A reload without directives asks the origin without a query.
    fetch(&hls.url("/streams/ll/index.m3u8"), &token).await;
    let last = origin.requests().pop().expect("request");
    assert_eq!((last.path.as_str(), last.query), ("ll/index.m3u8", None));

    // Directives on a segment are not forwarded and are not part of its cache key.
    for q in ["?_HLS_msn=1", "?_HLS_msn=2&_HLS_part=1", ""] {
        let (status, body) = fetch(&hls.url(&format!("/streams/ll/s1.m4s{q}")), &token).await;
        assert_eq!((status, body.as_ref()), (200, b"segment one".as_slice()));
    }
    assert_eq!(origin.hits("ll/s1.m4s"), 1);
    assert!(
        origin
            .requests()
            .iter()
            .filter(|r| r.path == "ll/s1.m4s")
            .all(|r| r.query.is_none())
    );
    hls.stop().await;
    origin.stop().await;
}

#[tokio::test]
async fn a_blocking_reload_held_twenty_seconds_passes_under_its_own_bound() {
    let upstream = ll_origin_dir();
    let origin = Origin::start(upstream.path().to_owned(), Duration::ZERO).await;
    *origin.hold_blocking.lock().expect("hold") = Duration::from_secs(20);
    let cache = tempfile::tempdir().expect("tmp");
    let section = proxy_section(
        &origin.base,
        cache.path(),
        "upstream_timeout_seconds = 1\nblocking_reload_timeout_seconds = 30\n",
    );
    let hls = hls(&section, "", None).await;
    let token = sign(&claims("ll"));
    let started = Instant::now();
    let (status, body) = fetch(
        &hls.url("/streams/ll/index.m3u8?_HLS_msn=3&_HLS_part=0"),
        &token,
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(started.elapsed() >= Duration::from_secs(20), "it was held");
    hls.stop().await;
    origin.stop().await;

    // The same hold on an ordinary request is past upstream_timeout_seconds: 502.
    let slow = Origin::start(upstream.path().to_owned(), Duration::from_secs(3)).await;
    let cache = tempfile::tempdir().expect("tmp");
    let section = proxy_section(
        &slow.base,
        cache.path(),
        "upstream_timeout_seconds = 1\nblocking_reload_timeout_seconds = 30\n",
    );
    let hls = common::hls(&section, "", None).await;
    assert_eq!(
        fetch(&hls.url("/streams/ll/index.m3u8"), &token).await.0,
        502
    );
    hls.stop().await;
    slow.stop().await;
}

/// A master playlist lists variants, never segments: a `_HLS_msn` on it has nothing to
/// wait for and is answered at once, not after the whole bound (ten minutes here, so a held
/// request fails the test by its timeout rather than by a measured time).
#[tokio::test]
async fn a_blocking_reload_of_a_local_master_playlist_is_answered_at_once() {
    let root = ll_origin_dir();
    std::fs::write(
        root.path().join("ll/master.m3u8"),
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=500000\nindex.m3u8\n",
    )
    .expect("write");
    let section = format!(
        "{}blocking_reload_timeout_seconds = 600\n",
        local_section(root.path())
    );
    let hls = hls(&section, "", None).await;
    let token = sign(&claims("ll"));
    let answered = tokio::time::timeout(
        Duration::from_secs(60),
        fetch(&hls.url("/streams/ll/master.m3u8?_HLS_msn=1"), &token),
    )
    .await;
    let (status, body) = answered.expect("the reload of a master playlist was held");
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("#EXT-X-STREAM-INF"));
    hls.stop().await;
}

#[tokio::test]
async fn local_blocking_reloads_wait_for_the_segment_or_the_bound() {
    let root = ll_origin_dir();
    let playlist = root.path().join("ll/index.m3u8");
    let section = format!(
        "{}blocking_reload_timeout_seconds = 2\n",
        local_section(root.path())
    );
    let hls = hls(&section, "", None).await;
    let token = sign(&claims("ll"));

    // Part 1 of segment 2 does not exist yet: the reload waits for it.
    let url = hls.url("/streams/ll/index.m3u8?_HLS_msn=2&_HLS_part=1");
    let t = token.clone();
    let waiting = tokio::spawn(async move { fetch(&url, &t).await });
    std::fs::write(
        &playlist,
        LL.replace(
            "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p2.1.m4s\"\n",
            "#EXT-X-PART:DURATION=0.5,URI=\"p2.1.m4s\"\n",
        ),
    )
    .expect("write");
    let (status, body) = waiting.await.expect("task");
    assert_eq!(status, 200);
    assert!(
        String::from_utf8_lossy(&body).contains("#EXT-X-PART:DURATION=0.5,URI=\"p2.1.m4s\""),
        "answered before the part existed"
    );

    // Segment 9 never comes: after the bound the current playlist is sent.
    let started = Instant::now();
    let (status, body) = fetch(&hls.url("/streams/ll/index.m3u8?_HLS_msn=9"), &token).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("p2.1.m4s"));
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "it waited for the bound"
    );
    hls.stop().await;
}
