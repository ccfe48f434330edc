//! Segment bodies sent with `sendfile` (and from memory, and streamed from disk for a
//! file over the memory limit) are the file's bytes, byte for byte, over real keep-alive
//! connections: whole files, every Range form, 416, HEAD without a body, pipelined
//! requests, a file replaced in place, a 304, a cached segment evicted while it is being
//! sent, and a response still being sent when the server is told to stop.

use crate::common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use common::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Deterministic, non-repeating-looking content of `len` bytes.
fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u8
        })
        .collect()
}

/// One response read off a keep-alive connection.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A raw HTTP/1.1 client on one connection.
struct Conn {
    reader: BufReader<TcpStream>,
    addr: SocketAddr,
    token: String,
}

impl Conn {
    async fn open(addr: SocketAddr, token: &str) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect");
        Self {
            reader: BufReader::new(stream),
            addr,
            token: token.to_owned(),
        }
    }

    fn request(&self, method: &str, path: &str, extra: &str) -> String {
        format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n{extra}\r\n",
            self.addr, self.token
        )
    }

    async fn send(&mut self, method: &str, path: &str, extra: &str) {
        let request = self.request(method, path, extra);
        self.reader
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .expect("write");
    }

    /// Reads one response; a HEAD response has no body whatever its length says.
    async fn read(&mut self, head: bool) -> Reply {
        tokio::time::timeout(Duration::from_secs(30), self.read_inner(head))
            .await
            .expect("a whole response within 30 s")
    }

    async fn read_inner(&mut self, head: bool) -> Reply {
        let mut line = String::new();
        self.reader.read_line(&mut line).await.expect("status");
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {line:?}"));
        self.read_headers_and_body(status, head).await
    }

    /// The rest of a response whose status line has been read.
    async fn read_headers_and_body(&mut self, status: u16, head: bool) -> Reply {
        let mut line = String::new();
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line).await.expect("header");
            let text = line.trim_end();
            if text.is_empty() {
                break;
            }
            let (k, v) = text.split_once(':').expect("header line");
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
        let mut reply = Reply {
            status,
            headers,
            body: Vec::new(),
        };
        let len: usize = reply
            .header("content-length")
            .map(|v| v.parse().expect("length"))
            .unwrap_or(0);
        if !head {
            reply.body = vec![0; len];
            self.reader.read_exact(&mut reply.body).await.expect("body");
        }
        reply
    }

    async fn get(&mut self, path: &str, extra: &str) -> Reply {
        self.send("GET", path, extra).await;
        self.read(false).await
    }
}

fn stream_root(dir: &Path) -> std::path::PathBuf {
    let root = dir.join("streams");
    std::fs::create_dir_all(root.join("demo/360p")).expect("mkdir");
    root
}

#[tokio::test]
async fn segments_on_one_connection_are_the_files_bytes_in_every_range_form() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = stream_root(dir.path());
    let seg = content(300_000, 1);
    let big = content(2 * 1024 * 1024 + 17, 2);
    let small = content(1_000, 3);
    std::fs::write(root.join("demo/360p/seg.ts"), &seg).expect("write");
    std::fs::write(root.join("demo/360p/big.ts"), &big).expect("write");
    std::fs::write(root.join("demo/360p/small.ts"), &small).expect("write");
    let hls = hls(&local_section(&root), "", None).await;
    let mut conn = Conn::open(hls.addr, &sign(&claims("demo"))).await;

    for _ in 0..2 {
        // The first round reads the files into memory, the second is served from it.
        let r = conn.get("/streams/demo/360p/seg.ts", "").await;
        assert_eq!((r.status, r.body.len()), (200, seg.len()));
        assert!(r.body == seg, "whole segment differs");
        assert_eq!(r.header("accept-ranges"), Some("bytes"));
        let r = conn.get("/streams/demo/360p/big.ts", "").await;
        assert!(r.status == 200 && r.body == big, "2 MB segment differs");
        let r = conn.get("/streams/demo/360p/small.ts", "").await;
        assert!(r.status == 200 && r.body == small, "small segment differs");
    }

    let cases: [(&str, usize, usize); 5] = [
        ("bytes=100-199999", 100, 200_000),
        ("bytes=-5000", seg.len() - 5000, seg.len()),
        ("bytes=250000-", 250_000, seg.len()),
        ("bytes=0-0", 0, 1),
        ("bytes=299000-999999", 299_000, seg.len()),
    ];
    for (range, start, end) in cases {
        let r = conn
            .get("/streams/demo/360p/seg.ts", &format!("Range: {range}\r\n"))
            .await;
        assert_eq!(r.status, 206, "{range}");
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes {start}-{}/{}", end - 1, seg.len()).as_str()),
            "{range}"
        );
        assert!(r.body == seg[start..end], "{range}: body differs");
    }
    let r = conn
        .get("/streams/demo/360p/big.ts", "Range: bytes=1000000-\r\n")
        .await;
    assert!(
        r.status == 206 && r.body == big[1_000_000..],
        "open range of 2 MB"
    );

    let r = conn
        .get("/streams/demo/360p/seg.ts", "Range: bytes=400000-\r\n")
        .await;
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some("bytes */300000"));

    // HEAD: the length of the body, and no body (the next response parses).
    conn.send("HEAD", "/streams/demo/360p/seg.ts", "").await;
    let r = conn.read(true).await;
    assert_eq!(
        (r.status, r.header("content-length")),
        (200, Some("300000"))
    );
    conn.send(
        "HEAD",
        "/streams/demo/360p/seg.ts",
        "Range: bytes=10-19\r\n",
    )
    .await;
    let r = conn.read(true).await;
    assert_eq!((r.status, r.header("content-length")), (206, Some("10")));
    let r = conn.get("/streams/demo/360p/seg.ts", "").await;
    assert!(r.status == 200 && r.body == seg, "after HEAD");

    // Pipelined: three requests in one write, three answers in order.
    let mut batch = String::new();
    for (path, extra) in [
        ("/streams/demo/360p/big.ts", ""),
        ("/streams/demo/360p/seg.ts", "Range: bytes=-70000\r\n"),
        ("/streams/demo/360p/small.ts", ""),
    ] {
        batch.push_str(&conn.request("GET", path, extra));
    }
    conn.reader
        .get_mut()
        .write_all(batch.as_bytes())
        .await
        .expect("write");
    let r = conn.read(false).await;
    assert!(r.status == 200 && r.body == big, "pipelined 1");
    let r = conn.read(false).await;
    assert!(
        r.status == 206 && r.body == seg[seg.len() - 70_000..],
        "pipelined 2"
    );
    let r = conn.read(false).await;
    assert!(r.status == 200 && r.body == small, "pipelined 3");

    // Without a token, nothing: the gate runs before any body.
    let mut anon = Conn::open(hls.addr, "").await;
    anon.send("GET", "/streams/demo/360p/seg.ts", "").await;
    let r = anon.read(false).await;
    assert!(r.status == 401 || r.status == 403, "{}", r.status);
    assert!(r.body.len() < 1000);
    hls.stop().await;
}

