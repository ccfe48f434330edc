//! Waiting for what a test can observe instead of sleeping a guessed while: a test
//! that sleeps is slow when the machine is fast and flaky when it is slow.

use std::time::{Duration, Instant};

/// Polls `check` every 20 ms until it is true or `bound` passes; returns whether it
/// became true. Bounds are generous: they catch "never", not "slow".
pub async fn eventually<F, Fut>(bound: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return true;
        }
        if start.elapsed() > bound {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
