//! One module per subcommand, plus what several of them share.

pub mod admin_token;
pub mod codes;
pub mod db;
pub mod hls;
pub mod ingest;
pub mod reconcile;
pub mod schema;
pub mod secrets;
pub mod serve;
pub mod up;
pub mod validate;

use std::path::PathBuf;

use anyhow::bail;
use streamgate_core::env::Env;
use streamgate_core::{LoadOptions, Loaded, Role, load};
use streamgate_store::Store;

/// Loads the configuration for a tool that works on the database (plan, apply, codes):
/// the file must be valid for the platform, but no secret is needed.
pub fn load_for_tools(config: Option<PathBuf>) -> anyhow::Result<Loaded> {
    let options = LoadOptions {
        config_path: config,
        env: Env::from_process(),
        role: Some(Role::Platform),
        require_secrets: false,
    };
    load_or_report(&options, "nothing was done")
}

/// Loads the configuration, or prints the loader's report and fails, saying what did
/// not happen (`consequence`): the one way every command that needs a valid
/// configuration treats an invalid one.
pub fn load_or_report(options: &LoadOptions, consequence: &str) -> anyhow::Result<Loaded> {
    match load(options) {
        Ok(loaded) => Ok(loaded),
        Err(report) => {
            eprintln!("{report}");
            bail!("the configuration is not valid; {consequence}")
        }
    }
}

/// Opens the database the configuration names.
pub async fn open_store(loaded: &Loaded) -> anyhow::Result<Store> {
    Ok(Store::connect(&loaded.config.platform.database_url).await?)
}

/// A multi-threaded runtime for the async commands.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Resolves on Ctrl-C or SIGTERM, whichever comes first. The SIGTERM handler is
/// installed when this is called (inside the runtime), not when the future is first
/// polled, so a SIGTERM that arrives while a service is still starting is a clean stop
/// rather than the default kill.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async {
            match term.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => {},
            () = term => {},
        }
    }
}

/// Logs to stderr, `RUST_LOG` deciding the level (info by default), every line
/// redacted of anything that looks like a token ([`crate::logging`]).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::logging::RedactedStderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
