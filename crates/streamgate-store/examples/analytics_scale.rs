//! How long the audience analytics take for a big event, and what a viewer-hour costs
//! in storage, on SQLite and PostgreSQL.
//!
//!   cargo run -p streamgate-store --example analytics_scale [SESSIONS] [HOURS]
//!
//! Fills a fresh database (the testkit's: a temporary SQLite file, a new PostgreSQL
//! database) with one event, SESSIONS/2 codes and SESSIONS sessions (default 100,000)
//! spread over HOURS (default 10): two sessions per code, most released, some timed
//! out, some abandoned, some live now, with browser-sized user agents. Then times the
//! analytics query (the `GET /api/admin/events/{id}/analytics` work) before and after
//! sealing (which the platform does every minute), the seals, the per-code export
//! query and the per-event viewer gauge, and prints the bytes the sessions take
//! (table and indexes) per hour watched. Not a test: it asserts nothing about
//! speed. Debug builds compile SQLite's C code unoptimised, so SQLite figures from a
//! debug build are an upper bound.

use std::time::{Duration, Instant};

use rand::Rng;
use streamgate_store::analytics::{self, Clock};
use streamgate_store::testing::pool;
use streamgate_store::{Backend, Store, now_ms};
use streamgate_testkit::TestDb;

const UA: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15";

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let sessions: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let hours: i64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    println!("== one event, {sessions} sessions over {hours} hours");
    for db in TestDb::all().await {
        run(&db, sessions, hours).await;
        db.cleanup().await;
    }
}

async fn run(db: &TestDb, sessions: usize, hours: i64) {
    let store = Store::connect(&db.url).await.expect("connect");
    let big = streamgate_core::EventId::from("big");
    let now = now_ms();
    let t0 = now - hours * 3_600_000;
    exec(
        &store,
        format!(
            "INSERT INTO events (id, title, description, starts_at, ends_at, access_window_hours, \
             is_active, is_archived, managed_by, created_at, updated_at) \
             VALUES ('big', 'Big', '', {t0}, {now}, 48, 1, 0, 'api', {t0}, {t0})"
        ),
    )
    .await;
    let codes = sessions.div_ceil(2);
    for chunk in (0..codes).collect::<Vec<_>>().chunks(1000) {
        let values: Vec<String> = chunk
            .iter()
            .map(|i| format!("('c{i}', 'CODE{i:08}', 'big', 'tickets', {now}, {t0}, {t0})"))
            .collect();
        exec(
            &store,
            format!(
                "INSERT INTO access_codes (id, code, event_id, label, expires_at, created_at, redeemed_at) VALUES {}",
                values.join(",")
            ),
        )
        .await;
    }
    let before = sessions_bytes(&store).await;
    let started = Instant::now();
    insert_sessions(&store, sessions, t0, now).await;
    let after = sessions_bytes(&store).await;
    println!(
        "[{}] inserted in {:.1} s",
        db.name,
        started.elapsed().as_secs_f64()
    );
    let clock = Clock {
        now,
        timeout_ms: 60_000,
    };
    let (unsealed, _) = best_of(1, || analytics::event_analytics(&store, &big, clock)).await;
    println!(
        "[{}] analytics before any sealing (every session derived): {:.0} ms",
        db.name,
        ms(unsealed.0)
    );
    let started = Instant::now();
    analytics::seal(&store, clock).await.expect("seal");
    println!(
        "[{}] first seal of {hours} hours: {:.0} ms",
        db.name,
        ms(started.elapsed())
    );
    let next = Clock {
        now: now + 60_000,
        ..clock
    };
    let started = Instant::now();
    analytics::seal(&store, next).await.expect("seal");
    println!(
        "[{}] one more minute sealed (what each instance does every minute): {:.0} ms",
        db.name,
        ms(started.elapsed())
    );
    let (took, figures) = best_of(5, || analytics::event_analytics(&store, &big, clock)).await;
    println!(
        "[{}] analytics (sealed): best {:.0} ms, median {:.0} ms (peak {}, unique {}, {} points, {:.0} viewer-hours)",
        db.name,
        ms(took.0),
        ms(took.1),
        figures.peak_viewers,
        figures.unique_viewers,
        figures.timeline.len(),
        figures.watch_ms as f64 / 3_600_000.0
    );
    let (took, rows) = best_of(3, || analytics::code_stats(&store, &big, clock)).await;
    println!(
        "[{}] per-code export query: best {:.0} ms, median {:.0} ms ({} codes)",
        db.name,
        ms(took.0),
        ms(took.1),
        rows.len()
    );
    let (took, _) = best_of(5, || analytics::viewers_by_event(&store, clock)).await;
    println!(
        "[{}] viewers per event (metrics): best {:.1} ms",
        db.name,
        ms(took.0)
    );
    let bytes = after - before;
    let viewer_hours = figures.watch_ms as f64 / 3_600_000.0;
    println!(
        "[{}] storage: {:.1} MB for the sessions, {:.0} bytes per session, {:.0} bytes per viewer-hour",
        db.name,
        bytes as f64 / 1e6,
        bytes as f64 / sessions as f64,
        bytes as f64 / viewer_hours
    );
    store.close().await;
}

