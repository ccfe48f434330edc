//! One encoder connection through the gate: connect to ffmpeg's listener, relay the
//! handshake, pass the chunk stream message by message until the publish is verified
//! (holding back the chunk that completes each checked command), then copy both ways.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::chunks::{ChunkError, ChunkReader};
use super::commands::{Policy, Refusal, Verdict};
use super::{GateStats, GateTarget};

/// How long to keep trying ffmpeg's listener, which may be restarting.
pub const BACKEND_RETRY: Duration = Duration::from_secs(3);
/// Pause between attempts to reach the listener.
const BACKEND_RETRY_PAUSE: Duration = Duration::from_millis(100);
/// How long an encoder has from connecting to a verified publish.
pub const PUBLISH_DEADLINE: Duration = Duration::from_secs(10);
/// Largest message accepted before publishing; commands are a few hundred bytes.
pub const MAX_PREPUBLISH_MESSAGE: u32 = 64 * 1024;
/// C0 (version) + C1 + C2 of the RTMP handshake.
const HANDSHAKE_LEN: usize = 1 + 1536 + 1536;
/// The RTMP version ffmpeg (and every encoder) speaks.
const RTMP_VERSION: u8 = 3;
/// How long to let ffmpeg answer once the encoder has finished sending.
const DRAIN: Duration = Duration::from_secs(2);

/// Why a connection ended before or without a verified publish.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// ffmpeg's listener did not accept within [`BACKEND_RETRY`].
    #[error("ingest listener not accepting: {0}")]
    Backend(io::Error),
    /// The encoder sent something the policy refuses.
    #[error("refused: {0}")]
    Refused(#[from] Refusal),
    /// The chunk stream was malformed or over the limits.
    #[error("bad chunk stream: {0}")]
    Chunks(#[from] ChunkError),
    /// C0 named another protocol version.
    #[error("unsupported RTMP version {0}")]
    Version(u8),
    /// No verified publish within [`PUBLISH_DEADLINE`].
    #[error("no publish within {0:?}")]
    Deadline(Duration),
    /// The encoder hung up before publishing.
    #[error("encoder closed before publishing")]
    ClosedEarly,
    /// A socket failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Serves one encoder until it or ffmpeg hangs up, it is refused, or `stop` fires.
pub async fn serve(
    client: TcpStream,
    target: GateTarget,
    stats: &GateStats,
    stop: &CancellationToken,
) -> Result<(), SessionError> {
    let deadline = Instant::now() + PUBLISH_DEADLINE;
    let backend = tokio::select! {
        r = connect_backend(target.backend) => r.map_err(SessionError::Backend)?,
        () = stop.cancelled() => return Ok(()),
    };
    let _ = client.set_nodelay(true);
    let _ = backend.set_nodelay(true);
    let (mut client_r, mut client_w) = client.into_split();
    let (mut backend_r, mut backend_w) = backend.into_split();
    let upstream = async {
        tokio::time::timeout_at(
            deadline,
            relay_until_published(&mut client_r, &mut backend_w, &target, stats),
        )
        .await
        .map_err(|_| SessionError::Deadline(PUBLISH_DEADLINE))??;
        stats.publishing.store(true, Ordering::SeqCst);
        copy_counting(&mut client_r, &mut backend_w, stats).await?;
        Ok::<_, SessionError>(())
    };
    let downstream = tokio::io::copy(&mut backend_r, &mut client_w);
    tokio::pin!(downstream);
    tokio::select! {
        r = upstream => {
            r?;
            // The encoder is done; let ffmpeg see the end and answer, briefly.
            let _ = tokio::time::timeout(DRAIN, &mut downstream).await;
        }
        _ = &mut downstream => {}
        () = stop.cancelled() => {}
    }
    Ok(())
}

/// Connects to ffmpeg's listener, retrying for [`BACKEND_RETRY`] while it restarts.
async fn connect_backend(addr: SocketAddr) -> io::Result<TcpStream> {
    let give_up = Instant::now() + BACKEND_RETRY;
    loop {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) if Instant::now() >= give_up => return Err(e),
            Err(_) => tokio::time::sleep(BACKEND_RETRY_PAUSE).await,
        }
    }
}

/// Relays the handshake and then every chunk whose message passes the policy, until
/// the verified `publish`, which is forwarded with whatever followed it.
async fn relay_until_published<R, W>(
    client: &mut R,
    backend: &mut W,
    target: &GateTarget,
    stats: &GateStats,
) -> Result<(), SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    relay_handshake(client, backend, stats).await?;
    let mut reader = ChunkReader::new(MAX_PREPUBLISH_MESSAGE);
    let mut policy = Policy::new(&target.key);
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    loop {
        let mut parsed = 0;
        while let Some(chunk) = reader.next_chunk(&buf[parsed..])? {
            parsed += chunk.len;
            let Some(message) = chunk.message else {
                continue;
            };
            if policy.check(&message)? == Verdict::Published {
                forward(backend, &buf, stats).await?;
                return Ok(());
            }
        }
        forward(backend, &buf[..parsed], stats).await?;
        buf.drain(..parsed);
        buf.reserve(16 * 1024);
        if client.read_buf(&mut buf).await? == 0 {
            return Err(SessionError::ClosedEarly);
        }
    }
}

/// Passes C0, C1 and C2 on as they arrive, checking only the version byte.
async fn relay_handshake<R, W>(
    client: &mut R,
    backend: &mut W,
    stats: &GateStats,
) -> Result<(), SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = [0u8; 4096];
    let mut done = 0;
    while done < HANDSHAKE_LEN {
        let want = (HANDSHAKE_LEN - done).min(buf.len());
        let n = client.read(&mut buf[..want]).await?;
        if n == 0 {
            return Err(SessionError::ClosedEarly);
        }
        if done == 0 && buf[0] != RTMP_VERSION {
            return Err(SessionError::Version(buf[0]));
        }
        forward(backend, &buf[..n], stats).await?;
        done += n;
    }
    Ok(())
}

async fn forward<W: AsyncWrite + Unpin>(
    backend: &mut W,
    bytes: &[u8],
    stats: &GateStats,
) -> io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    backend.write_all(bytes).await?;
    stats
        .bytes_in
        .fetch_add(bytes.len() as u64, Ordering::Relaxed);
    Ok(())
}

/// Copies the published stream to ffmpeg, counting it, until the encoder closes.
async fn copy_counting<R, W>(client: &mut R, backend: &mut W, stats: &GateStats) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = client.read(&mut buf).await?;
        if n == 0 {
            return backend.shutdown().await;
        }
        forward(backend, &buf[..n], stats).await?;
    }
}
