//! Waking the revocation feed's waiting requests. An HLS edge asks for entries after its
//! cursor and may wait; the answer goes out as soon as the log grows. This process bumps
//! a counter after its own writes; on PostgreSQL a LISTEN connection bumps it when any
//! platform process commits (the store NOTIFYs inside the appending transaction); and a
//! short re-check interval covers writers that can do neither (another process on the
//! same SQLite file, the reconciler), so nothing waits longer than that interval.

use std::time::Duration;

use streamgate_core::tasks::CancellationToken;
use streamgate_store::{Store, StoreError};
use tokio::sync::watch;

/// How often a waiting request re-reads the log when nothing woke it.
pub const RECHECK: Duration = Duration::from_millis(250);

/// The wake-up signal shared by the handlers.
#[derive(Debug)]
pub struct FeedSignal {
    tx: watch::Sender<u64>,
}

impl Default for FeedSignal {
    fn default() -> Self {
        Self {
            tx: watch::channel(0).0,
        }
    }
}

impl FeedSignal {
    /// Something was appended: wake every waiter.
    pub fn bump(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that sees the next bump.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }

    /// How many receivers are waiting for a bump now (waiting feed requests and open
    /// session-event streams): tests wait for a request to be parked instead of
    /// sleeping a guessed while before they log something.
    pub fn waiters(&self) -> usize {
        self.tx.receiver_count()
    }
}

/// Listens for other processes' appends on PostgreSQL until `shutdown`, subscribing
/// again after errors. Returns at once for SQLite.
pub async fn listen_postgres(
    store: Store,
    signal: std::sync::Arc<FeedSignal>,
    shutdown: CancellationToken,
) {
    loop {
        let listener = async {
            let Some(mut subscription) = store.subscribe_revocations().await? else {
                // SQLite: nothing to listen to; waiters re-check on their own.
                return Ok::<(), StoreError>(());
            };
            tracing::debug!("listening for revocation notifications");
            loop {
                subscription.next().await?;
                signal.bump();
            }
        };
        tokio::select! {
            result = listener => {
                match result {
                    Ok(()) => return,
                    Err(e) => tracing::warn!("revocation LISTEN connection lost, retrying in 1 s: {e}"),
                }
                // Something may have been missed while reconnecting: wake waiters so
                // they re-read the log.
                signal.bump();
            }
            () = shutdown.cancelled() => return,
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            () = shutdown.cancelled() => return,
        }
    }
}
