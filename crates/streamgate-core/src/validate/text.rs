//! The config file as text: decoding with the position of the first bad byte, and
//! telling a file that declares nothing (empty, whitespace, comments only) from one
//! that does.

use std::path::Path;

use super::{Diagnostic, KeyPath, Location, Rule};

/// Decodes the file's bytes; invalid UTF-8 is a syntax problem at its line and column,
/// so the operator can find the stray byte (often a Latin-1 character pasted in).
pub fn decode_utf8<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str, Box<Diagnostic>> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            // The prefix is valid UTF-8 by construction.
            let prefix = std::str::from_utf8(valid).unwrap_or_default();
            let line = prefix.matches('\n').count() + 1;
            let column = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let byte = bytes.get(e.valid_up_to()).copied().unwrap_or_default();
            Err(Box::new(Diagnostic {
                location: Location::File {
                    path: path.to_owned(),
                    line,
                    column,
                },
                path: KeyPath::root(),
                message: format!(
                    "the file is not valid UTF-8: byte 0x{byte:02X} at byte offset {}",
                    e.valid_up_to()
                ),
                rule: Rule::Syntax,
                hint: Some("save the file as UTF-8".to_owned()),
            }))
        }
    }
}

/// Whether `text` declares nothing: only whitespace and `#` comment lines (the
/// `#:schema` line included). Such a file is what a truncated write, an empty
/// ConfigMap or a botched `git checkout` leaves, never a wish to delete every event.
pub fn is_blank(text: &str) -> bool {
    text.lines()
        .map(|l| l.trim_start_matches('\u{feff}').trim())
        .all(|l| l.is_empty() || l.starts_with('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_located() {
        let bytes = b"[platform]\napp_name = \"caf\xe9\"\n";
        let d = decode_utf8(Path::new("s.toml"), bytes).expect_err("invalid");
        assert_eq!(
            d.location,
            Location::File {
                path: "s.toml".into(),
                line: 2,
                column: 16
            }
        );
        assert!(d.message.contains("0xE9"), "{}", d.message);
    }

    #[test]
    fn blank_files_are_told_apart() {
        for blank in [
            "",
            " \n\t\n",
            "#:schema ./schemas/streamgate.schema.json\n",
            "# a\n\n  # b",
        ] {
            assert!(is_blank(blank), "{blank:?}");
        }
        for not_blank in ["[platform]", "# c\n[[events]]\n", "x = 1 # c"] {
            assert!(!is_blank(not_blank), "{not_blank:?}");
        }
    }
}
