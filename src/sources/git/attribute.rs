//! Lazy attribution: which commits introduced the blobs that have findings.
//!
//! Scanning needs only blob ids; people need to know *who added the secret, when, and where*.
//! That costs a walk over history, so it is done once, after the scan, and only for the blobs
//! with findings (the targets):
//!
//! 1. For every distinct tree, compute which targets it contains and at which paths
//!    ([`Contents`]), memoised by tree id. A tree's contents are built from its entries and its
//!    subtrees' memoised contents, so each distinct tree is decoded at most once, and a subtree
//!    that contains no target costs one lookup however many commits share it.
//! 2. For every commit of the graph recorded by [`super::history`] (no second walk), a target
//!    is *introduced* by the commit when the commit's tree contains it and no parent's tree
//!    does. A merge that brings in a side branch's blob therefore does not introduce it (the
//!    side branch's commit does), a rename does not (the parent has the same blob elsewhere),
//!    and a blob deleted and later re-added is introduced twice.
//! 3. Each target reports its earliest introducing commit by commit time (author, e-mail, date
//!    and summary are read only for those commits), how many other commits introduced it, and
//!    every path it had anywhere.
//!
//! Cost: one decode per distinct tree in history (as for the enumeration walk), one memo lookup
//! per commit and parent; memory: the memo, which holds only target indices and paths.

use std::{
    collections::{BTreeSet, HashMap},
    sync::Arc,
};

use gix::ObjectId;

use super::{
    history::CommitNode,
    objects::{self, ObjectError},
    CommitInfo,
};

/// Trees nested deeper than this are not followed.
const MAX_DEPTH: usize = 1024;

/// Where a blob with findings came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    /// The earliest commit (by commit time) that introduced the blob, and the path it had
    /// there.
    pub introduced: Option<(CommitInfo, String)>,
    /// How many other commits introduced it.
    pub other_commits: usize,
    /// Every path the blob had anywhere in history, sorted.
    pub paths: Vec<String>,
}

/// Targets (by index) a tree contains, with their paths relative to the tree.
type Contents = Arc<Vec<(u32, Arc<str>)>>;

/// Attributes each of `targets` using the commit graph from [`super::history::walk`].
pub fn attribute(
    repo: &gix::Repository,
    commits: &[CommitNode],
    targets: &[ObjectId],
) -> (HashMap<ObjectId, Attribution>, Vec<ObjectError>) {
    let index: HashMap<ObjectId, u32> = targets
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, i as u32))
        .collect();
    let mut memo = TreeMemo {
        repo,
        tree_of: commits.iter().map(|c| (c.id, c.tree)).collect(),
        targets: &index,
        contents: HashMap::new(),
        sets: HashMap::new(),
        buf: Vec::new(),
        errors: Vec::new(),
    };

    let mut introductions: Vec<Vec<(ObjectId, Arc<str>)>> = vec![Vec::new(); targets.len()];
    let mut paths: Vec<BTreeSet<Arc<str>>> = vec![BTreeSet::new(); targets.len()];
    for commit in commits {
        let contents = memo.contents(commit.tree, 0);
        if contents.is_empty() {
            continue;
        }
        let in_parents: Vec<Arc<Vec<u32>>> = commit
            .parents
            .iter()
            .filter_map(|p| memo.parent_set(p))
            .collect();
        for (target, path) in contents.iter() {
            paths[*target as usize].insert(path.clone());
            let in_a_parent = in_parents
                .iter()
                .any(|set| set.binary_search(target).is_ok());
            if !in_a_parent {
                introductions[*target as usize].push((commit.id, path.clone()));
            }
        }
    }

    let mut errors = std::mem::take(&mut memo.errors);
    let mut infos: HashMap<ObjectId, CommitInfo> = HashMap::new();
    let mut buf = Vec::new();
    let mut result = HashMap::new();
    for (i, target) in targets.iter().enumerate() {
        let mut introduced: Vec<(CommitInfo, String)> = Vec::new();
        // A blob introduced twice at once (two paths in one commit) counts one commit.
        let mut seen_commits = BTreeSet::new();
        for (commit, path) in &introductions[i] {
            if !seen_commits.insert(*commit) {
                continue;
            }
            let info = match infos.get(commit) {
                Some(info) => info.clone(),
                None => match objects::commit_info(repo, commit, &mut buf) {
                    Ok(info) => {
                        infos.insert(*commit, info.clone());
                        info
                    }
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                },
            };
            introduced.push((info, path.to_string()));
        }
        introduced.sort_by(|a, b| (a.0.timestamp, &a.0.id).cmp(&(b.0.timestamp, &b.0.id)));
        let other_commits = introduced.len().saturating_sub(1);
        result.insert(
            *target,
            Attribution {
                introduced: introduced.into_iter().next(),
                other_commits,
                paths: paths[i].iter().map(|p| p.to_string()).collect(),
            },
        );
    }
    (result, errors)
}

struct TreeMemo<'a> {
    repo: &'a gix::Repository,
    /// Commit → root tree, for parents.
    tree_of: HashMap<ObjectId, ObjectId>,
    targets: &'a HashMap<ObjectId, u32>,
    contents: HashMap<ObjectId, Contents>,
    /// Per root tree: the sorted target indices it contains.
    sets: HashMap<ObjectId, Arc<Vec<u32>>>,
    buf: Vec<u8>,
    errors: Vec<ObjectError>,
}

impl TreeMemo<'_> {
    /// The targets below tree `id`, with paths relative to it.
    fn contents(&mut self, id: ObjectId, depth: usize) -> Contents {
        if let Some(found) = self.contents.get(&id) {
            return found.clone();
        }
        let mut found = Vec::new();
        if depth <= MAX_DEPTH {
            match objects::tree_entries(self.repo, &id, &mut self.buf) {
                Ok(entries) => {
                    for entry in entries {
                        let name = String::from_utf8_lossy(&entry.name);
                        if entry.mode.is_tree() {
                            for (target, path) in self.contents(entry.id, depth + 1).iter() {
                                found.push((*target, Arc::from(format!("{name}/{path}"))));
                            }
                        } else if let Some(target) = self.targets.get(&entry.id) {
                            found.push((*target, Arc::from(name.as_ref())));
                        }
                    }
                }
                Err(e) => self.errors.push(e),
            }
        }
        let found = Arc::new(found);
        self.contents.insert(id, found.clone());
        found
    }

    /// The sorted targets in the tree of commit `parent`, if it is part of the graph.
    fn parent_set(&mut self, parent: &ObjectId) -> Option<Arc<Vec<u32>>> {
        let tree = *self.tree_of.get(parent)?;
        if let Some(set) = self.sets.get(&tree) {
            return Some(set.clone());
        }
        let mut set: Vec<u32> = self.contents(tree, 0).iter().map(|(t, _)| *t).collect();
        set.sort_unstable();
        set.dedup();
        let set = Arc::new(set);
        self.sets.insert(tree, set.clone());
        Some(set)
    }
}
