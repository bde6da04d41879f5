//! Findings a project chose not to hear about (`[[allowlist]]`) and signatures it only wants
//! at some paths (`[[restrict]]`), compiled once and asked about each finding.
//!
//! These look at the finding's place (its path), so they run on findings rather than inside
//! the filters, which see only a blob's bytes: a blob's candidates stay the same wherever it
//! was found, and the incremental git cache never records a blob as clean because an
//! allowlist hid its findings.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use regex::Regex;
use toml::Spanned;

use super::{
    file::{AllowlistSpec, Condition, RestrictSpec},
    ConfigError,
};
use crate::{findings::Finding, sources::Origin};

/// Every `[[allowlist]]` and `[[restrict]]` of a config.
#[derive(Debug, Default)]
pub struct Allowlist {
    entries: Vec<Entry>,
    restrictions: Vec<Restriction>,
    /// Paths of files on disk are matched relative to this directory (the config's).
    root: PathBuf,
}

#[derive(Debug)]
struct Entry {
    signatures: Vec<String>,
    paths: PathMatcher,
    secrets: Vec<Regex>,
    lines: Vec<Regex>,
    stopwords: Vec<String>,
    condition: Condition,
}

#[derive(Debug)]
struct Restriction {
    signatures: Vec<String>,
    paths: PathMatcher,
}

/// Globs and regexes over a path.
#[derive(Debug, Default)]
struct PathMatcher {
    globs: Option<GlobSet>,
    regexes: Vec<Regex>,
}

impl PathMatcher {
    fn is_empty(&self) -> bool {
        self.globs.is_none() && self.regexes.is_empty()
    }

    fn matches(&self, paths: &[String]) -> bool {
        paths.iter().any(|path| {
            self.globs.as_ref().is_some_and(|g| g.is_match(path))
                || self.regexes.iter().any(|r| r.is_match(path))
        })
    }
}

/// What compiling a spec needs: turning a span into an error naming the line.
pub(super) struct Compiler<'a> {
    pub(super) error: &'a dyn Fn(std::ops::Range<usize>, String) -> ConfigError,
}

impl Compiler<'_> {
    fn regexes(&self, what: &str, specs: &[Spanned<String>]) -> Result<Vec<Regex>, ConfigError> {
        specs
            .iter()
            .map(|spec| {
                Regex::new(spec.get_ref()).map_err(|e| {
                    (self.error)(spec.span(), format!("invalid regex in `{what}`: {e}"))
                })
            })
            .collect()
    }

    fn paths(
        &self,
        globs: &[Spanned<String>],
        regexes: &[Spanned<String>],
    ) -> Result<PathMatcher, ConfigError> {
        let mut set = GlobSetBuilder::new();
        for glob in globs {
            let compiled = GlobBuilder::new(glob.get_ref())
                .build()
                .map_err(|e| (self.error)(glob.span(), format!("invalid glob in `paths`: {e}")))?;
            set.add(compiled);
        }
        let globs = if globs.is_empty() {
            None
        } else {
            Some(set.build().map_err(|e| {
                (self.error)(globs[0].span(), format!("invalid glob in `paths`: {e}"))
            })?)
        };
        Ok(PathMatcher {
            globs,
            regexes: self.regexes("path_regexes", regexes)?,
        })
    }

    pub(super) fn allowlist(
        &self,
        specs: Vec<AllowlistSpec>,
        restrictions: Vec<RestrictSpec>,
        root: &Path,
    ) -> Result<Allowlist, ConfigError> {
        let mut entries = Vec::new();
        for spec in specs {
            let entry = Entry {
                signatures: spec
                    .signatures
                    .iter()
                    .map(|s| s.get_ref().clone())
                    .collect(),
                paths: self.paths(&spec.paths, &spec.path_regexes)?,
                secrets: self.regexes("secrets", &spec.secrets)?,
                lines: self.regexes("lines", &spec.lines)?,
                stopwords: spec.stopwords.iter().map(|w| w.to_lowercase()).collect(),
                condition: spec.condition,
            };
            if entry.criteria(&Facts::default()).next().is_none() {
                let at = spec.signatures.first().map_or(0..0, |s| s.span());
                return Err((self.error)(
                    at,
                    "an [[allowlist]] needs at least one of paths, path_regexes, secrets, lines, \
                     stopwords (to turn a signature off, use `disable`)"
                        .into(),
                ));
            }
            entries.push(entry);
        }
        let restrictions = restrictions
            .into_iter()
            .map(|spec| {
                let paths = self.paths(&spec.paths, &spec.path_regexes)?;
                if paths.is_empty() || spec.signatures.is_empty() {
                    let at = spec.signatures.first().map_or(0..0, |s| s.span());
                    return Err((self.error)(
                        at,
                        "a [[restrict]] needs signatures and paths or path_regexes".into(),
                    ));
                }
                Ok(Restriction {
                    signatures: spec
                        .signatures
                        .iter()
                        .map(|s| s.get_ref().clone())
                        .collect(),
                    paths,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Allowlist {
            entries,
            restrictions,
            root: absolute(root),
        })
    }
}

/// What the criteria look at, worked out once per finding.
#[derive(Default)]
struct Facts<'a> {
    signature: &'a str,
    /// The path in the forms a pattern may be written for (relative to the config, as reported).
    paths: Vec<String>,
    secret: &'a str,
    line: String,
}

impl Entry {
    /// The verdict of each criterion the entry sets.
    fn criteria<'f>(&'f self, facts: &'f Facts<'f>) -> impl Iterator<Item = bool> + 'f {
        let paths = (!self.paths.is_empty()).then(|| self.paths.matches(&facts.paths));
        let secrets = (!self.secrets.is_empty())
            .then(|| self.secrets.iter().any(|r| r.is_match(facts.secret)));
        let lines =
            (!self.lines.is_empty()).then(|| self.lines.iter().any(|r| r.is_match(&facts.line)));
        let stopwords = (!self.stopwords.is_empty()).then(|| {
            let secret = facts.secret.to_lowercase();
            self.stopwords.iter().any(|w| secret.contains(w.as_str()))
        });
        [paths, secrets, lines, stopwords].into_iter().flatten()
    }

    fn allows(&self, facts: &Facts<'_>) -> bool {
        if !self.signatures.is_empty() && !self.signatures.iter().any(|s| s == facts.signature) {
            return false;
        }
        match self.condition {
            Condition::Any => self.criteria(facts).any(|hit| hit),
            Condition::All => self.criteria(facts).all(|hit| hit),
        }
    }
}

