//! What the browser tests share: where the repository is, whether Chromium and
//! playwright-core are here (a failure under `CI=true`, a printed skip elsewhere), and
//! where screenshots go.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What is missing to run a browser here, if anything.
pub fn missing_browser() -> Option<String> {
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!("{chromium} (apt-get install chromium)"));
    }
    if !repo()
        .join("tests/browser/node_modules/playwright-core")
        .exists()
    {
        return Some("playwright-core (npm ci --prefix tests/browser)".into());
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node".into());
    }
    None
}

/// Where screenshots go.
pub fn artefacts(name: &str) -> PathBuf {
    let base = std::env::var_os("STREAMGATE_ARTEFACTS").map_or_else(
        || {
            std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| repo().join("target"), PathBuf::from)
                .join("test-artefacts")
        },
        PathBuf::from,
    );
    base.join(name)
}

/// True when the browser test can run; otherwise says what is missing and returns
/// false, or fails under `CI=true`.
pub fn require_browser() -> bool {
    match missing_browser() {
        None => true,
        Some(what) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "the browser test needs {what}"
            );
            eprintln!("skipped: the browser test needs {what}");
            false
        }
    }
}

/// Runs `tests/browser/<script>` with `env`; prints its output and returns it with
/// whether it passed.
pub fn run_node(script: &str, env: &[(&str, &std::ffi::OsStr)]) -> (bool, String) {
    let out = Command::new("node")
        .arg(repo().join("tests/browser").join(script))
        .envs(env.iter().copied())
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("{stdout}");
    let report = format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    (out.status.success(), report)
}
