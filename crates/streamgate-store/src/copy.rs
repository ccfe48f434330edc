//! Moving an installation from one database to another (the seed's "SQLite to
//! PostgreSQL" path): every row of every table, in one transaction on the target, with
//! the revocation log's sequence numbers kept (edges resume from them) and the
//! target's identity counters moved past the copied rows.
//!
//! A target that already holds rows is refused unless the caller says to replace them.
//! After the copy, each table's row count and a SHA-256 over its rows in key order are
//! compared on both sides; any difference is an error and the transaction is rolled
//! back, so a failed copy leaves the target as it was.

use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::{Backend, Store, StoreError};

/// How a column is read and written (the schema uses these two only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Text,
}

/// One table: name, key column (copy and checksum order), columns, and whether the
/// key is an identity counter to move past the copied rows.
struct Table {
    name: &'static str,
    key: &'static str,
    columns: &'static [(&'static str, Kind)],
    identity: bool,
}

use Kind::{Int, Text};

/// Every table, parents before children.
const TABLES: &[Table] = &[
    Table {
        name: "events",
        key: "id",
        columns: &[
            ("id", Text),
            ("title", Text),
            ("description", Text),
            ("stream_url", Text),
            ("poster_url", Text),
            ("starts_at", Int),
            ("ends_at", Int),
            ("access_window_hours", Int),
            ("is_active", Int),
            ("is_archived", Int),
            ("managed_by", Text),
            ("created_at", Int),
            ("updated_at", Int),
            ("playlist", Text),
        ],
        identity: false,
    },
    Table {
        name: "access_codes",
        key: "id",
        columns: &[
            ("id", Text),
            ("code", Text),
            ("event_id", Text),
            ("label", Text),
            ("batch", Text),
            ("is_revoked", Int),
            ("revoked_at", Int),
            ("is_suspended", Int),
            ("redeemed_at", Int),
            ("redeemed_ip", Text),
            ("expires_at", Int),
            ("created_at", Int),
        ],
        identity: false,
    },
    Table {
        name: "sessions",
        key: "id",
        columns: &[
            ("id", Text),
            ("code_id", Text),
            ("event_id", Text),
            ("client_ip", Text),
            ("user_agent", Text),
            ("started_at", Int),
            ("last_heartbeat", Int),
            ("ended_at", Int),
            ("end_reason", Text),
            ("shared_at", Int),
            ("shared_addresses", Text),
        ],
        identity: false,
    },
    Table {
        name: "revocation_log",
        key: "seq",
        columns: &[
            ("seq", Int),
            ("kind", Text),
            ("event_id", Text),
            ("code_id", Text),
            ("session_id", Text),
            ("at", Int),
        ],
        identity: true,
    },
    Table {
        name: "audit_log",
        key: "id",
        columns: &[
            ("id", Int),
            ("at", Int),
            ("actor", Text),
            ("action", Text),
            ("target", Text),
            ("outcome", Text),
            ("detail", Text),
        ],
        identity: true,
    },
    Table {
        name: "edges",
        key: "id",
        columns: &[
            ("id", Text),
            ("last_sync_at", Int),
            ("last_cursor", Int),
            ("address", Text),
        ],
        identity: false,
    },
    Table {
        name: "admin_tokens",
        key: "id",
        columns: &[
            ("id", Text),
            ("name", Text),
            ("token_hash", Text),
            ("created_at", Int),
            ("last_used_at", Int),
            ("revoked_at", Int),
        ],
        identity: false,
    },
    Table {
        name: "console_sessions",
        key: "id",
        columns: &[("id", Int), ("valid_after", Int)],
        identity: false,
    },
    Table {
        name: "analytics_events",
        key: "event_id",
        columns: &[
            ("event_id", Text),
            ("sealed_until", Int),
            ("sessions", Int),
            ("watch_ms", Int),
        ],
        identity: false,
    },
    Table {
        name: "analytics_minutes",
        key: "event_id, minute",
        columns: &[("event_id", Text), ("minute", Int), ("viewers", Int)],
        identity: false,
    },
];

/// Rows per INSERT statement.
const BATCH: usize = 200;

/// A cell as read.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Int(Option<i64>),
    Text(Option<String>),
}

/// One table's figures after a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCopy {
    /// The table.
    pub table: &'static str,
    /// Rows copied (equal on both sides).
    pub rows: u64,
    /// SHA-256 of the rows in key order (equal on both sides), hex.
    pub checksum: String,
}

/// Why a copy did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// The target already holds rows.
    #[error("the target database is not empty ({0}); pass --force to replace its contents")]
    TargetNotEmpty(String),
    /// The verification found a difference (the copy was rolled back).
    #[error(
        "verification failed for {table}: source {source_rows} rows {source_sum}, target {target_rows} rows {target_sum}; nothing was kept"
    )]
    Mismatch {
        /// The table.
        table: &'static str,
        /// Rows in the source.
        source_rows: u64,
        /// Rows in the target.
        target_rows: u64,
        /// Checksum in the source.
        source_sum: String,
        /// Checksum in the target.
        target_sum: String,
    },
    /// A database error.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CopyError {
    fn from(e: sqlx::Error) -> Self {
        CopyError::Store(StoreError::from(e))
    }
}

