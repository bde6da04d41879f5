//! The on-disk form of `.keysift.toml`, exactly as written. Every table denies unknown fields,
//! so a misspelt key is an error naming its file and line rather than a setting silently
//! ignored.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::size::Size;
use crate::rules::{spec::SignatureSpec, Confidence};

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The default confidence floor (`--confidence` overrides it).
    pub confidence: Option<Confidence>,
    /// Signature files or directories to add, relative to the config file.
    #[serde(default)]
    pub rules: Vec<Spanned<String>>,
    /// Signature ids to turn off.
    #[serde(default)]
    pub disable: Vec<Spanned<String>>,
    /// Signatures written in the config itself, in the schema of `signatures/*.toml`. Parsed
    /// here only so their mistakes are reported with the rest; the rule set builder reads
    /// them from the same text.
    #[serde(default, rename = "signature")]
    pub _signatures: Vec<SignatureSpec>,
    /// Findings to leave out.
    #[serde(default, rename = "allowlist")]
    pub allowlists: Vec<AllowlistSpec>,
    /// Signatures reported only at some paths.
    #[serde(default, rename = "restrict")]
    pub restrictions: Vec<RestrictSpec>,
    /// Scan limits.
    #[serde(default)]
    pub limits: LimitsSpec,
    /// Verification settings.
    #[serde(default)]
    pub verify: VerifySpec,
}

/// One `[[allowlist]]` table: criteria that suppress a finding.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistSpec {
    /// Why: for the reader of the file only.
    #[serde(rename = "description")]
    pub _description: Option<String>,
    /// Only findings of these signatures (all when empty).
    #[serde(default)]
    pub signatures: Vec<Spanned<String>>,
    /// Path globs (`tests/fixtures/**`, `*.md`).
    #[serde(default)]
    pub paths: Vec<Spanned<String>>,
    /// Path regexes.
    #[serde(default)]
    pub path_regexes: Vec<Spanned<String>>,
    /// Regexes matched against the secret.
    #[serde(default)]
    pub secrets: Vec<Spanned<String>>,
    /// Regexes matched against the secret's line.
    #[serde(default)]
    pub lines: Vec<Spanned<String>>,
    /// Words whose presence in the secret (ignoring case) makes it a non-secret.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Whether any one criterion suffices (default) or all given must hold.
    #[serde(default)]
    pub condition: Condition,
}

/// How an allowlist's criteria combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Condition {
    /// Any criterion suppresses the finding.
    #[default]
    Any,
    /// Every criterion given must hold.
    All,
}

/// One `[[restrict]]` table: these signatures are reported only at matching paths.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestrictSpec {
    /// The signatures restricted.
    pub signatures: Vec<Spanned<String>>,
    /// Path globs.
    #[serde(default)]
    pub paths: Vec<Spanned<String>>,
    /// Path regexes.
    #[serde(default)]
    pub path_regexes: Vec<Spanned<String>>,
}

/// `[limits]`: the scan limits that are also flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// `--max-file-size`.
    pub max_file_size: Option<Size>,
    /// `--max-layer-size`.
    pub max_layer_size: Option<Size>,
    /// `--max-archive-depth`.
    pub max_archive_depth: Option<u32>,
    /// `--max-archive-size`.
    pub max_archive_size: Option<Size>,
    /// `--max-archive-ratio`.
    pub max_archive_ratio: Option<u64>,
    /// `false` is `--no-archives`.
    pub archives: Option<bool>,
}

/// `[verify]`: verification settings (verification itself stays opt-in, `--verify`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySpec {
    /// Base URLs by check name, as `--verify-endpoint NAME=URL`.
    #[serde(default)]
    pub endpoints: BTreeMap<String, String>,
    /// `--verify-timeout`, in seconds.
    pub timeout: Option<u64>,
}
