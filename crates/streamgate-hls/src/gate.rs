//! The token gate: every playlist and segment request passes here.
//!
//! A player sends the same token with every request for up to an hour, so the HMAC
//! check runs once per token: what the later checks need of a verified token (its
//! event, expiry, probe flag and the hashes the revocation check needs) is memoised
//! under a keyed 128-bit hash of the token string. What can change between two requests
//! with the same token is still checked every time: expiry, the path asked for, the
//! method (probe tokens are HEAD only) and the revocation sets. Failed verifications are
//! not memoised, so a forged token costs its sender an HMAC each time and nothing else.
//!
//! Every refusal is the same [`Denied`] to the client; the reason is for logs and
//! metrics only.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::{Arc, RwLock};

use streamgate_core::jwt::{JwtError, PlaybackKeys};

use crate::path::StreamPath;
use crate::revocation::{RevocationSet, Subject, now_unix};

/// How many verified tokens are remembered (under 128 bytes each, see
/// [`Gate::memo_bytes_per_entry`]).
pub const MEMO_CAPACITY: usize = 100_000;

/// The share of the memo's slots kept for recently evicted tokens (quick_cache's
/// "ghosts", which take a slot each). Less than its default of 0.5: a token that falls
/// out costs one re-verification of about a microsecond, not worth half again the
/// memory.
const MEMO_GHOSTS: f64 = 0.1;

/// Distinct event ids interned for memo entries; past this (never expected: tokens
/// are only memoised once their signature verified) entries get their own copy.
const MAX_INTERNED_EVENTS: usize = 10_000;

/// What a request with a known token still needs, all else having been checked once:
/// the event its path must name, expiry, the probe flag and the hashed ids for the
/// revocation check. No strings of its own: the event id is shared by every token of
/// the event.
#[derive(Debug, Clone)]
pub struct Verified {
    subject: Subject,
    event: Arc<str>,
    exp: i64,
    probe: bool,
}

impl Verified {
    /// The event the token opens.
    pub fn event_id(&self) -> &str {
        &self.event
    }

    /// Whether it is a probe token (HEAD only, not tracked for sharing).
    pub fn probe(&self) -> bool {
        self.probe
    }

    /// A keyed hash of the session id, the same for every token of the session in
    /// this process: what the shared-token tracker keys on.
    pub fn session_key(&self) -> u64 {
        self.subject.session_key()
    }
}

/// The memo's key: 128 bits of SipHash-1-3 under a per-process random key over the
/// whole token. Nobody outside sees the key or the hashes, so a forged token cannot be
/// made to land on a verified token's entry (a chance collision is about 2^-128 per
/// pair); a fixed 16 bytes instead of the token's 350.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MemoKey([u64; 2]);

impl Hash for MemoKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Already a keyed hash: the table takes half of it as it is.
        state.write_u64(self.0[0]);
    }
}

/// The memo table's hasher: passes [`MemoKey`]'s first half through.
#[derive(Debug, Clone, Copy, Default)]
struct PassThrough;

impl BuildHasher for PassThrough {
    type Hasher = PassThroughHasher;

    fn build_hasher(&self) -> PassThroughHasher {
        PassThroughHasher(0)
    }
}

/// See [`PassThrough`].
#[derive(Debug)]
struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used by `MemoKey`; anything else is folded in.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Memo = quick_cache::sync::Cache<
    MemoKey,
    Verified,
    quick_cache::UnitWeighter,
    PassThrough,
    quick_cache::sync::DefaultLifecycle<MemoKey, Verified>,
>;

/// Why a request was refused. All of them answer 403 `Access denied`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// Signature, algorithm, claims or expiry.
    #[error("{0}")]
    Token(#[from] JwtError),
    /// The path is outside the token's `sp`.
    #[error("path outside the token's stream prefix")]
    Path,
    /// A probe token on anything but HEAD.
    #[error("probe token used for {0}")]
    Probe(String),
    /// The code, event or session was revoked.
    #[error("revoked")]
    Revoked,
}

impl Denied {
    /// A short label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Denied::Token(JwtError::Expired) => "expired",
            Denied::Token(_) => "invalid",
            Denied::Path => "path",
            Denied::Probe(_) => "probe",
            Denied::Revoked => "revoked",
        }
    }
}

/// Verifies tokens, memoised, and applies the per-request checks.
pub struct Gate {
    keys: PlaybackKeys,
    memo: Memo,
    memo_key: RandomState,
    events: RwLock<HashSet<Arc<str>>>,
    revocations: Arc<RwLock<RevocationSet>>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("keys", &self.keys)
            .field("memoised", &self.memo.len())
            .finish()
    }
}

