//! `streamgate db copy` moves a used installation from SQLite to the real PostgreSQL
//! without losing a row: events, codes with their redemptions, sessions, the
//! revocation log in its order (and its counter carried on), the audit log and edge
//! syncs. A non-empty target is refused unless `--force`, and leaves it untouched.

use std::process::Command;

use crate::common;

use common::INTERNAL_KEY;
use serde_json::json;
use streamgate_testkit::{TestDb, snapshot};

const CONFIG: &str = r#"
[platform]
listen = "127.0.0.1:0"
[platform.rate_limits]
validate_per_minute = 100000
[hls]
stream_root = "streams"
public_url = "http://127.0.0.1:9"

[[events]]
id = "demo"
title = "Demo"
starts_at = 2026-01-01T00:00:00Z
ends_at = 2099-01-01T00:00:00Z

[[events.codes]]
label = "t"
count = 30
"#;

/// Uses a platform on `url` the way viewers and an edge would, so every table has rows.
async fn use_installation(url: &str) {
    let platform = common::platform(url, CONFIG).await;
    let base = format!("http://{}", platform.local_addr());
    let state = platform.state();
    let client = reqwest::Client::new();
    let codes = codes(url).await;
    let mut tokens = Vec::new();
    for (_, code) in codes.iter().take(5) {
        let body = common::redeem(&client, &base, code).await;
        tokens.push(body["playbackToken"].as_str().expect("token").to_owned());
    }
    let released = client
        .post(format!("{base}/api/playback/release"))
        .json(&json!({ "token": tokens[0] }))
        .send()
        .await
        .expect("release");
    assert_eq!(released.status(), 200);
    for (id, _) in codes.iter().skip(10).take(3) {
        streamgate_store::codes::set_revoked(&state.store, &id.as_str().into(), true, "admin")
            .await
            .expect("revoke");
    }
    let feed = client
        .get(format!("{base}/api/revocations?cursor=0&edge=eu-1"))
        .header("x-internal-api-key", INTERNAL_KEY)
        .send()
        .await
        .expect("feed");
    assert_eq!(feed.status(), 200);
    streamgate_store::admin_tokens::create(&state.store, "ci")
        .await
        .expect("admin token");
    // Audience analytics were sealed (as of ten minutes on, so the minutes are final).
    let later = streamgate_store::analytics::Clock {
        now: streamgate_store::now_ms() + 600_000,
        timeout_ms: 60_000,
    };
    assert_eq!(
        streamgate_store::analytics::seal(&state.store, later)
            .await
            .expect("seal"),
        1
    );
    // A console logout happened: it must survive the move.
    streamgate_store::admin_tokens::end_console_sessions(&state.store, 1_764_000_000_000)
        .await
        .expect("console logout");
    platform.stop().await.expect("platform runs");
}

async fn codes(url: &str) -> Vec<(String, String)> {
    let pool = pool(url).await;
    let rows = streamgate_testkit::sqlx::query(
        "SELECT id, code FROM access_codes ORDER BY created_at, code",
    )
    .fetch_all(&pool)
    .await
    .expect("codes");
    pool.close().await;
    rows.iter()
        .map(|r| {
            (
                streamgate_testkit::sqlx::Row::get(r, "id"),
                streamgate_testkit::sqlx::Row::get(r, "code"),
            )
        })
        .collect()
}

async fn pool(url: &str) -> streamgate_testkit::sqlx::AnyPool {
    streamgate_testkit::sqlx::any::install_default_drivers();
    streamgate_testkit::sqlx::AnyPool::connect(url)
        .await
        .expect("pool")
}

fn db_copy(from: &str, to: &str, force: bool) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_streamgate"));
    cmd.args(["db", "copy", "--from", from, "--to", to]);
    if force {
        cmd.arg("--force");
    }
    cmd.env_clear().output().expect("run db copy")
}

