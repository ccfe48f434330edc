//! Playback tokens (SPEC section 4): the one thing the platform and the HLS server both
//! understand. HS256 only, with a `kid` so a rotated secret can be told apart from the
//! current one while the previous secret is still accepted for verification.
//!
//! The claims never carry the access code itself: a token travels in URLs on Safari,
//! and a leaked URL must not hand out a reusable ticket, so `sub` is the code's row id.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::secrets::{MIN_SIGNING_SECRET_LEN, Secret, SecretKind, secret_problem};

pub(crate) mod verify;

pub use verify::{ClaimsRef, MAX_TOKEN_LEN};

/// Why a token was not made or not accepted. The HLS server answers every variant with
/// the same 403, so the distinction is for logs and tests only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// The signing secret is shorter than the 32 characters SPEC section 1 requires.
    #[error("PLAYBACK_SIGNING_SECRET must be at least {MIN_SIGNING_SECRET_LEN} characters")]
    ShortSecret,
    /// Long enough but guessable: whitespace only, one repeated character, or too few
    /// distinct characters ([`crate::secrets::secret_problem`]).
    #[error(
        "PLAYBACK_SIGNING_SECRET is easy to guess (whitespace, one repeated character or too few distinct characters)"
    )]
    PoorSecret,
    /// Not three base64url parts, bad JSON, or claims missing.
    #[error("malformed token")]
    Malformed,
    /// A header algorithm other than HS256 (`none`, RS256 ...).
    #[error("algorithm not allowed")]
    WrongAlgorithm,
    /// The signature does not match any accepted key.
    #[error("bad signature")]
    BadSignature,
    /// Past `exp`.
    #[error("token expired")]
    Expired,
    /// `sp` is not the stream prefix of `eid`.
    #[error("stream path claim does not match the event")]
    PathMismatch,
    /// `nbf` or `iat` lies further in the future than the clock-skew leeway (RFC 7519
    /// 4.1.5): a token minted ahead of time must not open the stream early.
    #[error("token not valid yet")]
    NotYetValid,
    /// Signing failed (never expected with HMAC; kept so no panic is possible).
    #[error("cannot sign token: {0}")]
    Sign(String),
}

/// The claims of a playback token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The access code's id (never the code).
    pub sub: String,
    /// The event id.
    pub eid: String,
    /// The session id: ending the session revokes the token.
    pub sid: String,
    /// The path prefix the token opens: `/streams/<eid>/`.
    pub sp: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
    /// Not before, Unix seconds. StreamGate never sets it, but a token that carries one
    /// is refused until then (give or take the leeway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// A probe token: HEAD requests only (the platform's liveness probe).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub probe: bool,
}

impl Claims {
    /// The stream path prefix of an event, the `sp` claim's only valid value.
    pub fn stream_prefix(event_id: &str) -> String {
        format!("/streams/{event_id}/")
    }
}

struct Key {
    kid: String,
    encoding: EncodingKey,
    hmac: verify::HmacKey,
    /// The encoded header [`PlaybackKeys::sign`] puts on this key's tokens: a token
    /// that starts with exactly these bytes names HS256 and this key's kid, so its
    /// header need not be decoded.
    header: String,
}

impl Key {
    fn new(secret: &Secret) -> Result<Self, JwtError> {
        let bytes = secret.expose().as_bytes();
        if secret.expose().chars().count() < MIN_SIGNING_SECRET_LEN {
            return Err(JwtError::ShortSecret);
        }
        if secret_problem(SecretKind::PlaybackSigningSecret, secret.expose()).is_some() {
            return Err(JwtError::PoorSecret);
        }
        let kid = key_id(bytes);
        let encoding = EncodingKey::from_secret(bytes);
        let header = encoded_header(&kid, &encoding)?;
        Ok(Self {
            kid,
            encoding,
            hmac: verify::HmacKey::new(bytes),
            header,
        })
    }
}

/// The first part of a token signed under `kid`, taken from a real signature so it is
/// byte for byte what [`PlaybackKeys::sign`] writes.
fn encoded_header(kid: &str, encoding: &EncodingKey) -> Result<String, JwtError> {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    let token = jsonwebtoken::encode(&header, &serde_json::json!({}), encoding)
        .map_err(|e| JwtError::Sign(e.to_string()))?;
    let (first, _) = token.split_once('.').unwrap_or_default();
    Ok(first.to_owned())
}

