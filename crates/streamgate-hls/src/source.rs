//! Where content comes from: local files under `STREAM_ROOT`, an upstream origin
//! through the segment cache, or both (hybrid: local, then cache, then upstream).
//!
//! Local lookups join a parsed [`StreamPath`] under the root and then check the
//! canonical path, so a symlink that leads out of the root (or into the segment cache,
//! which may live inside the root) is a 404 and nothing outside is read.
//!
//! Upstream fetches are single-flight: concurrent misses for one file share one
//! request, whose complete body goes to every waiter and, for segments and finished
//! playlists, into the cache. Live playlists are fetched every time and never cached.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::OnceCell;
use url::Url;

use crate::cache::SegmentCache;
use crate::path::StreamPath;
use crate::playlist;

/// Largest upstream body accepted (a segment is a few MB; this bounds memory).
pub const MAX_UPSTREAM_BYTES: usize = 256 * 1024 * 1024;

/// How content was found.
#[derive(Debug, Clone)]
pub enum Content {
    /// A file on disk (local or cached).
    File(PathBuf),
    /// Bytes in memory (a live playlist, or a download the cache could not keep).
    Bytes(Bytes),
}

/// Why content could not be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// Not here and not upstream (404).
    #[error("not found")]
    NotFound,
    /// The upstream failed, timed out or answered an error (502).
    #[error("upstream: {0}")]
    Upstream(String),
}

/// The server's content mode, as `/health` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `STREAM_ROOT` only.
    Local,
    /// `UPSTREAM_ORIGIN` only.
    Proxy,
    /// Both.
    Hybrid,
}

impl Mode {
    /// The name `/health` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Local => "local",
            Mode::Proxy => "proxy",
            Mode::Hybrid => "hybrid",
        }
    }
}

/// An event's own upstream (`[[events]] stream_url`).
#[derive(Debug, Clone)]
struct EventUpstream {
    /// Directory URL the event's paths are resolved against.
    base: Url,
    /// The file `stream_url` named, served for `index.m3u8` when it is not one.
    master: Option<Url>,
}

type Flight = Arc<OnceCell<Result<Content, SourceError>>>;

/// Finds content for stream paths.
#[derive(Debug)]
pub struct Source {
    local: Option<PathBuf>,
    upstream: Option<Url>,
    events: HashMap<String, EventUpstream>,
    cache: Option<Arc<SegmentCache>>,
    client: reqwest::Client,
    flights: Mutex<HashMap<String, Flight>>,
    resolved: quick_cache::sync::Cache<PathBuf, (std::time::Instant, Option<PathBuf>)>,
}

/// How long a resolved local path is trusted before it is resolved again (a file
/// appearing, vanishing or a symlink changing is seen within this time).
pub const RESOLVE_TTL: Duration = Duration::from_secs(1);

/// What [`Source::new`] needs.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// `STREAM_ROOT`.
    pub local: Option<PathBuf>,
    /// `UPSTREAM_ORIGIN`.
    pub upstream: Option<Url>,
    /// `(event id, stream_url)` of events that name their own upstream.
    pub event_urls: Vec<(String, Url)>,
    /// Upstream request timeout.
    pub timeout: Duration,
}

