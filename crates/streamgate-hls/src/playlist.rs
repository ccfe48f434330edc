//! Playlist rewriting for players that cannot send an `Authorization` header (Safari's
//! and iOS's native HLS). They get the token as `?__token=`, but a query string is not
//! inherited by the relative URIs inside a playlist, so every URI the playlist names
//! (variant playlists, segments, `EXT-X-MAP`, `EXT-X-KEY`, `EXT-X-MEDIA` renditions,
//! I-frame playlists, parts and preload hints) gets the token appended.
//!
//! The rewrite is line by line rather than through a parser so that everything else in
//! the playlist (tag order, number formatting, unknown tags, comments) passes through
//! byte for byte. Only relative URIs are touched: an absolute URL points at some other
//! server, which must never receive a viewer's token.

/// The query parameter that carries a token.
pub const TOKEN_PARAM: &str = "__token";

/// Whether the playlist is complete (VOD or an ended live stream) and so may be cached.
pub fn is_complete(text: &str) -> bool {
    text.lines().any(|l| l.trim() == "#EXT-X-ENDLIST")
}

/// Appends `__token=<token>` to every relative URI of `text`.
pub fn add_token(text: &str, token: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64 * text.len() / 40);
    for line in text.split_inclusive('\n') {
        let (body, ending) = split_ending(line);
        let trimmed = body.trim();
        if trimmed.is_empty() {
            out.push_str(line);
        } else if trimmed.starts_with('#') {
            rewrite_tag(body, token, &mut out);
            out.push_str(ending);
        } else {
            out.push_str(&with_token(trimmed, token));
            out.push_str(ending);
        }
    }
    out
}

fn split_ending(line: &str) -> (&str, &str) {
    let body = line.trim_end_matches(['\r', '\n']);
    (body, &line[body.len()..])
}

/// Rewrites `URI="..."` attributes of a tag line; other tags pass unchanged.
fn rewrite_tag(line: &str, token: &str, out: &mut String) {
    let mut rest = line;
    while let Some(at) = find_uri_attr(rest) {
        let value_start = at + "URI=\"".len();
        out.push_str(&rest[..value_start]);
        let after = &rest[value_start..];
        match after.find('"') {
            Some(end) => {
                out.push_str(&with_token(&after[..end], token));
                rest = &after[end..];
            }
            None => {
                rest = after;
                break;
            }
        }
    }
    out.push_str(rest);
}

