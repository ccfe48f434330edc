//! A steady load of simulated viewers against a running `streamgate up`, watching the
//! process's memory and file descriptors (run by `scripts/soak.sh`, which starts the
//! server and passes its pid).
//!
//! Each viewer loops: redeem its code (`/api/tokens/validate`), fetch the master
//! playlist, a media playlist and two segments through the HLS server with the token in
//! `Authorization`, send a heartbeat, release; then waits so that the whole crowd keeps
//! a steady rate. Every answer must be the expected one: any other status is an error.
//! Every `--sample` seconds it prints requests so far, errors, RSS and open file
//! descriptors of `--pid`, and with `--hls URL` the HLS server's two bounded
//! per-token structures (remembered ended sessions, memoised tokens), which explain
//! where memory goes while they fill.
//!
//! At the end it judges the curves: memory is flat when the mean RSS of the last third
//! of the samples is within `--rss-slack` (default 20 %) of the middle third's (the
//! first third is warm-up: caches filling, pools growing), and descriptors do not grow
//! when the last sample has at most `--fd-slack` more than the middle third's maximum.
//! Exit 1 on any error or growth.
//!
//! cargo run --release -p streamgate-cli --example soak -- --platform URL --pid PID \
//!     --codes c1,c2,... [--seconds 600] [--rate 20] [--sample 10]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[derive(Debug)]
struct Options {
    platform: String,
    hls: Option<String>,
    pid: u32,
    codes: Vec<String>,
    seconds: u64,
    rate: f64,
    sample: u64,
    rss_slack: f64,
    fd_slack: u64,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        platform: String::new(),
        hls: None,
        pid: 0,
        codes: Vec::new(),
        seconds: 600,
        rate: 20.0,
        sample: 10,
        rss_slack: 0.20,
        fd_slack: 8,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--platform" => o.platform = value.trim_end_matches('/').to_owned(),
            "--hls" => o.hls = Some(value.trim_end_matches('/').to_owned()),
            "--pid" => o.pid = value.parse().map_err(|e| bad(&e))?,
            "--codes" => o.codes = value.split(',').map(str::to_owned).collect(),
            "--seconds" => o.seconds = value.parse().map_err(|e| bad(&e))?,
            "--rate" => o.rate = value.parse().map_err(|e| bad(&e))?,
            "--sample" => o.sample = value.parse().map_err(|e| bad(&e))?,
            "--rss-slack" => o.rss_slack = value.parse().map_err(|e| bad(&e))?,
            "--fd-slack" => o.fd_slack = value.parse().map_err(|e| bad(&e))?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if o.platform.is_empty() || o.pid == 0 || o.codes.is_empty() {
        return Err("--platform, --pid and --codes are required".into());
    }
    Ok(o)
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    cycles: AtomicU64,
    errors: AtomicU64,
}