impl Gate {
    /// A gate with these keys, checking against `revocations`.
    pub fn new(keys: PlaybackKeys, revocations: Arc<RwLock<RevocationSet>>) -> Self {
        let options = quick_cache::OptionsBuilder::new()
            .estimated_items_capacity(MEMO_CAPACITY)
            .weight_capacity(MEMO_CAPACITY as u64)
            .ghost_allocation(MEMO_GHOSTS)
            .build();
        let memo = match options {
            Ok(options) => Memo::with_options(
                options,
                quick_cache::UnitWeighter,
                PassThrough,
                Default::default(),
            ),
            // Constant, valid options; kept panic-free all the same.
            Err(_) => Memo::with(
                MEMO_CAPACITY,
                MEMO_CAPACITY as u64,
                quick_cache::UnitWeighter,
                PassThrough,
                Default::default(),
            ),
        };
        Self {
            keys,
            memo,
            memo_key: RandomState::new(),
            events: RwLock::new(HashSet::new()),
            revocations,
        }
    }

    /// The revocation sets this gate checks.
    pub fn revocations(&self) -> &Arc<RwLock<RevocationSet>> {
        &self.revocations
    }

    /// Tokens currently memoised.
    pub fn memoised(&self) -> usize {
        self.memo.len()
    }

    /// Bytes the memo holds: its slots (resident and ghost entries) and its table as
    /// quick_cache counts them, plus the interned event ids at their set's capacity.
    /// Entries own no heap memory of their own.
    pub fn memo_bytes(&self) -> usize {
        let events = self
            .events
            .read()
            .map(|set| {
                let slot = std::mem::size_of::<Arc<str>>() + 1;
                // An `Arc<str>` allocation: two counters and the text.
                let text: usize = set.iter().map(|e| 16 + e.len()).sum();
                set.capacity() * slot + text
            })
            .unwrap_or_default();
        self.memo.memory_used().total() + events
    }

    /// [`Self::memo_bytes`] divided by [`Self::memoised`] (0 when empty).
    pub fn memo_bytes_per_entry(&self) -> f64 {
        match self.memo.len() {
            0 => 0.0,
            n => self.memo_bytes() as f64 / n as f64,
        }
    }

    /// Checks `token` for a `method` request of `path`.
    pub fn check(
        &self,
        token: &str,
        is_head: bool,
        path: &StreamPath,
        method: &str,
    ) -> Result<Verified, Denied> {
        let verified = self.verify(token)?;
        self.admit(&verified, is_head, path, method)?;
        Ok(verified)
    }

    /// Signature and claims, from the memo when this token was seen before.
    pub fn verify(&self, token: &str) -> Result<Verified, Denied> {
        let key = self.key(token);
        if let Some(v) = self.memo.get(&key) {
            return Ok(v);
        }
        let verified = {
            let revocations = self.revocations.read().map_err(|_| Denied::Revoked)?;
            self.keys.verify_with(token, |claims| Verified {
                subject: revocations.subject(&claims.sub, &claims.eid, &claims.sid),
                event: self.intern(&claims.eid),
                exp: claims.exp,
                probe: claims.probe,
            })?
        };
        self.memo.insert(key, verified.clone());
        Ok(verified)
    }

    /// The session and event ids of a valid `token`, for a shared-token report: the
    /// memo keeps neither string, so the rare report verifies the token again.
    pub fn session_ids(&self, token: &str) -> Option<(String, String)> {
        self.keys
            .verify_with(token, |c| {
                (c.sid.clone().into_owned(), c.eid.clone().into_owned())
            })
            .ok()
    }

    fn key(&self, token: &str) -> MemoKey {
        MemoKey([
            self.memo_key.hash_one((0u8, token)),
            self.memo_key.hash_one((1u8, token)),
        ])
    }

    /// The shared copy of an event id.
    fn intern(&self, event_id: &str) -> Arc<str> {
        if let Ok(set) = self.events.read()
            && let Some(e) = set.get(event_id)
        {
            return e.clone();
        }
        let event: Arc<str> = event_id.into();
        if let Ok(mut set) = self.events.write() {
            if let Some(e) = set.get(event_id) {
                return e.clone();
            }
            if set.len() < MAX_INTERNED_EVENTS {
                set.insert(event.clone());
            }
        }
        event
    }

    /// The checks that cannot be memoised.
    pub fn admit(
        &self,
        verified: &Verified,
        is_head: bool,
        path: &StreamPath,
        method: &str,
    ) -> Result<(), Denied> {
        if verified.exp <= now_unix() {
            return Err(Denied::Token(JwtError::Expired));
        }
        // Verification made sure `sp` is exactly `/streams/<eid>/`, and a parsed path
        // has no `..` or empty segment left, so "the normalised path starts with sp"
        // is "the path's event is eid": one string comparison, no allocation.
        if path.event_id() != &*verified.event {
            return Err(Denied::Path);
        }
        if verified.probe && !is_head {
            return Err(Denied::Probe(method.to_owned()));
        }
        let revoked = self
            .revocations
            .read()
            .map(|set| set.refuses(&verified.subject))
            // A poisoned lock means a sync task panicked mid-update: refuse rather
            // than trust a half-applied set.
            .unwrap_or(true);
        if revoked {
            return Err(Denied::Revoked);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
