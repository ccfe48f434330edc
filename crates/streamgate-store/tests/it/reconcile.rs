//! The reconcile contract (DESIGN.md section 3), asserted on the rows, on SQLite and on
//! a fresh PostgreSQL database.

use crate::common;

use common::{config, count, snapshot};
use sqlx::Row;
use streamgate_store::reconcile::{self, ApplyOptions, Change, PlanOptions};
use streamgate_store::testing::pool;
use streamgate_store::{Store, StoreError};

const TWO_EVENTS: &str = r#"
[hls]
stream_root = "streams"

[[events]]
id = "keynote"
title = "Keynote"
starts_at = 2030-01-01T18:00:00Z
ends_at = 2030-01-01T20:00:00Z
access_window_hours = 24

[[events.codes]]
label = "press"
count = 10

[[events.codes]]
label = "public"
count = 25

[[events]]
id = "workshop"
title = "Workshop"
starts_at = 2030-02-01T09:00:00Z
ends_at = 2030-02-01T12:00:00Z

[[events.codes]]
label = "all"
count = 5
"#;

async fn apply(
    store: &Store,
    text: &str,
    prune: bool,
) -> Result<reconcile::ApplyReport, StoreError> {
    reconcile::apply(
        store,
        &config(text),
        ApplyOptions {
            prune,
            ..ApplyOptions::default()
        },
    )
    .await
}

async fn batch_size(store: &Store, event: &str, batch: &str) -> i64 {
    sqlx::query("SELECT COUNT(*) FROM access_codes WHERE event_id = $1 AND batch = $2")
        .bind(event)
        .bind(batch)
        .fetch_one(pool(store))
        .await
        .expect("count")
        .get::<i64, _>(0)
}

