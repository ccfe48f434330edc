//! Segment bodies sent with `sendfile(2)` instead of being copied from memory into the
//! socket. Measured before (issue 22): about 40% of the server's CPU time on 250 KB
//! segments was the kernel copying user-space buffers into socket buffers
//! (`_copy_from_iter`), while nginx hands the page cache to the socket.
//!
//! How, without taking the connection away from hyper: the segment's response body is
//! still the file's content held in memory ([`crate::files::FileCache`]), and the
//! response carries a [`FileBody`] extension naming the open file those bytes were read
//! from (checked to be the same version: same length and modification time). The
//! accept loop ([`crate::server`]) moves that extension into the connection's
//! [`Hints`] and gives hyper a [`SendfileStream`] instead of the bare TCP stream. hyper
//! writes queued buffers with vectored writes that point into the body's own memory;
//! when a buffer lies inside the memory of a registered [`FileBody`], the stream sends
//! the same byte range from the file with `sendfile` (the response head before it goes
//! with `MSG_MORE`, so head and body leave together). Everything else (heads, small
//! bodies, playlists, HTTP/2) is written as before.
//!
//! Why this is safe whatever hyper does with the buffers: the registered content is
//! kept alive by the hint, so no other allocation can sit at those addresses, and a
//! buffer the stream does not recognise is simply written from memory. If `sendfile`
//! cannot send (the file was truncated since it was opened, an unusual file system),
//! the hint is dropped and the rest of the body is written from memory, which is the
//! authoritative copy: the bytes on the wire are the bytes of the version that was
//! checked, or (a file rewritten in place with the same length and time stamp between
//! the check and the send) what nginx would send in the same race.
//!
//! Keep-alive, Range (a 206 body is a slice of the content: the file offset is the
//! slice's offset), HEAD (no body, no hint) and graceful shutdown are hyper's as before.
//! HTTP/2 copies bodies into its frames, so its writes are never recognised and go
//! from memory.
//!
//! Costs, measured on loopback with `scripts/bench-hls.sh` (CPU time per request): for
//! 2 MB bodies at 256-1024 connections about half of the copy path; at 16-64
//! connections, where the copied buffer stays in the CPU caches, about a third more
//! (nginx, which always uses sendfile, shows the same pattern); for 250 KB about the
//! same. `sendfile` reads the page cache: a page evicted since the content was read
//! is read from disk in the call, on the runtime's thread (as with nginx without aio).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Bodies smaller than this are written from memory: for a playlist, one copy costs
/// less than the extra system calls of `sendfile`.
pub const SENDFILE_MIN_BYTES: usize = 32 * 1024;

/// How many bodies a connection remembers at once. HTTP/1.1 writes one response at a
/// time, so one is in use; a few more cover pipelined requests. An older hint pushed
/// out only means its body is written from memory.
const HINTS_PER_CONNECTION: usize = 4;

/// Response extension: the body is a slice of `content`, which is the content of
/// `file`, so any part of it can be sent from the file at the same offset.
#[derive(Clone)]
pub struct FileBody {
    file: Arc<File>,
    content: Bytes,
    /// Where the body ends in `content` (a Range response may end before its end).
    end: usize,
}

impl std::fmt::Debug for FileBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileBody")
            .field("len", &self.content.len())
            .finish()
    }
}

impl FileBody {
    /// `content` must be the whole content of `file` as it was read (the caller checked
    /// length and modification time on this very handle); the body ends at `end`.
    pub fn new(file: Arc<File>, content: Bytes, end: usize) -> Self {
        let end = end.min(content.len());
        Self { file, content, end }
    }

    /// The file offset of `buf` if it lies wholly inside the content's memory.
    fn offset_of(&self, buf: &[u8]) -> Option<u64> {
        let start = self.content.as_ptr() as usize;
        let end = start + self.content.len();
        let at = buf.as_ptr() as usize;
        (!buf.is_empty() && at >= start && at + buf.len() <= end).then(|| (at - start) as u64)
    }

    /// Whether the first `sent` bytes of `buf` reach the end of the body.
    fn ends_at(&self, buf: &[u8], sent: usize) -> bool {
        buf.as_ptr() as usize + sent >= self.content.as_ptr() as usize + self.end
    }
}

/// The bodies of one connection that may be sent from files.
#[derive(Debug, Clone, Default)]
pub struct Hints(Arc<Mutex<VecDeque<FileBody>>>);

