//! Playlist rewriting, for two reasons.
//!
//! Players that cannot send an `Authorization` header (Safari's and iOS's native HLS)
//! get the token as `?__token=`, but a query string is not inherited by the relative
//! URIs inside a playlist, so every URI the playlist names gets the token appended:
//! URI lines (variants, segments) and every URI-carrying attribute of the HLS spec
//! ([`URI_ATTRIBUTES`]: `EXT-X-KEY`, `EXT-X-SESSION-KEY`, `EXT-X-MAP`, `EXT-X-MEDIA`,
//! `EXT-X-I-FRAME-STREAM-INF`, `EXT-X-PART`, `EXT-X-PRELOAD-HINT`,
//! `EXT-X-RENDITION-REPORT`, `EXT-X-SESSION-DATA`, `EXT-X-CONTENT-STEERING`
//! `SERVER-URI`, `EXT-X-DATERANGE` `X-ASSET-URI` / `X-ASSET-LIST`).
//!
//! Origin playlists may name the origin itself with absolute URIs (ffmpeg's
//! `-hls_base_url`, many packagers). Those would teach the viewer the origin's address
//! and let it fetch everything without a token, so they become relative references to
//! the same file under `/streams/<event>/` ([`Rewriter::origin`]). Absolute URIs to any
//! other host pass unchanged and never get the token, except those under StreamGate's
//! own `hls.public_url`, which are ours and need it.
//!
//! The rewrite is line by line rather than through a parser so that everything else in
//! the playlist (tag order, number formatting, unknown tags, comments) passes through
//! byte for byte.

use std::borrow::Cow;

use url::Url;

use crate::path::StreamPath;

/// The query parameter that carries a token.
pub const TOKEN_PARAM: &str = "__token";

/// Attributes whose quoted value is a URI a player resolves against the playlist.
pub const URI_ATTRIBUTES: &[&str] = &["URI", "SERVER-URI", "X-ASSET-URI", "X-ASSET-LIST"];

/// Whether the playlist is complete (VOD or an ended live stream) and so may be cached.
pub fn is_complete(text: &str) -> bool {
    text.lines().any(|l| l.trim() == "#EXT-X-ENDLIST")
}

/// Appends `__token=<token>` to every relative URI of `text`.
pub fn add_token(text: &str, token: &str) -> String {
    Rewriter {
        token: Some(token),
        ..Rewriter::default()
    }
    .rewrite(text)
}

/// Maps an absolute URL to the event path it names at the origin, if it does.
pub type OriginMap<'a> = &'a dyn Fn(&Url) -> Option<StreamPath>;

/// How one playlist response is rewritten.
#[derive(Default, Clone, Copy)]
pub struct Rewriter<'a> {
    /// The token to append to every URI that leads back to StreamGate.
    pub token: Option<&'a str>,
    /// The playlist's own path (relative references are built from its directory)
    /// and the map of origin URLs to event paths.
    pub origin: Option<(&'a StreamPath, OriginMap<'a>)>,
    /// `hls.public_url` (a directory URL): absolute URIs under it get the token.
    pub public_url: Option<&'a Url>,
}

