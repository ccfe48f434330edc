//! One event's ffmpeg, kept running: started again within a second when it exits
//! (an encoder leaving ends ffmpeg's input, which is the normal way a listener ends),
//! stopped with SIGTERM and a grace period on shutdown or when its plan changes, its
//! progress turned into the event's health, and its recording closed when the encoder
//! is gone for good (see [`crate::finish`]).

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use streamgate_core::ingest::{IngestHealth, IngestState};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::command::Plan;
use crate::finish;
use crate::progress::{Progress, ProgressParser};
use crate::rtmp_gate::GateStats;

/// An exit sooner than this after the start waits [`RESTART_PAUSE`] before the next
/// start, so a misconfigured ffmpeg does not spin; later exits restart at once.
const QUICK_EXIT: Duration = Duration::from_secs(2);

/// The pause after a quick exit: within the second the issue allows.
const RESTART_PAUSE: Duration = Duration::from_millis(900);

/// Quick exits in a row after which the ingest is reported failed.
const FAILING_AFTER: u32 = 5;

/// The pause between starts of a failing ingest.
const FAILING_PAUSE: Duration = Duration::from_secs(5);

/// How long ffmpeg gets to finish its segment and playlists after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// The window output bitrate is measured over.
const OUTPUT_WINDOW: Duration = Duration::from_secs(10);

/// What one event's ingest runs, as the service last decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSpec {
    /// The event id.
    pub event: String,
    /// ffmpeg's run; a change restarts ffmpeg.
    pub plan: Plan,
    /// The event's end: with no encoder after it, the recording is closed.
    pub ends_at: OffsetDateTime,
    /// How long the encoder may be away before the recording is closed.
    pub finish_after: Duration,
}

/// The health the supervisor keeps and `/health` reads.
#[derive(Debug)]
pub struct EventStatus {
    health: Mutex<IngestHealth>,
    /// The RTMP gate's counters, for input bitrate and refusals.
    pub gate: Option<Arc<GateStats>>,
}

impl EventStatus {
    /// A waiting status for `spec`.
    pub fn new(spec: &EventSpec, gate: Option<Arc<GateStats>>) -> Self {
        Self {
            health: Mutex::new(IngestHealth {
                event_id: spec.event.clone(),
                protocol: spec.plan.ingest.protocol.to_string(),
                port: spec.plan.ingest.port,
                state: IngestState::Waiting,
                publishing_since: None,
                uptime_seconds: None,
                input_kbps: None,
                output_kbps: None,
                fps: None,
                frames: 0,
                dropped_frames: 0,
                duplicated_frames: 0,
                speed: None,
                restarts: 0,
                refused_publishers: 0,
                last_error: None,
                record: spec.plan.ingest.record,
                renditions: spec.plan.rendition_names(),
            }),
            gate,
        }
    }

