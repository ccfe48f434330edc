//! The HLS server's accept loop: hyper driven directly, with the poem application as
//! the service. `poem::Server` boxes every connection in a type that does not offer
//! vectored writes, so hyper copies each response body into its own buffer before
//! writing it; for a media server that is a copy of every segment on every request
//! (measured at 29% of the CPU time when serving 250 KB segments). Here hyper gets the
//! TCP stream itself and writes the (shared, in-memory) body straight from its buffer.
//! The stream is a [`SendfileStream`]: large segment bodies that came from files
//! (marked with a [`FileBody`] extension by the stream route) go from the page cache
//! with `sendfile` rather than being copied from memory into the socket.
//!
//! Threads: connections are served by one accept loop per core, each on a thread with
//! a single-threaded runtime of its own, all accepting from the same listening socket
//! (nginx's workers do the same). With one multi-threaded runtime, requests per second
//! fell by a third from 64 to 1,024 connections while nginx stayed flat: profiles showed
//! the extra time in user space (allocator, moves of request futures), with per-request
//! state gone cold as connections' tasks moved between cores. On a thread of its own, a
//! connection's task, buffers and allocations stay on one core. Background work (sync,
//! cache sweeps, the platform in `up`) stays on the caller's runtime.
//!
//! Shutdown: stop accepting, let in-flight connections finish their current request
//! (up to the drain timeout), then close what is left.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use poem::http::uri::Scheme;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint, Request, Response};
use tokio::net::TcpListener;

use crate::sendfile::{FileBody, Hints, SendfileStream};

/// The body type poem converts its responses into.
type Body = http_body_util::combinators::BoxBody<bytes::Bytes, std::io::Error>;

/// Serves `ep` on `listener` until `shutdown` resolves, then drains for up to `drain`.
/// One accept loop per core the process may use (cgroup CPU limits included), each on
/// a thread with a runtime of its own (see the module comment).
///
/// Dropping the future before it finishes (a runtime shut down, a task aborted) closes
/// every connection at once, as it does with one runtime: the threads' runtimes drop
/// their connections rather than draining them.
pub async fn serve<E>(
    listener: TcpListener,
    ep: E,
    shutdown: impl Future<Output = ()>,
    drain: Duration,
) -> std::io::Result<()>
where
    E: Endpoint<Output = Response> + 'static,
{
    let ep = Arc::new(ep);
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    // Every thread accepts on its own descriptor of the one listening socket: whichever
    // is free takes the next connection, and the connection stays on that thread.
    let listener = listener.into_std()?;
    // `true`: stop accepting and drain. Dropped: stop now.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (ended, mut ends) = tokio::sync::mpsc::channel(workers);
    for i in 0..workers {
        let listener = listener.try_clone()?;
        let worker = Worker {
            ep: ep.clone(),
            stopped: stopped.clone(),
            drain,
        };
        let ended = ended.clone();
        std::thread::Builder::new()
            .name(format!("hls-serve-{i}"))
            .spawn(move || {
                // Sent when the thread ends, by a panic too (the guard is dropped).
                let mut report = EndReport(Some(ended), None);
                report.1 = Some(worker.run(listener));
            })?;
    }
    drop((listener, ended, stopped));
    tokio::pin!(shutdown);
    let mut result = tokio::select! {
        () = &mut shutdown => Ok(()),
        // A thread that ends before the shutdown could not serve (it says why).
        first = ends.recv() => first.unwrap_or(Ok(())),
    };
    let _ = stop.send(true);
    while let Some(end) = ends.recv().await {
        if let Err(e) = end {
            result = result.and(Err(e));
        }
    }
    result
}

/// What one serving thread needs.
struct Worker<E> {
    ep: Arc<E>,
    stopped: tokio::sync::watch::Receiver<bool>,
    drain: Duration,
}

impl<E> Worker<E>
where
    E: Endpoint<Output = Response> + 'static,
{
    /// Runs an accept loop on a runtime of this thread's own until told to stop.
    fn run(self, listener: std::net::TcpListener) -> std::io::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let listener = TcpListener::from_std(listener)?;
            let mut on_stop = self.stopped.clone();
            let mut on_drop = self.stopped;
            let stopping = async move {
                // Ok when told to stop, Err when the sender is gone: stop either way.
                let _ = on_stop.wait_for(|stop| *stop).await;
            };
            tokio::select! {
                served = accept_loop(listener, self.ep, stopping, self.drain) => served,
                // Resolves only when the sender is dropped: no drain then.
                _ = on_drop.wait_for(|_| false) => Ok(()),
            }
        })
        // The runtime is dropped here, and with it every connection still open.
    }
}

/// Sends a serving thread's outcome when dropped, so a thread that panics is reported
/// (as an error) rather than waited for forever.
struct EndReport(
    Option<tokio::sync::mpsc::Sender<std::io::Result<()>>>,
    Option<std::io::Result<()>>,
);

impl Drop for EndReport {
    fn drop(&mut self) {
        if let Some(ended) = self.0.take() {
            let outcome = self
                .1
                .take()
                .unwrap_or_else(|| Err(std::io::Error::other("an HLS serving thread panicked")));
            let _ = ended.try_send(outcome);
        }
    }
}

