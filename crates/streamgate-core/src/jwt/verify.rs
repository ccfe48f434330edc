//! The verification path of a playback token, written out instead of left to
//! jsonwebtoken (which stays for signing).
//!
//! The HLS gate verifies every token it has not seen before, and at the start of a big
//! event that is every request. jsonwebtoken decodes the header twice, builds an HMAC
//! key per call, parses the claims into a `serde_json::Value` and then twice more into
//! structs, allocating all the way. Here the HMAC pads of each key are absorbed once,
//! the signature over the raw `header.payload` bytes is checked before any claim is
//! parsed (a forged token costs one HMAC and no JSON), and the claims are parsed into
//! [`ClaimsRef`], which borrows from a stack buffer.
//!
//! The accept/refuse decisions and their order are jsonwebtoken's as StreamGate used it
//! (`HS256` only, `exp`/`iat`/`sub` required, no leeway on `exp`, any `aud` refused):
//! malformed structure or header, then algorithm, then signature, then malformed
//! claims, then expiry, stream path and `nbf`/`iat`. One addition: a token longer than
//! [`MAX_TOKEN_LEN`] is malformed without being decoded.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::IgnoredAny;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Claims, JwtError};

/// The longest token looked at. StreamGate's tokens are about 350 bytes; one of
/// kilobytes is not ours, and refusing it before decoding bounds what a stranger can
/// make the gate hash.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Algorithms jsonwebtoken knows: a header naming one of them other than `HS256` is
/// [`JwtError::WrongAlgorithm`], any other name is [`JwtError::Malformed`], as before.
const KNOWN_ALGORITHMS: [&str; 12] = [
    "HS256", "HS384", "HS512", "ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "PS384",
    "PS512", "EdDSA",
];

/// HMAC-SHA256 (RFC 2104) with the key's inner and outer pads already hashed, so a
/// verification costs the message's blocks plus two, not four.
#[derive(Clone)]
pub(crate) struct HmacKey {
    inner: Sha256,
    outer: Sha256,
}

impl HmacKey {
    /// The pads of `secret` (hashed first when longer than a block, per RFC 2104).
    pub(crate) fn new(secret: &[u8]) -> Self {
        let mut block = [0u8; 64];
        if secret.len() > block.len() {
            block[..32].copy_from_slice(&Sha256::digest(secret));
        } else {
            block[..secret.len()].copy_from_slice(secret);
        }
        let padded = |pad: u8| {
            let mut hash = Sha256::new();
            hash.update(block.map(|b| b ^ pad));
            hash
        };
        Self {
            inner: padded(0x36),
            outer: padded(0x5c),
        }
    }

    /// The tag of `message`.
    pub(crate) fn tag(&self, message: &[u8]) -> [u8; 32] {
        let mut inner = self.inner.clone();
        inner.update(message);
        let mut outer = self.outer.clone();
        outer.update(inner.finalize());
        outer.finalize().into()
    }

    /// Whether `signature` is the tag of `message`, compared in constant time.
    pub(super) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        signature.len() == 32 && bool::from(self.tag(message).ct_eq(signature))
    }
}

/// The header fields StreamGate reads; others are ignored.
#[derive(Deserialize)]
struct HeaderRef<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(default, borrow)]
    kid: Option<Cow<'a, str>>,
    #[serde(default, borrow, rename = "typ")]
    _typ: Option<Cow<'a, str>>,
    #[serde(default, borrow, rename = "cty")]
    _cty: Option<Cow<'a, str>>,
}

/// An `aud` claim: jsonwebtoken refuses one that parses (a string or a list of them)
/// when no audience is expected, and StreamGate expects none.
#[derive(Deserialize)]
#[serde(untagged)]
#[expect(dead_code, reason = "only which variant parsed matters")]
enum Audience<'a> {
    One(#[serde(borrow)] Cow<'a, str>),
    Many(#[serde(borrow)] Vec<Cow<'a, str>>),
    Other(IgnoredAny),
}

/// The claims of a token being verified, borrowed from its decoded payload: what the
/// HLS gate reads on a token's first request without allocating. Same fields and
/// meaning as [`Claims`].
#[derive(Debug, Deserialize)]
pub struct ClaimsRef<'a> {
    /// The access code's id.
    #[serde(borrow)]
    pub sub: Cow<'a, str>,
    /// The event id.
    #[serde(borrow)]
    pub eid: Cow<'a, str>,
    /// The session id.
    #[serde(borrow)]
    pub sid: Cow<'a, str>,
    /// The path prefix the token opens.
    #[serde(borrow)]
    pub sp: Cow<'a, str>,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
    /// Not before, Unix seconds.
    #[serde(default)]
    pub nbf: Option<i64>,
    /// A probe token (HEAD only).
    #[serde(default)]
    pub probe: bool,
    #[serde(default, borrow, rename = "aud")]
    aud: Option<Audience<'a>>,
    // Declared so a duplicated `iss` is malformed, as it was.
    #[serde(default, rename = "iss")]
    _iss: Option<IgnoredAny>,
}

