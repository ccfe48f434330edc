//! The README promises that logs never contain a token. Both services run as operators
//! run them (`streamgate platform`, `streamgate hls`, at debug level), a viewer's real
//! playback token and access code are sent under every spelling the attack run tried
//! and then some, and the whole of both logs is searched for them afterwards.

use crate::common;

use std::path::{Path, PathBuf};

use common::binary::spawn;
use serde_json::json;
use streamgate_testkit::TestDb;

const SIGNING: &str = "redaction-signing-secret-0123456789abcdef";
const INTERNAL: &str = "redaction-internal-key-0123456789";
const ADMIN_HASH: &str = "$2b$12$C6UzMDM.H6dfI/f/IKxGhuS8y6ZkzqDvWqqbDNrXxZ6YQ1Y6F6H5y";

/// The spellings, then the same ideas encoded once more or cased otherwise.
const SPELLINGS: [&str; 11] = [
    "%5F%5Ftoken",
    "__TOKEN",
    "__token[]",
    "token",
    "access_token",
    "__token",
    "%255F%255Ftoken",
    "__token%5B%5D",
    "Access-Token",
    "jwt",
    "authorization",
];

fn streams() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../streams")
}

fn config() -> String {
    format!(
        "[platform]\nlisten = \"127.0.0.1:0\"\n[platform.rate_limits]\nvalidate_per_minute = 100000\n\
         status_per_minute = 100000\n\n[hls]\nlisten = \"127.0.0.1:0\"\nstream_root = \"{}\"\n\n\
         [[events]]\nid = \"demo\"\ntitle = \"Demo\"\nstarts_at = 2026-01-01T00:00:00Z\n\
         ends_at = 2099-01-01T00:00:00Z\n\n[[events.codes]]\nlabel = \"t\"\ncount = 1\n",
        streams().display()
    )
}

/// Every byte of `text` as `%XX`.
fn encode_all(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

async fn first_code(url: &str) -> String {
    streamgate_testkit::sqlx::any::install_default_drivers();
    let pool = streamgate_testkit::sqlx::AnyPool::connect(url)
        .await
        .expect("connect");
    let code: String =
        streamgate_testkit::sqlx::query_scalar("SELECT code FROM access_codes LIMIT 1")
            .fetch_one(&pool)
            .await
            .expect("a code");
    pool.close().await;
    code
}

/// Requests that put `token` (and `code`) in URLs, headers and bodies of both services.
async fn send_every_spelling(platform: &str, hls: &str, token: &str, code: &str) -> usize {
    let client = reqwest::Client::new();
    let encoded = encode_all(token);
    let mut urls = Vec::new();
    for name in SPELLINGS {
        for value in [token, encoded.as_str()] {
            urls.push(format!(
                "{hls}/streams/demo/index.m3u8?{name}={value}&_HLS_msn=1"
            ));
            urls.push(format!(
                "{hls}/streams/demo/360p/index.m3u8?a=1&{name}={value}"
            ));
            urls.push(format!(
                "{platform}/api/events/demo/status?code={code}&{name}={value}"
            ));
        }
    }
    urls.push(format!("{hls}/streams/demo/{token}/index.m3u8"));
    urls.push(format!("{hls}/streams/other/index.m3u8?__token={token}"));
    urls.push(format!("{platform}/api/events/demo/status?code={code}"));
    urls.push(format!("{platform}/nope/{token}"));
    for url in &urls {
        client.get(url).send().await.expect("request");
    }
    // Bearer headers and bodies, including refusals (401/403 lines).
    let broken = format!("{token}x");
    for bearer in [token, broken.as_str()] {
        client
            .get(format!("{hls}/streams/demo/index.m3u8"))
            .bearer_auth(bearer)
            .send()
            .await
            .expect("hls");
        client
            .post(format!(
                "{platform}/api/playback/heartbeat?access_token={bearer}"
            ))
            .bearer_auth(bearer)
            .json(&json!({}))
            .send()
            .await
            .expect("heartbeat");
    }
    urls.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_spelling_of_a_token_or_code_reaches_either_log() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("streamgate.toml"), config()).expect("write");
    let secrets = [
        ("PLAYBACK_SIGNING_SECRET", SIGNING),
        ("INTERNAL_API_KEY", INTERNAL),
        ("ADMIN_PASSWORD_HASH", ADMIN_HASH),
        ("RUST_LOG", "debug"),
    ];
    let mut env = secrets.to_vec();
    env.push(("DATABASE_URL", &db.url));
    let mut platform = spawn(dir.path(), &["platform", "--no-watch"], &env);
    let line = platform.wait_for("platform listening on ");
    let platform_url = line
        .split("listening on ")
        .nth(1)
        .expect("address")
        .trim()
        .to_owned();
    let mut env = secrets.to_vec();
    env.push(("PLATFORM_APP_URL", &platform_url));
    let mut hls = spawn(dir.path(), &["hls"], &env);
    let line = hls.wait_for("HLS server listening on ");
    let hls_url = line
        .split("listening on ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .expect("address")
        .to_owned();

    let code = first_code(&db.url).await;
    let redeemed = common::redeem(&reqwest::Client::new(), &platform_url, &code).await;
    let token = redeemed["playbackToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let played = reqwest::get(format!("{hls_url}/streams/demo/index.m3u8?__token={token}"))
        .await
        .expect("play");
    assert_eq!(played.status(), 200, "the real token plays");
    let sent = send_every_spelling(&platform_url, &hls_url, &token, &code).await;

    let platform_log = platform.stop();
    let hls_log = hls.stop();
    for (service, log) in [("platform", &platform_log), ("hls", &hls_log)] {
        for line in log {
            let decoded = streamgate_core::redact::percent_decode(line);
            for (what, secret) in [("token", token.as_str()), ("code", code.as_str())] {
                assert!(
                    !line.contains(secret) && !decoded.contains(secret),
                    "{service} logged the {what}: {line}"
                );
            }
        }
    }
    // The test saw the lines it is about: one access-log line per request.
    let access = |log: &[String], needle: &str| log.iter().filter(|l| l.contains(needle)).count();
    assert!(
        access(&hls_log, "streamgate::access: GET /streams/demo/") > sent / 2,
        "HLS access log:\n{}",
        hls_log.join("\n")
    );
    assert!(
        access(
            &platform_log,
            "streamgate::access: GET /api/events/demo/status"
        ) > SPELLINGS.len(),
        "platform access log:\n{}",
        platform_log.join("\n")
    );
    assert!(
        hls_log.iter().any(|l| l.contains("[redacted]")),
        "a JWT in a path or under another name is shown as [redacted]"
    );
}
