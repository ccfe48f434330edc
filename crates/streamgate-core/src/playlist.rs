//! The playlist an event's viewers are sent to, relative to `/streams/<event>/`.
//! Packagers disagree on the name (`index.m3u8`, `master.m3u8`, `stream.m3u8`, or one
//! inside a folder), so an event may name its own; the platform builds `streamPath`
//! from it and the HLS server serves it through the same gate as every other file.
//! It is parsed once, here, so neither the config validator nor the admin API can let
//! through a name that climbs out of the event's directory.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use url::Url;

/// The playlist the platform hands out when an event names none.
pub const DEFAULT_PLAYLIST: &str = "index.m3u8";

/// Tried in this order, in the same folder, when [`DEFAULT_PLAYLIST`] is absent: many
/// packagers (and the upstream StreamGate) publish one of these instead. The HLS server
/// serves them and the console names them, from this one list.
pub const DEFAULT_PLAYLIST_FALLBACKS: [&str; 2] = ["master.m3u8", "stream.m3u8"];

/// The pattern every playlist name matches, shared by the JSON Schema and the parser:
/// `/`-separated parts of letters, digits, `.`, `_` and `-`, none starting with `.`,
/// ending in `.m3u8`.
pub const PLAYLIST_PATTERN: &str =
    "^([A-Za-z0-9_-][A-Za-z0-9._-]*/)*[A-Za-z0-9_-][A-Za-z0-9._-]*\\.m3u8$";

/// A directory URL (ending in `/`) so that `join` appends instead of replacing.
pub fn dir_url(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

/// What an event's `stream_url` names: a folder (`.../`), or a master playlist whose
/// folder holds the rest and which is served for [`DEFAULT_PLAYLIST`]. Returns the
/// folder and the master playlist, if any. The HLS server proxies by it and the
/// console says where it looks by it, so the two cannot disagree.
pub fn stream_url_parts(url: Url) -> (Url, Option<Url>) {
    if url.path().ends_with('/') {
        return (url, None);
    }
    let base = url.join("./").unwrap_or_else(|_| url.clone());
    (base, Some(url))
}

/// Longest name accepted; a path this deep is a mistake, not a layout.
pub const MAX_PLAYLIST_LEN: usize = 200;

/// A playlist path inside an event's stream directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Playlist(String);

/// Why a name is not a playlist; the message is shown to operators as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaylistError {
    /// Nothing was given.
    #[error("must not be empty (leave it out for the default `index.m3u8`)")]
    Empty,
    /// Longer than [`MAX_PLAYLIST_LEN`].
    #[error("is {0} characters long; at most {MAX_PLAYLIST_LEN} are allowed")]
    TooLong(usize),
    /// Not an HLS playlist: the HLS server only treats `.m3u8` files as playlists.
    #[error("must end in `.m3u8` (an HLS playlist), e.g. `master.m3u8`")]
    NotPlaylist,
    /// A part that is empty or starts with `.` (`..`, hidden files, `a//b`, `/abs`).
    #[error(
        "must be a path inside the event's folder: no empty parts, no part starting with '.', no leading '/'"
    )]
    Escapes,
    /// Anything outside letters, digits, `.`, `_`, `-` and `/`.
    #[error("may only hold letters, digits, '.', '_', '-' and '/' (found {0:?})")]
    BadChar(char),
}

impl Playlist {
    /// Parses `value`, refusing anything that could leave the event's directory.
    pub fn parse(value: &str) -> Result<Self, PlaylistError> {
        if value.is_empty() {
            return Err(PlaylistError::Empty);
        }
        if value.len() > MAX_PLAYLIST_LEN {
            return Err(PlaylistError::TooLong(value.len()));
        }
        if let Some(bad) = value
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/')))
        {
            return Err(PlaylistError::BadChar(bad));
        }
        if value
            .split('/')
            .any(|part| part.is_empty() || part.starts_with('.'))
        {
            return Err(PlaylistError::Escapes);
        }
        let file = value.rsplit('/').next().unwrap_or(value);
        if file.len() <= ".m3u8".len() || !file.ends_with(".m3u8") {
            return Err(PlaylistError::NotPlaylist);
        }
        Ok(Self(value.to_owned()))
    }

