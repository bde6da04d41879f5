//! Counts describing a finished scan.

use std::time::Duration;

use serde::Serialize;

/// What a scan did, for the summary line and the JSON document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Summary {
    /// Blobs (files, stdin) whose bytes were scanned.
    pub blobs_scanned: u64,
    /// Bytes scanned.
    pub bytes_scanned: u64,
    /// Inputs whose content had already been scanned elsewhere in this run.
    pub duplicates: u64,
    /// Blobs skipped because an earlier incremental scan found them clean.
    #[serde(skip_serializing_if = "is_zero")]
    pub already_scanned: u64,
    /// Inputs skipped as binary (archive members included).
    pub binary_skipped: u64,
    /// Archives opened, nested ones included.
    #[serde(skip_serializing_if = "is_zero")]
    pub archives_opened: u64,
    /// Members read from archives (text and binary; nested archives are counted as archives).
    #[serde(skip_serializing_if = "is_zero")]
    pub archive_members: u64,
    /// Symbolic links not followed.
    pub links_skipped: u64,
    /// Inputs that could not be scanned (see the errors).
    pub errors: u64,
    /// Findings reported.
    pub findings: u64,
    /// Findings not reported because of an inline marker (`keysift:allow`, ...).
    #[serde(skip_serializing_if = "is_zero")]
    pub suppressed_inline: u64,
    /// Findings not reported because the baseline lists them.
    #[serde(skip_serializing_if = "is_zero")]
    pub baselined: u64,
    /// Findings not reported because the project config's allowlists leave them out.
    #[serde(skip_serializing_if = "is_zero")]
    pub allowlisted: u64,
    /// Wall-clock time of the scan.
    #[serde(rename = "elapsed_seconds", serialize_with = "as_seconds")]
    #[schemars(with = "f64")]
    pub elapsed: Duration,
}

impl Summary {
    /// Throughput in megabytes (10^6 bytes) per second.
    pub fn megabytes_per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.bytes_scanned as f64 / 1e6 / seconds
        } else {
            0.0
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn as_seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}
