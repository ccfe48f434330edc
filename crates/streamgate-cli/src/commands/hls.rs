//! `streamgate hls`: run the HLS media server alone (topology B's media host, one of
//! topology C's edges). It needs no database: only the signing secret, the internal
//! key and content (`STREAM_ROOT`, `UPSTREAM_ORIGIN`, or both).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use streamgate_core::env::Env;
use streamgate_core::{LoadOptions, Role};
use streamgate_hls::{HlsOptions, HlsServer};

use std::sync::Arc;

use streamgate_ingest::reload::{RELOAD_EVERY, follow_file};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::ingest::start_beside;
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
        // With a stream root and events that take a stream, the ingest runs here too,
        // following the file (no platform runs beside an HLS server).
        let stop = CancellationToken::new();
        let (tx, rx) = watch::channel(Arc::new(loaded.config.clone()));
        let ingest = start_beside(&loaded, Role::Hls, rx, stop.clone());
        let follower = ingest
            .is_some()
            .then(|| tokio::spawn(follow_file(options.clone(), tx, RELOAD_EVERY, stop.clone())));
        let server = HlsServer::build(
            &loaded.config,
            &loaded.secrets,
            HlsOptions {
                ingest: ingest.as_ref().map(|i| i.subscribe()),
                ..HlsOptions::default()
            },
        )
        .await
        .context("the HLS server did not start")?;
        let served = server.run(shutdown_signal()).await;
        stop.cancel();
        if let Some(ingest) = ingest {
            ingest.stopped().await;
        }
        if let Some(follower) = follower {
            let _ = follower.await;
        }
        served?;
        Ok(ExitCode::SUCCESS)
    })
}
