//! Fresh databases per test. A PostgreSQL database belongs to a guard that drops it
//! when the test ends, even by a panic (a leaked database per failing test used to pile
//! up on the shared server), and the first PostgreSQL database of a run reaps the ones
//! earlier runs left behind (killed processes never run `Drop`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::{Connection, Executor};

/// Every test database's name starts so: the reaper touches nothing else.
const PREFIX: &str = "sg_test_";

/// A leftover older than this is from a run that is over: no test runs for hours.
const STALE_AFTER: Duration = Duration::from_secs(6 * 3600);

/// Whether this process has reaped already (once per test binary is enough).
static REAPED: AtomicBool = AtomicBool::new(false);

/// The PostgreSQL server, shared by the test databases of this process and held alone by
/// a test that stops it ([`TestDb::postgres_exclusive`]): the tests of a crate run in one
/// binary, in parallel, and a server stopped under them would fail them.
static SERVER: LazyLock<Arc<tokio::sync::RwLock<()>>> = LazyLock::new(Arc::default);

/// A test database's hold on the server, for as long as the database lives: shared, or
/// alone (the field's type says which; it is only ever dropped).
type ServerHold = Box<dyn std::any::Any + Send + Sync>;

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
    pg_database: Option<DropDatabase>,
    /// Declared after the database: it is dropped while the hold lasts.
    _server: Option<ServerHold>,
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
            _server: None,
        }
    }

    /// A fresh database on the PostgreSQL server, or `None` (with a printed reason)
    /// when the server cannot be reached outside CI. It holds the server shared until
    /// dropped, so a test should not hold two at once: a stopping test waiting between
    /// the two would wait for the first forever.
    pub async fn postgres() -> Option<Self> {
        let hold: ServerHold = Box::new(SERVER.clone().read_owned().await);
        Self::postgres_held(hold).await
    }

    /// As [`TestDb::postgres`], for a test that stops and starts the server: it waits
    /// until no other test of this process has a PostgreSQL database, and none gets one
    /// until it is dropped.
    pub async fn postgres_exclusive() -> Option<Self> {
        let hold: ServerHold = Box::new(SERVER.clone().write_owned().await);
        Self::postgres_held(hold).await
    }

    async fn postgres_held(hold: ServerHold) -> Option<Self> {
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
        if !REAPED.swap(true, Ordering::SeqCst) {
            reap(&mut conn, unix_now()).await;
        }
        // The creation time in the name lets a later run's reaper tell a leftover from
        // a database that a concurrent run is using.
        let name = format!(
            "{PREFIX}{}_{}_{}",
            unix_now(),
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
            pg_database: Some(DropDatabase { name }),
            _server: Some(hold),
        })
    }

    /// Every backend available: SQLite always, PostgreSQL when reachable.
    pub async fn all() -> Vec<Self> {
        let mut dbs = vec![Self::sqlite()];
        dbs.extend(Self::postgres().await);
        dbs
    }

    /// Drops the PostgreSQL database now, on the test's runtime (the SQLite file goes
    /// with its directory). Optional: dropping the `TestDb` does the same, blocking.
    pub async fn cleanup(mut self) {
        if let Some(mut guard) = self.pg_database.take() {
            // An empty name tells the guard there is nothing left to drop.
            drop_database(&std::mem::take(&mut guard.name)).await;
        }
    }
}

/// Drops its PostgreSQL database when dropped. `Drop` cannot await, so it drops the
/// database from a thread of its own with a small runtime, and waits for it.
struct DropDatabase {
    name: String,
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let name = std::mem::take(&mut self.name);
        if name.is_empty() {
            return;
        }
        let dropped =
            std::thread::spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(drop_database(&name)),
                    Err(e) => eprintln!("cannot drop test database {name}: {e}"),
                }
            });
        let _ = dropped.join();
    }
}

/// `DROP DATABASE ... WITH (FORCE)`: the test's own pools may still be open.
async fn drop_database(name: &str) {
    if let Ok(mut conn) = sqlx::AnyConnection::connect(&postgres_admin_url()).await {
        let _ = conn
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .await;
        let _ = conn.close().await;
    }
}

/// Drops the test databases that earlier runs left: older than `STALE_AFTER` and with
/// nobody connected, so a concurrent run's databases stay. A plain `DROP DATABASE` (no
/// FORCE) also refuses one that gained a connection since the query.
async fn reap(conn: &mut sqlx::AnyConnection, now: u64) {
    // Age from the name; for names from before it carried one, from the database's
    // directory on the server (readable by the superuser the tests connect as).
    let rows: Vec<(String, i64, i64)> = match sqlx::query_as(
        "SELECT d.datname::text, \
                (SELECT COUNT(*) FROM pg_stat_activity a WHERE a.datname = d.datname), \
                EXTRACT(EPOCH FROM (pg_stat_file('base/' || d.oid || '/PG_VERSION')).modification)::bigint \
         FROM pg_database d WHERE d.datname LIKE 'sg\\_test\\_%'",
    )
    .fetch_all(&mut *conn)
    .await
    {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("not reaping old test databases: {e}");
            return;
        }
    };
    for (name, connected, made) in rows {
        let made = u64::try_from(made).unwrap_or(now);
        if connected == 0 && is_stale(&name, made, now) {
            let _ = conn
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name}"
                )))
                .await;
        }
    }
}

/// Whether a test database is a leftover: `sg_test_<unix>_<pid>_<uuid>` made over
/// `STALE_AFTER` ago, or an old-style `sg_test_<pid>_<uuid>` whose files (`made`) are.
fn is_stale(name: &str, made: u64, now: u64) -> bool {
    let old = |t: u64| now.saturating_sub(t) > STALE_AFTER.as_secs();
    let Some(rest) = name.strip_prefix(PREFIX) else {
        return false;
    };
    let parts: Vec<&str> = rest.split('_').collect();
    match parts.as_slice() {
        [created, _pid, _uuid] => created.parse::<u64>().is_ok_and(old),
        [_pid, _uuid] => old(made),
        _ => false,
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::is_stale;

    #[test]
    fn only_old_test_databases_are_stale() {
        let now = 1_800_000_000;
        let long_ago = now - 86_400;
        assert!(is_stale("sg_test_1799900000_12_abc", now, now));
        assert!(!is_stale("sg_test_1799999000_12_abc", long_ago, now));
        assert!(is_stale("sg_test_2270_546b2766d0e842c6", long_ago, now));
        assert!(!is_stale("sg_test_2270_546b2766d0e842c6", now, now));
        assert!(!is_stale("streamgate", long_ago, now));
        assert!(!is_stale("sg_test_x", long_ago, now));
    }
}
