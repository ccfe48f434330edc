//! The `streamgate` binary as operators run it: exit codes, output, and the secret
//! helpers, through a real child process with its own environment.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The binary with a clean environment, so the developer's own variables cannot leak in.
fn streamgate(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_streamgate"));
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn validate_accepts_the_committed_config() {
    let out = streamgate(&root()).arg("validate").output().expect("run");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("streamgate.toml is valid: 1 event"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn validate_lists_every_problem_and_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("streamgate.toml"),
        "[platform]\nlistn = 1\n[hls]\n[[events]]\nid = \"x\"\ntitle = \"t\"\nstarts_at = 2026-02-01T00:00:00Z\nends_at = 2026-01-01T00:00:00Z\n",
    )
    .expect("write");
    let out = streamgate(dir.path())
        .arg("validate")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    for expected in [
        "streamgate.toml:2:1: platform.listn: unknown key `listn`",
        "streamgate.toml:3:1: hls: the HLS server needs content",
        "streamgate.toml:8:11: events[0].ends_at: ends_at (2026-01-01T00:00:00Z) must be after starts_at",
        "3 problems found",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
}

#[test]
fn validate_with_a_role_names_missing_secrets() {
    let out = streamgate(&root())
        .args(["validate", "--role", "platform"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("PLAYBACK_SIGNING_SECRET is required but not set"),
        "{err}"
    );
    assert!(err.contains("streamgate gen-secret"), "{err}");
    assert!(err.contains("ADMIN_PASSWORD_HASH is required"), "{err}");
    assert!(err.contains("streamgate hash-password"), "{err}");
}

#[test]
fn config_path_comes_from_flag_or_variable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("other.toml");
    std::fs::write(
        &path,
        "[hls]\nupstream_origin = \"https://origin.example.com\"\n",
    )
    .expect("write");
    let by_flag = streamgate(dir.path())
        .args(["--config", "other.toml", "validate"])
        .output()
        .expect("run");
    assert!(by_flag.status.success(), "{}", text(&by_flag.stderr));
    assert!(text(&by_flag.stdout).starts_with("other.toml is valid"));
    let by_var = streamgate(dir.path())
        .env("STREAMGATE_CONFIG", &path)
        .arg("validate")
        .output()
        .expect("run");
    assert!(by_var.status.success(), "{}", text(&by_var.stderr));
    let missing = streamgate(dir.path())
        .args(["-c", "nope.toml", "validate"])
        .output()
        .expect("run");
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stderr).contains("nope.toml:1:1: cannot read the config file"),
        "{}",
        text(&missing.stderr)
    );
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let out = streamgate(&root()).arg("schema").output().expect("run");
    assert!(out.status.success());
    let committed =
        std::fs::read(root().join("schemas/streamgate.schema.json")).expect("schema committed");
    assert!(
        out.stdout == committed,
        "`streamgate schema` differs from schemas/streamgate.schema.json"
    );
}

#[test]
fn gen_secret_prints_a_fresh_32_byte_secret_that_the_loader_accepts() {
    let a = streamgate(&root()).arg("gen-secret").output().expect("run");
    let b = streamgate(&root()).arg("gen-secret").output().expect("run");
    let (a, b) = (
        text(&a.stdout).trim().to_owned(),
        text(&b.stdout).trim().to_owned(),
    );
    assert_eq!(a.len(), 44, "{a}");
    assert_ne!(a, b);
    let ok = streamgate(&root())
        .args(["validate", "--role", "hls"])
        .env("PLAYBACK_SIGNING_SECRET", &a)
        .env("INTERNAL_API_KEY", &b)
        .output()
        .expect("run");
    assert!(ok.status.success(), "{}", text(&ok.stderr));
}

fn hash_via_stdin(input: &str) -> Output {
    let mut child = streamgate(&root())
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    child.wait_with_output().expect("wait")
}

