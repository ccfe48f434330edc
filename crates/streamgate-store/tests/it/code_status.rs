//! The code-status rule is written twice: in Rust ([`CodeStatus::derive`], used by the
//! CSV export) and in SQL (the `CASE` behind the admin listing's status filter and the
//! per-event counts). This table of rows, one for every combination of the inputs the
//! rule reads, pins the two together on SQLite and on PostgreSQL: for every row the
//! status the Rust rule derives is the one the SQL gives, filters by and counts.

use std::collections::{BTreeMap, BTreeSet};

use streamgate_core::EventId;
use streamgate_store::codes::{self, CodeQuery, CodeStatus, StatusCounts};
use streamgate_store::testing::pool;
use streamgate_store::{Store, now_ms, reads};

use crate::common::store;

/// How long a session may go without a heartbeat and still be live.
const TIMEOUT_MS: i64 = 60_000;
/// Hours away from now: expiry and stale heartbeats are far from any boundary.
const HOUR_MS: i64 = 3_600_000;

/// The one session a code may have in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Session {
    None,
    /// Open, heartbeat just now.
    Live,
    /// Open, heartbeat long past the timeout.
    Stale,
    /// Ended (released) with a recent heartbeat.
    Ended,
}

/// One row of the table: the inputs of the status rule.
#[derive(Debug, Clone, Copy)]
struct Case {
    revoked: bool,
    suspended: bool,
    redeemed: bool,
    expired: bool,
    session: Session,
}

/// Every combination of the rule's inputs.
fn table() -> Vec<Case> {
    let mut cases = Vec::new();
    for revoked in [false, true] {
        for suspended in [false, true] {
            for redeemed in [false, true] {
                for expired in [false, true] {
                    for session in [Session::None, Session::Live, Session::Stale, Session::Ended] {
                        cases.push(Case {
                            revoked,
                            suspended,
                            redeemed,
                            expired,
                            session,
                        });
                    }
                }
            }
        }
    }
    cases
}

/// Writes the event and one code (and its session) per case; returns the Rust rule's
/// status for each code, by code.
async fn seed(store: &Store, cases: &[Case], now: i64) -> BTreeMap<String, CodeStatus> {
    let pool = pool(store);
    sqlx::query(
        "INSERT INTO events (id, title, starts_at, ends_at, access_window_hours, managed_by, created_at, updated_at) \
         VALUES ('ev', 'Event', $1, $2, 24, 'api', $3, $4)",
    )
    .bind(now)
    .bind(now + HOUR_MS)
    .bind(now)
    .bind(now)
    .execute(pool)
    .await
    .expect("insert event");
    let mut expected = BTreeMap::new();
    for (i, case) in cases.iter().enumerate() {
        let (id, code) = (format!("id-{i:03}"), format!("CODE-{i:03}"));
        let expires_at = if case.expired {
            now - HOUR_MS
        } else {
            now + 24 * HOUR_MS
        };
        sqlx::query(
            "INSERT INTO access_codes (id, code, event_id, is_revoked, revoked_at, is_suspended, redeemed_at, expires_at, created_at) \
             VALUES ($1, $2, 'ev', $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.as_str())
        .bind(code.as_str())
        .bind(i64::from(case.revoked))
        .bind(case.revoked.then_some(now))
        .bind(i64::from(case.suspended))
        .bind(case.redeemed.then_some(now))
        .bind(expires_at)
        .bind(now - i64::try_from(i).unwrap_or(0))
        .execute(pool)
        .await
        .expect("insert code");
        let (heartbeat, ended_at) = match case.session {
            Session::None => (None, None),
            Session::Live => (Some(now), None),
            Session::Stale => (Some(now - 2 * HOUR_MS), None),
            Session::Ended => (Some(now), Some(now)),
        };
        if let Some(heartbeat) = heartbeat {
            sqlx::query(
                "INSERT INTO sessions (id, code_id, event_id, started_at, last_heartbeat, ended_at) \
                 VALUES ($1, $2, 'ev', $3, $4, $5)",
            )
            .bind(format!("s-{i:03}"))
            .bind(id.as_str())
            .bind(now - 3 * HOUR_MS)
            .bind(heartbeat)
            .bind(ended_at)
            .execute(pool)
            .await
            .expect("insert session");
        }
        let status = CodeStatus::derive(
            case.revoked || case.suspended,
            expires_at,
            case.redeemed,
            case.session == Session::Live,
            now,
        );
        expected.insert(code, status);
    }
    expected
}

/// Every code's status as the SQL computes it, by code, through the listing.
async fn sql_statuses(
    store: &Store,
    status: Option<CodeStatus>,
) -> (BTreeMap<String, CodeStatus>, i64) {
    let q = CodeQuery {
        event_id: Some(&EventId::from("ev")),
        status,
        page: 1,
        per_page: 1000,
        ..CodeQuery::default()
    };
    let page = codes::list_page(store, &q, TIMEOUT_MS).await.expect("list");
    let rows = page.codes.into_iter().map(|c| (c.code, c.status)).collect();
    (rows, page.total)
}

/// Every code's status as the CSV export (the Rust rule over the stored row) gives it.
async fn csv_statuses(store: &Store) -> BTreeMap<String, CodeStatus> {
    let mut out = Vec::new();
    reads::export_codes_csv(store, &EventId::from("ev"), TIMEOUT_MS, &mut out)
        .await
        .expect("export");
    let text = String::from_utf8(out).expect("utf-8 CSV");
    text.lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            (cells[0].to_owned(), cells[2].parse().expect("status"))
        })
        .collect()
}

