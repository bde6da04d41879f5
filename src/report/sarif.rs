//! SARIF 2.1.0 output, shaped for GitHub code scanning (which needs `tool.driver.rules`, a
//! physical location per result and `security-severity` on rules) and readable by any SARIF
//! viewer.
//!
//! Choices worth knowing:
//! * `rules` lists only the signatures that produced results: the library has hundreds, and a
//!   log listing them all would be mostly noise.
//! * URIs are relative to the directory keysift ran in when the path is below it (a repository
//!   checkout in CI), so code scanning can place results on its files; git paths are relative
//!   to the repository; image paths are paths inside the image.
//! * Columns count Unicode code points, as keysift's do (`columnKind`).
//! * `partialFingerprints` carries keysift's fingerprint, so results keep their identity
//!   across runs and line moves; git and image provenance, the verification verdict and the
//!   confidence are in each result's `properties`.
//! * Suppressed findings (shown with `--show-suppressed`) carry SARIF `suppressions`:
//!   `inSource` for inline markers, `external` for the baseline.

use std::{
    collections::BTreeMap,
    io::{self, Write},
    path::{Component, Path, PathBuf},
    sync::Arc,
};

use serde_json::{json, Value};

use super::{FindingSink, ReportOptions};
use crate::{
    findings::{redact, Finding, Suppression},
    rules::{Confidence, RuleSet},
    scan::Summary,
    sources::{Origin, SourceError},
    verify::Verdict,
};

const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The `partialFingerprints` key of keysift's fingerprint (versioned with its scheme).
const FINGERPRINT_KEY: &str = "keysiftFingerprint/v1";

/// Writes one SARIF log at the end of the scan.
pub struct SarifSink<W: Write> {
    out: W,
    options: ReportOptions,
    rules: Arc<RuleSet>,
    /// The directory URIs are made relative to.
    base: Option<PathBuf>,
    findings: Vec<Finding>,
    errors: Vec<SourceError>,
}

