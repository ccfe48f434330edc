//! Paths to a key inside the configuration document. The schema validator speaks JSON
//! pointers (`/events/0/id`), figment speaks key lists, operators read
//! `events[0].id`; one type converts between them.

use std::fmt;

/// One step into the document.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    /// A table key.
    Key(String),
    /// An array element.
    Index(usize),
}

/// A path from the document root to a value.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyPath(Vec<Segment>);

impl KeyPath {
    /// The document root.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// A dotted key such as `platform.rate_limits.refresh_per_hour` (no array indexes).
    pub fn dotted(key: &str) -> Self {
        Self(key.split('.').map(|k| Segment::Key(k.to_owned())).collect())
    }

    /// Parses a JSON pointer (RFC 6901). Numeric segments become indexes, which is right
    /// for this document: no table key of ours is a number.
    pub fn from_pointer(pointer: &str) -> Self {
        Self(
            pointer
                .split('/')
                .skip(1)
                .map(|raw| {
                    let unescaped = raw.replace("~1", "/").replace("~0", "~");
                    match unescaped.parse::<usize>() {
                        Ok(i) => Segment::Index(i),
                        Err(_) => Segment::Key(unescaped),
                    }
                })
                .collect(),
        )
    }

    /// The path as a JSON pointer, the key of [`super::SourceMap`].
    pub fn to_pointer(&self) -> String {
        let mut out = String::new();
        for segment in &self.0 {
            out.push('/');
            match segment {
                Segment::Key(k) => out.push_str(&k.replace('~', "~0").replace('/', "~1")),
                Segment::Index(i) => out.push_str(&i.to_string()),
            }
        }
        out
    }

    /// This path extended by a key.
    pub fn key(&self, key: &str) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Key(key.to_owned()));
        next
    }

    /// This path extended by an array index.
    pub fn index(&self, index: usize) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }

    /// The enclosing path, or `None` at the root.
    pub fn parent(&self) -> Option<Self> {
        let (_, rest) = self.0.split_last()?;
        Some(Self(rest.to_vec()))
    }

    /// Whether this is the root.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The steps of the path.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(k) if n == 0 => f.write_str(k)?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_round_trip_and_display() {
        let path = KeyPath::from_pointer("/events/2/codes/0/label");
        assert_eq!(path.to_string(), "events[2].codes[0].label");
        assert_eq!(path.to_pointer(), "/events/2/codes/0/label");
        assert_eq!(KeyPath::from_pointer("").to_string(), "");
        assert_eq!(KeyPath::from_pointer("/a~1b").to_pointer(), "/a~1b");
        assert_eq!(KeyPath::dotted("hls.listen").to_pointer(), "/hls/listen");
    }
}
