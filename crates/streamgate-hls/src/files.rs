//! Serving files from memory. A player fetches the same few playlists and segments as
//! every other viewer of an event, so reading them from disk and streaming them through
//! the blocking thread pool on every request wastes most of the time (measured: about a
//! tenth of nginx's rate on 250 KB segments). Files up to [`MAX_FILE_BYTES`] are read
//! once into reference-counted buffers and sent without copying; each request still
//! `stat`s the file, and a changed length or modification time (a live playlist being
//! rewritten, a re-encoded segment) reads it again. Larger files stream from disk.
//!
//! Responses carry `ETag` and `Last-Modified`, answer `If-None-Match` with 304, and
//! honour a single-range `Range` header with 206 (416 when unsatisfiable).

use std::fs::File;
use std::io::Read;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use poem::http::{HeaderValue, StatusCode, header};
use poem::web::headers::{HeaderMapExt, Range};
use poem::{Request, Response};

use crate::sendfile::{FileBody, SENDFILE_MIN_BYTES};

/// Largest file kept in memory.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// A file held in memory, with the validators of the version held.
#[derive(Debug)]
pub struct MemFile {
    /// The content.
    pub bytes: Bytes,
    modified: SystemTime,
    etag: HeaderValue,
    last_modified: Option<HeaderValue>,
}

/// What [`FileCache::get`] found.
#[derive(Debug)]
pub enum Loaded {
    /// In memory.
    Memory(Arc<MemFile>),
    /// Too large to hold: stream it from disk.
    TooLarge,
}

#[derive(Clone)]
struct ByLength;

impl quick_cache::Weighter<PathBuf, Arc<MemFile>> for ByLength {
    fn weight(&self, _: &PathBuf, value: &Arc<MemFile>) -> u64 {
        value.bytes.len() as u64 + 128
    }
}

/// Files in memory, bounded by total size.
pub struct FileCache {
    cache: quick_cache::sync::Cache<PathBuf, Arc<MemFile>, ByLength>,
}

impl std::fmt::Debug for FileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileCache")
            .field("files", &self.cache.len())
            .field("bytes", &self.cache.weight())
            .finish()
    }
}

impl FileCache {
    /// A cache holding up to `max_bytes` of file content.
    pub fn new(max_bytes: u64) -> Self {
        Self {
            cache: quick_cache::sync::Cache::with_weighter(4096, max_bytes, ByLength),
        }
    }

    /// The current content of `path` (a regular file the caller has already checked).
    pub fn get(&self, path: &Path) -> std::io::Result<Loaded> {
        let meta = std::fs::metadata(path)?;
        if let Some(file) = self.fresh(path, &meta) {
            return Ok(Loaded::Memory(file));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Ok(Loaded::TooLarge);
        }
        let bytes = Bytes::from(std::fs::read(path)?);
        Ok(Loaded::Memory(self.insert(path, bytes, &meta)))
    }

