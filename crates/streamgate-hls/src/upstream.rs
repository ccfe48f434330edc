//! Requests to the upstream origin: whole-body downloads with the origin's validators
//! (`ETag`, `Last-Modified`, length), conditional re-validation of what the cache
//! holds, and two time bounds, one for ordinary requests (`upstream_timeout_seconds`)
//! and a longer one for LL-HLS blocking playlist reloads, which an origin may hold for
//! three target durations (`blocking_reload_timeout_seconds`). [`Origins`] maps
//! stream paths to origin URLs and back.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use url::Url;

use crate::cache::Validators;
use crate::path::{STREAMS_PREFIX, StreamPath};
use crate::source::SourceError;

/// Largest upstream body accepted (a segment is a few MB; this bounds memory).
pub const MAX_UPSTREAM_BYTES: usize = 256 * 1024 * 1024;

/// What the origin answered.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// A whole body and its validators.
    Body(Bytes, Validators),
    /// 304: the validators sent still name the origin's current object.
    NotModified,
}

/// The HTTP clients to the origin.
#[derive(Debug)]
pub struct Upstream {
    client: reqwest::Client,
    blocking: reqwest::Client,
}

impl Upstream {
    /// Clients with `timeout` for ordinary requests and `blocking` for held reloads.
    pub fn new(timeout: Duration, blocking: Duration) -> std::io::Result<Self> {
        let build = |t: Duration| {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5).min(timeout))
                .timeout(t)
                .build()
                .map_err(std::io::Error::other)
        };
        Ok(Self {
            client: build(timeout)?,
            blocking: build(blocking)?,
        })
    }

    /// GETs `url` whole, conditionally when `known` holds validators: 404/410 upstream
    /// is our 404, anything else that is not a success or 304 (or a body over
    /// [`MAX_UPSTREAM_BYTES`]) is a 502. `held` uses the blocking-reload bound.
    pub async fn get(
        &self,
        url: Url,
        known: Option<&Validators>,
        held: bool,
    ) -> Result<Fetched, SourceError> {
        let shown = redact_url(&url);
        let client = if held { &self.blocking } else { &self.client };
        let mut req = client.get(url);
        if let Some(v) = known {
            if let Some(etag) = &v.etag {
                req = req.header(header::IF_NONE_MATCH, etag.as_str());
            }
            if let Some(lm) = &v.last_modified {
                req = req.header(header::IF_MODIFIED_SINCE, lm.as_str());
            }
        }
        let mut resp = req
            .send()
            .await
            .map_err(|e| SourceError::Upstream(format!("{shown}: {}", error_chain(&e))))?;
        let status = resp.status();
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            return Err(SourceError::NotFound);
        }
        if status == StatusCode::NOT_MODIFIED && known.is_some() {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(SourceError::Upstream(format!("{shown} answered {status}")));
        }
        let validators = validators(resp.headers());
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
        let validators = Validators {
            len: body.len() as u64,
            ..validators
        };
        Ok(Fetched::Body(Bytes::from(body), validators))
    }
}

/// Where the origin is: `UPSTREAM_ORIGIN/<event>/` or an event's own `stream_url`.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    upstream: Option<Url>,
    events: HashMap<String, EventUpstream>,
}

/// An event's own upstream (`[[events]] stream_url`).
#[derive(Debug, Clone)]
struct EventUpstream {
    /// Directory URL the event's paths are resolved against.
    base: Url,
    /// The file `stream_url` named, served for `index.m3u8` when it is not one.
    master: Option<Url>,
}

impl Origins {
    /// The origins of `upstream` and of the events that name their own.
    pub fn new(upstream: Option<Url>, event_urls: Vec<(String, Url)>) -> Self {
        Self {
            upstream: upstream.map(dir_url),
            events: event_urls
                .into_iter()
                .map(|(id, url)| (id, event_upstream(url)))
                .collect(),
        }
    }

    /// Whether there is a shared upstream origin (proxy or hybrid mode).
    pub fn has_upstream(&self) -> bool {
        self.upstream.is_some()
    }

    /// The directory URL an event's paths are resolved against upstream.
    fn event_base(&self, event_id: &str) -> Option<Url> {
        if let Some(event) = self.events.get(event_id) {
            return Some(event.base.clone());
        }
        self.upstream.as_ref()?.join(&format!("{event_id}/")).ok()
    }

    /// The event path an absolute origin URL names (under the event's upstream
    /// directory), so that a playlist naming the origin can be sent through the gate.
    pub fn origin_path(&self, event_id: &str, url: &Url) -> Option<StreamPath> {
        let base = self.event_base(event_id)?;
        if url.scheme() != base.scheme()
            || url.host_str() != base.host_str()
            || url.port_or_known_default() != base.port_or_known_default()
        {
            return None;
        }
        let rest = url.path().strip_prefix(base.path())?;
        StreamPath::parse(&format!("{STREAMS_PREFIX}{event_id}/{rest}"))
    }

    /// Whether `url` is on one of the origins this server proxies (for a warning when
    /// a playlist names a file there outside the event).
    pub fn is_origin_host(&self, url: &Url) -> bool {
        self.upstream
            .iter()
            .chain(self.events.values().map(|e| &e.base))
            .any(|b| b.origin() == url.origin())
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

pub use streamgate_core::playlist::dir_url;

/// `stream_url` either names a directory (`.../`) or a master playlist, whose
/// directory holds the rest ([`streamgate_core::playlist::stream_url_parts`]).
fn event_upstream(url: Url) -> EventUpstream {
    let (base, master) = streamgate_core::playlist::stream_url_parts(url);
    EventUpstream { base, master }
}

/// The relative path, percent-encoded again for a URL.
fn encode_relative(path: &StreamPath) -> String {
    use percent_encoding::utf8_percent_encode;
    const SEGMENT: &percent_encoding::AsciiSet = crate::path::PATH_SEGMENT;
    path.relative()
        .split('/')
        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

fn validators(headers: &HeaderMap) -> Validators {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Validators {
        etag: text(header::ETAG),
        last_modified: text(header::LAST_MODIFIED),
        len: 0,
    }
}

/// The URL without query or credentials, for messages.
pub(crate) fn redact_url(url: &Url) -> String {
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
