//! Hot reload never applies a bad file: 100 random bad edits are each seen, refused and
//! reported while the database stays exactly as it was; the next good edit applies.

use crate::common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{config, count, save, settled_count, snapshot, wait_for, without_audit};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use streamgate_core::env::Env;
use streamgate_core::load::load_text;
use streamgate_store::reconcile::{self, ApplyOptions};
use streamgate_store::watch::{self, ReloadStatus, WatchOptions};

const GOOD: &str = r#"[hls]
stream_root = "streams"

[[events]]
id = "live"
title = "Live"
starts_at = 2030-01-01T18:00:00Z
ends_at = 2030-01-01T20:00:00Z

[[events.codes]]
label = "tickets"
count = 5
"#;

/// A broken variant of GOOD; which one depends on the seeded RNG.
fn bad_edit(rng: &mut StdRng, n: usize) -> String {
    loop {
        let text = match rng.random_range(0..10) {
            0 => {
                let at = rng.random_range(0..GOOD.len());
                let junk: String = (0..rng.random_range(1..8))
                    .map(|_| char::from(rng.random_range(b'!'..=b'~')))
                    .collect();
                format!("{}{junk}{}", &GOOD[..at], &GOOD[at..])
            }
            1 => GOOD.replace("[hls]\n", &format!("[hls]\nbogus_{n} = 1\n")),
            2 => GOOD.replace("count = 5", "count = \"five\""),
            3 => GOOD.replace(
                "starts_at = 2030-01-01T18:00:00Z",
                "starts_at = 2030-01-02T18:00:00Z",
            ),
            4 => GOOD.replace("id = \"live\"", &format!("id = \"Live {n}\"")),
            5 => format!(
                "[platform]\nsigning_secret = \"{}\"\n{GOOD}",
                "x".repeat(40)
            ),
            6 => GOOD[..rng.random_range(1..GOOD.len())].to_owned(),
            7 => format!(
                "{GOOD}\n[[events]]\nid = \"live\"\ntitle = \"Again\"\nstarts_at = 2030-01-01T18:00:00Z\nends_at = 2030-01-01T20:00:00Z\n"
            ),
            8 => GOOD.replace(
                "ends_at = 2030-01-01T20:00:00Z",
                "ends_at = 2030-01-01T20:00:00Z\naccess_window_hours = 999",
            ),
            _ => GOOD.replace("title = \"Live\"\n", ""),
        };
        let text = format!("# edit {n}\n{text}");
        // Some mutations (a cut after a whole table, junk inside a comment) still parse
        // into a valid file; only truly bad edits count.
        if load_text(
            Path::new("streamgate.toml"),
            Some(&text),
            &Env::default(),
            None,
        )
        .is_err()
        {
            return text;
        }
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hundred_bad_edits_change_nothing_and_the_next_good_edit_applies(db) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("streamgate.toml");
        std::fs::write(&path, GOOD).expect("write");
        let store = common::store(&db).await;
        reconcile::apply(&store, &config(GOOD), ApplyOptions::default())
            .await
            .expect("initial apply");
        let before = snapshot(&store).await;

        let status = Arc::new(Mutex::new(ReloadStatus::default()));
        let (config_tx, config_rx) = tokio::sync::watch::channel(Arc::new(config(GOOD)));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let options = WatchOptions {
            path: path.clone(),
            env: Env::default(),
            role: None,
            debounce: Duration::from_millis(40),
            poll_interval: Duration::from_millis(500),
        };
        let watcher = tokio::spawn(watch::run(
            store.clone(),
            options,
            config_tx,
            status.clone(),
            async {
                let _ = stop_rx.await;
            },
        ));
        // No wait for the watch to begin: an edit saved before it does is still seen
        // (the first check always reads the file), and the loop waits on each refusal.

        let mut rng = StdRng::seed_from_u64(2026);
        for n in 0..100 {
            save(&path, &bad_edit(&mut rng, n), n % 2 == 0);
            wait_for(&status, &format!("bad edit {n} to be refused"), |s| {
                s.rejected as usize > n
            })
            .await;
            assert!(
                !watcher.is_finished(),
                "{}: the watcher stopped at edit {n}",
                db.name
            );
        }
        {
            let s = status.lock().expect("status");
            assert_eq!(s.applies, 0, "{}: a bad edit was applied", db.name);
            let error = s.last_error.as_ref().expect("the last refusal is kept");
            assert!(!error.message.is_empty());
            assert!(
                error
                    .diagnostics
                    .iter()
                    .all(|d| d.location.to_string().contains("streamgate.toml")),
                "{}: refusals point into the file: {:?}",
                db.name,
                error.diagnostics
            );
        }
        assert_eq!(
            without_audit(snapshot(&store).await),
            without_audit(before),
            "{}: bad edits changed the database",
            db.name
        );
        // The status counts a refusal before its audit entry is written (the console
        // hears of it without waiting on the database).
        assert_eq!(
            settled_count(
                &store,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'config.refused' AND outcome = 'refused'",
                100,
            )
            .await,
            100,
            "{}: every refused edit is an audit entry",
            db.name
        );
        assert_eq!(
            config_rx.borrow().events[0].codes[0].count,
            5,
            "the running config is the last good one"
        );

        save(
            &path,
            &GOOD
                .replace("count = 5", "count = 7")
                .replace("title = \"Live\"", "title = \"Live now\""),
            true,
        );
        wait_for(&status, "the good edit to apply", |s| s.applies == 1).await;
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM access_codes WHERE batch = 'tickets'"
            )
            .await,
            7,
            "{}",
            db.name
        );
        assert_eq!(config_rx.borrow().events[0].title, "Live now");
        assert!(
            status.lock().expect("status").last_error.is_none(),
            "a good apply clears the error"
        );

        // A setting that cannot change live is reported and keeps its value.
        save(
            &path,
            &GOOD
                .replace("count = 5", "count = 7")
                .replace("title = \"Live\"", "title = \"Live now\"")
                .replace("stream_root = \"streams\"", "stream_root = \"elsewhere\""),
            true,
        );
        wait_for(&status, "the restart-only edit", |s| s.applies == 2).await;
        assert!(
            status.lock().expect("status").restart_required[0]
                .starts_with("hls.stream_root: restart required")
        );
        assert_eq!(
            config_rx.borrow().hls.stream_root.as_deref(),
            Some(Path::new("streams"))
        );

        let _ = stop_tx.send(());
        watcher
            .await
            .expect("joined")
            .expect("the watcher ends cleanly");
        store.close().await;
        db.cleanup().await;
    }
}