impl Rewriter<'_> {
    /// Whether `text` could change at all (most live playlists, fetched with a header
    /// token and with relative URIs, pass through without a copy).
    pub fn touches(&self, text: &str) -> bool {
        self.token.is_some() || text.contains("//")
    }

    /// `text` with every URI rewritten.
    pub fn rewrite(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 64 * text.len() / 40);
        for line in text.split_inclusive('\n') {
            let (body, ending) = split_ending(line);
            let trimmed = body.trim();
            if trimmed.is_empty() {
                out.push_str(line);
                continue;
            }
            if trimmed.starts_with("#EXT") {
                self.rewrite_tag(body, &mut out);
            } else if trimmed.starts_with('#') {
                out.push_str(body);
            } else {
                match self.uri(trimmed) {
                    Cow::Borrowed(_) => out.push_str(body),
                    Cow::Owned(new) => out.push_str(&new),
                }
            }
            out.push_str(ending);
        }
        out
    }

    /// Rewrites the URI attributes of a tag line; everything else passes unchanged.
    /// The attribute list is walked pair by pair, so a quoted value that happens to
    /// contain `URI="` is not mistaken for an attribute.
    fn rewrite_tag(&self, line: &str, out: &mut String) {
        let Some(colon) = line.find(':') else {
            out.push_str(line);
            return;
        };
        let mut rest = &line[colon + 1..];
        out.push_str(&line[..=colon]);
        while let Some(eq) = rest.find('=') {
            let name = &rest[..eq];
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                break;
            }
            let value = &rest[eq + 1..];
            let (value_len, quoted) = if let Some(inner) = value.strip_prefix('"') {
                match inner.find('"') {
                    Some(end) => (end + 2, Some(&inner[..end])),
                    None => break,
                }
            } else {
                (value.find(',').unwrap_or(value.len()), None)
            };
            out.push_str(&rest[..=eq]);
            match quoted {
                Some(uri) if URI_ATTRIBUTES.contains(&name) => {
                    out.push('"');
                    out.push_str(&self.uri(uri));
                    out.push('"');
                }
                _ => out.push_str(&value[..value_len]),
            }
            rest = &value[value_len..];
            match rest.strip_prefix(',') {
                Some(after) => {
                    out.push(',');
                    rest = after;
                }
                None => break,
            }
        }
        out.push_str(rest);
    }

    /// One URI, rewritten as the module docs say.
    fn uri<'u>(&self, uri: &'u str) -> Cow<'u, str> {
        let absolute: Vec<Url> = if uri.starts_with("//") {
            ["http:", "https:"]
                .iter()
                .filter_map(|s| Url::parse(&format!("{s}{uri}")).ok())
                .collect()
        } else if uri.starts_with("http://") || uri.starts_with("https://") {
            Url::parse(uri).into_iter().collect()
        } else if is_absolute(uri) {
            // data:, skd: and other schemes are not ours to touch.
            return Cow::Borrowed(uri);
        } else {
            return match self.token {
                Some(t) => Cow::Owned(append_token(uri, t)),
                None => Cow::Borrowed(uri),
            };
        };
        if let Some((playlist, map)) = self.origin
            && let Some((url, target)) = absolute.iter().find_map(|u| Some((u, map(u)?)))
        {
            let mut rel = relative_reference(playlist, &target);
            if let Some(q) = url.query().and_then(redact_query) {
                rel.push('?');
                rel.push_str(&q);
            }
            if let Some(f) = url.fragment() {
                rel.push('#');
                rel.push_str(f);
            }
            return Cow::Owned(match self.token {
                Some(t) => append_token(&rel, t),
                None => rel,
            });
        }
        if let (Some(token), Some(public)) = (self.token, self.public_url)
            && absolute
                .iter()
                .any(|u| u.origin() == public.origin() && u.path().starts_with(public.path()))
        {
            return Cow::Owned(append_token(uri, token));
        }
        Cow::Borrowed(uri)
    }
}

/// A relative reference from `from`'s directory to `to` (same event).
fn relative_reference(from: &StreamPath, to: &StreamPath) -> String {
    use percent_encoding::{AsciiSet, utf8_percent_encode};
    // A first segment with `:` would read as a scheme in a relative reference.
    const SEGMENT: &AsciiSet = &crate::path::PATH_SEGMENT.add(b':');
    let from_rel = from.relative();
    let to_rel = to.relative();
    let dir: Vec<&str> = from_rel.split('/').collect();
    let dir = &dir[..dir.len().saturating_sub(1)];
    let target: Vec<&str> = to_rel.split('/').collect();
    let common = dir
        .iter()
        .zip(&target)
        .take_while(|(a, b)| a == b)
        .count()
        .min(target.len().saturating_sub(1));
    let mut out = "../".repeat(dir.len() - common);
    let rest: Vec<String> = target[common..]
        .iter()
        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
        .collect();
    out.push_str(&rest.join("/"));
    out
}

fn split_ending(line: &str) -> (&str, &str) {
    let body = line.trim_end_matches(['\r', '\n']);
    (body, &line[body.len()..])
}

/// `uri` with the token appended, or unchanged when it is absolute or a data URI.
pub fn with_token(uri: &str, token: &str) -> String {
    if is_absolute(uri) {
        return uri.to_owned();
    }
    append_token(uri, token)
}

