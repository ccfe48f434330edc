//! Faults around the HLS server's upstream and disk: an origin too slow to answer gets
//! the viewer a 502 when the upstream timeout runs out (not when the origin finally
//! answers) while segments already cached keep playing; and a segment cache on a disk
//! that fills up (a tmpfs of 1 MiB) serves every segment whole without caching the
//! ones that no longer fit, and never leaves a partial file behind as a cache entry.

use crate::common;

use std::time::{Duration, Instant};

use common::{Origin, claims, fetch, get_text, hls, proxy_section, sample_streams, sign};

#[tokio::test]
async fn a_slow_origin_gets_502_at_the_upstream_timeout_and_cached_segments_still_play() {
    let cache_dir = tempfile::tempdir().expect("tmp");
    let origin = Origin::start(sample_streams(), Duration::ZERO).await;
    let hls = hls(
        &proxy_section(
            &origin.base,
            cache_dir.path(),
            "upstream_timeout_seconds = 1\n",
        ),
        "",
        None,
    )
    .await;
    let token = sign(&claims("demo"));
    let cached = hls.url("/streams/demo/360p/seg_000.ts");
    assert_eq!(
        fetch(&cached, &token).await.0,
        200,
        "cached while the origin is quick"
    );
    hls.stop().await;
    origin.stop().await;

    // Restarted (the cache survives) in front of an origin that answers after 30 s.
    let slow = Origin::start(sample_streams(), Duration::from_secs(30)).await;
    let hls2 = common::hls(
        &proxy_section(
            &slow.base,
            cache_dir.path(),
            "upstream_timeout_seconds = 1\n",
        ),
        "",
        None,
    )
    .await;
    let started = Instant::now();
    let resp = reqwest::Client::new()
        .get(hls2.url("/streams/demo/360p/seg_004.ts"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    let waited = started.elapsed();
    assert_eq!(resp.status(), 502);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["error"], "Stream source unavailable");
    assert!(
        waited < Duration::from_secs(30),
        "the timeout, not the origin, ended the wait ({waited:?})"
    );
    // What is in the cache does not need the origin.
    let (status, body) = fetch(&hls2.url("/streams/demo/360p/seg_000.ts"), &token).await;
    assert_eq!(status, 200);
    let on_disk = std::fs::read(sample_streams().join("demo/360p/seg_000.ts")).expect("read");
    assert_eq!(body.as_ref(), on_disk.as_slice());
    hls2.stop().await;
    slow.stop().await;
}

/// A 1 MiB tmpfs, or `None` (with the reason printed) where mounting is not allowed.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().expect("tmp");
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Self { dir }),
            Ok(o) => {
                let why = String::from_utf8_lossy(&o.stderr).into_owned();
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "cannot mount a tmpfs: {why}"
                );
                eprintln!("skipped: cannot mount a tmpfs: {why}");
                None
            }
            Err(e) => {
                assert!(std::env::var("CI").as_deref() != Ok("true"), "mount: {e}");
                eprintln!("skipped: mount: {e}");
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test]
async fn a_full_cache_disk_serves_every_segment_whole_without_caching_it() {
    let Some(disk) = Tmpfs::mount("1m") else {
        return;
    };
    let origin = Origin::start(sample_streams(), Duration::ZERO).await;
    let hls = hls(&proxy_section(&origin.base, disk.dir.path(), ""), "", None).await;
    let token = sign(&claims("demo"));
    let mut served = 0u64;
    for rendition in ["360p", "180p"] {
        for n in 0..6 {
            let rel = format!("demo/{rendition}/seg_{n:03}.ts");
            let on_disk = std::fs::read(sample_streams().join(&rel)).expect("read");
            for _ in 0..2 {
                let (status, body) = fetch(&hls.url(&format!("/streams/{rel}")), &token).await;
                assert_eq!(status, 200, "{rel}");
                assert_eq!(body.as_ref(), on_disk.as_slice(), "{rel} served whole");
            }
            served += on_disk.len() as u64;
        }
    }
    assert!(served > 1024 * 1024, "more than the disk holds was served");
    let metrics = get_text(&hls.url("/metrics")).await;
    let errors: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("streamgate_hls_cache_write_errors_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    assert!(errors > 0, "the full disk was noticed: {metrics}");
    // Whatever is in the cache is a whole segment, never a partial download.
    for entry in streamgate_testkit::files_under(disk.dir.path()) {
        let rel = entry.strip_prefix(disk.dir.path()).expect("inside");
        if rel.extension().is_some_and(|e| e == "ts") {
            let original = std::fs::read(sample_streams().join(rel)).expect("original");
            let cached = std::fs::read(&entry).expect("cached");
            assert_eq!(cached, original, "{} is a partial entry", rel.display());
        }
    }
    hls.stop().await;
    origin.stop().await;
}
