//! Opening the database: URL normalisation (the seed's Prisma-style `file:./dev.db`
//! included), creating a SQLite file and its directory on first run, connection
//! settings per engine, and the embedded migrations.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Connection, Executor};
use streamgate_core::Secret;
use streamgate_core::load::DatabaseKind;

use crate::StoreError;

/// How long a pooled connection may sit unused before it is pinged on its way out.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// Which engine a store runs on; a few statements (locks, transaction start) differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// A connection pool on a migrated database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The normalised URL, for connections outside the pool (LISTEN); a [`Secret`]
    /// because it may hold the password, and `Store` is `Debug`.
    url: Secret,
    /// SQLite has one writer at a time; writers of this process queue here, in async
    /// order, instead of in SQLite's busy handler, which sleeps in growing steps and
    /// wastes most of the time under contention.
    write_turn: Arc<tokio::sync::Mutex<()>>,
}

/// A write transaction (see [`Store::begin_write`]); derefs to the connection.
pub struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    /// Commits, releasing this process's write turn.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl Store {
    /// Opens (and on SQLite creates) the database at `url` and runs the migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = normalise(url)?;
        let masked = mask_password(&url);
        let connect_err = |source| StoreError::Connect {
            url: masked.clone(),
            source,
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(connect_err)?
            .disable_statement_logging();
        let pool_options = match backend {
            Backend::Sqlite => AnyPoolOptions::new()
                .max_connections(8)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        // The busy timeout makes writers queue instead of failing when
                        // another holds the lock (first, so that switching a new file to
                        // WAL waits too); WAL lets readers run beside the one writer.
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        Ok(())
                    })
                }),
            Backend::Postgres => AnyPoolOptions::new().max_connections(16),
        };
        // sqlx pings every connection it hands out, one round trip on each request; a
        // connection used within the last second is handed out as it is (one that died
        // meanwhile fails its request with a 503 and is replaced), an idler is pinged
        // and, if the database has gone away since, replaced before it is used.
        let pool_options = pool_options
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for < IDLE_BEFORE_PING {
                        return Ok(true);
                    }
                    Ok(conn.ping().await.is_ok())
                })
            });
        let pool = pool_options
            // A request waits this long for a connection before it gets a 503: long
            // enough to ride out a busy moment, short enough that a database outage is
            // reported rather than hung on.
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(connect_err)?;
        match backend {
            Backend::Sqlite => {
                // sqlx takes no lock around SQLite migrations: two processes opening a
                // new file at once would both run the first migration. A lock on the
                // file's directory serialises them across processes (the database file
                // itself cannot carry it: closing another descriptor of it would drop
                // SQLite's own POSIX locks).
                let _turn = migration_lock(&url).await?;
                SQLITE_MIGRATIONS.run(&pool).await?;
            }
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        Ok(Self {
            pool,
            backend,
            url: Secret::new(url),
            write_turn: Arc::default(),
        })
    }

    /// The pool, for the store's own queries: callers above the store get functions
    /// taking `&Store`, never a connection (the store's own tests and examples reach
    /// the pool through the `testing` feature, [`crate::testing`]).
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The normalised database URL (with its password): for connections the pool
    /// cannot give, such as a PostgreSQL LISTEN.
    pub(crate) fn url(&self) -> &str {
        self.url.expose()
    }

    /// The engine.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a transaction that writes. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a transaction that reads first and upgrades later fails with
    /// "database is locked" instead of waiting when another writer got there first.
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let turn = self.write_turn.clone().lock_owned().await;
                WriteTx {
                    tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
                    _turn: Some(turn),
                }
            }
            Backend::Postgres => WriteTx {
                tx: self.pool.begin().await?,
                _turn: None,
            },
        })
    }

    /// [`Self::begin_write`] on a connection the caller already holds (one that keeps a
    /// temporary table the transaction reads).
    pub async fn begin_write_on(
        &self,
        conn: sqlx::pool::PoolConnection<sqlx::Any>,
    ) -> Result<WriteTx, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let turn = self.write_turn.clone().lock_owned().await;
                let begin = sqlx::SqlSafeStr::into_sql_str("BEGIN IMMEDIATE");
                WriteTx {
                    tx: sqlx::Transaction::begin(conn, Some(begin)).await?,
                    _turn: Some(turn),
                }
            }
            Backend::Postgres => WriteTx {
                tx: sqlx::Transaction::begin(conn, None).await?,
                _turn: None,
            },
        })
    }

    /// Closes every connection (the SQLite WAL is checkpointed on the last close).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// An exclusive lock on the directory of the SQLite file `url` names, held until the
