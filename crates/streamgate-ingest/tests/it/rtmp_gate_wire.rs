//! The RTMP gate byte for byte, with a plain TCP socket as the backend: what a refused
//! encoder's bytes reach (never the command that was refused), what a verified one's
//! reach (all of them), the publish deadline and the backend retry.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use streamgate_core::Secret;
use streamgate_ingest::rtmp_gate::{GateStats, GateTarget, RtmpGate};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const KEY: &str = "ev1-k3y-0123456789abcdef";
const DEADLINE: Duration = Duration::from_secs(30);
const HANDSHAKE: usize = 1 + 1536 + 1536;

struct Gate {
    addr: SocketAddr,
    stats: Arc<GateStats>,
    stop: CancellationToken,
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn gate(backend: SocketAddr) -> Gate {
    let gate = RtmpGate::bind((Ipv4Addr::LOCALHOST, 0).into())
        .await
        .expect("bind gate");
    let addr = gate.local_addr().expect("gate addr");
    let (_tx, target) = watch::channel(GateTarget {
        backend,
        key: Secret::new(KEY),
    });
    let stats = Arc::new(GateStats::default());
    let stop = CancellationToken::new();
    tokio::spawn(gate.run(target, Arc::clone(&stats), stop.clone()));
    Gate { addr, stats, stop }
}

/// A backend that accepts one connection and returns everything it received.
fn record(listener: TcpListener) -> JoinHandle<Vec<u8>> {
    tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.expect("backend accept");
        let mut got = Vec::new();
        let _ = conn.read_to_end(&mut got).await;
        got
    })
}

async fn backend() -> (SocketAddr, JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind backend");
    let addr = listener.local_addr().expect("backend addr");
    (addr, record(listener))
}

async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// Reads until the gate closes the connection.
async fn until_closed(client: &mut TcpStream) {
    let mut sink = Vec::new();
    let _ = within("gate to close", client.read_to_end(&mut sink)).await;
}

fn handshake() -> Vec<u8> {
    let mut out = vec![3u8];
    out.extend((0..2 * 1536).map(|i| i as u8));
    out
}

fn amf_string(out: &mut Vec<u8>, s: &str) {
    out.push(0x02);
    out.extend((s.len() as u16).to_be_bytes());
    out.extend(s.as_bytes());
}

/// One type-0 chunk on chunk stream 3 (bodies here stay under 128 bytes).
fn chunk(type_id: u8, stream_id: u32, body: &[u8]) -> Vec<u8> {
    assert!(body.len() <= 128);
    let mut out = vec![0x03, 0, 0, 0];
    out.extend(&(body.len() as u32).to_be_bytes()[1..]);
    out.push(type_id);
    out.extend(stream_id.to_le_bytes());
    out.extend(body);
    out
}

fn connect() -> Vec<u8> {
    let mut body = Vec::new();
    amf_string(&mut body, "connect");
    body.push(0x00);
    body.extend(1.0f64.to_be_bytes());
    body.extend([0x03, 0, 3]);
    body.extend(b"app");
    amf_string(&mut body, "live");
    body.extend([0, 0, 0x09]);
    chunk(20, 0, &body)
}

fn publish(name: &str) -> Vec<u8> {
    let mut body = Vec::new();
    amf_string(&mut body, "publish");
    body.push(0x00);
    body.extend(5.0f64.to_be_bytes());
    body.push(0x05);
    amf_string(&mut body, name);
    amf_string(&mut body, "live");
    chunk(20, 1, &body)
}

/// Sends `bytes` in one write and returns what the backend got once the gate closed.
async fn refused(bytes: &[u8]) -> (Vec<u8>, Arc<GateStats>) {
    let (addr, got) = backend().await;
    let gate = gate(addr).await;
    let mut client = TcpStream::connect(gate.addr).await.expect("connect gate");
    client.write_all(bytes).await.expect("write");
    until_closed(&mut client).await;
    let got = within("backend to see the close", got)
        .await
        .expect("backend");
    (got, Arc::clone(&gate.stats))
}

#[tokio::test]
async fn a_refused_command_never_reaches_the_backend() {
    let allowed = [handshake(), connect()].concat();
    let sent = [allowed.clone(), publish("wrong-key")].concat();
    let (got, stats) = refused(&sent).await;
    assert!(
        got.len() <= allowed.len(),
        "backend got {} bytes",
        got.len()
    );
    assert_eq!(got, sent[..got.len()]);
    assert_eq!(stats.refused_key(), 1);
}

#[tokio::test]
async fn media_before_publish_never_reaches_the_backend() {
    let allowed = [handshake(), connect()].concat();
    let sent = [allowed.clone(), chunk(9, 1, &[0x17, 0, 0, 0, 0])].concat();
    let (got, stats) = refused(&sent).await;
    assert!(got.len() <= allowed.len());
    assert_eq!(got, sent[..got.len()]);
    assert_eq!((stats.refused_key(), stats.refused_protocol()), (0, 1));
}

#[tokio::test]
async fn garbage_after_the_handshake_closes_both_sides() {
    let sent = [handshake(), vec![0xC3; 64]].concat();
    let (got, stats) = refused(&sent).await;
    assert!(got.len() <= HANDSHAKE);
    assert_eq!(got, sent[..got.len()]);
    assert_eq!(stats.refused_protocol(), 1);
}

#[tokio::test]
async fn a_verified_publish_and_everything_after_it_reach_the_backend() {
    let (addr, got) = backend().await;
    let gate = gate(addr).await;
    let mut client = TcpStream::connect(gate.addr).await.expect("connect gate");
    let media = chunk(9, 1, &[0x17, 0, 0, 0, 0]);
    let sent = [
        handshake(),
        connect(),
        publish(&format!("{KEY}?x=1")),
        media,
    ]
    .concat();
    client.write_all(&sent).await.expect("write");
    let stats = Arc::clone(&gate.stats);
    within("publish to be verified", async {
        while !stats.publishing() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    client.shutdown().await.expect("shutdown");
    let got = within("backend to see the end", got)
        .await
        .expect("backend");
    assert_eq!(got, sent);
    assert_eq!(gate.stats.bytes_in(), sent.len() as u64);
}

#[tokio::test]
async fn a_connection_that_never_publishes_is_closed() {
    let sent = handshake();
    let (got, stats) = refused(&sent).await;
    assert_eq!(got, sent);
    assert_eq!(stats.refused_protocol(), 1);
}

#[tokio::test]
async fn the_backend_is_retried_while_it_restarts() {
    let port = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let gate = gate(addr).await;
    let mut client = TcpStream::connect(gate.addr).await.expect("connect gate");
    let sent = handshake();
    client.write_all(&sent).await.expect("write");
    // ffmpeg "restarting": its listener comes up a moment after the encoder connected.
    // Part of what is tested (a backend that is not there yet), not an ordering wait.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = record(TcpListener::bind(addr).await.expect("bind backend late"));
    client.shutdown().await.expect("shutdown");
    let got = within("backend to get the handshake", got)
        .await
        .expect("backend");
    assert_eq!(got, sent);
}