impl<W: Write> SarifSink<W> {
    /// A sink writing to `out`; rule metadata comes from `rules`. Absolute paths below `base`
    /// (normally the current directory) are written relative to it.
    pub fn new(out: W, options: ReportOptions, rules: Arc<RuleSet>, base: Option<PathBuf>) -> Self {
        SarifSink {
            out,
            options,
            rules,
            base,
            findings: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// The `rules` array (one per signature with results, sorted by id) and each id's index.
    fn rules(&self) -> (Vec<Value>, BTreeMap<&str, usize>) {
        let ids: std::collections::BTreeSet<&str> = self
            .findings
            .iter()
            .map(|f| f.found.signature_id.as_str())
            .collect();
        let index = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let rules = ids.iter().map(|id| self.rule(id)).collect();
        (rules, index)
    }

    fn rule(&self, id: &str) -> Value {
        let (name, provider, category, confidence) = match self.rules.find(id) {
            Some((_, s)) => (s.name(), s.provider(), s.category(), s.confidence()),
            // Findings always come from the scanner's rules; stay valid regardless.
            None => (id, "an unknown provider", "unknown", Confidence::Medium),
        };
        let full = format!(
            "A {name} was found in clear text. Anyone who can read this file, its history or \
             the image that ships it can use the credential."
        );
        let help_text = format!(
            "{full} Treat it as compromised: revoke or rotate it with {provider} first, then \
             remove it from the code and from git history (git filter-repo, BFG) or rebuild \
             the image without it, and load it at run time from a secret manager or the \
             environment. If it is a deliberate example, mark the line with a keysift:allow \
             comment or record it in a baseline (keysift ... --write-baseline FILE)."
        );
        let help_markdown = format!(
            "**{name}** ({provider}) found in clear text.\n\n\
             1. **Revoke or rotate** the credential with {provider}: it must be treated as \
             compromised once committed or shipped.\n\
             2. **Remove it** from the code, and from history (`git filter-repo`, BFG) or \
             from the image (rebuild without the file; deleting it in a later layer does not \
             remove it).\n\
             3. **Load it at run time** from a secret manager or the environment.\n\n\
             A deliberate example can be marked with a `keysift:allow` comment on its line, \
             or recorded in a baseline (`keysift ... --write-baseline .keysift-baseline.json`)."
        );
        json!({
            "id": id,
            "name": pascal_case(name),
            "shortDescription": { "text": sentence(&format!("{name} found")) },
            "fullDescription": { "text": full },
            "help": { "text": help_text, "markdown": help_markdown },
            "defaultConfiguration": { "level": level_of(confidence) },
            "properties": {
                "security-severity": security_severity(confidence),
                "precision": precision(confidence),
                "tags": ["security", "secret", "external/cwe/cwe-798", category],
                "provider": provider,
            },
        })
    }

    fn result(&self, finding: &Finding, rule_index: usize) -> Value {
        let found = &finding.found;
        let shown = if self.options.show_secrets {
            found.secret.clone()
        } else {
            redact(&found.secret)
        };
        let (end_line, end_column) = end_of(&found.secret, found.line, found.column);
        let (before, after) = found.snippet.context(self.options.show_secrets);
        let snippet_secret = if self.options.show_secrets {
            found.snippet.secret.as_str()
        } else {
            shown.as_str()
        };
        let mut result = json!({
            "ruleId": found.signature_id,
            "ruleIndex": rule_index,
            "level": level(finding),
            "message": {
                "text": sentence(&format!(
                    "{} {shown} found in {}",
                    found.signature_name,
                    finding.origin.display_path()
                )),
            },
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": { "uri": self.uri(&finding.origin) },
                    "region": {
                        "startLine": found.line,
                        "startColumn": found.column,
                        "endLine": end_line,
                        "endColumn": end_column,
                        "snippet": { "text": format!("{before}{snippet_secret}{after}") },
                    },
                },
            }],
            "partialFingerprints": { FINGERPRINT_KEY: finding.fingerprint },
            "properties": self.properties(finding, &shown),
        });
        if let Some(suppression) = &finding.suppression {
            let kind = match suppression {
                Suppression::Inline { .. } => "inSource",
                Suppression::Baseline => "external",
            };
            result["suppressions"] = json!([{
                "kind": kind,
                "justification": sentence(&format!("Suppressed: {}", suppression.reason())),
            }]);
        }
        result
    }

    fn properties(&self, finding: &Finding, shown: &str) -> Value {
        let found = &finding.found;
        let mut properties = json!({
            "confidence": found.confidence,
            "secret": shown,
            "redacted": !self.options.show_secrets,
            "origin": finding.origin.kind(),
        });
        let mut put = |key: &str, value: Value| {
            properties[key] = value;
        };
        if let Some(git) = finding.origin.git() {
            put("git", json!(git));
        }
        if let Some(image) = finding.origin.image() {
            put("image", json!(image));
        }
        if !finding.origin.archive_members().is_empty() {
            put("archive_members", json!(finding.origin.archive_members()));
        }
        if !found.also_matched.is_empty() {
            put("also_matched", json!(found.also_matched));
        }
        if let Some(verification) = &finding.verification {
            put("verification", json!(verification.as_ref()));
        }
        if let Some(paired) = &finding.paired_with {
            put("paired_with", json!(paired.as_ref()));
        }
        properties
    }

    /// The artifact URI of `origin`: a relative reference where possible.
    fn uri(&self, origin: &Origin) -> String {
        let location = origin.location_key();
        let path = match origin {
            Origin::File { path } => self.relative(path),
            Origin::Archived(archived) => match &archived.container {
                Origin::File { path } => format!("{}{}", self.relative(path), archived.chain()),
                _ => location.trim_start_matches('/').to_string(),
            },
            _ => location.trim_start_matches('/').to_string(),
        };
        let encoded = encode_uri_path(&path);
        // A path outside the base stays absolute: as a `file:` URI.
        if encoded.starts_with('/') {
            format!("file://{encoded}")
        } else {
            encoded
        }
    }

    /// `path` relative to the base directory when below it, without `./`; else as given.
    fn relative(&self, path: &Path) -> String {
        let below_base = self
            .base
            .as_deref()
            .filter(|_| path.is_absolute())
            .and_then(|base| path.strip_prefix(base).ok());
        let path = below_base.unwrap_or(path);
        let parts: Vec<String> = path
            .components()
            .filter(|c| !matches!(c, Component::CurDir))
            .map(|c| match c {
                Component::RootDir => String::new(),
                c => c.as_os_str().to_string_lossy().into_owned(),
            })
            .collect();
        parts.join("/")
    }

    fn notifications(&self) -> Vec<Value> {
        self.errors
            .iter()
            .map(|e| {
                json!({
                    "level": "error",
                    "message": { "text": sentence(&format!("{}: {}", e.input, e.message)) },
                })
            })
            .collect()
    }
}

impl<W: Write> FindingSink for SarifSink<W> {
    fn finding(&mut self, finding: &Finding) -> io::Result<bool> {
        self.findings.push(finding.clone());
        Ok(true)
    }

    fn error(&mut self, error: &SourceError) -> io::Result<()> {
        self.errors.push(error.clone());
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.findings.sort_by_cached_key(super::reading_order);
        let (rules, index) = self.rules();
        let results: Vec<Value> = self
            .findings
            .iter()
            .map(|f| self.result(f, index[f.found.signature_id.as_str()]))
            .collect();
        let mut driver = json!({
            "name": "keysift",
            "version": env!("CARGO_PKG_VERSION"),
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "rules": rules,
        });
        // The tool's home page comes from the package metadata, and only when there is one:
        // better no `informationUri` than an invented one.
        if let Some(home) = information_uri() {
            driver["informationUri"] = json!(home);
        }
        let log = json!({
            "$schema": SCHEMA_URI,
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": driver },
                "invocations": [{
                    "executionSuccessful": summary.errors == 0,
                    "toolExecutionNotifications": self.notifications(),
                }],
                "columnKind": "unicodeCodePoints",
                "results": results,
                "properties": { "summary": summary },
            }],
        });
        serde_json::to_writer_pretty(&mut self.out, &log)?;
        writeln!(self.out)?;
        self.out.flush()
    }
}

