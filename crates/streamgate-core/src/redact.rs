//! Keeping credentials out of logs, by meaning rather than by one spelling.
//!
//! A player or a curious viewer may send a playback token under any name: `__token`,
//! `%5F%5Ftoken`, `__TOKEN`, `__token[]`, `token`, `access_token`. The HLS server only
//! reads `__token`, but every spelling reaches the access log, and a token in a log is a
//! key to the stream for whoever reads the log. Two rules cover what a spelling rule
//! cannot:
//!
//! - a query parameter is dropped from logged URLs when its name, percent-decoded
//!   (repeatedly), case-folded and stripped of punctuation and `[...]` suffixes,
//!   contains a credential word ([`is_secret_name`]);
//! - anything that looks like a JWT (three base64url parts, the first a JSON object) is
//!   replaced by `[redacted]` wherever it stands ([`redact_text`]), in the clear or
//!   percent-encoded.
//!
//! Both services write every log line through [`redact_text`] (the CLI's log writer),
//! and the HLS access log drops credential parameters with [`redact_query`].

use std::borrow::Cow;

use base64::Engine as _;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Words that make a parameter name a credential once normalised (`accesstoken`,
/// `idtoken`, `jwt`, `authorization`, `apikey`, `code` ...). Over-matching only hides a
/// harmless value from a log; under-matching leaks a key.
const SECRET_WORDS: [&str; 10] = [
    "token",
    "jwt",
    "auth",
    "bearer",
    "secret",
    "pass",
    "key",
    "code",
    "sig",
    "credential",
];

/// How many rounds of percent-decoding a name gets (`%255F` is `%5F` is `_`).
const DECODE_ROUNDS: usize = 4;

/// Whether a query parameter called `name` (as sent, still encoded) carries a
/// credential: percent-decoded until stable, `+` as space, case-folded, only letters and
/// digits kept, `[...]` suffixes dropped, then checked for a credential word.
pub fn is_secret_name(name: &str) -> bool {
    let folded = normalise_name(name);
    SECRET_WORDS.iter().any(|w| folded.contains(w))
}

fn normalise_name(name: &str) -> String {
    let spaced = name.replace('+', " ");
    let decoded = decode_fully(&spaced);
    let base = decoded.split('[').next().unwrap_or_default();
    base.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// `%XX` sequences decoded (invalid ones kept as they are), bytes read as UTF-8 lossily.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            // Two hex digits make at most 255.
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// [`percent_decode`] until nothing changes (at most a few rounds).
fn decode_fully(text: &str) -> Cow<'_, str> {
    let mut decoded = Cow::Borrowed(text);
    for _ in 0..DECODE_ROUNDS {
        if !decoded.contains('%') {
            break;
        }
        let next = percent_decode(&decoded);
        if next == *decoded {
            break;
        }
        decoded = Cow::Owned(next);
    }
    decoded
}

/// A query string fit for a log: parameters with credential names dropped, JWT-looking
/// values of the others replaced. `None` when nothing is left.
pub fn redact_query(query: &str) -> Option<String> {
    let kept: Vec<Cow<'_, str>> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| !is_secret_name(p.split('=').next().unwrap_or_default()))
        .map(redact_text)
        .collect();
    (!kept.is_empty()).then(|| kept.join("&"))
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Bytes a token can be spelled with in a log: base64url, dots, and `%` escapes.
fn is_run_byte(b: u8) -> bool {
    is_b64url(b) || b == b'.' || b == b'%'
}

/// Whether a base64url part is a JWT header: it holds `eyJ` (`{"` encoded, the start
/// of every header, even with characters glued in front) or decodes to a JSON object.
fn is_header_part(part: &str) -> bool {
    if part.contains("eyJ") {
        return true;
    }
    // Enough of the part to see its first characters.
    let head = &part[..part.len().min(64) / 4 * 4];
    !head.is_empty()
        && base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(head)
            .ok()
            .and_then(|bytes| bytes.into_iter().find(|b| !b.is_ascii_whitespace()))
            == Some(b'{')
}

/// `text` with every JWT-looking run replaced by [`REDACTED`]. A run is a maximal
/// stretch of base64url characters, dots and `%` escapes; it is replaced when, once
/// percent-decoded, it holds a header part followed by two more dot-separated parts:
/// a signed token inside a URL, a header dump or an error message, in the clear or
/// encoded. Nothing is decoded in the output, so an encoded newline stays encoded.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let (mut copied, mut i) = (0, 0);
    while i < bytes.len() {
        if !is_run_byte(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_run_byte(bytes[i]) {
            i += 1;
        }
        // Run bytes are ASCII, so `start` and `i` are character boundaries.
        if run_holds_jwt(&text[start..i]) {
            let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
            o.push_str(&text[copied..start]);
            o.push_str(REDACTED);
            copied = i;
        }
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
    }
}

/// Whether a run holds a header part and two parts after it.
fn run_holds_jwt(run: &str) -> bool {
    if !run.contains('.') && !run.contains('%') {
        return false;
    }
    // The run as written (a `%` glued in front must not hide a token behind it) and
    // decoded (an encoded token).
    holds_jwt_piece(run) || holds_jwt_piece(&decode_fully(run))
}

fn holds_jwt_piece(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .any(|piece| {
            let parts: Vec<&str> = piece.split('.').collect();
            (0..parts.len().saturating_sub(2)).any(|n| is_header_part(parts[n]))
        })
}

#[cfg(test)]
mod tests;
