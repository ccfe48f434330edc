//! `streamgate up` and `streamgate hls` as a person runs them: on a fresh directory
//! with no secrets set, `up` makes development secrets once (mode 0600), prints the
//! admin password and demo codes, and a printed code plays through the HLS server; a
//! second start reuses the same secrets; SIGTERM stops both services cleanly. An HLS
//! server with no content refuses to start and says why.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::common;
use common::binary::spawn;
use common::redeem;

fn streams() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../streams")
}

/// The admin password `up` printed with its development secrets.
fn printed_password(up: &common::binary::Up) -> String {
    up.field("admin")
        .strip_prefix("password ")
        .and_then(|p| p.split_whitespace().next())
        .expect("password")
        .to_owned()
}

fn config() -> String {
    format!(
        "[platform]\nlisten = \"127.0.0.1:0\"\n\n[hls]\nlisten = \"127.0.0.1:0\"\nstream_root = \"{}\"\n\n\
         [[events]]\nid = \"demo\"\ntitle = \"Demo\"\nstarts_at = 2026-01-01T00:00:00Z\n\
         ends_at = 2099-01-01T00:00:00Z\n\n[[events.codes]]\nlabel = \"demo\"\ncount = 3\n",
        streams().display()
    )
}

#[tokio::test]
async fn up_on_a_fresh_directory_plays_the_demo_with_development_secrets() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("streamgate.toml"), config()).expect("write");
    let mut up = spawn(dir.path(), &["up"], &[]);
    let codes_line = up.wait_for("codes of demo");
    assert!(
        up.lines.iter().any(|l| l.contains("DEVELOPMENT SECRETS")),
        "development secrets are announced loudly"
    );
    let platform = up.listening("platform");
    let hls = up.listening("HLS server");
    let password = printed_password(&up);
    let codes: Vec<String> = codes_line
        .split("codes of demo")
        .nth(1)
        .expect("codes")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(codes.len(), 3, "{codes_line}");

    let secrets = dir.path().join("data/dev-secrets.env");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secrets)
            .expect("secrets file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "dev-secrets.env is private");
    }
    let text = std::fs::read_to_string(&secrets).expect("read");
    let hash = text
        .lines()
        .find_map(|l| l.strip_prefix("ADMIN_PASSWORD_HASH="))
        .expect("hash");
    assert!(
        bcrypt::verify(&password, hash).expect("bcrypt"),
        "the printed password matches the stored hash"
    );

    let client = reqwest::Client::new();
    let body = redeem(&client, &platform, &codes[0]).await;
    let token = body["playbackToken"].as_str().expect("token");
    let master = client
        .get(format!("{hls}/streams/demo/index.m3u8"))
        .bearer_auth(token)
        .send()
        .await
        .expect("master");
    assert_eq!(master.status(), 200);
    assert!(
        master
            .text()
            .await
            .expect("text")
            .contains("360p/index.m3u8")
    );
    let segment = client
        .get(format!("{hls}/streams/demo/180p/seg_000.ts"))
        .bearer_auth(token)
        .send()
        .await
        .expect("segment");
    assert_eq!(segment.status(), 200);
    let health: Value = reqwest::get(format!("{hls}/health"))
        .await
        .expect("health")
        .json()
        .await
        .expect("json");
    assert_eq!(
        health["status"], "ok",
        "the HLS server syncs with the platform beside it: {health}"
    );
    // The access log names the request but never the token.
    let query = client
        .get(format!("{hls}/streams/demo/index.m3u8?__token={token}&x=1"))
        .send()
        .await
        .expect("query token");
    assert_eq!(query.status(), 200);
    let lines = up.stop();
    let log = lines.join("\n");
    assert!(
        log.contains("GET /streams/demo/index.m3u8?x=1 200"),
        "{log}"
    );
    assert!(!log.contains(token), "a token reached the log");
    for code in &codes[..1] {
        assert!(
            !log.lines()
                .any(|l| l.contains("INFO") && l.contains(code.as_str())),
            "a code reached the log"
        );
    }

    // A second start reuses the same secrets.
    let mut again = spawn(dir.path(), &["up"], &[]);
    again.wait_for("codes of demo");
    assert!(again.field("admin").contains(&password));
    again.stop();
}