#[test]
fn hash_password_reads_stdin_and_prints_a_cost_12_bcrypt_hash() {
    let out = hash_via_stdin("correct horse battery\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let hash = text(&out.stdout).trim().to_owned();
    assert!(hash.starts_with("$2b$12$"), "{hash}");
    assert!(
        bcrypt::verify("correct horse battery", &hash).expect("verify"),
        "the newline is not part of the password"
    );
    assert!(!bcrypt::verify("correct horse battery\n", &hash).expect("verify"));
    let ok = streamgate(&root())
        .args(["validate", "--role", "platform"])
        .env(
            "PLAYBACK_SIGNING_SECRET",
            "hash-test-signing-0123456789abcdef",
        )
        .env("INTERNAL_API_KEY", "hash-test-internal-0123")
        .env("ADMIN_PASSWORD_HASH", &hash)
        .output()
        .expect("run");
    assert!(ok.status.success(), "{}", text(&ok.stderr));
}

#[test]
fn hash_password_refuses_short_passwords() {
    let out = hash_via_stdin("short\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("too short"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn readme_shows_what_validate_really_prints() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let after = readme
        .split("What `validate` reports looks like this")
        .nth(1)
        .expect("the example section");
    let block = after
        .split("```text\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a text block");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        root().join("crates/streamgate-cli/tests/data/readme-example.toml"),
        dir.path().join("streamgate.toml"),
    )
    .expect("copy fixture");
    let out = streamgate(dir.path())
        .arg("validate")
        .env("PLAYBACK_SIGNING_SECRET", "too-short")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        block,
        "README example differs from real output"
    );
}

/// Secrets that pass a length check but are worth a handful of guesses, per variable.
fn poor_secrets() -> Vec<(&'static str, String, &'static str)> {
    let mut cases = Vec::new();
    for var in [
        "PLAYBACK_SIGNING_SECRET",
        "PLAYBACK_SIGNING_SECRET_PREVIOUS",
        "INTERNAL_API_KEY",
    ] {
        cases.push((var, " ".repeat(40), "is only whitespace"));
        cases.push((var, "z".repeat(40), "is one character repeated"));
        cases.push((var, "abc".repeat(14), "has only 3 distinct characters"));
    }
    cases.push(("INTERNAL_API_KEY", " ".repeat(20), "is only whitespace"));
    cases
}

fn with_secrets(mut cmd: Command, var: &str, value: &str) -> Command {
    for (name, good) in [
        (
            "PLAYBACK_SIGNING_SECRET",
            "cli-test-signing-secret-0123456789abcdef",
        ),
        ("INTERNAL_API_KEY", "cli-test-internal-key-0123"),
        (
            "ADMIN_PASSWORD_HASH",
            "$2b$12$C6UzMDM.H6dfI/f/IKxGhuS8y6ZkzqDvWqqbDNrXxZ6YQ1Y6F6H5y",
        ),
    ] {
        cmd.env(name, if name == var { value } else { good });
    }
    if var == "PLAYBACK_SIGNING_SECRET_PREVIOUS" {
        cmd.env(var, value);
    }
    cmd
}

#[test]
fn validate_and_both_services_refuse_poor_secrets_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("streamgate.toml"),
        "[platform]\nlisten = \"127.0.0.1:0\"\ndatabase_url = \"sqlite://never-created.db\"\n\
         [hls]\nlisten = \"127.0.0.1:0\"\nupstream_origin = \"http://127.0.0.1:9\"\n",
    )
    .expect("write");
    for (var, value, why) in poor_secrets() {
        for args in [
            &["validate", "--role", "platform"][..],
            &["validate", "--role", "hls"],
            &["platform", "--no-watch"],
            &["hls"],
        ] {
            let mut cmd = with_secrets(streamgate(dir.path()), var, &value);
            let out = cmd.args(args).output().expect("run");
            let err = text(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{args:?} {var}={value:?}: {err}"
            );
            assert!(
                err.contains(&format!("{var} {why}")) && err.contains("easy to guess"),
                "{args:?} {var}={value:?}:\n{err}"
            );
        }
    }
    assert!(
        !dir.path().join("never-created.db").exists(),
        "the platform refused before it touched the database"
    );
}
