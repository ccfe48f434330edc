//! Requests to the upstream origin: whole-body downloads with the origin's validators
//! (`ETag`, `Last-Modified`, length), conditional re-validation of what the cache
//! holds, and two time bounds, one for ordinary requests (`upstream_timeout_seconds`)
//! and a longer one for LL-HLS blocking playlist reloads, which an origin may hold for
//! three target durations (`blocking_reload_timeout_seconds`).

use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use url::Url;

use crate::cache::Validators;
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
            blocking: build(blocking.max(timeout))?,
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
