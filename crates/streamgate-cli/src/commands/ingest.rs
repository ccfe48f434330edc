//! Live ingest from the command line: `streamgate ingest-url` prints an event's publish
//! URLs for the organiser's encoder, `streamgate ingest` runs the ingest alone (the
//! origin box of topology C, whose stream root an origin server serves to the edges),
//! and [`start_beside`] runs it inside `up` and `hls`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use streamgate_core::env::Env;
use streamgate_core::ingest::{IngestHealth, public_host, publish_key, publish_url};
use streamgate_core::{Config, LoadOptions, Loaded, Role};
use streamgate_ingest::Ingest;
use streamgate_ingest::reload::{RELOAD_EVERY, follow_file};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::up::{DevSecretsFor, dev_secrets_for_validate};
use super::{init_logging, load_or_report, runtime, shutdown_signal};

/// `streamgate ingest-url`.
#[derive(Debug, clap::Args)]
pub struct UrlArgs {
    /// The event whose publish URL to print.
    #[arg(long, value_name = "ID")]
    event: String,
}

/// `streamgate ingest`.
#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Where to answer `/health` and `/metrics` about the ingest.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4100")]
    health_listen: SocketAddr,
}

/// Prints the event's publish URL (key included), one per line.
pub fn url(config: Option<PathBuf>, args: UrlArgs) -> anyhow::Result<ExitCode> {
    let options = LoadOptions {
        config_path: config,
        env: Env::from_process(),
        role: None,
        require_secrets: false,
    };
    let mut loaded = load_or_report(&options, "no URL was printed")?;
    if loaded.secrets.ingest_secret.is_none() {
        // A trial run of `up` keeps its development secrets in the data directory:
        // the URL printed must be the one that `up` accepts.
        let mut env = options.env.clone();
        if let DevSecretsFor::Filled(path, _) = dev_secrets_for_validate(&mut env, &loaded)? {
            eprintln!(
                "(INGEST_SECRET from {}, as `streamgate up` uses it)",
                path.display()
            );
            loaded = load_or_report(&LoadOptions { env, ..options }, "no URL was printed")?;
        }
    }
    for line in publish_urls(&loaded, &args.event)? {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The publish URLs of `event` under the loaded configuration and secret.
fn publish_urls(loaded: &Loaded, event: &str) -> anyhow::Result<Vec<String>> {
    let Some(found) = loaded.config.event(event) else {
        bail!("no event `{event}` in {}", loaded.source.path.display());
    };
    let Some(ingest) = &found.ingest else {
        bail!("event `{event}` has no [events.ingest] table: StreamGate does not take its stream");
    };
    let Some(secret) = &loaded.secrets.ingest_secret else {
        bail!(
            "INGEST_SECRET is not set: the publish key is derived from it (set INGEST_SECRET or INGEST_SECRET_FILE as on the ingest host)"
        );
    };
    let key = publish_key(secret, event, ingest.key_version);
    Ok(vec![publish_url(
        &public_host(&loaded.config),
        ingest,
        &key,
    )])
}

/// Starts the ingest inside a process of `role` when this process runs it (see
/// [`streamgate_core::ingest::runs_here`]), following `configs`.
pub fn start_beside(
    loaded: &Loaded,
    role: Role,
    configs: watch::Receiver<Arc<Config>>,
    stop: CancellationToken,
) -> Option<Ingest> {
    if !streamgate_core::ingest::runs_here(&loaded.config, role) {
        return None;
    }
    let root = loaded.config.hls.stream_root.clone()?;
    let secret = loaded.secrets.ingest_secret.clone()?;
    // The ingest makes the folder it writes into; the HLS server then finds it.
    if let Err(e) = std::fs::create_dir_all(&root) {
        tracing::warn!("cannot create the stream root {}: {e}", root.display());
    }
    Some(Ingest::start(root, secret, configs, stop))
}

/// Runs the ingest alone until Ctrl-C or SIGTERM.
pub fn ingest(config: Option<PathBuf>, args: IngestArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let options = LoadOptions {
        config_path: config,
        env: Env::from_process(),
        role: Some(Role::Ingest),
        require_secrets: true,
    };
    let loaded = load_or_report(&options, "the ingest did not start")?;
    if !streamgate_core::ingest::runs_here(&loaded.config, Role::Ingest) {
        bail!("no event has an [events.ingest] table: there is nothing to ingest");
    }
    runtime()?.block_on(async move {
        let stop = CancellationToken::new();
        let (tx, rx) = watch::channel(Arc::new(loaded.config.clone()));
        let ingest = start_beside(&loaded, Role::Ingest, rx, stop.clone())
            .context("the ingest did not start")?;
        let follower = tokio::spawn(follow_file(options, tx, RELOAD_EVERY, stop.clone()));
        use poem::listener::Listener as _;
        let acceptor = poem::listener::TcpListener::bind(args.health_listen)
            .into_acceptor()
            .await
            .with_context(|| format!("cannot listen on {}", args.health_listen))?;
        tracing::info!(addr = %args.health_listen, "ingest health at /health and /metrics");
        let health = ingest.subscribe();
        let server = tokio::spawn(health_server(acceptor, health, stop.clone()));
        shutdown_signal().await;
        eprintln!("stopping the ingest (ffmpeg finishes its segments)...");
        stop.cancel();
        ingest.stopped().await;
        let _ = follower.await;
        let _ = server.await;
        Ok(ExitCode::SUCCESS)
    })
}

/// `GET /health` and `GET /metrics` for the ingest role, which has no HLS server to
/// report through; stops when `stop` is cancelled.
async fn health_server(
    acceptor: poem::listener::TcpAcceptor,
    health: watch::Receiver<Arc<Vec<IngestHealth>>>,
    stop: CancellationToken,
) {
    use poem::{EndpointExt as _, Route, Server, get};
    let app = Route::new()
        .at("/health", get(health_json))
        .at("/metrics", get(metrics_text))
        .data(health);
    let _ = Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(
            app,
            stop.cancelled_owned(),
            Some(std::time::Duration::from_secs(1)),
        )
        .await;
}

#[poem::handler]
fn health_json(
    poem::web::Data(health): poem::web::Data<&watch::Receiver<Arc<Vec<IngestHealth>>>>,
) -> poem::web::Json<serde_json::Value> {
    let snapshot = health.borrow().clone();
    poem::web::Json(serde_json::json!({
        "status": streamgate_core::ingest::overall_status(&snapshot),
        "ingest": *snapshot,
    }))
}

#[poem::handler]
fn metrics_text(
    poem::web::Data(health): poem::web::Data<&watch::Receiver<Arc<Vec<IngestHealth>>>>,
) -> poem::Response {
    let text = streamgate_core::ingest::render_metrics(&health.borrow());
    poem::Response::builder()
        .content_type("text/plain; version=0.0.4")
        .body(text)
}