async fn everything(url: &str) -> Vec<String> {
    let pool = pool(url).await;
    let mut rows = snapshot(&pool).await;
    let edges = streamgate_testkit::sqlx::query(
        "SELECT id, last_sync_at, last_cursor, address FROM edges ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .expect("edges");
    let tokens = streamgate_testkit::sqlx::query(
        "SELECT id, name, token_hash, created_at FROM admin_tokens ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .expect("admin tokens");
    for t in tokens {
        rows.push(format!(
            "admin_tokens|{}|{}|{}|{}",
            streamgate_testkit::sqlx::Row::get::<String, _>(&t, 0),
            streamgate_testkit::sqlx::Row::get::<String, _>(&t, 1),
            streamgate_testkit::sqlx::Row::get::<String, _>(&t, 2),
            streamgate_testkit::sqlx::Row::get::<i64, _>(&t, 3)
        ));
    }
    for e in edges {
        rows.push(format!(
            "edges|{}|{}|{}|{:?}",
            streamgate_testkit::sqlx::Row::get::<String, _>(&e, 0),
            streamgate_testkit::sqlx::Row::get::<i64, _>(&e, 1),
            streamgate_testkit::sqlx::Row::get::<i64, _>(&e, 2),
            streamgate_testkit::sqlx::Row::get::<Option<String>, _>(&e, 3)
        ));
    }
    pool.close().await;
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_to_postgres_keeps_every_row() {
    let Some(target) = TestDb::postgres().await else {
        return;
    };
    let source = TestDb::sqlite();
    use_installation(&source.url).await;
    let before = everything(&source.url).await;
    for table in [
        "events|",
        "access_codes|",
        "sessions|",
        "revocation_log|",
        "audit_log|",
        "edges|",
    ] {
        assert!(
            before.iter().any(|r| r.starts_with(table)),
            "no {table} rows to copy"
        );
    }

    let out = db_copy(&source.url, &target.url, false);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("revocation_log") && stdout.contains("sha256:"),
        "{stdout}"
    );
    assert_eq!(
        everything(&target.url).await,
        before,
        "every row arrived unchanged"
    );

    // The copy is a working installation: the log's counter goes on after the
    // copied entries, so edges that synced before the move resume correctly.
    let store = streamgate_store::Store::connect(&target.url)
        .await
        .expect("store");
    let max_seq = |url: String| async move {
        let pool = pool(&url).await;
        let n = streamgate_testkit::count(&pool, "SELECT MAX(seq) FROM revocation_log").await;
        pool.close().await;
        n
    };
    let copied_max = max_seq(target.url.clone()).await;
    let code = codes(&target.url).await.remove(20).0;
    streamgate_store::codes::set_revoked(&store, &code.as_str().into(), true, "admin")
        .await
        .expect("revoke on the new database");
    assert_eq!(max_seq(target.url.clone()).await, copied_max + 1);
    store.close().await;

    // A second copy into the now non-empty target is refused and changes nothing.
    let after_use = everything(&target.url).await;
    let refused = db_copy(&source.url, &target.url, false);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("not empty") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(everything(&target.url).await, after_use);

    // --force replaces it with the source again.
    let forced = db_copy(&source.url, &target.url, true);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert_eq!(everything(&target.url).await, before);
    target.cleanup().await;
}

#[tokio::test]
async fn the_copy_knows_every_column_of_every_table() {
    let source = TestDb::sqlite();
    use_installation(&source.url).await;
    let pool = pool(&source.url).await;
    for (table, columns) in streamgate_store::copy::copied_columns() {
        let row = streamgate_testkit::sqlx::query(streamgate_testkit::sqlx::AssertSqlSafe(
            format!("SELECT * FROM {table} LIMIT 1"),
        ))
        .fetch_one(&pool)
        .await
        .unwrap_or_else(|e| panic!("{table}: {e}"));
        let actual: Vec<&str> = streamgate_testkit::sqlx::Row::columns(&row)
            .iter()
            .map(streamgate_testkit::sqlx::Column::name)
            .collect();
        assert_eq!(
            actual, columns,
            "{table}: a migration added a column db copy does not copy"
        );
    }
    let tables = streamgate_testkit::count(
        &pool,
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .await;
    assert_eq!(
        tables as usize,
        streamgate_store::copy::copied_columns().len(),
        "a table db copy does not know"
    );
    pool.close().await;
}

#[test]
fn a_missing_source_file_is_an_error_not_an_empty_copy() {
    let dir = tempfile::tempdir().expect("tmp");
    let from = format!("sqlite://{}", dir.path().join("nope.db").display());
    let to = format!("sqlite://{}", dir.path().join("to.db").display());
    let out = db_copy(&from, &to, false);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    assert!(!dir.path().join("nope.db").exists(), "nothing was created");
}
