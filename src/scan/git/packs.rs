//! History scans that read whole packs in delta-tree order ([`pack_walk`]), scanning each
//! wanted blob as it is decoded.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use gix::ObjectId;

use super::GitScanOptions;
use crate::{
    findings::BlobFinding,
    scan::{ScanScratch, Scanner},
    sources::{
        git::{pack_walk, GitBlob},
        text_in_memory, ReadLimits, SourceError, SourceErrorKind,
    },
};

/// Below this many blobs, walking whole packs costs more than it saves.
pub(super) const MIN_BLOBS_FOR_PACK_WALK: usize = 256;

/// What reading whole packs found.
#[derive(Default)]
pub(super) struct PackedScan {
    /// Blobs visited (scanned, skipped as binary or refused), by id.
    pub(super) visited: HashSet<ObjectId>,
    /// The same, with their paths, for attribution.
    pub(super) visited_blobs: Vec<GitBlob>,
    /// Blobs that could not be scanned (too large, engine failure).
    pub(super) failed: HashSet<ObjectId>,
    pub(super) findings: HashMap<ObjectId, Vec<Arc<BlobFinding>>>,
    pub(super) errors: Vec<SourceError>,
    pub(super) error_count: u64,
    pub(super) blobs: u64,
    pub(super) bytes: u64,
    pub(super) binary: u64,
    pub(super) lfs_pointers: u64,
    pub(super) notes: Vec<String>,
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
pub(super) fn scan_packs(
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
    let input = || blob.describe();
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