    /// A copy of the current health.
    pub fn snapshot(&self) -> IngestHealth {
        let mut health = self.lock().clone();
        if let Some(gate) = &self.gate {
            health.refused_publishers = gate.refused_key() + gate.refused_busy();
        }
        health
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, IngestHealth> {
        self.health.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// No encoder: waiting, or finished when the playlists on disk say so.
    fn idle(&self, playlists: &[std::path::PathBuf]) {
        let finished = finish::on_disk(playlists).finished;
        self.update(|h| {
            h.state = if finished {
                IngestState::Finished
            } else {
                IngestState::Waiting
            };
            h.publishing_since = None;
            h.uptime_seconds = None;
            h.fps = None;
            h.speed = None;
            h.input_kbps = None;
        });
    }

    /// One progress block of a connected encoder.
    fn record(&self, block: &Progress, since: (Instant, OffsetDateTime)) {
        self.update(|h| {
            h.state = IngestState::Publishing;
            h.publishing_since = since.1.format(&Rfc3339).ok();
            h.uptime_seconds = Some(since.0.elapsed().as_secs());
            h.frames = block.frame;
            h.fps = block.fps;
            h.speed = block.speed;
            h.dropped_frames = block.drop_frames;
            h.duplicated_frames = block.dup_frames;
        });
    }

    pub(crate) fn set_state(&self, state: IngestState, error: Option<String>) {
        self.update(|h| {
            h.state = state;
            if error.is_some() {
                h.last_error = error;
            }
        });
    }

    fn update(&self, f: impl FnOnce(&mut IngestHealth)) {
        f(&mut self.lock());
    }
}

/// What ended one ffmpeg run.
enum RunEnd {
    /// ffmpeg exited by itself.
    Exited,
    /// The plan changed; start the new one now.
    Replanned,
    /// The service is stopping or the event lost its ingest.
    Stop,
}

/// Keeps the event's ffmpeg running until `stop`.
pub async fn supervise(
    mut spec: watch::Receiver<EventSpec>,
    status: Arc<EventStatus>,
    stop: CancellationToken,
) {
    let mut away_since = Instant::now();
    let mut quick_exits = 0u32;
    loop {
        let current = spec.borrow_and_update().clone();
        let started = Instant::now();
        let refused_before = refusals(&status);
        let end = match start(&current) {
            Ok(child) => run(child, &current, &mut spec, &status, &stop, &mut away_since).await,
            Err(why) => {
                tracing::error!(event = %current.event, "ingest cannot start ffmpeg: {why}");
                status.update(|h| {
                    h.state = IngestState::Failed;
                    h.last_error = Some(why);
                });
                quick_exits = FAILING_AFTER;
                RunEnd::Exited
            }
        };
        match end {
            RunEnd::Stop => return,
            RunEnd::Replanned => continue,
            RunEnd::Exited => {}
        }
        status.update(|h| h.restarts += 1);
        // A publisher the RTMP gate refused ends ffmpeg's session too; that is the
        // gate working, not ffmpeg failing, and must not let wrong keys stall the ingest.
        quick_exits = if started.elapsed() < QUICK_EXIT && refusals(&status) == refused_before {
            quick_exits + 1
        } else {
            0
        };
        // A listener that cannot even listen (port taken, bad option) exits at once,
        // again and again: say so and retry less often.
        let pause = if quick_exits >= FAILING_AFTER {
            status.update(|h| h.state = IngestState::Failed);
            FAILING_PAUSE
        } else if quick_exits > 0 {
            RESTART_PAUSE
        } else {
            Duration::from_millis(50)
        };
        // A changed plan (the operator fixed the file) is tried at once.
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
            _ = spec.changed() => {}
        }
    }
}

fn refusals(status: &EventStatus) -> u64 {
    status
        .gate
        .as_ref()
        .map_or(0, |g| g.refused_key() + g.refused_busy())
}

fn start(spec: &EventSpec) -> Result<Child, String> {
    std::fs::create_dir_all(&spec.plan.out_dir)
        .map_err(|e| format!("cannot create {}: {e}", spec.plan.out_dir.display()))?;
    Command::new(&spec.plan.settings.ffmpeg)
        .args(spec.plan.args())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            format!(
                "cannot run `{}`: {e} (install ffmpeg or set ingest.ffmpeg)",
                spec.plan.settings.ffmpeg.display()
            )
        })
}