    /// The name as text, for paths, SQL parameters and messages.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is [`DEFAULT_PLAYLIST`], the name the HLS server falls back from.
    pub fn is_default(&self) -> bool {
        self.0 == DEFAULT_PLAYLIST
    }
}

impl Default for Playlist {
    fn default() -> Self {
        Self(DEFAULT_PLAYLIST.to_owned())
    }
}

impl TryFrom<String> for Playlist {
    type Error = PlaylistError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Playlist> for String {
    fn from(value: Playlist) -> Self {
        value.0
    }
}

impl fmt::Display for Playlist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl JsonSchema for Playlist {
    fn schema_name() -> Cow<'static, str> {
        "Playlist".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": PLAYLIST_PATTERN,
            "maxLength": MAX_PLAYLIST_LEN,
            "description": "A .m3u8 file inside the event's stream folder, e.g. `master.m3u8` or `hls/main.m3u8`.",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_packagers_publish() {
        for ok in [
            "index.m3u8",
            "master.m3u8",
            "stream.m3u8",
            "hls/main.m3u8",
            "720p/index.m3u8",
            "Live_1-a.m3u8",
        ] {
            assert_eq!(Playlist::parse(ok).map(String::from), Ok(ok.to_owned()));
        }
        assert!(Playlist::default().is_default());
        assert!(!Playlist::parse("master.m3u8").expect("valid").is_default());
    }

    #[test]
    fn refuses_what_could_escape_or_is_no_playlist() {
        use PlaylistError::*;
        let cases = [
            ("", Empty),
            ("../other/index.m3u8", Escapes),
            ("a/../index.m3u8", Escapes),
            ("/index.m3u8", Escapes),
            ("a//index.m3u8", Escapes),
            (".hidden.m3u8", Escapes),
            ("index.ts", NotPlaylist),
            (".m3u8", Escapes),
            ("dir/", Escapes),
            ("index.m3u8?x=1", BadChar('?')),
            ("a\\b.m3u8", BadChar('\\')),
            ("a b.m3u8", BadChar(' ')),
            ("ü.m3u8", BadChar('ü')),
        ];
        for (input, want) in cases {
            assert_eq!(Playlist::parse(input), Err(want), "{input:?}");
        }
        assert_eq!(
            Playlist::parse(&format!("{}.m3u8", "a".repeat(200))),
            Err(TooLong(205))
        );
    }

    #[test]
    fn a_stream_url_names_a_folder_or_a_master_playlist() {
        let url = |s: &str| Url::parse(s).expect("url");
        assert_eq!(
            stream_url_parts(url("http://o.test/live/ev/")),
            (url("http://o.test/live/ev/"), None)
        );
        assert_eq!(
            stream_url_parts(url("http://o.test/live/ev/master.m3u8")),
            (
                url("http://o.test/live/ev/"),
                Some(url("http://o.test/live/ev/master.m3u8"))
            )
        );
        assert_eq!(
            dir_url(url("http://o.test/live")),
            url("http://o.test/live/")
        );
        assert_eq!(
            dir_url(url("http://o.test/live/")),
            url("http://o.test/live/")
        );
    }

    #[test]
    fn parser_agrees_with_schema_pattern() {
        let re = jsonschema::validator_for(&serde_json::json!({
            "type": "string", "pattern": PLAYLIST_PATTERN, "maxLength": MAX_PLAYLIST_LEN
        }))
        .expect("pattern compiles");
        let long = format!("{}.m3u8", "a".repeat(196));
        for s in [
            "index.m3u8",
            "hls/main.m3u8",
            "../x.m3u8",
            "/x.m3u8",
            ".m3u8",
            "a.ts",
            "a//b.m3u8",
            "a b.m3u8",
            "x/.y.m3u8",
            "-.m3u8",
            long.as_str(),
        ] {
            assert_eq!(
                re.is_valid(&serde_json::json!(s)),
                Playlist::parse(s).is_ok(),
                "{s:?}"
            );
        }
    }
}
