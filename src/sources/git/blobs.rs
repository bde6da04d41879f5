//! Loading git blobs from worker threads, each with its own repository handle.

use std::{
    collections::HashSet,
    sync::{
        atomic::{AtomicU64, Ordering::Relaxed},
        Arc, Mutex,
    },
};

/// How every Git LFS pointer file starts (<https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md>).
const LFS_POINTER: &[u8] = b"version https://git-lfs.github.com/spec/v1";

use gix::{objs::Kind, ObjectId};

use super::{
    objects::{self, ObjectError},
    GitOrigin, Repository,
};
use crate::sources::{
    read::text_in_memory, Loaded, Origin, ReadLimits, Source, SourceError, SourceErrorKind,
};

/// A blob to scan: its id and a path it had, if known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitBlob {
    /// The object id.
    pub id: ObjectId,
    /// A path where the blob was seen (the first one met), if any.
    pub path: Option<String>,
}

impl GitBlob {
    /// How errors name the blob: its path (when known) and id.
    pub fn describe(&self) -> String {
        match &self.path {
            Some(path) => format!("{path} (blob {})", self.id),
            None => format!("blob {}", self.id),
        }
    }
}

/// A list of unique blobs of one repository, as a [`Source`].
pub struct GitBlobs {
    repo: Arc<Repository>,
    blobs: Vec<GitBlob>,
    limits: ReadLimits,
    errors: Vec<SourceError>,
    /// Blobs that could not be read, so an incremental cache does not record them as clean.
    failed: Mutex<HashSet<ObjectId>>,
    lfs_pointers: AtomicU64,
}

impl GitBlobs {
    /// Blobs of `repo` to scan (each id once), read under `limits`; `errors` are problems met
    /// while listing them, reported with the scan.
    pub fn new(
        repo: Arc<Repository>,
        blobs: Vec<GitBlob>,
        limits: ReadLimits,
        errors: Vec<SourceError>,
    ) -> Self {
        GitBlobs {
            repo,
            blobs,
            limits,
            errors,
            failed: Mutex::new(HashSet::new()),
            lfs_pointers: AtomicU64::new(0),
        }
    }

    /// How many blobs were Git LFS pointers: their content lives on an LFS server, not here.
    pub fn lfs_pointers(&self) -> u64 {
        self.lfs_pointers.load(Relaxed)
    }

    /// Blobs that could not be read during the scan.
    pub fn failed(&self) -> HashSet<ObjectId> {
        self.failed.lock().map(|f| f.clone()).unwrap_or_default()
    }

    /// The repository.
    pub fn repository(&self) -> &Arc<Repository> {
        &self.repo
    }

    /// An error about object `error` in this repository.
    pub fn object_error(repo: &Repository, error: &ObjectError) -> SourceError {
        let kind = match error {
            ObjectError::Missing(_) => SourceErrorKind::NotFound,
            _ => SourceErrorKind::Unreadable,
        };
        SourceError::new(repo.display_path.clone(), kind, error.to_string())
    }

    fn error(&self, item: &GitBlob, kind: SourceErrorKind, message: String) -> SourceError {
        if let Ok(mut failed) = self.failed.lock() {
            failed.insert(item.id);
        }
        let input = format!("{}: {}", self.repo.display_path, item.describe());
        SourceError::new(input, kind, message)
    }
}

impl Source for GitBlobs {
    type Item = GitBlob;
    type Reader = gix::Repository;

    fn items(&self) -> &[GitBlob] {
        &self.blobs
    }

    fn new_reader(&self) -> gix::Repository {
        self.repo.local()
    }

    fn load(
        &self,
        repo: &mut gix::Repository,
        item: &GitBlob,
        buf: &mut Vec<u8>,
    ) -> Result<Loaded, SourceError> {
        buf.clear();
        // The header first: a huge blob is refused before it is inflated into memory.
        let object_error =
            |e: ObjectError| self.error(item, SourceErrorKind::Unreadable, e.to_string());
        let (kind, size) = objects::header(repo, &item.id).map_err(object_error)?;
        if size > self.limits.max_size {
            return Err(self.error(
                item,
                SourceErrorKind::TooLarge,
                format!(
                    "{size} bytes, over the {} byte limit (--max-file-size)",
                    self.limits.max_size
                ),
            ));
        }
        if kind != Kind::Blob {
            return Err(object_error(ObjectError::WrongKind {
                id: item.id,
                expected: Kind::Blob,
                actual: kind,
            }));
        }
        objects::read_kind(repo, &item.id, Kind::Blob, buf).map_err(object_error)?;
        if buf.starts_with(LFS_POINTER) {
            self.lfs_pointers.fetch_add(1, Relaxed);
        }
        if !text_in_memory(buf) {
            return Ok(Loaded::Binary);
        }
        // Items are unique by construction, so the scan loop need not track them.
        Ok(Loaded::Text {
            id: None,
            may_repeat: false,
        })
    }

    fn origin(&self, item: &GitBlob) -> Origin {
        Origin::Git(Box::new(GitOrigin::blob(
            item.id.to_string(),
            item.path.clone(),
        )))
    }

    fn enumeration_errors(&self) -> &[SourceError] {
        &self.errors
    }
}
