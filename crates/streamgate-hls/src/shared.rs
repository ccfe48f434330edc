//! Shared playback tokens: one session's token used from two client addresses at once.
//!
//! A viewer can redeem a code and hand the `?__token=` URL to friends; every copy then
//! plays until the session ends, which defeats one device per code. This edge watches,
//! per session (`sid`), which addresses use the token:
//!
//! - the first address owns the session; a request from another one while the owner
//!   has been quiet for longer than the window is a clean address change (Wi-Fi to
//!   mobile): the new address takes over and nothing is reported;
//! - a request from another address while the owner is still active is let through
//!   (it may be that change, with the old network's last request still in flight), but
//!   remembered;
//! - the owner making a request *after* that, while the other address is also still
//!   active, proves two players at once: the session is shared. It is reported to the
//!   platform once, and with `hls.shared_token = "refuse"` every later request from
//!   the other addresses gets the usual 403 while the owner keeps playing.
//!
//! Addresses are compared per host for IPv4 and per /64 for IPv6 (privacy addresses
//! rotate within one). What one edge cannot see, it cannot report: see docs/security.md
//! for what this catches across several edges.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use poem::Request;
use serde::{Deserialize, Serialize};
use streamgate_core::config::{SharedTokenMode, TrustedProxy};
use streamgate_core::jwt::Claims;
use streamgate_core::tasks::CancellationToken;
use tokio::sync::mpsc;

use crate::sync::LinkError;

/// Sessions remembered before idle ones are dropped (about 100 bytes each).
const MAX_SESSIONS: usize = 200_000;
/// Other addresses remembered per session.
const MAX_OTHERS: usize = 4;
/// Reports waiting to be sent before new ones are dropped (the platform is away).
const REPORT_QUEUE: usize = 1_024;

/// What the tracker says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Serve it.
    Allow,
    /// A later address of a shared session in `refuse` mode: the usual 403.
    Refuse,
}

/// One report to the platform (`POST /api/internal/shared-tokens`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The session.
    pub session_id: String,
    /// Its event.
    pub event_id: String,
    /// The owner's address first, then the others seen within the window.
    pub addresses: Vec<String>,
    /// Whether the later addresses are refused from now on.
    pub refused: bool,
    /// This edge's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edge: Option<String>,
}

#[derive(Debug)]
struct Entry {
    owner: IpAddr,
    owner_seen: Instant,
    others: Vec<(IpAddr, Instant)>,
    shared: bool,
}

impl Entry {
    fn new(owner: IpAddr, now: Instant) -> Self {
        Self {
            owner,
            owner_seen: now,
            others: Vec::new(),
            shared: false,
        }
    }
}

/// The per-session address tracker of one edge.
#[derive(Debug)]
pub struct SharedTokens {
    mode: SharedTokenMode,
    window: Duration,
    edge: Option<String>,
    /// Keyed by a per-process keyed hash of the session id ([`Self::observe_session`]).
    sessions: Mutex<HashMap<u64, Entry>>,
    hasher: RandomState,
    reports: mpsc::Sender<Report>,
    detected: AtomicU64,
    refused: AtomicU64,
}

impl SharedTokens {
    /// A tracker in `mode` with this window, and the queue its reports go to.
    pub fn new(
        mode: SharedTokenMode,
        window: Duration,
        edge: Option<String>,
    ) -> (Self, mpsc::Receiver<Report>) {
        let (reports, rx) = mpsc::channel(REPORT_QUEUE);
        let tracker = Self {
            mode,
            window,
            edge,
            sessions: Mutex::new(HashMap::new()),
            hasher: RandomState::new(),
            reports,
            detected: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        };
        (tracker, rx)
    }

    /// Sessions this edge found shared since it started.
    pub fn detected(&self) -> u64 {
        self.detected.load(Ordering::Relaxed)
    }

    /// Requests refused because their session was shared.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Notes a request of `claims`'s session from `addr` at `now` and says whether to
    /// serve it. Probe tokens (the platform's liveness check) are not tracked.
    pub fn observe(&self, claims: &Claims, addr: IpAddr, now: Instant) -> Verdict {
        let session = self.hasher.hash_one(claims.sid.as_str());
        self.observe_session(session, claims.probe, addr, now, || {
            Some((claims.sid.clone(), claims.eid.clone()))
        })
    }