#[test]
fn up_uses_secrets_from_the_environment_without_writing_any() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("streamgate.toml"), config()).expect("write");
    let mut up = spawn(
        dir.path(),
        &["up"],
        &[
            (
                "PLAYBACK_SIGNING_SECRET",
                "env-signing-secret-0123456789abcdef",
            ),
            ("INTERNAL_API_KEY", "env-internal-key-0123456789"),
            (
                "ADMIN_PASSWORD_HASH",
                "$2b$12$C6UzMDM.H6dfI/f/IKxGhuS8y6ZkzqDvWqqbDNrXxZ6YQ1Y6F6H5y",
            ),
        ],
    );
    up.wait_for("codes of demo");
    assert!(up.field("admin").contains("ADMIN_PASSWORD_HASH"));
    let lines = up.stop();
    assert!(!lines.iter().any(|l| l.contains("DEVELOPMENT SECRETS")));
    assert!(!dir.path().join("data/dev-secrets.env").exists());
}

#[test]
fn hls_without_content_refuses_to_start() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = Command::new(env!("CARGO_BIN_EXE_streamgate"))
        .arg("hls")
        .current_dir(dir.path())
        .env_clear()
        .env(
            "PLAYBACK_SIGNING_SECRET",
            "env-signing-secret-0123456789abcdef",
        )
        .env("INTERNAL_API_KEY", "env-internal-key-0123456789")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("hls.stream_root") && err.contains("STREAM_ROOT"),
        "{err}"
    );
    assert!(err.contains("did not start"), "{err}");
}

#[test]
fn up_without_a_config_says_so_and_how_to_make_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = Command::new(env!("CARGO_BIN_EXE_streamgate"))
        .arg("up")
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("there is no streamgate.toml in") && stderr.contains("--config"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("data").exists(),
        "nothing was made: {stderr}"
    );
}

#[test]
fn a_second_up_in_the_same_folder_stops_before_the_database() {
    let free = |_: u8| {
        std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port()
    };
    let (p, h) = (free(0), free(1));
    let dir = tempfile::tempdir().expect("tmp");
    let text = config()
        .replacen("127.0.0.1:0", &format!("127.0.0.1:{p}"), 1)
        .replacen("127.0.0.1:0", &format!("127.0.0.1:{h}"), 1);
    std::fs::write(dir.path().join("streamgate.toml"), text).expect("write");
    let mut first = spawn(dir.path(), &["up", "--no-watch"], &[]);
    first.wait_for("codes of demo");
    let out = Command::new(env!("CARGO_BIN_EXE_streamgate"))
        .args(["up", "--no-watch"])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{p}"))
            && stderr.contains("is another StreamGate already running here?"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("configuration applied"),
        "it touched the database: {stderr}"
    );
    first.stop();
}

/// `validate --role up` and `up` never disagree about secrets: before the first `up` it
/// says `up` will make them, afterwards it checks the ones `up` made.
#[test]
fn validate_for_up_judges_secrets_as_up_does() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("streamgate.toml"), config()).expect("write");
    let validate = || {
        Command::new(env!("CARGO_BIN_EXE_streamgate"))
            .args(["validate", "--role", "up"])
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .output()
            .expect("run")
    };
    let before = validate();
    let stdout = String::from_utf8_lossy(&before.stdout);
    assert!(
        before.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&before.stderr)
    );
    assert!(
        stdout.contains("`up` will make development secrets for them in data/dev-secrets.env"),
        "{stdout}"
    );
    assert!(
        !dir.path().join("data/dev-secrets.env").exists(),
        "validate writes nothing"
    );

    let mut up = spawn(dir.path(), &["up", "--no-watch"], &[]);
    up.wait_for("codes of demo");
    up.stop();
    let after = validate();
    let stdout = String::from_utf8_lossy(&after.stdout);
    assert!(after.status.success(), "{stdout}");
    assert!(
        stdout.contains("from data/dev-secrets.env (development secrets, as `up` uses them"),
        "{stdout}"
    );

    // A damaged file is reported, not taken for "no secrets".
    std::fs::write(
        dir.path().join("data/dev-secrets.env"),
        "PLAYBACK_SIGNING_SECRET=short\n",
    )
    .expect("write");
    let broken = validate();
    assert!(!broken.status.success());
}

