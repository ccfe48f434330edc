//! `streamgate platform`: run the platform service (and `streamgate openapi`, which
//! prints the API description the service serves).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use streamgate_core::env::Env;
use streamgate_core::{LoadOptions, Loaded, Role};
use streamgate_platform::{Platform, PlatformOptions};

use super::{init_logging, load_or_report, runtime, shutdown_signal};

/// Options of `streamgate platform`.
#[derive(Debug, clap::Args)]
pub struct PlatformArgs {
    /// Apply with --prune at start and on reload (delete events removed from the file).
    #[arg(long)]
    pub(super) prune: bool,
    /// Do not watch streamgate.toml for changes.
    #[arg(long)]
    pub(super) no_watch: bool,
}

/// Runs the platform until Ctrl-C or SIGTERM.
pub fn platform(config: Option<PathBuf>, args: PlatformArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let env = Env::from_process();
    let options = LoadOptions {
        config_path: config,
        env: env.clone(),
        role: Some(Role::Platform),
        require_secrets: true,
    };
    let loaded = load_or_report(&options, "the platform did not start")?;
    runtime()?.block_on(async move {
        let platform = build_platform(&loaded, env, &args).await?;
        platform.run(shutdown_signal()).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// The platform of `loaded`, watching its file unless told not to: what `platform` and
/// `up` start alike.
pub(super) async fn build_platform(
    loaded: &Loaded,
    env: Env,
    args: &PlatformArgs,
) -> anyhow::Result<Platform> {
    let file = loaded.source.found.then(|| loaded.source.path.clone());
    Platform::build(
        loaded.config.clone(),
        &loaded.secrets,
        PlatformOptions {
            watch: file.clone().filter(|_| !args.no_watch),
            env,
            prune: args.prune,
            config_file: file,
        },
    )
    .await
    .context("the platform did not start")
}

/// Options of `streamgate openapi`.
#[derive(Debug, clap::Args)]
pub struct OpenapiArgs {
    /// Which service: `platform` (committed as openapi.yaml) or `hls` (openapi-hls.yaml).
    #[arg(long, default_value = "platform", value_parser = ["platform", "hls"])]
    service: String,
}

/// Prints a service's OpenAPI description (YAML), as committed in the repository.
pub fn openapi(args: OpenapiArgs) -> anyhow::Result<ExitCode> {
    match args.service.as_str() {
        "hls" => print!("{}", streamgate_hls::openapi_yaml()),
        _ => print!("{}", streamgate_platform::openapi_yaml()),
    }
    Ok(ExitCode::SUCCESS)
}