impl Hints {
    /// Remembers `body` for the response about to be written.
    pub fn push(&self, body: FileBody) {
        let mut hints = self.lock();
        if hints.len() == HINTS_PER_CONNECTION {
            hints.pop_front();
        }
        hints.push_back(body);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<FileBody>> {
        // A panic while holding the lock cannot leave the list inconsistent.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The position of the first buffer that can go from a file, with that file and
    /// offset.
    fn find(&self, bufs: &[IoSlice<'_>]) -> Option<(usize, usize, Arc<File>, u64)> {
        let hints = self.lock();
        if hints.is_empty() {
            return None;
        }
        bufs.iter().enumerate().find_map(|(i, buf)| {
            hints.iter().enumerate().find_map(|(h, hint)| {
                hint.offset_of(buf)
                    .map(|offset| (i, h, hint.file.clone(), offset))
            })
        })
    }

    /// Forgets hint `h` once its body has been sent to the end, or when it failed.
    fn settle(&self, h: usize, buf: &[u8], sent: Option<usize>) {
        let mut hints = self.lock();
        let done = match (sent, hints.get(h)) {
            (Some(n), Some(hint)) => hint.ends_at(buf, n),
            (None, Some(_)) => true,
            (_, None) => false,
        };
        if done {
            hints.remove(h);
        }
    }
}

/// The TCP stream hyper serves a connection on: reads pass through, writes of
/// registered bodies go with `sendfile`.
#[derive(Debug)]
pub struct SendfileStream {
    inner: TcpStream,
    hints: Hints,
}

impl SendfileStream {
    /// Wraps `inner`; bodies pushed to `hints` are sent from their files.
    pub fn new(inner: TcpStream, hints: Hints) -> Self {
        Self { inner, hints }
    }

    /// One non-blocking system call on the socket, waiting for writability.
    fn poll_syscall(
        &self,
        cx: &mut Context<'_>,
        mut call: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.inner.poll_write_ready(cx))?;
            match self.inner.try_io(tokio::io::Interest::WRITABLE, &mut call) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                other => return Poll::Ready(other),
            }
        }
    }
}

