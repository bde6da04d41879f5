//! Git repositories as a source, read with gitoxide (`gix`): never by shelling out to `git`.
//!
//! * [`history`] enumerates every blob reachable from any ref (optionally every blob in the
//!   object database), each once, with one path where it was seen.
//! * [`GitBlobs`] loads those blobs from worker threads, each with its own repository handle.
//! * [`attribute`] finds, for the few blobs that have findings, the commits that introduced them.
//! * [`changes`] lists what the index (pre-commit) or a commit range (pre-push, CI) adds, with the
//!   added lines of each blob.
//! * [`cache`] remembers which blobs were already scanned, for incremental re-scans.

pub mod attribute;
mod blobs;
pub mod cache;
pub mod changes;
pub mod history;
mod lines;
mod objects;
mod origin;
pub mod pack_walk;

use std::path::{Path, PathBuf};

pub use blobs::{GitBlob, GitBlobs};
pub use lines::LineSet;
pub use objects::ObjectError;

/// Reads blob `id` into `buf`.
pub fn read_blob(
    repo: &gix::Repository,
    id: &ObjectId,
    buf: &mut Vec<u8>,
) -> Result<(), ObjectError> {
    objects::read_kind(repo, id, gix::objs::Kind::Blob, buf)
}

/// Author, date and summary of commit `id`.
pub fn commit_info(
    repo: &gix::Repository,
    id: &ObjectId,
    buf: &mut Vec<u8>,
) -> Result<CommitInfo, ObjectError> {
    objects::commit_info(repo, id, buf)
}
pub use origin::{short, CommitInfo, GitOrigin};

/// Per-thread cache of decompressed pack entries (delta bases). Each blob in a packed history
/// is usually a delta against another version of the same file; without a cache, every blob
/// re-inflates its whole delta chain.
/// 32 MiB measured as fast as 64 or 256 on a 300-version history (benches/git_history.sh), with
/// less memory.
const PACK_CACHE_BYTES: usize = 32 * 1024 * 1024;

/// Object ids as gitoxide spells them.
pub type ObjectId = gix::ObjectId;

/// A repository could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The path is not inside a git repository.
    #[error("{path}: not a git repository (or any of its parents)")]
    NotARepository {
        /// The path given.
        path: PathBuf,
    },
    /// The repository exists but could not be opened.
    #[error("{path}: cannot open the git repository: {message}")]
    Unusable {
        /// The path given.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// An open repository, shareable between threads, with what keysift noticed about its shape.
pub struct Repository {
    shared: gix::ThreadSafeRepository,
    /// Where the repository was found, for messages.
    pub display_path: String,
}

impl Repository {
    /// Opens the repository containing `path` (its work tree or git directory, bare or not).
    pub fn discover(path: &Path) -> Result<Repository, OpenError> {
        if !path.exists() {
            return Err(OpenError::Unusable {
                path: path.to_path_buf(),
                message: "no such file or directory".into(),
            });
        }
        if gix::discover::upwards(path).is_err() {
            return Err(OpenError::NotARepository {
                path: path.to_path_buf(),
            });
        }
        let shared =
            gix::ThreadSafeRepository::discover(path).map_err(|e| OpenError::Unusable {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        let display_path = shared
            .work_dir()
            .unwrap_or_else(|| shared.git_dir())
            .display()
            .to_string();
        Ok(Repository {
            shared,
            display_path,
        })
    }

    /// A handle for the calling thread.
    pub fn local(&self) -> gix::Repository {
        let mut repo = self.shared.to_thread_local();
        // Blobs are read once each, so an object cache would only hold dead weight; what pays
        // is caching the delta bases that many blobs of a pack share (see PACK_CACHE_BYTES).
        repo.object_cache_size(0);
        repo.objects.set_pack_cache(|| {
            Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
                PACK_CACHE_BYTES,
            ))
        });
        repo
    }

    /// The work tree, if the repository has one.
    pub fn work_dir(&self) -> Option<&Path> {
        self.shared.work_dir()
    }

    /// The directory shared by all worktrees (`.git` of the main worktree, or the bare
    /// repository itself): where keysift keeps its cache.
    pub fn common_dir(&self) -> PathBuf {
        self.local().common_dir().to_path_buf()
    }

    /// Where git looks for hooks (`core.hooksPath` is honoured).
    pub fn hooks_dir(&self) -> PathBuf {
        let repo = self.local();
        let configured = repo
            .config_snapshot()
            .trusted_path("core.hooksPath")
            .ok()
            .flatten();
        match configured {
            Some(path) if path.is_absolute() => path,
            Some(path) => self.work_dir().unwrap_or(repo.git_dir()).join(path),
            None => repo.common_dir().join("hooks"),
        }
    }

    /// The commits `refs/remotes/<remote>/*` point at (every remote's, if none is named).
    pub fn remote_tracking_tips(&self, remote: Option<&str>) -> Vec<ObjectId> {
        let repo = self.local();
        let prefix = match remote {
            Some(name) if !name.is_empty() && !name.contains(['/', ':']) => {
                format!("refs/remotes/{name}/")
            }
            _ => "refs/remotes/".to_string(),
        };
        let Ok(platform) = repo.references() else {
            return Vec::new();
        };
        let Ok(refs) = platform.prefixed(prefix.as_str()) else {
            return Vec::new();
        };
        refs.flatten()
            .filter_map(|mut r| r.peel_to_id().ok().map(|id| id.detach()))
            .collect()
    }

    /// Facts about the repository's shape worth telling the user (shallow, no commits, object
    /// format).
    pub fn shape_notes(&self) -> Vec<String> {
        let repo = self.local();
        let mut notes = Vec::new();
        if repo.is_bare() {
            notes.push("bare repository".to_string());
        }
        if repo.is_shallow().unwrap_or(false) {
            notes.push(
                "shallow clone: history before the shallow boundary is not here and was not scanned"
                    .to_string(),
            );
        }
        if repo.object_hash() != gix::hash::Kind::Sha1 {
            notes.push(format!("object format {}", repo.object_hash()));
        }
        notes
    }
}