/// A key id that names a secret without revealing it: the first 8 bytes of its
/// SHA-256, in hex. Both services derive the same id from the same secret.
fn key_id(secret: &[u8]) -> String {
    let digest = Sha256::digest(secret);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// How far in the future `nbf` and `iat` may lie by default: the clocks of a platform
/// and its edges drift by seconds, not minutes.
pub const DEFAULT_LEEWAY_SECONDS: u32 = 60;

/// The signing key and, during a rotation, the previous one (verification only).
pub struct PlaybackKeys {
    current: Key,
    previous: Option<Key>,
    leeway: i64,
}

impl std::fmt::Debug for PlaybackKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlaybackKeys")
            .field("kid", &self.current.kid)
            .field("previous_kid", &self.previous.as_ref().map(|k| &k.kid))
            .finish()
    }
}

impl PlaybackKeys {
    /// Keys from `PLAYBACK_SIGNING_SECRET` and, optionally,
    /// `PLAYBACK_SIGNING_SECRET_PREVIOUS`; both must be at least 32 characters.
    pub fn new(current: &Secret, previous: Option<&Secret>) -> Result<Self, JwtError> {
        Ok(Self {
            current: Key::new(current)?,
            previous: previous.map(Key::new).transpose()?,
            leeway: i64::from(DEFAULT_LEEWAY_SECONDS),
        })
    }

    /// The same keys with another clock-skew leeway for `nbf` and `iat`
    /// (`hls.clock_skew_seconds`). Expiry has none: `exp` is the platform's promise.
    pub fn with_leeway(mut self, seconds: u32) -> Self {
        self.leeway = i64::from(seconds);
        self
    }

    /// The `kid` new tokens carry.
    pub fn current_kid(&self) -> &str {
        &self.current.kid
    }