/// `uri` with `__token=<token>` in its query (replacing one already there).
fn append_token(uri: &str, token: &str) -> String {
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

    /// A hand-made playlist with every URI-carrying tag of the HLS spec (and some
    /// traps), as the origin might send it.
    const EVERY_URI: &str = "#EXTM3U\n#EXT-X-VERSION:9\n\
#EXT-X-CONTENT-STEERING:SERVER-URI=\"steering.json\",PATHWAY-ID=\"CDN-A\"\n\
#EXT-X-SESSION-DATA:DATA-ID=\"com.example.lyrics\",URI=\"lyrics.json\"\n\
#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI=\"keys/session.key\",KEYFORMAT=\"identity\"\n\
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English\",URI=\"subs/en.m3u8\"\n\
#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS=\"avc1.64001f,mp4a.40.2\",SUBTITLES=\"subs\"\n\
360p/index.m3u8\n\
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI=\"http://origin.test/live/ev/360p/iframes.m3u8\"\n\
#EXT-X-STREAM-INF:BANDWIDTH=1600000\r\n\
http://origin.test/live/ev/720p/index.m3u8\r\n\
#EXT-X-STREAM-INF:BANDWIDTH=1\n\
https://cdn.example.com/other.m3u8\n\
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.5,CAN-SKIP-UNTIL=12.0\n\
#EXT-X-PART-INF:PART-TARGET=0.5\n\
#EXT-X-MEDIA-SEQUENCE:10\n\
#EXT-X-KEY:METHOD=AES-128,URI=\"https://hls.example.com/streams/ev/keys/k1.key\",IV=0x01\n\
#EXT-X-MAP:URI=\"http://origin.test/live/ev/360p/init.mp4\",BYTERANGE=\"720@0\"\n\
#EXT-X-PROGRAM-DATE-TIME:2026-12-01T20:00:00.000Z\n\
#EXT-X-DATERANGE:ID=\"ad1\",CLASS=\"com.apple.hls.interstitial\",START-DATE=\"2026-12-01T20:00:10.000Z\",X-ASSET-URI=\"ads/ad1.m3u8\",X-RESTRICT=\"SKIP,JUMP\"\n\
#EXT-X-DATERANGE:ID=\"ad2\",CLASS=\"com.apple.hls.interstitial\",START-DATE=\"2026-12-01T20:00:20.000Z\",X-ASSET-LIST=\"http://origin.test/live/ev/ads/list.json\",X-URI=\"not-a-uri\"\n\
#EXTINF:4.00000,\n\
seg10.m4s\n\
#EXTINF:4.00000,title with URI=\"x\"\n\
http://origin.test/live/ev/360p/seg%2011.m4s?v=1&__token=leak\n\
#EXT-X-PART:DURATION=0.5,URI=\"seg12.0.m4s\",INDEPENDENT=YES\n\
#EXT-X-PART:DURATION=0.5,URI=\"//origin.test/live/ev/360p/seg12.1.m4s\"\n\
#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"seg12.2.m4s\"\n\
#EXT-X-RENDITION-REPORT:URI=\"../720p/index.m3u8\",LAST-MSN=12,LAST-PART=1\n\
#EXT-X-RENDITION-REPORT:URI=\"http://origin.test/other/x.m3u8\",LAST-MSN=12\n\
#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://key-id\",KEYFORMAT=\"com.apple.streamingkeydelivery\"\n\
# a comment, URI=\"c.ts\"\n";

    fn origin_map(url: &Url) -> Option<StreamPath> {
        let rest = url
            .as_str()
            .split('?')
            .next()?
            .strip_prefix("http://origin.test/live/ev/")?;
        StreamPath::parse(&format!("/streams/ev/{rest}"))
    }

    #[test]
    fn every_uri_attribute_is_rewritten_byte_for_byte() {
        let playlist = StreamPath::parse("/streams/ev/360p/live.m3u8").expect("path");
        let public = Url::parse("https://hls.example.com/").expect("url");
        let rewriter = Rewriter {
            token: Some("T.K"),
            origin: Some((&playlist, &origin_map)),
            public_url: Some(&public),
        };
        let expected = "#EXTM3U\n#EXT-X-VERSION:9\n\
#EXT-X-CONTENT-STEERING:SERVER-URI=\"steering.json?__token=T.K\",PATHWAY-ID=\"CDN-A\"\n\
#EXT-X-SESSION-DATA:DATA-ID=\"com.example.lyrics\",URI=\"lyrics.json?__token=T.K\"\n\
#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI=\"keys/session.key?__token=T.K\",KEYFORMAT=\"identity\"\n\
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English\",URI=\"subs/en.m3u8?__token=T.K\"\n\
#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS=\"avc1.64001f,mp4a.40.2\",SUBTITLES=\"subs\"\n\
360p/index.m3u8?__token=T.K\n\
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI=\"iframes.m3u8?__token=T.K\"\n\
#EXT-X-STREAM-INF:BANDWIDTH=1600000\r\n\
../720p/index.m3u8?__token=T.K\r\n\
#EXT-X-STREAM-INF:BANDWIDTH=1\n\
https://cdn.example.com/other.m3u8\n\
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.5,CAN-SKIP-UNTIL=12.0\n\
#EXT-X-PART-INF:PART-TARGET=0.5\n\
#EXT-X-MEDIA-SEQUENCE:10\n\
#EXT-X-KEY:METHOD=AES-128,URI=\"https://hls.example.com/streams/ev/keys/k1.key?__token=T.K\",IV=0x01\n\
#EXT-X-MAP:URI=\"init.mp4?__token=T.K\",BYTERANGE=\"720@0\"\n\
#EXT-X-PROGRAM-DATE-TIME:2026-12-01T20:00:00.000Z\n\
#EXT-X-DATERANGE:ID=\"ad1\",CLASS=\"com.apple.hls.interstitial\",START-DATE=\"2026-12-01T20:00:10.000Z\",X-ASSET-URI=\"ads/ad1.m3u8?__token=T.K\",X-RESTRICT=\"SKIP,JUMP\"\n\
#EXT-X-DATERANGE:ID=\"ad2\",CLASS=\"com.apple.hls.interstitial\",START-DATE=\"2026-12-01T20:00:20.000Z\",X-ASSET-LIST=\"../ads/list.json?__token=T.K\",X-URI=\"not-a-uri\"\n\
#EXTINF:4.00000,\n\
seg10.m4s?__token=T.K\n\
#EXTINF:4.00000,title with URI=\"x\"\n\
seg%2011.m4s?v=1&__token=T.K\n\
#EXT-X-PART:DURATION=0.5,URI=\"seg12.0.m4s?__token=T.K\",INDEPENDENT=YES\n\
#EXT-X-PART:DURATION=0.5,URI=\"seg12.1.m4s?__token=T.K\"\n\
#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"seg12.2.m4s?__token=T.K\"\n\
#EXT-X-RENDITION-REPORT:URI=\"../720p/index.m3u8?__token=T.K\",LAST-MSN=12,LAST-PART=1\n\
#EXT-X-RENDITION-REPORT:URI=\"http://origin.test/other/x.m3u8\",LAST-MSN=12\n\
#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://key-id\",KEYFORMAT=\"com.apple.streamingkeydelivery\"\n\
# a comment, URI=\"c.ts\"\n";
        assert_eq!(rewriter.rewrite(EVERY_URI), expected);

        // With a header token only the origin's own URIs change.
        let header = Rewriter {
            token: None,
            ..rewriter
        };
        let expected = EVERY_URI
            .replace(
                "http://origin.test/live/ev/360p/iframes.m3u8",
                "iframes.m3u8",
            )
            .replace(
                "http://origin.test/live/ev/720p/index.m3u8",
                "../720p/index.m3u8",
            )
            .replace("http://origin.test/live/ev/360p/init.mp4", "init.mp4")
            .replace(
                "http://origin.test/live/ev/ads/list.json",
                "../ads/list.json",
            )
            .replace(
                "http://origin.test/live/ev/360p/seg%2011.m4s?v=1&__token=leak",
                "seg%2011.m4s?v=1",
            )
            .replace("//origin.test/live/ev/360p/seg12.1.m4s", "seg12.1.m4s");
        assert_eq!(header.rewrite(EVERY_URI), expected);
        assert!(!header.touches("#EXTM3U\n#EXTINF:4,\na.ts\n"));
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
