//! Turning a request path into something safe to look up. Everything under
//! `/streams/<eventId>/` is parsed once here into a [`StreamPath`] whose segments are
//! known to be plain names: no `..`, no `.`, no empty segments, no backslashes, NUL or
//! control characters, no `%` left after decoding (so double encoding cannot smuggle a
//! `%2e%2e` through a later decode), and no dotfiles (which also hides the segment
//! cache's temporary files). Joining such segments under a root cannot leave it; only a
//! symlink could, and [`crate::source`] checks the canonical path for that.
//!
//! The parser refuses rather than repairs: a path that needs normalising is not one a
//! player ever asks for, so SPEC's answer to all of them is the same 404.

use std::fmt;
use std::path::PathBuf;

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str};

/// The prefix every stream URL starts with.
pub const STREAMS_PREFIX: &str = "/streams/";

/// Longest request path considered (players never come close).
const MAX_PATH_LEN: usize = 1024;

/// What a stream request names: an event and a file inside its directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StreamPath {
    event_id: String,
    segments: Vec<String>,
}

/// The kind of file, from its extension; decides the content type, caching and whether
/// the body is a playlist to rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// `.m3u8`.
    Playlist,
    /// Everything else a player fetches: segments, init sections, keys, subtitles.
    Segment(&'static str),
    /// A JSON document beside the playlists (a content-steering manifest, an
    /// interstitial asset list): it changes while in use, so it is never cached.
    Document(&'static str),
}

impl MediaKind {
    /// The `Content-Type` to send.
    pub fn content_type(self) -> &'static str {
        match self {
            MediaKind::Playlist => "application/vnd.apple.mpegurl",
            MediaKind::Segment(ct) | MediaKind::Document(ct) => ct,
        }
    }

    /// Whether this is a playlist.
    pub fn is_playlist(self) -> bool {
        self == MediaKind::Playlist
    }
}

/// What to percent-encode in one path segment written into a URL or playlist: what a
/// URL parser would take for something else (`?`, `#`, `/`, `%`, spaces and quotes).
pub const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'%')
    .add(b'/');

pub use streamgate_core::playlist::DEFAULT_PLAYLIST;

impl StreamPath {
    /// Parses the raw (still percent-encoded) request path. `None` for anything that is
    /// not a plain `/streams/<event>/<file...>` path.
    pub fn parse(raw_path: &str) -> Option<Self> {
        if raw_path.len() > MAX_PATH_LEN {
            return None;
        }
        let rest = raw_path.strip_prefix(STREAMS_PREFIX)?;
        let mut parts = rest.split('/');
        let event_id = parts.next().map(decode_segment)??;
        if !is_event_id(&event_id) {
            return None;
        }
        let segments: Vec<String> = parts.map(decode_segment).collect::<Option<_>>()?;
        if segments.is_empty() {
            return None;
        }
        Some(Self { event_id, segments })
    }

    /// The event id (a slug or a UUID).
    pub fn event_id(&self) -> &str {
        &self.event_id
    }

    /// The path inside the event's directory, `/`-separated, decoded.
    pub fn relative(&self) -> String {
        self.segments.join("/")
    }

    /// The normalised request path, `/streams/<event>/<relative>`, for the `sp` check.
    pub fn normalised(&self) -> String {
        format!("{STREAMS_PREFIX}{}/{}", self.event_id, self.relative())
    }

    /// Whether this is the event's default playlist name, `index.m3u8` at its top.
    pub fn is_default_playlist(&self) -> bool {
        self.segments.len() == 1 && self.segments[0] == DEFAULT_PLAYLIST
    }

    /// The file `name` beside this one.
    pub fn sibling(&self, name: &str) -> Self {
        let mut segments = self.segments.clone();
        if let Some(last) = segments.last_mut() {
            name.clone_into(last);
        }
        Self {
            event_id: self.event_id.clone(),
            segments,
        }
    }

    /// `<root>/<event>/<segments...>`.
    pub fn under(&self, root: &std::path::Path) -> PathBuf {
        let mut path = root.join(&self.event_id);
        for s in &self.segments {
            path.push(s);
        }
        path
    }