    /// Like [`Self::get`], and also the open file whose version the content is (its
    /// length and modification time were checked on this handle, and a miss is read
    /// from it), so that the content can be sent from the file ([`crate::sendfile`]).
    /// No file when the content read is not the length the handle's `stat` gave (the
    /// file was being written): that content is served from memory only.
    pub fn open(&self, path: &Path) -> std::io::Result<(Loaded, Option<File>)> {
        let mut handle = File::open(path)?;
        let meta = handle.metadata()?;
        if let Some(file) = self.fresh(path, &meta) {
            return Ok((Loaded::Memory(file), Some(handle)));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Ok((Loaded::TooLarge, None));
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        handle.read_to_end(&mut bytes)?;
        let whole = bytes.len() as u64 == meta.len();
        // Cached either way, as `get` does: a length that no longer matches the next
        // `stat` makes the next request read it again.
        let file = self.insert(path, Bytes::from(bytes), &meta);
        Ok((Loaded::Memory(file), whole.then_some(handle)))
    }

    /// The cached content of `path` if it is still the version `meta` describes.
    fn fresh(&self, path: &Path, meta: &std::fs::Metadata) -> Option<Arc<MemFile>> {
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        self.cache
            .get(path)
            .filter(|file| file.bytes.len() as u64 == meta.len() && file.modified == modified)
    }

    fn insert(&self, path: &Path, bytes: Bytes, meta: &std::fs::Metadata) -> Arc<MemFile> {
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        let since_epoch = modified
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let etag = HeaderValue::from_str(&format!(
            "\"{:x}-{:x}\"",
            bytes.len(),
            since_epoch.as_nanos()
        ))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
        let last_modified = HeaderValue::from_str(&httpdate::fmt_http_date(modified)).ok();
        let file = Arc::new(MemFile {
            bytes,
            modified,
            etag,
            last_modified,
        });
        self.cache.insert(path.to_owned(), file.clone());
        file
    }
}

/// A response with `bytes` as the body, honouring `Range` and `If-None-Match`.
/// `file` supplies the validators when the bytes came from a file; `open` is that file
/// when the bytes are its whole content, and then a body large enough to gain carries
/// a [`FileBody`] (sent with `sendfile`).
pub fn respond(
    req: &Request,
    bytes: Bytes,
    file: Option<&MemFile>,
    open: Option<Arc<File>>,
    content_type: &'static str,
) -> Response {
    if let Some(f) = file
        && let Some(inm) = req.headers().get(header::IF_NONE_MATCH)
        && inm
            .as_bytes()
            .split(|b| *b == b',')
            .any(|tag| tag.trim_ascii() == f.etag.as_bytes() || tag.trim_ascii() == b"*")
    {
        let mut resp = Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .finish();
        resp.headers_mut().insert(header::ETAG, f.etag.clone());
        return resp;
    }
    let len = bytes.len() as u64;
    let mut builder = Response::builder()
        .content_type(content_type)
        .header(header::ACCEPT_RANGES, "bytes");
    if let Some(f) = file {
        builder = builder.header(header::ETAG, f.etag.clone());
        if let Some(lm) = &f.last_modified {
            builder = builder.header(header::LAST_MODIFIED, lm.clone());
        }
    }
    let range = req
        .headers()
        .typed_get::<Range>()
        .map(|r| r.satisfiable_ranges(len).next());
    let hint = |resp: Response, end: u64, body_len: u64| {
        with_file_body(resp, open.clone(), &bytes, end, body_len)
    };
    match range {
        None => hint(
            builder
                .header(header::CONTENT_LENGTH, len)
                .body(bytes.clone()),
            len,
            len,
        ),
        Some(None) => Response::builder()
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .header(header::CONTENT_RANGE, format!("bytes */{len}"))
            .finish(),
        Some(Some((start, end))) => {
            let start = match start {
                Bound::Included(n) => n,
                Bound::Excluded(n) => n + 1,
                Bound::Unbounded => 0,
            };
            let end = match end {
                Bound::Included(n) => n + 1,
                Bound::Excluded(n) => n,
                Bound::Unbounded => len,
            }
            .min(len);
            if start >= end {
                return Response::builder()
                    .status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .header(header::CONTENT_RANGE, format!("bytes */{len}"))
                    .finish();
            }
            let resp = builder
                .status(StatusCode::PARTIAL_CONTENT)
                .header(
                    header::CONTENT_RANGE,
                    format!("bytes {start}-{}/{len}", end - 1),
                )
                .header(header::CONTENT_LENGTH, end - start)
                .body(bytes.slice(start as usize..end as usize));
            hint(resp, end, end - start)
        }
    }
}

/// Attaches a [`FileBody`] when the body (`body_len` bytes of `content`, ending at
/// `end`) comes from `open` and is large enough for `sendfile` to win.
fn with_file_body(
    mut resp: Response,
    open: Option<Arc<File>>,
    content: &Bytes,
    end: u64,
    body_len: u64,
) -> Response {
    if let Some(open) = open
        && body_len >= SENDFILE_MIN_BYTES as u64
    {
        resp.extensions_mut()
            .insert(FileBody::new(open, content.clone(), end as usize));
    }
    resp
}
