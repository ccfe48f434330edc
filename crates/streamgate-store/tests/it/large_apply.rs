//! A large apply on SQLite makes its codes without holding the write lock, so viewers
//! at the door keep getting in, and it still changes everything or nothing.

use crate::common;

use std::time::Duration;

use common::{TestDb, config, count, snapshot};
use streamgate_store::Store;
use streamgate_store::reconcile::{self, ApplyOptions};
use streamgate_store::sessions::{self, Redeem, Viewer};
use streamgate_store::testing::pool;

const BASE: &str = "[hls]\nstream_root = \"streams\"\n\n[[events]]\nid = \"live\"\ntitle = \"Live\"\nstarts_at = 2030-01-01T00:00:00Z\nends_at = 2030-01-02T00:00:00Z\n\n[[events.codes]]\nlabel = \"door\"\ncount = 5\n";

fn with_big(extra: &str) -> String {
    format!(
        "{BASE}\n[[events]]\nid = \"big\"\ntitle = \"Big\"\nstarts_at = 2030-01-01T00:00:00Z\nends_at = 2030-01-02T00:00:00Z\n\n[[events.codes]]\nlabel = \"tickets\"\ncount = 6000\n{extra}"
    )
}

/// Redeems one of the door codes from another connection on its own runtime, as a
/// second request would, and says whether it got in.
fn redeem_elsewhere(url: String, code: String) -> std::sync::mpsc::Receiver<bool> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let ok = runtime.block_on(async {
            let store = Store::connect(&url).await.expect("connect");
            let viewer = Viewer {
                ip: "192.0.2.3",
                user_agent: None,
            };
            let outcome = sessions::redeem(&store, &code, viewer, 60_000).await;
            store.close().await;
            matches!(outcome, Ok(Redeem::Started(_)))
        });
        let _ = tx.send(ok);
    });
    rx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redemption_gets_in_while_a_large_apply_makes_its_codes() {
    let db = TestDb::sqlite();
    let store = common::store(&db).await;
    reconcile::apply(&store, &config(BASE), ApplyOptions::default())
        .await
        .expect("base");
    let code: String = sqlx::query_scalar("SELECT code FROM access_codes LIMIT 1")
        .fetch_one(pool(&store))
        .await
        .expect("code");
    let mut checked = None;
    let mut progress = |made: u64, total: u64| {
        // Half way through making the codes, another request redeems. Were the write
        // lock held, it would wait out SQLite's busy timeout and fail.
        if checked.is_none() && made >= total / 2 {
            let got_in = redeem_elsewhere(db.url.clone(), code.clone())
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or(false);
            checked = Some(got_in);
        }
    };
    let report = reconcile::apply(
        &store,
        &config(&with_big("")),
        ApplyOptions {
            progress: Some(&mut progress),
            ..ApplyOptions::default()
        },
    )
    .await
    .expect("apply");
    assert_eq!(
        checked,
        Some(true),
        "the redemption during the apply got in"
    );
    assert_eq!(report.codes_made, 6000);
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(DISTINCT code) FROM access_codes WHERE event_id = 'big'"
        )
        .await,
        6000
    );
    let again = reconcile::apply(&store, &config(&with_big("")), ApplyOptions::default())
        .await
        .expect("second apply");
    assert!(again.plan.is_empty(), "{}", again.plan);
    store.close().await;
}

#[tokio::test]
async fn a_large_apply_that_fails_late_leaves_nothing_behind() {
    let db = TestDb::sqlite();
    let store = common::store(&db).await;
    reconcile::apply(&store, &config(BASE), ApplyOptions::default())
        .await
        .expect("base");
    sqlx::query("CREATE TRIGGER boom BEFORE INSERT ON access_codes WHEN NEW.label = 'boom' BEGIN SELECT RAISE(ABORT, 'injected failure'); END")
        .execute(pool(&store))
        .await
        .expect("trigger");
    let before = snapshot(&store).await;
    let failing = with_big("\n[[events.codes]]\nlabel = \"boom\"\ncount = 1\n");
    let err = reconcile::apply(&store, &config(&failing), ApplyOptions::default())
        .await
        .expect_err("the injected failure");
    assert!(err.to_string().contains("injected failure"), "{err}");
    assert_eq!(
        snapshot(&store).await,
        before,
        "the staged codes never became visible"
    );
    sqlx::query("DROP TRIGGER boom")
        .execute(pool(&store))
        .await
        .expect("drop");
    let report = reconcile::apply(&store, &config(&failing), ApplyOptions::default())
        .await
        .expect("apply");
    assert_eq!(report.codes_made, 6001);
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM access_codes WHERE event_id = 'big'"
        )
        .await,
        6001
    );
    store.close().await;
}
