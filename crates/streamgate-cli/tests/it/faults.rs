//! The platform killed with SIGKILL in the middle of its start-up apply leaves the
//! database exactly as it was, and the next start converges (SQLite and PostgreSQL).
//! (PostgreSQL stopped under a running platform: `postgres_restart.rs`, alone in its
//! binary because it stops the server every other test uses.)

use std::path::Path;
use std::process::{Command, Stdio};

use streamgate_testkit::harness::SECRETS;

use crate::common;
use common::binary::spawn;

fn config(events: usize, codes: u32) -> String {
    let mut text = String::from(
        "[platform]\nlisten = \"127.0.0.1:0\"\n[platform.rate_limits]\nvalidate_per_minute = 100000\n\n[hls]\nstream_root = \"streams\"\n",
    );
    for i in 0..events {
        text.push_str(&format!(
            "\n[[events]]\nid = \"event-{i}\"\ntitle = \"Event {i}\"\nstarts_at = 2026-01-01T00:00:00Z\nends_at = 2099-01-02T00:00:00Z\n\n[[events.codes]]\nlabel = \"tickets\"\ncount = {codes}\n"
        ));
    }
    text
}

fn plan(dir: &Path, url: &str) -> Option<i32> {
    Command::new(env!("CARGO_BIN_EXE_streamgate"))
        .arg("plan")
        .current_dir(dir)
        .env_clear()
        .env("DATABASE_URL", url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("plan")
        .code()
}

streamgate_testkit::backend_tests! {
    #[tokio::test]
    async fn sigkill_in_the_middle_of_an_apply_leaves_the_database_as_it_was(db) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("streamgate.toml");
        let env: Vec<(&str, &str)> = SECRETS
            .iter()
            .copied()
            .chain([("DATABASE_URL", db.url.as_str())])
            .collect();

        // A first good state: two events, a few codes.
        std::fs::write(&path, config(2, 5)).expect("write");
        let mut first = spawn(dir.path(), &["platform", "--no-watch"], &env);
        first.wait_for("platform listening on");
        first.stop();
        streamgate_testkit::sqlx::any::install_default_drivers();
        let pool = streamgate_testkit::sqlx::AnyPool::connect(&db.url)
            .await
            .expect("pool");
        let before = streamgate_testkit::snapshot(&pool).await;

        // An edit that takes a while to apply (50 000 codes in one transaction, a hundred
        // batches), killed with no chance to clean up while the apply runs.
        std::fs::write(&path, config(20, 2_500)).expect("write");
        // The kill waits for the apply to be under way: the first batch of codes made
        // (the platform logs its progress at debug level), with most still to come.
        let logged: Vec<(&str, &str)> = env
            .iter()
            .copied()
            .chain([("RUST_LOG", "info,streamgate_platform=debug")])
            .collect();
        let mut second = spawn(dir.path(), &["platform", "--no-watch"], &logged);
        second.wait_for("codes made");
        assert!(
            second.child.try_wait().expect("try_wait").is_none(),
            "{}: the apply finished before the kill; the test proves nothing",
            db.name
        );
        let killed = Command::new("kill")
            .args(["-KILL", &second.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(killed.success());
        let _ = second.child.wait();
        second.lines.extend(second.log.try_iter());
        assert!(
            !second
                .lines
                .iter()
                .any(|l| l.contains("platform listening on")),
            "{}: killed during the apply, before serving",
            db.name
        );
        let after = streamgate_testkit::snapshot(&pool).await;
        assert_eq!(
            before, after,
            "{}: nothing of the killed apply is left",
            db.name
        );
        assert_eq!(
            plan(dir.path(), &db.url),
            Some(2),
            "the edit is still to do"
        );

        // The next start converges.
        let mut third = spawn(dir.path(), &["platform", "--no-watch"], &env);
        third.wait_for("platform listening on");
        third.stop();
        assert_eq!(plan(dir.path(), &db.url), Some(0), "{}: converged", db.name);
        let codes = streamgate_testkit::count(&pool, "SELECT COUNT(*) FROM access_codes").await;
        assert_eq!(codes, 50_000, "{}", db.name);
        pool.close().await;
        db.cleanup().await;
    }
}
