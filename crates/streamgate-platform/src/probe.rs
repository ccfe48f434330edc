//! Is the stream up? The platform asks the HLS server the way a player would: a HEAD on
//! the event's master playlist with a 10-second probe token (HEAD only). Answers are
//! kept for a few seconds so a crowd polling the status endpoint makes one probe, and
//! an unreachable HLS server means "don't know", so callers fall back to the schedule.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use streamgate_core::jwt::{Claims, PlaybackKeys};

/// How long a probe answer is reused.
const CACHE_FOR: Duration = Duration::from_secs(5);

/// Probes the HLS server and remembers the answers briefly.
#[derive(Debug)]
pub struct Prober {
    client: reqwest::Client,
    base: String,
    cache: Mutex<HashMap<String, (Instant, Option<bool>)>>,
}

impl Prober {
    /// A prober for the HLS server at `base` (its public URL).
    pub fn new(base: &str) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap_or_default();
        Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(true)` when the manifest is there, `Some(false)` when the server says it
    /// is not, `None` when the server cannot be asked.
    pub async fn manifest_available(&self, keys: &PlaybackKeys, event_id: &str) -> Option<bool> {
        if let Ok(cache) = self.cache.lock()
            && let Some((at, answer)) = cache.get(event_id)
            && at.elapsed() < CACHE_FOR
        {
            return *answer;
        }
        let answer = self.ask(keys, event_id).await;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(event_id.to_owned(), (Instant::now(), answer));
        }
        answer
    }

    async fn ask(&self, keys: &PlaybackKeys, event_id: &str) -> Option<bool> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = Claims {
            sub: "probe".into(),
            eid: event_id.to_owned(),
            sid: "probe".into(),
            sp: Claims::stream_prefix(event_id),
            iat: now,
            exp: now + 10,
            nbf: None,
            probe: true,
        };
        let token = keys.sign(&claims).ok()?;
        let url = format!("{}/streams/{event_id}/index.m3u8", self.base);
        match self.client.head(&url).bearer_auth(token).send().await {
            Ok(r) if r.status().is_success() => Some(true),
            Ok(r) if r.status().as_u16() == 404 => Some(false),
            Ok(r) => {
                tracing::debug!(status = %r.status(), "HLS probe for {event_id} inconclusive");
                None
            }
            Err(e) => {
                tracing::debug!("HLS probe for {event_id} failed: {e}");
                None
            }
        }
    }
}
