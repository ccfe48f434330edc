//! `streamgate hls`: run the HLS media server alone (topology B's media host, one of
//! topology C's edges). It needs no database: only the signing secret, the internal
//! key and content (`STREAM_ROOT`, `UPSTREAM_ORIGIN`, or both).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use streamgate_core::env::Env;
use streamgate_core::{LoadOptions, Role};
use streamgate_hls::{HlsOptions, HlsServer};

use super::{init_logging, load_or_report, runtime, shutdown_signal};

/// Runs the HLS server until Ctrl-C or SIGTERM.
pub fn hls(config: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    init_logging();
    let options = LoadOptions {
        config_path: config,
        env: Env::from_process(),
        role: Some(Role::Hls),
        require_secrets: true,
    };
    let loaded = load_or_report(&options, "the HLS server did not start")?;
    runtime()?.block_on(async move {
        let server = HlsServer::build(&loaded.config, &loaded.secrets, HlsOptions::default())
            .await
            .context("the HLS server did not start")?;
        server.run(shutdown_signal()).await?;
        Ok(ExitCode::SUCCESS)
    })
}
