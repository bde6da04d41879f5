//! Errors and lint problems, each carrying the file and line they concern.

use std::{fmt, sync::Arc};

/// A place in a signature file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLocation {
    /// The file name (`github.toml` for built-ins, the path as given for extra files).
    pub file: Arc<str>,
    /// 1-based line number.
    pub line: usize,
}

impl SourceLocation {
    /// The location of byte `offset` in `text`.
    pub fn at_offset(file: Arc<str>, text: &str, offset: usize) -> Self {
        let offset = offset.min(text.len());
        let line = 1 + text.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        SourceLocation { file, line }
    }
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One thing wrong with a signature file or a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where it is.
    pub location: SourceLocation,
    /// The signature it concerns, when known.
    pub signature: Option<String>,
    /// The field it concerns, when known.
    pub field: Option<&'static str>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.location)?;
        if let Some(id) = &self.signature {
            write!(f, " signature {id:?}:")?;
        }
        if let Some(field) = self.field {
            write!(f, " {field}:")?;
        }
        write!(f, " {}", self.message)
    }
}

/// Loading signatures failed. Holds every problem found, not just the first, so one run of
/// `keysift rules check` shows everything to fix.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// A signature file could not be read.
    #[error("cannot read signature file {path}: {source}")]
    Io {
        /// The path as given.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// One or more signatures are malformed.
    #[error("{}", display_problems(.0))]
    Invalid(Vec<Problem>),
}

fn display_problems(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(Problem::to_string).collect();
    lines.join("\n")
}
