//! Hot reload where no platform runs beside the ingest (`streamgate hls` with a stream
//! root, `streamgate ingest`): the config file is read every few seconds and a changed
//! file that loads cleanly replaces the running configuration. A file that does not
//! load is reported once and the last good configuration keeps running, as on the
//! platform. (Where the platform runs, `up`, the ingest follows the platform's own
//! watcher instead.)

use std::sync::Arc;
use std::time::Duration;

use streamgate_core::{Config, LoadOptions, load};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How often the file is read.
pub const RELOAD_EVERY: Duration = Duration::from_secs(3);

/// Follows the file of `options` until `stop`, sending each good new configuration.
pub async fn follow_file(
    options: LoadOptions,
    configs: watch::Sender<Arc<Config>>,
    every: Duration,
    stop: CancellationToken,
) {
    let path = streamgate_core::load::config_path(&options).0;
    let mut seen = std::fs::read(&path).ok();
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let bytes = std::fs::read(&path).ok();
        if bytes == seen {
            continue;
        }
        seen = bytes;
        match load(&options) {
            Ok(loaded) => {
                tracing::info!(path = %path.display(), "config file changed: ingest follows it");
                configs.send_if_modified(|current| {
                    let changed = **current != loaded.config;
                    *current = Arc::new(loaded.config);
                    changed
                });
            }
            Err(report) => tracing::warn!(
                path = %path.display(),
                "config file changed but does not load; the running configuration stays:\n{report}"
            ),
        }
    }
}