async fn log_kinds(store: &Store) -> Vec<String> {
    sqlx::query("SELECT kind, event_id FROM revocation_log ORDER BY seq")
        .fetch_all(pool(store))
        .await
        .expect("log")
        .iter()
        .map(|r| format!("{} {}", r.get::<String, _>(0), r.get::<String, _>(1)))
        .collect()
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn apply_creates_what_the_file_declares_and_a_second_apply_does_nothing(db) {
        let store = common::store(&db).await;
        let first = apply(&store, TWO_EVENTS, false).await.expect("first apply");
        assert_eq!(first.codes_made, 40, "{}", db.name);
        assert_eq!(batch_size(&store, "keynote", "press").await, 10);
        assert_eq!(batch_size(&store, "keynote", "public").await, 25);
        assert_eq!(batch_size(&store, "workshop", "all").await, 5);
        let row = sqlx::query("SELECT title, managed_by, is_active, is_archived, access_window_hours FROM events WHERE id = 'keynote'")
            .fetch_one(pool(&store))
            .await
            .expect("event row");
        assert_eq!(row.get::<String, _>(0), "Keynote");
        assert_eq!(row.get::<String, _>(1), "config");
        assert_eq!(
            (
                row.get::<i64, _>(2),
                row.get::<i64, _>(3),
                row.get::<i64, _>(4)
            ),
            (1, 0, 24)
        );
        // Expiry is the end plus the window: 2030-01-01T20:00Z + 24 h.
        let expiry = count(
            &store,
            "SELECT MIN(expires_at) FROM access_codes WHERE event_id = 'keynote'",
        )
        .await;
        assert_eq!(streamgate_store::format_ms(expiry), "2030-01-02T20:00:00Z");
        // Codes are 12 base62 characters and unique.
        assert_eq!(
            count(&store, "SELECT COUNT(DISTINCT code) FROM access_codes").await,
            40
        );
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM access_codes WHERE LENGTH(code) <> 12"
            )
            .await,
            0
        );

        let before = snapshot(&store).await;
        let plan = reconcile::plan(&store, &config(TWO_EVENTS), PlanOptions::default())
            .await
            .expect("plan");
        assert!(plan.is_empty(), "{}: {plan}", db.name);
        assert_eq!(plan.unchanged, ["keynote", "workshop"]);
        let second = apply(&store, TWO_EVENTS, false)
            .await
            .expect("second apply");
        assert!(second.plan.is_empty());
        assert_eq!(
            snapshot(&store).await,
            before,
            "{}: an idempotent apply changed rows",
            db.name
        );
        store.close().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn an_edit_updates_fields_and_new_codes_but_never_moves_existing_expiry(db) {
        let store = common::store(&db).await;
        apply(&store, TWO_EVENTS, false).await.expect("apply");
        let old_expiry = count(
            &store,
            "SELECT MAX(expires_at) FROM access_codes WHERE event_id = 'keynote'",
        )
        .await;
        let edited = TWO_EVENTS
            .replace(
                "title = \"Keynote\"",
                "title = \"Opening keynote\"\nplaylist = \"hls/master.m3u8\"",
            )
            .replace(
                "ends_at = 2030-01-01T20:00:00Z",
                "ends_at = 2030-01-01T21:00:00Z",
            )
            .replace("count = 10", "count = 12");
        let plan = reconcile::plan(&store, &config(&edited), PlanOptions::default())
            .await
            .expect("plan");
        let fields: Vec<&str> = plan
            .changes
            .iter()
            .filter_map(|c| match c {
                Change::UpdateEvent { fields, .. } => {
                    Some(fields.iter().map(|f| f.field).collect::<Vec<_>>())
                }
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(
            fields,
            ["title", "playlist", "ends_at"],
            "{}: {plan}",
            db.name
        );
        assert!(
            plan.to_string()
                .contains(r#"playlist: "index.m3u8" -> "hls/master.m3u8""#),
            "{plan}"
        );
        let report = apply(&store, &edited, false).await.expect("apply edit");
        assert_eq!(report.codes_made, 2);
        assert_eq!(batch_size(&store, "keynote", "press").await, 12);
        let title: String = sqlx::query("SELECT title FROM events WHERE id = 'keynote'")
            .fetch_one(pool(&store))
            .await
            .expect("row")
            .get(0);
        assert_eq!(title, "Opening keynote");
        let playlist: String = sqlx::query("SELECT playlist FROM events WHERE id = 'keynote'")
            .fetch_one(pool(&store))
            .await
            .expect("row")
            .get(0);
        assert_eq!(playlist, "hls/master.m3u8");
        // The 35 old codes keep their expiry; the 2 new ones get the new end + 24 h.
        assert_eq!(
            sqlx::query(
                "SELECT COUNT(*) FROM access_codes WHERE event_id = 'keynote' AND expires_at = $1"
            )
            .bind(old_expiry)
            .fetch_one(pool(&store))
            .await
            .expect("count")
            .get::<i64, _>(0),
            35
        );
        let newest = count(
            &store,
            "SELECT MAX(expires_at) FROM access_codes WHERE event_id = 'keynote'",
        )
        .await;
        assert_eq!(streamgate_store::format_ms(newest), "2030-01-02T21:00:00Z");
        store.close().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn an_event_removed_from_the_file_is_deactivated_and_archived_with_its_codes_kept(db) {
        let store = common::store(&db).await;
        apply(&store, TWO_EVENTS, false).await.expect("apply");
        let keynote_only = TWO_EVENTS
            .split("[[events]]\nid = \"workshop\"")
            .next()
            .expect("split")
            .to_owned();
        let report = apply(&store, &keynote_only, false)
            .await
            .expect("apply removal");
        assert!(
            matches!(report.plan.changes.as_slice(), [Change::RetireEvent { event_id, was_active: true, .. }] if event_id == "workshop")
        );
        let row = sqlx::query("SELECT is_active, is_archived FROM events WHERE id = 'workshop'")
            .fetch_one(pool(&store))
            .await
            .expect("row");
        assert_eq!((row.get::<i64, _>(0), row.get::<i64, _>(1)), (0, 1));
        assert_eq!(batch_size(&store, "workshop", "all").await, 5, "codes kept");
        assert_eq!(
            log_kinds(&store).await,
            ["event_deactivated workshop"],
            "the edges are told"
        );
        assert!(
            apply(&store, &keynote_only, false)
                .await
                .expect("again")
                .plan
                .is_empty(),
            "retiring is idempotent"
        );
        // Putting it back brings it back, with the same codes.
        let back = apply(&store, TWO_EVENTS, false).await.expect("re-add");
        assert_eq!(back.codes_made, 0);
        let row = sqlx::query("SELECT is_active, is_archived FROM events WHERE id = 'workshop'")
            .fetch_one(pool(&store))
            .await
            .expect("row");
        assert_eq!((row.get::<i64, _>(0), row.get::<i64, _>(1)), (1, 0));
        assert_eq!(
            log_kinds(&store).await,
            ["event_deactivated workshop", "event_reactivated workshop"]
        );
        // --prune deletes a removed event with its codes.
        let pruned = apply(&store, &keynote_only, true).await.expect("prune");
        assert!(
            matches!(pruned.plan.changes.as_slice(), [Change::DeleteEvent { event_id, codes: 5, .. }] if event_id == "workshop")
        );
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM events WHERE id = 'workshop'").await,
            0
        );
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM access_codes WHERE event_id = 'workshop'"
            )
            .await,
            0
        );
        store.close().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn lowering_a_count_needs_prune_which_revokes_only_unredeemed_codes(db) {
        let store = common::store(&db).await;
        apply(&store, TWO_EVENTS, false).await.expect("apply");
        // Eight of the ten press codes are sold and used.
        sqlx::query(
            "UPDATE access_codes SET redeemed_at = 1, redeemed_ip = '192.0.2.1' WHERE id IN \
             (SELECT id FROM access_codes WHERE batch = 'press' ORDER BY id LIMIT 8)",
        )
        .execute(pool(&store))
        .await
        .expect("redeem");
        let lowered = TWO_EVENTS.replace("count = 10", "count = 4");
        let before = snapshot(&store).await;
        match apply(&store, &lowered, false).await {
            Err(StoreError::Plan(errors)) => assert!(
                errors[0].contains(
                    "count lowered from 10 to 4; rerun with --prune to revoke 2 unredeemed codes"
                ),
                "{errors:?}"
            ),
            other => panic!("{}: expected a plan error, got {other:?}", db.name),
        }
        assert_eq!(
            snapshot(&store).await,
            before,
            "a refused apply changes nothing"
        );
        let report = apply(&store, &lowered, true).await.expect("prune");
        assert!(
            matches!(
                report.plan.changes.as_slice(),
                [Change::PruneCodes {
                    revoke: 2,
                    kept_redeemed: 4,
                    ..
                }]
            ),
            "{}",
            report.plan
        );
        assert_eq!(report.codes_revoked, 2);
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM access_codes WHERE label = 'press' AND is_revoked = 1"
            )
            .await,
            2
        );
        assert_eq!(count(&store, "SELECT COUNT(*) FROM access_codes WHERE label = 'press' AND redeemed_at IS NOT NULL AND is_revoked = 0").await, 8, "redeemed codes untouched");
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM revocation_log WHERE kind = 'code_revoked'"
            )
            .await,
            2
        );
        // What is left above the count is redeemed: a note, not a change, not an error.
        let plan = reconcile::plan(&store, &config(&lowered), PlanOptions::default())
            .await
            .expect("plan");
        assert!(plan.is_empty() && plan.errors.is_empty(), "{plan}");
        assert!(
            plan.notes[0].contains("are redeemed and are kept"),
            "{plan}"
        );
        store.close().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn runtime_state_survives_any_number_of_applies(db) {
        let store = common::store(&db).await;
        apply(&store, TWO_EVENTS, false).await.expect("apply");
        let pool = pool(&store);
        let code_id: String =
            sqlx::query("SELECT id FROM access_codes WHERE batch = 'public' ORDER BY id LIMIT 1")
                .fetch_one(pool)
                .await
                .expect("code")
                .get(0);
        let revoked_id: String = sqlx::query(
            "SELECT id FROM access_codes WHERE batch = 'public' ORDER BY id DESC LIMIT 1",
        )
        .fetch_one(pool)
        .await
        .expect("code")
        .get(0);
        sqlx::query("UPDATE access_codes SET redeemed_at = 1000, redeemed_ip = '198.51.100.7' WHERE id = $1").bind(&code_id).execute(pool).await.expect("redeem");
        sqlx::query("INSERT INTO sessions (id, code_id, event_id, client_ip, user_agent, started_at, last_heartbeat) VALUES ('s1', $1, 'keynote', '198.51.100.7', 'test', 1000, 2000)")
            .bind(&code_id)
            .execute(pool)
            .await
            .expect("session");
        sqlx::query("UPDATE access_codes SET is_revoked = 1, revoked_at = 3000 WHERE id = $1")
            .bind(&revoked_id)
            .execute(pool)
            .await
            .expect("api revoke");
        let runtime = |s: &Vec<String>| -> Vec<String> {
            s.iter()
                .filter(|r| {
                    r.starts_with("sessions|") || r.contains("198.51.100.7") || r.contains("|3000|")
                })
                .cloned()
                .collect()
        };
        let before = runtime(&snapshot(&store).await);
        assert_eq!(before.len(), 3, "{before:?}");
        // Each edit is a whole file, as an operator would save it.
        let grown = TWO_EVENTS.replace("count = 25", "count = 30");
        let edits = [
            TWO_EVENTS.replace("title = \"Keynote\"", "title = \"K2\""),
            grown.clone(),
            grown.replace("access_window_hours = 24", "access_window_hours = 0"),
            grown.clone(),
            grown.replace(
                "ends_at = 2030-01-01T20:00:00Z",
                "ends_at = 2030-01-01T23:00:00Z",
            ),
        ];
        for (i, edit) in edits.iter().enumerate() {
            apply(&store, edit, false)
                .await
                .unwrap_or_else(|e| panic!("{} edit {i}: {e}", db.name));
            assert_eq!(
                runtime(&snapshot(&store).await),
                before,
                "{} edit {i} touched runtime state",
                db.name
            );
        }
        store.close().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn an_apply_that_fails_half_way_leaves_the_database_as_it_was(db) {
        let store = common::store(&db).await;
        apply(&store, TWO_EVENTS, false).await.expect("apply");
        // A real failure inside the database, after earlier statements of the same apply
        // have run: inserting codes labelled `boom` aborts.
        match db.name {
            "sqlite" => {
                sqlx::query("CREATE TRIGGER boom BEFORE INSERT ON access_codes WHEN NEW.label = 'boom' BEGIN SELECT RAISE(ABORT, 'injected failure'); END")
                    .execute(pool(&store))
                    .await
                    .expect("trigger");
            }
            _ => {
                sqlx::query("CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN IF NEW.label = 'boom' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql")
                    .execute(pool(&store))
                    .await
                    .expect("function");
                sqlx::query("CREATE TRIGGER boom BEFORE INSERT ON access_codes FOR EACH ROW EXECUTE FUNCTION boom()")
                    .execute(pool(&store))
                    .await
                    .expect("trigger");
            }
        }
        let before = snapshot(&store).await;
        let failing = format!(
            "{}\n[[events]]\nid = \"late\"\ntitle = \"Late\"\nstarts_at = 2031-01-01T00:00:00Z\nends_at = 2031-01-02T00:00:00Z\n[[events.codes]]\nlabel = \"fine\"\ncount = 50\n[[events.codes]]\nlabel = \"boom\"\ncount = 1\n",
            TWO_EVENTS
                .replace("title = \"Keynote\"", "title = \"Changed\"")
                .replace("count = 25", "count = 40")
        );
        let plan = reconcile::plan(&store, &config(&failing), PlanOptions::default())
            .await
            .expect("plan");
        assert!(
            plan.changes.len() >= 4,
            "the failure comes after other steps: {plan}"
        );
        let err = apply(&store, &failing, false)
            .await
            .expect_err("the injected failure");
        assert!(
            err.to_string().contains("injected failure"),
            "{}: {err}",
            db.name
        );
        assert_eq!(
            snapshot(&store).await,
            before,
            "{}: a failed apply left changes behind",
            db.name
        );
        store.close().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn a_batch_set_inactive_is_suspended_and_the_edges_are_told(db) {
        let store = common::store(&db).await;
        apply(&store, TWO_EVENTS, false).await.expect("apply");
        let off = TWO_EVENTS.replace(
            "label = \"all\"\ncount = 5",
            "label = \"all\"\ncount = 5\nactive = false",
        );
        let report = apply(&store, &off, false).await.expect("suspend");
        assert!(
            matches!(
                report.plan.changes.as_slice(),
                [Change::SetBatchSuspended {
                    suspended: true,
                    ..
                }]
            ),
            "{}",
            report.plan
        );
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM access_codes WHERE batch = 'all' AND is_suspended = 1"
            )
            .await,
            5
        );
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM revocation_log WHERE kind = 'code_revoked'"
            )
            .await,
            5
        );
        assert!(
            apply(&store, &off, false)
                .await
                .expect("again")
                .plan
                .is_empty()
        );
        apply(&store, TWO_EVENTS, false).await.expect("resume");
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM access_codes WHERE is_suspended = 1"
            )
            .await,
            0
        );
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM revocation_log WHERE kind = 'code_unrevoked'"
            )
            .await,
            5
        );
        store.close().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn a_config_event_cannot_take_over_an_api_event(db) {
        let store = common::store(&db).await;
        sqlx::query("INSERT INTO events (id, title, starts_at, ends_at, access_window_hours, managed_by, created_at, updated_at) VALUES ('keynote', 'API', 0, 1, 48, 'api', 0, 0)")
            .execute(pool(&store))
            .await
            .expect("api event");
        let before = snapshot(&store).await;
        match apply(&store, TWO_EVENTS, false).await {
            Err(StoreError::Plan(errors)) => assert!(
                errors[0].contains("managed through the admin API"),
                "{errors:?}"
            ),
            other => panic!("{}: {other:?}", db.name),
        }
        assert_eq!(snapshot(&store).await, before);
        store.close().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn codes_export_as_csv_with_status(db) {
        let store = common::store(&db).await;
        apply(&store, TWO_EVENTS, false).await.expect("apply");
        sqlx::query("UPDATE access_codes SET is_revoked = 1 WHERE id = (SELECT id FROM access_codes WHERE event_id = 'workshop' ORDER BY id LIMIT 1)")
            .execute(pool(&store))
            .await
            .expect("revoke");
        let mut out = Vec::new();
        let n =
            streamgate_store::reads::export_codes_csv(&store, &"workshop".into(), 60_000, &mut out)
                .await
                .expect("export");
        assert_eq!(n, 5);
        let text = String::from_utf8(out).expect("utf8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "code,label,status,createdAt,expiresAt");
        assert_eq!(lines.len(), 6);
        assert_eq!(
            lines.iter().filter(|l| l.contains(",all,revoked,")).count(),
            1,
            "{text}"
        );
        assert_eq!(
            lines.iter().filter(|l| l.contains(",all,unused,")).count(),
            4,
            "{text}"
        );
        assert!(lines[1].ends_with(",2030-02-03T12:00:00Z"), "{}", lines[1]);
        let missing =
            streamgate_store::reads::export_codes_csv(&store, &"nope".into(), 60_000, Vec::new())
                .await;
        assert!(matches!(missing, Err(StoreError::EventNotFound(_))));
        store.close().await;
        db.cleanup().await;
    }
}
