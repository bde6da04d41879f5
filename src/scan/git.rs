//! Scanning a git repository: its whole history, its staged changes, or a range of commits.
//!
//! Each mode lists unique blobs, scans them with the same parallel loop as every other source,
//! then works out where the findings belong, which is the expensive part and so is done only
//! for blobs that have findings:
//!
//! * **history**: the commits that introduced each blob ([`attribute`]);
//! * **staged / range**: the change(s) that brought each blob in, keeping only findings on
//!   lines those changes added ([`changes::added_lines`]).
//!
//! `.keysiftignore` at the top of the work tree is honoured by path, as in `keysift dir`.

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    sync::Arc,
};

use gix::ObjectId;

use super::{run, Event, RunOptions, ScanScratch, Scanner, Summary};
use crate::{
    findings::{BlobFinding, Finding},
    sources::{
        git::{
            attribute::attribute,
            cache::{Loaded as CacheLoaded, ScanCache},
            changes::{self, Change, Changes, ChangesError},
            commit_info, history, pack_walk, read_blob, GitBlob, GitBlobs, GitOrigin, ObjectError,
            Repository,
        },
        text_in_memory, Origin, ReadLimits, Source, SourceError, SourceErrorKind,
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
            by_blob.insert(id.to_string(), found);
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
                if let Some(git) = finding.origin.git() {
                    by_blob
                        .entry(git.blob.clone())
                        .or_default()
                        .push(finding.found.clone());
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
            if !failed.contains(&id)
                && !packed.failed.contains(&id)
                && !by_blob.contains_key(&id.to_string())
            {
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

/// Below this many blobs, walking whole packs costs more than it saves.
const MIN_BLOBS_FOR_PACK_WALK: usize = 256;

/// What reading whole packs found.
#[derive(Default)]
struct PackedScan {
    /// Blobs visited (scanned, skipped as binary or refused), by id.
    visited: HashSet<ObjectId>,
    /// The same, with their paths, for attribution.
    visited_blobs: Vec<GitBlob>,
    /// Blobs that could not be scanned (too large, engine failure).
    failed: HashSet<ObjectId>,
    findings: HashMap<ObjectId, Vec<Arc<BlobFinding>>>,
    errors: Vec<SourceError>,
    error_count: u64,
    blobs: u64,
    bytes: u64,
    binary: u64,
    lfs_pointers: u64,
    notes: Vec<String>,
}

/// Per-thread state of the pack walk's visitor. Cloning gives a fresh one: the walk clones the
/// visitor for each of its threads.
struct VisitorState<'a> {
    scanner: &'a Scanner,
    scratch: Option<ScanScratch>,
    buf: Vec<u8>,
}

impl Clone for VisitorState<'_> {
    fn clone(&self) -> Self {
        VisitorState {
            scanner: self.scanner,
            scratch: None,
            buf: Vec::new(),
        }
    }
}

/// Scans the wanted blobs as the packs' delta trees are decoded.
fn scan_packs(
    repo: &gix::Repository,
    blobs: &[GitBlob],
    scanner: &Scanner,
    options: &GitScanOptions,
) -> PackedScan {
    let paths: HashMap<ObjectId, &GitBlob> = blobs.iter().map(|b| (b.id, b)).collect();
    let wanted: HashSet<ObjectId> = paths.keys().copied().collect();
    let shared = std::sync::Mutex::new(PackedScan::default());
    let threads = match options.run.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let mut state = VisitorState {
        scanner,
        scratch: None,
        buf: Vec::new(),
    };
    let shared = &shared;
    let paths = &paths;
    let visit = move |id: ObjectId, data: &[u8]| {
        let blob = paths[&id];
        let outcome = scan_packed_blob(&mut state, blob, data, options.limits);
        let mut shared = shared.lock().unwrap_or_else(|e| e.into_inner());
        shared.visited_blobs.push(blob.clone());
        match outcome {
            PackedBlob::Binary => shared.binary += 1,
            PackedBlob::Scanned { findings, lfs } => {
                shared.blobs += 1;
                shared.bytes += data.len() as u64;
                shared.lfs_pointers += u64::from(lfs);
                if !findings.is_empty() {
                    shared.findings.insert(id, findings);
                }
            }
            PackedBlob::Failed(error) => {
                shared.failed.insert(id);
                shared.error_count += 1;
                shared.errors.push(error);
            }
        }
    };
    let (visited, problems) = pack_walk::for_each_packed_blob(repo, &wanted, threads, visit);
    let mut scan = std::mem::take(&mut *shared.lock().unwrap_or_else(|e| e.into_inner()));
    scan.visited = visited;
    // A pack that could not be walked is not an error yet: its blobs go the per-blob way,
    // which reports any object it cannot read.
    scan.notes = problems
        .into_iter()
        .map(|p| format!("pack read blob by blob instead: {p}"))
        .collect();
    scan
}

enum PackedBlob {
    Binary,
    Scanned {
        findings: Vec<Arc<BlobFinding>>,
        lfs: bool,
    },
    Failed(SourceError),
}

fn scan_packed_blob(
    state: &mut VisitorState<'_>,
    blob: &GitBlob,
    data: &[u8],
    limits: ReadLimits,
) -> PackedBlob {
    let input = || match &blob.path {
        Some(path) => format!("{path} (blob {})", blob.id),
        None => format!("blob {}", blob.id),
    };
    if data.len() as u64 > limits.max_size {
        return PackedBlob::Failed(SourceError::new(
            input(),
            SourceErrorKind::TooLarge,
            format!(
                "{} bytes, over the {} byte limit (--max-file-size)",
                data.len(),
                limits.max_size
            ),
        ));
    }
    state.buf.clear();
    state.buf.extend_from_slice(data);
    if !text_in_memory(&mut state.buf) {
        return PackedBlob::Binary;
    }
    let scanner = state.scanner;
    let scratch = state.scratch.get_or_insert_with(|| scanner.new_scratch());
    match scanner.scan(&state.buf, scratch) {
        Ok(found) => PackedBlob::Scanned {
            findings: found.into_iter().map(Arc::new).collect(),
            lfs: data.starts_with(b"version https://git-lfs.github.com/spec/v1"),
        },
        Err(e) => PackedBlob::Failed(SourceError::new(
            input(),
            SourceErrorKind::Engine,
            e.to_string(),
        )),
    }
}

/// Findings of each blob (by hex id), before they are placed.
type FindingsByBlob = HashMap<String, Vec<Arc<BlobFinding>>>;

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

/// How findings will be placed once the scan is done.
enum Plan {
    History(Box<history::History>),
    Changes(Vec<Change>),
}

/// History findings, each at the commit and path that introduced its blob.
fn history_findings(
    repo: &gix::Repository,
    walked: &history::History,
    scanned: &[GitBlob],
    by_blob: &FindingsByBlob,
) -> (Vec<Finding>, Vec<ObjectError>) {
    let path_hint: HashMap<String, Option<String>> = scanned
        .iter()
        .filter(|b| by_blob.contains_key(&b.id.to_string()))
        .map(|b| (b.id.to_string(), b.path.clone()))
        .collect();
    let targets: Vec<ObjectId> = scanned
        .iter()
        .map(|b| b.id)
        .filter(|id| by_blob.contains_key(&id.to_string()))
        .collect();
    let (attributions, errors) = attribute(repo, &walked.commits, &targets);

    let mut findings = Vec::new();
    for id in targets {
        let hex = id.to_string();
        let attribution = attributions.get(&id);
        let mut origin = GitOrigin::blob(hex.clone(), path_hint.get(&hex).cloned().flatten());
        if let Some(attribution) = attribution {
            if let Some((commit, path)) = &attribution.introduced {
                origin.commit = Some(commit.clone());
                origin.path = Some(path.clone());
            }
            origin.other_commits = attribution.other_commits;
            origin.other_paths = attribution
                .paths
                .iter()
                .filter(|p| Some(p.as_str()) != origin.path.as_deref())
                .cloned()
                .collect();
        }
        let origin = Arc::new(Origin::Git(Box::new(origin)));
        for found in &by_blob[&hex] {
            findings.push(Finding::new(found.clone(), origin.clone()));
        }
    }
    (findings, errors)
}

/// Staged or range findings, each at the change that brought its blob in, on added lines only.
fn change_findings(
    repo: &gix::Repository,
    changes: &[Change],
    by_blob: &FindingsByBlob,
) -> (Vec<Finding>, Vec<ObjectError>) {
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    let mut buf = Vec::new();
    let mut commit_infos = HashMap::new();
    for change in changes {
        let hex = change.blob.to_string();
        let Some(found) = by_blob.get(&hex) else {
            continue;
        };
        let added = read_blob(repo, &change.blob, &mut buf)
            .and_then(|()| changes::added_lines(repo, change, &buf));
        let added = match added {
            Ok(added) => added,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let mut origin = GitOrigin::blob(hex, Some(change.path.clone()));
        match change.commit {
            Some(commit) => {
                let info = commit_infos.entry(commit).or_insert_with(|| {
                    commit_info(repo, &commit, &mut Vec::new())
                        .map_err(|e| errors.push(e))
                        .ok()
                });
                origin.commit = info.clone();
            }
            None => origin.staged = true,
        }
        let origin = Arc::new(Origin::Git(Box::new(origin)));
        for f in found {
            let last = f.line + f.secret.matches('\n').count();
            if added.touches(f.line, last) {
                findings.push(Finding::new(f.clone(), origin.clone()));
            }
        }
    }
    (findings, errors)
}

/// Consecutive findings with the same origin, as one event each.
fn group_by_origin(findings: Vec<Finding>) -> Vec<Vec<Finding>> {
    let mut groups: Vec<Vec<Finding>> = Vec::new();
    for finding in findings {
        match groups.last_mut() {
            Some(group) if group[0].origin == finding.origin => group.push(finding),
            _ => groups.push(vec![finding]),
        }
    }
    groups
}

/// `.keysiftignore` at the top of the work tree, matched against repository paths.
struct KeysiftIgnore(Option<ignore::gitignore::Gitignore>);

impl KeysiftIgnore {
    fn load(work_dir: Option<&Path>) -> Self {
        let Some(dir) = work_dir else {
            return KeysiftIgnore(None);
        };
        let file = dir.join(".keysiftignore");
        if !file.is_file() {
            return KeysiftIgnore(None);
        }
        let mut builder = ignore::gitignore::GitignoreBuilder::new(dir);
        if builder.add(&file).is_some() {
            return KeysiftIgnore(None);
        }
        KeysiftIgnore(builder.build().ok())
    }

    fn ignores(&self, path: &str) -> bool {
        self.0
            .as_ref()
            .is_some_and(|ignore| ignore.matched_path_or_any_parents(path, false).is_ignore())
    }
}
