//! Reading whole packs in delta-tree order: every object decoded exactly once.
//!
//! Looking blobs up one by one re-inflates delta bases over and over: a pack stores most
//! versions of a file as deltas against one base, and a per-lookup cache only helps when the
//! base happens to still be in it. For a whole-history scan, where most blobs of the pack are
//! wanted, it is much cheaper to let gitoxide walk each pack's delta tree, which applies every
//! delta to its already-decoded base, and pick out the wanted blobs as they go by.
//!
//! Objects outside packs (loose objects, alternates) and packs that cannot be walked are left
//! to the per-blob path: the caller scans whatever this did not see.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    sync::atomic::AtomicBool,
};

use gix::{
    odb::pack::{self, index::traverse},
    ObjectId,
};

/// The pack index files of the repository's own object database.
fn pack_indices(objects_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(objects_dir.join("pack")) else {
        return Vec::new();
    };
    let mut indices: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "idx"))
        .collect();
    indices.sort();
    indices
}

/// How many objects the repository's packs hold (a cheap read of each index's header).
pub fn packed_object_count(repo: &gix::Repository) -> usize {
    pack_indices(&repo.common_dir().join("objects"))
        .iter()
        .filter_map(|idx| pack::index::File::at(idx, repo.object_hash()).ok())
        .map(|index| index.num_objects() as usize)
        .sum()
}

/// Decodes every pack of `repo` once and calls `visit` with each blob in `wanted`, from up to
/// `threads` worker threads (each with its own clone of `visit`). Returns the ids visited and
/// a message for each pack that could not be walked.
pub fn for_each_packed_blob<V>(
    repo: &gix::Repository,
    wanted: &HashSet<ObjectId>,
    threads: usize,
    visit: V,
) -> (HashSet<ObjectId>, Vec<String>)
where
    V: FnMut(ObjectId, &[u8]) + Send + Clone,
{
    let seen = std::sync::Mutex::new(HashSet::new());
    let mut problems = Vec::new();
    for idx in pack_indices(&repo.common_dir().join("objects")) {
        let bundle = match pack::Bundle::at(&idx, repo.object_hash()) {
            Ok(bundle) => bundle,
            Err(e) => {
                problems.push(format!("{}: {e}", idx.display()));
                continue;
            }
        };
        let mut visit = visit.clone();
        let seen = &seen;
        let processor = move |kind: gix::objs::Kind,
                              data: &[u8],
                              entry: &pack::index::Entry,
                              _: &dyn gix::progress::Progress|
              -> gix::error::Result<()> {
            if kind == gix::objs::Kind::Blob && wanted.contains(&entry.oid) {
                visit(entry.oid, data);
                if let Ok(mut seen) = seen.lock() {
                    seen.insert(entry.oid);
                }
            }
            Ok(())
        };
        let result = bundle.index.traverse(
            &bundle.pack,
            &mut gix::progress::Discard,
            &AtomicBool::new(false),
            processor,
            traverse::Options {
                traversal: traverse::Algorithm::DeltaTreeLookup,
                thread_limit: Some(threads.max(1)),
                // Object ids are checked by the per-blob path's reads elsewhere; a damaged
                // entry is reported and the walk goes on.
                check: traverse::SafetyCheck::SkipFileAndObjectChecksumVerificationAndNoAbortOnDecodeError,
                alloc_limit_bytes: None,
                make_pack_lookup_cache: || pack::cache::Never,
            },
        );
        if let Err(e) = result {
            problems.push(format!("{}: {e}", idx.display()));
        }
    }
    (seen.into_inner().unwrap_or_default(), problems)
}
