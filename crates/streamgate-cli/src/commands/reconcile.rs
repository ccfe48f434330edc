//! `streamgate plan` and `streamgate apply`: configuration-as-code from the command
//! line. `plan` exits 0 when there is nothing to do, 2 when there are changes and 1 on
//! an error, so scripts and CI can gate on it; `apply` carries the plan out in one
//! transaction and, with `--watch`, keeps applying every saved change of the file.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use streamgate_core::env::Env;
use streamgate_core::{Config, Role};
use streamgate_store::reconcile::{self, ApplyOptions};
use streamgate_store::watch::{self, ReloadStatus, WatchOptions};

use super::{init_logging, load_for_tools, open_store, runtime, shutdown_signal};

/// Options of `streamgate plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Plan as `apply --prune` would: delete removed events, revoke surplus codes.
    #[arg(long)]
    prune: bool,
    /// Plan as `apply --allow-retire` would: retire removed events that still have
    /// redeemed codes or viewers.
    #[arg(long)]
    allow_retire: bool,
}

/// Options of `streamgate apply`.
#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// Delete events removed from the file and revoke surplus unredeemed codes (this
    /// run only: edits seen by `--watch` never prune).
    #[arg(long)]
    prune: bool,
    /// Retire events removed from the file even when they still have redeemed codes or
    /// viewers (this run only: edits seen by `--watch` are always guarded).
    #[arg(long)]
    allow_retire: bool,
    /// Keep running and apply every change saved to the file (Ctrl-C or SIGTERM stops).
    #[arg(long)]
    watch: bool,
    /// Quiet time after a file change before it is applied, in milliseconds.
    #[arg(long, default_value_t = 300, requires = "watch")]
    debounce_ms: u64,
}

/// Prints the plan; exit 0 nothing to do, 2 changes, 1 error.
pub fn plan(config: Option<PathBuf>, args: PlanArgs) -> anyhow::Result<ExitCode> {
    let loaded = load_for_tools(config)?;
    runtime()?.block_on(async {
        let store = open_store(&loaded).await?;
        let options = reconcile::PlanOptions {
            prune: args.prune,
            allow_retire: args.allow_retire,
        };
        let plan = reconcile::plan(&store, &loaded.config, options).await?;
        store.close().await;
        println!("{plan}");
        Ok(if plan.is_refused() {
            ExitCode::from(1)
        } else if plan.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        })
    })
}

/// Applies the plan, then watches when asked.
pub fn apply(config: Option<PathBuf>, args: ApplyArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let loaded = load_for_tools(config)?;
    runtime()?.block_on(async {
        let store = open_store(&loaded).await?;
        let report = apply_once(&store, &loaded.config, args.prune, args.allow_retire).await?;
        println!("{}", report.plan);
        println!(
            "Applied: {} code(s) made, {} revoked.",
            report.codes_made, report.codes_revoked
        );
        if args.watch {
            let status = Arc::new(Mutex::new(ReloadStatus::default()));
            watch::record_apply(&status);
            let (config_tx, _config_rx) =
                tokio::sync::watch::channel(Arc::new(loaded.config.clone()));
            let options = WatchOptions {
                path: loaded.source.path.clone(),
                env: Env::from_process(),
                role: Some(Role::Platform),
                debounce: Duration::from_millis(args.debounce_ms),
                poll_interval: watch::DEFAULT_POLL_INTERVAL,
            };
            watch::run(store.clone(), options, config_tx, status, shutdown_signal()).await?;
            tracing::info!("stopped watching");
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

async fn apply_once(
    store: &streamgate_store::Store,
    config: &Config,
    prune: bool,
    allow_retire: bool,
) -> anyhow::Result<reconcile::ApplyReport> {
    // A bar only where a person watches, and only when there is enough to wait for.
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} codes ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message("making codes");
        bar
    });
    let mut progress = |done: u64, total: u64| {
        if let Some(bar) = &bar
            && total >= 1_000
        {
            bar.set_length(total);
            bar.set_position(done);
        }
    };
    let report = reconcile::apply(
        store,
        config,
        ApplyOptions {
            prune,
            allow_retire,
            actor: "cli",
            progress: Some(&mut progress),
        },
    )
    .await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(report)
}
