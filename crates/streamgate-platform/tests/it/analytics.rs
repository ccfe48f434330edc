//! Audience analytics end to end, on SQLite and PostgreSQL: viewers redeem, heartbeat,
//! release and time out through the real viewer API; their sessions are then placed on
//! a simulated hour (start, last heartbeat and end rewritten in the database, since a
//! test cannot wait an hour), and the admin API must report the right peak, unique
//! viewers, watch time, timeline and per-code CSV. Retention pruning runs when the
//! platform starts.

use crate::common;

use common::{App, TestDb, platform_section, token};
use reqwest::StatusCode;
use serde_json::{Value, json};
use streamgate_store::analytics::{self, Clock};
use streamgate_store::{admin_tokens, format_ms, now_ms};

const MIN: i64 = 60_000;

/// Redeems `code` from a browser called `ua`; returns the token and the session id.
async fn redeem(app: &App, code: &str, ua: &str) -> (String, String) {
    let resp = app
        .client
        .post(app.url("/api/tokens/validate"))
        .header("user-agent", ua)
        .json(&json!({ "code": code }))
        .send()
        .await
        .expect("validate");
    let (status, body) = common::read(resp).await;
    assert_eq!(status, 200, "{body}");
    let token = token(&body);
    let sid = common::claims(&token)["sid"]
        .as_str()
        .expect("sid")
        .to_owned();
    let (status, body) = app
        .post("/api/playback/heartbeat", json!({}), Some(&token))
        .await;
    assert_eq!(status, 200, "{body}");
    (token, sid)
}