#[tokio::test]
async fn a_file_over_the_memory_limit_streams_from_disk_whole_and_in_ranges() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = stream_root(dir.path());
    let len = streamgate_hls::files::MAX_FILE_BYTES as usize + 4096 + 5;
    let huge = content(len, 4);
    std::fs::write(root.join("demo/360p/huge.ts"), &huge).expect("write");
    let hls = hls(&local_section(&root), "", None).await;
    let mut conn = Conn::open(hls.addr, &sign(&claims("demo"))).await;
    let r = conn.get("/streams/demo/360p/huge.ts", "").await;
    assert!(r.status == 200 && r.body == huge, "whole file differs");
    let r = conn
        .get("/streams/demo/360p/huge.ts", "Range: bytes=-100000\r\n")
        .await;
    assert!(r.status == 206 && r.body == huge[len - 100_000..], "suffix");
    let r = conn
        .get("/streams/demo/360p/huge.ts", "Range: bytes=5-1048580\r\n")
        .await;
    assert!(r.status == 206 && r.body == huge[5..1_048_581], "start-end");
    hls.stop().await;
}

#[tokio::test]
async fn a_segment_rewritten_under_the_same_name_is_served_in_its_new_version() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = stream_root(dir.path());
    let path = root.join("demo/360p/seg.ts");
    let first = content(200_000, 5);
    std::fs::write(&path, &first).expect("write");
    let hls = hls(&local_section(&root), "", None).await;
    let mut conn = Conn::open(hls.addr, &sign(&claims("demo"))).await;
    let r = conn.get("/streams/demo/360p/seg.ts", "").await;
    assert!(r.body == first);
    // Same length, new content and time stamp (an encoder restart reusing names);
    // then shorter (in place, truncated).
    let second = content(200_000, 6);
    let modified = std::fs::metadata(&path)
        .expect("stat")
        .modified()
        .expect("mtime");
    std::fs::write(&path, &second).expect("write");
    let file = std::fs::File::options()
        .write(true)
        .open(&path)
        .expect("open");
    file.set_modified(modified + Duration::from_secs(2))
        .expect("touch");
    let r = conn.get("/streams/demo/360p/seg.ts", "").await;
    assert!(r.body == second, "same length, new content");
    let third = content(120_000, 7);
    std::fs::write(&path, &third).expect("write");
    file.set_modified(modified + Duration::from_secs(4))
        .expect("touch");
    let r = conn.get("/streams/demo/360p/seg.ts", "").await;
    assert!(r.body == third, "shorter");
    hls.stop().await;
}

