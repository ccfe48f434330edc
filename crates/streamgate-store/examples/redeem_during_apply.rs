//! Redemption latency while a large apply runs: what viewers at the door feel when an
//! operator adds 100,000 codes during an event. Not a test: it prints figures.
//!
//!   cargo run --release -p streamgate-store --example redeem_during_apply -- [URL] [CODES]
//!
//! URL defaults to a fresh SQLite file; pass `postgres://...` (an empty database) for
//! PostgreSQL. Four clients redeem distinct codes back to back, first with nothing else
//! running (baseline), then during `reconcile::apply` of CODES new codes, then during
//! the reference: the same codes made in one write transaction, as the apply did before
//! it staged them. Percentiles are over the redemptions that started in each window.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use streamgate_core::env::Env;
use streamgate_store::codes::{self, NewCodes};
use streamgate_store::reconcile::{self, ApplyOptions};
use streamgate_store::sessions::{self, Viewer};
use streamgate_store::testing::pool;
use streamgate_store::{Store, now_ms};

const CLIENTS: usize = 4;

fn config(big: Option<u64>) -> streamgate_core::Config {
    let mut text = String::from(
        "[hls]\nstream_root = \"streams\"\n\n[[events]]\nid = \"live\"\ntitle = \"Live\"\nstarts_at = 2030-01-01T00:00:00Z\nends_at = 2030-01-02T00:00:00Z\n\n[[events.codes]]\nlabel = \"door\"\ncount = 20000\n",
    );
    if let Some(n) = big {
        text.push_str(&format!(
            "\n[[events]]\nid = \"big\"\ntitle = \"Big\"\nstarts_at = 2030-01-01T00:00:00Z\nends_at = 2030-01-02T00:00:00Z\n\n[[events.codes]]\nlabel = \"tickets\"\ncount = {n}\n"
        ));
    }
    streamgate_core::load::load_text(Path::new("bench.toml"), Some(&text), &Env::default(), None)
        .unwrap_or_else(|r| panic!("{r}"))
        .config
}

/// Redeems codes from `codes` until `stop`, returning (start offset, latency) pairs.
async fn redeemers(
    store: Store,
    codes: Arc<Vec<String>>,
    next: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    t0: Instant,
) -> Vec<(Duration, Duration)> {
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (store, codes, next, stop) = (store.clone(), codes.clone(), next.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(code) = codes.get(i) else { break };
                let started = Instant::now();
                let viewer = Viewer {
                    ip: "192.0.2.1",
                    user_agent: None,
                };
                sessions::redeem(&store, code, viewer, 60_000)
                    .await
                    .expect("redeem");
                out.push((started - t0, started.elapsed()));
            }
            out
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    all
}

fn summary(name: &str, samples: &[(Duration, Duration)], from: Duration, to: Duration) {
    let mut window: Vec<Duration> = samples
        .iter()
        .filter(|(at, _)| *at >= from && *at < to)
        .map(|(_, l)| *l)
        .collect();
    window.sort();
    let pct = |p: f64| {
        window
            .get(((window.len() as f64 - 1.0) * p).round() as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{name}: {} redemptions in {:.2} s, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        window.len(),
        (to - from).as_secs_f64(),
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = tempfile::tempdir().expect("tempdir");
    let url = args
        .next()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let store = Store::connect(&url).await.expect("connect");
    reconcile::apply(&store, &config(None), ApplyOptions::default())
        .await
        .expect("base");
    let door: Vec<String> =
        sqlx::query_scalar("SELECT code FROM access_codes WHERE event_id = 'live'")
            .fetch_all(pool(&store))
            .await
            .expect("codes");
    let (codes, next, stop) = (
        Arc::new(door),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let t0 = Instant::now();
    let clients = tokio::spawn(redeemers(store.clone(), codes, next, stop.clone(), t0));

    tokio::time::sleep(Duration::from_secs(2)).await;
    let a0 = t0.elapsed();
    reconcile::apply(&store, &config(Some(n)), ApplyOptions::default())
        .await
        .expect("apply");
    let a1 = t0.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Reference: the same number of codes made inside one write transaction.
    let r0 = t0.elapsed();
    let mut tx = store.begin_write().await.expect("tx");
    let new = NewCodes {
        event_id: "big",
        label: Some("reference"),
        batch: None,
        suspended: false,
        expires_at: now_ms() + 86_400_000,
        count: n,
    };
    codes::insert(&mut tx, &new, &mut |_| {})
        .await
        .expect("insert");
    tx.commit().await.expect("commit");
    let r1 = t0.elapsed();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    let samples = clients.await.expect("clients");

    println!(
        "{url}: apply of {n} codes took {:.2} s; the one-transaction reference {:.2} s",
        (a1 - a0).as_secs_f64(),
        (r1 - r0).as_secs_f64()
    );
    summary(
        "baseline (nothing else running)",
        &samples,
        Duration::ZERO,
        a0,
    );
    summary("during the apply", &samples, a0, a1);
    summary("during the one-transaction reference", &samples, r0, r1);
    store.close().await;
}
