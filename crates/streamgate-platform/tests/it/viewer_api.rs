//! SPEC section 3, viewer rows: every status and message of validate, refresh,
//! heartbeat, release and event status, on SQLite and on PostgreSQL.

use crate::common;

use common::{App, TestDb, claims, platform_section, token};
use serde_json::json;

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn validate_answers_every_row_of_the_contract(db) {
        let app = App::start(&db).await;
        let n = db.name;
        for (input, why) in [
            ("", "empty"),
            ("   ", "blank"),
            ("abc-123", "dash"),
            ("ab c", "space"),
        ] {
            let (status, body) = app.validate(input).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (400, Some("Access code is required")),
                "{n} {why}"
            );
        }
        let (status, body) = app.post("/api/tokens/validate", json!({}), None).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("Access code is required")),
            "{n} missing field"
        );
        let (status, body) = app.validate("AAAAAAAAAAAA").await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("Invalid access code")),
            "{n}"
        );

        let expired = app.code("over", 0).await;
        let (status, body) = app.validate(&expired).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (410, Some("Access code has expired")),
            "{n}"
        );

        let revoked = app.code("live", 1).await;
        app.exec(
            "UPDATE access_codes SET is_revoked = 1 WHERE code = $1",
            &revoked,
        )
        .await;
        let (status, body) = app.validate(&revoked).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("Access code has been revoked")),
            "{n}"
        );

        let off = app.code("off", 0).await;
        let (status, body) = app.validate(&off).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("This event is not currently available")),
            "{n}"
        );

        // Success: the body SPEC section 3 lists, with surrounding whitespace trimmed.
        let code = app.code("live", 0).await;
        let (status, body) = app.validate(&format!("  {code}\n")).await;
        assert_eq!(status, 200, "{n} {body}");
        assert_eq!(body["event"]["title"], "Live now");
        assert_eq!(body["event"]["description"], "On air");
        assert_eq!(body["event"]["startsAt"], "2026-01-01T00:00:00Z");
        assert_eq!(body["event"]["endsAt"], "2099-01-01T00:00:00Z");
        assert_eq!(
            body["event"]["isLive"], true,
            "schedule fallback: the HLS server is down"
        );
        assert_eq!(body["streamPath"], "/streams/live/index.m3u8");
        assert_eq!(body["playbackBaseUrl"], "http://127.0.0.1:9");
        assert_eq!(body["expiresAt"], "2099-01-03T00:00:00Z", "ends_at + 48 h");
        assert_eq!(body["tokenExpiresIn"], 3600);
        let c = claims(&token(&body));
        assert_eq!(c["eid"], "live");
        assert_eq!(c["sp"], "/streams/live/");
        assert_ne!(
            c["sub"].as_str(),
            Some(code.as_str()),
            "the JWT never carries the code"
        );
        assert!(!token(&body).contains(&code));
        assert_eq!(
            c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
            3600
        );
        let redeemed: i64 = common::count(&app.pool, "SELECT COUNT(*) FROM access_codes WHERE redeemed_at IS NOT NULL AND redeemed_ip = '127.0.0.1'").await;
        assert_eq!(redeemed, 1, "{n}: first use recorded");

        // A second device while the first is live: 409 with inUse and nothing else.
        let (status, body) = app.validate(&code).await;
        assert_eq!(status, 409, "{n}");
        assert_eq!(
            body,
            json!({"error": "This access code is currently in use on another device", "inUse": true})
        );

        // A stale session (no heartbeat within the timeout) is ended and replaced.
        app.exec("UPDATE sessions SET last_heartbeat = 0 WHERE code_id = (SELECT id FROM access_codes WHERE code = $1)", &code).await;
        let (status, body) = app.validate(&code).await;
        assert_eq!(status, 200, "{n} {body}");
        let ended: i64 = common::count(
            &app.pool,
            "SELECT COUNT(*) FROM sessions WHERE end_reason = 'timeout'",
        )
        .await;
        assert_eq!(ended, 1);
        let logged: i64 = common::count(
            &app.pool,
            "SELECT COUNT(*) FROM revocation_log WHERE kind = 'session_ended'",
        )
        .await;
        assert_eq!(logged, 1, "{n}: the stale session's end reaches the edges");

        // Malformed requests get JSON errors with the right status.
        let resp = app
            .client
            .post(app.url("/api/tokens/validate"))
            .header("content-type", "application/json")
            .body("{\"code\":")
            .send()
            .await
            .unwrap();
        let (status, body) = common::read(resp).await;
        assert_eq!(status, 400, "{n}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .starts_with("Malformed request"),
            "{body}"
        );
        let resp = app
            .client
            .post(app.url("/api/tokens/validate"))
            .header("content-type", "text/plain")
            .body("{}")
            .send()
            .await
            .unwrap();
        let (status, body) = common::read(resp).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (415, Some("Unsupported content type: send application/json"))
        );
        let resp = app
            .client
            .post(app.url("/api/tokens/validate"))
            .header("content-type", "application/json")
            .body(vec![b' '; 100_000])
            .send()
            .await
            .unwrap();
        let headers = resp.headers().clone();
        let (status, body) = common::read(resp).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (413, Some("Request body too large"))
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert!(headers.contains_key("content-security-policy"));

        app.stop().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn refresh_heartbeat_and_release_follow_the_session(db) {
        let app = App::start(&db).await;
        let n = db.name;
        let code = app.code("live", 2).await;
        let (_, body) = app.validate(&code).await;
        let first = token(&body);
        let sid = claims(&first)["sid"].clone();

        // Refresh: a new token, same session.
        let (status, body) = app
            .post("/api/playback/refresh", json!({}), Some(&first))
            .await;
        assert_eq!(status, 200, "{n} {body}");
        assert_eq!(claims(&token(&body))["sid"], sid);
        assert_eq!(body["tokenExpiresIn"], 3600);
        // Bad tokens: 401, for every endpoint.
        for bad in ["", "garbage", &format!("{first}x")] {
            for path in ["/api/playback/refresh", "/api/playback/heartbeat"] {
                let (status, _) = app.post(path, json!({}), Some(bad)).await;
                assert_eq!(status, 401, "{n} {path} {bad:?}");
            }
        }
        let (status, body) = app.post("/api/playback/refresh", json!({}), None).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("Authorization required"))
        );

        // Heartbeat.
        let (status, body) = app
            .post("/api/playback/heartbeat", json!({}), Some(&first))
            .await;
        assert_eq!((status, body), (200, json!({"ok": true})), "{n}");

        // Revoked, deactivated, expired: each breaks refresh and heartbeat with its status, and
        // undoing it mends it.
        let code_id = claims(&first)["sub"].as_str().unwrap().to_owned();
        for (break_sql, mend_sql, arg, status, message) in [
            (
                "UPDATE access_codes SET is_revoked = 1 WHERE id = $1",
                "UPDATE access_codes SET is_revoked = 0 WHERE id = $1",
                code_id.as_str(),
                403,
                "Access code has been revoked",
            ),
            (
                "UPDATE events SET is_active = 0 WHERE id = $1",
                "UPDATE events SET is_active = 1 WHERE id = $1",
                "live",
                403,
                "This event is not currently available",
            ),
            (
                "UPDATE access_codes SET expires_at = 1 WHERE id = $1",
                "UPDATE access_codes SET expires_at = 4102444800000 WHERE id = $1",
                code_id.as_str(),
                410,
                "Access code has expired",
            ),
        ] {
            app.exec(break_sql, arg).await;
            // The heartbeat says so too: a player with everything buffered learns it
            // must stop within one heartbeat.
            for path in ["/api/playback/refresh", "/api/playback/heartbeat"] {
                let (got, body) = app.post(path, json!({}), Some(&first)).await;
                assert_eq!(
                    (got, body["error"].as_str()),
                    (status, Some(message)),
                    "{n} {path}"
                );
            }
            app.exec(mend_sql, arg).await;
            let (got, _) = app
                .post("/api/playback/refresh", json!({}), Some(&first))
                .await;
            assert_eq!(got, 200, "{n}: mended after {message}");
        }

        // Taken over: the session went stale and another device redeemed.
        app.exec(
            "UPDATE sessions SET last_heartbeat = 0 WHERE id = $1",
            sid.as_str().unwrap(),
        )
        .await;
        let (status, body) = app.validate(&code).await;
        assert_eq!(status, 200, "{n} {body}");
        let second = token(&body);
        let (status, _) = app
            .post("/api/playback/refresh", json!({}), Some(&first))
            .await;
        assert_eq!(status, 409, "{n}: refresh after takeover");
        let (status, _) = app
            .post("/api/playback/heartbeat", json!({}), Some(&first))
            .await;
        assert_eq!(status, 409, "{n}: heartbeat after takeover");

        // Release via sendBeacon: text/plain body with the token, no header.
        let resp = app
            .client
            .post(app.url("/api/playback/release"))
            .header("content-type", "text/plain;charset=UTF-8")
            .body(json!({"token": second}).to_string())
            .send()
            .await
            .unwrap();
        let (status, body) = common::read(resp).await;
        assert_eq!((status, body), (200, json!({"released": true})), "{n}");
        // Already gone: still released; heartbeat and refresh now 404.
        let (status, body) = app
            .post("/api/playback/release", json!({}), Some(&second))
            .await;
        assert_eq!((status, body), (200, json!({"released": true})), "{n}");
        let (status, body) = app
            .post("/api/playback/heartbeat", json!({}), Some(&second))
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some("Session not found or expired")),
            "{n}"
        );
        let (status, _) = app
            .post("/api/playback/refresh", json!({}), Some(&second))
            .await;
        assert_eq!(status, 404, "{n}");
        let (status, _) = app.post("/api/playback/release", json!({}), None).await;
        assert_eq!(status, 401, "{n}: release needs a token somewhere");
        // Released: the code works at once on another device.
        let (status, _) = app.validate(&code).await;
        assert_eq!(status, 200, "{n}");

        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let db = TestDb::sqlite();
    let text = format!(
        "[platform]\nlisten = \"127.0.0.1:0\"\n[platform.rate_limits]\nvalidate_per_minute = 3\nrefresh_per_hour = 2\n[hls]\nstream_root = \"s\"\npublic_url = \"http://127.0.0.1:9\"\n{}",
        common::EVENTS
    );
    let app = App::start_with(&db, &text).await;
    // Redemptions that succeed use none of the budget: six people at one address.
    for n in 0..6 {
        let code = app.code("live", 20 + n).await;
        assert_eq!(app.validate(&code).await.0, 200, "redemption {n}");
    }
    // Failed attempts do: unknown, malformed, expired.
    assert_eq!(app.validate("AAAAAAAAAAAA").await.0, 401);
    assert_eq!(app.validate("not a code!").await.0, 400);
    let expired = app.code("over", 0).await;
    assert_eq!(app.validate(&expired).await.0, 410);
    // Spent: now even a good code gets 429, so a right guess looks like a wrong one.
    let good = app.code("live", 30).await;
    assert_eq!(
        app.validate(&good).await.0,
        429,
        "a right guess after the budget is spent"
    );
    let resp = app
        .client
        .post(app.url("/api/tokens/validate"))
        .json(&json!({"code": "AAAAAAAAAAAA"}))
        .send()
        .await
        .unwrap();
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let (status, body) = common::read(resp).await;
    assert_eq!(status, 429);
    assert!(body["error"].is_string());
    app.stop().await;

    // Refresh: 12/hour/code by default; 2 here.
    let db = TestDb::sqlite();
    let text = text.replace("validate_per_minute = 3", "validate_per_minute = 100");
    let app = App::start_with(&db, &text).await;
    let code = app.code("live", 0).await;
    let (_, body) = app.validate(&code).await;
    let t = token(&body);
    for _ in 0..2 {
        assert_eq!(
            app.post("/api/playback/refresh", json!({}), Some(&t))
                .await
                .0,
            200
        );
    }
    assert_eq!(
        app.post("/api/playback/refresh", json!({}), Some(&t))
            .await
            .0,
        429
    );
    app.stop().await;
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn event_status_needs_a_code_of_that_event_and_follows_the_schedule(db) {
        let text = format!(
            "{}{}\n[[events]]\nid = \"soon\"\ntitle = \"Soon\"\nstarts_at = 2098-01-01T00:00:00Z\nends_at = 2098-01-02T00:00:00Z\n\n[[events.codes]]\nlabel = \"t\"\ncount = 1\n",
            platform_section(""),
            common::EVENTS
        );
        let app = App::start_with(&db, &text).await;
        let n = db.name;
        let live = app.code("live", 0).await;
        let over = app.code("over", 0).await;
        let soon = app.code("soon", 0).await;
        let (status, body) = app
            .get(&format!("/api/events/nope/status?code={live}"), &[])
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some("Event not found")),
            "{n}"
        );
        let (status, _) = app.get("/api/events/live/status", &[]).await;
        assert_eq!(status, 401, "{n}: no code");
        let (status, _) = app
            .get(&format!("/api/events/live/status?code={over}"), &[])
            .await;
        assert_eq!(status, 401, "{n}: a code of another event");
        let (status, body) = app
            .get(&format!("/api/events/live/status?code={live}"), &[])
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            body,
            json!({"eventId": "live", "status": "live", "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2099-01-01T00:00:00Z"})
        );
        let (_, body) = app
            .get(&format!("/api/events/soon/status?code={soon}"), &[])
            .await;
        assert_eq!(body["status"], "not-started", "{n}");
        let (_, body) = app
            .get(&format!("/api/events/over/status?code={over}"), &[])
            .await;
        assert_eq!(
            body["status"], "ended",
            "{n}: past its window, HLS unreachable"
        );
        // Generous for the 30 s poll: many polls in a row all answer (60 a minute).
        for _ in 0..20 {
            assert_eq!(
                app.get(&format!("/api/events/live/status?code={live}"), &[])
                    .await
                    .0,
                200
            );
        }
        app.stop().await;
        db.cleanup().await;
    }
}