async fn run(
    mut child: Child,
    spec: &EventSpec,
    specs: &mut watch::Receiver<EventSpec>,
    status: &Arc<EventStatus>,
    stop: &CancellationToken,
    away_since: &mut Instant,
) -> RunEnd {
    let playlists = spec.plan.media_playlists();
    status.idle(&playlists);
    let (progress_tx, mut progress_rx) = tokio::sync::mpsc::channel::<Progress>(16);
    if let Some(stdout) = child.stdout.take() {
        tokio::spawn(read_progress(stdout, progress_tx));
    }
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(read_log(
            stderr,
            spec.event.clone(),
            spec.plan.key.expose().to_owned(),
            status.clone(),
        ));
    }
    let mut publishing_since: Option<(Instant, OffsetDateTime)> = None;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut input = InputRate::new(status);
    let end = loop {
        tokio::select! {
            exit = child.wait() => {
                let exit = exit.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                tracing::info!(event = %spec.event, "ingest ffmpeg exited ({exit})");
                break RunEnd::Exited;
            }
            () = stop.cancelled() => {
                terminate(&mut child).await;
                break RunEnd::Stop;
            }
            changed = specs.changed() => {
                if changed.is_err() {
                    terminate(&mut child).await;
                    break RunEnd::Stop;
                }
                if specs.borrow().plan != spec.plan {
                    tracing::info!(event = %spec.event, "ingest settings changed: restarting ffmpeg");
                    terminate(&mut child).await;
                    break RunEnd::Replanned;
                }
            }
            Some(block) = progress_rx.recv() => {
                let since = *publishing_since.get_or_insert_with(|| {
                    tracing::info!(event = %spec.event, "encoder connected: publishing");
                    (Instant::now(), OffsetDateTime::now_utc())
                });
                status.record(&block, since);
            }
            _ = tick.tick() => {
                let latest = specs.borrow().clone();
                on_tick(&latest, status, publishing_since.is_some(), *away_since);
                let kbps = input.sample(status);
                status.update(|h| h.input_kbps = publishing_since.and(kbps));
            }
        }
    };
    if publishing_since.is_some() {
        tracing::info!(event = %spec.event, "encoder disconnected");
        *away_since = Instant::now();
    }
    status.idle(&playlists);
    end
}

/// What the RTMP gate counted since the last sample, as kbit/s.
struct InputRate {
    bytes: u64,
    at: Instant,
}

impl InputRate {
    fn new(status: &EventStatus) -> Self {
        Self {
            bytes: status.gate.as_ref().map_or(0, |g| g.bytes_in()),
            at: Instant::now(),
        }
    }

    /// kbit/s since the last sample; `None` without a gate (SRT).
    fn sample(&mut self, status: &EventStatus) -> Option<f64> {
        let gate = status.gate.as_ref()?;
        let bytes = gate.bytes_in();
        let secs = self.at.elapsed().as_secs_f64().max(0.001);
        let kbps = bytes.saturating_sub(self.bytes) as f64 * 8.0 / 1000.0 / secs;
        self.bytes = bytes;
        self.at = Instant::now();
        Some(kbps)
    }
}

/// Once a second: the output bitrate, and closing the recording when the encoder has
/// been away long enough or the event is over.
fn on_tick(spec: &EventSpec, status: &EventStatus, publishing: bool, away_since: Instant) {
    let names = spec.plan.rendition_names();
    let kbps = publishing
        .then(|| finish::output_kbps(&spec.plan.out_dir, &names, OUTPUT_WINDOW))
        .flatten();
    status.update(|h| h.output_kbps = kbps);
    // A closed recording stays closed until an encoder connects again: no need to read
    // its playlists every second for the rest of the access window.
    if publishing || status.lock().state == IngestState::Finished {
        return;
    }
    let playlists = spec.plan.media_playlists();
    let disk = finish::on_disk(&playlists);
    if disk.finished || disk.segments == 0 {
        return;
    }
    let over = OffsetDateTime::now_utc() >= spec.ends_at;
    if !(over || away_since.elapsed() >= spec.finish_after) {
        return;
    }
    match finish::close(&playlists) {
        Ok(n) => {
            tracing::info!(
                event = %spec.event,
                segments = disk.segments,
                "closed {n} playlists with #EXT-X-ENDLIST: {}",
                if over { "the event is over" } else { "the encoder did not come back" }
            );
            status.update(|h| h.state = IngestState::Finished);
        }
        Err(e) => {
            tracing::error!(event = %spec.event, "cannot close the recording: {e}");
            status.update(|h| h.last_error = Some(format!("cannot close the recording: {e}")));
        }
    }
}

