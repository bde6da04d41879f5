//! Baselines: the findings a team has looked at and accepted (or not fixed yet), recorded so
//! that later scans report only what is new.
//!
//! A baseline file lists finding fingerprints (see [`crate::findings::fingerprint`]): hashes of
//! the signature, the secret and the path, never the line, so a secret moved by unrelated edits
//! stays baselined, while the same secret in another file, or a new secret in the same file, is
//! new. The file never holds a secret: only the fingerprint, and for the people reviewing it the
//! signature id, the path and the line where it was seen.

use std::{
    collections::{BTreeMap, HashSet},
    fs, io,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

use crate::findings::Finding;

/// The version of the file layout this build reads and writes.
const FORMAT_VERSION: u32 = 1;

/// The fingerprints of a baseline file, for lookups.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    fingerprints: HashSet<String>,
}

/// A baseline that could not be read or written; always names the file.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file could not be read or written.
    #[error("baseline {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file is not a keysift baseline this version understands.
    #[error("baseline {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

/// The file as written: sorted by fingerprint, so that updating a baseline gives a small diff.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    keysift_baseline: u32,
    created_by: String,
    findings: Vec<Entry>,
}

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The finding's fingerprint: what later scans compare.
    pub fingerprint: String,
    /// For people: the signature.
    pub signature_id: String,
    /// For people: where it was seen (the path, as in JSON output).
    pub path: String,
    /// For people: the line it was on when the baseline was written.
    pub line: usize,
}

impl Entry {
    /// The entry recording `finding`.
    pub fn of(finding: &Finding) -> Entry {
        Entry {
            fingerprint: finding.fingerprint.clone(),
            signature_id: finding.found.signature_id.clone(),
            path: finding.origin.location_key(),
            line: finding.found.line,
        }
    }
}

impl Baseline {
    /// Reads a baseline file.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = fs::read_to_string(path).map_err(|source| BaselineError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let invalid = |message: String| BaselineError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let file: BaselineFile = serde_json::from_str(&text)
            .map_err(|e| invalid(format!("not a keysift baseline file ({e})")))?;
        if file.keysift_baseline != FORMAT_VERSION {
            return Err(invalid(format!(
                "format version {} is not supported (this keysift reads version {FORMAT_VERSION})",
                file.keysift_baseline
            )));
        }
        Ok(Baseline {
            fingerprints: file.findings.into_iter().map(|e| e.fingerprint).collect(),
        })
    }

    /// Whether `finding` is in the baseline.
    pub fn contains(&self, finding: &Finding) -> bool {
        self.fingerprints.contains(&finding.fingerprint)
    }

    /// How many fingerprints the baseline holds.
    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    /// Whether the baseline is empty.
    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }
}

/// Collects the entries of a baseline being written; one per fingerprint however many times the
/// finding was seen.
#[derive(Debug, Default)]
pub struct BaselineWriter {
    entries: BTreeMap<String, Entry>,
}

impl BaselineWriter {
    /// Records `finding`.
    pub fn add(&mut self, finding: &Finding) {
        self.entries
            .entry(finding.fingerprint.clone())
            .or_insert_with(|| Entry::of(finding));
    }

    /// Distinct findings recorded.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes the baseline to `path`, replacing it whole (a temporary file renamed into place,
    /// so an interrupted write never leaves half a baseline).
    pub fn write(self, path: &Path) -> Result<(), BaselineError> {
        let file = BaselineFile {
            keysift_baseline: FORMAT_VERSION,
            created_by: format!("keysift {}", env!("CARGO_PKG_VERSION")),
            findings: self.entries.into_values().collect(),
        };
        let mut text = serde_json::to_string_pretty(&file).expect("a baseline serialises");
        text.push('\n');
        let io_error = |source| BaselineError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        fs::write(&temporary, text).map_err(io_error)?;
        fs::rename(&temporary, path).map_err(io_error)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{rules::RuleSet, scan::Scanner, sources::Origin};

    fn findings(text: &str, path: &str) -> Vec<Finding> {
        let scanner = Scanner::builder(RuleSet::builtin().unwrap())
            .build()
            .unwrap();
        let origin = Arc::new(Origin::File { path: path.into() });
        scanner
            .scan_bytes(text.as_bytes())
            .into_iter()
            .map(|f| Finding::new(Arc::new(f), origin.clone()))
            .collect()
    }

    const TOKEN: &str = "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";

    #[test]
    fn a_written_baseline_reads_back_and_holds_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline.json");
        let found = findings(&format!("token = {TOKEN}\n"), "app.env");
        let mut writer = BaselineWriter::default();
        for f in found.iter().chain(&found) {
            writer.add(f);
        }
        assert_eq!(writer.len(), 1);
        writer.write(&path).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains(TOKEN) && !text.contains(&TOKEN[4..20]));
        let baseline = Baseline::load(&path).unwrap();
        assert_eq!(baseline.len(), 1);
        // Moved two lines down: still baselined. In another file: new.
        assert!(baseline.contains(&findings(&format!("\n\ntoken = {TOKEN}\n"), "app.env")[0]));
        assert!(!baseline.contains(&findings(&format!("token = {TOKEN}\n"), "other.env")[0]));
    }

    #[test]
    fn bad_files_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        let missing = Baseline::load(&path).unwrap_err().to_string();
        assert!(missing.contains("b.json"), "{missing}");
        fs::write(&path, "{not json").unwrap();
        let garbage = Baseline::load(&path).unwrap_err().to_string();
        assert!(garbage.contains("b.json") && garbage.contains("not a keysift baseline"));
        fs::write(
            &path,
            r#"{"keysift_baseline": 99, "created_by": "x", "findings": []}"#,
        )
        .unwrap();
        let future = Baseline::load(&path).unwrap_err().to_string();
        assert!(future.contains("version 99"), "{future}");
    }
}
