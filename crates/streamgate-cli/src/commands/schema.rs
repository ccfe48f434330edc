//! `streamgate schema`: prints the JSON Schema the committed
//! `schemas/streamgate.schema.json` must equal, or the README's configuration reference.

use std::process::ExitCode;

use streamgate_core::{Config, reference};

/// Options of `streamgate schema`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the configuration reference as Markdown instead of the JSON Schema.
    #[arg(long)]
    markdown: bool,
}

/// Prints the schema or the reference to stdout.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.markdown {
        print!("{}", reference::markdown());
    } else {
        print!("{}", Config::json_schema_text());
    }
    Ok(ExitCode::SUCCESS)
}
