//! The admin console in a real browser: `streamgate up` on a fresh directory (its own
//! development secrets and admin password, as a person trying it gets), then Debian's
//! Chromium driven headless by playwright-core (`tests/browser/admin.mjs`) logs in,
//! makes an event, generates codes, copies, revokes, exports the CSV, force-releases a
//! viewer's session, bulk-revokes, sees a refused edit of the watched config file as a
//! banner on every page, and checks the phone layout. Screenshots are kept in
//! `target/test-artefacts/admin-console/` (or `$STREAMGATE_ARTEFACTS/admin-console/`).
//!
//! Needs `node`, `npm ci --prefix tests/browser` and `/usr/bin/chromium` (`.ci/run`
//! installs them). Without them the test says what is missing and passes, except under
//! `CI=true`, where a missing piece is a failure.

use std::ffi::OsStr;

use crate::common;
use common::binary::spawn;
use common::browser::{artefacts, repo, require_browser, run_node};

#[test]
fn admin_console_works_in_headless_chromium() {
    if !require_browser() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // The console's stream check asks the HLS server at its public URL: a real port.
    let hls_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let config = format!(
        "[platform]\nlisten = \"127.0.0.1:0\"\n\n[hls]\nlisten = \"127.0.0.1:{hls_port}\"\n\
         public_url = \"http://127.0.0.1:{hls_port}\"\nstream_root = \"{}\"\n\n\
         [[events]]\nid = \"demo\"\ntitle = \"Demo\"\nstarts_at = 2026-01-01T00:00:00Z\n\
         ends_at = 2099-01-01T00:00:00Z\n\n[[events.codes]]\nlabel = \"demo\"\ncount = 3\n",
        repo().join("streams").display()
    );
    let config_file = dir.path().join("streamgate.toml");
    std::fs::write(&config_file, config).expect("config");
    let mut up = spawn(dir.path(), &["up"], &[]);
    up.wait_for("admin        password");
    let base = up.listening("platform");
    let password = up
        .field("admin        password")
        .split_whitespace()
        .next()
        .expect("password")
        .to_owned();

    let shots = artefacts("admin-console");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).expect("artefacts dir");
    let (passed, report) = run_node(
        "admin.mjs",
        &[
            ("SG_BASE_URL", OsStr::new(&base)),
            ("SG_ADMIN_PASSWORD", OsStr::new(&password)),
            ("SG_SCREENSHOTS", shots.as_os_str()),
            ("SG_CONFIG_FILE", config_file.as_os_str()),
        ],
    );
    let log = up.stop();
    assert!(
        passed,
        "browser test failed:\n{report}\nserver log:\n{}",
        log.join("\n")
    );
    let pngs = std::fs::read_dir(&shots)
        .expect("screenshots")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
        .count();
    assert!(pngs >= 5, "screenshots kept in {}", shots.display());
    // Nothing the browser did may have put the password in the log.
    assert!(
        !log.iter()
            .any(|l| l.contains(&password) && !l.contains("admin        password")),
        "the admin password appears in a log line"
    );
}
