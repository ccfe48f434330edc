//! `GET /api/events/{id}/status?code=` must not be a fast validity oracle for codes:
//! it is limited per address, and its failed lookups draw on the validate budget, so
//! guessing through it is no faster than guessing through `POST /api/tokens/validate`.

use crate::common;

use common::*;

fn config(status_per_minute: u32, validate_per_minute: u32) -> String {
    format!(
        "[platform]\nlisten = \"127.0.0.1:0\"\n[platform.rate_limits]\n\
         validate_per_minute = {validate_per_minute}\nstatus_per_minute = {status_per_minute}\n\
         [hls]\nstream_root = \"streams\"\npublic_url = \"http://127.0.0.1:9\"\n{EVENTS}"
    )
}

async fn status(app: &App, code: &str) -> (u16, Option<String>) {
    let resp = app
        .client
        .get(app.url(&format!("/api/events/live/status?code={code}")))
        .send()
        .await
        .expect("status");
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (resp.status().as_u16(), retry)
}

#[tokio::test]
async fn status_polls_are_limited_per_address() {
    let db = TestDb::sqlite();
    let app = App::start_with(&db, &config(4, 100_000)).await;
    let code = app.code("live", 0).await;
    for n in 0..4 {
        assert_eq!(status(&app, &code).await.0, 200, "poll {n}");
    }
    let (code_now, retry) = status(&app, &code).await;
    assert_eq!(code_now, 429);
    let retry: u64 = retry.expect("Retry-After").parse().expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    app.stop().await;
}

#[tokio::test]
async fn failed_lookups_use_the_validate_budget_and_close_the_oracle() {
    let db = TestDb::sqlite();
    let app = App::start_with(&db, &config(1_000, 3)).await;
    let code = app.code("live", 0).await;
    // The portal's poll with a good code costs nothing from the validate budget.
    for _ in 0..10 {
        assert_eq!(status(&app, &code).await.0, 200);
    }
    // Three wrong guesses use up the validate budget of this address ...
    for guess in ["AAAAAAAAAAAA", "BBBBBBBBBBBB", "CCCCCCCCCCCC"] {
        assert_eq!(status(&app, guess).await.0, 401, "{guess}");
    }
    // ... after which a right guess is not told apart from a wrong one,
    assert_eq!(status(&app, &code).await.0, 429, "the right code");
    assert_eq!(status(&app, "DDDDDDDDDDDD").await.0, 429, "a wrong code");
    // and redeeming is refused too: one budget for both ways of guessing.
    assert_eq!(app.validate(&code).await.0, 429);
    app.stop().await;
}