/// The counts the expected statuses add up to.
fn tally(expected: &BTreeMap<String, CodeStatus>) -> StatusCounts {
    let mut counts = StatusCounts::default();
    for status in expected.values() {
        match status {
            CodeStatus::Unused => counts.unused += 1,
            CodeStatus::Redeemed => counts.redeemed += 1,
            CodeStatus::Active => counts.active += 1,
            CodeStatus::Expired => counts.expired += 1,
            CodeStatus::Revoked => counts.revoked += 1,
        }
    }
    counts
}

const ALL: [CodeStatus; 5] = [
    CodeStatus::Unused,
    CodeStatus::Redeemed,
    CodeStatus::Active,
    CodeStatus::Expired,
    CodeStatus::Revoked,
];

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn the_rust_and_the_sql_status_rules_agree_on_every_row(db) {
        let store = store(&db).await;
        let cases = table();
        let expected = seed(&store, &cases, now_ms()).await;
        assert_eq!(expected.len(), cases.len(), "{}", db.name);
        let covered: BTreeSet<&str> = expected.values().map(|s| s.as_str()).collect();
        assert_eq!(
            covered.len(),
            ALL.len(),
            "{}: the table reaches every status",
            db.name
        );

        let (listed, total) = sql_statuses(&store, None).await;
        assert_eq!(
            listed, expected,
            "{}: listing's SQL status vs Rust rule",
            db.name
        );
        assert_eq!(
            total,
            i64::try_from(cases.len()).unwrap_or(0),
            "{}",
            db.name
        );
        assert_eq!(
            csv_statuses(&store).await,
            expected,
            "{}: CSV export",
            db.name
        );

        for status in ALL {
            let (filtered, total) = sql_statuses(&store, Some(status)).await;
            let want: BTreeMap<String, CodeStatus> = expected
                .iter()
                .filter(|(_, s)| **s == status)
                .map(|(c, s)| (c.clone(), *s))
                .collect();
            assert_eq!(
                filtered,
                want,
                "{}: filter status={}",
                db.name,
                status.as_str()
            );
            assert_eq!(total, i64::try_from(want.len()).unwrap_or(0), "{}", db.name);
        }

        let want = tally(&expected);
        let counts = codes::status_counts(&store, Some(&[&EventId::from("ev")]), TIMEOUT_MS)
            .await
            .expect("counts");
        assert_eq!(
            counts.get("ev"),
            Some(&want),
            "{}: per-event counts",
            db.name
        );
        let counts = codes::status_counts(&store, None, TIMEOUT_MS)
            .await
            .expect("counts");
        assert_eq!(
            counts.get("ev"),
            Some(&want),
            "{}: every event's counts",
            db.name
        );
        db.cleanup().await;
    }
}
