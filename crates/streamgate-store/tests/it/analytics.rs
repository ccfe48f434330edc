//! Sealing is only a shortcut: on SQLite and PostgreSQL, the figures after any number of
//! seals, at any moments, equal the figures derived from the sessions alone, for
//! sessions that cross the sealed point, live ones, abandoned ones, timeouts found
//! late and releases sent long after the last heartbeat. Clocks are explicit, so the
//! answers are exact.

use crate::common;

use common::store;
use streamgate_store::Store;
use streamgate_store::analytics::{self, Clock, MINUTE_MS as MIN};
use streamgate_store::testing::pool;

const TIMEOUT: i64 = 60_000;

/// A session: start, last heartbeat, and end with its reason, in minutes from t0.
type Span = (i64, i64, Option<(i64, &'static str)>);

/// Sessions of event `e`, one code each.
async fn fill(store: &Store, t0: i64, sessions: &[Span]) {
    sqlx::query(
        "INSERT INTO events (id, title, description, starts_at, ends_at, access_window_hours, \
         is_active, is_archived, managed_by, created_at, updated_at) \
         VALUES ('e', 'E', '', $1, $2, 48, 1, 0, 'api', $1, $1)",
    )
    .bind(t0)
    .bind(t0 + 600 * MIN)
    .execute(pool(store))
    .await
    .expect("event");
    for (i, (start, heartbeat, end)) in sessions.iter().enumerate() {
        sqlx::query(
            "INSERT INTO access_codes (id, code, event_id, expires_at, created_at, redeemed_at) \
             VALUES ($1, $1, 'e', $2, $3, $3)",
        )
        .bind(format!("c{i}"))
        .bind(t0 + 10_000 * MIN)
        .bind(t0 + start * MIN)
        .execute(pool(store))
        .await
        .expect("code");
        sqlx::query(
            "INSERT INTO sessions (id, code_id, event_id, client_ip, user_agent, started_at, \
             last_heartbeat, ended_at, end_reason) VALUES ($1, $2, 'e', '192.0.2.1', 'UA', $3, $4, $5, $6)",
        )
        .bind(format!("s{i}"))
        .bind(format!("c{i}"))
        .bind(t0 + start * MIN)
        .bind(t0 + heartbeat * MIN)
        .bind(end.map(|(at, _)| t0 + at * MIN))
        .bind(end.map(|(_, reason)| reason.to_owned()))
        .execute(pool(store))
        .await
        .expect("session");
    }
}

fn at(t0: i64, minute: i64) -> Clock {
    Clock {
        now: t0 + minute * MIN + 17_000,
        timeout_ms: TIMEOUT,
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn sealed_figures_equal_derived_ones_at_every_moment(db) {
        let store = store(&db).await;
        let t0 = 1_790_000_000_000 / MIN * MIN;
        fill(
            &store,
            t0,
            &[
                // Released at 30.
                (0, 29, Some((30, "released"))),
                // Watching since 10, live at every clock below (heartbeat at 100).
                (10, 100, None),
                // Browser died at 25; the timeout was found at 70.
                (20, 25, Some((70, "timeout"))),
                // Abandoned at 40, never ended.
                (35, 40, None),
                // Last heartbeat at 50, release sent at 90 (a laptop that slept).
                (45, 50, Some((90, "released"))),
                // Forced off at 61.
                (55, 60, Some((61, "forced"))),
            ],
        )
        .await;
        // The live session's heartbeat is at minute 100: look from just after it.
        let last = at(t0, 100);
        let derived = analytics::event_analytics(&store, &"e".into(), last)
            .await
            .expect("derived");
        assert_eq!(derived.peak_viewers, 3, "{}: from 20 to 25", db.name);
        assert_eq!(derived.peak_at, Some(t0 + 20 * MIN), "{}", db.name);
        assert_eq!(derived.viewers_now, 1, "{}", db.name);
        assert_eq!(derived.sessions, 6, "{}", db.name);
        assert_eq!(derived.unique_viewers, 6, "{}", db.name);
        // 30 + (100:17 - 10) + 5 + 5 + 5 (the late release counts to its last
        // heartbeat) + 6 minutes.
        assert_eq!(
            derived.watch_ms,
            (30 + 90 + 5 + 5 + 5 + 6) * MIN + 17_000,
            "{}",
            db.name
        );
        let viewers: Vec<i64> = derived.timeline.iter().map(|p| p.viewers).collect();
        let mut expected = Vec::new();
        for (v, n) in [
            (1, 10),
            (2, 10),
            (3, 5),
            (2, 5),
            (1, 5),
            (2, 5),
            (1, 5),
            (2, 5),
            (1, 5),
            (2, 6),
            (1, 40),
        ] {
            expected.extend(std::iter::repeat_n(v, n));
        }
        assert_eq!(viewers, expected, "{}", db.name);
        // Seal at several moments on the way (as instances would, each minute or late).
        for minute in [5, 22, 41, 58, 59, 75, 99, 100] {
            analytics::seal_event(&store, &"e".into(), at(t0, minute))
                .await
                .expect("seal");
            let sealed = analytics::event_analytics(&store, &"e".into(), last)
                .await
                .expect("sealed");
            assert_eq!(
                sealed, derived,
                "{}: after sealing at minute {minute}",
                db.name
            );
        }
        store.close().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn sealing_random_audiences_at_random_moments_changes_nothing(db) {
        use rand::{Rng, SeedableRng};
        let store = store(&db).await;
        let t0 = 1_790_000_000_000 / MIN * MIN;
        let mut rng = rand::rngs::StdRng::seed_from_u64(21);
        let last_minute = 400;
        let sessions: Vec<Span> = (0..300)
            .map(|_| {
                let start = rng.random_range(0..300);
                let heartbeat = (start + rng.random_range(0..120)).min(last_minute);
                let end = match rng.random_range(0..6) {
                    0 => None,                               // abandoned (or live if recent)
                    1 => Some((heartbeat, "released")),      // released at once
                    2 => Some((heartbeat + 1, "forced")),    // forced a minute on
                    3 => Some((heartbeat + 30, "released")), // release sent much later
                    4 => Some((heartbeat + rng.random_range(2..60), "timeout")),
                    _ => Some((heartbeat, "released")),
                };
                (
                    start,
                    heartbeat,
                    end.map(|(at, r)| (at.min(last_minute), r)),
                )
            })
            .collect();
        fill(&store, t0, &sessions).await;
        let last = at(t0, last_minute);
        let derived = analytics::event_analytics(&store, &"e".into(), last)
            .await
            .expect("derived");
        assert!(derived.peak_viewers > 10, "{}: a real crowd", db.name);
        let mut minute = 0;
        while minute <= last_minute {
            analytics::seal_event(&store, &"e".into(), at(t0, minute))
                .await
                .expect("seal");
            minute += rng.random_range(1..40);
        }
        let sealed = analytics::event_analytics(&store, &"e".into(), last)
            .await
            .expect("sealed");
        assert_eq!(sealed, derived, "{}", db.name);
        store.close().await;
        db.cleanup().await;
    }
}
