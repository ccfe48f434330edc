//! The edge's copy of "who may no longer watch": revoked codes, deactivated events and
//! ended sessions, replayed in order from the platform's revocation log.
//!
//! Ids are kept as 64-bit keyed hashes rather than strings: a code id or session id is
//! a 36-character UUID, and an edge may hold hundreds of thousands of them. A hash set
//! of `u64` costs 9 bytes a slot (8 plus hashbrown's control byte), so with its load
//! factor an entry stays under 32 bytes (see [`RevocationSet::bytes_per_entry`]). The
//! hash key is random per process, so nobody can craft an id that collides with
//! another's; an accidental collision (about 2^-64 per pair) would refuse one viewer,
//! never admit one.
//!
//! Ended sessions only matter while a token of theirs could still be unexpired, so
//! they carry the time after which they are dropped.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};

/// The feed's wire types are core's, shared with the platform that serves them.
pub use streamgate_core::revocation::{FeedEntry, RevocationKind};

/// A token's identity, hashed once when the token is first verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject {
    code: u64,
    event: u64,
    session: u64,
}

impl Subject {
    /// The session's hash: a per-process key for "this session" that needs no string.
    pub fn session_key(&self) -> u64 {
        self.session
    }
}

/// The revocation sets.
#[derive(Debug)]
pub struct RevocationSet {
    hasher: RandomState,
    codes: HashSet<u64>,
    events: HashSet<u64>,
    /// Session hash -> Unix second after which it no longer matters.
    sessions: HashMap<u64, i64>,
}

impl Default for RevocationSet {
    fn default() -> Self {
        Self {
            hasher: RandomState::new(),
            codes: HashSet::new(),
            events: HashSet::new(),
            sessions: HashMap::new(),
        }
    }
}

impl RevocationSet {
    /// Hashes a token's code, event and session ids for [`Self::refuses`].
    pub fn subject(&self, code_id: &str, event_id: &str, session_id: &str) -> Subject {
        Subject {
            code: self.hasher.hash_one(code_id),
            event: self.hasher.hash_one(event_id),
            session: self.hasher.hash_one(session_id),
        }
    }

    /// Whether a token for `subject` must be refused.
    pub fn refuses(&self, subject: &Subject) -> bool {
        self.codes.contains(&subject.code)
            || self.events.contains(&subject.event)
            || self.sessions.contains_key(&subject.session)
    }

    /// Replays one feed entry. `session_ttl_s` is how long a token lives: an ended
    /// session is remembered that long after it ended. Returns `false` for a kind this
    /// build does not know (a newer platform): the entry changes nothing here, and the
    /// caller logs and counts it so an operator sees that the edge needs upgrading.
    pub fn apply(&mut self, entry: &FeedEntry, session_ttl_s: i64) -> bool {
        match entry.kind {
            RevocationKind::CodeRevoked => {
                if let Some(code) = &entry.code_id {
                    self.codes.insert(self.hasher.hash_one(code.as_str()));
                }
            }
            RevocationKind::CodeUnrevoked => {
                if let Some(code) = &entry.code_id {
                    self.codes.remove(&self.hasher.hash_one(code.as_str()));
                }
            }
            RevocationKind::EventDeactivated => {
                self.events
                    .insert(self.hasher.hash_one(entry.event_id.as_str()));
            }
            RevocationKind::EventReactivated => {
                self.events
                    .remove(&self.hasher.hash_one(entry.event_id.as_str()));
            }
            RevocationKind::SessionEnded => {
                if let Some(session) = &entry.session_id {
                    let ended = parse_unix(&entry.at).unwrap_or_else(now_unix);
                    self.sessions.insert(
                        self.hasher.hash_one(session.as_str()),
                        ended + session_ttl_s,
                    );
                }
            }
            RevocationKind::Unknown => return false,
        }
        true
    }

    /// Forgets ended sessions whose tokens have all expired.
    pub fn prune(&mut self, now_unix: i64) {
        self.sessions.retain(|_, until| *until >= now_unix);
    }

    /// Entries held (codes + events + sessions).
    pub fn len(&self) -> usize {
        self.codes.len() + self.events.len() + self.sessions.len()
    }

    /// Whether nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes the sets hold: each table's slots (key, value and control byte) at
    /// its current capacity.
    pub fn heap_bytes(&self) -> usize {
        let set = std::mem::size_of::<u64>() + 1;
        let map = std::mem::size_of::<(u64, i64)>() + 1;
        self.codes.capacity() * set + self.events.capacity() * set + self.sessions.capacity() * map
    }

    /// [`Self::heap_bytes`] divided by [`Self::len`] (0 when empty).
    pub fn bytes_per_entry(&self) -> f64 {
        if self.is_empty() {
            0.0
        } else {
            self.heap_bytes() as f64 / self.len() as f64
        }
    }
}

fn parse_unix(rfc3339: &str) -> Option<i64> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// Now, Unix seconds.
pub fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, code: Option<&str>, session: Option<&str>) -> FeedEntry {
        FeedEntry {
            seq: 1,
            kind: RevocationKind::parse(kind),
            event_id: "demo".into(),
            code_id: code.map(Into::into),
            session_id: session.map(Into::into),
            at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn revocations_replay_in_order() {
        let mut set = RevocationSet::default();
        let who = set.subject("c1", "demo", "s1");
        assert!(!set.refuses(&who));
        set.apply(&entry("code_revoked", Some("c1"), None), 3600);
        assert!(set.refuses(&who));
        set.apply(&entry("code_unrevoked", Some("c1"), None), 3600);
        assert!(!set.refuses(&who));
        set.apply(&entry("event_deactivated", None, None), 3600);
        assert!(set.refuses(&who));
        assert!(set.refuses(&set.subject("other-code", "demo", "s9")));
        set.apply(&entry("event_reactivated", None, None), 3600);
        assert!(!set.refuses(&who));
        set.apply(&entry("session_ended", Some("c1"), Some("s1")), 3600);
        assert!(set.refuses(&who));
        assert!(!set.refuses(&set.subject("c1", "demo", "s2")));
        let before = set.len();
        assert!(!set.apply(&entry("something_new", None, None), 3600));
        assert_eq!(set.len(), before, "an unknown kind changes nothing");
        assert!(set.refuses(&who), "and undoes nothing");
    }

    #[test]
    fn ended_sessions_are_forgotten_when_their_tokens_expired() {
        let mut set = RevocationSet::default();
        set.apply(&entry("session_ended", Some("c"), Some("s")), 60);
        let ended = parse_unix("2026-01-01T00:00:00Z").expect("time");
        set.prune(ended + 60);
        assert_eq!(set.len(), 1);
        set.prune(ended + 61);
        assert_eq!(set.len(), 0);
    }

    #[test]
    fn an_entry_costs_at_most_32_bytes() {
        let mut set = RevocationSet::default();
        for i in 0..100_000 {
            let id = format!("{i:08}-0000-4000-8000-000000000000");
            set.apply(&entry("code_revoked", Some(&id), None), 3600);
        }
        let per = set.bytes_per_entry();
        assert!(per > 8.0 && per <= 32.0, "{per} bytes per entry");
    }
}