/// An event's `playlist` is where players are sent, and the console's stream check says
/// where the file is expected and whether the HLS server has it: the default name finds
/// a `master.m3u8` beside it, a named playlist in a folder plays, a missing one is
/// reported with its path on disk.
#[tokio::test]
async fn an_events_playlist_is_where_players_go_and_the_console_checks_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path().join("streams");
    let media = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg.ts\n#EXT-X-ENDLIST\n";
    for (path, body) in [
        ("fallback/master.m3u8", media),
        ("named/hls/main.m3u8", media),
        ("named/hls/seg.ts", "ts"),
    ] {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(file, body).expect("write");
    }
    let event = |id: &str, playlist: &str| {
        format!(
            "[[events]]\nid = \"{id}\"\ntitle = \"{id}\"\nstarts_at = 2026-01-01T00:00:00Z\n\
             ends_at = 2099-01-01T00:00:00Z\n{playlist}\n[[events.codes]]\nlabel = \"x\"\ncount = 1\n\n"
        )
    };
    // The platform asks the HLS server at its public URL, so that must be the real port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let text = format!(
        "[platform]\nlisten = \"127.0.0.1:0\"\n\n[hls]\nlisten = \"127.0.0.1:{port}\"\n\
         public_url = \"http://127.0.0.1:{port}\"\nstream_root = \"{}\"\n\n{}{}{}",
        root.display(),
        event("fallback", ""),
        event("named", "playlist = \"hls/main.m3u8\""),
        event("missing", "playlist = \"live.m3u8\""),
    );
    std::fs::write(dir.path().join("streamgate.toml"), text).expect("write");
    let mut up = spawn(dir.path(), &["up", "--no-watch"], &[]);
    let named_codes = up.wait_for("codes of named");
    up.wait_for("codes of missing");
    let platform = up.listening("platform");
    let hls = up.listening("HLS server");
    let password = printed_password(&up);
    let client = reqwest::Client::new();

    // The viewer is sent to the named playlist, and it plays through the gate.
    let code = named_codes
        .split("codes of named")
        .nth(1)
        .and_then(|c| c.split_whitespace().next())
        .expect("code")
        .to_owned();
    let body = redeem(&client, &platform, &code).await;
    assert_eq!(body["streamPath"], "/streams/named/hls/main.m3u8", "{body}");
    let token = body["playbackToken"].as_str().expect("token");
    let played = client
        .get(format!("{hls}/streams/named/hls/main.m3u8"))
        .bearer_auth(token)
        .send()
        .await
        .expect("playlist");
    assert_eq!(played.status(), 200);
    assert!(played.text().await.expect("text").contains("seg.ts"));
    let segment = client
        .get(format!("{hls}/streams/named/hls/seg.ts"))
        .bearer_auth(token)
        .send()
        .await
        .expect("segment");
    assert_eq!(segment.status(), 200, "a segment beside the named playlist");

    // The console's check, as the event page asks it.
    let login = client
        .post(format!("{platform}/api/admin/login"))
        .header("origin", &platform)
        .json(&json!({ "password": password }))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200);
    let cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("streamgate_admin="))
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_owned();
    let check = |id: &'static str| {
        let client = client.clone();
        let url = format!("{platform}/api/admin/events/{id}/stream");
        let cookie = cookie.clone();
        async move {
            let resp = client
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .expect("stream check");
            assert_eq!(resp.status(), 200, "{id}");
            resp.json::<Value>().await.expect("json")
        }
    };
    let fallback = check("fallback").await;
    assert_eq!(fallback["found"], true, "{fallback}");
    assert_eq!(fallback["playlist"], "index.m3u8");
    assert_eq!(fallback["fallbacks"], json!(["master.m3u8", "stream.m3u8"]));
    assert_eq!(
        fallback["localPath"],
        root.join("fallback/index.m3u8").display().to_string()
    );
    let named = check("named").await;
    assert_eq!(
        (named["found"].as_bool(), named["streamPath"].as_str()),
        (Some(true), Some("/streams/named/hls/main.m3u8")),
        "{named}"
    );
    assert_eq!(named["fallbacks"], json!([]));
    let missing = check("missing").await;
    let expected = root.join("missing/live.m3u8").display().to_string();
    assert_eq!(missing["found"], false, "{missing}");
    assert_eq!(missing["localPath"], expected.as_str());
    assert_eq!(
        missing["detail"],
        format!("Playlist not found: nothing at {expected} yet.")
    );
    assert_eq!(
        missing["playlistUrl"],
        format!("{hls}/streams/missing/live.m3u8")
    );

    // Published later: a later check finds it (each check asks the HLS server again;
    // the HLS server itself re-resolves a path within a second).
    std::fs::create_dir_all(root.join("missing")).expect("mkdir");
    std::fs::write(root.join("missing/live.m3u8"), media).expect("write");
    let mut found = Value::Null;
    for _ in 0..40 {
        found = check("missing").await;
        if found["found"] == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(found["found"], true, "{found}");
    assert!(
        found["detail"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Playlist found"),
        "{found}"
    );

    let unknown = client
        .get(format!("{platform}/api/admin/events/nope/stream"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("unknown");
    assert_eq!(unknown.status(), 404);
    up.stop();
}