async fn release(app: &App, token: &str) {
    let (status, body) = app
        .post("/api/playback/release", json!({}), Some(token))
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Puts a session on the simulated timeline: when it started, last heartbeat, ended
/// (if it has), and from where; the code's first redemption moves with its first
/// session.
async fn place(app: &App, sid: &str, start: i64, heartbeat: i64, ended: Option<i64>, ip: &str) {
    streamgate_testkit::sqlx::query(
        "UPDATE sessions SET started_at = $1, last_heartbeat = $2, \
         ended_at = CASE WHEN ended_at IS NULL THEN NULL ELSE $3 END, client_ip = $4 WHERE id = $5",
    )
    .bind(start)
    .bind(heartbeat)
    .bind(ended.unwrap_or(heartbeat))
    .bind(ip)
    .bind(sid)
    .execute(&app.pool)
    .await
    .expect("place session");
    streamgate_testkit::sqlx::query(
        "UPDATE access_codes SET redeemed_at = $1 WHERE id = (SELECT code_id FROM sessions WHERE id = $2) \
         AND redeemed_at > $1",
    )
    .bind(start)
    .bind(sid)
    .execute(&app.pool)
    .await
    .expect("place redemption");
}

async fn metrics(app: &App) -> String {
    app.client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text")
}

async fn admin_get(app: &App, bearer: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(bearer)
        .send()
        .await
        .expect("admin request")
}

async fn analytics(app: &App, bearer: &str) -> Value {
    let resp = admin_get(app, bearer, "/api/admin/events/live/analytics").await;
    let (status, body) = common::read(resp).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn viewers(body: &Value) -> Vec<i64> {
    body["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|p| p["viewers"].as_i64().expect("viewers"))
        .collect()
}

/// The closed part of the story, in minutes from t0:
/// A watches 0–30 and releases; B 10–50 and releases; C starts at 20, its browser dies
/// at 25 (no heartbeat after), C comes back on another device and address and watches
/// 40–45. So: 3 at the peak (20–25), 3 unique viewers, 4 sessions, 80 minutes.
async fn closed_story(app: &App, t0: i64) {
    let (a, b, c) = (
        app.code("live", 0).await,
        app.code("live", 1).await,
        app.code("live", 2).await,
    );
    let (token, sid) = redeem(app, &a, "UA-A").await;
    release(app, &token).await;
    place(
        app,
        &sid,
        t0,
        t0 + 29 * MIN + 30_000,
        Some(t0 + 30 * MIN),
        "127.0.0.1",
    )
    .await;
    let (token, sid) = redeem(app, &b, "UA-B").await;
    release(app, &token).await;
    place(
        app,
        &sid,
        t0 + 10 * MIN,
        t0 + 49 * MIN,
        Some(t0 + 50 * MIN),
        "127.0.0.1",
    )
    .await;
    let (_, sid) = redeem(app, &c, "UA-C1").await;
    place(app, &sid, t0 + 20 * MIN, t0 + 25 * MIN, None, "127.0.0.1").await;
    // Stale now: the next redemption ends it as a timeout and starts another.
    let (token, sid2) = redeem(app, &c, "UA-C2").await;
    let end_reason: String =
        streamgate_testkit::sqlx::query_scalar("SELECT end_reason FROM sessions WHERE id = $1")
            .bind(&sid)
            .fetch_one(&app.pool)
            .await
            .expect("first session of C");
    assert_eq!(end_reason, "timeout");
    release(app, &token).await;
    place(
        app,
        &sid2,
        t0 + 40 * MIN,
        t0 + 44 * MIN + 50_000,
        Some(t0 + 45 * MIN),
        "203.0.113.9",
    )
    .await;
}

/// The minutes of the closed story: 1 viewer for 10, 2 for 10, 3 for 5, ...
fn closed_timeline() -> Vec<i64> {
    [(1, 10), (2, 10), (3, 5), (2, 5), (1, 10), (2, 5), (1, 5)]
        .iter()
        .flat_map(|&(v, n)| std::iter::repeat_n(v, n))
        .collect()
}

/// The figures of [`closed_story`]; returns the analytics body.
async fn check_closed_story(app: &App, db: &TestDb, bearer: &str, t0: i64) -> Value {
    let body = analytics(app, bearer).await;
    assert_eq!(body["eventId"], "live", "{}", db.name);
    assert_eq!(body["peakConcurrentViewers"], 3, "{}: {body}", db.name);
    assert_eq!(body["peakAt"], format_ms(t0 + 20 * MIN), "{}", db.name);
    assert_eq!(body["uniqueViewers"], 3, "{}", db.name);
    assert_eq!(body["sessions"], 4, "{}", db.name);
    assert_eq!(body["watchMinutes"], 80.0, "{}", db.name);
    assert_eq!(body["averageWatchMinutes"], 26.7, "{}", db.name);
    assert_eq!(body["viewersNow"], 0, "{}", db.name);
    assert_eq!(body["intervalSeconds"], 60, "{}", db.name);
    assert_eq!(viewers(&body), closed_timeline(), "{}", db.name);
    let timeline = body["timeline"].as_array().expect("timeline");
    for (i, point) in timeline.iter().enumerate() {
        let at = t0 + i64::try_from(i).expect("index") * MIN;
        assert_eq!(point["at"], format_ms(at), "{}: point {i}", db.name);
    }

    body
}

/// Sealing the final minutes changes nothing in the answer, two instances sealing at
/// once write them once, and another instance answers the same.
async fn check_sealing(app: &App, db: &TestDb, bearer: &str, body: &Value) {
    // Sealing the final minutes (as every instance does each minute) changes
    // nothing in the answer; two instances sealing at once write them once.
    let clock = Clock {
        now: now_ms(),
        timeout_ms: 60_000,
    };
    let store = &app.state.store;
    let live = "live".into();
    let (one, two) = tokio::join!(
        analytics::seal_event(store, &live, clock),
        analytics::seal_event(store, &live, clock)
    );
    assert!(
        one.expect("seal") ^ two.expect("seal"),
        "{}: exactly one sealed",
        db.name
    );
    let sealed: i64 = streamgate_testkit::sqlx::query_scalar(
        "SELECT COUNT(*) FROM analytics_minutes WHERE event_id = 'live'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("sealed minutes");
    assert_eq!(sealed, 50, "{}: one row per minute with viewers", db.name);
    let mut again = analytics(app, bearer).await;
    again["generatedAt"] = body["generatedAt"].clone();
    assert_eq!(&again, body, "{}: sealed and derived agree", db.name);
    // A second platform instance on the same database gives the same answer.
    let other = App::start(db).await;
    let mut theirs = analytics(&other, bearer).await;
    theirs["generatedAt"] = body["generatedAt"].clone();
    assert_eq!(&theirs, body, "{}: both instances agree", db.name);
    other.stop().await;

    let quiet = metrics(app).await;
    assert!(
        quiet
            .lines()
            .any(|l| l == "streamgate_event_viewers{event=\"live\"} 0"),
        "{}: an event on air shows 0 viewers, not no series:\n{quiet}",
        db.name
    );
}

/// A viewer watching now extends the timeline to now and counts in every figure.
async fn check_live_viewer(app: &App, db: &TestDb, bearer: &str, t0: i64) {
    // D is watching now, for a minute and a half (after the sealed minutes: a
    // session cannot start in a minute that is already final).
    let d = app.code("live", 3).await;
    let before = now_ms();
    let (_, sid) = redeem(app, &d, "UA-D").await;
    let heartbeat = now_ms();
    let d_start = heartbeat - 90_000;
    place(app, &sid, d_start, heartbeat, None, "127.0.0.1").await;
    let body = analytics(app, bearer).await;
    let after = now_ms();
    // The dashboard's chart (no other event of the config is on the air).
    let (status, now) =
        common::read(admin_get(app, bearer, "/api/admin/analytics/viewers").await).await;
    assert_eq!(status, 200, "{now}");
    assert_eq!(
        now,
        json!({"total": 1, "events": [{"eventId": "live", "title": "Live now", "viewers": 1}]}),
        "{}",
        db.name
    );
    assert_eq!(body["viewersNow"], 1, "{}", db.name);
    assert_eq!(body["peakConcurrentViewers"], 3, "{}", db.name);
    assert_eq!(body["uniqueViewers"], 4, "{}", db.name);
    assert_eq!(body["sessions"], 5, "{}", db.name);
    let live = viewers(&body);
    let now_minute = (live.len() as i64 - 1) + t0 / MIN;
    assert!(
        (before / MIN..=after / MIN).contains(&now_minute),
        "{}: the timeline runs to now",
        db.name
    );
    assert_eq!(&live[..50], &closed_timeline()[..], "{}", db.name);
    let d_index = usize::try_from(d_start / MIN - t0 / MIN).expect("index");
    assert!(
        live[50..d_index].iter().all(|&v| v == 0),
        "{}: {live:?}",
        db.name
    );
    assert!(
        live[d_index..].iter().all(|&v| v == 1),
        "{}: {live:?}",
        db.name
    );
    let watched = body["watchMinutes"].as_f64().expect("watchMinutes");
    let low = 80.0 + (before.max(heartbeat) - d_start) as f64 / MIN as f64 - 0.1;
    let high = 80.0 + (after - d_start) as f64 / MIN as f64 + 0.1;
    assert!((low..=high).contains(&watched), "{}: {watched}", db.name);
}

async fn check_metrics(app: &App, db: &TestDb) {
    // Prometheus: the gauge from the database, the counters of this instance.
    let metrics = metrics(app).await;
    assert!(
        !metrics.contains("streamgate_event_viewers{event=\"over\"}"),
        "{}: an event off the air and unwatched has no series",
        db.name
    );
    for line in [
        "streamgate_event_viewers{event=\"live\"} 1",
        "streamgate_event_redemptions_total{event=\"live\"} 5",
        "streamgate_event_session_ends_total{event=\"live\",reason=\"released\"} 3",
        "streamgate_event_session_ends_total{event=\"live\",reason=\"timeout\"} 1",
        "streamgate_event_session_ends_total{event=\"live\",reason=\"forced\"} 0",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{}: no {line:?} in\n{metrics}",
            db.name
        );
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn simulated_viewers_give_the_peak_unique_viewers_watch_time_and_timeline(db) {
        let app = App::start(&db).await;
        let bearer = admin_tokens::create(&app.state.store, "analytics")
            .await
            .expect("token");
        let t0 = (now_ms() - 5 * 60 * MIN) / MIN * MIN;
        closed_story(&app, t0).await;
        let body = check_closed_story(&app, &db, &bearer, t0).await;
        check_sealing(&app, &db, &bearer, &body).await;
        check_live_viewer(&app, &db, &bearer, t0).await;
        check_metrics(&app, &db).await;
        let resp = admin_get(&app, &bearer, "/api/admin/events/nope/analytics").await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{}", db.name);
        app.stop().await;
        db.cleanup().await;
    }
}

/// A label a spreadsheet would run.
const FORMULA: &str = "=HYPERLINK(\"http://evil.example\",\"x\")";

/// The export's row for the `i`th code of the closed story (codes 5 and 6 carry
/// formula-looking labels).
fn expected_row(i: usize, code: String, t0: i64) -> Vec<String> {
    let at = |m: i64| format_ms(t0 + m * MIN);
    let (label, first, last, figures) = match i {
        0 => ("tickets".to_owned(), at(0), at(30), ["1", "30.0", "1", "1"]),
        1 => (
            "tickets".to_owned(),
            at(10),
            at(50),
            ["1", "40.0", "1", "1"],
        ),
        2 => (
            "tickets".to_owned(),
            at(20),
            at(45),
            ["2", "10.0", "2", "2"],
        ),
        5 => (
            format!("'{FORMULA}"),
            String::new(),
            String::new(),
            ["0", "0.0", "0", "0"],
        ),
        6 => (
            "'-1+2".to_owned(),
            String::new(),
            String::new(),
            ["0", "0.0", "0", "0"],
        ),
        _ => (
            "tickets".to_owned(),
            String::new(),
            String::new(),
            ["0", "0.0", "0", "0"],
        ),
    };
    let mut row = vec![code, label, first, last];
    row.extend(figures.iter().map(|f| (*f).to_owned()));
    row
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn the_csv_has_every_code_with_its_figures_and_no_formula_cells(db) {
        let app = App::start(&db).await;
        let bearer = admin_tokens::create(&app.state.store, "analytics")
            .await
            .expect("token");
        let t0 = (now_ms() - 5 * 60 * MIN) / MIN * MIN;
        closed_story(&app, t0).await;
        let code5 = app.code("live", 5).await;
        let code6 = app.code("live", 6).await;
        for (label, code) in [(FORMULA, &code5), ("-1+2", &code6)] {
            streamgate_testkit::sqlx::query("UPDATE access_codes SET label = $1 WHERE code = $2")
                .bind(label)
                .bind(code)
                .execute(&app.pool)
                .await
                .expect("label");
        }

        let resp = admin_get(&app, &bearer, "/api/admin/events/live/analytics/export").await;
        assert_eq!(resp.status(), StatusCode::OK, "{}", db.name);
        assert_eq!(
            resp.headers()["content-disposition"],
            "attachment; filename=\"live-analytics.csv\""
        );
        let text = resp.text().await.expect("csv");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .expect("header")
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(
            header,
            [
                "code",
                "label",
                "firstSeen",
                "lastSeen",
                "sessions",
                "watchMinutes",
                "devices",
                "addresses"
            ]
        );
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.expect("record").iter().map(str::to_owned).collect())
            .collect();
        assert_eq!(rows.len(), 40, "{}: every code of the event", db.name);
        for (i, row) in rows.iter().enumerate() {
            let code = app.code("live", i).await;
            assert_eq!(row, &expected_row(i, code, t0), "{}: row {i}", db.name);
        }
        let exports: i64 = streamgate_testkit::sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'analytics.export' AND target = 'live'",
        )
        .fetch_one(&app.pool)
        .await
        .expect("audit");
        assert_eq!(exports, 1, "{}", db.name);
        app.stop().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn sessions_past_the_retention_are_pruned_when_the_platform_starts(db) {
        let config = format!(
            "{}{}",
            platform_section("analytics_retention_days = 30"),
            common::EVENTS
        );
        let app = App::start_with(&db, &config).await;
        let now = now_ms();
        let day = 24 * 60 * MIN;
        let (old, recent, open) = (
            app.code("live", 0).await,
            app.code("live", 1).await,
            app.code("live", 2).await,
        );
        let (token, sid_old) = redeem(&app, &old, "UA").await;
        release(&app, &token).await;
        place(
            &app,
            &sid_old,
            now - 41 * day,
            now - 40 * day,
            Some(now - 40 * day),
            "127.0.0.1",
        )
        .await;
        let (token, sid_recent) = redeem(&app, &recent, "UA").await;
        release(&app, &token).await;
        place(
            &app,
            &sid_recent,
            now - 11 * day,
            now - 10 * day,
            Some(now - 10 * day),
            "127.0.0.1",
        )
        .await;
        // Abandoned long ago and never ended: pruned too.
        let (_, sid_open) = redeem(&app, &open, "UA").await;
        place(
            &app,
            &sid_open,
            now - 35 * day,
            now - 35 * day,
            None,
            "127.0.0.1",
        )
        .await;
        app.stop().await;

        let app = App::start_with(&db, &config).await;
        let mut left = Vec::new();
        for _ in 0..200 {
            left = streamgate_testkit::sqlx::query_scalar::<_, String>(
                "SELECT id FROM sessions ORDER BY id",
            )
            .fetch_all(&app.pool)
            .await
            .expect("sessions");
            if left.len() == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(left, [sid_recent], "{}", db.name);
        // The codes keep their first redemption: their status does not go back to unused.
        let redeemed: i64 = streamgate_testkit::sqlx::query_scalar(
            "SELECT COUNT(*) FROM access_codes WHERE event_id = 'live' AND redeemed_at IS NOT NULL",
        )
        .fetch_one(&app.pool)
        .await
        .expect("codes");
        assert_eq!(redeemed, 3, "{}", db.name);
        app.stop().await;
        db.cleanup().await;
    }
}
