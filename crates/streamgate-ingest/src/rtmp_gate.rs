//! The RTMP key gate: the public RTMP port, in front of ffmpeg's RTMP listener.
//!
//! ffmpeg's listener (`-listen 1 -i rtmp://…/live/x`) records whatever stream name an
//! encoder publishes; it only logs the mismatch. The gate accepts the encoder, connects
//! to the listener on 127.0.0.1 and relays bytes both ways, but reads the encoder's
//! side message by message until a `publish` whose stream name is the event's key
//! (compared in constant time). Until then ffmpeg sees only the handshake and the
//! commands that lead to a publish; a wrong key or app closes both sockets before the
//! command that names it reaches ffmpeg, so ffmpeg exits having written nothing. Once
//! verified, the gate only copies (and counts) bytes. One encoder at a time: a second
//! connection while one is in progress is closed at once.

mod amf0;
pub mod chunks;
mod commands;
mod session;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use streamgate_core::Secret;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use commands::{APP, Refusal};
pub use session::{BACKEND_RETRY, MAX_PREPUBLISH_MESSAGE, PUBLISH_DEADLINE, SessionError};

/// Pause after a failed accept (out of file descriptors, say) before the next.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// Where verified publishers go and the key they must present; read anew for each
/// connection, so a reload that changes either applies to the next encoder.
#[derive(Debug, Clone)]
pub struct GateTarget {
    /// ffmpeg's RTMP listener, on 127.0.0.1.
    pub backend: SocketAddr,
    /// The event's publish key (the stream name, without any `?query`).
    pub key: Secret,
}

/// Counters the supervisor and status pages read while the gate runs.
#[derive(Debug, Default)]
pub struct GateStats {
    bytes_in: AtomicU64,
    refused_key: AtomicU64,
    refused_busy: AtomicU64,
    refused_protocol: AtomicU64,
    publishing: AtomicBool,
}

impl GateStats {
    /// Bytes relayed from encoders to ffmpeg (handshake included): whether media flows.
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in.load(Ordering::Relaxed)
    }

    /// Connections refused for a wrong key or app: someone has a stale or guessed key.
    pub fn refused_key(&self) -> u64 {
        self.refused_key.load(Ordering::Relaxed)
    }

    /// Connections refused because another encoder was connected.
    pub fn refused_busy(&self) -> u64 {
        self.refused_busy.load(Ordering::Relaxed)
    }

    /// Connections ended before publishing for any other reason: bad protocol, no
    /// publish in time, ffmpeg's listener not accepting.
    pub fn refused_protocol(&self) -> u64 {
        self.refused_protocol.load(Ordering::Relaxed)
    }

    /// Whether a verified publisher is streaming now.
    pub fn publishing(&self) -> bool {
        self.publishing.load(Ordering::SeqCst)
    }
}

/// The bound public RTMP port; [`RtmpGate::run`] serves it.
#[derive(Debug)]
pub struct RtmpGate {
    listener: TcpListener,
}

impl RtmpGate {
    /// Binds the public port (port 0 picks a free one; see [`RtmpGate::local_addr`]).
    pub async fn bind(addr: SocketAddr) -> io::Result<Self> {
        Ok(Self {
            listener: TcpListener::bind(addr).await?,
        })
    }

    /// The address actually bound, for the encoder's URL and for tests.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts encoders until `stop` is cancelled, then ends the connection in progress
    /// and returns. `target` is read for each connection (hot reload).
    pub async fn run(
        self,
        target: watch::Receiver<GateTarget>,
        stats: Arc<GateStats>,
        stop: CancellationToken,
    ) {
        let tracker = TaskTracker::new();
        let active = Arc::new(AtomicBool::new(false));
        loop {
            let accepted = tokio::select! {
                () = stop.cancelled() => break,
                accepted = self.listener.accept() => accepted,
            };
            let (client, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "RTMP gate: accept failed");
                    tokio::time::sleep(ACCEPT_PAUSE).await;
                    continue;
                }
            };
            if active.swap(true, Ordering::SeqCst) {
                stats.refused_busy.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%peer, "RTMP gate: refused an encoder, another one is connected");
                drop(client);
                continue;
            }
            let guard = ActiveGuard {
                active: Arc::clone(&active),
                stats: Arc::clone(&stats),
            };
            let target = target.borrow().clone();
            let stop = stop.clone();
            tracker.spawn(async move {
                let result = session::serve(client, target, &guard.stats, &stop).await;
                report(peer, result, &guard.stats);
                drop(guard);
            });
        }
        tracker.close();
        tracker.wait().await;
    }
}

/// Logs and counts how a connection ended; never logs what the encoder presented.
fn report(peer: SocketAddr, result: Result<(), SessionError>, stats: &GateStats) {
    let was_publishing = stats.publishing();
    match result {
        Ok(()) => tracing::info!(%peer, "RTMP gate: encoder disconnected"),
        Err(SessionError::Refused(refusal)) if refusal.is_credential() => {
            stats.refused_key.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%peer, reason = %refusal, "RTMP gate: refused an encoder");
        }
        Err(SessionError::Io(e)) if was_publishing => {
            tracing::info!(%peer, error = %e, "RTMP gate: stream connection ended");
        }
        Err(e) => {
            stats.refused_protocol.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%peer, reason = %e, "RTMP gate: refused an encoder");
        }
    }
}

/// Frees the one-encoder slot and clears `publishing` when a connection ends.
struct ActiveGuard {
    active: Arc<AtomicBool>,
    stats: Arc<GateStats>,
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.stats.publishing.store(false, Ordering::SeqCst);
        self.active.store(false, Ordering::SeqCst);
    }
}
