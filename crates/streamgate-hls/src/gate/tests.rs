//! The memo: what an entry costs when it is full, and that only the very token that
//! verified finds its entry.

use streamgate_core::Secret;
use streamgate_core::jwt::Claims;

use super::*;
use crate::revocation::FeedEntry;

const SECRET: &str = "gate-test-secret-0123456789abcdef";

fn keys() -> PlaybackKeys {
    PlaybackKeys::new(&Secret::new(SECRET), None).expect("keys")
}

fn claims(sid: &str) -> Claims {
    Claims {
        sub: "3f1c2a9e-8d4b-4c6e-9a7f-0b1d2e3f4a5b".into(),
        eid: "demo".into(),
        sid: sid.into(),
        sp: Claims::stream_prefix("demo"),
        iat: now_unix(),
        exp: now_unix() + 3600,
        nbf: None,
        probe: false,
    }
}

fn segment() -> StreamPath {
    StreamPath::parse("/streams/demo/360p/seg_000.ts").expect("path")
}

#[test]
fn a_memo_entry_costs_at_most_128_bytes_when_full() {
    let gate = Gate::new(keys(), Arc::default());
    let signer = keys();
    for i in 0..MEMO_CAPACITY {
        let token = signer
            .sign(&claims(&format!("{i:08x}-3a29-4180-b7c6-d5e4f3a2b1c0")))
            .expect("sign");
        gate.check(&token, false, &segment(), "GET")
            .expect("admitted");
    }
    assert!(
        gate.memoised() > MEMO_CAPACITY * 9 / 10,
        "{}",
        gate.memoised()
    );
    let per = gate.memo_bytes_per_entry();
    assert!(per > 16.0 && per <= 128.0, "{per} bytes per entry");
}

#[test]
fn only_the_token_that_verified_finds_its_entry() {
    let gate = Gate::new(keys(), Arc::default());
    let token = keys().sign(&claims("s1")).expect("sign");
    gate.check(&token, false, &segment(), "GET")
        .expect("admitted");
    assert_eq!(gate.memoised(), 1);
    // The same signature under another payload, and a one-character change anywhere:
    // each is verified afresh (and refused), never answered from the memo.
    let (message, signature) = token.rsplit_once('.').expect("dots");
    let other = keys().sign(&claims("s2")).expect("sign");
    let (other_message, _) = other.rsplit_once('.').expect("dots");
    let mut forged = vec![format!("{other_message}.{signature}")];
    for at in [0, message.len() / 2, token.len() - 1] {
        let mut bytes = token.clone().into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        forged.push(String::from_utf8(bytes).expect("ascii"));
    }
    for f in &forged {
        assert!(gate.check(f, false, &segment(), "GET").is_err(), "{f}");
    }
    assert_eq!(gate.memoised(), 1, "refusals are not memoised");
    assert!(gate.check(&token, false, &segment(), "GET").is_ok());
}

#[test]
fn a_memoised_token_still_meets_every_per_request_check() {
    let revocations = Arc::new(RwLock::new(RevocationSet::default()));
    let gate = Gate::new(keys(), revocations.clone());
    let mut probe = claims("p1");
    probe.probe = true;
    let probe = keys().sign(&probe).expect("sign");
    let token = keys().sign(&claims("s1")).expect("sign");
    gate.check(&token, false, &segment(), "GET")
        .expect("admitted");
    let elsewhere = StreamPath::parse("/streams/other/360p/seg_000.ts").expect("path");
    assert_eq!(
        gate.check(&token, false, &elsewhere, "GET").map(|_| ()),
        Err(Denied::Path)
    );
    assert!(gate.check(&probe, true, &segment(), "HEAD").is_ok());
    assert_eq!(
        gate.check(&probe, false, &segment(), "GET").map(|_| ()),
        Err(Denied::Probe("GET".into()))
    );
    revocations.write().expect("lock").apply(
        &FeedEntry {
            seq: 1,
            kind: streamgate_core::revocation::RevocationKind::SessionEnded,
            event_id: "demo".into(),
            code_id: None,
            session_id: Some("s1".into()),
            at: "2099-01-01T00:00:00Z".into(),
        },
        3600,
    );
    assert_eq!(
        gate.check(&token, false, &segment(), "GET").map(|_| ()),
        Err(Denied::Revoked)
    );
    let verified = gate.verify(&probe).expect("memoised");
    assert_eq!(verified.event_id(), "demo");
    assert!(verified.probe());
    assert_eq!(
        gate.session_ids(&token),
        Some(("s1".to_owned(), "demo".to_owned()))
    );
}
