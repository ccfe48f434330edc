//! What the live ingest tests share: an `up` directory with an ingest event, ffmpeg as
//! the encoder and as the viewer, and small readers of playlists, health and status.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::binary::{Up, spawn};

/// How long any wait in these tests may take before it is a failure.
pub const PATIENCE: Duration = Duration::from_secs(90);

pub fn free_port() -> u16 {
    // A port free for both TCP (RTMP) and UDP (SRT) right now.
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = tcp.local_addr().expect("addr").port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

pub struct Setup {
    pub dir: tempfile::TempDir,
    pub hls_port: u16,
    pub ingest_port: u16,
}

impl Setup {
    pub fn new(protocol: &str) -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let hls_port = free_port();
        let ingest_port = free_port();
        let text = format!(
            "[platform]\nlisten = \"127.0.0.1:0\"\n\n[hls]\nlisten = \"127.0.0.1:{hls_port}\"\n\
             public_url = \"http://127.0.0.1:{hls_port}\"\nstream_root = \"streams\"\n\n\
             [ingest]\npublic_host = \"127.0.0.1\"\nbind = \"127.0.0.1\"\nx264_preset = \"ultrafast\"\n\n\
             [[events]]\nid = \"live\"\ntitle = \"Live night\"\nstarts_at = 2026-01-01T00:00:00Z\n\
             ends_at = 2099-01-01T00:00:00Z\n\n[events.ingest]\nprotocol = \"{protocol}\"\n\
             port = {ingest_port}\nsegment_seconds = 1\nfinish_after_seconds = 12\n\
             renditions = [\n  {{ name = \"240p\", height = 240, video_kbps = 400, audio_kbps = 64 }},\n  \
             {{ name = \"160p\", height = 160, video_kbps = 200, audio_kbps = 64 }},\n]\n\n\
             [[events.codes]]\nlabel = \"tickets\"\ncount = 3\n"
        );
        std::fs::write(dir.path().join("streamgate.toml"), text).expect("write config");
        Self {
            dir,
            hls_port,
            ingest_port,
        }
    }

    pub fn event_dir(&self) -> PathBuf {
        self.dir.path().join("streams/live")
    }

    pub fn up(&self) -> (Up, String, Vec<String>) {
        self.up_with(&["up", "--no-watch"])
    }

    pub fn up_with(&self, args: &[&str]) -> (Up, String, Vec<String>) {
        let mut up = spawn(self.dir.path(), args, &[]);
        let line = up.wait_for("codes of live");
        let codes = line
            .split("codes of live")
            .nth(1)
            .expect("codes")
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let platform = up.listening("platform");
        (up, platform, codes)
    }

    pub fn hls(&self) -> String {
        format!("http://127.0.0.1:{}", self.hls_port)
    }

    /// `streamgate ingest-url --event live`, as the organiser runs it.
    pub fn publish_url(&self) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_streamgate"))
            .args(["ingest-url", "--event", "live"])
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .output()
            .expect("ingest-url");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).expect("utf8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "one URL per line: {text}");
        lines[0].to_owned()
    }

    /// Files ingest wrote into the event's folder (playlists and segments).
    pub fn written(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![self.event_dir()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    found.push(path);
                }
            }
        }
        found
    }
}

/// ffmpeg publishing a test pattern and a tone for `seconds` in real time.
pub fn publish(url: &str, protocol: &str, seconds: u32, tone: u32) -> Child {
    let format = if protocol == "rtmp" { "flv" } else { "mpegts" };
    Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-re"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=426x240:rate=25"])
        .args([
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency={tone}:sample_rate=48000"),
        ])
        .args(["-t", &seconds.to_string()])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-tune",
            "zerolatency",
        ])
        .args([
            "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", format, url,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ffmpeg publisher")
}

/// ffmpeg as a viewer: reads `url` until its end and writes what it got to `out`.
pub fn view(url: &str, out: &Path) -> Child {
    Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
        .args(["-i", url, "-map", "0", "-c", "copy", "-f", "mpegts"])
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ffmpeg viewer")
}

/// The media's duration in seconds, as ffprobe reads it (through the gate for URLs).
pub fn duration(input: &str) -> f64 {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
            input,
        ])
        .output()
        .expect("ffprobe");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| {
            panic!(
                "ffprobe {input}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// Whether ffmpeg decodes the first second of `url` without error.
pub fn decodes_first_second(url: &str) -> bool {
    Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-nostdin",
            "-v",
            "error",
            "-i",
            url,
            "-t",
            "1",
            "-f",
            "null",
            "-",
        ])
        .status()
        .is_ok_and(|s| s.success())
}

