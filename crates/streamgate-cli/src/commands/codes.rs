//! `streamgate codes export --event ID`: the access codes of one event as CSV
//! (`code,label,status,createdAt,expiresAt`), for printing tickets or mail merges.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use streamgate_core::EventId;

use super::{load_for_tools, open_store, runtime};

/// `streamgate codes ...`.
#[derive(Debug, clap::Subcommand)]
pub enum CodesCommand {
    /// Print an event's codes as CSV.
    Export(ExportArgs),
}

/// Options of `streamgate codes export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The event's id.
    #[arg(long)]
    event: String,
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// Runs a `codes` subcommand.
pub fn run(config: Option<PathBuf>, command: CodesCommand) -> anyhow::Result<ExitCode> {
    let CodesCommand::Export(args) = command;
    let loaded = load_for_tools(config)?;
    let timeout_ms = i64::from(loaded.config.platform.session_timeout_seconds) * 1000;
    runtime()?.block_on(async {
        let store = open_store(&loaded).await?;
        let mut buffer = Vec::new();
        let n = streamgate_store::reads::export_codes_csv(
            &store,
            &EventId::from(args.event.as_str()),
            timeout_ms,
            &mut buffer,
        )
        .await?;
        store.close().await;
        match &args.output {
            Some(path) => {
                std::fs::write(path, &buffer)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                eprintln!("{n} codes written to {}", path.display());
            }
            None => std::io::stdout().write_all(&buffer)?,
        }
        Ok(ExitCode::SUCCESS)
    })
}
