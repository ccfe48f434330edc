//! The viewer portal in a real browser: `streamgate up` (watching its config file) with
//! two events on copies of the demo stream made "live" (no `#EXT-X-ENDLIST`, so the
//! player keeps fetching the playlist through the gate), then Debian's Chromium driven
//! headless by playwright-core (`tests/browser/viewer.mjs`): redeem and play with the
//! token in the Authorization header, the in-use message on a second device and the
//! code free again once the first page closes, the revoked overlay after a revocation
//! through the admin API, and a pre-event countdown that starts playing by itself when
//! an edit of `streamgate.toml` moves the start. Screenshots at desktop and phone width
//! are kept in `target/test-artefacts/viewer-portal/`.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use crate::common;
use common::binary::spawn;
use common::browser::{artefacts, repo, require_browser, run_node};

/// The line of the config the browser test rewrites to move the future event's start.
const SOON_MARKER: &str = "starts_at = 2099-06-01T00:00:00Z";

/// Copies the demo stream into `to` with every media playlist made live.
fn live_copy(to: &Path) {
    copy_demo(to, true);
}

/// Copies the demo stream into `to`, its playlists made live or kept as they are (a
/// recording).
fn copy_demo(to: &Path, live: bool) {
    let demo = repo().join("streams/demo");
    for entry in streamgate_testkit::files_under(&demo) {
        let rel = entry.strip_prefix(&demo).expect("inside demo");
        let target = to.join(rel);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        if live && entry.extension().is_some_and(|e| e == "m3u8") {
            let text = std::fs::read_to_string(&entry).expect("playlist");
            let live: String = text
                .lines()
                .filter(|l| {
                    !l.starts_with("#EXT-X-ENDLIST") && !l.starts_with("#EXT-X-PLAYLIST-TYPE")
                })
                .map(|l| format!("{l}\n"))
                .collect();
            std::fs::write(&target, live).expect("write playlist");
        } else {
            std::fs::copy(&entry, &target).expect("copy");
        }
    }
}

/// A port nothing listens on now: both services' public URLs must be known before they
/// start (the platform tells browsers where the stream is; the HLS server's CORS names
/// the platform's origin).
fn free_ports() -> (u16, u16) {
    let bind = || std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    // Both held at once, so they differ.
    let (a, b) = (bind(), bind());
    let port = |l: &std::net::TcpListener| l.local_addr().expect("addr").port();
    (port(&a), port(&b))
}

