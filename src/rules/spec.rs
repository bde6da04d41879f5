//! The on-disk form of a signature file, exactly as written in TOML.
//!
//! These types only describe the file format; [`super::Signature`] is the validated,
//! ready-to-use form. Every table denies unknown fields so that a typo (`keyword = ...`,
//! `negative_example = ...`) is an error with the file and line instead of a silently ignored
//! setting.

use serde::Deserialize;
use toml::Spanned;

use super::{ChecksumKind, Confidence};

/// One `signatures/*.toml` file: a list of `[[signature]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureFileSpec {
    /// The signatures, in file order.
    #[serde(default, rename = "signature")]
    pub signatures: Vec<SignatureSpec>,
}

/// One `[[signature]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureSpec {
    /// Stable identifier, e.g. `github.pat.classic`. Spanned so errors can name the line.
    pub id: Spanned<String>,
    /// Human-readable name.
    pub name: String,
    /// The organisation that issues the credential, e.g. `GitHub`.
    pub provider: String,
    /// One of [`super::CATEGORIES`].
    pub category: String,
    /// How sure a match of this signature is to be a real secret.
    pub confidence: Confidence,
    /// Literals of which at least one occurs in every match (the prefilter's input).
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Match keywords ignoring ASCII case (needed when the pattern itself is case-insensitive).
    #[serde(default)]
    pub keywords_ignore_case: bool,
    /// Explicitly allow a signature without keywords: its regex then runs over every blob.
    #[serde(default)]
    pub keywordless: bool,
    /// The regular expression. A named group `secret` marks the secret; without one, the whole
    /// match is the secret.
    pub pattern: Spanned<String>,
    /// Upper bound on a match's length in bytes, required when the pattern is unbounded.
    pub max_len: Option<usize>,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    pub min_entropy: Option<f64>,
    /// A checksum embedded in the token that a real secret must satisfy.
    pub checksum: Option<ChecksumKind>,
    /// Candidates go through the generic-secret heuristics (placeholder and randomness checks).
    #[serde(default)]
    pub generic: bool,
    /// Reject secrets that are placeholders or references (`${DB_PASSWORD}`, `changeme`),
    /// without the randomness test: for user-chosen secrets in a strong context, such as the
    /// password of a database URI.
    #[serde(default)]
    pub reject_placeholders: bool,
    /// Optional longer description: what the credential grants, how to revoke it.
    pub description: Option<String>,
    /// Links to the provider's own documentation of the format.
    #[serde(default)]
    pub references: Vec<String>,
    /// Texts that must produce a finding of this signature.
    #[serde(default)]
    pub examples: Vec<ExampleSpec>,
    /// Texts that must not produce a finding of this signature.
    #[serde(default)]
    pub negative_examples: Vec<String>,
    /// How to ask the provider whether a found secret is live (`--verify`).
    pub verify: Option<crate::verify::check::HttpCheck>,
    /// A verification the provider's protocol needs code for (request signing).
    pub verify_typed: Option<crate::verify::check::TypedSpec>,
    /// The other half of a multi-part credential, found as a separate finding nearby.
    pub companion: Option<crate::verify::check::CompanionSpec>,
}

/// A positive example: either a bare secret (the whole string is the secret) or a text with the
/// secret it must yield.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ExampleSpec {
    /// The whole string is both the text and the expected secret.
    Secret(String),
    /// A text and the secret the signature must extract from it.
    InContext(ExampleInContext),
}

/// An example with surrounding context.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleInContext {
    /// The text to scan.
    pub text: String,
    /// The secret the signature must report.
    pub secret: String,
}

impl ExampleSpec {
    /// The text to scan.
    pub fn text(&self) -> &str {
        match self {
            ExampleSpec::Secret(s) => s,
            ExampleSpec::InContext(e) => &e.text,
        }
    }

    /// The secret the example must yield.
    pub fn secret(&self) -> &str {
        match self {
            ExampleSpec::Secret(s) => s,
            ExampleSpec::InContext(e) => &e.secret,
        }
    }
}
