//! Finds the project configuration for a scan and folds it into the arguments: a setting in
//! the file applies unless its flag was given on the command line.
//!
//! Where `.keysift.toml` is looked for (unless `--config FILE` or `--no-config`):
//! * `dir PATH...`: in each PATH that is a directory (several different ones are an error:
//!   name one with `--config`); with only files to scan, in the current directory;
//! * `git`, and the pre-push hook: at the top of the repository's work tree (none for a bare
//!   repository);
//! * `stdin`, `image`: in the current directory, where a CI job or hook runs from.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::Context;
use clap::{parser::ValueSource, ArgMatches};
use keysift::{
    config::{ProjectConfig, FILE_NAME},
    report::escape_control,
};

use super::args::{ArchiveArgs, ScanArgs};

/// What the command line says about the configuration.
pub struct ConfigRequest {
    file: Option<PathBuf>,
    ignore: bool,
    /// The matches of the subcommand that runs, to tell given flags from defaults.
    given: ArgMatches,
}

/// Where a scan starts, for finding `.keysift.toml`.
pub enum Root<'a> {
    /// Files and directories given to `dir`.
    Paths(&'a [PathBuf]),
    /// One directory (a work tree, the current directory); `None`: no config there.
    Dir(Option<&'a Path>),
}

impl ConfigRequest {
    /// From the parsed command line.
    pub fn new(file: Option<PathBuf>, ignore: bool, matches: &ArgMatches) -> Self {
        let mut given = matches;
        while let Some((_, sub)) = given.subcommand() {
            given = sub;
        }
        ConfigRequest {
            file,
            ignore,
            given: given.clone(),
        }
    }

    /// The configuration that applies to a scan from `root`, if any. Notes from converting a
    /// gitleaks file are printed unless `quiet`.
    pub fn load(&self, root: Root<'_>, quiet: bool) -> anyhow::Result<Option<Arc<ProjectConfig>>> {
        if self.ignore {
            return Ok(None);
        }
        let config = match &self.file {
            Some(file) => Some(ProjectConfig::load(file)?),
            None => find(root)?,
        };
        if !quiet {
            for note in config.iter().flat_map(|c| c.notes()) {
                eprintln!("keysift: note: {}", escape_control(note));
            }
        }
        Ok(config.map(Arc::new))
    }

    /// Whether the flag with clap id `id` was written on the command line.
    fn given(&self, id: &str) -> bool {
        // `try_get_raw` first: asking `value_source` about an id this subcommand does not
        // have panics.
        self.given.try_get_raw(id).is_ok_and(|raw| raw.is_some())
            && self.given.value_source(id) == Some(ValueSource::CommandLine)
    }

    /// Sets `field` (the flag `id`) from the config unless the flag was given.
    pub fn set<T>(&self, id: &str, field: &mut T, from_config: Option<T>) {
        if let Some(value) = from_config.filter(|_| !self.given(id)) {
            *field = value;
        }
    }

    /// Folds the config's scan-wide settings into `scan` and keeps the config there (for the
    /// rules and the allowlists).
    pub fn apply(&self, config: Option<Arc<ProjectConfig>>, scan: &mut ScanArgs) {
        let Some(config) = config else {
            return;
        };
        self.set("confidence", &mut scan.confidence, config.confidence());
        self.set(
            "verify_timeout",
            &mut scan.verify_timeout,
            config.verify_timeout(),
        );
        // Flags after the file's endpoints: the last one named wins.
        let mut endpoints: Vec<(String, String)> = config
            .endpoints()
            .iter()
            .map(|(name, url)| (name.clone(), url.clone()))
            .collect();
        endpoints.append(&mut scan.verify_endpoint);
        scan.verify_endpoint = endpoints;
        scan.project = Some(config);
    }

    /// Folds the config's archive limits into `archives`.
    pub fn apply_archives(&self, config: Option<&ProjectConfig>, archives: &mut ArchiveArgs) {
        let Some(limits) = config.map(ProjectConfig::limits) else {
            return;
        };
        self.set(
            "max_archive_depth",
            &mut archives.max_archive_depth,
            limits.max_archive_depth,
        );
        self.set(
            "max_archive_size",
            &mut archives.max_archive_size,
            limits.max_archive_size,
        );
        self.set(
            "max_archive_ratio",
            &mut archives.max_archive_ratio,
            limits.max_archive_ratio,
        );
        self.set(
            "no_archives",
            &mut archives.no_archives,
            limits.archives.map(|on| !on),
        );
    }
}

fn find(root: Root<'_>) -> anyhow::Result<Option<ProjectConfig>> {
    let dirs: Vec<&Path> = match root {
        Root::Dir(dir) => dir.into_iter().collect(),
        Root::Paths(paths) => {
            let dirs: Vec<&Path> = paths
                .iter()
                .filter(|p| p.is_dir())
                .map(PathBuf::as_path)
                .collect();
            if dirs.is_empty() {
                vec![Path::new(".")]
            } else {
                dirs
            }
        }
    };
    let mut found: Vec<ProjectConfig> = Vec::new();
    for dir in dirs {
        if let Some(config) = ProjectConfig::find_in(dir)? {
            let same_file = |c: &ProjectConfig| {
                c.path().canonicalize().ok() == config.path().canonicalize().ok()
            };
            if !found.iter().any(same_file) {
                found.push(config);
            }
        }
    }
    if found.len() > 1 {
        let names: Vec<String> = found
            .iter()
            .map(|c| c.path().display().to_string())
            .collect();
        return Err(anyhow::anyhow!(
            "the paths scanned have different {FILE_NAME} files ({}): pick one with --config FILE \
             or scan them separately",
            names.join(", ")
        ))
        .context("ambiguous project configuration");
    }
    Ok(found.pop())
}
