//! Redemptions per second with distinct codes, on SQLite and PostgreSQL, through the
//! real HTTP API (the platform and the load generator share this process and the
//! machine's cores). Reference, measured in the same run against the same server: the
//! same number of requests refused at the edge (a malformed code answers 400 without
//! touching the database), which is the HTTP + JSON floor every redemption pays.
//!
//!   cargo run --release -p streamgate-platform --example bench_redeem [CODES] [CONCURRENCY]
//!
//! Not a test: it prints figures and asserts nothing about speed.

use std::path::Path;
use std::time::Instant;

use futures::stream::{self, StreamExt};
use serde_json::json;
use streamgate_core::env::Env;
use streamgate_core::{Role, load::load_text};
use streamgate_platform::{Platform, PlatformOptions};
use streamgate_testkit::TestDb;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let codes: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(4000);
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(32);
    println!("== {codes} distinct codes, {concurrency} concurrent clients");
    let mut dbs = vec![TestDb::sqlite()];
    dbs.extend(TestDb::postgres().await);
    for db in dbs {
        run(&db, codes, concurrency).await;
        db.cleanup().await;
    }
}

async fn run(db: &TestDb, codes: usize, concurrency: usize) {
    let text = format!(
        "[platform]\nlisten = \"127.0.0.1:0\"\n[platform.rate_limits]\nvalidate_per_minute = 100000000\n\
         [hls]\nstream_root = \"streams\"\npublic_url = \"http://127.0.0.1:9\"\n\
         [[events]]\nid = \"bench\"\ntitle = \"Bench\"\nstarts_at = 2026-01-01T00:00:00Z\n\
         ends_at = 2099-01-01T00:00:00Z\n[[events.codes]]\nlabel = \"t\"\ncount = {codes}\n"
    );
    let env = Env::from_pairs([
        ("DATABASE_URL", db.url.as_str()),
        (
            "PLAYBACK_SIGNING_SECRET",
            "bench-signing-secret-0123456789abcdef",
        ),
        ("INTERNAL_API_KEY", "bench-internal-key-0123456"),
        (
            "ADMIN_PASSWORD_HASH",
            "$2b$12$C6UzMDM.H6dfI/f/IKxGhuS8y6ZkzqDvWqqbDNrXxZ6YQ1Y6F6H5y",
        ),
    ]);
    let loaded = load_text(
        Path::new("bench.toml"),
        Some(&text),
        &env,
        Some(Role::Platform),
    )
    .unwrap_or_else(|r| panic!("{r}"));
    let platform = Platform::build(
        loaded.config,
        &loaded.secrets,
        PlatformOptions {
            watch: None,
            env,
            prune: false,
            config_file: None,
        },
    )
    .await
    .expect("platform");
    let base = format!("http://{}", platform.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(platform.run(async {
        let _ = stopped.await;
    }));

    streamgate_testkit::sqlx::any::install_default_drivers();
    let pool = streamgate_testkit::sqlx::AnyPool::connect(&db.url)
        .await
        .expect("pool");
    let all: Vec<String> = streamgate_testkit::sqlx::query("SELECT code FROM access_codes")
        .fetch_all(&pool)
        .await
        .expect("codes")
        .iter()
        .map(|r| streamgate_testkit::sqlx::Row::get(r, "code"))
        .collect();
    pool.close().await;

    let client = reqwest::Client::new();
    let fire = |bodies: Vec<serde_json::Value>| {
        let client = client.clone();
        let url = format!("{base}/api/tokens/validate");
        async move {
            let started = Instant::now();
            let statuses: Vec<u16> = stream::iter(bodies)
                .map(|body| {
                    let req = client.post(&url).json(&body).send();
                    async move { req.await.map(|r| r.status().as_u16()).unwrap_or(0) }
                })
                .buffer_unordered(concurrency)
                .collect()
                .await;
            (started.elapsed(), statuses)
        }
    };
    // Warm up connections and caches.
    let _ = fire((0..200).map(|_| json!({"code": "-"})).collect()).await;
    let (reference, ref_statuses) =
        fire((0..all.len()).map(|_| json!({"code": "-"})).collect()).await;
    assert!(ref_statuses.iter().all(|s| *s == 400));
    let (took, statuses) = fire(all.iter().map(|c| json!({ "code": c })).collect()).await;
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(
        ok,
        all.len(),
        "every distinct code redeems once: {:?}",
        &statuses[..10]
    );
    let rate = ok as f64 / took.as_secs_f64();
    let ref_rate = all.len() as f64 / reference.as_secs_f64();
    println!(
        "{}: {rate:.0} redemptions/s ({ok} in {took:.2?}); reference (400 at the edge): {ref_rate:.0} req/s; redemption/reference = {:.2}",
        db.name,
        rate / ref_rate
    );
    let _ = stop.send(());
    let _ = server.await;
}
