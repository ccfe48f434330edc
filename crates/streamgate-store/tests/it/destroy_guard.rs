//! The destroy guard (DESIGN.md section 7): an apply retires an event that still has
//! redeemed codes or viewers only when asked, and `plan` shows every destroy; removed
//! or renamed batches and codes that expire before their event are warned about.
//! On SQLite and on a fresh PostgreSQL database.

use crate::common;

use common::{TWO_EVENTS, config, count, redeem_one, snapshot};
use streamgate_store::reconcile::{self, ApplyOptions, PlanOptions};
use streamgate_store::testing::pool;
use streamgate_store::{Store, StoreError};

/// TWO_EVENTS cut short after the first event, as a truncated save leaves it.
fn keynote_only() -> String {
    TWO_EVENTS[..TWO_EVENTS
        .find("[[events]]\nid = \"workshop\"")
        .expect("cut")]
        .to_owned()
}

async fn apply(
    store: &Store,
    text: &str,
    allow_retire: bool,
) -> Result<reconcile::ApplyReport, StoreError> {
    reconcile::apply(
        store,
        &config(text),
        ApplyOptions {
            allow_retire,
            ..ApplyOptions::default()
        },
    )
    .await
}

async fn workshop_active(store: &Store) -> i64 {
    count(store, "SELECT is_active FROM events WHERE id = 'workshop'").await
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn removing_an_event_with_a_redeemed_code_is_refused_until_allowed(db) {
        let store = common::store(&db).await;
        apply(&store, TWO_EVENTS, false).await.expect("first apply");
        redeem_one(&store, "workshop").await;
        let before = snapshot(&store).await;

        let plan = reconcile::plan(&store, &config(&keynote_only()), PlanOptions::default())
            .await
            .expect("plan");
        let shown = plan.to_string();
        assert!(plan.is_refused(), "{}: {shown}", db.name);
        assert!(
            shown.contains("! DESTROY event workshop")
                && shown.contains("1 redeemed code still valid, 1 viewer watching now"),
            "{}: the destroy is marked with what it cuts off:\n{shown}",
            db.name
        );
        assert!(shown.contains("--allow-retire"), "{shown}");

        match apply(&store, &keynote_only(), false).await {
            Err(StoreError::Guarded(messages)) => {
                let m = messages.join("\n");
                assert!(
                    m.contains("`workshop`")
                        && m.contains("active = false")
                        && m.contains("--allow-retire"),
                    "{m}"
                );
                assert!(
                    !m.contains("`keynote`"),
                    "only the removed event is named: {m}"
                );
            }
            other => panic!("{}: expected the guard to refuse, got {other:?}", db.name),
        }
        assert_eq!(
            snapshot(&store).await,
            before,
            "{}: a refused apply changed rows",
            db.name
        );

        // Said in the file: the event's block stays, switched off.
        let off = TWO_EVENTS.replace(
            "ends_at = 2030-02-01T12:00:00Z\n",
            "ends_at = 2030-02-01T12:00:00Z\nactive = false\n",
        );
        apply(&store, &off, false)
            .await
            .expect("active = false is a deliberate retire");
        assert_eq!(workshop_active(&store).await, 0, "{}", db.name);
        apply(&store, TWO_EVENTS, false).await.expect("back on");
        assert_eq!(workshop_active(&store).await, 1, "{}", db.name);

        // Said on the command line.
        let plan = reconcile::plan(
            &store,
            &config(&keynote_only()),
            PlanOptions {
                prune: false,
                allow_retire: true,
            },
        )
        .await
        .expect("plan");
        assert!(!plan.is_refused(), "{}: {plan}", db.name);
        apply(&store, &keynote_only(), true)
            .await
            .expect("--allow-retire retires");
        assert_eq!(workshop_active(&store).await, 0, "{}", db.name);
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM access_codes WHERE event_id = 'workshop'"
            )
            .await,
            3,
            "{}: retiring keeps the codes",
            db.name
        );
        store.close().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn an_event_nobody_bought_into_or_whose_codes_expired_retires_freely(db) {
        let store = common::store(&db).await;
        apply(&store, TWO_EVENTS, false).await.expect("first apply");
        apply(&store, &keynote_only(), false)
            .await
            .expect("no redeemed codes: retire");
        assert_eq!(workshop_active(&store).await, 0, "{}", db.name);

        // A redeemed code that has expired holds nothing.
        apply(&store, TWO_EVENTS, false).await.expect("back");
        redeem_one(&store, "workshop").await;
        sqlx::query("UPDATE access_codes SET expires_at = 1 WHERE event_id = 'workshop'")
            .execute(pool(&store))
            .await
            .expect("expire");
        sqlx::query("UPDATE sessions SET last_heartbeat = 1")
            .execute(pool(&store))
            .await
            .expect("go stale");
        apply(&store, &keynote_only(), false)
            .await
            .expect("expired codes, no viewers: retire");
        assert_eq!(workshop_active(&store).await, 0, "{}", db.name);
        store.close().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn a_live_session_alone_holds_an_event(db) {
        let store = common::store(&db).await;
        apply(&store, TWO_EVENTS, false).await.expect("first apply");
        redeem_one(&store, "workshop").await;
        // The code's redemption no longer counts (revoked), but someone is still watching.
        sqlx::query("UPDATE access_codes SET is_revoked = 1 WHERE event_id = 'workshop'")
            .execute(pool(&store))
            .await
            .expect("revoke");
        let err = apply(&store, &keynote_only(), false)
            .await
            .expect_err("guarded");
        assert!(
            err.to_string().contains("1 viewer watching now"),
            "{}: {err}",
            db.name
        );
        store.close().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn removed_and_renamed_batches_and_early_expiry_are_warned_about(db) {
        let store = common::store(&db).await;
        apply(&store, TWO_EVENTS, false).await.expect("first apply");
        redeem_one(&store, "keynote").await;

        let renamed = TWO_EVENTS.replacen("label = \"public\"", "label = \"general\"", 1);
        let plan = reconcile::plan(&store, &config(&renamed), PlanOptions::default())
            .await
            .expect("plan");
        let warnings = plan.warnings.join("\n");
        assert!(
            warnings.contains("batch `keynote/public` is no longer in the file: its 3 codes (1 redeemed) are kept and keep working")
                && warnings.contains("if `general` is a rename of it"),
            "{}: {warnings}",
            db.name
        );
        assert!(
            plan.to_string().contains("warning: batch `keynote/public`"),
            "{plan}"
        );
        let report = apply(&store, &renamed, false)
            .await
            .expect("a rename applies");
        assert_eq!(report.codes_made, 3, "{}", db.name);
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM access_codes WHERE batch = 'public' AND is_revoked = 0"
            )
            .await,
            3,
            "{}: the old batch's codes keep working",
            db.name
        );

        let later = renamed.replacen(
            "ends_at = 2030-01-01T20:00:00Z",
            "ends_at = 2030-01-04T20:00:00Z",
            1,
        );
        let plan = reconcile::plan(&store, &config(&later), PlanOptions::default())
            .await
            .expect("plan");
        assert!(
            plan.warnings.iter().any(|w| w.contains("event `keynote` now ends at 2030-01-04T20:00:00Z, but 6 of its existing codes expire before that")),
            "{}: {:?}",
            db.name,
            plan.warnings
        );
        store.close().await;
        db.cleanup().await;
    }
}
