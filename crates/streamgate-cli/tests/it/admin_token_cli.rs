//! Admin API tokens as an operator uses them: `streamgate admin-token create` prints a
//! token once and stores only its hash; the admin API accepts it as a bearer token;
//! `revoke` makes the next call a 401; `list` never shows a token. On SQLite and
//! PostgreSQL.

use std::path::Path;
use std::process::{Command, Output};

use crate::common;

fn cli(dir: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_streamgate"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("DATABASE_URL", url)
        .output()
        .expect("run streamgate")
}

async fn session_status(base: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new().get(format!("{base}/api/admin/session"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

streamgate_testkit::backend_tests! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_token_is_shown_once_accepted_and_then_revoked(db) {
        let dir = tempfile::tempdir().expect("tmp");
        let made = cli(
            dir.path(),
            &db.url,
            &["admin-token", "create", "--name", "ci-client"],
        );
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        let token = String::from_utf8_lossy(&made.stdout).trim().to_owned();
        assert!(token.starts_with("sgadm_") && token.len() > 40, "{token}");

        let again = cli(
            dir.path(),
            &db.url,
            &["admin-token", "create", "--name", "ci-client"],
        );
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
        let bad = cli(
            dir.path(),
            &db.url,
            &["admin-token", "create", "--name", "no spaces"],
        );
        assert!(!bad.status.success());

        // Only the hash is stored.
        streamgate_testkit::sqlx::any::install_default_drivers();
        let pool = streamgate_testkit::sqlx::AnyPool::connect(&db.url)
            .await
            .expect("pool");
        let stored: String = streamgate_testkit::sqlx::Row::get(
            &streamgate_testkit::sqlx::query(
                "SELECT token_hash FROM admin_tokens WHERE name = 'ci-client'",
            )
            .fetch_one(&pool)
            .await
            .expect("row"),
            0,
        );
        assert_ne!(stored, token);
        assert!(!stored.contains(&token[6..]));
        pool.close().await;

        let platform = common::platform(&db.url, "[platform]\nlisten = \"127.0.0.1:0\"\n").await;
        let base = format!("http://{}", platform.local_addr());

        let (status, body) = session_status(&base, Some(&token)).await;
        assert_eq!(status, 200, "{}: {body}", db.name);
        assert_eq!(body["name"], "ci-client");
        assert_eq!(body["via"], "token");
        assert_eq!(session_status(&base, None).await.0, 401);
        let (status, body) = session_status(&base, Some("sgadm_not-a-real-token")).await;
        assert_eq!(status, 401);
        assert!(body["error"].is_string(), "{body}");

        let listed = cli(dir.path(), &db.url, &["admin-token", "list"]);
        let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
        assert!(
            listed.contains("ci-client") && listed.contains("active"),
            "{listed}"
        );
        assert!(
            !listed.contains("never"),
            "the API call was recorded: {listed}"
        );
        assert!(!listed.contains(&token), "list never shows a token");

        let revoked = cli(
            dir.path(),
            &db.url,
            &["admin-token", "revoke", "--name", "ci-client"],
        );
        assert!(revoked.status.success());
        assert_eq!(
            session_status(&base, Some(&token)).await.0,
            401,
            "{}",
            db.name
        );
        let listed = cli(dir.path(), &db.url, &["admin-token", "list"]);
        assert!(String::from_utf8_lossy(&listed.stdout).contains("revoked"));
        let missing = cli(
            dir.path(),
            &db.url,
            &["admin-token", "revoke", "--name", "nobody"],
        );
        assert!(!missing.status.success());
        assert!(String::from_utf8_lossy(&missing.stderr).contains("no token named"));

        platform.stop().await.expect("platform runs");
        db.cleanup().await;
    }
}
