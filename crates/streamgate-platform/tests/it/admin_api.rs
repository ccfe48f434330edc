//! The admin API end to end over HTTP, on SQLite and PostgreSQL: console login and its
//! cookie, admin API tokens, every endpoint's success and failure statuses, the 409s of
//! config-managed events, and the revocation feed entries admin actions must produce.

use crate::common;

use common::{App, TestDb, platform_section, read};
use serde_json::{Value, json};
use streamgate_store::admin_tokens;

const PASSWORD: &str = "correct horse battery staple";

/// An admin API client: a console cookie or a bearer token, and the Origin it sends.
struct Client<'a> {
    app: &'a App,
    cookie: Option<String>,
    bearer: Option<String>,
    origin: Option<String>,
}

impl<'a> Client<'a> {
    fn anonymous(app: &'a App) -> Self {
        Self {
            app,
            cookie: None,
            bearer: None,
            origin: None,
        }
    }

    /// Logs in as the console does (same-origin fetch).
    async fn console(app: &'a App) -> Self {
        let resp = app
            .client
            .post(app.url("/api/admin/login"))
            .header("origin", &app.base)
            .json(&json!({ "password": PASSWORD }))
            .send()
            .await
            .expect("login");
        assert_eq!(resp.status(), 200);
        let cookie = session_cookie(&resp).expect("a session cookie");
        Self {
            app,
            cookie: Some(cookie),
            bearer: None,
            origin: Some(app.base.clone()),
        }
    }

