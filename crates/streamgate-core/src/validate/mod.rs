//! Everything that can be wrong with a configuration, reported all at once and each
//! problem where the operator can fix it: `file:line:column` for what came from
//! `streamgate.toml`, the variable's name for what came from the environment.
//!
//! Problems are found in three passes (syntax, JSON Schema, semantic rules); each pass
//! names problems by a [`KeyPath`] into the document, and [`SourceMap`] turns paths into
//! locations. Keeping "what is wrong" apart from "where it is" is what lets the same
//! rules report on file values, environment values and defaults alike.

mod ingest_rules;
mod partial;
mod path;
mod rules;
mod schema;
mod source_map;
mod text;

pub use partial::checkable_events;
pub use path::{KeyPath, Segment};
pub use rules::{Finding, RuleInput, check_rules, parse_origin, secret_keys_in_file};
pub use schema::check_schema;
pub use source_map::SourceMap;
pub use text::{decode_utf8, is_blank};

use std::fmt;
use std::path::PathBuf;

/// Where a problem can be fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A place in the config file (1-based line and column).
    File {
        /// The config file as given.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
    },
    /// An environment variable.
    Env {
        /// Its name.
        var: String,
    },
    /// A built-in default nobody overrode (the fix is to set the key).
    Default,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File { path, line, column } => {
                write!(f, "{}:{line}:{column}", path.display())
            }
            Location::Env { var } => write!(f, "environment variable {var}"),
            Location::Default => f.write_str("built-in default"),
        }
    }
}

/// Which check found a problem, so operators can look the rule up and tests can pin it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// The file is not TOML.
    Syntax,
    /// The document does not match the JSON Schema; holds the schema keyword's path.
    Schema(String),
    /// A rule the schema cannot express (schedules, uniqueness, cross-key rules).
    Semantic(&'static str),
    /// A value from the environment has the wrong type or is not a known key.
    Environment,
    /// A secret is missing, malformed, or was put in the file.
    Secret(&'static str),
    /// The config file could not be read.
    Io,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Syntax => f.write_str("toml syntax"),
            Rule::Schema(path) => write!(f, "schema {path}"),
            Rule::Semantic(name) => write!(f, "rule {name}"),
            Rule::Environment => f.write_str("environment"),
            Rule::Secret(name) => write!(f, "secret {name}"),
            Rule::Io => f.write_str("io"),
        }
    }
}

/// One problem, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where to fix it.
    pub location: Location,
    /// Which key it is about (empty for the document as a whole).
    pub path: KeyPath,
    /// What is wrong, in words.
    pub message: String,
    /// Which check found it.
    pub rule: Rule,
    /// How to fix it, when there is more to say than the message.
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.location)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        write!(f, "{} [{}]", self.message, self.rule)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n    hint: {hint}")?;
        }
        Ok(())
    }
}

/// Every problem found in one load, in file order where they have one.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
pub struct Report {
    /// The problems; never empty when a `Report` is returned as an error.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// Sorts problems so file locations read top to bottom, then environment, then defaults.
    pub fn sort(&mut self) {
        self.diagnostics.sort_by_key(|d| sort_key(&d.location));
    }

    /// Whether nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.diagnostics.is_empty()
    }
}

fn sort_key(location: &Location) -> (u8, usize, usize, String) {
    match location {
        Location::File { line, column, .. } => (0, *line, *column, String::new()),
        Location::Env { var } => (1, 0, 0, var.clone()),
        Location::Default => (2, 0, 0, String::new()),
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for diagnostic in &self.diagnostics {
            writeln!(f, "error: {diagnostic}")?;
        }
        let n = self.diagnostics.len();
        write!(f, "{n} problem{} found", if n == 1 { "" } else { "s" })
    }
}