/// Result level: live credentials are errors; otherwise by confidence; a credential the
/// provider says is invalid is only a note.
fn level(finding: &Finding) -> &'static str {
    match finding.verification.as_ref().map(|v| v.status) {
        Some(Verdict::Live) => "error",
        Some(Verdict::Invalid) => "note",
        _ => level_of(finding.found.confidence),
    }
}

fn level_of(confidence: Confidence) -> &'static str {
    match confidence {
        Confidence::High => "error",
        Confidence::Medium => "warning",
        Confidence::Low => "note",
    }
}

/// GitHub's `security-severity` (a number in a string; 7.0 and up is "high", 9.0 "critical").
/// A leaked credential is serious by nature; how sure the signature is scales it.
fn security_severity(confidence: Confidence) -> &'static str {
    match confidence {
        Confidence::High => "8.9",
        Confidence::Medium => "7.0",
        Confidence::Low => "5.0",
    }
}

/// GitHub's rule `precision`.
fn precision(confidence: Confidence) -> &'static str {
    match confidence {
        Confidence::High => "very-high",
        Confidence::Medium => "high",
        Confidence::Low => "medium",
    }
}

/// Where a secret starting at `line:column` ends, in SARIF's exclusive end column.
fn end_of(secret: &str, line: usize, column: usize) -> (usize, usize) {
    match secret.rsplit_once('\n') {
        None => (line, column + secret.chars().count()),
        Some((head, last)) => (
            line + head.matches('\n').count() + 1,
            1 + last.trim_end_matches('\r').chars().count(),
        ),
    }
}

/// SARIF messages are sentences: they end with a period (and carry no control characters).
fn sentence(text: &str) -> String {
    let mut text: String = text.chars().filter(|c| !c.is_control()).collect();
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

/// `GitHub personal access token (classic)` → `GitHubPersonalAccessTokenClassic`: SARIF asks
/// for a friendly rule name that is one Pascal-case identifier.
fn pascal_case(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect::<String>()
        })
        .collect()
}

/// Percent-encodes what may not appear in a URI path; keeps `/` and the other sub-delimiters
/// readable (`app.war!/config.yml`).
fn encode_uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'-' | b'_'
                    | b'.'
                    | b'~'
                    | b'/'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'@'
            );
        if keep {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The package's home page (`homepage`, else `repository`, in Cargo.toml), if it has one.
pub fn information_uri() -> Option<&'static str> {
    [env!("CARGO_PKG_HOMEPAGE"), env!("CARGO_PKG_REPOSITORY")]
        .into_iter()
        .find(|uri| !uri.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_pascal_case_identifiers() {
        assert_eq!(
            pascal_case("GitHub personal access token (classic)"),
            "GitHubPersonalAccessTokenClassic"
        );
        assert_eq!(pascal_case("AWS access key ID"), "AWSAccessKeyID");
    }

    #[test]
    fn regions_end_after_the_secret() {
        assert_eq!(end_of("abcd", 3, 5), (3, 9));
        assert_eq!(end_of("-----BEGIN\nxyz\n-----END", 2, 7), (4, 9));
        assert_eq!(end_of("é", 1, 1), (1, 2));
    }

    #[test]
    fn uris_are_encoded_relative_references() {
        assert_eq!(
            encode_uri_path("dir with space/a#b?.env"),
            "dir%20with%20space/a%23b%3F.env"
        );
        assert_eq!(encode_uri_path("app.war!/x.yml"), "app.war!/x.yml");
        assert_eq!(encode_uri_path("config.Env[2]"), "config.Env%5B2%5D");
        let sink = SarifSink::new(
            Vec::new(),
            ReportOptions::default(),
            Arc::new(RuleSet::builder().builtin(false).build().unwrap()),
            Some(PathBuf::from("/work/repo")),
        );
        assert_eq!(
            sink.relative(Path::new("/work/repo/src/a.env")),
            "src/a.env"
        );
        assert_eq!(sink.relative(Path::new("./src/a.env")), "src/a.env");
        assert_eq!(
            sink.relative(Path::new("/elsewhere/a.env")),
            "/elsewhere/a.env"
        );
    }

    #[test]
    fn messages_are_sentences_without_control_characters() {
        assert_eq!(sentence("found in a\x1b[2Jb"), "found in a[2Jb.");
        assert_eq!(sentence("done."), "done.");
    }
}
