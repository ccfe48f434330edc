//! How long a revocation made at the platform takes to be refused at an HLS edge, in
//! push mode (the edge's request waits at the platform) and in poll mode, over N
//! revocations each:
//!
//!   cargo run --release -p streamgate-hls --example revocation_latency [N] [POLL_MS]
//!
//! Each round redeems a fresh code, checks the edge admits its token, revokes the code
//! through the store call the admin API makes (and wakes the feed as it does), and
//! times until the edge answers 403
//! (polling the edge every millisecond). Prints p50, p99 and max per mode. Everything
//! runs on 127.0.0.1 against a temporary SQLite database.

#[path = "../tests/it/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let poll_ms: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let events = format!(
        "[[events]]\nid = \"demo\"\ntitle = \"Demo\"\nstarts_at = 2026-01-01T00:00:00Z\n\
         ends_at = 2099-01-01T00:00:00Z\n[[events.codes]]\nlabel = \"t\"\ncount = {}\n",
        2 * n
    );
    let db = TestDb::sqlite();
    let platform = platform(&db, &events).await;
    let codes = codes(&db, "demo").await;
    println!("{n} revocations per mode; poll interval {poll_ms} ms");
    println!(
        "{:<6} {:>9} {:>9} {:>9}",
        "mode", "p50 ms", "p99 ms", "max ms"
    );
    for (mode, section, batch) in [
        ("push", String::new(), &codes[..n]),
        (
            "poll",
            format!("revocation_push = false\nrevocation_poll_interval_ms = {poll_ms}\n"),
            &codes[n..],
        ),
    ] {
        let hls = hls(
            &format!("{}{section}", local_section(&sample_streams())),
            "",
            Some(&platform.base),
        )
        .await;
        let url = hls.url("/streams/demo/index.m3u8");
        let client = reqwest::Client::new();
        let mut times = Vec::with_capacity(n);
        for (round, (id, code)) in batch.iter().enumerate() {
            let token = redeem(&platform, code).await["playbackToken"]
                .as_str()
                .expect("token")
                .to_owned();
            assert_eq!(get_status(&url, Some(&token)).await, 200);
            // Revocations land at spread-out moments of the poll cycle, not always just
            // after a poll (which would measure the whole interval every time).
            let spread = Duration::from_millis(poll_ms * ((round as u64 * 37) % 100) / 100);
            tokio::time::sleep(spread).await;
            let started = Instant::now();
            streamgate_store::codes::set_revoked(
                &platform.state.store,
                &id.as_str().into(),
                true,
                "bench",
            )
            .await
            .expect("revoke");
            // What the admin API does after a revocation: wake the feed's waiting
            // requests at once (other processes are woken by PostgreSQL NOTIFY).
            platform.state.feed.bump();
            loop {
                let status = client
                    .get(&url)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("get")
                    .status();
                if status == 403 {
                    break;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(120),
                    "never refused"
                );
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let pick = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
        println!(
            "{mode:<6} {:>9.1} {:>9.1} {:>9.1}",
            pick(0.5),
            pick(0.99),
            times[times.len() - 1]
        );
        hls.stop().await;
    }
    platform.stop().await;
}