/// Copies every row of `from` into `to` in one transaction and verifies it.
/// `force` empties a non-empty target first (in the same transaction). `progress` is
/// told each table and its row count as it is copied.
pub async fn copy(
    from: &Store,
    to: &Store,
    force: bool,
    mut progress: impl FnMut(&str, u64),
) -> Result<Vec<TableCopy>, CopyError> {
    let mut source = from.pool().acquire().await?;
    let mut tx = to.begin_write().await?;
    let mut present = Vec::new();
    for t in TABLES {
        let n = count(&mut tx, t.name).await?;
        if n > 0 {
            present.push(format!("{} {n} rows", t.name));
        }
    }
    if !present.is_empty() {
        if !force {
            return Err(CopyError::TargetNotEmpty(present.join(", ")));
        }
        for t in TABLES.iter().rev() {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {}", t.name)))
                .execute(&mut *tx)
                .await?;
        }
    }
    for t in TABLES {
        let rows = read_rows(&mut source, t).await?;
        for chunk in rows.chunks(BATCH) {
            insert(&mut tx, to.backend(), t, chunk).await?;
        }
        if t.identity && to.backend() == Backend::Postgres {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('{0}', '{1}'), COALESCE((SELECT MAX({1}) FROM {0}), 0) + 1, false)",
                t.name, t.key
            )))
            .execute(&mut *tx)
            .await?;
        }
        progress(t.name, rows.len() as u64);
    }
    let mut report = Vec::new();
    for t in TABLES {
        let (source_rows, source_sum) = digest(&mut source, t).await?;
        let (target_rows, target_sum) = digest(&mut tx, t).await?;
        if (source_rows, &source_sum) != (target_rows, &target_sum) {
            return Err(CopyError::Mismatch {
                table: t.name,
                source_rows,
                target_rows,
                source_sum,
                target_sum,
            });
        }
        report.push(TableCopy {
            table: t.name,
            rows: target_rows,
            checksum: target_sum,
        });
    }
    tx.commit().await?;
    Ok(report)
}

async fn count(conn: &mut AnyConnection, table: &str) -> Result<u64, CopyError> {
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM {table}"
    )))
    .fetch_one(&mut *conn)
    .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

async fn read_rows(conn: &mut AnyConnection, t: &Table) -> Result<Vec<Vec<Cell>>, CopyError> {
    let columns: Vec<&str> = t.columns.iter().map(|(c, _)| *c).collect();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM {} ORDER BY {}",
        columns.join(", "),
        t.name,
        t.key
    )))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            t.columns
                .iter()
                .enumerate()
                .map(|(i, (_, kind))| {
                    Ok(match kind {
                        Int => Cell::Int(row.try_get::<Option<i64>, _>(i)?),
                        Text => Cell::Text(row.try_get::<Option<String>, _>(i)?),
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
        })
        .collect::<Result<_, _>>()
        .map_err(CopyError::from)
}

async fn insert(
    conn: &mut AnyConnection,
    backend: Backend,
    t: &Table,
    rows: &[Vec<Cell>],
) -> Result<(), CopyError> {
    if rows.is_empty() {
        return Ok(());
    }
    let columns: Vec<&str> = t.columns.iter().map(|(c, _)| *c).collect();
    let width = columns.len();
    let overriding = if t.identity && backend == Backend::Postgres {
        " OVERRIDING SYSTEM VALUE"
    } else {
        ""
    };
    let mut sql = format!(
        "INSERT INTO {} ({}){overriding} VALUES ",
        t.name,
        columns.join(", ")
    );
    sql.push_str(&crate::params::Params::new().rows(rows.len(), width));
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for row in rows {
        for cell in row {
            query = match cell {
                Cell::Int(v) => query.bind(*v),
                Cell::Text(v) => query.bind(v.clone()),
            };
        }
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

/// Row count and SHA-256 of a table's rows in key order, each cell written with its
/// kind so that NULL, an empty string and 0 all differ.
async fn digest(conn: &mut AnyConnection, t: &Table) -> Result<(u64, String), CopyError> {
    let rows = read_rows(conn, t).await?;
    let mut hash = Sha256::new();
    for row in &rows {
        for cell in row {
            match cell {
                Cell::Int(None) | Cell::Text(None) => hash.update(b"N;"),
                Cell::Int(Some(n)) => hash.update(format!("I{n};").as_bytes()),
                Cell::Text(Some(s)) => {
                    hash.update(format!("T{}:", s.len()).as_bytes());
                    hash.update(s.as_bytes());
                    hash.update(b";");
                }
            }
        }
        hash.update(b"\n");
    }
    let hex = hash
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    Ok((rows.len() as u64, hex))
}

/// The tables and columns this module copies, for the test that keeps it in step
/// with the migrations.
pub fn copied_columns() -> Vec<(&'static str, Vec<&'static str>)> {
    TABLES
        .iter()
        .map(|t| (t.name, t.columns.iter().map(|(c, _)| *c).collect()))
        .collect()
}
