//! Is the stream up? The platform asks the HLS server the way a player would: a HEAD on
//! the event's master playlist with a 10-second probe token (HEAD only). Answers are
//! kept for a few seconds so a crowd polling the status endpoint makes one probe, and
//! an unreachable HLS server means "don't know", so callers fall back to the schedule.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use streamgate_core::ingest::{INGEST_STATE_HEADER, IngestState};
use streamgate_core::jwt::{Claims, PlaybackKeys};

/// How long a probe answer is reused.
const CACHE_FOR: Duration = Duration::from_secs(5);

/// What one probe saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// The HLS server answered with the playlist.
    Found,
    /// The HLS server answered 404: nothing is published under that name yet.
    Missing,
    /// No answer to go by (unreachable, timed out, or a status that says nothing about
    /// the file, such as 502 when the origin cannot be reached), with what happened.
    Unknown(String),
}

impl Probe {
    /// `Some(true)` found, `Some(false)` missing, `None` unknown.
    pub fn available(&self) -> Option<bool> {
        match self {
            Probe::Found => Some(true),
            Probe::Missing => Some(false),
            Probe::Unknown(_) => None,
        }
    }
}

/// Probes the HLS server and remembers the answers briefly.
#[derive(Debug)]
pub struct Prober {
    client: reqwest::Client,
    base: String,
    cache: Mutex<HashMap<(String, String), Cached>>,
}

/// A probe answer, when it was had, and the ingest state the HLS server named with it.
type Cached = (Instant, Probe, Option<IngestState>);

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

    /// `Some(true)` when the event's playlist is there, `Some(false)` when the server
    /// says it is not, `None` when the server cannot be asked. Answers are reused for a
    /// few seconds.
    pub async fn manifest_available(
        &self,
        keys: &PlaybackKeys,
        event_id: &str,
        playlist: &str,
    ) -> Option<bool> {
        self.stream_state(keys, event_id, playlist).await.0
    }

    /// [`Prober::manifest_available`], with what the event's ingest is doing when the
    /// HLS server runs it (it says so in a header of its answer to the probe).
    pub async fn stream_state(
        &self,
        keys: &PlaybackKeys,
        event_id: &str,
        playlist: &str,
    ) -> (Option<bool>, Option<IngestState>) {
        let key = (event_id.to_owned(), playlist.to_owned());
        if let Ok(cache) = self.cache.lock()
            && let Some((at, answer, ingest)) = cache.get(&key)
            && at.elapsed() < CACHE_FOR
        {
            return (answer.available(), *ingest);
        }
        let (answer, ingest) = self.refresh(keys, event_id, playlist).await;
        (answer.available(), ingest)
    }

    /// Asks the HLS server now (the console's "check" button), refreshing the cache.
    pub async fn check(&self, keys: &PlaybackKeys, event_id: &str, playlist: &str) -> Probe {
        self.refresh(keys, event_id, playlist).await.0
    }

    async fn refresh(
        &self,
        keys: &PlaybackKeys,
        event_id: &str,
        playlist: &str,
    ) -> (Probe, Option<IngestState>) {
        let (answer, ingest) = self.ask(keys, event_id, playlist).await;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(
                (event_id.to_owned(), playlist.to_owned()),
                (Instant::now(), answer.clone(), ingest),
            );
        }
        (answer, ingest)
    }

    /// The event's ingest health from the HLS server's `/health`: `Ok(None)` when the
    /// server runs no ingest for it, `Err` with what happened when it cannot be asked.
    pub async fn ingest_health(
        &self,
        event_id: &str,
    ) -> Result<Option<streamgate_core::ingest::IngestHealth>, String> {
        #[derive(serde::Deserialize)]
        struct Health {
            #[serde(default)]
            ingest: Vec<streamgate_core::ingest::IngestHealth>,
        }
        let url = format!("{}/health", self.base);
        let health: Health = self
            .client
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("the HLS server at {} could not be reached ({e})", self.base))?
            .json()
            .await
            .map_err(|e| format!("the HLS server's /health could not be read ({e})"))?;
        Ok(health.ingest.into_iter().find(|h| h.event_id == event_id))
    }

    /// The URL players fetch the playlist from.
    pub fn playlist_url(&self, event_id: &str, playlist: &str) -> String {
        format!("{}{}{playlist}", self.base, Claims::stream_prefix(event_id))
    }

    async fn ask(
        &self,
        keys: &PlaybackKeys,
        event_id: &str,
        playlist: &str,
    ) -> (Probe, Option<IngestState>) {
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
        let Ok(token) = keys.sign(&claims) else {
            return (
                Probe::Unknown("no probe token could be signed".into()),
                None,
            );
        };
        let url = self.playlist_url(event_id, playlist);
        let response = self.client.head(&url).bearer_auth(token).send().await;
        let ingest = response.as_ref().ok().and_then(|r| {
            r.headers()
                .get(INGEST_STATE_HEADER)
                .and_then(|v| v.to_str().ok())
                .and_then(IngestState::parse)
        });
        let probe = match response {
            Ok(r) if r.status().is_success() => Probe::Found,
            Ok(r) if r.status().as_u16() == 404 => Probe::Missing,
            Ok(r) => {
                tracing::debug!(status = %r.status(), "HLS probe for {event_id} inconclusive");
                Probe::Unknown(match r.status().as_u16() {
                    502 | 504 => format!(
                        "the HLS server could not get it from its origin ({})",
                        r.status()
                    ),
                    403 => "the HLS server refused the platform's probe token (403): do both services have the same JWT_SECRET?".into(),
                    _ => format!("the HLS server answered {}", r.status()),
                })
            }
            Err(e) => {
                tracing::debug!("HLS probe for {event_id} failed: {e}");
                Probe::Unknown(format!(
                    "the HLS server at {} could not be reached{}",
                    self.base,
                    if e.is_timeout() { " (timed out)" } else { "" }
                ))
            }
        };
        (probe, ingest)
    }
}