impl std::fmt::Debug for Audience<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Audience")
    }
}

impl ClaimsRef<'_> {
    /// The owned claims.
    pub fn to_claims(&self) -> Claims {
        Claims {
            sub: self.sub.clone().into_owned(),
            eid: self.eid.clone().into_owned(),
            sid: self.sid.clone().into_owned(),
            sp: self.sp.clone().into_owned(),
            iat: self.iat,
            exp: self.exp,
            nbf: self.nbf,
            probe: self.probe,
        }
    }

    /// Whether `sp` is exactly `/streams/<eid>/` ([`Claims::stream_prefix`]), without
    /// building that string.
    pub(super) fn path_matches(&self) -> bool {
        self.sp
            .strip_prefix("/streams/")
            .and_then(|rest| rest.strip_suffix('/'))
            == Some(&*self.eid)
    }

    /// What jsonwebtoken's claim validation refused as malformed: an `exp` that is
    /// not a non-negative integer, or any audience.
    pub(super) fn is_malformed(&self) -> bool {
        self.exp < 0 || matches!(self.aud, Some(Audience::One(_) | Audience::Many(_)))
    }
}

/// A token cut at its last two dots, the way jsonwebtoken cuts it (extra dots end up
/// in the header, which then fails to decode).
pub(super) struct Parts<'a> {
    /// The encoded header.
    pub header: &'a [u8],
    /// The encoded claims.
    pub payload: &'a [u8],
    /// `header.payload`, what the signature covers.
    pub message: &'a [u8],
    /// The encoded signature.
    pub signature: &'a [u8],
}

/// Cuts `token` into its [`Parts`]; a token over [`MAX_TOKEN_LEN`] or with fewer than
/// two dots is malformed.
pub(super) fn split(token: &[u8]) -> Result<Parts<'_>, JwtError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError::Malformed);
    }
    let dot = |s: &[u8]| {
        s.iter()
            .rposition(|b| *b == b'.')
            .ok_or(JwtError::Malformed)
    };
    let last = dot(token)?;
    let (message, signature) = (&token[..last], &token[last + 1..]);
    let middle = dot(message)?;
    Ok(Parts {
        header: &message[..middle],
        payload: &message[middle + 1..],
        message,
        signature,
    })
}

/// Decodes one base64url part (no padding, as jsonwebtoken) into `stack` when it fits,
/// else into `heap`.
pub(super) fn decode<'b>(
    part: &[u8],
    stack: &'b mut [u8],
    heap: &'b mut Vec<u8>,
) -> Result<&'b [u8], JwtError> {
    if base64::decoded_len_estimate(part.len()) <= stack.len() {
        let n = URL_SAFE_NO_PAD
            .decode_slice(part, stack)
            .map_err(|_| JwtError::Malformed)?;
        Ok(&stack[..n])
    } else {
        *heap = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| JwtError::Malformed)?;
        Ok(heap.as_slice())
    }
}

/// A JSON object parsed into `T`. serde would also fill a struct from an array, by
/// position; jsonwebtoken's structs never accepted one for a header or claims.
pub(super) fn object<'a, T: Deserialize<'a>>(json: &'a [u8]) -> Result<T, JwtError> {
    let first = json
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    if first != Some(&b'{') {
        return Err(JwtError::Malformed);
    }
    serde_json::from_slice(json).map_err(|_| JwtError::Malformed)
}

/// The header's `kid`, after checking that its `alg` is `HS256`; calls `with` with it
/// while the decoded header is alive.
pub(super) fn header_kid<R>(
    header: &[u8],
    with: impl FnOnce(Option<&str>) -> R,
) -> Result<R, JwtError> {
    let (mut stack, mut heap) = ([0u8; 256], Vec::new());
    let bytes = decode(header, &mut stack, &mut heap)?;
    let header: HeaderRef<'_> = object(bytes)?;
    match &*header.alg {
        "HS256" => Ok(with(header.kid.as_deref())),
        alg if KNOWN_ALGORITHMS.contains(&alg) => Err(JwtError::WrongAlgorithm),
        _ => Err(JwtError::Malformed),
    }
}
