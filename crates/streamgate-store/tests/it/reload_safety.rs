//! A hot reload is never the way an audience loses access (issue: config safety):
//! empty, comment-only, truncated and slowly written saves change nothing and are
//! reported; ConfigMap `..data` swaps, symlinked files and changed link targets are
//! reloaded; a deleted and restored file clears its error; a file system without
//! events is caught by the periodic check.

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{
    TWO_EVENTS, TestDb, Watching, config, count, redeem_one, save, settled_count, snapshot,
    wait_for, without_audit,
};
use streamgate_store::Store;
use streamgate_store::reconcile::{self, ApplyOptions};

/// No event-driven reload may wait for this: a test that sets it proves events work.
const NO_POLL: Duration = Duration::from_secs(3600);

/// A store with TWO_EVENTS applied and one workshop code redeemed.
async fn sold_store(db: &TestDb) -> Store {
    let store = common::store(db).await;
    reconcile::apply(&store, &config(TWO_EVENTS), ApplyOptions::default())
        .await
        .expect("first apply");
    redeem_one(&store, "workshop").await;
    store
}

async fn deactivations(store: &Store) -> i64 {
    count(
        store,
        "SELECT COUNT(*) FROM revocation_log WHERE kind = 'event_deactivated'",
    )
    .await
}

fn last_error(w: &Watching) -> String {
    let s = w.status.lock().expect("status");
    let e = s.last_error.as_ref().expect("a refusal is shown");
    assert!(s.is_degraded());
    e.message.clone()
}

streamgate_testkit::backend_tests! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn empty_whitespace_and_comment_only_saves_change_nothing(db) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("streamgate.toml");
        std::fs::write(&path, TWO_EVENTS).expect("write");
        let store = sold_store(&db).await;
        let before = without_audit(snapshot(&store).await);
        let w = Watching::start(&store, &path, TWO_EVENTS, Duration::from_millis(300)).await;

        let blanks = [
            "",
            "   \n\t\n  ",
            "#:schema ./schemas/streamgate.schema.json\n",
            "# everything moved elsewhere\n\n# (nothing here)\n",
        ];
        for (n, blank) in blanks.iter().enumerate() {
            save(&path, blank, n % 2 == 0);
            wait_for(&w.status, &format!("blank save {n} refused"), |s| {
                s.rejected as usize > n
            })
            .await;
            let message = last_error(&w);
            assert!(
                message.contains("declares nothing") && message.contains("[rule empty-file]"),
                "{}: {message}",
                db.name
            );
        }
        assert_eq!(without_audit(snapshot(&store).await), before, "{}", db.name);
        assert_eq!(
            settled_count(
                &store,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'config.refused'",
                4,
            )
            .await,
            4,
            "{}: each refusal is audited",
            db.name
        );
        save(&path, TWO_EVENTS, true);
        wait_for(&w.status, "the restored file to clear the error", |s| {
            s.last_error.is_none()
        })
        .await;
        assert_eq!(w.counts(), (1, 4), "{}: nothing was applied", db.name);
        w.stop().await;
        store.close().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn truncated_and_slow_saves_never_retire_a_sold_event(db) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("streamgate.toml");
        std::fs::write(&path, TWO_EVENTS).expect("write");
        let store = sold_store(&db).await;
        let before = without_audit(snapshot(&store).await);
        let w = Watching::start(&store, &path, TWO_EVENTS, Duration::from_millis(300)).await;
        let cut = TWO_EVENTS
            .find("[[events]]\nid = \"workshop\"")
            .expect("boundary");

        // A save cut short exactly at an event boundary is valid TOML.
        save(&path, &TWO_EVENTS[..cut], false);
        wait_for(&w.status, "the truncated save refused", |s| s.rejected == 1).await;
        let message = last_error(&w);
        assert!(
            message.contains("refusing to retire an event removed from the file: `workshop` (1 redeemed code still valid, 1 viewer watching now)"),
            "{}: {message}",
            db.name
        );

        // An in-place save that pauses for 1.2 s half-way, as a slow writer does.
        {
            use std::io::Write;
            let mut file = std::fs::File::create(&path).expect("truncate");
            file.write_all(&TWO_EVENTS.as_bytes()[..cut])
                .expect("first half");
            file.sync_all().expect("sync");
            tokio::time::sleep(Duration::from_millis(1200)).await;
            file.write_all(&TWO_EVENTS.as_bytes()[cut..])
                .expect("second half");
        }
        wait_for(&w.status, "the whole file to clear the error", |s| {
            s.last_error.is_none()
        })
        .await;
        assert_eq!(without_audit(snapshot(&store).await), before, "{}", db.name);
        assert_eq!(
            deactivations(&store).await,
            0,
            "{}: no edge was told to stop",
            db.name
        );
        assert_eq!(w.counts().0, 1, "{}: nothing was applied", db.name);
        w.stop().await;
        store.close().await;
        db.cleanup().await;
    }
}