/// SIGTERM, then SIGKILL after the grace period: ffmpeg finishes the segment it is
/// writing and its playlists, so a stop loses nothing that was published.
async fn terminate(child: &mut Child) {
    if let Some(pid) = child.id()
        && let Ok(pid) = i32::try_from(pid)
    {
        // SAFETY: kill(2) with a pid we own and a constant signal has no memory effects.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
    if tokio::time::timeout(STOP_GRACE, child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
}

async fn read_progress(stdout: impl AsyncRead + Unpin, tx: tokio::sync::mpsc::Sender<Progress>) {
    let mut lines = BufReader::new(stdout).lines();
    let mut parser = ProgressParser::default();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(block) = parser.line(&line)
            && !block.end
            && tx.send(block).await.is_err()
        {
            return;
        }
    }
}

/// ffmpeg's warnings and errors, with the key taken out (libsrt repeats the input URL,
/// passphrase included, in its errors), logged at most once a second so a stream of
/// timestamp warnings does not flood the log; the last one is kept for `/health`.
async fn read_log(
    stderr: impl AsyncRead + Unpin,
    event: String,
    key: String,
    status: Arc<EventStatus>,
) {
    let mut lines = BufReader::new(stderr).lines();
    let mut last_logged: Option<Instant> = None;
    let mut skipped = 0u64;
    while let Ok(Some(line)) = lines.next_line().await {
        let line = redact(&line, &key);
        if line.trim().is_empty() {
            continue;
        }
        // ffmpeg's RTMP listener names the stream it expected: the gate has checked
        // the key already, and the line would only repeat it.
        if line.contains("Unexpected stream") {
            continue;
        }
        // "Last message repeated 2 times" says nothing on its own in `/health`.
        if !line.trim_start().starts_with("Last message repeated") {
            status.update(|h| h.last_error = Some(line.trim().to_owned()));
        }
        if last_logged.is_some_and(|at| at.elapsed() < Duration::from_secs(1)) {
            skipped += 1;
            continue;
        }
        last_logged = Some(Instant::now());
        if skipped > 0 {
            tracing::warn!(event = %event, "ffmpeg: {line} ({skipped} more lines not shown)");
            skipped = 0;
        } else {
            tracing::warn!(event = %event, "ffmpeg: {line}");
        }
    }
}

/// `line` with the key and any `passphrase=` value replaced. (Core's secret-name rule
/// is broader than libsrt's URL: it would also take `pbkeylen`, which is no secret.)
pub(crate) fn redact(line: &str, key: &str) -> String {
    use streamgate_core::redact::REDACTED;
    let mut out = if key.is_empty() {
        line.to_owned()
    } else {
        line.replace(key, REDACTED)
    };
    let mut from = 0;
    while let Some(at) = out[from..].find("passphrase=") {
        let start = from + at + "passphrase=".len();
        let end = out[start..]
            .find(['&', ' ', ':', '"', '\''])
            .map_or(out.len(), |n| start + n);
        out.replace_range(start..end, REDACTED);
        from = start + REDACTED.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn keys_never_reach_the_log() {
        let key = "00112233445566778899aabbccddeeff";
        let line = format!(
            "srt://0.0.0.0:9000?mode=listener&passphrase={key}&pbkeylen=16: Input/output error"
        );
        let out = redact(&line, key);
        assert!(!out.contains(key), "{out}");
        assert_eq!(
            out,
            "srt://0.0.0.0:9000?mode=listener&passphrase=[redacted]&pbkeylen=16: Input/output error"
        );
        // An old key (before a rotation) is caught by its parameter name.
        let out = redact("srt://h:1?passphrase=oldkeyoldkey: error", key);
        assert_eq!(out, "srt://h:1?passphrase=[redacted]: error");
    }
}
