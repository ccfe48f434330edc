//! Every CSV StreamGate writes is safe to open in a spreadsheet (CWE-1236): labels from
//! the attack run are exported by `streamgate codes export` and by the admin API, and
//! each file is read back with a CSV parser, cell by cell.

use crate::common;

use std::path::Path;
use std::process::Command;

use streamgate_testkit::TestDb;

/// The labels the outside attack run used, plus the trimmed-blank variants.
const LABELS: [&str; 11] = [
    "=cmd|' /C calc'!A0",
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(1+1)",
    "=HYPERLINK(\"http://evil.example/\",\"click\")",
    "\t=1+1",
    "\r=1+1",
    " =2+2",
    "\n@SUM(2+2)",
    "plain, with \"quotes\"",
];

fn config() -> String {
    let mut text = String::from(
        "[platform]\nlisten = \"127.0.0.1:0\"\n[hls]\nstream_root = \"streams\"\n\n[[events]]\nid = \"fair\"\ntitle = \"=1+1 Fair\"\n\
         starts_at = 2030-01-01T00:00:00Z\nends_at = 2030-01-02T00:00:00Z\n",
    );
    for label in LABELS {
        // Rust's Debug escapes (\t, \r, \n, \") are TOML basic-string escapes too.
        text.push_str(&format!(
            "\n[[events.codes]]\nlabel = {label:?}\ncount = 2\n"
        ));
    }
    text
}

fn streamgate(dir: &Path, url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_streamgate"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", url)
        .output()
        .expect("run streamgate")
}

/// Parses `bytes` as CSV and checks every cell; returns the label column.
fn check_every_cell(bytes: &[u8]) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes);
    let header = reader.headers().expect("header").clone();
    assert_eq!(
        header.iter().collect::<Vec<_>>(),
        ["code", "label", "status", "createdAt", "expiresAt"]
    );
    let mut labels = Vec::new();
    for record in reader.records() {
        let record = record.expect("a well-formed CSV record");
        assert_eq!(record.len(), 5, "{record:?}");
        for cell in record.iter() {
            let seen = cell.trim_start_matches([' ', '\t', '\r', '\n']);
            let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r', '\n'])
                || seen.starts_with(['=', '+', '-', '@']);
            assert!(!formula, "cell {cell:?} would be a formula in {record:?}");
        }
        labels.push(record[1].to_owned());
    }
    labels
}

/// What each label must look like in the file: formulas behind a quote, the rest as typed.
fn expected_labels() -> Vec<String> {
    let mut expected: Vec<String> = LABELS
        .iter()
        .flat_map(|l| {
            let shown = if l.starts_with("plain") {
                (*l).to_owned()
            } else {
                format!("'{l}")
            };
            [shown.clone(), shown]
        })
        .collect();
    expected.sort();
    expected
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exported_labels_never_become_spreadsheet_formulas() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("streamgate.toml"), config()).expect("write");
    let applied = streamgate(dir.path(), &db.url, &["apply"]);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );

    // `streamgate codes export --output`: the file an organiser opens.
    let out = dir.path().join("codes.csv");
    let out_arg = out.to_string_lossy().into_owned();
    let export = streamgate(
        dir.path(),
        &db.url,
        &["codes", "export", "--event", "fair", "--output", &out_arg],
    );
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let mut labels = check_every_cell(&std::fs::read(&out).expect("exported file"));
    labels.sort();
    assert_eq!(labels, expected_labels());

    // The admin API's export of the same event.
    let made = streamgate(
        dir.path(),
        &db.url,
        &["admin-token", "create", "--name", "csv-test"],
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let token = String::from_utf8_lossy(&made.stdout).trim().to_owned();
    let platform = common::platform(&db.url, &config()).await;
    let resp = reqwest::Client::new()
        .get(format!(
            "http://{}/api/admin/events/fair/tokens/export",
            platform.local_addr()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("export");
    assert_eq!(resp.status(), 200);
    let body = resp.bytes().await.expect("body");
    let mut labels = check_every_cell(&body);
    labels.sort();
    assert_eq!(labels, expected_labels());
    platform.stop().await.expect("platform stops");
}