/// Position of the next `URI="` that starts an attribute (after `:` or `,`), so an
/// attribute such as `X-URI="..."` is not mistaken for it.
fn find_uri_attr(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(pos) = s[from..].find("URI=\"") {
        let at = from + pos;
        if at > 0 && matches!(s.as_bytes()[at - 1], b':' | b',') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// `uri` with the token appended, or unchanged when it is absolute or a data URI.
pub fn with_token(uri: &str, token: &str) -> String {
    if is_absolute(uri) {
        return uri.to_owned();
    }
    let (path, fragment) = match uri.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (uri, None),
    };
    // A token already present (a playlist we rewrote before, say) is replaced.
    let (base, query) = match path.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (path, None),
    };
    let mut out = String::with_capacity(uri.len() + token.len() + 10);
    out.push_str(base);
    out.push('?');
    if let Some(q) = query {
        for pair in q
            .split('&')
            .filter(|p| !p.is_empty() && p.split('=').next() != Some(TOKEN_PARAM))
        {
            out.push_str(pair);
            out.push('&');
        }
    }
    out.push_str(TOKEN_PARAM);
    out.push('=');
    out.push_str(token);
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

fn is_absolute(uri: &str) -> bool {
    if uri.starts_with("//") {
        return true;
    }
    // A scheme: letters, digits, + - . before the first ':' (and before any '/').
    match uri.find(':') {
        Some(colon) => {
            let scheme = &uri[..colon];
            !scheme.is_empty()
                && scheme.as_bytes()[0].is_ascii_alphabetic()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        }
        None => false,
    }
}

/// The query string without `__token` under any spelling (and without other
/// credentials), for logs. `None` when nothing is left. See [`streamgate_core::redact`].
pub fn redact_query(query: &str) -> Option<String> {
    streamgate_core::redact::redact_query(query)
}

/// The `__token` value of a query string, if any.
pub fn token_from_query(query: &str) -> Option<&str> {
    query
        .split('&')
        .find_map(|p| p.strip_prefix("__token="))
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: &str = "#EXTM3U\n#EXT-X-VERSION:6\n\
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"en\",URI=\"audio/en.m3u8\"\n\
#EXT-X-STREAM-INF:BANDWIDTH=510400,RESOLUTION=640x360\n360p/index.m3u8\n\n\
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1000,URI=\"iframes.m3u8\"\n\
#EXT-X-STREAM-INF:BANDWIDTH=1\nhttps://cdn.example.com/other.m3u8\n";

    #[test]
    fn every_relative_uri_of_a_master_playlist_carries_the_token() {
        let out = add_token(MASTER, "T.K.N");
        assert_eq!(
            out,
            "#EXTM3U\n#EXT-X-VERSION:6\n\
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"en\",URI=\"audio/en.m3u8?__token=T.K.N\"\n\
#EXT-X-STREAM-INF:BANDWIDTH=510400,RESOLUTION=640x360\n360p/index.m3u8?__token=T.K.N\n\n\
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1000,URI=\"iframes.m3u8?__token=T.K.N\"\n\
#EXT-X-STREAM-INF:BANDWIDTH=1\nhttps://cdn.example.com/other.m3u8\n"
        );
    }

    #[test]
    fn media_playlists_keep_every_other_byte() {
        let media = "#EXTM3U\r\n#EXT-X-TARGETDURATION:4\r\n\
#EXT-X-KEY:METHOD=AES-128,URI=\"keys/k1.key\",IV=0x1\r\n\
#EXT-X-MAP:URI=\"init.mp4\",BYTERANGE=\"720@0\"\r\n\
#EXTINF:4.000000,\r\nseg_000.m4s?v=2\r\n#EXTINF:4.000000,\r\nseg_001.m4s#t=1\r\n\
#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"data:text/plain;base64,AAAA\",X-URI=\"x\"\r\n\
#EXT-X-ENDLIST\r\n";
        let out = add_token(media, "abc");
        assert_eq!(
            out,
            "#EXTM3U\r\n#EXT-X-TARGETDURATION:4\r\n\
#EXT-X-KEY:METHOD=AES-128,URI=\"keys/k1.key?__token=abc\",IV=0x1\r\n\
#EXT-X-MAP:URI=\"init.mp4?__token=abc\",BYTERANGE=\"720@0\"\r\n\
#EXTINF:4.000000,\r\nseg_000.m4s?v=2&__token=abc\r\n#EXTINF:4.000000,\r\nseg_001.m4s?__token=abc#t=1\r\n\
#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"data:text/plain;base64,AAAA\",X-URI=\"x\"\r\n\
#EXT-X-ENDLIST\r\n"
        );
        assert!(is_complete(&out));
        assert!(!is_complete("#EXTM3U\n#EXTINF:4,\na.ts\n"));
    }

    #[test]
    fn an_old_token_is_replaced_not_doubled() {
        assert_eq!(
            with_token("a.ts?__token=old&x=1", "new"),
            "a.ts?x=1&__token=new"
        );
    }

    #[test]
    fn logs_never_see_the_token() {
        assert_eq!(redact_query("__token=abc"), None);
        assert_eq!(
            redact_query("a=1&__token=abc&b=2").as_deref(),
            Some("a=1&b=2")
        );
        assert_eq!(token_from_query("a=1&__token=abc"), Some("abc"));
        assert_eq!(token_from_query("__token="), None);
    }
}
