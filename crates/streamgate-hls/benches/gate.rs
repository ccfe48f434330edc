//! What the token gate costs per request, against a plain HMAC-SHA256 of the same
//! signing input measured in the same run (the floor any JWT check pays once):
//!
//! - `hmac_reference`: HMAC-SHA256 over the token's `header.payload`, nothing else;
//! - `verify_unmemoised`: a full verification (base64, JSON, HMAC, claim checks), what
//!   the gate pays the first time it sees a token;
//! - `verify_jsonwebtoken`: the verification as it was before issue 22 (jsonwebtoken's
//!   `decode_header` and `decode` with the same validation), for before/after in one run;
//! - `verify_borrowed`: the same verification as the gate runs it, reading the claims
//!   borrowed (no owned `Claims` built);
//! - `check_memoised`: what every later request with that token pays (memo lookup,
//!   expiry, path, method and revocation checks).
//!
//! Before measuring it fills a gate with [`MEMO_CAPACITY`] distinct tokens and prints
//! the memo's bytes per entry (`Gate::memo_bytes_per_entry`).
//!
//! `scripts/bench-gate.sh` runs this and prints the ratios.

use std::hint::black_box;
use std::sync::{Arc, RwLock};

use criterion::{Criterion, criterion_group, criterion_main};
use sha2::{Digest, Sha256};
use streamgate_core::Secret;
use streamgate_core::jwt::{Claims, PlaybackKeys};
use streamgate_hls::gate::{Gate, MEMO_CAPACITY};
use streamgate_hls::path::StreamPath;
use streamgate_hls::revocation::{FeedEntry, RevocationKind, RevocationSet};

const SECRET: &str = "bench-signing-secret-0123456789abcdef";

/// HMAC-SHA256 (RFC 2104) written out, so the reference is nothing but the hash work.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

fn gate(c: &mut Criterion) {
    let keys = || PlaybackKeys::new(&Secret::new(SECRET), None).expect("keys");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = Claims {
        sub: "3f1c2a9e-8d4b-4c6e-9a7f-0b1d2e3f4a5b".into(),
        eid: "demo".into(),
        sid: "7e6d5c4b-3a29-4180-b7c6-d5e4f3a2b1c0".into(),
        sp: Claims::stream_prefix("demo"),
        iat: now,
        exp: now + 3600,
        nbf: None,
        probe: false,
    };
    let token = keys().sign(&claims).expect("sign");
    let signing_input = token.rsplit_once('.').expect("three parts").0.to_owned();

    // A realistic revocation set: 10 000 revoked codes and 50 000 ended sessions.
    let mut set = RevocationSet::default();
    for i in 0..60_000 {
        set.apply(
            &FeedEntry {
                seq: i,
                kind: if i < 10_000 {
                    RevocationKind::CodeRevoked
                } else {
                    RevocationKind::SessionEnded
                },
                event_id: "demo".into(),
                code_id: Some(format!("code-{i}")),
                session_id: Some(format!("session-{i}")),
                at: "2099-01-01T00:00:00Z".into(),
            },
            3600,
        );
    }
    let gate = Gate::new(keys(), Arc::new(RwLock::new(set)));
    let path = StreamPath::parse("/streams/demo/360p/seg_000.ts").expect("path");
    gate.check(&token, false, &path, "GET").expect("admitted");
    let verifier = keys();
    memo_bytes(&keys(), &claims);

    let mut group = c.benchmark_group("gate");
    group.bench_function("hmac_reference", |b| {
        b.iter(|| {
            hmac_sha256(
                black_box(SECRET.as_bytes()),
                black_box(signing_input.as_bytes()),
            )
        })
    });
    group.bench_function("verify_unmemoised", |b| {
        b.iter(|| verifier.verify(black_box(&token)).expect("valid"))
    });
    let decoding = jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes());
    group.bench_function("verify_jsonwebtoken", |b| {
        b.iter(|| jsonwebtoken_verify(&decoding, black_box(&token)))
    });
    group.bench_function("verify_borrowed", |b| {
        b.iter(|| {
            verifier
                .verify_with(black_box(&token), |c| c.exp)
                .expect("valid")
        })
    });
    group.bench_function("check_memoised", |b| {
        b.iter(|| {
            gate.check(black_box(&token), false, black_box(&path), "GET")
                .expect("admitted")
        })
    });
    group.finish();
}

/// The verification as `PlaybackKeys::verify` did it through jsonwebtoken.
fn jsonwebtoken_verify(key: &jsonwebtoken::DecodingKey, token: &str) -> Claims {
    use jsonwebtoken::{Algorithm, Validation};
    let header = jsonwebtoken::decode_header(token).expect("header");
    assert_eq!(header.alg, Algorithm::HS256);
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "iat", "sub"]);
    validation.leeway = 0;
    let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
        .expect("valid")
        .claims;
    assert_eq!(claims.sp, Claims::stream_prefix(&claims.eid));
    claims
}

/// Fills a gate with as many distinct tokens (one session each) as its memo holds and
/// prints what an entry costs.
fn memo_bytes(keys: &PlaybackKeys, template: &Claims) {
    let gate = Gate::new(
        PlaybackKeys::new(&Secret::new(SECRET), None).expect("keys"),
        Arc::new(RwLock::new(RevocationSet::default())),
    );
    let path = StreamPath::parse("/streams/demo/360p/seg_000.ts").expect("path");
    for i in 0..MEMO_CAPACITY {
        let mut claims = template.clone();
        claims.sid = format!("{i:08x}-3a29-4180-b7c6-d5e4f3a2b1c0");
        let token = keys.sign(&claims).expect("sign");
        gate.check(&token, false, &path, "GET").expect("admitted");
    }
    println!(
        "memo: {} tokens, {} bytes, {:.1} bytes per entry",
        gate.memoised(),
        gate.memo_bytes(),
        gate.memo_bytes_per_entry()
    );
}

criterion_group!(benches, gate);
criterion_main!(benches);
