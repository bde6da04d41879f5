//! GitLab's secret-detection report (`gl-secret-detection-report.json`, schema 15.x), so that
//! keysift's findings appear in merge requests and the vulnerability report when a job
//! declares it as `artifacts:reports:secret_detection`.
//!
//! The schema has no notion of a suppressed finding, so suppressed findings are left out even
//! with `--show-suppressed`. Files scanned outside git carry the placeholder commit `0000000`,
//! as GitLab's own analyzer writes. The secret itself (`raw_source_code_extract`) is written
//! only with `--show-secrets`.

use std::{
    io::{self, Write},
    time::SystemTime,
};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{FindingSink, ReportOptions};
use crate::{
    findings::Finding, hex, rules::Confidence, scan::Summary, sources::SourceError,
    time::utc_timestamp, verify::Verdict,
};

/// The report schema version written.
pub const SCHEMA_VERSION: &str = "15.2.1";
/// The commit written for findings outside git.
const NO_COMMIT: &str = "0000000";

/// Writes one GitLab report at the end of the scan.
pub struct GitLabSink<W: Write> {
    out: W,
    options: ReportOptions,
    started: SystemTime,
    findings: Vec<Finding>,
    errors: Vec<SourceError>,
}

impl<W: Write> GitLabSink<W> {
    /// A sink writing to `out`; the scan is taken to start now.
    pub fn new(out: W, options: ReportOptions) -> Self {
        GitLabSink {
            out,
            options,
            started: SystemTime::now(),
            findings: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn vulnerability(&self, finding: &Finding) -> Value {
        let found = &finding.found;
        let file = finding.origin.location_key();
        let mut commit = json!({ "sha": NO_COMMIT });
        if let Some(info) = finding.origin.git().and_then(|git| git.commit.as_ref()) {
            commit = json!({
                "sha": info.id,
                "author": format!("{} <{}>", info.author_name, info.author_email),
                "date": info.date,
                "message": info.summary,
            });
        }
        let end_line = found.line + found.secret.matches('\n').count();
        let mut vulnerability = json!({
            "id": vulnerability_id(finding),
            "name": found.signature_name,
            "description": format!(
                "{} found in {}. Rotate the credential, then remove it from the code and its history.",
                found.signature_name,
                finding.origin.display_path()
            ),
            "severity": severity(finding),
            "identifiers": [{
                "type": "keysift_signature_id",
                "name": format!("keysift signature {}", found.signature_id),
                "value": found.signature_id,
            }],
            "location": {
                "file": file,
                "commit": commit,
                "start_line": found.line,
                "end_line": end_line,
            },
        });
        if let Some(verification) = &finding.verification {
            // The report format has no field for it; the description is what reviewers read.
            let detail = verification
                .identity
                .as_deref()
                .or(verification.reason.as_deref())
                .map_or(String::new(), |d| format!(" ({d})"));
            let text = format!(
                " Verified with the provider: {}{detail}.",
                verification.status.as_str()
            );
            if let Some(Value::String(description)) = vulnerability.get_mut("description") {
                description.push_str(&text);
            }
        }
        if self.options.show_secrets {
            vulnerability["raw_source_code_extract"] = json!(found.secret);
        }
        vulnerability
    }
}

impl<W: Write> FindingSink for GitLabSink<W> {
    fn finding(&mut self, finding: &Finding) -> io::Result<bool> {
        if finding.suppression.is_none() {
            self.findings.push(finding.clone());
        }
        Ok(true)
    }

    fn error(&mut self, error: &SourceError) -> io::Result<()> {
        self.errors.push(error.clone());
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.findings.sort_by_cached_key(super::reading_order);
        let tool = json!({
            "id": "keysift",
            "name": "keysift",
            "version": env!("CARGO_PKG_VERSION"),
            "vendor": { "name": "keysift" },
        });
        let messages: Vec<Value> = self
            .errors
            .iter()
            .map(|e| json!({ "level": "warn", "value": format!("{}: {}", e.input, e.message) }))
            .collect();
        let report = json!({
            "version": SCHEMA_VERSION,
            "scan": {
                "analyzer": tool,
                "scanner": tool,
                "type": "secret_detection",
                "start_time": utc_timestamp(self.started),
                "end_time": utc_timestamp(SystemTime::now()),
                // Inputs that could not be scanned are listed in `messages` (and make the exit
                // code 2); what was scanned is still reported.
                "status": "success",
                "messages": messages,
            },
            "vulnerabilities": self.findings.iter().map(|f| self.vulnerability(f)).collect::<Vec<_>>(),
        });
        serde_json::to_writer_pretty(&mut self.out, &report)?;
        writeln!(self.out)?;
        self.out.flush()
    }
}

/// GitLab's severities: a live credential is critical; otherwise by confidence.
fn severity(finding: &Finding) -> &'static str {
    match finding.verification.as_ref().map(|v| v.status) {
        Some(Verdict::Live) => "Critical",
        Some(Verdict::Invalid) => "Low",
        _ => match finding.found.confidence {
            Confidence::High => "Critical",
            Confidence::Medium => "High",
            Confidence::Low => "Medium",
        },
    }
}

/// A UUID-shaped id, stable across runs: the fingerprint with the place it was seen (one
/// fingerprint can be reported at several places, say two image layers), hashed.
fn vulnerability_id(finding: &Finding) -> String {
    let mut hasher = Sha256::new();
    hasher.update(finding.fingerprint.as_bytes());
    hasher.update([0]);
    hasher.update(finding.origin.display_path().as_bytes());
    hasher.update(finding.found.line.to_le_bytes());
    let hex = hex::hex(&hasher.finalize()[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
