//! Reading and decoding single objects, with errors that name the object.

use gix::{
    objs::{bstr::ByteSlice, CommitRefIter, Find, FindHeader, Kind, TagRefIter, TreeRefIter},
    ObjectId,
};

use super::CommitInfo;

/// Tags pointing at tags are followed this many levels at most (a crafted cycle of tags cannot
/// exist by construction, but a long chain can).
const MAX_TAG_DEPTH: usize = 64;

/// An object that could not be read or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectError {
    /// Not in the object database.
    #[error("object {0} is missing")]
    Missing(ObjectId),
    /// Present but unreadable or undecodable.
    #[error("object {id} is corrupt: {message}")]
    Corrupt {
        /// The object.
        id: ObjectId,
        /// What the object store or decoder said.
        message: String,
    },
    /// Present but of another kind than its referrer says.
    #[error("object {id} is a {actual}, expected a {expected}")]
    WrongKind {
        /// The object.
        id: ObjectId,
        /// The kind the referrer implied.
        expected: Kind,
        /// The kind found.
        actual: Kind,
    },
}

impl ObjectError {
    fn corrupt(id: ObjectId, error: impl std::fmt::Display) -> Self {
        ObjectError::Corrupt {
            id,
            message: error.to_string(),
        }
    }
}

/// Reads object `id` into `buf`, which afterwards holds exactly the object's bytes.
pub(crate) fn read(
    repo: &gix::Repository,
    id: &ObjectId,
    buf: &mut Vec<u8>,
) -> Result<Kind, ObjectError> {
    let base = buf.as_ptr() as usize;
    let (kind, start, len) = match repo.objects.try_find(id, buf) {
        Ok(Some(data)) => (
            data.kind,
            (data.data.as_ptr() as usize).wrapping_sub(base),
            data.data.len(),
        ),
        Ok(None) => return Err(ObjectError::Missing(*id)),
        Err(e) => return Err(ObjectError::corrupt(*id, e)),
    };
    // The store may reallocate the buffer or leave a header in front of the data: keep only
    // the data, at the start of the buffer.
    let start = start.wrapping_add(base).wrapping_sub(buf.as_ptr() as usize);
    if start != 0 {
        if start.checked_add(len).is_some_and(|end| end <= buf.len()) {
            buf.copy_within(start..start + len, 0);
        } else {
            return Err(ObjectError::corrupt(*id, "object data outside its buffer"));
        }
    }
    buf.truncate(len);
    Ok(kind)
}

/// Reads object `id`, requiring it to be of `expected` kind.
pub(crate) fn read_kind(
    repo: &gix::Repository,
    id: &ObjectId,
    expected: Kind,
    buf: &mut Vec<u8>,
) -> Result<(), ObjectError> {
    match read(repo, id, buf)? {
        kind if kind == expected => Ok(()),
        actual => Err(ObjectError::WrongKind {
            id: *id,
            expected,
            actual,
        }),
    }
}

/// The kind and size of object `id`, without decoding it.
pub(crate) fn header(repo: &gix::Repository, id: &ObjectId) -> Result<(Kind, u64), ObjectError> {
    match repo.objects.try_header(id) {
        Ok(Some(header)) => Ok((header.kind, header.size)),
        Ok(None) => Err(ObjectError::Missing(*id)),
        Err(e) => Err(ObjectError::corrupt(*id, e)),
    }
}

/// One entry of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TreeEntry {
    /// The file or directory name.
    pub name: Vec<u8>,
    /// What the entry is.
    pub mode: gix::objs::tree::EntryMode,
    /// Its object.
    pub id: ObjectId,
}

/// The entries of tree `id`.
pub(crate) fn tree_entries(
    repo: &gix::Repository,
    id: &ObjectId,
    buf: &mut Vec<u8>,
) -> Result<Vec<TreeEntry>, ObjectError> {
    read_kind(repo, id, Kind::Tree, buf)?;
    TreeRefIter::from_bytes(buf, repo.object_hash())
        .map(|entry| {
            entry
                .map(|e| TreeEntry {
                    name: e.filename.to_vec(),
                    mode: e.mode,
                    id: e.oid.to_owned(),
                })
                .map_err(|e| ObjectError::corrupt(*id, e))
        })
        .collect()
}

/// A commit's tree and parents.
pub(crate) fn commit_links(
    repo: &gix::Repository,
    id: &ObjectId,
    buf: &mut Vec<u8>,
) -> Result<(ObjectId, Vec<ObjectId>), ObjectError> {
    read_kind(repo, id, Kind::Commit, buf)?;
    let mut iter = CommitRefIter::from_bytes(buf, repo.object_hash());
    let tree = iter.tree_id().map_err(|e| ObjectError::corrupt(*id, e))?;
    Ok((tree, iter.parent_ids().collect()))
}

/// A commit's author, date and summary, for display.
pub(crate) fn commit_info(
    repo: &gix::Repository,
    id: &ObjectId,
    buf: &mut Vec<u8>,
) -> Result<CommitInfo, ObjectError> {
    read_kind(repo, id, Kind::Commit, buf)?;
    let commit = gix::objs::CommitRef::from_bytes(buf, repo.object_hash())
        .map_err(|e| ObjectError::corrupt(*id, e))?;
    let author = commit
        .author()
        .map_err(|e| ObjectError::corrupt(*id, e))?
        .trim();
    let time = commit
        .committer()
        .ok()
        .and_then(|c| c.time().ok())
        .unwrap_or_default();
    Ok(CommitInfo {
        id: id.to_string(),
        author_name: author.name.to_str_lossy().into_owned(),
        author_email: author.email.to_str_lossy().into_owned(),
        date: time.format_or_unix(gix::date::time::format::ISO8601_STRICT),
        timestamp: time.seconds,
        summary: commit.message().summary().to_str_lossy().into_owned(),
    })
}

/// What a ref ultimately points at, after following annotated tags.
pub(crate) fn peel_tags(
    repo: &gix::Repository,
    id: ObjectId,
    buf: &mut Vec<u8>,
) -> Result<(Kind, ObjectId), ObjectError> {
    let mut current = id;
    for _ in 0..MAX_TAG_DEPTH {
        let kind = read(repo, &current, buf)?;
        if kind != Kind::Tag {
            return Ok((kind, current));
        }
        current = TagRefIter::from_bytes(buf, repo.object_hash())
            .target_id()
            .map_err(|e| ObjectError::corrupt(current, e))?;
    }
    Err(ObjectError::corrupt(id, "tag chain too long"))
}
