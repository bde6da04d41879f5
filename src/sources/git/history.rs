//! Every blob of every commit on every ref, each listed once.
//!
//! The walk starts at every ref (branches, tags, remote-tracking refs, notes, stash) and at
//! `HEAD`, follows annotated tags to what they point at, walks all commits reachable from
//! there, and reads each distinct tree once: a tree shared by a thousand commits is decoded
//! once, so the cost is proportional to the number of distinct trees, not commits × files.
//! Each blob keeps the first path it was seen at, for path-aware filters and for messages.
//!
//! With `include_unreachable`, every other blob in the object database (packs and loose
//! objects, including dangling ones a `git gc` has not pruned yet) is added too.
//!
//! The commit graph (commit → tree, parents) is kept for [`super::attribute`], so attributing
//! findings does not walk the history a second time.

use std::collections::{HashMap, HashSet};

use gix::{objs::Kind, ObjectId};

use super::{
    objects::{self, ObjectError},
    GitBlob,
};

/// One commit of the graph: its tree and parents.
#[derive(Debug, Clone)]
pub struct CommitNode {
    /// The commit.
    pub id: ObjectId,
    /// Its root tree.
    pub tree: ObjectId,
    /// Its parents that are present in the repository (a shallow clone's boundary commits
    /// have parents that are not).
    pub parents: Vec<ObjectId>,
}

/// What the walk found.
#[derive(Debug, Default)]
pub struct History {
    /// Every blob to scan, each once.
    pub blobs: Vec<GitBlob>,
    /// Every reachable commit.
    pub commits: Vec<CommitNode>,
    /// Trees and blobs that refs point at directly (rare: `git tag v1 <tree>`).
    pub loose_roots: Vec<ObjectId>,
    /// Objects that could not be read; the walk went on without them.
    pub errors: Vec<ObjectError>,
    /// Paths of submodules (gitlinks): their commits live in other repositories.
    pub submodules: Vec<String>,
    /// Number of refs the walk started from.
    pub refs: usize,
}

/// Lists the blobs of `repo`: those reachable from any ref, or all of them.
pub fn walk(repo: &gix::Repository, include_unreachable: bool) -> History {
    let mut history = History::default();
    let mut buf = Vec::new();
    let shallow = repo.is_shallow().unwrap_or(false);

    let mut commits_to_visit = Vec::new();
    let mut trees_to_visit: Vec<(ObjectId, Vec<u8>)> = Vec::new();
    let mut blobs = BlobList::default();
    for tip in ref_tips(repo, &mut history) {
        match objects::peel_tags(repo, tip, &mut buf) {
            Ok((Kind::Commit, id)) => commits_to_visit.push(id),
            Ok((Kind::Tree, id)) => {
                history.loose_roots.push(id);
                trees_to_visit.push((id, Vec::new()));
            }
            Ok((Kind::Blob, id)) => {
                history.loose_roots.push(id);
                blobs.add(id, None);
            }
            Ok((Kind::Tag, _)) => {}
            Err(e) => history.errors.push(e),
        }
    }

    let mut seen_commits: HashSet<ObjectId> = HashSet::new();
    while let Some(id) = commits_to_visit.pop() {
        if !seen_commits.insert(id) {
            continue;
        }
        match objects::commit_links(repo, &id, &mut buf) {
            Ok((tree, parents)) => {
                let mut present = Vec::with_capacity(parents.len());
                for parent in parents {
                    // Beyond a shallow boundary, missing parents are expected.
                    if shallow && !repo.has_object(parent) {
                        continue;
                    }
                    present.push(parent);
                    commits_to_visit.push(parent);
                }
                trees_to_visit.push((tree, Vec::new()));
                history.commits.push(CommitNode {
                    id,
                    tree,
                    parents: present,
                });
            }
            Err(e) => history.errors.push(e),
        }
    }

    let mut seen_trees: HashSet<ObjectId> = HashSet::new();
    let mut submodules = HashSet::new();
    while let Some((id, prefix)) = trees_to_visit.pop() {
        if !seen_trees.insert(id) {
            continue;
        }
        let entries = match objects::tree_entries(repo, &id, &mut buf) {
            Ok(entries) => entries,
            Err(e) => {
                history.errors.push(e);
                continue;
            }
        };
        for entry in entries {
            let path = join(&prefix, &entry.name);
            if entry.mode.is_tree() {
                if !seen_trees.contains(&entry.id) {
                    trees_to_visit.push((entry.id, path));
                }
            } else if entry.mode.is_commit() {
                submodules.insert(String::from_utf8_lossy(&path).into_owned());
            } else {
                blobs.add(entry.id, Some(path));
            }
        }
    }

    if include_unreachable {
        add_unreachable(repo, &mut blobs, &mut history.errors);
    }
    history.blobs = blobs.into_blobs();
    sort_by_pack_location(repo, &mut history.blobs);
    history.submodules = submodules.into_iter().collect();
    history.submodules.sort();
    history
}