impl Allowlist {
    /// Whether nothing is allowlisted or restricted.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.restrictions.is_empty()
    }

    /// Whether `finding` is to be left out of the report.
    pub fn suppresses(&self, finding: &Finding) -> bool {
        if self.is_empty() {
            return false;
        }
        let found = &finding.found;
        let snippet = &found.snippet;
        let facts = Facts {
            signature: &found.signature_id,
            paths: self.paths_of(&finding.origin),
            secret: &found.secret,
            line: format!("{}{}{}", snippet.before, snippet.secret, snippet.after),
        };
        let mut restricted = self
            .restrictions
            .iter()
            .filter(|r| r.signatures.iter().any(|s| s == facts.signature))
            .peekable();
        let outside =
            restricted.peek().is_some() && !restricted.any(|r| r.paths.matches(&facts.paths));
        outside || self.entries.iter().any(|entry| entry.allows(&facts))
    }

    /// The finding's path as written in the report and, for files under the config's
    /// directory, relative to it (`src/app.env`), so patterns work wherever keysift runs from.
    fn paths_of(&self, origin: &Origin) -> Vec<String> {
        let reported = origin.location_key();
        let mut paths = vec![reported.trim_start_matches("./").to_string()];
        if let Some(path) = file_path(origin) {
            if let Ok(relative) = absolute(path).strip_prefix(&self.root) {
                let suffix = reported_suffix(origin);
                paths.push(format!("{}{suffix}", relative.to_string_lossy()));
            }
        }
        if let Some(stripped) = reported.strip_prefix('/') {
            // Image paths are absolute in the image (`/app/.env`); `app/**` should match too.
            if origin.image().is_some() {
                paths.push(stripped.to_string());
            }
        }
        paths
    }
}

/// The file on disk an origin is in, if any (for an archive member, the outermost archive).
fn file_path(origin: &Origin) -> Option<&Path> {
    match origin {
        Origin::File { path } => Some(path),
        Origin::Archived(archived) => file_path(&archived.container),
        _ => None,
    }
}

/// For an archive member, the member chain after the archive's path (`!/inner/x.yml`).
fn reported_suffix(origin: &Origin) -> String {
    match origin {
        Origin::Archived(archived) => format!(
            "{}{}",
            reported_suffix(&archived.container),
            archived.chain()
        ),
        _ => String::new(),
    }
}

/// `path` made absolute against the current directory, without touching the file system.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
