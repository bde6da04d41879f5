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

/// A signature file's name and text, with an index of its lines so that locating each of its
/// hundred signatures costs a binary search rather than a scan from the top.
#[derive(Debug)]
pub struct SourceFile<'a> {
    /// The file name.
    pub name: Arc<str>,
    /// The contents.
    pub text: &'a str,
    newlines: Vec<usize>,
}

impl<'a> SourceFile<'a> {
    /// Indexes `text`.
    pub fn new(name: Arc<str>, text: &'a str) -> Self {
        let newlines = memchr::memchr_iter(b'\n', text.as_bytes()).collect();
        SourceFile {
            name,
            text,
            newlines,
        }
    }

    /// The location of byte `offset`.
    pub fn location(&self, offset: usize) -> SourceLocation {
        let line = 1 + self.newlines.partition_point(|&nl| nl < offset);
        SourceLocation {
            file: self.name.clone(),
            line,
        }
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