impl AsyncRead for SendfileStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for SendfileStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let Some((i, h, file, offset)) = self.hints.find(bufs) else {
            return Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        };
        let head = &bufs[..i];
        if head.iter().any(|b| !b.is_empty()) {
            // The response head (or the end of an earlier body): sent now, held back
            // by the kernel until the file's bytes follow.
            return self.poll_syscall(cx, || sys::send_more(&self.inner, head));
        }
        let buf = &bufs[i];
        match self.poll_syscall(cx, || sys::send_file(&self.inner, &file, offset, buf.len())) {
            Poll::Ready(Ok(n)) if n > 0 => {
                self.hints.settle(h, buf, Some(n));
                Poll::Ready(Ok(n))
            }
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => {
                // Nothing sent: the file shrank, or sendfile does not work here. The
                // memory copy is authoritative; a socket error shows up again below.
                if let Err(e) = result {
                    tracing::debug!("sendfile failed, writing from memory: {e}");
                }
                self.hints.settle(h, buf, None);
                Pin::new(&mut self.inner).poll_write_vectored(cx, &bufs[i..])
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        // hyper queues body buffers (instead of copying them into its own buffer) only
        // for streams that take vectored writes: the body must reach us in its memory.
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(target_os = "linux")]
mod sys {
    use std::fs::File;
    use std::io::{self, IoSlice};
    use std::os::fd::AsRawFd;

    use tokio::net::TcpStream;

    /// Largest count asked of one call (the kernel sends at most about 2 GiB anyway).
    const MAX_CHUNK: usize = 1 << 30;
    /// Buffers passed to one `sendmsg` (well under every kernel's `IOV_MAX`).
    const MAX_IOV: usize = 64;

    /// `len` bytes of `file` from `offset` into the socket; how many went.
    pub fn send_file(sock: &TcpStream, file: &File, offset: u64, len: usize) -> io::Result<usize> {
        let mut off = libc::off_t::try_from(offset).map_err(|_| io::ErrorKind::InvalidInput)?;
        // SAFETY: both descriptors are open for the duration of the call (borrowed from
        // live owners), `off` is a valid, exclusively borrowed off_t, and sendfile
        // neither keeps the pointer nor touches user memory otherwise.
        let n = unsafe {
            libc::sendfile(
                sock.as_raw_fd(),
                file.as_raw_fd(),
                &mut off,
                len.min(MAX_CHUNK),
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    /// Writes `bufs` with `MSG_MORE` (more data follows at once: do not send a short
    /// segment for them alone).
    pub fn send_more(sock: &TcpStream, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let bufs = &bufs[..bufs.len().min(MAX_IOV)];
        // SAFETY: msghdr is plain data for which all-zero is a valid empty value.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        // IoSlice is documented to be ABI-compatible with iovec on Unix; sendmsg only
        // reads through the pointer despite its `*mut` type.
        msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
        msg.msg_iovlen = bufs.len() as _;
        // SAFETY: the socket is open (borrowed), msg points at `bufs.len()` valid iovecs
        // that outlive the call, and no control data is passed.
        let n =
            unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_MORE | libc::MSG_NOSIGNAL) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    //! Elsewhere nothing is sent from files: every call answers "unsupported", and
    //! the stream writes from memory.
    use std::fs::File;
    use std::io::{self, IoSlice};

    use tokio::net::TcpStream;

    pub fn send_file(_: &TcpStream, _: &File, _: u64, _: usize) -> io::Result<usize> {
        Err(io::ErrorKind::Unsupported.into())
    }

    pub fn send_more(sock: &TcpStream, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        sock.try_write_vectored(bufs)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Writes `head` then `body` through a [`SendfileStream`] the way hyper does
    /// (vectored writes, advancing by what was written) with `hint` registered, and
    /// returns what the peer received.
    async fn send(hint: Option<FileBody>, head: &[u8], body: &[u8]) -> Vec<u8> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
        let mut client = client.expect("connect");
        let hints = Hints::default();
        if let Some(hint) = hint {
            hints.push(hint);
        }
        let mut stream = SendfileStream::new(accepted.expect("accept").0, hints);
        let writer = async move {
            let (mut head, mut body) = (head, body);
            while !head.is_empty() || !body.is_empty() {
                let bufs = [IoSlice::new(head), IoSlice::new(body)];
                let n = stream.write_vectored(&bufs).await.expect("write");
                assert!(n > 0, "wrote nothing");
                let from_head = n.min(head.len());
                head = &head[from_head..];
                body = &body[n - from_head..];
            }
            stream.shutdown().await.expect("shutdown");
        };
        let mut received = Vec::new();
        let reader = client.read_to_end(&mut received);
        let ((), read) = tokio::join!(writer, reader);
        read.expect("read");
        received
    }

    fn file_with(bytes: &[u8]) -> (tempfile::NamedTempFile, Arc<File>) {
        let mut tmp = tempfile::NamedTempFile::new().expect("tmp");
        tmp.write_all(bytes).expect("write");
        let file = Arc::new(File::open(tmp.path()).expect("open"));
        (tmp, file)
    }

    #[tokio::test]
    async fn a_registered_body_goes_from_the_file_and_the_rest_from_memory() {
        // Memory and file differ on purpose, to see which one was sent.
        let memory = Bytes::from(vec![b'm'; 600_000]);
        let (_tmp, file) = file_with(&[b'f'; 600_000]);
        let head = b"HTTP/1.1 206 Partial Content\r\n\r\n";
        let body = memory.slice(1000..500_000);
        let hint = FileBody::new(file, memory.clone(), 500_000);
        let got = send(Some(hint), head, &body).await;
        assert_eq!(&got[..head.len()], head);
        assert_eq!(got.len(), head.len() + body.len());
        assert!(got[head.len()..].iter().all(|b| *b == b'f'));
        let other = Bytes::from(vec![b'o'; 100_000]);
        let (_tmp2, file2) = file_with(&[b'f'; 100_000]);
        let hint = FileBody::new(file2, memory.clone(), memory.len());
        let got = send(Some(hint), head, &other).await;
        assert!(
            got[head.len()..] == other[..],
            "an unregistered body is written as is"
        );
    }

    #[tokio::test]
    async fn a_file_truncated_after_the_check_is_finished_from_memory() {
        let memory = Bytes::from((0..400_000u32).map(|i| i as u8).collect::<Vec<_>>());
        let (tmp, file) = file_with(&memory);
        std::fs::File::options()
            .write(true)
            .open(tmp.path())
            .expect("open")
            .set_len(100)
            .expect("truncate");
        let hint = FileBody::new(file, memory.clone(), memory.len());
        let got = send(Some(hint), b"", &memory).await;
        assert!(got == memory[..], "the body differs");
    }
}
