//! What the store's test binaries share on top of `streamgate-testkit`.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use streamgate_core::Config;
use streamgate_core::env::Env;
use streamgate_store::Store;
use streamgate_store::testing::pool;
use streamgate_store::watch::{self, ReloadStatus, WatchOptions};
pub use streamgate_testkit::TestDb;

/// A migrated store on a test database.
pub async fn store(db: &TestDb) -> Store {
    Store::connect(&db.url)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", db.name))
}

/// A validated configuration from TOML text, as the loader would give it.
pub fn config(text: &str) -> Config {
    streamgate_core::load::load_text(Path::new("test.toml"), Some(text), &Env::default(), None)
        .unwrap_or_else(|r| panic!("test config invalid:\n{r}"))
        .config
}

/// Every row of every table (see `streamgate_testkit::snapshot`).
pub async fn snapshot(store: &Store) -> Vec<String> {
    streamgate_testkit::snapshot(pool(store)).await
}

/// A snapshot without the audit log, which records every refusal and apply.
pub fn without_audit(rows: Vec<String>) -> Vec<String> {
    rows.into_iter()
        .filter(|r| !r.starts_with("audit_log|"))
        .collect()
}

/// One number from a query.
pub async fn count(store: &Store, sql: &'static str) -> i64 {
    streamgate_testkit::count(pool(store), sql).await
}

/// [`count`] once it reaches `want`, or after 20 s whatever it is: for rows written just
/// after what the test waited on (a refusal is on the status before it is in the audit
/// log), so that the caller's assertion compares the settled number.
pub async fn settled_count(store: &Store, sql: &'static str, want: i64) -> i64 {
    streamgate_testkit::eventually(Duration::from_secs(20), || async {
        count(store, sql).await >= want
    })
    .await;
    count(store, sql).await
}

/// Writes like an editor (new file renamed over the old) or in place.
pub fn save(path: &Path, text: &str, by_rename: bool) {
    if by_rename {
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, text).expect("write temp");
        std::fs::rename(&tmp, path).expect("rename");
    } else {
        std::fs::write(path, text).expect("write");
    }
}

/// Waits (up to 20 s) until the reload status satisfies `pred`.
pub async fn wait_for(
    status: &Arc<Mutex<ReloadStatus>>,
    what: &str,
    pred: impl Fn(&ReloadStatus) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if pred(&status.lock().expect("status")) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {:?}",
            status.lock().expect("status")
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A hot-reload watcher running in a task, as the platform runs it.
pub struct Watching {
    /// Its status.
    pub status: Arc<Mutex<ReloadStatus>>,
    /// The running configuration.
    pub config: tokio::sync::watch::Receiver<Arc<Config>>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), streamgate_store::StoreError>>,
}

impl Watching {
    /// Watches `path` (whose `running` text was applied) with a short debounce and the
    /// given periodic check.
    pub async fn start(store: &Store, path: &Path, running: &str, poll: Duration) -> Self {
        let status = Arc::new(Mutex::new(ReloadStatus::default()));
        watch::record_apply(&status);
        let (config_tx, config_rx) = tokio::sync::watch::channel(Arc::new(config(running)));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let options = WatchOptions {
            path: path.to_path_buf(),
            env: Env::default(),
            role: None,
            debounce: Duration::from_millis(40),
            poll_interval: poll,
        };
        let task = tokio::spawn(watch::run(
            store.clone(),
            options,
            config_tx,
            status.clone(),
            async {
                let _ = stopped.await;
            },
        ));
        // The tests that set no periodic check prove that edits are seen by event:
        // none may be saved before the watches are in place.
        wait_for(&status, "the watches to be in place", |s| s.watching).await;
        Self {
            status,
            config: config_rx,
            stop,
            task,
        }
    }

    /// Applies and refusals so far.
    pub fn counts(&self) -> (u64, u64) {
        let s = self.status.lock().expect("status");
        (s.applies, s.rejected)
    }

    /// Stops the watcher and checks it ended cleanly.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("joined")
            .expect("the watcher ends cleanly");
    }
}

/// Two config events with a batch each, the fixture of the destroy-guard tests.
pub const TWO_EVENTS: &str = r#"#:schema ./schemas/streamgate.schema.json
[hls]
stream_root = "streams"

[[events]]
id = "keynote"
title = "Keynote"
starts_at = 2030-01-01T18:00:00Z
ends_at = 2030-01-01T20:00:00Z

[[events.codes]]
label = "public"
count = 3

[[events]]
id = "workshop"
title = "Workshop"
starts_at = 2030-02-01T09:00:00Z
ends_at = 2030-02-01T12:00:00Z

[[events.codes]]
label = "all"
count = 3
"#;

/// Redeems one code of `event` as a viewer would, so that it holds a redeemed code and
/// a live session.
pub async fn redeem_one(store: &Store, event: &str) {
    let code: String =
        sqlx::query_scalar("SELECT code FROM access_codes WHERE event_id = $1 LIMIT 1")
            .bind(event)
            .fetch_one(pool(store))
            .await
            .expect("a code");
    let viewer = streamgate_store::sessions::Viewer {
        ip: "192.0.2.7",
        user_agent: Some("test"),
    };
    let outcome = streamgate_store::sessions::redeem(store, &code, viewer, 60_000)
        .await
        .expect("redeem");
    assert!(
        matches!(outcome, streamgate_store::sessions::Redeem::Started(_)),
        "{outcome:?}"
    );
}