fn cli(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_streamgate"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .output()
        .expect("streamgate runs");
    assert!(
        out.status.success(),
        "streamgate {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Unused codes of `event` from `streamgate codes export`.
fn codes(dir: &Path, env: &[(&str, &str)], event: &str) -> Vec<String> {
    cli(dir, env, &["codes", "export", "--event", event])
        .lines()
        .skip(1)
        .filter(|l| l.contains(",unused,"))
        .filter_map(|l| l.split(',').next().map(str::to_owned))
        .collect()
}

#[test]
fn viewer_portal_plays_refuses_and_waits_in_headless_chromium() {
    if !require_browser() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let streams = dir.path().join("streams");
    live_copy(&streams.join("live"));
    live_copy(&streams.join("soon"));
    copy_demo(&streams.join("recording"), false);
    let (platform_port, hls_port) = free_ports();
    // A recording: ended an hour ago, its codes valid for the week after.
    let rfc3339 = |t: time::OffsetDateTime| {
        t.replace_nanosecond(0)
            .expect("whole second")
            .format(&time::format_description::well_known::Rfc3339)
            .expect("format")
    };
    let now = time::OffsetDateTime::now_utc();
    let (rec_start, rec_end) = (
        rfc3339(now - time::Duration::hours(2)),
        rfc3339(now - time::Duration::hours(1)),
    );
    // Both public URLs are the real ones: the HLS server allows only the platform's
    // origin (CORS), and the platform tells players where the HLS server is.
    let config = format!(
        "[platform]\nlisten = \"127.0.0.1:{platform_port}\"\npublic_url = \"http://127.0.0.1:{platform_port}/\"\n\
         [platform.rate_limits]\nvalidate_per_minute = 60\n\n\
         [hls]\nlisten = \"127.0.0.1:{hls_port}\"\npublic_url = \"http://127.0.0.1:{hls_port}/\"\nstream_root = \"{}\"\n\n\
         [[events]]\nid = \"live\"\ntitle = \"Live test\"\ndescription = \"A test pattern on air\"\n\
         starts_at = 2026-01-01T00:00:00Z\nends_at = 2099-01-01T00:00:00Z\n\n\
         [[events.codes]]\nlabel = \"viewers\"\ncount = 6\n\n\
         [[events]]\nid = \"soon\"\ntitle = \"Coming soon\"\ndescription = \"Starts shortly\"\n\
         {SOON_MARKER}\nends_at = 2099-12-01T00:00:00Z\n\n\
         [[events.codes]]\nlabel = \"viewers\"\ncount = 2\n\n\
         [[events]]\nid = \"recording\"\ntitle = \"Recording\"\n\
         starts_at = {rec_start}\nends_at = {rec_end}\naccess_window_hours = 168\n\n\
         [[events.codes]]\nlabel = \"viewers\"\ncount = 1\n\n\
         [[events]]\nid = \"nostream\"\ntitle = \"Not on air yet\"\n\
         starts_at = {rec_start}\nends_at = 2099-01-01T00:00:00Z\n\n\
         [[events.codes]]\nlabel = \"viewers\"\ncount = 1\n",
        streams.display()
    );
    let config_path = dir.path().join("streamgate.toml");
    std::fs::write(&config_path, config).expect("config");
    let env = [
        (
            "PLAYBACK_SIGNING_SECRET",
            "viewer-browser-test-signing-secret-0123456789",
        ),
        (
            "INTERNAL_API_KEY",
            "viewer-browser-test-internal-key-0123456789",
        ),
        (
            "ADMIN_PASSWORD_HASH",
            "$2b$12$C6UzMDM.H6dfI/f/IKxGhuS8y6ZkzqDvWqqbDNrXxZ6YQ1Y6F6H5y",
        ),
    ];
    let mut up = spawn(dir.path(), &["up"], &env);
    up.wait_for("codes of");
    let base = up.listening("platform");
    let admin_token = cli(
        dir.path(),
        &env,
        &["admin-token", "create", "--name", "browser"],
    )
    .trim()
    .to_owned();
    let live_codes = codes(dir.path(), &env, "live");
    let soon_codes = codes(dir.path(), &env, "soon");
    let recording_code = codes(dir.path(), &env, "recording").join(",");
    let nostream_code = codes(dir.path(), &env, "nostream").join(",");
    assert!(live_codes.len() >= 3 && !soon_codes.is_empty());

    let shots = artefacts("viewer-portal");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).expect("artefacts dir");
    let (live, soon) = (live_codes.join(","), soon_codes.join(","));
    let (passed, report) = run_node(
        "viewer.mjs",
        &[
            ("SG_BASE_URL", OsStr::new(&base)),
            ("SG_ADMIN_TOKEN", OsStr::new(&admin_token)),
            ("SG_RECORDING_CODE", OsStr::new(&recording_code)),
            ("SG_NOSTREAM_CODE", OsStr::new(&nostream_code)),
            ("SG_CODES", OsStr::new(&live)),
            ("SG_LIVE_EVENT", OsStr::new("live")),
            ("SG_SOON_EVENT", OsStr::new("soon")),
            ("SG_SOON_CODES", OsStr::new(&soon)),
            ("SG_CONFIG_PATH", config_path.as_os_str()),
            ("SG_SOON_MARKER", OsStr::new(SOON_MARKER)),
            ("SG_SCREENSHOTS", shots.as_os_str()),
        ],
    );
    let log = up.stop();
    assert!(
        passed,
        "browser test failed:\n{report}\nserver log:\n{}",
        log.join("\n")
    );
    for screen in ["entry", "player", "in-use", "revoked", "pre-event"] {
        for width in ["desktop", "phone"] {
            let found = std::fs::read_dir(&shots)
                .expect("screenshots")
                .filter_map(Result::ok)
                .any(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.starts_with(width) && name.contains(screen) && name.ends_with(".png")
                });
            assert!(
                found,
                "no {width} screenshot of {screen} in {}",
                shots.display()
            );
        }
    }
    // The codes and tokens the browser used never reach the log (the start-up banner
    // prints demo codes on purpose; everything after it is the services' log).
    let served: Vec<&String> = log
        .iter()
        .skip_while(|l| !l.starts_with("Try it:"))
        .skip(3)
        .collect();
    for code in live_codes.iter().chain(&soon_codes) {
        assert!(
            !served.iter().any(|l| l.contains(code.as_str())),
            "code {code} appears in the log"
        );
    }
    assert!(
        !served.iter().any(|l| l.contains("eyJ")),
        "a JWT appears in the log"
    );
}

