//! Scanning a git repository: its whole history, its staged changes, or a range of commits.
//!
//! Each mode lists unique blobs, scans them with the same parallel loop as every other source,
//! then works out where the findings belong, which is the expensive part and so is done only
//! for blobs that have findings:
//!
//! * **history**: the commits that introduced each blob
//!   ([`crate::sources::git::attribute`]);
//! * **staged / range**: the change(s) that brought each blob in, keeping only findings on
//!   lines those changes added ([`changes::added_lines`]).
//!
//! `.keysiftignore` at the top of the work tree is honoured by path, as in `keysift dir`.

mod ignore;
mod packs;
mod place;

use std::{
    collections::{HashMap, HashSet},
    path::PathBuf,
    sync::Arc,
};

use gix::ObjectId;

use self::{
    ignore::KeysiftIgnore,
    packs::{scan_packs, PackedScan, MIN_BLOBS_FOR_PACK_WALK},
    place::{change_findings, group_by_origin, history_findings, Plan},
};
use super::{run, Event, RunOptions, Scanner, Summary};
use crate::{
    findings::BlobFinding,
    sources::{
        git::{
            cache::{Loaded as CacheLoaded, ScanCache},
            changes::{self, Change, Changes, ChangesError},
            history, pack_walk, GitBlob, GitBlobs, ObjectError, Repository,
        },
        ReadLimits, Source, SourceError,
    },
};

/// What part of the repository to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitMode {
    /// Every blob reachable from any ref; with `include_unreachable`, every blob in the object
    /// database.
    History {
        /// Also scan blobs no ref reaches.
        include_unreachable: bool,
    },
    /// What is staged in the index relative to `HEAD`: added lines only.
    Staged,
    /// What the commits of a range (`A..B`, `A..`, `REV`) introduce: added lines only.
    Range(String),
    /// What the commits reachable from `tips` and not from `hidden` introduce (a push).
    Commits {
        /// Where the walk starts.
        tips: Vec<ObjectId>,
        /// Commits the other side already has.
        hidden: Vec<ObjectId>,
    },
}

/// Settings of a git scan.
#[derive(Debug, Clone)]
pub struct GitScanOptions {
    /// What to scan.
    pub mode: GitMode,
    /// Blob size limit.
    pub limits: ReadLimits,
    /// Threads.
    pub run: RunOptions,
    /// Skip blobs an earlier scan with the same settings found clean, and remember the clean
    /// ones of this scan.
    pub incremental: bool,
    /// Where the incremental cache lives (default: `keysift/` in the repository's git dir).
    pub cache_dir: Option<PathBuf>,
    /// Extra text that changes what a scan reports (the confidence floor), part of the cache
    /// key.
    pub settings_key: String,
}

/// What a git scan found out besides findings.
#[derive(Debug, Default)]
pub struct GitScanReport {
    /// Counts.
    pub summary: Summary,
    /// Facts worth telling the user: shallow clone, submodules not entered, no commits, the
    /// cache being discarded.
    pub notes: Vec<String>,
    /// Commits walked (history) or in the range.
    pub commits: usize,
}