pub async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("timed out waiting until {what}");
}

pub async fn redeem(client: &reqwest::Client, platform: &str, code: &str) -> String {
    let body = super::redeem(client, platform, code).await;
    assert_eq!(body["streamPath"], "/streams/live/index.m3u8", "{body}");
    body["playbackToken"].as_str().expect("token").to_owned()
}

pub async fn status(client: &reqwest::Client, platform: &str, code: &str) -> String {
    let body: Value = client
        .get(format!("{platform}/api/events/live/status?code={code}"))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    body["status"].as_str().unwrap_or_default().to_owned()
}

pub async fn health(hls: &str) -> Value {
    reqwest::get(format!("{hls}/health"))
        .await
        .expect("health")
        .json()
        .await
        .expect("json")
}

/// The segment names a media playlist lists, and how many discontinuities it has.
pub fn segments(playlist: &str) -> (Vec<String>, usize) {
    let names = playlist
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('?').next().unwrap_or(l).to_owned())
        .collect();
    let breaks = playlist.matches("#EXT-X-DISCONTINUITY\n").count();
    (names, breaks)
}

pub async fn playlist_text(client: &reqwest::Client, url: &str) -> Option<String> {
    let resp = client.get(url).send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.text().await.ok()
}

/// Publishes again until the ingest reports the encoder connected.
pub async fn reconnect(hls: &str, url: &str, protocol: &str) -> Child {
    let deadline = Instant::now() + PATIENCE;
    loop {
        assert!(Instant::now() < deadline, "the encoder never got back in");
        let mut attempt = publish(url, protocol, 8, 880);
        let tried = Instant::now();
        while tried.elapsed() < Duration::from_secs(6) {
            if health(hls).await["ingest"][0]["state"] == "publishing" {
                return attempt;
            }
            if attempt.try_wait().expect("try_wait").is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let _ = attempt.kill();
        let _ = attempt.wait();
    }
}

/// A publisher that is refused exits with an error and leaves nothing behind.
pub fn assert_refused(setup: &Setup, url: &str, protocol: &str) {
    let wrong = url.replace(&wrong_part(url), "0123456789abcdef0123456789abcdef");
    assert_ne!(wrong, url);
    let mut publisher = publish(&wrong, protocol, 3, 440);
    let status = publisher.wait().expect("wait");
    assert!(!status.success(), "a wrong key is refused");
    // Part of what is tested: nothing appears, and an absence has no event to wait
    // for, so the check gives a wrongly admitted stream a grace period to show up.
    std::thread::sleep(Duration::from_secs(2));
    let written: Vec<PathBuf> = setup
        .written()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "ts" || e == "m3u8"))
        .collect();
    assert!(written.is_empty(), "a refused publisher wrote {written:?}");
}

/// The key in a publish URL.
pub fn wrong_part(url: &str) -> String {
    url.split("passphrase=")
        .nth(1)
        .map(|rest| rest.split('&').next().unwrap_or(rest).to_owned())
        .or_else(|| url.rsplit('/').next().map(str::to_owned))
        .expect("key in url")
}

/// Waits until every playlist of `urls` (one per rendition) contains `needle`.
pub async fn every_rendition<const N: usize>(
    client: &reqwest::Client,
    what: &str,
    urls: [String; N],
    needle: &str,
) {
    wait_until(what, || {
        let (client, urls) = (client.clone(), urls.clone());
        async move {
            for url in &urls {
                if !playlist_text(&client, url)
                    .await
                    .is_some_and(|t| t.contains(needle))
                {
                    return false;
                }
            }
            true
        }
    })
    .await;
}

/// Waits until the event's status (as the portal polls it) is `want`.
pub async fn wait_status(client: &reqwest::Client, platform: &str, code: &str, want: &str) {
    wait_until(&format!("the event is {want}"), || {
        let (client, platform, code) = (client.clone(), platform.to_owned(), code.to_owned());
        async move { status(&client, &platform, &code).await == want }
    })
    .await;
}

/// The body of a GET.
pub async fn text_of(url: &str) -> String {
    reqwest::get(url)
        .await
        .expect("get")
        .text()
        .await
        .expect("text")
}