/// One accept loop: serves connections from `listener` on the current runtime until
/// `shutdown` resolves, then drains them for up to `drain`.
async fn accept_loop<E>(
    listener: TcpListener,
    ep: Arc<E>,
    shutdown: impl Future<Output = ()>,
    drain: Duration,
) -> std::io::Result<()>
where
    E: Endpoint<Output = Response> + 'static,
{
    let local = listener.local_addr()?;
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment, keep serving.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let hints = Hints::default();
        let service = service(ep.clone(), local, peer, hints.clone());
        let stream = SendfileStream::new(stream, hints);
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection from {peer} ended: {e}");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still busy after {drain:?}; closing them");
    }
    Ok(())
}

fn service<E>(
    ep: Arc<E>,
    local: SocketAddr,
    peer: SocketAddr,
    hints: Hints,
) -> impl hyper::service::Service<
    hyper::Request<Incoming>,
    Response = hyper::Response<Body>,
    Error = Infallible,
    Future = impl Future<Output = Result<hyper::Response<Body>, Infallible>> + Send,
> + Clone
where
    E: Endpoint<Output = Response> + 'static,
{
    hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let ep = ep.clone();
        let hints = hints.clone();
        async move {
            let head = req.method() == hyper::Method::HEAD;
            let req: Request = (
                req,
                LocalAddr(Addr::SocketAddr(local)),
                RemoteAddr(Addr::SocketAddr(peer)),
                Scheme::HTTP,
            )
                .into();
            let mut resp = ep.get_response(req).await;
            if let Some(body) = resp.extensions_mut().remove::<FileBody>()
                && !head
            {
                hints.push(body);
            }
            Ok(resp.into())
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use poem::{EndpointExt, Route, get, handler};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::sync::{Notify, oneshot};

    use super::*;

    /// Answers with the name of the thread that served the request.
    #[handler]
    fn thread() -> String {
        std::thread::current().name().unwrap_or("").to_owned()
    }

    /// Tells `started` it runs, then answers after 300 ms.
    #[handler]
    async fn slow(started: poem::web::Data<&Arc<Notify>>) -> &'static str {
        started.notify_one();
        tokio::time::sleep(Duration::from_millis(300)).await;
        "done"
    }

    struct Served {
        addr: SocketAddr,
        started: Arc<Notify>,
        stop: Option<oneshot::Sender<()>>,
        task: tokio::task::JoinHandle<std::io::Result<()>>,
    }

    async fn start() -> Served {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let started = Arc::new(Notify::new());
        let app = Route::new()
            .at("/thread", get(thread))
            .at("/slow", get(slow))
            .data(started.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let until = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(serve(listener, app, until, Duration::from_secs(10)));
        Served {
            addr,
            started,
            stop: Some(stop),
            task,
        }
    }

    /// One keep-alive request on `conn`; the whole response as text.
    async fn get_on(conn: &mut TcpStream, path: &str) -> String {
        conn.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
            .await
            .expect("send");
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = conn.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed before the response ended: {got:?}");
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .expect("content-length");
                if body.len() >= len {
                    return text;
                }
            }
        }
    }

    #[tokio::test]
    async fn requests_run_on_the_serving_threads_and_a_stop_drains_them() {
        let mut served = start().await;
        let mut conn = TcpStream::connect(served.addr).await.expect("connect");
        let answer = get_on(&mut conn, "/thread").await;
        assert!(answer.contains("\r\n\r\nhls-serve-"), "{answer}");
        // A request in flight when the stop comes is answered in full.
        let mut busy = TcpStream::connect(served.addr).await.expect("connect");
        let request = tokio::spawn(async move { get_on(&mut busy, "/slow").await });
        served.started.notified().await;
        let _ = served.stop.take().map(|s| s.send(()));
        let answer = request.await.expect("request task");
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.ends_with("done"),
            "{answer}"
        );
        served.task.await.expect("join").expect("serve");
        // Stopped: the idle connection is closed and nothing is accepted any more.
        let mut rest = Vec::new();
        let _ = conn.read_to_end(&mut rest).await;
        assert!(
            TcpStream::connect(served.addr).await.is_err(),
            "still accepting"
        );
    }

    #[tokio::test]
    async fn dropping_the_server_closes_its_connections_at_once() {
        let served = start().await;
        let mut idle = TcpStream::connect(served.addr).await.expect("connect");
        get_on(&mut idle, "/thread").await;
        let mut busy = TcpStream::connect(served.addr).await.expect("connect");
        busy.write_all(b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .expect("send");
        served.started.notified().await;
        served.task.abort();
        // Neither the idle connection nor the one mid-request is kept open or drained:
        // both end (without the slow answer) well before the 10 s drain would.
        for conn in [&mut idle, &mut busy] {
            let mut rest = Vec::new();
            let read = tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut rest))
                .await
                .expect("the connection was left open");
            assert!(read.is_err() || !String::from_utf8_lossy(&rest).contains("done"));
        }
        let refused = streamgate_testkit::eventually(Duration::from_secs(5), || async {
            TcpStream::connect(served.addr).await.is_err()
        })
        .await;
        assert!(refused, "the listener outlived the server");
    }
}
