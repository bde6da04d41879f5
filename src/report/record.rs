//! The serialised form of a finding, shared by the JSON and JSONL sinks.

use serde::Serialize;

use super::ReportOptions;
use crate::{
    findings::{redact, Finding, Suppression},
    rules::Confidence,
    sources::{git::GitOrigin, image::ImageOrigin},
    verify::{PairedWith, Verification},
};

/// One finding as written in JSON. Field names are part of keysift's output contract.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct FindingRecord<'a> {
    /// Signature id.
    pub signature_id: &'a str,
    /// Signature name.
    pub signature_name: &'a str,
    /// Confidence level.
    pub confidence: Confidence,
    /// Origin kind (`file`, `stdin`, `git`, `image`); for an archive member, where the archive
    /// was found.
    pub origin: &'static str,
    /// Path (or `<stdin>`, or `<blob ID>` for a git blob no path reaches); for a member of an
    /// archive, the archive's path followed by `!/member` for each level of nesting.
    pub path: String,
    /// For a member of an archive: the member names from the outermost archive down.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub archive_members: &'a [String],
    /// For git origins: the blob, the commit that introduced it (id, author, e-mail, date,
    /// summary), other commits and paths.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git: Option<&'a GitOrigin>,
    /// For image origins: the image, platform, layer (index, digest) and whether the file is
    /// still visible in the final image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<&'a ImageOrigin>,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The secret, redacted unless `--show-secrets`.
    pub secret: String,
    /// Whether `secret` and `snippet` are redacted.
    pub redacted: bool,
    /// The secret's line, cut to length, redacted like `secret`.
    pub snippet: String,
    /// Stable id of this finding.
    pub fingerprint: &'a str,
    /// Shannon entropy of the secret, bits per byte.
    pub entropy: f64,
    /// Other signatures that matched the same secret.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub also_matched: &'a [String],
    /// With `--verify`, for signatures that have a check: `status` (`live`, `invalid`,
    /// `unknown`), and the `identity` (live) or `reason` (unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<&'a Verification>,
    /// For a credential verified as a pair: where its other part is (signature, line, column).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paired_with: Option<&'a PairedWith>,
    /// With `--show-suppressed`, for a finding not reported otherwise: `kind` (`inline`, with
    /// the `marker`, or `baseline`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression: Option<&'a Suppression>,
}

impl<'a> FindingRecord<'a> {
    /// The record of `finding` under `options`.
    pub fn new(finding: &'a Finding, options: &ReportOptions) -> Self {
        let found = &finding.found;
        let shown = if options.show_secrets {
            found.secret.clone()
        } else {
            redact(&found.secret)
        };
        let snippet_secret = if options.show_secrets {
            found.snippet.secret.clone()
        } else {
            shown.clone()
        };
        FindingRecord {
            signature_id: &found.signature_id,
            signature_name: &found.signature_name,
            confidence: found.confidence,
            origin: finding.origin.kind(),
            path: finding.origin.location_key(),
            archive_members: finding.origin.archive_members(),
            git: finding.origin.git(),
            image: finding.origin.image(),
            line: found.line,
            column: found.column,
            secret: shown,
            redacted: !options.show_secrets,
            snippet: {
                let (before, after) = found.snippet.context(options.show_secrets);
                format!("{before}{snippet_secret}{after}")
            },
            fingerprint: &finding.fingerprint,
            entropy: (found.entropy * 1000.0).round() / 1000.0,
            also_matched: &found.also_matched,
            verification: finding.verification.as_deref(),
            paired_with: finding.paired_with.as_deref(),
            suppression: finding.suppression.as_ref(),
        }
    }
}