impl Source {
    /// A source over these roots; `cache` is used for upstream content.
    pub fn new(options: SourceOptions, cache: Option<Arc<SegmentCache>>) -> std::io::Result<Self> {
        let local = match options.local {
            Some(root) => Some(root.canonicalize().map_err(|e| {
                std::io::Error::new(e.kind(), format!("STREAM_ROOT {}: {e}", root.display()))
            })?),
            None => None,
        };
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5).min(options.timeout))
            .timeout(options.timeout)
            .build()
            .map_err(std::io::Error::other)?;
        let events = options
            .event_urls
            .into_iter()
            .map(|(id, url)| (id, event_upstream(url)))
            .collect();
        Ok(Self {
            local,
            upstream: options.upstream.map(dir_url),
            events,
            cache,
            client,
            flights: Mutex::new(HashMap::new()),
            resolved: quick_cache::sync::Cache::new(10_000),
        })
    }

    /// The content mode.
    pub fn mode(&self) -> Mode {
        match (&self.local, &self.upstream) {
            (Some(_), None) => Mode::Local,
            (None, _) => Mode::Proxy,
            (Some(_), Some(_)) => Mode::Hybrid,
        }
    }

    /// The segment cache, when this source proxies.
    pub fn cache(&self) -> Option<&Arc<SegmentCache>> {
        self.cache.as_ref()
    }

    /// Finds `path`: local file, then cache, then upstream.
    pub async fn get(&self, path: &StreamPath) -> Result<Content, SourceError> {
        if let Some(root) = &self.local
            && let Some(file) = self.local_file(root, path)
        {
            return Ok(Content::File(file));
        }
        let Some(url) = self.upstream_url(path) else {
            return Err(SourceError::NotFound);
        };
        let is_playlist = path.kind().is_some_and(|k| k.is_playlist());
        if let Some(cache) = &self.cache
            && let Some(file) = cache.lookup(path)
        {
            return Ok(Content::File(file));
        }
        let key = format!("{}/{}", path.event_id(), path.relative());
        let flight: Flight = {
            let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            flights.entry(key.clone()).or_default().clone()
        };
        let result = flight
            .get_or_init(|| self.fetch(path, url, is_playlist))
            .await
            .clone();
        {
            let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            if flights.get(&key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
                flights.remove(&key);
            }
        }
        result
    }

    /// One upstream download (the leader of a flight), stored in the cache when it is
    /// a segment or a finished playlist.
    async fn fetch(
        &self,
        path: &StreamPath,
        url: Url,
        is_playlist: bool,
    ) -> Result<Content, SourceError> {
        // A flight that started after another one finished finds its result on disk.
        if let Some(cache) = &self.cache
            && let Some(file) = cache.lookup(path)
        {
            return Ok(Content::File(file));
        }
        let bytes = self.download(url).await?;
        let cacheable =
            !is_playlist || std::str::from_utf8(&bytes).is_ok_and(playlist::is_complete);
        if cacheable && let Some(cache) = &self.cache {
            let cache = cache.clone();
            let owned = path.clone();
            let data = bytes.clone();
            let stored = tokio::task::spawn_blocking(move || cache.store(&owned, &data))
                .await
                .ok()
                .flatten();
            if let Some(file) = stored {
                return Ok(Content::File(file));
            }
        }
        Ok(Content::Bytes(bytes))
    }

    /// GETs `url` whole: 404/410 upstream is our 404, anything else that is not a
    /// success (or a body over [`MAX_UPSTREAM_BYTES`]) is a 502.
    async fn download(&self, url: Url) -> Result<Bytes, SourceError> {
        let shown = redact_url(&url);
        let mut resp = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| SourceError::Upstream(format!("{shown}: {}", error_chain(&e))))?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
            return Err(SourceError::NotFound);
        }
        if !status.is_success() {
            return Err(SourceError::Upstream(format!("{shown} answered {status}")));
        }
        let mut body = Vec::with_capacity(
            resp.content_length()
                .map_or(64 * 1024, |n| n.min(MAX_UPSTREAM_BYTES as u64) as usize),
        );
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| SourceError::Upstream(format!("{shown}: {}", error_chain(&e))))?
        {
            if body.len() + chunk.len() > MAX_UPSTREAM_BYTES {
                return Err(SourceError::Upstream(format!(
                    "{shown}: body larger than {MAX_UPSTREAM_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(body))
    }

    /// The canonical local file for `path`, if it exists inside the root (and outside
    /// the segment cache). Answers are reused for [`RESOLVE_TTL`]: resolving a path is
    /// a `readlink` per component, the largest cost of a request after the network.
    fn local_file(&self, root: &Path, path: &StreamPath) -> Option<PathBuf> {
        let candidate = path.under(root);
        if let Some((at, resolved)) = self.resolved.get(&candidate)
            && at.elapsed() < RESOLVE_TTL
        {
            return resolved;
        }
        let resolved = self.resolve(root, path, &candidate);
        self.resolved
            .insert(candidate, (std::time::Instant::now(), resolved.clone()));
        resolved
    }

    fn resolve(&self, root: &Path, path: &StreamPath, candidate: &Path) -> Option<PathBuf> {
        let canonical = candidate.canonicalize().ok()?;
        if !canonical.starts_with(root) {
            tracing::warn!("refused {path}: it resolves outside STREAM_ROOT");
            return None;
        }
        if let Some(cache) = &self.cache
            && canonical.starts_with(cache.root())
        {
            return None;
        }
        canonical.is_file().then_some(canonical)
    }

    /// The upstream URL of `path`, when this event has an upstream.
    pub fn upstream_url(&self, path: &StreamPath) -> Option<Url> {
        if let Some(event) = self.events.get(path.event_id()) {
            if let Some(master) = &event.master
                && path.relative() == "index.m3u8"
            {
                return Some(master.clone());
            }
            return event.base.join(&encode_relative(path)).ok();
        }
        let base = self.upstream.as_ref()?;
        base.join(&format!("{}/{}", path.event_id(), encode_relative(path)))
            .ok()
    }
}

/// A directory URL (ending in `/`) so that `join` appends instead of replacing.
pub(crate) fn dir_url(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

/// `stream_url` either names a directory (`.../`) or a master playlist, whose
/// directory holds the rest.
fn event_upstream(url: Url) -> EventUpstream {
    if url.path().ends_with('/') {
        return EventUpstream {
            base: url,
            master: None,
        };
    }
    let base = url.join("./").unwrap_or_else(|_| url.clone());
    EventUpstream {
        base,
        master: Some(url),
    }
}

/// The relative path, percent-encoded again for a URL.
fn encode_relative(path: &StreamPath) -> String {
    use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
    const SEGMENT: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'`')
        .add(b'{')
        .add(b'}')
        .add(b'%')
        .add(b'/');
    path.relative()
        .split('/')
        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// The URL without query or credentials, for messages.
fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    let _ = shown.set_password(None);
    let _ = shown.set_username("");
    shown.to_string()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> StreamPath {
        StreamPath::parse(&format!("/streams/{s}")).expect("path")
    }

    fn source(upstream: Option<&str>, events: &[(&str, &str)]) -> Source {
        Source::new(
            SourceOptions {
                local: None,
                upstream: upstream.map(|u| Url::parse(u).expect("url")),
                event_urls: events
                    .iter()
                    .map(|(id, u)| ((*id).to_owned(), Url::parse(u).expect("url")))
                    .collect(),
                timeout: Duration::from_secs(1),
            },
            None,
        )
        .expect("source")
    }

    #[test]
    fn upstream_urls_follow_the_origin_or_the_events_stream_url() {
        let s = source(
            Some("http://origin.test/live"),
            &[
                ("own", "http://cdn.test/own/master.m3u8"),
                ("dir", "http://cdn.test/dir/"),
            ],
        );
        let url = |x: &str| s.upstream_url(&p(x)).map(|u| u.to_string());
        assert_eq!(
            url("demo/360p/a b.ts").as_deref(),
            Some("http://origin.test/live/demo/360p/a%20b.ts")
        );
        assert_eq!(
            url("own/index.m3u8").as_deref(),
            Some("http://cdn.test/own/master.m3u8")
        );
        assert_eq!(
            url("own/v1/seg.ts").as_deref(),
            Some("http://cdn.test/own/v1/seg.ts")
        );
        assert_eq!(
            url("dir/index.m3u8").as_deref(),
            Some("http://cdn.test/dir/index.m3u8")
        );
        assert_eq!(source(None, &[]).upstream_url(&p("demo/a.ts")), None);
    }
}