/// Lays out a directory as the kubelet does for a ConfigMap volume, with `text` in a
/// new timestamped directory that `..data` is swapped to atomically.
fn configmap_update(root: &Path, generation: u32, text: &str) {
    let data = format!("..2026_12_01_{generation:04}");
    std::fs::create_dir(root.join(&data)).expect("mkdir");
    std::fs::write(root.join(&data).join("streamgate.toml"), text).expect("write");
    let _ = std::fs::remove_file(root.join("..data_tmp"));
    std::os::unix::fs::symlink(&data, root.join("..data_tmp")).expect("link");
    std::fs::rename(root.join("..data_tmp"), root.join("..data")).expect("swap");
    if generation > 0 {
        let old = format!("..2026_12_01_{:04}", generation - 1);
        std::fs::remove_dir_all(root.join(old)).expect("remove old");
    } else {
        std::os::unix::fs::symlink("..data/streamgate.toml", root.join("streamgate.toml"))
            .expect("link");
    }
}

async fn wait_title(w: &Watching, title: &str) -> Duration {
    let started = Instant::now();
    let mut config = w.config.clone();
    let deadline = started + Duration::from_secs(20);
    while config.borrow_and_update().events[0].title != title {
        assert!(
            Instant::now() < deadline,
            "title never became {title}: {:?}",
            w.status
        );
        let _ = tokio::time::timeout(Duration::from_millis(100), config.changed()).await;
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configmap_data_swap_is_reloaded_every_time() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().expect("tempdir");
    configmap_update(dir.path(), 0, TWO_EVENTS);
    let store = sold_store(&db).await;
    let path = dir.path().join("streamgate.toml");
    let w = Watching::start(&store, &path, TWO_EVENTS, NO_POLL).await;
    for generation in 1..=3 {
        let title = format!("Keynote v{generation}");
        configmap_update(
            dir.path(),
            generation,
            &TWO_EVENTS.replace("title = \"Keynote\"", &format!("title = \"{title}\"")),
        );
        let took = wait_title(&w, &title).await;
        eprintln!("configmap swap {generation} reloaded in {took:?}");
    }
    assert_eq!(w.counts(), (4, 0));
    w.stop().await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlinked_file_follows_its_target_and_target_changes() {
    let db = TestDb::sqlite();
    let checkout = tempfile::tempdir().expect("checkout");
    let served = tempfile::tempdir().expect("served");
    let target = checkout.path().join("streamgate.toml");
    std::fs::write(&target, TWO_EVENTS).expect("write");
    let path = served.path().join("streamgate.toml");
    std::os::unix::fs::symlink(&target, &path).expect("link");
    let store = sold_store(&db).await;
    let w = Watching::start(&store, &path, TWO_EVENTS, NO_POLL).await;

    // `git pull` in the checkout replaces the file by rename.
    save(
        &target,
        &TWO_EVENTS.replace("title = \"Keynote\"", "title = \"Pulled\""),
        true,
    );
    wait_title(&w, "Pulled").await;

    // The link is pointed at another file (atomically, as `ln -sfn` + rename does).
    let other = checkout.path().join("other.toml");
    std::fs::write(
        &other,
        TWO_EVENTS.replace("title = \"Keynote\"", "title = \"Other\""),
    )
    .expect("write");
    let tmp = served.path().join("streamgate.toml.new");
    std::os::unix::fs::symlink(&other, &tmp).expect("link");
    std::fs::rename(&tmp, &path).expect("swap link");
    wait_title(&w, "Other").await;

    // And edits of the new target are seen.
    save(
        &other,
        &TWO_EVENTS.replace("title = \"Keynote\"", "title = \"Other, edited\""),
        false,
    );
    wait_title(&w, "Other, edited").await;
    assert_eq!(w.counts(), (4, 0));
    w.stop().await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_and_restored_file_clears_its_error() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("streamgate.toml");
    std::fs::write(&path, TWO_EVENTS).expect("write");
    let store = sold_store(&db).await;
    let w = Watching::start(&store, &path, TWO_EVENTS, NO_POLL).await;
    let edited = TWO_EVENTS.replace("title = \"Keynote\"", "title = \"Edited\"");
    save(&path, &edited, true);
    wait_title(&w, "Edited").await;

    std::fs::remove_file(&path).expect("delete");
    wait_for(&w.status, "the deletion reported", |s| s.rejected == 1).await;
    assert!(last_error(&w).contains("cannot read"), "{}", last_error(&w));
    save(&path, &edited, true);
    wait_for(&w.status, "the restored file to clear the error", |s| {
        s.last_error.is_none()
    })
    .await;
    assert_eq!(
        w.counts(),
        (2, 1),
        "restoring the running content applies nothing"
    );
    w.stop().await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_periodic_check_catches_a_file_no_event_announced() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().expect("tempdir");
    // The directory does not exist yet, so nothing can be watched there at first.
    let mount = dir.path().join("mount");
    let path = mount.join("streamgate.toml");
    let store = sold_store(&db).await;
    let w = Watching::start(&store, &path, TWO_EVENTS, Duration::from_millis(300)).await;
    wait_for(&w.status, "the missing file reported", |s| s.rejected == 1).await;
    std::fs::create_dir(&mount).expect("mount");
    std::fs::write(
        &path,
        TWO_EVENTS.replace("title = \"Keynote\"", "title = \"Mounted\""),
    )
    .expect("write");
    wait_title(&w, "Mounted").await;
    assert!(w.status.lock().expect("status").last_error.is_none());
    w.stop().await;
    store.close().await;
}
