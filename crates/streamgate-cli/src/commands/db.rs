//! `streamgate db copy`: move an installation from one database to another, the
//! seed's SQLite -> PostgreSQL path. Stop the platform first (a copy is a snapshot);
//! then point `DATABASE_URL` at the target and start it again.

use std::process::ExitCode;

use anyhow::{Context, bail};
use streamgate_store::Store;
use streamgate_store::copy::copy;
use streamgate_store::db::{mask_password, sqlite_file};

use super::runtime;

/// `streamgate db ...`.
#[derive(Debug, clap::Subcommand)]
pub enum DbCommand {
    /// Copy every row (events, codes, redemptions, sessions, revocation log, audit log,
    /// edges, admin tokens) into another database, in one transaction, and verify it.
    Copy(CopyArgs),
}

/// Options of `streamgate db copy`.
#[derive(Debug, clap::Args)]
pub struct CopyArgs {
    /// The database to read, e.g. sqlite://data/streamgate.db.
    #[arg(long, value_name = "URL")]
    from: String,
    /// The database to write, e.g. postgres://streamgate@db/streamgate (created tables
    /// by migration; it must exist).
    #[arg(long, value_name = "URL")]
    to: String,
    /// Replace whatever the target holds.
    #[arg(long)]
    force: bool,
}

/// Runs a `db` subcommand.
pub fn run(command: DbCommand) -> anyhow::Result<ExitCode> {
    let DbCommand::Copy(args) = command;
    if let Some(file) = sqlite_file(&args.from)
        && !file.is_file()
    {
        bail!(
            "{} does not exist: nothing to copy (check --from)",
            file.display()
        );
    }
    if args.from == args.to {
        bail!("--from and --to are the same database");
    }
    runtime()?.block_on(async {
        let from = Store::connect(&args.from)
            .await
            .with_context(|| format!("cannot open the source {}", mask_password(&args.from)))?;
        let to = Store::connect(&args.to)
            .await
            .with_context(|| format!("cannot open the target {}", mask_password(&args.to)))?;
        eprintln!(
            "copying {} -> {}",
            mask_password(&args.from),
            mask_password(&args.to)
        );
        let report = copy(&from, &to, args.force, |table, rows| {
            eprintln!("  {table:<15} {rows:>9} rows");
        })
        .await;
        from.close().await;
        to.close().await;
        let report = report?;
        eprintln!("verified: every table has the same rows and checksum on both sides");
        for t in &report {
            println!("{:<15} {:>9}  sha256:{}", t.table, t.rows, t.checksum);
        }
        Ok(ExitCode::SUCCESS)
    })
}
