//! The committed JSON Schema and the binary say the same about a corpus of edge cases,
//! judged by two validators we did not write: `check-jsonschema` (Python, the one CI
//! runs on streamgate.toml) and `taplo lint` (what TOML editors use). An operator whose
//! editor shows no error must not meet one at start, and the other way round.
//!
//! Needs `check-jsonschema` on PATH and `npm ci --prefix tests/browser` (for taplo);
//! `.ci/run` installs both. Missing tools skip the test with a reason, except under
//! `CI=true`, where they fail it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use streamgate_core::env::Env;
use streamgate_core::load::load_text;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Which validators a case's verdict is checked against; some documented conversions
/// of the outside tools differ from the binary on purpose.
#[derive(Clone, Copy)]
enum Judges {
    Both,
    /// check-jsonschema reads a TOML local date-time as UTC (it appends `Z`, by its own
    /// documentation); StreamGate refuses a time without an offset, since 18:00 in an
    /// operator's head is rarely 18:00 UTC. taplo agrees with StreamGate.
    TaploOnly,
    /// taplo 0.7's TOML parser cannot read years below 1000; the schema has nothing
    /// against them.
    CheckJsonschemaOnly,
}

const EVENT_HEAD: &str =
    "[hls]\nstream_root = \"streams\"\n\n[[events]]\nid = \"edge\"\ntitle = \"Edge\"\n";
const SCHEDULE: &str = "starts_at = 2030-01-01T18:00:00Z\nends_at = 2030-01-01T20:00:00Z\n";

fn cases() -> Vec<(&'static str, String, bool, Judges)> {
    let event = |extra: &str| format!("{EVENT_HEAD}{SCHEDULE}{extra}");
    let batch = |count: &str| {
        event(&format!(
            "\n[[events.codes]]\nlabel = \"t\"\ncount = {count}\n"
        ))
    };
    let listen = |addr: &str| format!("[platform]\nlisten = \"{addr}\"\n\n{}", event(""));
    vec![
        ("whole float count", batch("3.0"), true, Judges::Both),
        (
            "playlist in a folder",
            event("playlist = \"hls/main.m3u8\"\n"),
            true,
            Judges::Both,
        ),
        (
            "playlist outside the folder",
            event("playlist = \"../other/index.m3u8\"\n"),
            false,
            Judges::Both,
        ),
        (
            "playlist that is no playlist",
            event("playlist = \"index.ts\"\n"),
            false,
            Judges::Both,
        ),
        ("fractional count", batch("3.5"), false, Judges::Both),
        ("zero count", batch("0"), false, Judges::Both),
        ("huge count", batch("99999999999"), false, Judges::Both),
        ("string count", batch("\"3\""), false, Judges::Both),
        (
            "offset with fraction",
            format!(
                "{EVENT_HEAD}starts_at = 2030-01-01T18:00:00.5+02:00\nends_at = 2030-01-01T20:00:00Z\n"
            ),
            true,
            Judges::Both,
        ),
        (
            "quoted timestamp",
            format!(
                "{EVENT_HEAD}starts_at = \"2030-01-01T18:00:00Z\"\nends_at = 2030-01-01T20:00:00Z\n"
            ),
            true,
            Judges::Both,
        ),
        (
            "date only",
            format!("{EVENT_HEAD}starts_at = 2030-01-01\nends_at = 2030-01-01T20:00:00Z\n"),
            false,
            Judges::Both,
        ),
        (
            "local date-time",
            format!(
                "{EVENT_HEAD}starts_at = 2030-01-01T18:00:00\nends_at = 2030-01-01T20:00:00Z\n"
            ),
            false,
            Judges::TaploOnly,
        ),
        (
            "year 0001",
            format!(
                "{EVENT_HEAD}starts_at = 0001-01-01T00:00:00Z\nends_at = 0001-01-01T02:00:00Z\n"
            ),
            true,
            Judges::CheckJsonschemaOnly,
        ),
        ("port 65535", listen("127.0.0.1:65535"), true, Judges::Both),
        ("port 65536", listen("127.0.0.1:65536"), false, Judges::Both),
        ("port 70000", listen("0.0.0.0:70000"), false, Judges::Both),
        ("ipv6 listen", listen("[::1]:3000"), true, Judges::Both),
        (
            "host name listen",
            listen("localhost:3000"),
            false,
            Judges::Both,
        ),
        ("octet 256", listen("256.0.0.1:3000"), false, Judges::Both),
        (
            "window 168",
            event("access_window_hours = 168\n"),
            true,
            Judges::Both,
        ),
        (
            "window 169",
            event("access_window_hours = 169\n"),
            false,
            Judges::Both,
        ),
        (
            "negative window",
            event("access_window_hours = -1\n"),
            false,
            Judges::Both,
        ),
        (
            "upper-case id",
            format!(
                "[hls]\nstream_root = \"streams\"\n\n[[events]]\nid = \"Edge\"\ntitle = \"Edge\"\n{SCHEDULE}"
            ),
            false,
            Judges::Both,
        ),
        (
            "unknown event key",
            event("colour = \"red\"\n"),
            false,
            Judges::Both,
        ),
        (
            "boolean as string",
            event("active = \"yes\"\n"),
            false,
            Judges::Both,
        ),
    ]
}