/// The status probe asks the HLS server the way a player would: HEAD on the master
/// playlist with a probe token. A real HTTP server on port 0 plays the HLS server and
/// checks the token with the shared secret.
#[tokio::test]
async fn status_and_is_live_come_from_a_head_probe_with_a_probe_token() {
    use poem::{EndpointExt, Route, handler, http::StatusCode, web::Path};
    use std::sync::{Arc, Mutex};
    use streamgate_core::jwt::PlaybackKeys;
    use streamgate_core::secrets::Secret;

    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let keys = Arc::new(PlaybackKeys::new(&Secret::new(common::SIGNING_SECRET), None).unwrap());
    #[handler]
    fn manifest(
        req: &poem::Request,
        Path(event): Path<String>,
        keys: poem::web::Data<&Arc<PlaybackKeys>>,
        seen: poem::web::Data<&Arc<Mutex<Vec<String>>>>,
    ) -> StatusCode {
        let token = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let ok = keys
            .verify(token)
            .is_ok_and(|c| c.probe && c.eid == event && c.exp - c.iat <= 10);
        seen.lock()
            .unwrap()
            .push(format!("{} {event} {ok}", req.method()));
        match (ok, event.as_str()) {
            (false, _) => StatusCode::FORBIDDEN,
            (true, "live" | "over") => StatusCode::OK,
            _ => StatusCode::NOT_FOUND,
        }
    }
    let app = Route::new()
        .at("/streams/:event/index.m3u8", poem::head(manifest))
        .data(keys)
        .data(seen.clone());
    let acceptor =
        poem::listener::Listener::into_acceptor(poem::listener::TcpListener::bind("127.0.0.1:0"))
            .await
            .unwrap();
    let addr = poem::listener::Acceptor::local_addr(&acceptor)[0]
        .as_socket_addr()
        .copied()
        .unwrap();
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));

    let db = TestDb::sqlite();
    let text = format!(
        "{}{}",
        platform_section("").replace("http://127.0.0.1:9", &format!("http://{addr}")),
        common::EVENTS
    )
    .replace(
        "id = \"off\"\ntitle = \"Switched off\"",
        "id = \"quiet\"\ntitle = \"Quiet\"",
    )
    .replace("active = false\n", "");
    let app = App::start_with(&db, &text).await;
    let live = app.code("live", 0).await;
    let (status, body) = app.validate(&live).await;
    assert_eq!(
        (status, body["event"]["isLive"].as_bool()),
        (200, Some(true))
    );
    let over = app.code("over", 0).await;
    let (_, body) = app
        .get(&format!("/api/events/over/status?code={over}"), &[])
        .await;
    assert_eq!(
        body["status"], "recording",
        "ended, but the HLS server has the manifest"
    );
    let quiet = app.code("quiet", 0).await;
    let (_, body) = app
        .get(&format!("/api/events/quiet/status?code={quiet}"), &[])
        .await;
    assert_eq!(
        body["status"], "not-started",
        "scheduled, but no manifest yet"
    );
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.iter()
            .all(|s| s.starts_with("HEAD ") && s.ends_with(" true")),
        "{seen:?}"
    );
    assert!(seen.iter().any(|s| s == "HEAD live true"), "{seen:?}");
    app.stop().await;
}

