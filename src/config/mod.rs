//! The project configuration, `.keysift.toml`: extra and disabled signatures, allowlists, scan
//! limits, the default confidence floor and verification endpoints, kept with the code they
//! concern so every run (a developer's hook, CI) scans the same way.
//!
//! A gitleaks (or Betterleaks) configuration is accepted in its place: it is recognised by its
//! top-level `[[rules]]` or `[extend]`, converted by [`gitleaks`], and loaded like a converted
//! file, with notes on what could not be converted.
//!
//! Loading validates everything once (unknown keys, regexes, globs, ids) and names the file and
//! line of each problem; command-line flags then override what the file sets.

pub mod allowlist;
mod file;
pub mod gitleaks;
mod size;

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    sync::Arc,
};

pub use allowlist::Allowlist;
pub use file::Condition;
pub use size::{parse_size, Size};

use crate::rules::{Confidence, RuleSetBuilder, RulesError, SourceFile, SourceLocation};

/// The name keysift looks for at the scan root.
pub const FILE_NAME: &str = ".keysift.toml";

/// The commented starter file `keysift config init` writes.
pub const STARTER: &str = include_str!("starter.toml");

/// A configuration file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path as given.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid configuration.
    #[error("{location}: {message}")]
    Invalid {
        /// The file and line.
        location: SourceLocation,
        /// What is wrong.
        message: String,
    },
}

/// Scan limits a config sets; `None` leaves the flag's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// `--max-file-size`.
    pub max_file_size: Option<u64>,
    /// `--max-layer-size`.
    pub max_layer_size: Option<u64>,
    /// `--max-archive-depth`.
    pub max_archive_depth: Option<u32>,
    /// `--max-archive-size`.
    pub max_archive_size: Option<u64>,
    /// `--max-archive-ratio`.
    pub max_archive_ratio: Option<u64>,
    /// `Some(false)` is `--no-archives`.
    pub archives: Option<bool>,
}

/// A loaded, validated project configuration.
#[derive(Debug)]
pub struct ProjectConfig {
    path: PathBuf,
    /// The file's name in messages.
    name: String,
    /// The text signatures are read from (for a gitleaks file, the converted text).
    text: Arc<str>,
    confidence: Option<Confidence>,
    rules: Vec<PathBuf>,
    disabled: Vec<(String, SourceLocation)>,
    allowlist: Allowlist,
    limits: Limits,
    endpoints: BTreeMap<String, String>,
    verify_timeout: Option<u64>,
    notes: Vec<String>,
}

impl ProjectConfig {
    /// Reads and validates the config at `path` (a keysift or gitleaks file).
    pub fn load(path: &Path) -> Result<ProjectConfig, ConfigError> {
        let text = fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let name = path.display().to_string();
        if gitleaks::looks_like_gitleaks(&text) {
            let converted = gitleaks::convert(&text).map_err(|e| e.at(&name, &text))?;
            let name = format!("{name} (converted from gitleaks)");
            let mut config = ProjectConfig::parse(path, &name, &converted.toml)?;
            config.notes = converted
                .notes
                .iter()
                .map(|n| format!("{}: {n}", path.display()))
                .collect();
            return Ok(config);
        }
        ProjectConfig::parse(path, &name, &text)
    }

    /// Looks for `.keysift.toml` in `dir`; `Ok(None)` when there is none.
    pub fn find_in(dir: &Path) -> Result<Option<ProjectConfig>, ConfigError> {
        let path = dir.join(FILE_NAME);
        if path.is_file() {
            ProjectConfig::load(&path).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Parses `text`, read from `path` and called `name` in messages.
    pub fn parse(path: &Path, name: &str, text: &str) -> Result<ProjectConfig, ConfigError> {
        let source = SourceFile::new(Arc::from(name), text);
        let error = |span: std::ops::Range<usize>, message: String| ConfigError::Invalid {
            location: source.location(span.start),
            message,
        };
        let spec: file::ConfigFile = toml::from_str(text)
            .map_err(|err| error(err.span().unwrap_or(0..0), err.message().trim().to_string()))?;
        // Paths in the file are relative to it.
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let allowlist = allowlist::Compiler { error: &error }.allowlist(
            spec.allowlists,
            spec.restrictions,
            &dir,
        )?;
        let limits = &spec.limits;
        Ok(ProjectConfig {
            path: path.to_path_buf(),
            name: name.to_string(),
            text: Arc::from(text),
            confidence: spec.confidence,
            rules: spec.rules.iter().map(|r| dir.join(r.get_ref())).collect(),
            disabled: spec
                .disable
                .iter()
                .map(|id| (id.get_ref().clone(), source.location(id.span().start)))
                .collect(),
            allowlist,
            limits: Limits {
                max_file_size: limits.max_file_size.map(|s| s.0),
                max_layer_size: limits.max_layer_size.map(|s| s.0),
                max_archive_depth: limits.max_archive_depth,
                max_archive_size: limits.max_archive_size.map(|s| s.0),
                max_archive_ratio: limits.max_archive_ratio,
                archives: limits.archives,
            },
            endpoints: spec.verify.endpoints,
            verify_timeout: spec.verify.timeout,
            notes: Vec::new(),
        })
    }

    /// Where the config was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds the config's signatures (files and inline tables) and disabled ids to `builder`.
    pub fn add_rules(&self, mut builder: RuleSetBuilder) -> Result<RuleSetBuilder, RulesError> {
        for path in &self.rules {
            builder = builder.add_path(path)?;
        }
        // Always added, even without inline signatures: the rule set's digest, which keys the
        // incremental git cache, then covers the config's allowlists and settings too.
        builder = builder.add_embedded_source(&self.name, &self.text);
        for (id, location) in &self.disabled {
            builder = builder.disable(id, location.clone());
        }
        Ok(builder)
    }

    /// The default confidence floor, if set.
    pub fn confidence(&self) -> Option<Confidence> {
        self.confidence
    }

    /// The allowlists and path restrictions.
    pub fn allowlist(&self) -> &Allowlist {
        &self.allowlist
    }

    /// The scan limits set.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Verification base URLs by check name.
    pub fn endpoints(&self) -> &BTreeMap<String, String> {
        &self.endpoints
    }

    /// The verification timeout in seconds, if set.
    pub fn verify_timeout(&self) -> Option<u64> {
        self.verify_timeout
    }

    /// What could not be converted from a gitleaks file, one note each.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }
}

#[cfg(test)]
mod tests;
