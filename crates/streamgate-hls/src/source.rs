//! Where content comes from: local files under `STREAM_ROOT`, an upstream origin
//! through the segment cache, or both (hybrid: local, then cache, then upstream).
//!
//! Local lookups join a parsed [`StreamPath`] under the root and then check the
//! canonical path, so a symlink that leads out of the root (or into the segment cache,
//! which may live inside the root) is a 404 and nothing outside is read.
//!
//! Upstream fetches are single-flight: concurrent misses for one file share one
//! request, whose complete body goes to every waiter and, for segments and finished
//! playlists, into the cache. A cached object is served only while it is the origin's
//! current one (DESIGN section 7, "cache truth"):
//! - playlists are fetched every time while their event's live window is open (or the
//!   event is unknown here); a finished (`#EXT-X-ENDLIST`) copy is kept only to answer
//!   while the origin is down, and served without asking once the window is over;
//! - every playlist fetched is read by the [`Tracker`]: when one restarts (an encoder
//!   restart), everything cached for its event is dropped;
//! - segments named by a live playlist are re-validated against the origin (ETag /
//!   Last-Modified) at most every [`LIVE_VALIDATE_EVERY`] before a cached copy is
//!   served, which catches a restart the edge did not see (while it was down, say).
//!
//! LL-HLS delivery directives are forwarded on playlist requests (and are part of the
//! single-flight key, never of a cache key); a blocking reload may be held up to the
//! blocking bound. In local mode a blocking reload waits for the file to hold the
//! requested segment or part, up to the same bound.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use time::OffsetDateTime;
use tokio::sync::OnceCell;
use url::Url;

use crate::cache::{Hit, SegmentCache, Validators};
use crate::live::{self, Directives, EventWindows, Tracker};
use crate::path::{MediaKind, StreamPath};
use crate::upstream::{Fetched, Origins, Upstream};

pub use crate::upstream::{MAX_UPSTREAM_BYTES, dir_url};

/// How long the origin's confirmation of a cached live segment is trusted: a
/// re-validation per segment per second at most, however many viewers ask.
pub const LIVE_VALIDATE_EVERY: Duration = Duration::from_secs(1);
/// How often a local blocking reload looks at the playlist file again.
const LOCAL_RELOAD_POLL: Duration = Duration::from_millis(50);

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

pub use streamgate_core::playlist::DEFAULT_PLAYLIST_FALLBACKS;

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

type Flight = Arc<OnceCell<Result<Content, SourceError>>>;