/// A git scan could not even start.
#[derive(Debug, thiserror::Error)]
pub enum GitScanError {
    /// Listing the changes failed.
    #[error(transparent)]
    Changes(#[from] ChangesError),
}

/// Scans `repo`, calling `on_event` with findings (each with its git origin) and errors.
pub fn scan_repository(
    repo: Arc<Repository>,
    scanner: &Scanner,
    options: &GitScanOptions,
    mut on_event: impl FnMut(&Event) -> bool,
) -> Result<GitScanReport, GitScanError> {
    let started = std::time::Instant::now();
    let local = repo.local();
    let mut report = GitScanReport {
        notes: repo.shape_notes(),
        ..GitScanReport::default()
    };
    let ignore = KeysiftIgnore::load(repo.work_dir());

    // 1. What to scan.
    let mut listing = list_blobs(&local, &options.mode, &ignore, &mut report)?;

    // 2. Skip what an earlier incremental scan found clean.
    let mut cache = None;
    if options.incremental {
        let dir = options
            .cache_dir
            .clone()
            .unwrap_or_else(|| repo.common_dir().join("keysift"));
        let key = ScanCache::key(scanner.rules().digest(), &options.settings_key);
        let (opened, loaded) = ScanCache::open(&dir, &key, local.object_hash());
        if let CacheLoaded::Discarded(why) = loaded {
            report.notes.push(format!(
                "incremental cache discarded, scanning everything: {why}"
            ));
        }
        let before = listing.blobs.len();
        listing.blobs.retain(|b| !opened.contains(&b.id));
        report.summary.already_scanned = (before - listing.blobs.len()) as u64;
        cache = Some(opened);
    }

    // 3. Scan each unique blob once, collecting findings by blob; errors go out at once.
    //    A history scan that wants most of the packed objects reads whole packs in delta-tree
    //    order first; the per-blob path then handles what that did not reach.
    let mut by_blob: FindingsByBlob = HashMap::new();
    let mut stopped = false;
    let mut packed = PackedScan::default();
    if matches!(listing.plan, Plan::History(_))
        && listing.blobs.len() * 4 >= pack_walk::packed_object_count(&local)
        && listing.blobs.len() >= MIN_BLOBS_FOR_PACK_WALK
    {
        packed = scan_packs(&local, &listing.blobs, scanner, options);
        listing.blobs.retain(|b| !packed.visited.contains(&b.id));
        for (id, found) in std::mem::take(&mut packed.findings) {
            by_blob.insert(id, found);
        }
        report.notes.append(&mut packed.notes);
        for error in std::mem::take(&mut packed.errors) {
            stopped = stopped || !on_event(&Event::Error(error));
        }
    }
    let errors: Vec<SourceError> = listing
        .errors
        .iter()
        .map(|e| GitBlobs::object_error(&repo, e))
        .collect();
    let source = GitBlobs::new(repo.clone(), listing.blobs, options.limits, errors);
    let mut summary = run(&source, scanner, options.run, |event| match event {
        Event::Findings(found) => {
            for finding in found {
                let id = finding
                    .origin
                    .git()
                    .and_then(|git| ObjectId::from_hex(git.blob.as_bytes()).ok());
                if let Some(id) = id {
                    by_blob.entry(id).or_default().push(finding.found.clone());
                }
            }
            true
        }
        Event::Error(_) => {
            stopped = stopped || !on_event(event);
            !stopped
        }
    });
    summary.already_scanned = report.summary.already_scanned;
    summary.blobs_scanned += packed.blobs;
    summary.bytes_scanned += packed.bytes;
    summary.binary_skipped += packed.binary;
    summary.errors += packed.error_count;
    let lfs_pointers = source.lfs_pointers() + packed.lfs_pointers;
    if lfs_pointers > 0 {
        report.notes.push(format!(
            "{lfs_pointers} Git LFS pointer file(s) scanned as pointers: the files' content lives on the LFS server and was not scanned"
        ));
    }

    // 4. Place the findings (attribution, added lines) and emit them.
    let (mut findings, late_errors) = match listing.plan {
        Plan::History(walked) => {
            let scanned: Vec<GitBlob> = source
                .items()
                .iter()
                .cloned()
                .chain(packed.visited_blobs)
                .collect();
            history_findings(&local, &walked, &scanned, &by_blob)
        }
        Plan::Changes(changes) => change_findings(&local, &changes, &by_blob),
    };
    for error in late_errors {
        summary.errors += 1;
        stopped = stopped || !on_event(&Event::Error(GitBlobs::object_error(&repo, &error)));
    }
    findings.retain(|f| !ignore.ignores(&f.origin.location_key()));
    findings.sort_by_cached_key(|f| (f.origin.location_key(), f.found.line, f.found.column));
    summary.findings = findings.len() as u64;
    for group in group_by_origin(findings) {
        stopped = stopped || !on_event(&Event::Findings(group));
    }

    // 5. Remember the blobs scanned clean, unless the scan was cut short (then some blobs
    //    were never scanned and must not be recorded).
    if let Some(mut cache) = cache.filter(|_| !stopped) {
        let failed = source.failed();
        let scanned = source.items().iter().map(|b| b.id);
        for id in scanned.chain(packed.visited.iter().copied()) {
            if !failed.contains(&id) && !packed.failed.contains(&id) && !by_blob.contains_key(&id) {
                cache.insert(id);
            }
        }
        if let Err(e) = cache.save() {
            report.notes.push(format!(
                "cannot write the incremental cache {}: {e}",
                cache.path().display()
            ));
        }
    }
    summary.elapsed = started.elapsed();
    report.summary = summary;
    Ok(report)
}

/// Findings of each blob, before they are placed.
type FindingsByBlob = HashMap<ObjectId, Vec<Arc<BlobFinding>>>;

/// What a mode asks to scan.
struct Listing {
    /// Unique blobs.
    blobs: Vec<GitBlob>,
    /// Objects that could not be read while listing.
    errors: Vec<ObjectError>,
    /// How to place findings afterwards.
    plan: Plan,
}

/// Lists the blobs `mode` asks for, adding notes about the repository to `report`.
fn list_blobs(
    repo: &gix::Repository,
    mode: &GitMode,
    ignore: &KeysiftIgnore,
    report: &mut GitScanReport,
) -> Result<Listing, GitScanError> {
    let listed = match mode {
        GitMode::History {
            include_unreachable,
        } => {
            let mut walked = history::walk(repo, *include_unreachable);
            report.commits = walked.commits.len();
            if walked.commits.is_empty() && walked.loose_roots.is_empty() {
                report
                    .notes
                    .push("no commits: nothing in history to scan".into());
            }
            if !walked.submodules.is_empty() {
                report.notes.push(format!(
                    "submodules are not entered (scan them as repositories of their own): {}",
                    walked.submodules.join(", ")
                ));
            }
            return Ok(Listing {
                blobs: std::mem::take(&mut walked.blobs),
                errors: std::mem::take(&mut walked.errors),
                plan: Plan::History(Box::new(walked)),
            });
        }
        GitMode::Staged => changes::staged(repo)?,
        GitMode::Range(spec) => changes::range(repo, spec)?,
        GitMode::Commits { tips, hidden } => changes::commits_changes(repo, tips, hidden)?,
    };
    report.commits = listed.commits;
    if listed.conflicts > 0 {
        report.notes.push(format!(
            "{} conflicted index entr{} not scanned until resolved",
            listed.conflicts,
            if listed.conflicts == 1 { "y" } else { "ies" }
        ));
    }
    let Changes {
        changes, errors, ..
    } = listed;
    let changes: Vec<Change> = changes
        .into_iter()
        .filter(|c| !ignore.ignores(&c.path))
        .collect();
    let mut seen = HashSet::new();
    let blobs = changes
        .iter()
        .filter(|c| seen.insert(c.blob))
        .map(|c| GitBlob {
            id: c.blob,
            path: Some(c.path.clone()),
        })
        .collect();
    Ok(Listing {
        blobs,
        errors,
        plan: Plan::Changes(changes),
    })
}