/// The portal plays what an encoder publishes to StreamGate's own ingest: `up` with an
/// SRT ingest event, ffmpeg as the encoder, Chromium as the viewer (`ingest.mjs`).
#[test]
fn viewer_portal_plays_a_stream_from_the_ingest_in_headless_chromium() {
    if !require_browser() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (platform_port, hls_port) = free_ports();
    let ingest_port = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free UDP port")
        .port();
    let config = format!(
        "[platform]\nlisten = \"127.0.0.1:{platform_port}\"\npublic_url = \"http://127.0.0.1:{platform_port}/\"\n\n\
         [hls]\nlisten = \"127.0.0.1:{hls_port}\"\npublic_url = \"http://127.0.0.1:{hls_port}/\"\nstream_root = \"streams\"\n\n\
         [ingest]\npublic_host = \"127.0.0.1\"\nbind = \"127.0.0.1\"\nx264_preset = \"ultrafast\"\n\n\
         [[events]]\nid = \"live\"\ntitle = \"Live from the encoder\"\n\
         starts_at = 2026-01-01T00:00:00Z\nends_at = 2099-01-01T00:00:00Z\n\n\
         [events.ingest]\nport = {ingest_port}\nsegment_seconds = 1\n\
         renditions = [{{ name = \"240p\", height = 240, video_kbps = 400 }}, {{ name = \"160p\", height = 160, video_kbps = 200 }}]\n\n\
         [[events.codes]]\nlabel = \"viewers\"\ncount = 1\n"
    );
    std::fs::write(dir.path().join("streamgate.toml"), config).expect("config");
    let mut up = spawn(dir.path(), &["up", "--no-watch"], &[]);
    let line = up.wait_for("codes of live");
    let code = line
        .split("codes of live")
        .nth(1)
        .and_then(|c| c.split_whitespace().next())
        .expect("code")
        .to_owned();
    let base = up.listening("platform");
    let password = up
        .field("admin")
        .strip_prefix("password ")
        .and_then(|p| p.split_whitespace().next())
        .expect("password")
        .to_owned();
    let url = cli(dir.path(), &[], &["ingest-url", "--event", "live"]);
    let mut encoder = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-re"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=426x240:rate=25"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
        .args([
            "-t",
            "120",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "25",
        ])
        .args([
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-f",
            "mpegts",
            url.trim(),
        ])
        .stdin(std::process::Stdio::null())
        .spawn()
        .expect("ffmpeg encoder");
    // The first segments, before the page asks (the portal would otherwise wait on its
    // pre-event screen, which the other test covers).
    let master = dir.path().join("streams/live/240p/index.m3u8");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !std::fs::read_to_string(&master).is_ok_and(|t| t.matches("#EXTINF").count() >= 3) {
        assert!(
            std::time::Instant::now() < deadline,
            "the ingest wrote no segments"
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let shots = artefacts("viewer-portal-ingest");
    let (passed, report) = run_node(
        "ingest.mjs",
        &[
            ("SG_BASE_URL", OsStr::new(&base)),
            ("SG_CODE", OsStr::new(&code)),
            ("SG_ADMIN_PASSWORD", OsStr::new(&password)),
            ("SG_PUBLISH_URL", OsStr::new(url.trim())),
            ("SG_SCREENSHOTS", shots.as_os_str()),
        ],
    );
    let _ = encoder.kill();
    let _ = encoder.wait();
    let log = up.stop();
    assert!(
        passed,
        "browser test failed:\n{report}\nserver log:\n{}",
        log.join("\n")
    );
}