/// One viewer's cycle; the first unexpected answer is the error.
async fn cycle(
    client: &reqwest::Client,
    platform: &str,
    code: &str,
    c: &Counters,
) -> Result<(), String> {
    let count = || c.requests.fetch_add(1, Ordering::Relaxed);
    let resp = client
        .post(format!("{platform}/api/tokens/validate"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .map_err(|e| format!("validate: {e}"))?;
    count();
    if resp.status() != 200 {
        return Err(format!("validate: {}", resp.status()));
    }
    let body: Value = resp
        .json()
        .await
        .map_err(|e| format!("validate body: {e}"))?;
    let token = body["playbackToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let base = body["playbackBaseUrl"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let master = format!("{base}{}", body["streamPath"].as_str().unwrap_or_default());
    let dir = master
        .rsplit_once('/')
        .map(|(d, _)| d.to_owned())
        .unwrap_or_default();
    for url in [
        master.clone(),
        format!("{dir}/360p/index.m3u8"),
        format!("{dir}/360p/seg_000.ts"),
        format!("{dir}/360p/seg_001.ts"),
    ] {
        let resp = client
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        count();
        if resp.status() != 200 {
            return Err(format!("{url}: {}", resp.status()));
        }
        resp.bytes().await.map_err(|e| format!("{url} body: {e}"))?;
    }
    for (path, want) in [("heartbeat", 200), ("release", 200)] {
        let resp = client
            .post(format!("{platform}/api/playback/{path}"))
            .bearer_auth(&token)
            .json(&json!({}))
            .send()
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        count();
        if resp.status() != want {
            return Err(format!("{path}: {}", resp.status()));
        }
    }
    c.cycles.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// RSS in KiB and open descriptors of `pid`.
fn sample(pid: u32) -> (u64, u64) {
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count() as u64);
    (rss, fds)
}

/// The HLS server's `streamgate_hls_revocations` and `streamgate_hls_memoised_tokens`.
async fn hls_sizes(client: &reqwest::Client, hls: Option<&str>) -> (String, String) {
    let Some(hls) = hls else {
        return ("-".into(), "-".into());
    };
    let text = match client.get(format!("{hls}/metrics")).send().await {
        Ok(resp) => resp.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
            .unwrap_or("?")
            .trim()
            .to_owned()
    };
    (
        value("streamgate_hls_revocations"),
        value("streamgate_hls_memoised_tokens"),
    )
}

fn mean(values: &[u64]) -> f64 {
    values.iter().sum::<u64>() as f64 / values.len().max(1) as f64
}

#[tokio::main]
async fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("soak: {e}");
            std::process::exit(2);
        }
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    let counters = Arc::new(Counters::default());
    let until = Instant::now() + Duration::from_secs(o.seconds);
    // Each viewer starts a cycle every `viewers / rate` seconds: the crowd as a whole
    // starts `rate` cycles a second.
    let period = Duration::from_secs_f64(o.codes.len() as f64 / o.rate.max(0.001));
    let mut viewers = Vec::new();
    for (i, code) in o.codes.iter().cloned().enumerate() {
        let (client, counters, platform) = (client.clone(), counters.clone(), o.platform.clone());
        let offset = period.mul_f64(i as f64 / o.codes.len() as f64);
        viewers.push(tokio::spawn(async move {
            tokio::time::sleep(offset).await;
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while Instant::now() < until {
                tick.tick().await;
                if let Err(e) = cycle(&client, &platform, &code, &counters).await {
                    counters.errors.fetch_add(1, Ordering::Relaxed);
                    eprintln!("soak: error: {e}");
                }
            }
        }));
    }
    let started = Instant::now();
    let mut samples: Vec<(u64, u64)> = Vec::new();
    println!(
        "{:>6}  {:>9}  {:>7}  {:>6}  {:>9}  {:>4}",
        "t(s)", "requests", "cycles", "errors", "rss(KiB)", "fds"
    );
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(o.sample).min(until - Instant::now())).await;
        let (rss, fds) = sample(o.pid);
        samples.push((rss, fds));
        let (revocations, memoised) = hls_sizes(&client, o.hls.as_deref()).await;
        println!(
            "{:>6}  {:>9}  {:>7}  {:>6}  {:>9}  {:>4}  {:>11}  {:>8}",
            started.elapsed().as_secs(),
            counters.requests.load(Ordering::Relaxed),
            counters.cycles.load(Ordering::Relaxed),
            counters.errors.load(Ordering::Relaxed),
            rss,
            fds,
            revocations,
            memoised
        );
    }
    for v in viewers {
        let _ = v.await;
    }
    let requests = counters.requests.load(Ordering::Relaxed);
    let errors = counters.errors.load(Ordering::Relaxed);
    let third = samples.len() / 3;
    let mut verdict = Vec::new();
    if errors > 0 {
        verdict.push(format!("{errors} errors"));
    }
    if third >= 1 {
        let rss: Vec<u64> = samples.iter().map(|s| s.0).collect();
        let fds: Vec<u64> = samples.iter().map(|s| s.1).collect();
        let (middle, last) = (mean(&rss[third..2 * third]), mean(&rss[2 * third..]));
        let growth = (last - middle) / middle.max(1.0);
        println!(
            "soak: RSS middle third {:.0} KiB, last third {:.0} KiB ({:+.1} %)",
            middle,
            last,
            growth * 100.0
        );
        if growth > o.rss_slack {
            verdict.push(format!("memory grew {:.1} %", growth * 100.0));
        }
        let fd_middle = fds[third..2 * third].iter().copied().max().unwrap_or(0);
        let fd_last = fds.last().copied().unwrap_or(0);
        println!("soak: descriptors middle third at most {fd_middle}, at the end {fd_last}");
        if fd_last > fd_middle + o.fd_slack {
            verdict.push(format!("descriptors grew from {fd_middle} to {fd_last}"));
        }
    } else {
        verdict.push("too short to judge the curves (need 3 samples)".into());
    }
    println!(
        "soak: {requests} requests, {} cycles in {} s, {errors} errors",
        counters.cycles.load(Ordering::Relaxed),
        started.elapsed().as_secs()
    );
    if verdict.is_empty() {
        println!("soak: PASS");
    } else {
        println!("soak: FAIL: {}", verdict.join("; "));
        std::process::exit(1);
    }
}
