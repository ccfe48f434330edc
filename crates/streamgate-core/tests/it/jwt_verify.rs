//! The hand-written token verifier against jsonwebtoken, which did the job before:
//! every token of a corpus of well-formed, malformed, tampered and oddly signed
//! tokens gets the same answer (the same claims, or the same error) from both, except
//! tokens over `MAX_TOKEN_LEN`, which the new verifier refuses unread.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use streamgate_core::Secret;
use streamgate_core::jwt::{Claims, JwtError, MAX_TOKEN_LEN, PlaybackKeys};

const SECRET: &str = "0123456789abcdef0123456789abcdef";
const PREVIOUS: &str = "fedcba9876543210fedcba9876543210";
/// Longer than an HMAC block, so the key is hashed first (RFC 2104).
const LONG: &str = "a-signing-secret-that-is-longer-than-one-sha256-block-of-64-bytes-0123456789";

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn kid(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What `PlaybackKeys::verify` did before, through jsonwebtoken (leeway 60 s).
fn reference(current: &str, previous: Option<&str>, token: &str) -> Result<Claims, JwtError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| JwtError::Malformed)?;
    if header.alg != Algorithm::HS256 {
        return Err(JwtError::WrongAlgorithm);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "iat", "sub"]);
    validation.leeway = 0;
    let all: Vec<&str> = std::iter::once(current).chain(previous).collect();
    let keys: Vec<&str> = match header.kid.as_deref() {
        Some(k) if k == kid(current) => vec![current],
        Some(k) if previous.is_some_and(|p| kid(p) == k) => previous.into_iter().collect(),
        _ => all,
    };
    let mut last = JwtError::BadSignature;
    for secret in keys {
        let key = DecodingKey::from_secret(secret.as_bytes());
        match jsonwebtoken::decode::<Claims>(token, &key, &validation) {
            Ok(data) => {
                let c = data.claims;
                if c.sp != Claims::stream_prefix(&c.eid) {
                    return Err(JwtError::PathMismatch);
                }
                let latest = now() + 60;
                if c.iat > latest || c.nbf.is_some_and(|nbf| nbf > latest) {
                    return Err(JwtError::NotYetValid);
                }
                return Ok(c);
            }
            Err(e) => {
                use jsonwebtoken::errors::ErrorKind;
                last = match e.kind() {
                    ErrorKind::InvalidSignature => JwtError::BadSignature,
                    ErrorKind::ExpiredSignature => return Err(JwtError::Expired),
                    ErrorKind::InvalidAlgorithm => return Err(JwtError::WrongAlgorithm),
                    _ => return Err(JwtError::Malformed),
                };
            }
        }
    }
    Err(last)
}

fn b64(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

/// `header.payload` signed with HS256 under `secret`, whatever the header says.
fn signed(header: &str, payload: &str, secret: &str) -> String {
    signed_raw(&b64(header), &b64(payload), secret)
}

/// Like [`signed`] with the parts given already encoded (or not base64 at all).
fn signed_raw(header: &str, payload: &str, secret: &str) -> String {
    let message = format!("{header}.{payload}");
    let key = EncodingKey::from_secret(secret.as_bytes());
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256).expect("sign");
    format!("{message}.{signature}")
}

fn header(secret: &str) -> String {
    json!({"alg": "HS256", "typ": "JWT", "kid": kid(secret)}).to_string()
}

fn claims() -> Value {
    json!({
        "sub": "code-id", "eid": "demo", "sid": "session", "sp": "/streams/demo/",
        "iat": now(), "exp": now() + 600
    })
}

fn with(field: &str, value: Value) -> String {
    let mut c = claims();
    c[field] = value;
    c.to_string()
}

type Cases = Vec<(String, String)>;

fn named(cases: Vec<(&str, String)>) -> Cases {
    cases.into_iter().map(|(n, t)| (n.to_owned(), t)).collect()
}

/// Tokens of every kind, each with a name for the failure message.
fn corpus() -> Cases {
    let mut all = keys_and_tampering();
    all.extend(headers());
    all.extend(claim_values());
    all.extend(structure());
    all
}