    /// Signs `claims` with the current secret.
    pub fn sign(&self, claims: &Claims) -> Result<String, JwtError> {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.current.encoding)
            .map_err(|e| JwtError::Sign(e.to_string()))
    }

    /// Checks algorithm, signature (current key, or the previous one during rotation),
    /// expiry, `nbf`/`iat` not in the future, required claims and that `sp` belongs to
    /// `eid`.
    pub fn verify(&self, token: &str) -> Result<Claims, JwtError> {
        self.verify_with(token, |claims| claims.to_claims())
    }

    /// [`Self::verify`] without owning the claims: `admit` sees them borrowed from the
    /// decoded payload, so the HLS gate keeps only what it needs and allocates
    /// nothing else. The HMAC over the raw `header.payload` is checked before the
    /// claims are parsed.
    pub fn verify_with<R>(
        &self,
        token: &str,
        admit: impl FnOnce(&ClaimsRef<'_>) -> R,
    ) -> Result<R, JwtError> {
        let parts = verify::split(token.as_bytes())?;
        let keys = match self.signed_header(parts.header) {
            Some(key) => [Some(key), None],
            None => verify::header_kid(parts.header, |kid| self.keys_for(kid))?,
        };
        let (mut stack, mut heap) = ([0u8; 64], Vec::new());
        let signature = verify::decode(parts.signature, &mut stack, &mut heap)?;
        if !keys
            .iter()
            .flatten()
            .any(|key| key.hmac.verifies(parts.message, signature))
        {
            return Err(JwtError::BadSignature);
        }
        let (mut stack, mut heap) = ([0u8; 1024], Vec::new());
        let payload = verify::decode(parts.payload, &mut stack, &mut heap)?;
        let claims: ClaimsRef<'_> = verify::object(payload)?;
        if claims.is_malformed() {
            return Err(JwtError::Malformed);
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if claims.exp < now {
            return Err(JwtError::Expired);
        }
        if !claims.path_matches() {
            return Err(JwtError::PathMismatch);
        }
        // `nbf` and `iat` may lie in the future by the leeway, no further.
        let latest = now + self.leeway;
        if claims.iat > latest || claims.nbf.is_some_and(|nbf| nbf > latest) {
            return Err(JwtError::NotYetValid);
        }
        Ok(admit(&claims))
    }

    /// The key whose own header `header` is, byte for byte (see [`Key::header`]).
    fn signed_header(&self, header: &[u8]) -> Option<&Key> {
        std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .find(|key| key.header.as_bytes() == header)
    }

    /// The keys a token's `kid` picks: that key, or without one (or an unknown one)
    /// every key, so tokens made before kids existed still verify.
    fn keys_for(&self, kid: Option<&str>) -> [Option<&Key>; 2] {
        match kid {
            Some(kid) if kid == self.current.kid => [Some(&self.current), None],
            Some(kid) if self.previous.as_ref().is_some_and(|p| p.kid == kid) => {
                [self.previous.as_ref(), None]
            }
            _ => [Some(&self.current), self.previous.as_ref()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const OTHER: &str = "fedcba9876543210fedcba9876543210";

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "code-id".into(),
            eid: "demo".into(),
            sid: "session".into(),
            sp: Claims::stream_prefix("demo"),
            iat: now(),
            exp,
            nbf: None,
            probe: false,
        }
    }

    fn keys(current: &str, previous: Option<&str>) -> PlaybackKeys {
        PlaybackKeys::new(&Secret::new(current), previous.map(Secret::new).as_ref()).expect("keys")
    }

    #[test]
    fn round_trip_carries_every_claim_and_a_kid() {
        let k = keys(SECRET, None);
        let c = claims(now() + 60);
        let token = k.sign(&c).expect("sign");
        assert_eq!(k.verify(&token), Ok(c));
        let header = jsonwebtoken::decode_header(&token).expect("header");
        assert_eq!(header.kid.as_deref(), Some(k.current_kid()));
        assert!(!token.contains("probe"), "probe is omitted when false");
    }

    #[test]
    fn short_and_poor_secrets_are_refused() {
        assert!(matches!(
            PlaybackKeys::new(&Secret::new("short"), None),
            Err(JwtError::ShortSecret)
        ));
        let spaces = Secret::new(" ".repeat(40));
        assert!(matches!(
            PlaybackKeys::new(&spaces, None),
            Err(JwtError::PoorSecret)
        ));
        assert!(matches!(
            PlaybackKeys::new(&Secret::new(SECRET), Some(&spaces)),
            Err(JwtError::PoorSecret)
        ));
    }

    #[test]
    fn expired_tampered_and_foreign_tokens_fail() {
        let k = keys(SECRET, None);
        assert_eq!(
            k.verify(&k.sign(&claims(now() - 1)).expect("sign")),
            Err(JwtError::Expired)
        );
        let foreign = keys(OTHER, None).sign(&claims(now() + 60)).expect("sign");
        assert_eq!(k.verify(&foreign), Err(JwtError::BadSignature));
        let token = k.sign(&claims(now() + 60)).expect("sign");
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut c = claims(now() + 60);
        c.eid = "other".into();
        c.sp = Claims::stream_prefix("other");
        parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&c).expect("json"));
        assert_eq!(k.verify(&parts.join(".")), Err(JwtError::BadSignature));
        assert_eq!(k.verify("not.a.token"), Err(JwtError::Malformed));
        assert_eq!(k.verify(""), Err(JwtError::Malformed));
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused() {
        let k = keys(SECRET, None);
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&claims(now() + 60)).expect("json"));
        for alg in ["none", "HS384", "RS256"] {
            let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
            let token = format!("{header}.{body}.");
            assert!(
                matches!(
                    k.verify(&token),
                    Err(JwtError::WrongAlgorithm | JwtError::Malformed)
                ),
                "{alg} accepted"
            );
        }
    }

    #[test]
    fn mismatched_stream_path_is_refused() {
        let k = keys(SECRET, None);
        let mut c = claims(now() + 60);
        c.sp = "/streams/".into();
        assert_eq!(
            k.verify(&k.sign(&c).expect("sign")),
            Err(JwtError::PathMismatch)
        );
    }

    #[test]
    fn rotation_accepts_the_previous_secret_until_it_is_dropped() {
        let old = keys(OTHER, None);
        let token = old.sign(&claims(now() + 60)).expect("sign");
        let rotated = keys(SECRET, Some(OTHER));
        assert!(rotated.verify(&token).is_ok());
        assert_ne!(rotated.current_kid(), old.current_kid());
        let after = keys(SECRET, None);
        assert_eq!(after.verify(&token), Err(JwtError::BadSignature));
    }

    #[test]
    fn nbf_and_iat_in_the_future_are_refused_beyond_the_leeway() {
        let k = keys(SECRET, None);
        let sign = |iat: i64, nbf: Option<i64>| {
            let mut c = claims(now() + 7200);
            c.iat = iat;
            c.nbf = nbf;
            k.sign(&c).expect("sign")
        };
        let refused = [
            ("nbf an hour ahead", sign(now(), Some(now() + 3600))),
            ("nbf two minutes ahead", sign(now(), Some(now() + 120))),
            ("iat a day ahead", sign(now() + 86_400, None)),
            ("iat two minutes ahead", sign(now() + 120, None)),
        ];
        for (what, token) in &refused {
            assert_eq!(k.verify(token), Err(JwtError::NotYetValid), "{what}");
        }
        // Inside the 60 s leeway: a few seconds of clock skew between services.
        assert!(k.verify(&sign(now() + 10, Some(now() + 10))).is_ok());
        assert!(k.verify(&sign(now() - 60, Some(now() - 60))).is_ok());
        // The leeway is configurable; with none, ten seconds ahead is too early.
        let strict = keys(SECRET, None).with_leeway(0);
        let mut c = claims(now() + 7200);
        c.iat = now() + 10;
        assert_eq!(
            strict.verify(&strict.sign(&c).expect("sign")),
            Err(JwtError::NotYetValid)
        );
    }
}
