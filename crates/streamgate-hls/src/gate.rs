//! The token gate: every playlist and segment request passes here.
//!
//! A player sends the same token with every request for up to an hour, so the HMAC
//! check runs once per token: a verified token's claims (and the hashes the revocation
//! check needs) are memoised by the token string. What can change between two requests
//! with the same token is still checked every time: expiry, the path asked for, the
//! method (probe tokens are HEAD only) and the revocation sets. Failed verifications are
//! not memoised, so a forged token costs its sender an HMAC each time and nothing else.
//!
//! Every refusal is the same [`Denied`] to the client; the reason is for logs and
//! metrics only.

use std::sync::{Arc, RwLock};

use streamgate_core::jwt::{Claims, JwtError, PlaybackKeys};

use crate::path::StreamPath;
use crate::revocation::{RevocationSet, Subject, now_unix};

/// How many verified tokens are remembered (about 0.5 KB each).
pub const MEMO_CAPACITY: usize = 100_000;

/// A token that passed signature and claim checks once.
#[derive(Debug)]
pub struct Verified {
    /// Its claims.
    pub claims: Claims,
    /// Hashed ids for the revocation check.
    subject: Subject,
}

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
    memo: quick_cache::sync::Cache<Box<str>, Arc<Verified>>,
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
        Self {
            keys,
            memo: quick_cache::sync::Cache::new(MEMO_CAPACITY),
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

    /// Checks `token` for a `method` request of `path`.
    pub fn check(
        &self,
        token: &str,
        is_head: bool,
        path: &StreamPath,
        method: &str,
    ) -> Result<Arc<Verified>, Denied> {
        let verified = self.verify(token)?;
        self.admit(&verified, is_head, path, method)?;
        Ok(verified)
    }

    /// Signature and claims, from the memo when this token was seen before.
    pub fn verify(&self, token: &str) -> Result<Arc<Verified>, Denied> {
        if let Some(v) = self.memo.get(token) {
            return Ok(v);
        }
        let claims = self.keys.verify(token)?;
        let subject = self
            .revocations
            .read()
            .map(|set| set.subject(&claims.sub, &claims.eid, &claims.sid))
            .map_err(|_| Denied::Revoked)?;
        let verified = Arc::new(Verified { claims, subject });
        self.memo.insert(token.into(), verified.clone());
        Ok(verified)
    }

    /// The checks that cannot be memoised.
    pub fn admit(
        &self,
        verified: &Verified,
        is_head: bool,
        path: &StreamPath,
        method: &str,
    ) -> Result<(), Denied> {
        let claims = &verified.claims;
        if claims.exp <= now_unix() {
            return Err(Denied::Token(JwtError::Expired));
        }
        // Verification made sure `sp` is exactly `/streams/<eid>/`, and a parsed path
        // has no `..` or empty segment left, so "the normalised path starts with sp"
        // is "the path's event is eid": one string comparison, no allocation.
        if path.event_id() != claims.eid {
            return Err(Denied::Path);
        }
        if claims.probe && !is_head {
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