#[tokio::test]
async fn a_segment_being_sent_when_the_server_stops_is_sent_whole() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = stream_root(dir.path());
    let big = content(24 * 1024 * 1024, 8);
    std::fs::write(root.join("demo/360p/big.ts"), &big).expect("write");
    let hls = hls(&local_section(&root), "", None).await;
    let addr = hls.addr;
    // A small receive buffer, and no reading until the server is draining: most of
    // the 24 MB cannot have left the server when it is told to stop.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(64 * 1024).expect("rcvbuf");
    let stream = socket.connect(addr).await.expect("connect");
    let mut conn = Conn {
        reader: BufReader::new(stream),
        addr,
        token: sign(&claims("demo")),
    };
    conn.send("GET", "/streams/demo/360p/big.ts", "").await;
    let mut first = [0u8; 12];
    conn.reader.read_exact(&mut first).await.expect("status");
    assert_eq!(&first, b"HTTP/1.1 200");
    let stopping = tokio::spawn(hls.stop_hls());
    let closed = eventually(Duration::from_secs(20), || async move {
        TcpStream::connect(addr).await.is_err()
    })
    .await;
    assert!(closed, "the server kept accepting after stop");
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), conn.reader.read_to_end(&mut rest))
        .await
        .expect("the connection closes after the response")
        .expect("read");
    let text = [&first[..], &rest[..]].concat();
    let split = text
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("head");
    assert!(text[split + 4..] == big, "the body in flight was cut");
    stopping.await.expect("joined").expect("stopped cleanly");
}

#[tokio::test]
async fn a_304_on_a_keep_alive_connection_has_no_body_and_the_next_segment_is_whole() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = stream_root(dir.path());
    let seg = content(300_000, 9);
    std::fs::write(root.join("demo/360p/seg.ts"), &seg).expect("write");
    let hls = hls(&local_section(&root), "", None).await;
    let mut conn = Conn::open(hls.addr, &sign(&claims("demo"))).await;
    let r = conn.get("/streams/demo/360p/seg.ts", "").await;
    assert!(r.status == 200 && r.body == seg);
    let etag = r.header("etag").expect("etag").to_owned();
    let r = conn
        .get(
            "/streams/demo/360p/seg.ts",
            &format!("If-None-Match: {etag}\r\n"),
        )
        .await;
    assert_eq!((r.status, r.body.len()), (304, 0));
    // Nothing of the body the 304 did not send is left on the connection.
    let r = conn.get("/streams/demo/360p/seg.ts", "").await;
    assert!(r.status == 200 && r.body == seg, "after the 304");
    hls.stop().await;
}

#[tokio::test]
async fn a_cached_segment_evicted_while_it_is_being_sent_is_sent_whole() {
    let origin_dir = tempfile::tempdir().expect("tmp");
    let cache_dir = tempfile::tempdir().expect("tmp");
    let folder = origin_dir.path().join("demo/360p");
    std::fs::create_dir_all(&folder).expect("mkdir");
    // Larger than what the socket buffers of both ends hold, so most of it is still in
    // the server when the file goes.
    let big = content(12_000_000, 10);
    std::fs::write(folder.join("big.ts"), &big).expect("write");
    for name in ["a.ts", "b.ts"] {
        std::fs::write(folder.join(name), content(6_000_000, 11)).expect("write");
    }
    let origin = Origin::start(origin_dir.path().to_path_buf(), Duration::ZERO).await;
    // 20 MB: the big segment and one other fit, the big one and both others do not.
    let section = proxy_section(
        &origin.base,
        cache_dir.path(),
        "segment_cache_max_size_gb = 0.02\n",
    );
    let hls = hls(&section, "", None).await;
    let token = sign(&claims("demo"));
    let cached = cache_dir.path().join("demo/360p/big.ts");
    let (status, body) = fetch(&hls.url("/streams/demo/360p/big.ts"), &token).await;
    assert!(status == 200 && body == big, "first fetch");
    assert!(cached.exists(), "the segment is in the disk cache");

    // Ask for it again from the cache, and read nothing but the status line while the
    // cache evicts it: the rest of the 12 MB is still to be sent.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(64 * 1024).expect("rcvbuf");
    let stream = socket.connect(hls.addr).await.expect("connect");
    let mut conn = Conn {
        reader: BufReader::new(stream),
        addr: hls.addr,
        token: token.clone(),
    };
    conn.send("GET", "/streams/demo/360p/big.ts", "").await;
    let mut first = [0u8; 12];
    conn.reader.read_exact(&mut first).await.expect("status");
    assert_eq!(&first, b"HTTP/1.1 200");
    for name in ["a.ts", "b.ts"] {
        let url = hls.url(&format!("/streams/demo/360p/{name}"));
        assert_eq!(fetch(&url, &token).await.0, 200, "{name}");
    }
    let evicted = eventually(Duration::from_secs(10), || {
        let cached = cached.clone();
        async move { !cached.exists() }
    })
    .await;
    assert!(evicted, "the big segment left the disk cache");
    let mut rest_of_line = String::new();
    conn.reader
        .read_line(&mut rest_of_line)
        .await
        .expect("status line");
    let r = tokio::time::timeout(
        Duration::from_secs(30),
        conn.read_headers_and_body(200, false),
    )
    .await
    .expect("the rest of the response within 30 s");
    assert!(
        r.body == big,
        "the body being sent when its file was evicted"
    );
    assert_eq!(origin.hits("demo/360p/big.ts"), 1, "served from the cache");
    hls.stop().await;
    origin.stop().await;
}
