//! A measurement, not a check (ignored by default): ffmpeg encodes a live stream (2 s
//! segments) into a real local origin, StreamGate proxies it, 20 simulated viewers
//! play it for 60 s (reload the playlist every second, fetch each new segment), and a
//! probe polls the playlist at the origin and through StreamGate every 20 ms. Prints
//! how much later a segment is listed and fetched through StreamGate than at the
//! origin, the segment cache's hit ratio and how many segment requests reached the
//! origin.
//!
//! `cargo test -p streamgate-hls --test live_load -- --ignored --nocapture`
//! (`LIVE_LOAD_SECONDS` and `LIVE_LOAD_VIEWERS` change the run).

use crate::common;

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

fn names(playlist: &str) -> Vec<String> {
    playlist
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

type FirstSeen = Arc<Mutex<HashMap<String, Instant>>>;

/// Polls `url` every 20 ms until `until`, noting when each segment name first appears
/// and, once it does, how long fetching it took.
async fn probe(
    url: String,
    token: Option<String>,
    until: Instant,
    seen: FirstSeen,
) -> Vec<Duration> {
    let client = reqwest::Client::new();
    let base = url
        .rsplit_once('/')
        .map(|(b, _)| b.to_owned())
        .unwrap_or_default();
    let mut fetch_times = Vec::new();
    while Instant::now() < until {
        let mut req = client.get(&url);
        if let Some(t) = &token {
            req = req.bearer_auth(t);
        }
        if let Ok(resp) = req.send().await
            && let Ok(text) = resp.text().await
        {
            for n in names(&text) {
                let new = match seen.lock().expect("seen").entry(n.clone()) {
                    Entry::Vacant(v) => {
                        v.insert(Instant::now());
                        true
                    }
                    Entry::Occupied(_) => false,
                };
                if new {
                    let started = Instant::now();
                    let mut r = client.get(format!("{base}/{n}"));
                    if let Some(t) = &token {
                        r = r.bearer_auth(t);
                    }
                    if let Ok(resp) = r.send().await
                        && resp.bytes().await.is_ok()
                    {
                        fetch_times.push(started.elapsed());
                    }
                }
            }
        }
        // The probe's sampling interval: part of the measurement, not a wait.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    fetch_times
}

/// One viewer: reloads the playlist every second and fetches every segment it has not
/// fetched yet. Returns how many segment requests it made.
async fn viewer(url: String, token: String, until: Instant) -> u64 {
    let client = reqwest::Client::new();
    let base = url
        .rsplit_once('/')
        .map(|(b, _)| b.to_owned())
        .unwrap_or_default();
    let mut done: HashSet<String> = HashSet::new();
    let mut requests = 0;
    while Instant::now() < until {
        if let Ok(resp) = client.get(&url).bearer_auth(&token).send().await
            && let Ok(text) = resp.text().await
        {
            for n in names(&text) {
                if done.insert(n.clone()) {
                    requests += 1;
                    let ok = client
                        .get(format!("{base}/{n}"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .map(|r| r.status() == 200);
                    assert!(matches!(ok, Ok(true)), "{n} failed");
                }
            }
        }
        // A player's reload interval: part of the load being measured, not a wait.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    requests
}

fn mean_ms(d: &[Duration]) -> f64 {
    if d.is_empty() {
        return f64::NAN;
    }
    d.iter().map(Duration::as_secs_f64).sum::<f64>() * 1000.0 / d.len() as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a 60 s measurement; run with --ignored --nocapture"]
async fn live_run_with_twenty_viewers() {
    let seconds = env_u64("LIVE_LOAD_SECONDS", 60);
    let viewers = env_u64("LIVE_LOAD_VIEWERS", 20);
    let upstream = tempfile::tempdir().expect("tmp");
    let dir = upstream.path().join("live");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut encoder = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-re"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25"])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-b:v", "800k"])
        .args(["-g", "50", "-keyint_min", "50", "-sc_threshold", "0"])
        .args(["-f", "hls", "-hls_time", "2", "-hls_list_size", "6"])
        .args(["-hls_flags", "temp_file+delete_segments"])
        .arg(dir.join("index.m3u8"))
        .stdout(Stdio::null())
        .spawn()
        .expect("ffmpeg");
    let origin = Origin::start(upstream.path().to_owned(), Duration::ZERO).await;
    let cache = tempfile::tempdir().expect("tmp");
    let events = "[[events]]\nid = \"live\"\ntitle = \"Live\"\n\
        starts_at = 2026-01-01T00:00:00Z\nends_at = 2099-01-01T00:00:00Z\n";
    let hls = hls(&proxy_section(&origin.base, cache.path(), ""), events, None).await;
    let mut long = claims("live");
    long.exp = now() + 3600;
    let token = sign(&long);
    assert!(
        eventually(Duration::from_secs(30), || async {
            dir.join("index.m3u8").is_file()
        })
        .await
    );
    let until = Instant::now() + Duration::from_secs(seconds);
    let at_origin: FirstSeen = Arc::default();
    let via_gate: FirstSeen = Arc::default();
    let origin_probe = tokio::spawn(probe(
        format!("{}/live/index.m3u8", origin.base),
        None,
        until,
        at_origin.clone(),
    ));
    let gate_probe = tokio::spawn(probe(
        hls.url("/streams/live/index.m3u8"),
        Some(token.clone()),
        until,
        via_gate.clone(),
    ));
    let tasks: Vec<_> = (0..viewers)
        .map(|_| {
            tokio::spawn(viewer(
                hls.url("/streams/live/index.m3u8"),
                token.clone(),
                until,
            ))
        })
        .collect();
    let mut viewer_requests = 0;
    for t in tasks {
        viewer_requests += t.await.expect("viewer");
    }
    let origin_fetch = origin_probe.await.expect("probe");
    let gate_fetch = gate_probe.await.expect("probe");
    let _ = encoder.kill();
    let _ = encoder.wait();

    let (at_origin, via_gate) = (
        at_origin.lock().expect("a").clone(),
        via_gate.lock().expect("b").clone(),
    );
    let mut delays: Vec<f64> = at_origin
        .iter()
        .filter_map(|(n, t)| Some(via_gate.get(n)?.duration_since(*t).as_secs_f64() * 1000.0))
        .collect();
    delays.sort_by(f64::total_cmp);
    let stats = hls.state.source.cache().expect("cache").stats();
    // The origin probe's own segment fetches are not StreamGate's.
    let segment_origin_requests = origin
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(".ts"))
        .count()
        - origin_fetch.len();
    println!("live run: {seconds} s, {viewers} viewers, 2 s segments");
    println!(
        "listing delay through StreamGate vs origin (probe every 20 ms, {} segments): median {:.0} ms, max {:.0} ms",
        delays.len(),
        delays.get(delays.len() / 2).copied().unwrap_or(f64::NAN),
        delays.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "first fetch of a new segment: origin {:.1} ms, StreamGate {:.1} ms (mean)",
        mean_ms(&origin_fetch),
        mean_ms(&gate_fetch)
    );
    println!(
        "segment cache: {} hits, {} misses, hit ratio {:.1}%",
        stats.hits,
        stats.misses,
        100.0 * stats.hits as f64 / (stats.hits + stats.misses).max(1) as f64
    );
    println!(
        "viewer segment requests {viewer_requests} (+ probe {}), segment requests at the origin {segment_origin_requests} (downloads and re-validations)",
        gate_fetch.len()
    );
    hls.stop().await;
    origin.stop().await;
}
