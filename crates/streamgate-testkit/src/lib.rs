//! Test support: fresh databases per test, row snapshots, waiting on a condition, and
//! the secrets and constants the platform, HLS and CLI test harnesses share.
//!
//! Test databases: a temporary SQLite file, and a fresh, uniquely named database on
//! the real PostgreSQL server (127.0.0.1:5432, user postgres, trust auth; override with
//! STREAMGATE_TEST_POSTGRES_URL). Under `CI=true` an unreachable PostgreSQL fails the
//! run; elsewhere its half of each test is skipped with a printed reason.

mod backends;
mod db;
pub mod harness;
mod wait;

pub use db::{TestDb, postgres_admin_url};
/// sqlx for the tests that read the database directly (rows a scenario should have
/// left), so that only the store and this crate depend on it.
pub use sqlx;
pub use wait::eventually;

use sqlx::{AnyPool, Row};

/// Every row of every table, as text, in a stable order: two equal snapshots mean the
/// database did not change.
pub async fn snapshot(pool: &AnyPool) -> Vec<String> {
    let mut out = Vec::new();
    for (table, order) in [
        ("events", "id"),
        ("access_codes", "id"),
        ("sessions", "id"),
        ("revocation_log", "seq"),
        ("audit_log", "id"),
    ] {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT * FROM {table} ORDER BY {order}"
        )))
        .fetch_all(pool)
        .await
        .expect("snapshot query");
        for row in rows {
            let mut cells = vec![table.to_owned()];
            for i in 0..row.len() {
                let cell = row
                    .try_get::<Option<String>, _>(i)
                    .map(|v| v.unwrap_or_else(|| "NULL".to_owned()))
                    .or_else(|_| {
                        row.try_get::<Option<i64>, _>(i)
                            .map(|v| v.map_or_else(|| "NULL".to_owned(), |n| n.to_string()))
                    })
                    .unwrap_or_else(|e| format!("<{e}>"));
                cells.push(cell);
            }
            out.push(cells.join("|"));
        }
    }
    out
}

/// One number from a query.
pub async fn count(pool: &AnyPool, sql: &'static str) -> i64 {
    sqlx::query(sql)
        .fetch_one(pool)
        .await
        .expect("count query")
        .try_get::<i64, _>(0)
        .expect("a number")
}

/// Replaces a file the way editors save: write a sibling, then rename it over the
/// original, so a watcher never reads a half-written (or truncated, empty) file.
pub fn save_atomically(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension("tmp-save");
    std::fs::write(&tmp, text).expect("write the new version");
    std::fs::rename(&tmp, path).expect("rename it into place");
}

/// Every file under `dir`, recursively (none when it cannot be read): for tests that
/// copy a stream directory or inspect what a cache left on disk.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
    {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}