    /// [`Self::observe`] for a session known by `session`, a keyed hash of its id that
    /// is the same for each of its requests (the gate's
    /// [`crate::gate::Verified::session_key`]; a tracker is fed by one source of keys
    /// only). No string per request: `ids` gives the session and event ids only when
    /// a report is made, and a report without them is dropped.
    pub fn observe_session(
        &self,
        session: u64,
        probe: bool,
        addr: IpAddr,
        now: Instant,
        ids: impl FnOnce() -> Option<(String, String)>,
    ) -> Verdict {
        if probe {
            return Verdict::Allow;
        }
        let addr = address_key(addr);
        let (verdict, report) = {
            let Ok(mut sessions) = self.sessions.lock() else {
                return Verdict::Allow;
            };
            if sessions.len() >= MAX_SESSIONS {
                let keep = self.window * 4;
                sessions.retain(|_, e| now.saturating_duration_since(e.owner_seen) <= keep);
            }
            let entry = sessions
                .entry(session)
                .or_insert_with(|| Entry::new(addr, now));
            self.step(entry, addr, now)
        };
        if let Some(addresses) = report {
            self.detected.fetch_add(1, Ordering::Relaxed);
            self.report(addresses, ids);
        }
        if verdict == Verdict::Refuse {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        verdict
    }

    /// Queues the report of a session just found shared.
    fn report(&self, addresses: Vec<IpAddr>, ids: impl FnOnce() -> Option<(String, String)>) {
        let Some((session_id, event_id)) = ids() else {
            tracing::warn!("a shared session's ids could not be read; its report was dropped");
            return;
        };
        let report = Report {
            session_id,
            event_id,
            addresses: addresses.iter().map(IpAddr::to_string).collect(),
            refused: self.mode == SharedTokenMode::Refuse,
            edge: self.edge.clone(),
        };
        if self.reports.try_send(report).is_err() {
            tracing::warn!("shared-token report queue is full; a report was dropped");
        }
    }

    /// The state machine of one session; returns the addresses to report when the
    /// session has just been found shared.
    fn step(&self, e: &mut Entry, addr: IpAddr, now: Instant) -> (Verdict, Option<Vec<IpAddr>>) {
        let window = self.window;
        if e.owner == addr {
            e.owner_seen = now;
            e.others
                .retain(|(_, seen)| now.saturating_duration_since(*seen) <= window);
            if !e.others.is_empty() && !e.shared {
                e.shared = true;
                let mut all = vec![e.owner];
                all.extend(e.others.iter().map(|(ip, _)| *ip));
                return (Verdict::Allow, Some(all));
            }
            return (Verdict::Allow, None);
        }
        if now.saturating_duration_since(e.owner_seen) > window {
            // The owner went quiet: a new network, or the old device stopped.
            *e = Entry::new(addr, now);
            return (Verdict::Allow, None);
        }
        if let Some(other) = e.others.iter_mut().find(|(ip, _)| *ip == addr) {
            other.1 = now;
        } else if e.others.len() < MAX_OTHERS {
            e.others.push((addr, now));
        }
        let verdict = if e.shared && self.mode == SharedTokenMode::Refuse {
            Verdict::Refuse
        } else {
            Verdict::Allow
        };
        (verdict, None)
    }
}

/// The address sharing is judged by: IPv4 as it is (also when mapped into IPv6), IPv6
/// cut to its /64.
fn address_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// The client address of `req`: the socket's peer, unless that peer is a trusted proxy
/// (`hls.trusted_proxies`, e.g. the CDN or load balancer in front of the edge); then
/// the right-most `X-Forwarded-For` hop that is not one.
pub fn client_addr(req: &Request, trusted: &[TrustedProxy]) -> Option<IpAddr> {
    let peer = match req.remote_addr().0 {
        poem::Addr::SocketAddr(a) => a.ip(),
        _ => return None,
    };
    if !trusted.iter().any(|t| t.contains(peer)) {
        return Some(peer);
    }
    let hops: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.iter().any(|t| t.contains(ip)) => continue,
            Ok(ip) => return Some(ip),
            Err(_) => return Some(peer),
        }
    }
    Some(peer)
}

/// Sends reports to the platform's internal API until the queue closes or `stop` is
/// cancelled. A report that cannot be delivered is logged and dropped: detection goes
/// on at the edge, and in `refuse` mode the refusal does not depend on the platform.
pub async fn send_reports(
    mut rx: mpsc::Receiver<Report>,
    platform_url: url::Url,
    key: streamgate_core::Secret,
    stop: CancellationToken,
) -> Result<(), LinkError> {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .build()?;
    let endpoint = platform_url.join("api/internal/shared-tokens")?;
    loop {
        let report = tokio::select! {
            report = rx.recv() => report,
            () = stop.cancelled() => None,
        };
        let Some(report) = report else { break };
        tracing::warn!(
            "session {} ({}) played from {} at once{}",
            report.session_id,
            report.event_id,
            report.addresses.join(" and "),
            if report.refused {
                "; refusing the later address"
            } else {
                ""
            }
        );
        let sent = client
            .post(endpoint.clone())
            .header("x-internal-api-key", key.expose())
            .json(&report)
            .send()
            .await;
        match sent {
            Ok(resp) if resp.status().is_success() => {}
            Ok(resp) => tracing::warn!("platform refused a shared-token report: {}", resp.status()),
            Err(e) => tracing::warn!("cannot report a shared token to the platform: {e}"),
        }
    }
    if !rx.is_empty() {
        tracing::warn!("stopping with {} shared-token reports not sent", rx.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