/// Finds content for stream paths.
#[derive(Debug)]
pub struct Source {
    local: Option<PathBuf>,
    origins: Origins,
    cache: Option<Arc<SegmentCache>>,
    client: Upstream,
    blocking: Duration,
    public_url: Option<Url>,
    tracker: Tracker,
    windows: EventWindows,
    flights: Mutex<HashMap<String, Flight>>,
    resolved: quick_cache::sync::Cache<PathBuf, (Instant, Option<PathBuf>)>,
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
    /// `(event id, ends_at)` of the configured events: when their content becomes an
    /// immutable recording.
    pub event_ends: Vec<(String, OffsetDateTime)>,
    /// Upstream request timeout.
    pub timeout: Duration,
    /// How long a blocking playlist reload may be held (`Duration::ZERO`: `timeout`).
    pub blocking_timeout: Duration,
    /// `hls.public_url`: absolute URIs under it get the token in query mode.
    pub public_url: Option<Url>,
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
        let blocking = if options.blocking_timeout.is_zero() {
            options.timeout
        } else {
            options.blocking_timeout
        };
        Ok(Self {
            local,
            origins: Origins::new(options.upstream, options.event_urls),
            cache,
            client: Upstream::new(options.timeout, blocking)?,
            blocking,
            public_url: options.public_url.map(dir_url),
            tracker: Tracker::default(),
            windows: EventWindows::new(options.event_ends),
            flights: Mutex::new(HashMap::new()),
            resolved: quick_cache::sync::Cache::new(10_000),
        })
    }

    /// The content mode.
    pub fn mode(&self) -> Mode {
        match (&self.local, self.origins.has_upstream()) {
            (Some(_), false) => Mode::Local,
            (None, _) => Mode::Proxy,
            (Some(_), true) => Mode::Hybrid,
        }
    }

    /// The segment cache, when this source proxies.
    pub fn cache(&self) -> Option<&Arc<SegmentCache>> {
        self.cache.as_ref()
    }

    /// `hls.public_url` as a directory URL.
    pub fn public_url(&self) -> Option<&Url> {
        self.public_url.as_ref()
    }

    /// Whether `path` belongs to an event whose live window is over.
    pub fn is_recording(&self, path: &StreamPath) -> bool {
        self.windows.is_over(path.event_id())
    }

    /// Whether `path` is a segment a live playlist named recently.
    pub fn is_live_segment(&self, path: &StreamPath) -> bool {
        self.tracker.is_live(path)
    }

    /// Finds `path`: local file, then cache, then upstream. `directives` apply to
    /// playlists only. The default playlist name (`index.m3u8` at the top of an event)
    /// falls back to [`DEFAULT_PLAYLIST_FALLBACKS`] when it is not there: many packagers
    /// (and the upstream StreamGate) publish `master.m3u8` or `stream.m3u8`, and the
    /// platform hands out `index.m3u8` unless the event names its playlist.
    pub async fn get(
        &self,
        path: &StreamPath,
        directives: &Directives,
    ) -> Result<Content, SourceError> {
        let found = self.get_exact(path, directives).await;
        if !matches!(found, Err(SourceError::NotFound)) || !path.is_default_playlist() {
            return found;
        }
        for name in DEFAULT_PLAYLIST_FALLBACKS {
            match self.get_exact(&path.sibling(name), directives).await {
                Err(SourceError::NotFound) => continue,
                other => return other,
            }
        }
        Err(SourceError::NotFound)
    }

    async fn get_exact(
        &self,
        path: &StreamPath,
        directives: &Directives,
    ) -> Result<Content, SourceError> {
        let kind = path.kind();
        if let Some(root) = &self.local
            && let Some(file) = self.local_file(root, path)
        {
            if kind == Some(MediaKind::Playlist) && directives.is_blocking() {
                self.wait_for_local(&file, directives).await;
            }
            return Ok(Content::File(file));
        }
        let Some(url) = self.upstream_url(path) else {
            return Err(SourceError::NotFound);
        };
        match kind {
            Some(MediaKind::Playlist) => self.playlist(path, url, directives).await,
            // Steering manifests and asset lists change while they are in use.
            Some(MediaKind::Document(_)) => match self.client.get(url, None, false).await? {
                Fetched::Body(bytes, _) => Ok(Content::Bytes(bytes)),
                Fetched::NotModified => Err(SourceError::Upstream("unasked 304".into())),
            },
            _ => self.segment(path, url).await,
        }
    }

    /// A local playlist asked for with `_HLS_msn`: waits until the file holds the
    /// segment (or part), it ends, or the blocking bound passes; then it is served as
    /// it is.
    async fn wait_for_local(&self, file: &Path, directives: &Directives) {
        let deadline = Instant::now() + self.blocking;
        loop {
            let done = match tokio::fs::read_to_string(file).await {
                Ok(text) => directives.satisfied_by(&live::facts(&text)),
                Err(_) => true,
            };
            if done || Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(LOCAL_RELOAD_POLL).await;
        }
    }

    /// Runs `leader` once for every concurrent caller with the same `key`.
    async fn single_flight<F, Fut>(&self, key: String, leader: F) -> Result<Content, SourceError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Content, SourceError>>,
    {
        let flight: Flight = {
            let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            flights.entry(key.clone()).or_default().clone()
        };
        let result = flight.get_or_init(leader).await.clone();
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if flights.get(&key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
            flights.remove(&key);
        }
        result
    }

    /// A playlist from the origin. A cached finished copy answers without asking once
    /// the event's window is over, and when the origin fails.
    async fn playlist(
        &self,
        path: &StreamPath,
        mut url: Url,
        directives: &Directives,
    ) -> Result<Content, SourceError> {
        // A recording's playlist is a cache lookup (counted); a live event's cached
        // copy is only a fallback (not counted: it is not what is served).
        if self.windows.is_over(path.event_id())
            && let Some(hit) = self.cache.as_ref().and_then(|c| c.lookup_entry(path))
        {
            return Ok(Content::File(hit.file));
        }
        let cached = self.cache.as_ref().and_then(|c| c.peek(path));
        let query = directives.query();
        url.set_query(query.as_deref());
        let key = format!(
            "{}/{}?{}",
            path.event_id(),
            path.relative(),
            query.unwrap_or_default()
        );
        let held = directives.is_blocking();
        let result = self
            .single_flight(key, || self.fetch_playlist(path, url, held))
            .await;
        match (result, cached) {
            (Err(SourceError::Upstream(e)), Some(hit)) => {
                tracing::warn!("upstream failed for {path}: {e}; serving the cached finished copy");
                Ok(Content::File(hit.file))
            }
            (result, _) => result,
        }
    }

    /// One playlist download (the leader of a flight): read by the tracker (a restart
    /// drops the event's cache), kept when finished, a stale finished copy dropped
    /// when it is live.
    async fn fetch_playlist(
        &self,
        path: &StreamPath,
        url: Url,
        held: bool,
    ) -> Result<Content, SourceError> {
        let started = Instant::now();
        let Fetched::Body(bytes, validators) = self.client.get(url.clone(), None, held).await?
        else {
            return Err(SourceError::Upstream("unasked 304".into()));
        };
        let Ok(text) = std::str::from_utf8(&bytes) else {
            return Ok(Content::Bytes(bytes));
        };
        let facts = live::facts(text);
        let ended = facts.ended;
        let segments: Vec<StreamPath> = facts
            .segments
            .iter()
            .filter_map(|uri| self.origin_path(path.event_id(), &url.join(uri).ok()?))
            .collect();
        let restarted = self.tracker.observe(path, facts, &segments, started);
        let Some(cache) = self.cache.clone() else {
            return Ok(Content::Bytes(bytes));
        };
        if restarted {
            let event = path.event_id().to_owned();
            let c = cache.clone();
            let removed = tokio::task::spawn_blocking(move || c.clear_event(&event))
                .await
                .unwrap_or(0);
            tracing::info!(
                "{path} restarted (encoder restart): dropped {removed} cached files of event {}",
                path.event_id()
            );
        }
        if !ended {
            cache.remove(path);
            return Ok(Content::Bytes(bytes));
        }
        Ok(self.store(path, bytes, validators).await)
    }

    /// A segment (or key, init section, subtitle): cached and, when live, validated.
    async fn segment(&self, path: &StreamPath, url: Url) -> Result<Content, SourceError> {
        let Some(cache) = &self.cache else {
            return match self.client.get(url, None, false).await? {
                Fetched::Body(bytes, _) => Ok(Content::Bytes(bytes)),
                Fetched::NotModified => Err(SourceError::Upstream("unasked 304".into())),
            };
        };
        if let Some(hit) = cache.lookup_entry(path)
            && !self.must_validate(path, &hit)
        {
            return Ok(Content::File(hit.file));
        }
        let key = format!("{}/{}", path.event_id(), path.relative());
        self.single_flight(key, || self.fetch_segment(cache, path, url))
            .await
    }

    /// Whether a cached copy must be confirmed by the origin before it is served.
    fn must_validate(&self, path: &StreamPath, hit: &Hit) -> bool {
        self.tracker.is_live(path)
            && !self.windows.is_over(path.event_id())
            && hit
                .validated
                .is_none_or(|at| at.elapsed() >= LIVE_VALIDATE_EVERY)
    }

    /// One segment download or re-validation (the leader of a flight).
    async fn fetch_segment(
        &self,
        cache: &SegmentCache,
        path: &StreamPath,
        url: Url,
    ) -> Result<Content, SourceError> {
        // A flight that started after another one finished finds its result on disk.
        let hit = cache.peek(path);
        if let Some(h) = &hit
            && !self.must_validate(path, h)
        {
            return Ok(Content::File(h.file.clone()));
        }
        let known = hit
            .as_ref()
            .and_then(|h| h.validators.as_ref())
            .filter(|v| v.usable());
        match (self.client.get(url, known, false).await, hit) {
            (Ok(Fetched::NotModified), Some(h)) => {
                cache.mark_validated(path);
                Ok(Content::File(h.file))
            }
            (Ok(Fetched::Body(bytes, validators)), _) => {
                Ok(self.store(path, bytes, validators).await)
            }
            (Ok(Fetched::NotModified), None) => Err(SourceError::Upstream("unasked 304".into())),
            (Err(SourceError::NotFound), Some(_)) => {
                cache.remove(path);
                Err(SourceError::NotFound)
            }
            // The origin is down: the copy held is the best there is.
            (Err(SourceError::Upstream(e)), Some(h)) => {
                tracing::debug!("re-validating {path} failed ({e}); serving the cached copy");
                Ok(Content::File(h.file))
            }
            (Err(e), None) => Err(e),
        }
    }

    /// Puts a download in the cache; the bytes themselves when it cannot be written.
    async fn store(&self, path: &StreamPath, bytes: Bytes, validators: Validators) -> Content {
        let Some(cache) = self.cache.clone() else {
            return Content::Bytes(bytes);
        };
        let owned = path.clone();
        let data = bytes.clone();
        let stored =
            tokio::task::spawn_blocking(move || cache.store_with(&owned, &data, Some(validators)))
                .await
                .ok()
                .flatten();
        match stored {
            Some(file) => Content::File(file),
            None => Content::Bytes(bytes),
        }
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
            .insert(candidate, (Instant::now(), resolved.clone()));
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

    /// The event path an absolute origin URL names (under the event's upstream
    /// directory), so that a playlist naming the origin can be sent through the gate.
    pub fn origin_path(&self, event_id: &str, url: &Url) -> Option<StreamPath> {
        self.origins.origin_path(event_id, url)
    }

    /// Whether `url` is on one of the origins this server proxies.
    pub fn is_origin_host(&self, url: &Url) -> bool {
        self.origins.is_origin_host(url)
    }

    /// The upstream URL of `path`, when this event has an upstream.
    pub fn upstream_url(&self, path: &StreamPath) -> Option<Url> {
        self.origins.upstream_url(path)
    }
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
                ..SourceOptions::default()
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
