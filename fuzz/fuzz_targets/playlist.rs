//! The playlist rewriter that makes query-token playback work: whatever the text, it
//! must not panic, every relative URI line of the output must carry the token while an
//! absolute one (another server) must not, and nothing the server would read as a
//! token survives `redact_query` (the form logs see).
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamgate_hls::playlist::{
    add_token, is_complete, redact_query, token_from_query, with_token,
};

/// RFC 3986: a scheme (a letter, then letters, digits, `+`, `-`, `.`) and a colon, or
/// a network-path reference (`//host/...`).
fn absolute(uri: &str) -> bool {
    if uri.starts_with("//") {
        return true;
    }
    uri.split_once(':').is_some_and(|(scheme, _)| {
        scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (token, playlist) = match text.split_once('\n') {
        Some((t, rest))
            if !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) =>
        {
            (t.to_owned(), rest.to_owned())
        }
        _ => ("tok.en_-1".to_owned(), text.to_string()),
    };
    let _ = is_complete(&playlist);
    let out = add_token(&playlist, &token);
    for line in out.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if absolute(line) {
            // Another server's URL passes through untouched: no token is added to it.
            assert!(
                playlist.lines().any(|l| l.trim() == line),
                "absolute URI changed: {line:?}"
            );
        } else {
            assert!(
                line.contains("__token="),
                "relative URI without the token: {line:?}"
            );
        }
    }
    let uri = with_token(&playlist, &token);
    assert_eq!(
        uri.contains(&format!("__token={token}")),
        !absolute(&playlist) || playlist.contains(&format!("__token={token}"))
    );
    // Redaction removes whatever the server would read as a token.
    for query in [
        playlist.as_str(),
        uri.split_once('?').map_or("", |(_, q)| q),
    ] {
        let read = token_from_query(query);
        if let Some(redacted) = redact_query(query) {
            assert_eq!(
                token_from_query(&redacted),
                None,
                "a token survived redaction of {query:?}"
            );
            if let Some(token) = read {
                assert!(!redacted.split('&').any(|p| p == format!("__token={token}")));
            }
        }
    }
});