    /// The file's kind, or `None` for an extension the server does not serve.
    pub fn kind(&self) -> Option<MediaKind> {
        let name = self.segments.last()?;
        let (_, ext) = name.rsplit_once('.')?;
        media_kind(&ext.to_ascii_lowercase())
    }

    /// The last segment (the file name).
    pub fn file_name(&self) -> &str {
        self.segments.last().map(String::as_str).unwrap_or_default()
    }
}

impl fmt::Display for StreamPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normalised())
    }
}

/// Content types of SPEC section 5, plus poster images and JSON (steering manifests,
/// asset lists). Anything else under the stream
/// root (notes, scripts, a stray `.env`) is not served at all.
pub fn media_kind(ext: &str) -> Option<MediaKind> {
    Some(match ext {
        "m3u8" => MediaKind::Playlist,
        "ts" => MediaKind::Segment("video/mp2t"),
        "m4s" => MediaKind::Segment("video/iso.segment"),
        "mp4" => MediaKind::Segment("video/mp4"),
        "m4a" => MediaKind::Segment("audio/mp4"),
        "m4v" => MediaKind::Segment("video/mp4"),
        "aac" => MediaKind::Segment("audio/aac"),
        "vtt" | "webvtt" => MediaKind::Segment("text/vtt; charset=utf-8"),
        "key" => MediaKind::Segment("application/octet-stream"),
        "jpg" | "jpeg" => MediaKind::Segment("image/jpeg"),
        "png" => MediaKind::Segment("image/png"),
        "json" => MediaKind::Document("application/json"),
        "webp" => MediaKind::Segment("image/webp"),
        _ => return None,
    })
}

/// Event ids are config slugs (`^[a-z0-9][a-z0-9-]{0,62}$`) or API-made UUIDs, which
/// fit the same pattern.
pub fn is_event_id(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

fn decode_segment(raw: &str) -> Option<String> {
    if raw.is_empty() || raw.contains('\\') {
        return None;
    }
    let decoded = percent_decode_str(raw).decode_utf8().ok()?;
    let ok = !decoded.is_empty()
        && !decoded.starts_with('.')
        && !decoded
            .chars()
            .any(|c| c == '/' || c == '\\' || c == '%' || c.is_control());
    ok.then(|| decoded.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_parse() {
        let p = StreamPath::parse("/streams/demo/360p/seg_000.ts").expect("parses");
        assert_eq!(p.event_id(), "demo");
        assert_eq!(p.relative(), "360p/seg_000.ts");
        assert_eq!(p.normalised(), "/streams/demo/360p/seg_000.ts");
        assert_eq!(p.kind(), Some(MediaKind::Segment("video/mp2t")));
        let space = StreamPath::parse("/streams/demo/a%20b.m3u8").expect("encoded space");
        assert_eq!(space.relative(), "a b.m3u8");
        assert_eq!(space.kind(), Some(MediaKind::Playlist));
    }

    #[test]
    fn traversal_in_any_spelling_is_refused() {
        for bad in [
            "/streams/demo/../secret.ts",
            "/streams/demo/%2e%2e/secret.ts",
            "/streams/demo/%2E%2E/secret.ts",
            "/streams/demo/.%2e/secret.ts",
            "/streams/demo/%252e%252e/secret.ts",
            "/streams/demo/360p%2f..%2f..%2fsecret.ts",
            "/streams/demo/..%5csecret.ts",
            "/streams/demo/..\\secret.ts",
            "/streams/demo/a%00.ts",
            "/streams/demo//index.m3u8",
            "/streams/demo/./index.m3u8",
            "/streams/demo/.hidden.ts",
            "/streams/../etc/passwd",
            "/streams/%2e%2e/etc/passwd",
            "/streams/Demo/index.m3u8",
            "/streams/demo/",
            "/streams/demo",
            "/streams/demo/%ff.ts",
        ] {
            assert_eq!(StreamPath::parse(bad), None, "{bad} was accepted");
        }
    }

    #[test]
    fn unknown_extensions_have_no_kind() {
        for p in [
            "/streams/demo/.env",
            "/streams/demo/notes.txt",
            "/streams/demo/run.sh",
        ] {
            assert!(StreamPath::parse(p).and_then(|p| p.kind()).is_none(), "{p}");
        }
    }
}
