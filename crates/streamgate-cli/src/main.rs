//! `streamgate`: the one binary of StreamGate. Each subcommand lives in its own module
//! under `commands/` with the same shape (an `Args` struct and a `run` function), so a
//! new command is a new file and a line in [`Command`].
//!
//! This is the binary's edge: errors become `anyhow` here and a non-zero exit code,
//! and the process environment is read exactly once and passed down.

mod commands;
mod logging;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Sell and protect access to a live stream or its recording.
#[derive(Debug, Parser)]
#[command(name = "streamgate", version, about, propagate_version = true)]
struct Cli {
    /// Config file to read [default: ./streamgate.toml]
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "STREAMGATE_CONFIG",
        value_name = "PATH"
    )]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the configuration (file and environment) and report every problem.
    Validate(commands::validate::Args),
    /// Print the JSON Schema of streamgate.toml (or its Markdown reference).
    Schema(commands::schema::Args),
    /// Print a new random secret (base64 of 32 random bytes).
    GenSecret,
    /// Print a bcrypt hash (cost 12) of a password read from a prompt or stdin.
    HashPassword,
    /// Show what `apply` would change in the database (exit 0 nothing, 2 changes, 1 error).
    Plan(commands::reconcile::PlanArgs),
    /// Make the database match streamgate.toml, in one transaction.
    Apply(commands::reconcile::ApplyArgs),
    /// Run the platform service (viewer API, revocation feed, health, metrics).
    Platform(commands::serve::PlatformArgs),
    /// Run the HLS media server (token gate, revocation sync, local/proxy content).
    Hls,
    /// Run the live ingest alone (an origin box whose stream root an origin serves).
    Ingest(commands::ingest::IngestArgs),
    /// Print an event's publish URL, key included, for the organiser's encoder.
    IngestUrl(commands::ingest::UrlArgs),
    /// Run the platform and the HLS server in one process (topology A), with
    /// development secrets when none are set.
    Up(commands::up::UpArgs),
    /// Print the OpenAPI description of the platform API or the HLS server (YAML).
    Openapi(commands::serve::OpenapiArgs),
    /// Work with access codes.
    #[command(subcommand)]
    Codes(commands::codes::CodesCommand),
    /// Make, list and revoke admin API tokens (for scripts and generated clients).
    #[command(subcommand)]
    AdminToken(commands::admin_token::AdminTokenCommand),
    /// Database tools (copy an installation from SQLite to PostgreSQL).
    #[command(subcommand)]
    Db(commands::db::DbCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => commands::validate::run(cli.config, args),
        Command::Schema(args) => commands::schema::run(args),
        Command::GenSecret => commands::secrets::gen_secret(),
        Command::HashPassword => commands::secrets::hash_password(),
        Command::Plan(args) => commands::reconcile::plan(cli.config, args),
        Command::Apply(args) => commands::reconcile::apply(cli.config, args),
        Command::Platform(args) => commands::serve::platform(cli.config, args),
        Command::Hls => commands::hls::hls(cli.config),
        Command::Ingest(args) => commands::ingest::ingest(cli.config, args),
        Command::IngestUrl(args) => commands::ingest::url(cli.config, args),
        Command::Up(args) => commands::up::up(cli.config, args),
        Command::Openapi(args) => commands::serve::openapi(args),
        Command::Codes(command) => commands::codes::run(cli.config, command),
        Command::Db(command) => commands::db::run(command),
        Command::AdminToken(command) => commands::admin_token::run(cli.config, command),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
