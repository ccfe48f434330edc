//! The one shutdown primitive of both services (the mini-redis pattern, with tokio-util's
//! library types): a [`CancellationToken`] says "stop", a [`TaskTracker`] knows every
//! background task, and each task's end is looked at rather than dropped.
//!
//! Stopping happens in two steps. [`Supervisor::stopping`] is cancelled first (by the
//! signal, by `stop()`, or by a failed task): the HTTP server stops accepting and
//! drains, and long waits (the revocation feed's, session event streams) answer at
//! once. Then [`Supervisor::finish`] cancels [`Supervisor::background`], so the
//! background tasks (config watcher, revocation sync, ...) stop after the drain, and
//! waits for all of them.
//!
//! A background task that panics or returns an error is logged and stops the service,
//! which then ends with that [`TaskFailure`] (a non-zero exit), instead of vanishing
//! while the service serves on without it.

use std::fmt::Display;
use std::future::Future;
use std::sync::{Arc, Mutex};

pub use tokio_util::sync::CancellationToken;
pub use tokio_util::task::TaskTracker;

/// Why a background task ended the service.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("background task `{task}` {reason}")]
pub struct TaskFailure {
    /// The task's name, as given to [`Supervisor::spawn`].
    pub task: &'static str,
    /// `failed: <error>` or `panicked: <message>`.
    pub reason: String,
}

/// The stop tokens, the task tracker and the first failure of one service.
#[derive(Debug, Clone, Default)]
pub struct Supervisor {
    stopping: CancellationToken,
    background: CancellationToken,
    tracker: TaskTracker,
    failure: Arc<Mutex<Option<TaskFailure>>>,
}

impl Supervisor {
    /// A supervisor with nothing stopped and no task.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancelled when the service begins to stop: requests drain, waits answer.
    pub fn stopping(&self) -> &CancellationToken {
        &self.stopping
    }

    /// Cancelled after the drain: what background tasks watch to end.
    pub fn background(&self) -> CancellationToken {
        self.background.clone()
    }

    /// Begins stopping the service (what SIGTERM does).
    pub fn stop(&self) {
        self.stopping.cancel();
    }

    /// Resolves when `signal` does or the service begins stopping for another reason,
    /// and then makes sure it is stopping: the future the HTTP server drains on.
    pub async fn until_stopped(&self, signal: impl Future<Output = ()>) {
        tokio::select! {
            () = signal => {}
            () = self.stopping.cancelled() => {}
        }
        self.stopping.cancel();
    }

    /// Runs `task` in the background under the name `task_name`. If it returns an
    /// error or panics, that is logged, remembered for [`Self::finish`], and the
    /// service begins stopping.
    pub fn spawn<F, E>(&self, task_name: &'static str, task: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: Display + Send + 'static,
    {
        let handle = self.tracker.spawn(task);
        let this = self.clone();
        self.tracker.spawn(async move {
            let reason = match handle.await {
                Ok(Ok(())) => return,
                Ok(Err(e)) => format!("failed: {e}"),
                Err(e) if e.is_panic() => format!("panicked: {}", panic_message(e.into_panic())),
                // Aborted: the runtime is going away; nothing was lost that matters.
                Err(_) => return,
            };
            this.fail(TaskFailure {
                task: task_name,
                reason,
            });
        });
    }

    /// Records `failure` (the first one wins), logs it and begins stopping.
    pub fn fail(&self, failure: TaskFailure) {
        tracing::error!("{failure}; stopping the service");
        let mut slot = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(failure);
        drop(slot);
        self.stopping.cancel();
    }

    /// After the drain: stops the background tasks, waits for every one, and returns
    /// the first failure, if any.
    pub async fn finish(&self) -> Result<(), TaskFailure> {
        self.stopping.cancel();
        self.background.cancel();
        self.tracker.close();
        self.tracker.wait().await;
        let slot = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        slot.clone().map_or(Ok(()), Err)
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failing_task_stops_the_service_and_is_reported() {
        let supervisor = Supervisor::new();
        let background = supervisor.background();
        supervisor.spawn("steady", async move {
            background.cancelled().await;
            Ok::<(), String>(())
        });
        supervisor.spawn("broken", async { Err::<(), _>("disk full") });
        supervisor.stopping().cancelled().await;
        let failure = supervisor.finish().await.expect_err("the failure is kept");
        assert_eq!(failure.task, "broken");
        assert_eq!(failure.reason, "failed: disk full");
    }

    #[tokio::test]
    async fn a_panicking_task_is_not_lost() {
        let supervisor = Supervisor::new();
        supervisor.spawn("watcher", async {
            if panics_at_run_time() {
                panic!("watcher exploded");
            }
            Ok::<(), String>(())
        });
        supervisor.stopping().cancelled().await;
        let failure = supervisor.finish().await.expect_err("the panic is kept");
        assert_eq!(
            failure.to_string(),
            "background task `watcher` panicked: watcher exploded"
        );
    }

    #[tokio::test]
    async fn a_clean_stop_reports_nothing() {
        let supervisor = Supervisor::new();
        let background = supervisor.background();
        supervisor.spawn("steady", async move {
            background.cancelled().await;
            Ok::<(), String>(())
        });
        supervisor.until_stopped(async {}).await;
        assert!(supervisor.stopping().is_cancelled());
        assert_eq!(supervisor.finish().await, Ok(()));
    }

    fn panics_at_run_time() -> bool {
        true
    }
}