#[tokio::test]
async fn the_portal_is_served_with_the_hls_origin_in_its_csp_and_the_app_name_escaped() {
    let db = TestDb::sqlite();
    let text = format!(
        "{}{}",
        platform_section("app_name = \"Gala <Night> & Co\""),
        common::EVENTS
    );
    let app = App::start_with(&db, &text).await;
    let resp = app.client.get(app.url("/")).send().await.expect("get /");
    assert_eq!(resp.status(), 200);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap_or("")
        .to_owned();
    for part in [
        "script-src 'self';",
        "connect-src 'self' http://127.0.0.1:9;",
        "media-src 'self' blob: http://127.0.0.1:9;",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{part} missing in {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    let page = resp.text().await.expect("page");
    assert!(
        page.contains("Gala &lt;Night&gt; &amp; Co"),
        "app name, escaped"
    );
    assert!(!page.contains("__APP_NAME__"));
    assert!(page.contains("/assets/hls.min.js") && page.contains("/assets/app.js"));
    for (path, content_type) in [
        ("/assets/app.js", "text/javascript"),
        ("/assets/app.css", "text/css"),
        ("/assets/hls.min.js", "text/javascript"),
        ("/assets/hls.js.LICENSE", "text/plain"),
        ("/assets/views/player.js", "text/javascript"),
        ("/shared/dom.js", "text/javascript"),
    ] {
        let resp = app.client.get(app.url(path)).send().await.expect("get");
        assert_eq!(resp.status(), 200, "{path}");
        // Modules (the shared ones too) come with the page's own CSP.
        assert_eq!(
            resp.headers()["content-security-policy"]
                .to_str()
                .unwrap_or(""),
            csp,
            "{path}"
        );
        let got = resp.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .to_owned();
        assert!(got.starts_with(content_type), "{path}: {got}");
    }
    let licence = app
        .client
        .get(app.url("/assets/hls.js.LICENSE"))
        .send()
        .await
        .expect("licence")
        .text()
        .await
        .expect("text");
    assert!(
        licence.contains("Apache") || licence.contains("Copyright"),
        "hls.js licence kept"
    );
    for path in [
        "/assets/index.html",
        "/assets/../Cargo.toml",
        "/assets/nope.js",
        "/assets/views/nope.js",
        "/shared/nope.js",
    ] {
        let resp = app.client.get(app.url(path)).send().await.expect("get");
        assert_eq!(resp.status(), 404, "{path}");
    }
    app.stop().await;
    db.cleanup().await;
}

/// A way to send a release: client, URL, token.
type BeaconRequest = fn(&reqwest::Client, &str, String) -> reqwest::RequestBuilder;

streamgate_testkit::backend_tests! {
    /// Release ends the session with the header alone (no body, no content type) and with
    /// every body `navigator.sendBeacon` can send: a string, a typeless Blob, URLSearchParams,
    /// FormData. The code then works on another device at once, so each really released.
    #[tokio::test]
    async fn release_works_with_the_header_alone_and_any_beacon_body(db) {
        let app = App::start(&db).await;
        let n = db.name;
        let url = app.url("/api/playback/release");
        let variants: [(&str, BeaconRequest); 5] = [
            ("header alone", |c, u, t| {
                c.post(u).header("authorization", format!("Bearer {t}"))
            }),
            ("bare token, no content type", |c, u, t| c.post(u).body(t)),
            ("text/plain token", |c, u, t| {
                c.post(u).header("content-type", "text/plain").body(t)
            }),
            ("URLSearchParams", |c, u, t| {
                c.post(u)
                    .header(
                        "content-type",
                        "application/x-www-form-urlencoded;charset=UTF-8",
                    )
                    .body(format!("token={t}"))
            }),
            ("FormData", |c, u, t| {
                let boundary = "----sgBoundary7MA4YWxk";
                c.post(u)
                    .header("content-type", format!("multipart/form-data; boundary={boundary}"))
                    .body(format!(
                        "--{boundary}\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n{t}\r\n--{boundary}--\r\n"
                    ))
            }),
        ];
        for (i, (what, request)) in variants.iter().enumerate() {
            let code = app.code("live", 10 + i).await;
            let (status, body) = app.validate(&code).await;
            assert_eq!(status, 200, "{n} {what}: {body}");
            let (status, body) = common::read(
                request(&app.client, &url, token(&body))
                    .send()
                    .await
                    .expect("send"),
            )
            .await;
            assert_eq!(
                (status, body),
                (200, json!({"released": true})),
                "{n}: {what}"
            );
            let (status, body) = app.validate(&code).await;
            assert_eq!(
                status, 200,
                "{n}: after a release by {what} the code is free: {body}"
            );
        }
        app.stop().await;
        db.cleanup().await;
    }
}