/// Two sessions per code, one after the other: the first always ended, the second
/// released (most), timed out, abandoned, or live now.
async fn insert_sessions(store: &Store, sessions: usize, t0: i64, now: i64) {
    let mut rng = rand::rng();
    let span = now - t0;
    let mut rows = Vec::with_capacity(1000);
    for i in 0..sessions {
        let code = i / 2;
        let second = i % 2 == 1;
        let start = t0 + rng.random_range(0..span);
        let length = rng.random_range(60_000..=7_200_000_i64);
        let end = (start + length).min(now);
        let kind = rng.random_range(0..100);
        let (last, ended, reason) = match (second, kind) {
            (true, 0..5) => (now - 10_000, "NULL".to_owned(), "NULL"),
            (true, 5..10) => (end, "NULL".to_owned(), "NULL"),
            // Found stale when the code was used again, a while later.
            (_, 0..20) => (
                end,
                (end + rng.random_range(60_000..1_800_000))
                    .min(now)
                    .to_string(),
                "'timeout'",
            ),
            _ => (end - 10_000, end.to_string(), "'released'"),
        };
        let (start, last) = if ended == "NULL" && last == now - 10_000 {
            (start.min(now - 60_000), last)
        } else {
            (start, last.max(start))
        };
        rows.push(format!(
            "('s{i}-{}', 'c{code}', 'big', '198.51.{}.{}', '{UA}', {start}, {last}, {ended}, {reason})",
            uuid::Uuid::new_v4().simple(),
            rng.random_range(0..255),
            rng.random_range(1..255)
        ));
        if rows.len() == 1000 || i + 1 == sessions {
            exec(
                store,
                format!(
                    "INSERT INTO sessions (id, code_id, event_id, client_ip, user_agent, started_at, \
                     last_heartbeat, ended_at, end_reason) VALUES {}",
                    rows.join(",")
                ),
            )
            .await;
            rows.clear();
        }
    }
    let analyze = match store.backend() {
        Backend::Sqlite => "ANALYZE",
        Backend::Postgres => "VACUUM ANALYZE sessions",
    };
    exec(store, analyze.to_owned()).await;
}

/// Bytes of the sessions table and its indexes (SQLite: the whole file's pages, so
/// measure before and after filling the sessions).
async fn sessions_bytes(store: &Store) -> i64 {
    let sql = match store.backend() {
        Backend::Sqlite => {
            "SELECT (SELECT page_count FROM pragma_page_count()) * (SELECT page_size FROM pragma_page_size()) AS n"
        }
        Backend::Postgres => "SELECT CAST(pg_total_relation_size('sessions') AS BIGINT) AS n",
    };
    sqlx::query_scalar(sql)
        .fetch_one(pool(store))
        .await
        .expect("size")
}

async fn exec(store: &Store, sql: String) {
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(pool(store))
        .await
        .expect("statement");
}

/// Runs `f` `n` times; returns (best, median) and the last result.
async fn best_of<T, F, Fut>(n: usize, f: F) -> ((Duration, Duration), T)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, streamgate_store::StoreError>>,
{
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..n {
        let started = Instant::now();
        last = Some(f().await.expect("query"));
        times.push(started.elapsed());
    }
    times.sort();
    ((times[0], times[n / 2]), last.expect("ran"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