/// returned handle is dropped (`None` for in-memory databases). Waiting for it does not
/// block the runtime.
async fn migration_lock(url: &str) -> Result<Option<std::fs::File>, StoreError> {
    let Some(file) = sqlite_file(url) else {
        return Ok(None);
    };
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let handle = tokio::task::spawn_blocking(move || {
        let handle = std::fs::File::open(&dir)?;
        handle.lock()?;
        Ok::<_, std::io::Error>(handle)
    })
    .await
    .map_err(std::io::Error::other)??;
    Ok(Some(handle))
}

/// The file an SQLite URL names (`None` for in-memory databases and other engines):
/// where `streamgate up` keeps its development secrets, and what `db copy` checks
/// exists before reading from it.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    if DatabaseKind::of(url) != Some(DatabaseKind::Sqlite) {
        return None;
    }
    let (path, _) = sqlite_parts(url);
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

fn sqlite_parts(url: &str) -> (&str, &str) {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .or_else(|| url.strip_prefix("file://"))
        .or_else(|| url.strip_prefix("file:"))
        .unwrap_or(url);
    rest.split_once('?').unwrap_or((rest, ""))
}

/// Turns the accepted spellings into one sqlx understands and makes sure a SQLite
/// file's directory exists.
fn normalise(url: &str) -> Result<(Backend, String), StoreError> {
    match DatabaseKind::of(url) {
        Some(DatabaseKind::Postgres) => Ok((Backend::Postgres, url.to_owned())),
        Some(DatabaseKind::Sqlite) => {
            let (path, query) = sqlite_parts(url);
            if path.is_empty() || path == ":memory:" {
                return Ok((Backend::Sqlite, "sqlite::memory:".to_owned()));
            }
            if let Some(dir) = Path::new(path)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir)?;
            }
            private_file(Path::new(path))?;
            let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
            if !params.iter().any(|p| p.starts_with("mode=")) {
                params.push("mode=rwc");
            }
            Ok((
                Backend::Sqlite,
                format!("sqlite://{path}?{}", params.join("&")),
            ))
        }
        None => Err(StoreError::UnsupportedUrl(mask_password(url))),
    }
}

/// Makes sure the SQLite file exists and only its owner can read it: it holds every
/// access code in clear. SQLite gives the `-wal` and `-shm` files it makes later the
/// database file's mode, so creating this one 0600 covers all three. A file left
/// readable by others by an older version is tightened (with a warning), and so are
/// its `-wal` and `-shm` if they exist.
#[cfg(unix)]
fn private_file(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e.into()),
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        if meta.permissions().mode() & 0o077 != 0 {
            match std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)) {
                Ok(()) => tracing::warn!(
                    "{} was readable by other users; it holds access codes in clear and is now 0600",
                    file.display()
                ),
                Err(e) => tracing::warn!(
                    "{} is readable by other users and could not be made 0600: {e}",
                    file.display()
                ),
            }
        }
    }
    Ok(())
}

/// Elsewhere there are no Unix modes to set; the directory's ACLs decide.
#[cfg(not(unix))]
fn private_file(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}

/// The URL with its password replaced, for messages and logs.
pub fn mask_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_seed_and_sqlx_spellings() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a/b.db");
        let (b, u) = normalise(&format!("file:{}", p.display())).expect("file:");
        assert_eq!(b, Backend::Sqlite);
        assert_eq!(u, format!("sqlite://{}?mode=rwc", p.display()));
        assert!(
            p.parent().expect("dir").is_dir(),
            "directory made on first run"
        );
        assert_eq!(
            normalise("postgres://u@h/db").expect("pg").0,
            Backend::Postgres
        );
        assert!(matches!(
            normalise("mysql://h/db"),
            Err(StoreError::UnsupportedUrl(_))
        ));
        assert_eq!(
            mask_password("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_sqlite_file_and_its_wal_and_shm_are_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &std::path::Path| {
            std::fs::metadata(p).expect("exists").permissions().mode() & 0o777
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("data/streamgate.db");
        let store = Store::connect(&format!("sqlite://{}", db.display()))
            .await
            .expect("connect");
        // A write, so that the WAL and its index certainly exist while the pool is open.
        sqlx::query("CREATE TABLE probe (x BIGINT)")
            .execute(store.pool())
            .await
            .expect("write");
        for suffix in ["", "-wal", "-shm"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
        store.close().await;

        // A file an older version left world-readable is tightened on the next start.
        let old = dir.path().join("old.db");
        std::fs::write(&old, b"").expect("write");
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let store = Store::connect(&format!("sqlite://{}", old.display()))
            .await
            .expect("connect");
        assert_eq!(mode(&old), 0o600);
        store.close().await;
    }
}
