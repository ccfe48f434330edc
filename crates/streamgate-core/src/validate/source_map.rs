//! Locations of every key and value of a TOML document, so that a problem named by
//! path can be reported as `file:line:column`.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{KeyPath, Location};

/// Byte spans of the keys and values of one parsed file.
#[derive(Debug, Clone)]
pub struct SourceMap {
    path: PathBuf,
    line_starts: Vec<usize>,
    text: String,
    /// JSON pointer -> (span of the key, when it has one; span of the value).
    spans: HashMap<String, (Option<Range<usize>>, Range<usize>)>,
}

impl SourceMap {
    /// Maps `text`, which must already have parsed as TOML (a parse failure leaves the
    /// map empty and every lookup falls back to the start of the file).
    pub fn new(path: &Path, text: &str) -> Self {
        let mut spans = HashMap::new();
        if let Ok(root) = DeTable::parse(text) {
            spans.insert(String::new(), (None, root.span()));
            walk_table(root.get_ref(), &KeyPath::root(), &mut spans);
        }
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self {
            path: path.to_owned(),
            line_starts,
            text: text.to_owned(),
            spans,
        }
    }

    /// Whether the file sets this path.
    pub fn contains(&self, path: &KeyPath) -> bool {
        self.spans.contains_key(&path.to_pointer())
    }

    /// Where the value at `path` is written, or its nearest written ancestor. `at_key`
    /// points at the key instead of the value (for "unknown key" problems).
    pub fn locate(&self, path: &KeyPath, at_key: bool) -> Location {
        let mut current = Some(path.clone());
        while let Some(p) = current {
            if let Some((key, value)) = self.spans.get(&p.to_pointer()) {
                let span = if at_key {
                    key.as_ref().unwrap_or(value)
                } else {
                    value
                };
                return self.location_of(span.start);
            }
            current = p.parent();
        }
        self.location_of(0)
    }

    /// Like [`SourceMap::locate`], but `None` when the file writes nothing on the path
    /// except the document itself: then the value is a default and has no place in the file.
    pub fn locate_written(&self, path: &KeyPath, at_key: bool) -> Option<Location> {
        let mut current = Some(path.clone());
        while let Some(p) = current {
            if p.is_empty() {
                return None;
            }
            if self.contains(&p) {
                return Some(self.locate(path, at_key));
            }
            current = p.parent();
        }
        None
    }

    /// The location of a byte offset.
    pub fn location_of(&self, offset: usize) -> Location {
        let offset = offset.min(self.text.len());
        let line = self
            .line_starts
            .partition_point(|&start| start <= offset)
            .max(1);
        let line_start = self.line_starts[line - 1];
        let column = self
            .text
            .get(line_start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        Location::File {
            path: self.path.clone(),
            line,
            column,
        }
    }
}

fn walk_table(
    table: &DeTable<'_>,
    at: &KeyPath,
    spans: &mut HashMap<String, (Option<Range<usize>>, Range<usize>)>,
) {
    for (key, value) in table.iter() {
        let path = at.key(key.get_ref());
        spans.insert(path.to_pointer(), (Some(key.span()), value.span()));
        walk_value(value, &path, spans);
    }
}

fn walk_value(
    value: &Spanned<DeValue<'_>>,
    at: &KeyPath,
    spans: &mut HashMap<String, (Option<Range<usize>>, Range<usize>)>,
) {
    match value.get_ref() {
        DeValue::Table(table) => walk_table(table, at, spans),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let path = at.index(i);
                spans.insert(path.to_pointer(), (None, item.span()));
                walk_value(item, &path, spans);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(map: &SourceMap, pointer: &str, key: bool) -> (usize, usize) {
        match map.locate(&KeyPath::from_pointer(pointer), key) {
            Location::File { line, column, .. } => (line, column),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn locates_values_keys_and_array_tables() {
        let text =
            "[platform]\nlisten = \"x\"\n\n[[events]]\nid = \"a\"\n\n[[events]]\n  id = \"b\"\n";
        let map = SourceMap::new(Path::new("f.toml"), text);
        assert_eq!(at(&map, "/platform/listen", false), (2, 10));
        assert_eq!(at(&map, "/platform/listen", true), (2, 1));
        assert_eq!(at(&map, "/events/1/id", false), (8, 8));
        // A missing key is reported at its table.
        let (line, _) = at(&map, "/events/1/title", false);
        assert!(line >= 7, "second [[events]] table, got line {line}");
        assert_eq!(at(&map, "/nowhere", false), (1, 1));
    }
}
