//! Edit-to-effect latency of hot reload: how long after a save of `streamgate.toml`
//! the running configuration has the change, with the platform's settings (300 ms
//! debounce, reads compared 300 ms apart, 3 s periodic check). Not a test: it prints
//! p50/p99/max over EDITS saves (default 20), half by rename (editors) and half in place.
//!
//!   cargo run --release -p streamgate-store --example reload_latency -- [EDITS]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use streamgate_core::env::Env;
use streamgate_store::Store;
use streamgate_store::reconcile::{self, ApplyOptions};
use streamgate_store::watch::{self, ReloadStatus, WatchOptions};

fn text(title: &str) -> String {
    format!(
        "[hls]\nstream_root = \"streams\"\n\n[[events]]\nid = \"live\"\ntitle = \"{title}\"\nstarts_at = 2030-01-01T00:00:00Z\nends_at = 2030-01-02T00:00:00Z\n\n[[events.codes]]\nlabel = \"door\"\ncount = 50\n"
    )
}

fn config(text: &str) -> streamgate_core::Config {
    streamgate_core::load::load_text(Path::new("bench.toml"), Some(text), &Env::default(), None)
        .unwrap_or_else(|r| panic!("{r}"))
        .config
}

#[tokio::main]
async fn main() {
    let edits: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("streamgate.toml");
    let first = text("Edit 0");
    std::fs::write(&path, &first).expect("write");
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("b.db").display()))
        .await
        .expect("store");
    reconcile::apply(&store, &config(&first), ApplyOptions::default())
        .await
        .expect("apply");
    let status = Arc::new(Mutex::new(ReloadStatus::default()));
    let (config_tx, mut config_rx) = tokio::sync::watch::channel(Arc::new(config(&first)));
    let options = WatchOptions {
        path: path.clone(),
        env: Env::default(),
        role: None,
        debounce: Duration::from_millis(300),
        poll_interval: watch::DEFAULT_POLL_INTERVAL,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(watch::run(
        store.clone(),
        options,
        config_tx,
        status,
        async {
            let _ = stopped.await;
        },
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut took = Vec::new();
    for n in 1..=edits {
        let title = format!("Edit {n}");
        let started = Instant::now();
        if n % 2 == 0 {
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, text(&title)).expect("write");
            std::fs::rename(&tmp, &path).expect("rename");
        } else {
            std::fs::write(&path, text(&title)).expect("write");
        }
        while config_rx.borrow_and_update().events[0].title != title {
            tokio::time::timeout(Duration::from_secs(30), config_rx.changed())
                .await
                .expect("the edit applied in 30 s")
                .expect("watcher alive");
        }
        took.push(started.elapsed());
    }
    let _ = stop.send(());
    let _ = task.await;
    took.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pct = |p: f64| ms(took[((took.len() as f64 - 1.0) * p).round() as usize]);
    println!(
        "edit to effect over {edits} saves: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    store.close().await;
}
