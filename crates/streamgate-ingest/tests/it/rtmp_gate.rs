//! The RTMP gate in front of a real ffmpeg listener, with a real ffmpeg publisher
//! (which sends OBS's sequence: connect to `live`, releaseStream, FCPublish,
//! createStream, publish with the key).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use streamgate_core::Secret;
use streamgate_ingest::rtmp_gate::{GateStats, GateTarget, RtmpGate};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

const FFMPEG: &str = "/usr/bin/ffmpeg";
const KEY: &str = "ev1-k3y-0123456789abcdef";
/// Generous: two shared cores, several encodes at once.
const DEADLINE: Duration = Duration::from_secs(60);

/// ffmpeg's RTMP listener writing HLS into `out/`, its log beside it.
struct Listener {
    child: Child,
    out: PathBuf,
    port: u16,
}

/// The gate on port 0 in front of a listener, and what the tests look at.
struct Rig {
    tmp: tempfile::TempDir,
    listener: Listener,
    gate: SocketAddr,
    stats: Arc<GateStats>,
    stop: CancellationToken,
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind probe");
    probe.local_addr().expect("probe addr").port()
}

/// Whether something listens on 127.0.0.1:`port`, read from /proc so that ffmpeg's
/// one-shot listener is not spent on a probe connection.
fn listening(port: u16) -> bool {
    let needle = format!("0100007F:{port:04X}");
    std::fs::read_to_string("/proc/net/tcp").is_ok_and(|table| {
        table.lines().skip(1).any(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            cols.get(1) == Some(&needle.as_str()) && cols.get(3) == Some(&"0A")
        })
    })
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let give_up = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < give_up, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn exit_of(child: &mut Child, what: &str) -> ExitStatus {
    tokio::time::timeout(DEADLINE, child.wait())
        .await
        .unwrap_or_else(|_| panic!("{what} did not exit"))
        .expect("wait")
}

fn log_file(path: &Path) -> Stdio {
    Stdio::from(std::fs::File::create(path).expect("log file"))
}

async fn start_listener(tmp: &Path) -> Listener {
    let port = free_port();
    let out = tmp.join("out");
    std::fs::create_dir(&out).expect("out dir");
    let child = Command::new(FFMPEG)
        .args(["-hide_banner", "-nostdin", "-listen", "1", "-i"])
        .arg(format!("rtmp://127.0.0.1:{port}/live/x"))
        .args(["-c", "copy", "-f", "hls", "-hls_time", "1"])
        .arg(out.join("out.m3u8"))
        .stdout(Stdio::null())
        .stderr(log_file(&tmp.join("listener.log")))
        .kill_on_drop(true)
        .spawn()
        .expect("spawn ffmpeg listener");
    wait_for("ffmpeg to listen", || listening(port)).await;
    Listener { child, out, port }
}

async fn rig() -> Rig {
    let tmp = tempfile::tempdir().expect("tempdir");
    let listener = start_listener(tmp.path()).await;
    let gate = RtmpGate::bind((Ipv4Addr::LOCALHOST, 0).into())
        .await
        .expect("bind gate");
    let addr = gate.local_addr().expect("gate addr");
    let (_tx, target) = watch::channel(GateTarget {
        backend: (Ipv4Addr::LOCALHOST, listener.port).into(),
        key: Secret::new(KEY),
    });
    let stats = Arc::new(GateStats::default());
    let stop = CancellationToken::new();
    tokio::spawn(gate.run(target, Arc::clone(&stats), stop.clone()));
    Rig {
        tmp,
        listener,
        gate: addr,
        stats,
        stop,
    }
}

fn publish(gate: SocketAddr, path: &str, seconds: u32, log: &Path) -> Child {
    Command::new(FFMPEG)
        .args(["-hide_banner", "-nostdin", "-re"])
        .args(["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"])
        .args(["-f", "lavfi", "-i", "sine"])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .args([
            "-g",
            "25",
            "-c:a",
            "aac",
            "-t",
            &seconds.to_string(),
            "-f",
            "flv",
        ])
        .arg(format!("rtmp://{gate}/{path}"))
        .stdout(Stdio::null())
        .stderr(log_file(log))
        .kill_on_drop(true)
        .spawn()
        .expect("spawn ffmpeg publisher")
}

/// A playlist listing at least one segment that exists.
fn has_segments(out: &Path) -> bool {
    let Ok(playlist) = std::fs::read_to_string(out.join("out.m3u8")) else {
        return false;
    };
    playlist
        .lines()
        .filter(|l| l.ends_with(".ts"))
        .any(|segment| out.join(segment).is_file())
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read out dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_key_reaches_ffmpeg_and_it_writes_hls() {
    let mut rig = rig().await;
    let log = rig.tmp.path().join("publisher.log");
    let mut publisher = publish(rig.gate, &format!("live/{KEY}"), 4, &log);
    let status = exit_of(&mut publisher, "publisher").await;
    assert!(
        status.success(),
        "publisher failed: {:?}",
        std::fs::read_to_string(&log)
    );
    let out = rig.listener.out.clone();
    wait_for("playlist and segments", || has_segments(&out)).await;
    assert!(
        rig.stats.bytes_in() > 100_000,
        "bytes_in {}",
        rig.stats.bytes_in()
    );
    assert_eq!(rig.stats.refused_key(), 0);
    assert!(exit_of(&mut rig.listener.child, "listener").await.success());
}

/// A refused publisher's listener must exit having written nothing at all.
async fn assert_refused_and_nothing_written(path: &str) {
    let mut rig = rig().await;
    let log = rig.tmp.path().join("publisher.log");
    let mut publisher = publish(rig.gate, path, 4, &log);
    let status = exit_of(&mut publisher, "publisher").await;
    assert!(!status.success(), "publisher with {path} succeeded");
    assert_eq!(rig.stats.refused_key(), 1);
    assert!(!rig.stats.publishing());
    let listener = exit_of(&mut rig.listener.child, "listener").await;
    assert!(!listener.success(), "listener exited cleanly");
    assert_eq!(entries(&rig.listener.out), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_refused_and_ffmpeg_writes_nothing() {
    assert_refused_and_nothing_written("live/not-the-key").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_app_is_refused_and_ffmpeg_writes_nothing() {
    assert_refused_and_nothing_written(&format!("other/{KEY}")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_publisher_is_refused_while_the_first_streams_on() {
    let mut rig = rig().await;
    let tmp = rig.tmp.path().to_owned();
    let mut first = publish(rig.gate, &format!("live/{KEY}"), 6, &tmp.join("first.log"));
    let stats = Arc::clone(&rig.stats);
    wait_for("the first publisher to be verified", || stats.publishing()).await;
    let mut second = publish(rig.gate, &format!("live/{KEY}"), 2, &tmp.join("second.log"));
    assert!(!exit_of(&mut second, "second publisher").await.success());
    assert!(rig.stats.refused_busy() >= 1);
    let status = exit_of(&mut first, "first publisher").await;
    assert!(
        status.success(),
        "first publisher failed: {:?}",
        std::fs::read_to_string(tmp.join("first.log"))
    );
    let out = rig.listener.out.clone();
    wait_for("playlist and segments", || has_segments(&out)).await;
    assert!(exit_of(&mut rig.listener.child, "listener").await.success());
}