/// Which key signed, and bytes changed after signing.
fn keys_and_tampering() -> Cases {
    let (h, c) = (header(SECRET), claims().to_string());
    let good = signed(&h, &c, SECRET);
    let (message, sig) = good.rsplit_once('.').expect("dots");
    let (head, body) = message.split_once('.').expect("dots");
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    named(vec![
        ("valid", good.clone()),
        ("valid, long key", signed(&header(LONG), &c, LONG)),
        ("previous key", signed(&header(PREVIOUS), &c, PREVIOUS)),
        ("previous key, current kid", signed(&h, &c, PREVIOUS)),
        (
            "foreign key",
            signed(&h, &c, "zyxwvutsrqponmlkjihgfedcba987654"),
        ),
        (
            "payload tampered",
            format!("{head}.{}.{sig}", b64(&with("eid", json!("other")))),
        ),
        (
            "header tampered",
            format!("{}.{body}.{sig}", b64(r#"{"alg":"HS256","kid":"0"}"#)),
        ),
        (
            "signature flipped",
            format!("{message}.{flipped}{}", &sig[1..]),
        ),
        ("signature truncated", format!("{message}.{}", &sig[..40])),
        ("signature too long", format!("{message}.{sig}AAAA")),
        ("signature empty", format!("{message}.")),
        ("signature not base64", format!("{message}.!!!!")),
        ("signature padded", format!("{message}.{sig}=")),
        ("payload not base64", format!("{head}.%%%.{sig}")),
        (
            "payload not base64, signed",
            signed_raw(head, "%%%", SECRET),
        ),
        (
            "payload padded, signed",
            signed_raw(head, &format!("{body}="), SECRET),
        ),
        ("header not base64", format!("***.{body}.{sig}")),
        ("header not base64, signed", signed_raw("***", body, SECRET)),
        ("header padded", format!("{head}=.{body}.{sig}")),
    ])
}

/// Headers other than StreamGate's, each signed correctly.
fn headers() -> Cases {
    let c = claims().to_string();
    let big = format!(r#"{{"alg":"HS256","typ":"{}"}}"#, "t".repeat(400));
    let mut cases: Vec<(&str, &str)> = vec![
        ("valid, no kid", r#"{"alg":"HS256"}"#),
        ("valid, unknown kid", r#"{"alg":"HS256","kid":"x"}"#),
        (
            "unknown header fields",
            r#"{"alg":"HS256","x5u":"u","zzz":1}"#,
        ),
        ("header with spaces", r#" {"alg":"HS256"} "#),
        ("alg none", r#"{"alg":"none"}"#),
        ("alg HS384", r#"{"alg":"HS384"}"#),
        ("alg RS256", r#"{"alg":"RS256"}"#),
        ("alg EdDSA", r#"{"alg":"EdDSA"}"#),
        ("alg lower case", r#"{"alg":"hs256"}"#),
        ("alg missing", r#"{"typ":"JWT"}"#),
        ("alg a number", r#"{"alg":256}"#),
        ("alg twice", r#"{"alg":"HS256","alg":"HS256"}"#),
        ("kid a number", r#"{"alg":"HS256","kid":7}"#),
        ("header not JSON", "alg=HS256"),
        ("header an array", r#"["HS256"]"#),
        ("header trailing bytes", r#"{"alg":"HS256"} x"#),
    ];
    cases.push(("big header (heap)", &big));
    cases
        .into_iter()
        .map(|(name, h)| (name.to_owned(), signed(h, &c, SECRET)))
        .collect()
}

/// Claims StreamGate never signs, signed correctly.
fn claim_values() -> Cases {
    let t = now();
    let changed: Vec<(&str, &str, Value)> = vec![
        ("probe", "probe", json!(true)),
        ("unknown claims", "xyz", json!({"a": [1, 2]})),
        ("big payload (heap)", "pad", json!("p".repeat(3000))),
        ("expired", "exp", json!(t - 1)),
        ("exp negative", "exp", json!(-5)),
        ("exp a float", "exp", json!(1.0e10)),
        ("exp a string", "exp", json!("soon")),
        ("exp null", "exp", Value::Null),
        ("sub a number", "sub", json!(5)),
        ("aud a string", "aud", json!("viewers")),
        ("aud a list", "aud", json!(["a", "b"])),
        ("aud empty list", "aud", json!([])),
        ("aud a number", "aud", json!(5)),
        ("aud null", "aud", Value::Null),
        ("iss", "iss", json!("me")),
        ("probe a string", "probe", json!("yes")),
        ("nbf a float", "nbf", json!(1.5)),
        ("nbf ahead", "nbf", json!(t + 3600)),
        ("iat ahead", "iat", json!(t + 3600)),
        ("iat within leeway", "iat", json!(t + 10)),
        ("sp of another event", "sp", json!("/streams/other/")),
        ("sp without slash", "sp", json!("/streams/demo")),
    ];
    let h = header(SECRET);
    let c = claims().to_string();
    let mut cases: Vec<(&str, String)> = changed
        .into_iter()
        .map(|(name, field, value)| (name, signed(&h, &with(field, value), SECRET)))
        .collect();
    let without = |field: &str| {
        let mut c = claims();
        c.as_object_mut().map(|o| o.remove(field));
        signed(&h, &c.to_string(), SECRET)
    };
    let prefixed = |extra: &str| signed(&h, &c.replacen('{', &format!("{{{extra},"), 1), SECRET);
    let array = format!(
        r#"["code-id","demo","session","/streams/demo/",{t},{}]"#,
        t + 60
    );
    cases.extend([
        ("exp missing", without("exp")),
        ("sub missing", without("sub")),
        ("exp twice", prefixed(&format!(r#""exp":{}"#, t + 60))),
        ("iss twice", prefixed(r#""iss":"a","iss":"b""#)),
        ("aud twice", prefixed(r#""aud":1,"aud":2"#)),
        (
            "escaped strings",
            signed(&h, &c.replace("demo", "de\\u006do"), SECRET),
        ),
        ("claims an array, signed", signed(&h, &array, SECRET)),
        ("payload an array", signed(&h, "[1,2]", SECRET)),
        ("payload not JSON", signed(&h, "exp=1", SECRET)),
        (
            "payload trailing bytes",
            signed(&h, &format!("{c} []"), SECRET),
        ),
    ]);
    named(cases)
}

/// Not three base64url parts.
fn structure() -> Cases {
    let good = signed(&header(SECRET), &claims().to_string(), SECRET);
    let (message, sig) = good.rsplit_once('.').expect("dots");
    let (head, body) = message.split_once('.').expect("dots");
    let limit = format!("{}.{}", "A".repeat(MAX_TOKEN_LEN - 50), "B".repeat(40));
    named(vec![
        ("empty", String::new()),
        ("dots only", "..".into()),
        ("two parts", format!("{head}.{body}")),
        ("four parts", format!("{good}.{sig}")),
        ("not.a.token", "not.a.token".into()),
        ("leading space", format!(" {good}")),
        ("non-ASCII", format!("{head}.é{body}.{sig}")),
        ("just under the size limit", limit),
    ])
}

#[test]
fn every_token_gets_the_answer_jsonwebtoken_gave() {
    let keys = PlaybackKeys::new(&Secret::new(SECRET), Some(&Secret::new(PREVIOUS))).expect("keys");
    let long = PlaybackKeys::new(&Secret::new(LONG), None).expect("keys");
    for (name, token) in corpus() {
        let (ours, theirs) = if name.contains("long key") {
            (long.verify(&token), reference(LONG, None, &token))
        } else {
            (
                keys.verify(&token),
                reference(SECRET, Some(PREVIOUS), &token),
            )
        };
        assert_eq!(ours, theirs, "{name}: {token}");
    }
}

#[test]
fn refusals_name_the_first_thing_wrong() {
    let keys = PlaybackKeys::new(&Secret::new(SECRET), None).expect("keys");
    let corpus = corpus();
    let verdict = |name: &str| {
        let (_, token) = corpus.iter().find(|(n, _)| n == name).expect(name);
        keys.verify(token)
    };
    assert!(verdict("valid").is_ok());
    assert_eq!(verdict("escaped strings").expect("valid").eid, "demo");
    assert!(verdict("big payload (heap)").is_ok());
    assert!(verdict("big header (heap)").is_ok());
    for name in [
        "payload tampered",
        "header tampered",
        "signature flipped",
        "signature truncated",
        "signature empty",
        "foreign key",
        "previous key",
        // The signature is checked before the payload is even decoded.
        "payload not base64",
    ] {
        assert_eq!(verdict(name), Err(JwtError::BadSignature), "{name}");
    }
    for name in ["alg HS384", "alg RS256", "alg EdDSA"] {
        assert_eq!(verdict(name), Err(JwtError::WrongAlgorithm), "{name}");
    }
    for name in [
        "alg none",
        "signature not base64",
        "header not base64",
        "payload not base64, signed",
        "header an array",
        "claims an array, signed",
        "aud a string",
        "exp negative",
        "exp twice",
        "payload trailing bytes",
        "four parts",
        "empty",
    ] {
        assert_eq!(verdict(name), Err(JwtError::Malformed), "{name}");
    }
    assert_eq!(verdict("expired"), Err(JwtError::Expired));
    assert_eq!(verdict("sp of another event"), Err(JwtError::PathMismatch));
    assert_eq!(verdict("iat ahead"), Err(JwtError::NotYetValid));
}

#[test]
fn a_token_over_the_size_limit_is_malformed_even_when_signed() {
    let keys = PlaybackKeys::new(&Secret::new(SECRET), None).expect("keys");
    let huge = signed(
        &header(SECRET),
        &with("pad", json!("p".repeat(MAX_TOKEN_LEN))),
        SECRET,
    );
    assert!(huge.len() > MAX_TOKEN_LEN);
    assert!(
        reference(SECRET, None, &huge).is_ok(),
        "jsonwebtoken read it"
    );
    assert_eq!(keys.verify(&huge), Err(JwtError::Malformed));
    let megabyte = "A".repeat(1 << 20) + ".B.C";
    assert_eq!(keys.verify(&megabyte), Err(JwtError::Malformed));
}

#[test]
fn borrowed_claims_match_the_owned_ones() {
    let keys = PlaybackKeys::new(&Secret::new(SECRET), None).expect("keys");
    let token = signed(&header(SECRET), &with("probe", json!(true)), SECRET);
    let owned = keys.verify(&token).expect("valid");
    let borrowed = keys.verify_with(&token, |c| c.to_claims()).expect("valid");
    assert_eq!(owned, borrowed);
    assert!(owned.probe);
    assert_eq!(
        keys.verify_with("x.y.z", |c| c.exp),
        Err(JwtError::Malformed)
    );
}
