//! One device per code: 50 concurrent redemptions of one code, 20 rounds, exactly one
//! 200 each round, on SQLite and PostgreSQL. (Across two processes: the CLI's tests.)

use crate::common;

use common::{App, platform_section};
use futures::future::join_all;

streamgate_testkit::backend_tests! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn fifty_devices_racing_for_one_code_exactly_one_wins(db) {
        let text = format!(
            "{}\n[[events]]\nid = \"race\"\ntitle = \"Race\"\nstarts_at = 2026-01-01T00:00:00Z\nends_at = 2099-01-01T00:00:00Z\n\n[[events.codes]]\nlabel = \"t\"\ncount = 20\n",
            platform_section("")
        );
        let app = App::start_with(&db, &text).await;
        for round in 0..20 {
            let code = app.code("race", round).await;
            let attempts = (0..50).map(|_| app.validate(&code));
            let results = join_all(attempts).await;
            let ok = results.iter().filter(|(s, _)| *s == 200).count();
            let in_use = results
                .iter()
                .filter(|(s, b)| *s == 409 && b["inUse"] == true)
                .count();
            assert_eq!(
                (ok, in_use),
                (1, 49),
                "{} round {round}: {:?}",
                db.name,
                results.iter().map(|r| r.0).collect::<Vec<_>>()
            );
        }
        let live = common::count(
            &app.pool,
            "SELECT COUNT(*) FROM sessions WHERE ended_at IS NULL",
        )
        .await;
        assert_eq!(live, 20, "{}", db.name);
        // Every attempt is audited once, the losers of a race as in_use too (on
        // PostgreSQL most of them lose at the unique index and are run again).
        let ok = common::count(
            &app.pool,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'code.redeem' AND outcome = 'ok'",
        )
        .await;
        let in_use = common::count(
            &app.pool,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'code.redeem' AND outcome = 'in_use'",
        )
        .await;
        assert_eq!((ok, in_use), (20, 980), "{}", db.name);
        app.stop().await;
        db.cleanup().await;
    }
}