/// The files of `files` that check-jsonschema refuses, from one run over all of them:
/// each run is a Python start, and one per case made this the slowest test of the crate.
fn refused_by_check_jsonschema(cjs: &Path, schema: &str, files: &[&Path]) -> HashSet<PathBuf> {
    let out = Command::new(cjs)
        .args(["--schemafile", schema, "--output-format", "json"])
        .args(files)
        .output()
        .expect("check-jsonschema runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check-jsonschema's JSON report: {e}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let refused: HashSet<PathBuf> = ["errors", "parse_errors"]
        .iter()
        .filter_map(|key| report[key].as_array())
        .flatten()
        .filter_map(|e| e["filename"].as_str().map(PathBuf::from))
        .collect();
    // A failed run that names no file would count every case as valid.
    assert_eq!(
        out.status.success(),
        refused.is_empty(),
        "check-jsonschema's status and report disagree: {report}"
    );
    refused
}

/// The files of `files` that `taplo lint` refuses, from one run over all of them (each
/// run is a Node start): taplo names each refused file in an `invalid file` line.
fn refused_by_taplo(taplo: &Path, schema_url: &str, files: &[&Path]) -> HashSet<PathBuf> {
    let out = Command::new(taplo)
        .args(["lint", "--schema", schema_url])
        .args(files)
        .output()
        .expect("taplo runs");
    let log =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        log.contains(&format!("found files total={}", files.len())),
        "taplo did not read every case:\n{log}"
    );
    let refused: HashSet<PathBuf> = log
        .lines()
        .filter(|l| l.contains("invalid file"))
        .filter_map(|l| {
            l.split_once("path=\"")
                .and_then(|(_, rest)| rest.split_once('"'))
        })
        .map(|(path, _)| PathBuf::from(path))
        .collect();
    assert_eq!(
        out.status.success(),
        refused.is_empty(),
        "taplo's status and log disagree:\n{log}"
    );
    refused
}

fn tools() -> Option<(PathBuf, PathBuf)> {
    let taplo = root().join("tests/browser/node_modules/.bin/taplo");
    let cjs = PathBuf::from("check-jsonschema");
    let have_cjs = Command::new(&cjs)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if taplo.exists() && have_cjs {
        return Some((cjs, taplo));
    }
    let reason = "needs check-jsonschema on PATH and tests/browser/node_modules/.bin/taplo (npm ci --prefix tests/browser)";
    assert!(std::env::var("CI").is_err(), "{reason}");
    eprintln!("skipping the schema agreement corpus: {reason}");
    None
}

#[test]
fn schema_validators_and_the_binary_agree_on_edge_cases() {
    let Some((cjs, taplo)) = tools() else {
        return;
    };
    let schema = root().join("schemas/streamgate.schema.json");
    let schema_arg = schema.display().to_string();
    let schema_url = format!(
        "file://{}",
        schema.canonicalize().expect("schema").display()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let mut runs = Vec::new();
    for (name, text, valid, judges) in cases() {
        let file = dir.path().join(format!("{}.toml", name.replace(' ', "-")));
        std::fs::write(&file, &text).expect("write case");
        let binary = load_text(&file, Some(&text), &Env::default(), None).is_ok();
        runs.push((name, text, valid, judges, file, binary));
    }
    // One run per validator over the cases it judges.
    let judged_by = |judge: fn(Judges) -> bool| -> Vec<&Path> {
        runs.iter()
            .filter(|run| judge(run.3))
            .map(|run| run.4.as_path())
            .collect()
    };
    let cjs_files = judged_by(|j| !matches!(j, Judges::TaploOnly));
    let taplo_files = judged_by(|j| !matches!(j, Judges::CheckJsonschemaOnly));
    let (by_cjs, by_taplo) = std::thread::scope(|scope| {
        let cjs = scope.spawn(|| refused_by_check_jsonschema(&cjs, &schema_arg, &cjs_files));
        let taplo = scope.spawn(|| refused_by_taplo(&taplo, &schema_url, &taplo_files));
        (
            cjs.join().expect("check-jsonschema"),
            taplo.join().expect("taplo"),
        )
    });
    let mut disagreements = Vec::new();
    for (name, text, valid, judges, file, binary) in &runs {
        let mut verdicts = vec![("streamgate", *binary)];
        if !matches!(judges, Judges::TaploOnly) {
            verdicts.push(("check-jsonschema", !by_cjs.contains(file)));
        }
        if !matches!(judges, Judges::CheckJsonschemaOnly) {
            verdicts.push(("taplo", !by_taplo.contains(file)));
        }
        for (who, verdict) in verdicts {
            if verdict != *valid {
                disagreements.push(format!(
                    "{name}: {who} says {}, expected {}\n{text}",
                    if verdict { "valid" } else { "invalid" },
                    if *valid { "valid" } else { "invalid" }
                ));
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "{}",
        disagreements.join("\n---\n")
    );
}
