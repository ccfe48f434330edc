//! The ingest service following its configuration, and how it fails: an ffmpeg that
//! cannot run and an RTMP port somebody else holds are reported as `failed` with the
//! reason (and `degraded` overall) instead of vanishing; a fixed configuration recovers
//! without a restart; an event that loses its `[events.ingest]` stops being ingested.

use std::sync::Arc;
use std::time::{Duration, Instant};

use streamgate_core::env::Env;
use streamgate_core::ingest::{IngestHealth, IngestState, overall_status};
use streamgate_core::load::load_text;
use streamgate_core::{Config, Secret};
use streamgate_ingest::Ingest;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

fn config(extra: &str, port: u16, protocol: &str) -> Config {
    let text = format!(
        "[hls]\nstream_root = \"streams\"\n\n[ingest]\nbind = \"127.0.0.1\"\n{extra}\n\
         [[events]]\nid = \"live\"\ntitle = \"Live\"\nstarts_at = 2026-01-01T00:00:00Z\n\
         ends_at = 2099-01-01T00:00:00Z\n\n[events.ingest]\nprotocol = \"{protocol}\"\nport = {port}\n"
    );
    load_text(
        std::path::Path::new("t.toml"),
        Some(&text),
        &Env::default(),
        None,
    )
    .unwrap_or_else(|r| panic!("{r}"))
    .config
}

async fn wait_for(ingest: &Ingest, what: &str, check: impl Fn(&[IngestHealth]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let health = ingest.health();
        if check(&health) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {health:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn secret() -> Secret {
    Secret::new("service-test-ingest-secret-0123456789")
}

#[tokio::test]
async fn a_missing_ffmpeg_is_reported_and_a_fixed_config_recovers() {
    let root = tempfile::tempdir().expect("tmp");
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("port")
        .port();
    let (tx, rx) = watch::channel(Arc::new(config(
        "ffmpeg = \"/nonexistent/ffmpeg\"",
        port,
        "srt",
    )));
    let stop = CancellationToken::new();
    let ingest = Ingest::start(root.path().to_owned(), secret(), rx, stop.clone());
    wait_for(&ingest, "failed with the reason", |h| {
        h.len() == 1
            && h[0].state == IngestState::Failed
            && h[0]
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("cannot run `/nonexistent/ffmpeg`"))
    })
    .await;
    assert_eq!(overall_status(&ingest.health()), "degraded");

    // The operator fixes the file; the running service follows.
    tx.send_replace(Arc::new(config("", port, "srt")));
    wait_for(&ingest, "waiting for the encoder", |h| {
        h.len() == 1 && h[0].state == IngestState::Waiting
    })
    .await;
    assert_eq!(overall_status(&ingest.health()), "ok");

    // The event loses its ingest: it is no longer ingested (its files stay).
    let mut without = config("", port, "srt");
    without.events[0].ingest = None;
    tx.send_replace(Arc::new(without));
    wait_for(&ingest, "no ingest left", |h| h.is_empty()).await;
    stop.cancel();
    ingest.stopped().await;
}

#[tokio::test]
async fn an_rtmp_port_in_use_is_reported_until_it_is_free() {
    let root = tempfile::tempdir().expect("tmp");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let (_tx, rx) = watch::channel(Arc::new(config("", port, "rtmp")));
    let stop = CancellationToken::new();
    let ingest = Ingest::start(root.path().to_owned(), secret(), rx, stop.clone());
    wait_for(&ingest, "failed: port in use", |h| {
        h.len() == 1
            && h[0].state == IngestState::Failed
            && h[0]
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains(&format!("cannot listen on TCP 127.0.0.1:{port}")))
    })
    .await;
    drop(taken);
    // The gate retries every few seconds and then ffmpeg waits behind it.
    wait_for(&ingest, "waiting once the port is free", |h| {
        h.len() == 1 && h[0].state == IngestState::Waiting
    })
    .await;
    stop.cancel();
    ingest.stopped().await;
}
