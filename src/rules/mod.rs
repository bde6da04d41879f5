//! The signature library: loading, validating and linting signatures kept as TOML data.
//!
//! Signatures live in `signatures/*.toml` (one file per provider family) and are embedded in the
//! binary by `build.rs`; extra files can be loaded at run time. Loading validates structure
//! (fields, id format, a pattern that parses, a bounded match length) and reports every problem
//! with its file and line. [`crate::lint`] goes further and proves each signature against its own
//! examples through the real scanner, which is what `keysift rules check` and `cargo test` run.
//!
//! Patterns are analysed (maximum match length, capture names, keyword proofs) and compiled only
//! when a signature is first needed, and scans take the built-in signatures from a table parsed
//! at build time ([`RuleSetBuilder::scan_view`]), so start-up stays small with hundreds of
//! signatures.

pub mod analysis;
mod builtin;
mod checksum;
mod error;
mod ruleset;
mod signature;
pub mod spec;

pub use checksum::ChecksumKind;
pub(crate) use error::SourceFile;
pub use error::{Problem, RulesError, SourceLocation};
pub use ruleset::{RuleSet, RuleSetBuilder, SignatureIndex};
pub(crate) use signature::MAX_WINDOW;
pub use signature::{Example, Signature};

use serde::{Deserialize, Serialize};

/// How likely a match is to be a real, usable secret.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Plausible but often noise: weak context, or word-like values.
    Low,
    /// Probably a secret: a generic assignment of a random-looking value, or a loose format.
    Medium,
    /// Almost certainly a secret: a distinctive provider format.
    High,
}

impl Confidence {
    /// The lowercase name used in output and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl std::fmt::Display for Confidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Confidence {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "low" => Ok(Confidence::Low),
            "medium" => Ok(Confidence::Medium),
            "high" => Ok(Confidence::High),
            other => Err(format!(
                "unknown confidence {other:?} (expected low, medium or high)"
            )),
        }
    }
}

/// The categories a signature may belong to. A fixed list keeps `rules list` filters useful.
pub const CATEGORIES: &[&str] = &[
    "ai",
    "analytics",
    "ci-cd",
    "cloud",
    "code-hosting",
    "communication",
    "credentials",
    "crypto",
    "database",
    "email",
    "generic",
    "identity",
    "infrastructure",
    "maps",
    "monitoring",
    "package-registry",
    "payments",
    "private-key",
    "saas",
    "secrets-management",
    "security",
    "social",
    "storage",
    "token-format",
];
