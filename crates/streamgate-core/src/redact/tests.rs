//! Redaction rules, and a property test: whatever the spelling, the encoding or the
//! place in the line, a signed token never survives into a log line.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::Secret;
use crate::jwt::{Claims, PlaybackKeys};

/// Every spelling the attack run used, and more of the same kind.
pub const TOKEN_SPELLINGS: [&str; 12] = [
    "__token",
    "%5F%5Ftoken",
    "__TOKEN",
    "__token[]",
    "token",
    "access_token",
    "%255F%255Ftoken",
    "__token%5B%5D",
    "Access-Token",
    "id_token",
    "jwt",
    "Authorization",
];

fn signed_token() -> String {
    let keys = PlaybackKeys::new(&Secret::new("redaction-test-secret-0123456789abcdef"), None)
        .expect("keys");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    keys.sign(&Claims {
        sub: "code-id".into(),
        eid: "demo".into(),
        sid: "session".into(),
        sp: Claims::stream_prefix("demo"),
        iat: now,
        exp: now + 3600,
        nbf: None,
        probe: false,
    })
    .expect("sign")
}

#[test]
fn every_spelling_of_a_token_name_is_a_secret_name() {
    for name in TOKEN_SPELLINGS {
        assert!(is_secret_name(name), "{name}");
    }
    for name in [
        "__Token",
        "TOKEN",
        "tokens[0]",
        "playback-token",
        "api_key",
        "code",
    ] {
        assert!(is_secret_name(name), "{name}");
    }
    for name in [
        "_HLS_msn",
        "_HLS_part",
        "_HLS_skip",
        "start",
        "quality",
        "t",
    ] {
        assert!(!is_secret_name(name), "{name}");
    }
}

#[test]
fn queries_lose_credential_parameters_and_keep_the_rest() {
    assert_eq!(redact_query("__token=abc"), None);
    assert_eq!(
        redact_query("a=1&__TOKEN=abc&%5F%5Ftoken=x&b=2&__token[]=y").as_deref(),
        Some("a=1&b=2")
    );
    assert_eq!(
        redact_query("_HLS_msn=12&_HLS_part=3").as_deref(),
        Some("_HLS_msn=12&_HLS_part=3")
    );
    let jwt = signed_token();
    assert_eq!(
        redact_query(&format!("x={jwt}&y=2")).as_deref(),
        Some("x=[redacted]&y=2")
    );
}

#[test]
fn jwt_looking_text_is_replaced_and_the_rest_kept_as_it_was() {
    let jwt = signed_token();
    let line = format!("refused /streams/demo/{jwt}/a.ts from 10.0.0.1: bad%0Aline");
    assert_eq!(
        redact_text(&line),
        "refused /streams/demo/[redacted]/a.ts from 10.0.0.1: bad%0Aline"
    );
    for plain in [
        "GET /streams/demo/360p/seg-1.ts 200 0.4ms",
        "version 1.2.3 of a.b.c",
        "",
    ] {
        assert!(matches!(redact_text(plain), Cow::Borrowed(_)), "{plain}");
    }
}

/// `text` with each character percent-encoded with probability `p` (`%` always).
fn encode_some(rng: &mut StdRng, text: &str, p: f64) -> String {
    text.bytes()
        .map(|b| {
            if b == b'%' || !b.is_ascii() || rng.random_bool(p) {
                format!("%{b:02X}")
            } else {
                char::from(b).to_string()
            }
        })
        .collect()
}

fn random_case(rng: &mut StdRng, text: &str) -> String {
    text.chars()
        .map(|c| {
            if rng.random_bool(0.5) {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

fn glue(rng: &mut StdRng) -> String {
    const ALPHABET: &[u8] = b"abcXYZ019-_.%";
    let n = rng.random_range(0..4);
    (0..n)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// One log line carrying `jwt` somewhere, the way some client or code path might.
fn line_with(rng: &mut StdRng, jwt: &str) -> (String, Option<String>) {
    let value = match rng.random_range(0..4) {
        0 => jwt.to_owned(),
        1 => encode_some(rng, jwt, 0.2),
        2 => encode_some(rng, jwt, 1.0),
        _ => {
            let once = encode_some(rng, jwt, 0.3);
            encode_some(rng, &once, 0.3)
        }
    };
    let name = match rng.random_range(0..3) {
        0 => TOKEN_SPELLINGS[rng.random_range(0..TOKEN_SPELLINGS.len())].to_owned(),
        1 => {
            let spelling = TOKEN_SPELLINGS[rng.random_range(0..TOKEN_SPELLINGS.len())];
            random_case(rng, spelling)
        }
        _ => format!("p{}", rng.random_range(0..100)),
    };
    let (before, after) = (glue(rng), glue(rng));
    match rng.random_range(0..5) {
        0 => {
            let query = format!("a=1&{name}={before}{value}{after}&_HLS_msn=4");
            (
                format!("GET /streams/demo/index.m3u8?{query} 403 0.1ms"),
                Some(query),
            )
        }
        1 => (
            format!("GET /streams/demo/{before}{value}{after}/seg.ts 404 0.2ms"),
            None,
        ),
        2 => (
            format!("upstream error for Bearer {value}: timed out"),
            None,
        ),
        3 => (format!("{{\"{name}\":\"{before}{value}{after}\"}}"), None),
        _ => (format!("{name}: {before}{value}{after}"), None),
    }
}

#[test]
fn no_log_line_ever_contains_a_signed_token() {
    let jwt = signed_token();
    let mut rng = StdRng::seed_from_u64(16);
    for case in 0..5_000 {
        let (line, query) = line_with(&mut rng, &jwt);
        // What the HLS access log does: credential parameters dropped first, then the
        // log writer's pass over the whole line, as every line gets.
        let logged = match query {
            Some(q) => {
                let kept = redact_query(&q).unwrap_or_default();
                redact_text(&line.replace(&q, &kept)).into_owned()
            }
            None => redact_text(&line).into_owned(),
        };
        let decoded = decode_fully(&logged);
        assert!(
            !logged.contains(&jwt) && !decoded.contains(&jwt),
            "case {case}: {line:?} logged as {logged:?}"
        );
    }
}
