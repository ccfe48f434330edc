//! Spreadsheet-safe CSV cells (CWE-1236, OWASP "CSV Injection").
//!
//! Organisers open exported code lists in Excel, LibreOffice or Google Sheets. A cell
//! such as `=HYPERLINK(...)` or `=cmd|' /C calc'!A0` is a live formula there, and
//! labels and titles are typed by whoever made the batch. Every CSV StreamGate writes
//! passes each cell through [`safe_cell`] first, so what the organiser sees is the text
//! that was typed, never something the spreadsheet runs.

use std::borrow::Cow;

/// Characters that make a spreadsheet read the cell as a formula when they come first.
const FORMULA_START: [char; 4] = ['=', '+', '-', '@'];

/// Characters spreadsheets may drop from the front of a cell before deciding whether it
/// is a formula (` =1+1` becomes `=1+1`), or that start one themselves (tab, CR).
const LEADING_BLANKS: [char; 4] = [' ', '\t', '\r', '\n'];

/// `value` made safe to put in a CSV cell: when it starts with `=`, `+`, `-`, `@`, a tab,
/// CR or LF, or with blanks followed by one of those, it is prefixed with a single quote
/// (`'`), which every spreadsheet shows as text and does not display. Everything else is
/// returned as it was, without copying. The CSV writer still does the quoting of commas,
/// quotes and newlines; this only takes the formula out.
pub fn safe_cell(value: &str) -> Cow<'_, str> {
    let after_blanks = value.trim_start_matches(LEADING_BLANKS);
    if value.starts_with(['\t', '\r', '\n']) || after_blanks.starts_with(FORMULA_START) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_from_the_attack_run_are_neutralised() {
        for value in [
            "=cmd|' /C calc'!A0",
            "=1+1",
            "+1+1",
            "-1+1",
            "@SUM(1+1)",
            "=HYPERLINK(\"http://evil.example/\",\"click\")",
            "\t=1+1",
            "\r=1+1",
            "\n=1+1",
            " =1+1",
            "  \t @SUM(1+1)",
            "\tplain",
            "\rplain",
        ] {
            let safe = safe_cell(value);
            assert_eq!(safe, format!("'{value}"), "{value:?}");
            assert!(matches!(safe, Cow::Owned(_)));
        }
    }

    #[test]
    fn ordinary_text_is_left_alone_and_not_copied() {
        for value in [
            "",
            "VIP",
            "press row 1",
            "Müller, Anna",
            "1+1",
            "2026-01-01T00:00:00Z",
            "aB3dE5gH7jK9",
            "a=b",
            "'quoted already",
            "   ",
        ] {
            assert!(
                matches!(safe_cell(value), Cow::Borrowed(v) if v == value),
                "{value:?}"
            );
        }
    }

    #[test]
    fn what_the_spreadsheet_sees_never_starts_a_formula() {
        // Whatever the cell, once a spreadsheet drops leading blanks and the quote
        // prefix is taken as "text", no formula character is left in front.
        let starts = ["", " ", "\t", "\r", "\n", " \t", "\r\n ", "'"];
        let heads = ["=", "+", "-", "@", "x", "1", "'", "\t", "\r"];
        for start in starts {
            for head in heads {
                let value = format!("{start}{head}rest");
                let safe = safe_cell(&value);
                let quoted = safe.starts_with('\'');
                let seen = safe.trim_start_matches(LEADING_BLANKS);
                assert!(
                    quoted
                        || !(safe.starts_with(['\t', '\r', '\n'])
                            || seen.starts_with(FORMULA_START)),
                    "{value:?} -> {safe:?}"
                );
            }
        }
    }
}