    async fn token(app: &'a App, name: &str) -> Self {
        let token = admin_tokens::create(&app.state.store, name)
            .await
            .expect("token");
        Self {
            app,
            cookie: None,
            bearer: Some(token),
            origin: None,
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.app.client.request(method, self.app.url(path));
        if let Some(cookie) = &self.cookie {
            req = req.header("cookie", format!("streamgate_admin={cookie}"));
        }
        if let Some(token) = &self.bearer {
            req = req.bearer_auth(token);
        }
        if let Some(origin) = &self.origin {
            req = req.header("origin", origin);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        read(req.send().await.expect("request")).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call("POST", path, Some(body)).await
    }
}

fn session_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("streamgate_admin="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .filter(|v| !v.is_empty())
}

fn set_cookie_header(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn start(db: &TestDb, extra: &str) -> App {
    let hash = bcrypt::hash(PASSWORD, 4).expect("bcrypt");
    App::start_with_admin(
        db,
        &format!("{}{}", platform_section(extra), common::EVENTS),
        &hash,
    )
    .await
}

fn future_event(title: &str) -> Value {
    json!({
        "title": title,
        "description": "made by a test",
        "startsAt": "2030-01-01T18:00:00Z",
        "endsAt": "2030-01-01T21:00:00Z",
        "accessWindowHours": 24
    })
}

/// Feed entries after `cursor`, as (kind, eventId, codeId, sessionId).
async fn feed_kinds(app: &App, cursor: i64) -> Vec<(String, String, Value, Value)> {
    let feed = app.feed(cursor).await;
    feed["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or_default().to_owned(),
                e["eventId"].as_str().unwrap_or_default().to_owned(),
                e["codeId"].clone(),
                e["sessionId"].clone(),
            )
        })
        .collect()
}

async fn head(app: &App) -> i64 {
    app.feed(0).await["cursor"].as_i64().expect("cursor")
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn console_login_sets_an_encrypted_strict_cookie_and_logout_clears_it(db) {
        let app = start(&db, "").await;
        let anonymous = Client::anonymous(&app);
        let (status, body) = anonymous
            .post("/api/admin/login", json!({ "password": "wrong" }))
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("Invalid password"))
        );
        let (status, body) = anonymous.post("/api/admin/login", json!({})).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("Password is required"))
        );

        let resp = app
            .client
            .post(app.url("/api/admin/login"))
            .json(&json!({ "password": PASSWORD }))
            .send()
            .await
            .expect("login");
        assert_eq!(resp.status(), 200);
        let header = set_cookie_header(&resp);
        for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"] {
            assert!(header.contains(flag), "{flag} missing in {header}");
        }
        assert!(
            !header.contains("Secure"),
            "plain http: no Secure flag: {header}"
        );
        let cookie = session_cookie(&resp).expect("cookie");
        // Encrypted: the claims are not readable in the value.
        assert!(!cookie.contains("exp"), "{cookie}");

        let console = Client::console(&app).await;
        let (status, body) = console.get("/api/admin/session").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            (body["via"].as_str(), body["name"].as_str()),
            (Some("cookie"), Some("admin"))
        );
        assert!(body["expiresAt"].is_string());

        let resp = app
            .client
            .post(app.url("/api/admin/logout"))
            .header("cookie", format!("streamgate_admin={cookie}"))
            .header("origin", &app.base)
            .send()
            .await
            .expect("logout");
        assert_eq!(resp.status(), 200);
        let header = set_cookie_header(&resp);
        assert!(
            header.starts_with("streamgate_admin=;") && header.contains("Max-Age=0"),
            "{header}"
        );

        // Logout ends every console session, not only the one in this browser.
        let (status, body) = console.get("/api/admin/session").await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("Logged out, log in again")),
            "{}",
            db.name
        );
        let other = Client {
            app: &app,
            cookie: Some(cookie.clone()),
            bearer: None,
            origin: None,
        };
        assert_eq!(
            other.get("/api/admin/session").await.0,
            401,
            "the cookie logged out with"
        );
        let console = Client::console(&app).await;
        assert_eq!(
            console.get("/api/admin/session").await.0,
            200,
            "a new login works"
        );
        let (_, audit) = console.get("/api/admin/audit?action=admin.").await;
        let outcomes: Vec<(&str, &str)> = audit["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| {
                (
                    e["action"].as_str().unwrap_or(""),
                    e["outcome"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert!(
            outcomes.contains(&("admin.login", "invalid_password")),
            "{outcomes:?}"
        );
        assert!(outcomes.contains(&("admin.login", "ok")), "{outcomes:?}");
        assert!(outcomes.contains(&("admin.logout", "ok")), "{outcomes:?}");
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn https_public_url_makes_the_cookie_secure_and_sends_hsts() {
    let db = TestDb::sqlite();
    let app = start(&db, "public_url = \"https://tickets.example/\"").await;
    let resp = app
        .client
        .post(app.url("/api/admin/login"))
        .json(&json!({ "password": PASSWORD }))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), 200);
    assert!(set_cookie_header(&resp).contains("Secure"));
    assert_eq!(
        resp.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains",
        "HSTS behind https"
    );
    app.stop().await;
    db.cleanup().await;
}

#[tokio::test]
async fn login_is_rate_limited_per_address() {
    let db = TestDb::sqlite();
    let hash = bcrypt::hash(PASSWORD, 4).expect("bcrypt");
    let text = format!(
        "{}{}",
        platform_section("").replace(
            "[platform.rate_limits]\n",
            "[platform.rate_limits]\nadmin_login_per_minute = 3\n"
        ),
        common::EVENTS
    );
    let app = App::start_with_admin(&db, &text, &hash).await;
    let anonymous = Client::anonymous(&app);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let resp = app
            .client
            .post(app.url("/api/admin/login"))
            .json(&json!({ "password": "wrong" }))
            .send()
            .await
            .expect("login");
        statuses.push((
            resp.status().as_u16(),
            resp.headers().contains_key("retry-after"),
        ));
    }
    assert_eq!(
        statuses,
        [(401, false), (401, false), (401, false), (429, true)]
    );
    // Even the right password waits out the window.
    let (status, _) = anonymous
        .post("/api/admin/login", json!({ "password": PASSWORD }))
        .await;
    assert_eq!(status, 429);
    app.stop().await;
    db.cleanup().await;
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn without_valid_credentials_every_admin_endpoint_is_401(db) {
        let app = start(&db, "").await;
        let code_id = first_code_id(&app, "live").await;
        let endpoints: Vec<(&str, String)> = vec![
            ("GET", "/api/admin/session".into()),
            ("GET", "/api/admin/events".into()),
            ("POST", "/api/admin/events".into()),
            ("GET", "/api/admin/events/live".into()),
            ("PUT", "/api/admin/events/live".into()),
            ("DELETE", "/api/admin/events/live".into()),
            ("POST", "/api/admin/events/live/activate".into()),
            ("POST", "/api/admin/events/live/deactivate".into()),
            ("POST", "/api/admin/events/live/archive".into()),
            ("POST", "/api/admin/events/live/unarchive".into()),
            ("GET", "/api/admin/events/live/tokens".into()),
            ("POST", "/api/admin/events/live/tokens".into()),
            ("GET", "/api/admin/events/live/tokens/export".into()),
            ("GET", "/api/admin/events/live/sessions".into()),
            ("GET", "/api/admin/events/live/analytics".into()),
            ("GET", "/api/admin/events/live/analytics/export".into()),
            ("GET", "/api/admin/analytics/viewers".into()),
            ("GET", "/api/admin/tokens".into()),
            ("POST", format!("/api/admin/tokens/{code_id}/revoke")),
            ("POST", format!("/api/admin/tokens/{code_id}/unrevoke")),
            ("POST", "/api/admin/tokens/bulk-revoke".into()),
            ("POST", "/api/admin/sessions/nope/release".into()),
            ("GET", "/api/admin/dashboard".into()),
            ("GET", "/api/admin/config".into()),
            ("GET", "/api/admin/audit".into()),
        ];
        let keys = &app.state.admin;
        let now = streamgate_store::now_ms();
        let expired = keys.seal_session(now - 9 * 3_600_000, now - 3_600_000);
        let valid = keys.seal_session(now, now + 3_600_000);
        let mut tampered = valid.clone().into_bytes();
        let mid = tampered.len() / 2;
        tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        let revoked_token = admin_tokens::create(&app.state.store, "gone")
            .await
            .expect("token");
        admin_tokens::revoke(&app.state.store, "gone")
            .await
            .expect("revoke");
        let credentials: Vec<(&str, Option<String>, Option<String>)> = vec![
            ("no credential", None, None),
            ("forged cookie", Some("not-a-real-session".into()), None),
            ("tampered cookie", Some(tampered), None),
            ("expired cookie", Some(expired), None),
            ("revoked token", None, Some(revoked_token)),
            ("unknown token", None, Some("sgat_unknown".into())),
        ];
        for (what, cookie, bearer) in &credentials {
            let client = Client {
                app: &app,
                cookie: cookie.clone(),
                bearer: bearer.clone(),
                origin: Some(app.base.clone()),
            };
            for (method, path) in &endpoints {
                let body = (*method != "GET").then(|| json!({}));
                let (status, body) = client.call(method, path, body).await;
                assert_eq!(status, 401, "{}: {what}: {method} {path}: {body}", db.name);
                assert!(body["error"].is_string(), "{body}");
            }
        }
        // A cookie the server made itself is accepted by the same routes.
        let ok = Client {
            app: &app,
            cookie: Some(valid),
            bearer: None,
            origin: None,
        };
        assert_eq!(ok.get("/api/admin/dashboard").await.0, 200);
        app.stop().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn cookie_requests_that_change_state_must_come_from_our_origin(db) {
        let app = start(&db, "").await;
        let console = Client::console(&app).await;
        let code_id = first_code_id(&app, "live").await;
        for origin in [Some("http://evil.example"), None] {
            let client = Client {
                app: &app,
                cookie: console.cookie.clone(),
                bearer: None,
                origin: origin.map(str::to_owned),
            };
            let (status, body) = client
                .post(&format!("/api/admin/tokens/{code_id}/revoke"), json!({}))
                .await;
            assert_eq!(
                (status, body["error"].as_str()),
                (403, Some("Cross-origin request refused")),
                "{}: origin {origin:?}",
                db.name
            );
            let (status, _) = client.post("/api/admin/events", future_event("x")).await;
            assert_eq!(status, 403);
            // Reads need no Origin.
            assert_eq!(client.get("/api/admin/dashboard").await.0, 200);
        }
        let revoked = common::count(
            &app.pool,
            "SELECT COUNT(*) FROM access_codes WHERE is_revoked = 1",
        )
        .await;
        assert_eq!(revoked, 0, "a refused request changed nothing");
        // A bearer token is never sent by a browser on its own: no Origin needed.
        let script = Client::token(&app, "ci").await;
        let (status, body) = script
            .post(&format!("/api/admin/tokens/{code_id}/revoke"), json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
        let (_, session) = script.get("/api/admin/session").await;
        assert_eq!(
            (session["via"].as_str(), session["name"].as_str()),
            (Some("token"), Some("ci"))
        );
        app.stop().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn api_events_are_made_listed_changed_switched_and_deleted(db) {
        let app = start(&db, "").await;
        let admin = Client::console(&app).await;
        let name = db.name;

        // Create: 201, then every rule refused with a message that names the field.
        let (status, made) = admin
            .post("/api/admin/events", future_event("Launch"))
            .await;
        assert_eq!(status, 201, "{name}: {made}");
        assert_eq!(made["managedBy"], "api");
        assert_eq!(made["readOnly"], false);
        let id = made["id"].as_str().expect("id").to_owned();
        assert!(
            uuid::Uuid::parse_str(&id).is_ok(),
            "API events get a UUID when no id is given: {id}"
        );
        // An id given on create: a slug, unique, and where its stream is expected.
        let mut named = future_event("Keynote");
        named["id"] = json!("keynote-2030");
        let (status, made) = admin.post("/api/admin/events", named.clone()).await;
        assert_eq!(
            (status, made["id"].as_str()),
            (201, Some("keynote-2030")),
            "{name}: {made}"
        );
        let (status, again) = admin.post("/api/admin/events", named).await;
        assert_eq!(
            (status, again["error"].as_str()),
            (409, Some("An event with id `keynote-2030` already exists")),
            "{name}"
        );
        let (status, taken) = admin
            .post("/api/admin/events", json!({"id": "live", "title": "x", "startsAt": "2030-01-01T18:00:00Z", "endsAt": "2030-01-01T19:00:00Z"}))
            .await;
        assert_eq!(
            status, 409,
            "{name}: a config event's id is taken too: {taken}"
        );
        for bad in ["Keynote", "-x", "a b", &"x".repeat(64)] {
            let mut body = future_event("Bad id");
            body["id"] = json!(bad);
            let (status, refused) = admin.post("/api/admin/events", body).await;
            assert_eq!(status, 400, "{name}: id {bad:?}: {refused}");
            assert!(
                refused["error"].as_str().unwrap_or("").starts_with("id: "),
                "{refused}"
            );
        }
        // Its playlist: `index.m3u8` unless named; a name that leaves the folder or is
        // no playlist is refused; "" goes back to the default.
        assert_eq!(made["playlist"], "index.m3u8", "{name}: {made}");
        let (status, changed) = admin
            .call(
                "PUT",
                "/api/admin/events/keynote-2030",
                Some(json!({"playlist": "hls/master.m3u8"})),
            )
            .await;
        assert_eq!(
            (status, changed["playlist"].as_str()),
            (200, Some("hls/master.m3u8")),
            "{name}: {changed}"
        );
        for bad in ["../other/index.m3u8", "/abs.m3u8", "index.ts", "a b.m3u8"] {
            let (status, refused) = admin
                .call(
                    "PUT",
                    "/api/admin/events/keynote-2030",
                    Some(json!({ "playlist": bad })),
                )
                .await;
            assert_eq!(status, 400, "{name}: playlist {bad:?}: {refused}");
            assert!(
                refused["error"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("playlist "),
                "{refused}"
            );
        }
        let (_, reset) = admin
            .call(
                "PUT",
                "/api/admin/events/keynote-2030",
                Some(json!({"playlist": ""})),
            )
            .await;
        assert_eq!(reset["playlist"], "index.m3u8", "{name}: {reset}");
        let mut with_playlist = future_event("Named playlist");
        with_playlist["playlist"] = json!("stream.m3u8");
        let (status, made_with) = admin.post("/api/admin/events", with_playlist).await;
        assert_eq!(
            (status, made_with["playlist"].as_str()),
            (201, Some("stream.m3u8")),
            "{name}: {made_with}"
        );
        let made_with_id = made_with["id"].as_str().expect("id");
        let (status, _) = admin
            .call("DELETE", &format!("/api/admin/events/{made_with_id}"), None)
            .await;
        assert!(status < 300, "{name}");
        // The id changes (its codes go with it) until a code is redeemed.
        let (status, generated) = admin
            .post("/api/admin/events/keynote-2030/tokens", json!({"count": 2}))
            .await;
        assert_eq!(status, 201, "{name}: {generated}");
        for (body, want) in [
            (json!({"id": "live"}), 409),
            (json!({"id": "Bad Id"}), 400),
            (json!({"id": "keynote-2031", "accessWindowHours": 999}), 400),
        ] {
            let (status, refused) = admin
                .call("PUT", "/api/admin/events/keynote-2030", Some(body.clone()))
                .await;
            assert_eq!(status, want, "{name}: {body}: {refused}");
        }
        assert_eq!(
            admin.get("/api/admin/events/keynote-2031").await.0,
            404,
            "{name}: a refused update renamed the event"
        );
        let (status, renamed) = admin
            .call(
                "PUT",
                "/api/admin/events/keynote-2030",
                Some(json!({"id": "keynote-2031", "title": "Keynote 2031"})),
            )
            .await;
        assert_eq!(
            (status, renamed["id"].as_str(), renamed["title"].as_str()),
            (200, Some("keynote-2031"), Some("Keynote 2031")),
            "{name}: {renamed}"
        );
        assert_eq!(
            renamed["codes"]["total"], 2,
            "{name}: the codes moved along"
        );
        assert_eq!(admin.get("/api/admin/events/keynote-2030").await.0, 404);
        let code = generated["tokens"][0]["code"].as_str().expect("code");
        let (status, body) = app.validate(code).await;
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(body["streamPath"], "/streams/keynote-2031/index.m3u8");
        let (status, fixed) = admin
            .call(
                "PUT",
                "/api/admin/events/keynote-2031",
                Some(json!({"id": "keynote-2032"})),
            )
            .await;
        assert_eq!(status, 409, "{name}: {fixed}");
        assert!(
            fixed["error"]
                .as_str()
                .unwrap_or("")
                .starts_with("The id cannot change: 1 access codes"),
            "{fixed}"
        );
        let (status, deleted) = admin
            .call("DELETE", "/api/admin/events/keynote-2031?force=true", None)
            .await;
        assert!(
            status < 300,
            "{name}: the named event is deleted like any other: {deleted}"
        );
        for (patch, message) in [
            (
                json!({"endsAt": "2029-01-01T00:00:00Z"}),
                "startsAt must be before endsAt",
            ),
            (
                json!({"posterUrl": "not a url"}),
                "posterUrl is not a valid URL",
            ),
            (
                json!({"accessWindowHours": 169}),
                "accessWindowHours must be between 0 and 168",
            ),
            (
                json!({"startsAt": "tomorrow"}),
                "startsAt must be an RFC 3339",
            ),
            (json!({"title": "  "}), "title must be 1 to 200 characters"),
        ] {
            let mut body = future_event("Bad");
            for (k, v) in patch.as_object().expect("object") {
                body[k] = v.clone();
            }
            let (status, err) = admin.post("/api/admin/events", body).await;
            assert_eq!(status, 400, "{name}: {patch}: {err}");
            assert!(
                err["error"].as_str().unwrap_or("").starts_with(message),
                "{err}"
            );
        }
        let (status, _) = admin
            .post("/api/admin/events", json!({"title": "no dates"}))
            .await;
        assert_eq!(status, 400);

        // Get and update (only the fields given; "" clears a URL).
        let (status, got) = admin.get(&format!("/api/admin/events/{id}")).await;
        assert_eq!((status, got["title"].as_str()), (200, Some("Launch")));
        assert_eq!(admin.get("/api/admin/events/nope").await.0, 404);
        let (status, updated) = admin
            .call(
                "PUT",
                &format!("/api/admin/events/{id}"),
                Some(json!({"title": "Launch night", "posterUrl": "https://img.example/p.jpg"})),
            )
            .await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!(updated["title"], "Launch night");
        assert_eq!(updated["description"], "made by a test");
        assert_eq!(updated["posterUrl"], "https://img.example/p.jpg");
        let (status, bad) = admin
            .call(
                "PUT",
                &format!("/api/admin/events/{id}"),
                Some(json!({"startsAt": "2031-01-01T00:00:00Z"})),
            )
            .await;
        assert_eq!(status, 400, "{bad}");
        let (_, unchanged) = admin.get(&format!("/api/admin/events/{id}")).await;
        assert_eq!(
            unchanged["startsAt"], "2030-01-01T18:00:00Z",
            "a refused update writes nothing"
        );
        assert_eq!(
            admin
                .call("PUT", "/api/admin/events/nope", Some(json!({})))
                .await
                .0,
            404
        );

        // Listing: filters, sort, paging.
        let ids = |body: &Value| -> Vec<String> {
            body["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|e| e["id"].as_str().unwrap_or("").to_owned())
                .collect()
        };
        let (_, upcoming) = admin.get("/api/admin/events?filter=upcoming").await;
        assert_eq!(ids(&upcoming), [id.as_str()]);
        let (_, past) = admin.get("/api/admin/events?filter=past").await;
        assert_eq!(ids(&past), ["over"]);
        let (_, inactive) = admin.get("/api/admin/events?filter=inactive").await;
        assert_eq!(ids(&inactive), ["off"]);
        let (_, by_title) = admin.get("/api/admin/events?sort=title&order=desc").await;
        assert_eq!(
            ids(&by_title),
            ["off", "over", "live", id.as_str()],
            "Switched off, Long over, Live now, Launch night"
        );
        let (_, page2) = admin
            .get("/api/admin/events?sort=title&perPage=3&page=2")
            .await;
        assert_eq!(
            (ids(&page2), page2["total"].as_i64()),
            (vec!["off".to_owned()], Some(4))
        );
        assert_eq!(admin.get("/api/admin/events?perPage=1000").await.0, 400);
        assert_eq!(admin.get("/api/admin/events?filter=bogus").await.0, 400);
        let (_, live) = admin.get("/api/admin/events?filter=live").await;
        assert_eq!(live["items"][0]["codes"]["total"], 40);

        // Deactivate / activate reach the revocation feed; archive hides.
        let cursor = head(&app).await;
        let (status, off) = admin
            .post(&format!("/api/admin/events/{id}/deactivate"), json!({}))
            .await;
        assert_eq!((status, off["isActive"].as_bool()), (200, Some(false)));
        let (status, on) = admin
            .post(&format!("/api/admin/events/{id}/activate"), json!({}))
            .await;
        assert_eq!((status, on["isActive"].as_bool()), (200, Some(true)));
        let kinds: Vec<String> = feed_kinds(&app, cursor)
            .await
            .into_iter()
            .map(|k| k.0)
            .collect();
        assert_eq!(kinds, ["event_deactivated", "event_reactivated"], "{name}");
        let (status, archived) = admin
            .post(&format!("/api/admin/events/{id}/archive"), json!({}))
            .await;
        assert_eq!(
            (status, archived["isArchived"].as_bool()),
            (200, Some(true))
        );
        let (_, current) = admin.get("/api/admin/events").await;
        assert!(!ids(&current).contains(&id));
        let (_, archived) = admin.get("/api/admin/events?filter=archived").await;
        assert_eq!(ids(&archived), [id.as_str()]);
        let (status, back) = admin
            .post(&format!("/api/admin/events/{id}/unarchive"), json!({}))
            .await;
        assert_eq!((status, back["isArchived"].as_bool()), (200, Some(false)));
        assert_eq!(
            admin
                .post("/api/admin/events/nope/archive", json!({}))
                .await
                .0,
            404
        );

        // Delete: refused while a code was redeemed, unless forced; cascades.
        let (status, generated) = admin
            .post(
                &format!("/api/admin/events/{id}/tokens"),
                json!({"count": 3}),
            )
            .await;
        assert_eq!(status, 201, "{generated}");
        let code = generated["tokens"][0]["code"]
            .as_str()
            .expect("code")
            .to_owned();
        // A future event: redemption works (the player shows the countdown).
        let (status, body) = app.validate(&code).await;
        assert_eq!(status, 200, "{body}");
        let (status, refused) = admin
            .call("DELETE", &format!("/api/admin/events/{id}"), None)
            .await;
        assert_eq!(status, 409, "{refused}");
        assert!(
            refused["error"]
                .as_str()
                .unwrap_or("")
                .contains("force=true"),
            "{refused}"
        );
        let cursor = head(&app).await;
        let (status, deleted) = admin
            .call(
                "DELETE",
                &format!("/api/admin/events/{id}?force=true"),
                None,
            )
            .await;
        assert_eq!(
            (status, deleted["codes"].as_i64()),
            (200, Some(3)),
            "{deleted}"
        );
        assert_eq!(admin.get(&format!("/api/admin/events/{id}")).await.0, 404);
        let left = common::count(
            &app.pool,
            "SELECT COUNT(*) FROM access_codes WHERE event_id NOT IN ('live', 'over', 'off')",
        )
        .await;
        assert_eq!(left, 0, "codes cascade");
        let kinds = feed_kinds(&app, cursor).await;
        assert!(
            kinds
                .iter()
                .any(|k| k.0 == "event_deactivated" && k.1 == id),
            "edges hear a deleted event is gone: {kinds:?}"
        );
        assert_eq!(
            admin.call("DELETE", "/api/admin/events/nope", None).await.0,
            404
        );
        app.stop().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn config_managed_events_answer_409_naming_the_file(db) {
        let app = start(&db, "").await;
        let admin = Client::token(&app, "ops").await;
        let before = streamgate_testkit::snapshot(&app.pool).await;
        for (method, path, body) in [
            ("PUT", "/api/admin/events/live", Some(json!({"title": "x"}))),
            ("DELETE", "/api/admin/events/live?force=true", None),
            ("POST", "/api/admin/events/live/activate", Some(json!({}))),
            ("POST", "/api/admin/events/live/deactivate", Some(json!({}))),
            ("POST", "/api/admin/events/live/archive", Some(json!({}))),
            ("POST", "/api/admin/events/live/unarchive", Some(json!({}))),
            (
                "POST",
                "/api/admin/events/live/tokens",
                Some(json!({"count": 1})),
            ),
        ] {
            let (status, err) = admin.call(method, path, body).await;
            assert_eq!(status, 409, "{}: {method} {path}: {err}", db.name);
            assert_eq!(
                err["error"], "Event \"live\" is managed by streamgate.toml; change it there",
                "{method} {path}"
            );
        }
        let after = streamgate_testkit::snapshot(&app.pool).await;
        let strip = |rows: Vec<String>| -> Vec<String> {
            rows.into_iter()
                .filter(|r| !r.starts_with("audit_log"))
                .collect()
        };
        assert_eq!(strip(before), strip(after), "{}: nothing changed", db.name);
        let (_, event) = admin.get("/api/admin/events/live").await;
        assert_eq!(
            (event["managedBy"].as_str(), event["readOnly"].as_bool()),
            (Some("config"), Some(true))
        );
        app.stop().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn codes_are_generated_listed_searched_revoked_and_exported(db) {
        let app = start(&db, "").await;
        let admin = Client::console(&app).await;
        let name = db.name;
        let (_, event) = admin.post("/api/admin/events", future_event("Codes")).await;
        let id = event["id"].as_str().expect("id").to_owned();
        let tokens = format!("/api/admin/events/{id}/tokens");

        for count in [0, 501, -1] {
            let (status, err) = admin.post(&tokens, json!({"count": count})).await;
            assert_eq!(status, 400, "{count}");
            assert_eq!(err["error"], "count must be between 1 and 500");
        }
        assert_eq!(
            admin
                .post("/api/admin/events/nope/tokens", json!({"count": 1}))
                .await
                .0,
            404
        );
        let (status, made) = admin
            .post(&tokens, json!({"count": 60, "label": "Press Row"}))
            .await;
        assert_eq!(
            (status, made["generated"].as_i64()),
            (201, Some(60)),
            "{name}: {made}"
        );
        let (status, _) = admin
            .post(&tokens, json!({"count": 5, "label": "sponsors"}))
            .await;
        assert_eq!(status, 201);

        // 50 per page, newest first, with paging totals.
        let (_, page1) = admin.get(&tokens).await;
        assert_eq!(
            (
                page1["items"].as_array().map(Vec::len),
                page1["total"].as_i64(),
                page1["perPage"].as_i64()
            ),
            (Some(50), Some(65), Some(50))
        );
        assert_eq!(page1["items"][0]["label"], "sponsors");
        let (_, page2) = admin.get(&format!("{tokens}?page=2")).await;
        assert_eq!(page2["items"].as_array().map(Vec::len), Some(15));
        assert_eq!(admin.get(&format!("{tokens}?page=0")).await.0, 400);
        assert_eq!(admin.get("/api/admin/events/nope/tokens").await.0, 404);

        // Search: label substring (any case), code substring.
        let (_, press) = admin.get(&format!("{tokens}?search=PRESS")).await;
        assert_eq!(press["total"], 60);
        let code = page1["items"][3]["code"].as_str().expect("code").to_owned();
        let code_id = page1["items"][3]["id"].as_str().expect("id").to_owned();
        let (_, found) = admin.get(&format!("{tokens}?search={}", &code[2..9])).await;
        assert!(
            found["items"]
                .as_array()
                .expect("items")
                .iter()
                .any(|c| c["code"] == code.as_str())
        );
        let (_, none) = admin.get(&format!("{tokens}?search=%25")).await;
        assert_eq!(none["total"], 0, "LIKE wildcards are literal");

        // Revoke, unrevoke: status, feed, 404.
        let cursor = head(&app).await;
        let (status, revoked) = admin
            .post(&format!("/api/admin/tokens/{code_id}/revoke"), json!({}))
            .await;
        assert_eq!(
            (status, revoked["status"].as_str()),
            (200, Some("revoked")),
            "{revoked}"
        );
        assert!(revoked["revokedAt"].is_string());
        let (status, body) = app.validate(&code).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("Access code has been revoked"))
        );
        let (_, only) = admin.get(&format!("{tokens}?status=revoked")).await;
        assert_eq!(only["total"], 1);
        let (status, back) = admin
            .post(&format!("/api/admin/tokens/{code_id}/unrevoke"), json!({}))
            .await;
        assert_eq!((status, back["status"].as_str()), (200, Some("unused")));
        let kinds: Vec<(String, Value)> = feed_kinds(&app, cursor)
            .await
            .into_iter()
            .map(|k| (k.0, k.2))
            .collect();
        assert_eq!(
            kinds,
            [
                ("code_revoked".to_owned(), json!(code_id)),
                ("code_unrevoked".to_owned(), json!(code_id))
            ],
            "{name}"
        );
        assert_eq!(
            admin
                .post("/api/admin/tokens/nope/revoke", json!({}))
                .await
                .0,
            404
        );
        assert_eq!(
            admin
                .post("/api/admin/tokens/nope/unrevoke", json!({}))
                .await
                .0,
            404
        );

        // Bulk revoke counts only the newly revoked.
        let some: Vec<Value> = page1["items"].as_array().expect("items")[..4]
            .iter()
            .map(|c| c["id"].clone())
            .collect();
        let (status, bulk) = admin
            .post("/api/admin/tokens/bulk-revoke", json!({"tokenIds": some}))
            .await;
        assert_eq!((status, bulk["revoked"].as_i64()), (200, Some(4)), "{bulk}");
        let (_, again) = admin
            .post(
                "/api/admin/tokens/bulk-revoke",
                json!({"tokenIds": [some[0].clone(), "unknown"]}),
            )
            .await;
        assert_eq!(again["revoked"], 0);
        let (status, _) = admin
            .post("/api/admin/tokens/bulk-revoke", json!({"tokenIds": []}))
            .await;
        assert_eq!(status, 400);
        let too_many: Vec<String> = (0..1001).map(|i| i.to_string()).collect();
        assert_eq!(
            admin
                .post(
                    "/api/admin/tokens/bulk-revoke",
                    json!({"tokenIds": too_many})
                )
                .await
                .0,
            400
        );

        // Across events: filters by event and status.
        let (_, all_revoked) = admin.get("/api/admin/tokens?status=revoked").await;
        assert_eq!(all_revoked["total"], 4);
        assert_eq!(all_revoked["items"][0]["eventTitle"], "Codes");
        let (_, live_codes) = admin.get("/api/admin/tokens?eventId=live").await;
        assert_eq!(live_codes["total"], 40);
        let (_, everything) = admin.get("/api/admin/tokens").await;
        assert_eq!(everything["total"], 40 + 2 + 2 + 65);
        assert_eq!(admin.get("/api/admin/tokens?status=lost").await.0, 400);

        // CSV export: header, one line per code, statuses, attachment.
        let resp = app
            .client
            .get(app.url(&format!("{tokens}/export")))
            .header(
                "cookie",
                format!("streamgate_admin={}", admin.cookie.as_deref().unwrap_or("")),
            )
            .send()
            .await
            .expect("export");
        assert_eq!(resp.status(), 200);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap_or("")
                .starts_with("text/csv")
        );
        let disposition = resp.headers()["content-disposition"]
            .to_str()
            .unwrap_or("")
            .to_owned();
        assert!(
            disposition.contains("attachment") && disposition.contains(&format!("{id}-codes.csv")),
            "{disposition}"
        );
        let csv = resp.text().await.expect("csv");
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "code,label,status,createdAt,expiresAt");
        assert_eq!(lines.len(), 66);
        assert_eq!(lines.iter().filter(|l| l.contains(",revoked,")).count(), 4);
        assert_eq!(
            admin.get("/api/admin/events/nope/tokens/export").await.0,
            404
        );
        app.stop().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn live_sessions_are_listed_and_force_released(db) {
        let app = start(&db, "").await;
        let admin = Client::console(&app).await;
        let code = app.code("live", 0).await;
        let (status, _) = app.validate(&code).await;
        assert_eq!(status, 200);
        let (status, list) = admin.get("/api/admin/events/live/sessions").await;
        assert_eq!(status, 200, "{list}");
        let items = list["items"].as_array().expect("items");
        assert_eq!(items.len(), 1, "{list}");
        assert_eq!(
            (items[0]["code"].as_str(), items[0]["stale"].as_bool()),
            (Some(code.as_str()), Some(false))
        );
        let session = items[0]["id"].as_str().expect("id").to_owned();
        let (_, dashboard) = admin.get("/api/admin/dashboard").await;
        assert_eq!(dashboard["activeViewers"], 1);
        assert_eq!(dashboard["codes"]["active"], 1);

        // A second device is refused until the operator releases the first.
        assert_eq!(app.validate(&code).await.0, 409);
        let cursor = head(&app).await;
        let (status, released) = admin
            .post(&format!("/api/admin/sessions/{session}/release"), json!({}))
            .await;
        assert_eq!(
            (status, released["released"].as_bool()),
            (200, Some(true)),
            "{released}"
        );
        let kinds = feed_kinds(&app, cursor).await;
        assert_eq!(kinds.len(), 1);
        assert_eq!(
            (kinds[0].0.as_str(), &kinds[0].3),
            ("session_ended", &json!(session))
        );
        let (_, again) = admin
            .post(&format!("/api/admin/sessions/{session}/release"), json!({}))
            .await;
        assert_eq!(again["released"], false);
        assert_eq!(
            admin
                .post("/api/admin/sessions/nope/release", json!({}))
                .await
                .0,
            404
        );
        let (_, list) = admin.get("/api/admin/events/live/sessions").await;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(0));
        assert_eq!(
            app.validate(&code).await.0,
            200,
            "the code works on another device now"
        );
        assert_eq!(admin.get("/api/admin/events/nope/sessions").await.0, 404);
        app.stop().await;
        db.cleanup().await;
    }
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn dashboard_config_status_and_audit_log_tell_the_operator_what_happened(db) {
        let app = start(&db, "").await;
        let admin = Client::token(&app, "ops").await;
        let (status, dashboard) = admin.get("/api/admin/dashboard").await;
        assert_eq!(status, 200, "{dashboard}");
        assert_eq!(
            dashboard["events"],
            json!({"total": 3, "active": 2, "upcoming": 0, "live": 1, "archived": 0})
        );
        assert_eq!(dashboard["codes"]["total"], 44);
        assert_eq!(dashboard["codes"]["expired"], 2);
        assert_eq!(dashboard["codes"]["revoked"], 0);
        // An edge that polled shows up with its lag.
        app.feed(0).await;
        let (_, dashboard) = admin.get("/api/admin/dashboard").await;
        let edge = &dashboard["edges"][0];
        assert_eq!(
            (
                edge["id"].as_str(),
                edge["healthy"].as_bool(),
                edge["lag"].as_i64()
            ),
            (Some("test-edge"), Some(true), Some(0))
        );

        let (status, config) = admin.get("/api/admin/config").await;
        assert_eq!(status, 200, "{config}");
        assert_eq!(config["path"], "streamgate.toml");
        assert_eq!(config["applies"], 1);
        assert_eq!(config["lastError"], Value::Null);

        let (_, event) = admin
            .post("/api/admin/events", future_event("Audited"))
            .await;
        let id = event["id"].as_str().expect("id");
        admin
            .post(
                &format!("/api/admin/events/{id}/tokens"),
                json!({"count": 2, "label": "x"}),
            )
            .await;
        let (status, audit) = admin.get("/api/admin/audit?perPage=2").await;
        assert_eq!(status, 200, "{audit}");
        let first: Vec<(&str, &str)> = audit["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| {
                (
                    e["action"].as_str().unwrap_or(""),
                    e["actor"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            first,
            [
                ("code.generate", "admin-token:ops"),
                ("event.create", "admin-token:ops")
            ]
        );
        assert!(
            audit["total"].as_i64().unwrap_or(0) >= 3,
            "the config apply is audited too"
        );
        let (_, codes_only) = admin.get("/api/admin/audit?action=code.").await;
        assert_eq!(codes_only["total"], 1);
        assert_eq!(admin.get("/api/admin/audit?page=0").await.0, 400);

        // Code actions name the ticket (code and label), and the log filters by code.
        let code = app.code("live", 3).await;
        let (status, _) = app.validate(&code).await;
        assert_eq!(status, 200);
        let (_, listed) = admin.get(&format!("/api/admin/tokens?search={code}")).await;
        let code_id = listed["items"][0]["id"]
            .as_str()
            .expect("code id")
            .to_owned();
        let (status, _) = admin
            .post(&format!("/api/admin/tokens/{code_id}/revoke"), json!({}))
            .await;
        assert_eq!(status, 200);
        let (status, about) = admin.get(&format!("/api/admin/audit?code={code}")).await;
        assert_eq!(status, 200, "{about}");
        let seen: Vec<(&str, &str, &str)> = about["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| {
                (
                    e["action"].as_str().unwrap_or(""),
                    e["code"].as_str().unwrap_or(""),
                    e["codeLabel"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("code.revoke", code.as_str(), "tickets"),
                ("code.redeem", code.as_str(), "tickets"),
            ],
            "{about}"
        );
        let (_, none) = admin.get("/api/admin/audit?code=nosuchcode00").await;
        assert_eq!(none["total"], 0);
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_console_is_served_with_a_strict_content_security_policy() {
    let db = TestDb::sqlite();
    let app = start(&db, "").await;
    for (path, content_type) in [
        ("/admin", "text/html"),
        ("/admin/", "text/html"),
        ("/admin/assets/app.js", "text/javascript"),
        ("/admin/assets/app.css", "text/css"),
        ("/admin/assets/views/event-detail.js", "text/javascript"),
        ("/admin/shared/dom.js", "text/javascript"),
    ] {
        let resp = app.client.get(app.url(path)).send().await.expect("get");
        assert_eq!(resp.status(), 200, "{path}");
        let headers = resp.headers();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap_or("")
                .starts_with(content_type),
            "{path}"
        );
        let csp = headers["content-security-policy"].to_str().unwrap_or("");
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert!(
            !headers.contains_key("strict-transport-security"),
            "plain http: no HSTS"
        );
    }
    let page = app
        .client
        .get(app.url("/admin"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("/admin/assets/app.js"),
        "the page loads its script"
    );
    assert!(!page.contains("<script>"), "no inline script");
    for path in [
        "/admin/assets/index.html",
        "/admin/assets/..%2fCargo.toml",
        "/admin/assets/nope.js",
        "/admin/assets/views/nope.js",
        "/admin/shared/nope.js",
        "/admin/shared/..%2fadmin%2fapp.js",
    ] {
        let resp = app.client.get(app.url(path)).send().await.expect("get");
        assert_eq!(resp.status(), 404, "{path}");
    }
    app.stop().await;
    db.cleanup().await;
}

async fn first_code_id(app: &App, event: &str) -> String {
    let rows = streamgate_testkit::sqlx::query(
        "SELECT id FROM access_codes WHERE event_id = $1 ORDER BY created_at, code",
    )
    .bind(event)
    .fetch_all(&app.pool)
    .await
    .expect("codes");
    streamgate_testkit::sqlx::Row::get(&rows[0], "id")
}