/// Every ref's target, plus `HEAD` (which may be detached).
fn ref_tips(repo: &gix::Repository, history: &mut History) -> Vec<ObjectId> {
    let mut tips = Vec::new();
    if let Ok(platform) = repo.references() {
        if let Ok(all) = platform.all() {
            for reference in all.flatten() {
                // Symbolic refs (like refs/remotes/origin/HEAD) are followed to their target,
                // which is a ref of its own anyway.
                if let Some(id) = reference.target().try_id() {
                    tips.push(id.to_owned());
                    history.refs += 1;
                }
            }
        }
    }
    if let Ok(head) = repo.head_id() {
        tips.push(head.detach());
    }
    tips.sort();
    tips.dedup();
    tips
}

/// Adds every blob of the object database that the walk did not reach.
fn add_unreachable(repo: &gix::Repository, blobs: &mut BlobList, errors: &mut Vec<ObjectError>) {
    let Ok(all) = repo.objects.iter() else {
        return;
    };
    let mut checked = HashSet::new();
    for id in all.flatten() {
        if blobs.contains(&id) || !checked.insert(id) {
            continue;
        }
        match objects::header(repo, &id) {
            Ok((Kind::Blob, _)) => blobs.add(id, None),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
}

/// Orders blobs as they lie in their packs (loose objects last). A packed blob is usually a
/// delta against a neighbouring version of the same file, written just before it; reading in
/// pack order finds each delta base in the per-thread cache instead of re-inflating its chain.
fn sort_by_pack_location(repo: &gix::Repository, blobs: &mut [GitBlob]) {
    use gix::odb::pack::Find;
    // Locations are only stable while the packs stay loaded.
    let mut objects = repo.objects.clone();
    objects.prevent_pack_unload();
    let mut buf = Vec::new();
    // Each location is looked up once, not once per comparison.
    blobs.sort_by_cached_key(|blob| match objects.location_by_oid(&blob.id, &mut buf) {
        Ok(Some(location)) => (location.pack_id, location.pack_offset),
        _ => (u32::MAX, 0),
    });
}

fn join(prefix: &[u8], name: &[u8]) -> Vec<u8> {
    if prefix.is_empty() {
        return name.to_vec();
    }
    let mut path = Vec::with_capacity(prefix.len() + 1 + name.len());
    path.extend_from_slice(prefix);
    path.push(b'/');
    path.extend_from_slice(name);
    path
}

/// Blobs in the order first seen, each once.
#[derive(Default)]
struct BlobList {
    index: HashMap<ObjectId, usize>,
    blobs: Vec<GitBlob>,
}

impl BlobList {
    fn add(&mut self, id: ObjectId, path: Option<Vec<u8>>) {
        if self.index.contains_key(&id) {
            return;
        }
        self.index.insert(id, self.blobs.len());
        self.blobs.push(GitBlob {
            id,
            path: path.map(|p| String::from_utf8_lossy(&p).into_owned()),
        });
    }

    fn contains(&self, id: &ObjectId) -> bool {
        self.index.contains_key(id)
    }

    fn into_blobs(self) -> Vec<GitBlob> {
        self.blobs
    }
}
