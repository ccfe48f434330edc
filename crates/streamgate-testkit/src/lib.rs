//! Test support: fresh databases per test and row snapshots.
//!
//! Test databases: a temporary SQLite file, and a fresh, uniquely named database on
//! the real PostgreSQL server (127.0.0.1:5432, user postgres, trust auth; override with
//! STREAMGATE_TEST_POSTGRES_URL). Under `CI=true` an unreachable PostgreSQL fails the
//! run; elsewhere its half of each test is skipped with a printed reason.

use sqlx::{AnyPool, Connection, Executor, Row};

/// Server-wide URL used to create and drop test databases.
pub fn postgres_admin_url() -> String {
    std::env::var("STREAMGATE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// One database a test runs against.
pub struct TestDb {
    /// For messages: `sqlite` or `postgres`.
    pub name: &'static str,
    /// The URL the store opens.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_database: Option<String>,
}

impl TestDb {
    /// A fresh SQLite file in a temporary directory.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("streamgate.db").display());
        Self {
            name: "sqlite",
            url,
            _dir: Some(dir),
            pg_database: None,
        }
    }

    /// A fresh database on the PostgreSQL server, or `None` (with a printed reason)
    /// when the server cannot be reached outside CI.
    pub async fn postgres() -> Option<Self> {
        sqlx::any::install_default_drivers();
        let admin = postgres_admin_url();
        let mut conn = match sqlx::AnyConnection::connect(&admin).await {
            Ok(conn) => conn,
            Err(e) if std::env::var("CI").is_err() => {
                eprintln!("skipping PostgreSQL: cannot reach {admin}: {e}");
                return None;
            }
            Err(e) => panic!("PostgreSQL is required under CI and {admin} is unreachable: {e}"),
        };
        let name = format!(
            "sg_test_{}_{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        );
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create test database");
        let _ = conn.close().await;
        let url = match admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("bad admin URL {admin}"),
        };
        Some(Self {
            name: "postgres",
            url,
            _dir: None,
            pg_database: Some(name),
        })
    }

    /// Every backend available: SQLite always, PostgreSQL when reachable.
    pub async fn all() -> Vec<Self> {
        let mut dbs = vec![Self::sqlite()];
        dbs.extend(Self::postgres().await);
        dbs
    }

    /// Drops the PostgreSQL database (the SQLite file goes with its directory).
    pub async fn cleanup(self) {
        if let Some(name) = &self.pg_database
            && let Ok(mut conn) = sqlx::AnyConnection::connect(&postgres_admin_url()).await
        {
            let _ = conn
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await;
        }
    }
}

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
