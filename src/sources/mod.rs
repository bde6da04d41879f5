//! Stage 1: where blobs come from.
//!
//! A source enumerates cheap descriptions of its blobs (paths and sizes, object ids) up front,
//! then loads each blob's bytes on demand from whichever worker thread the scan loop gives it
//! to. Every blob has an [`Origin`] saying where it was seen; the same content seen twice is
//! scanned once and reported at both origins.

pub mod archive;
mod blob_id;
pub mod dir;
pub mod git;
pub mod image;
mod read;
pub mod stdin;

use std::{fmt, path::PathBuf};

pub use archive::{ArchiveLimits, ArchivedOrigin};
pub use blob_id::BlobId;
pub(crate) use read::looks_binary;
pub use read::{read_text, text_in_memory, ReadLimits, TextOrSkip};

/// Where a blob was seen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Origin {
    /// A file on disk.
    File {
        /// The path as walked (relative paths stay relative).
        path: PathBuf,
    },
    /// Standard input.
    Stdin,
    /// A blob in a git repository.
    Git(Box<git::GitOrigin>),
    /// A file in a container image layer, or the image's config.
    Image(Box<image::ImageOrigin>),
    /// A member of an archive found at another origin (`app.war!/WEB-INF/lib/a.jar!/x.yml`).
    Archived(Box<ArchivedOrigin>),
}

impl Origin {
    /// The part of the origin that identifies a finding's place in fingerprints: the path,
    /// never the line.
    pub fn location_key(&self) -> String {
        match self {
            Origin::File { path } => path.to_string_lossy().into_owned(),
            Origin::Stdin => "<stdin>".to_string(),
            Origin::Git(git) => git.path_or_blob(),
            // The path only, not the tag: a finding keeps its fingerprint across image versions.
            Origin::Image(image) => match image.layer {
                Some(_) => format!("/{}", image.path),
                None => image.path.clone(),
            },
            Origin::Archived(archived) => {
                format!("{}{}", archived.container.location_key(), archived.chain())
            }
        }
    }

    /// A path-like name for display and sorting.
    pub fn display_path(&self) -> String {
        match self {
            Origin::Git(git) => git.display(),
            Origin::Image(image) => image.display(),
            Origin::Archived(archived) => match &archived.container {
                // The layer's status (deleted, replaced) stays at the end, after the chain.
                Origin::Image(image) => image.display_with_members(&archived.chain()),
                container => format!("{}{}", container.display_path(), archived.chain()),
            },
            _ => self.location_key(),
        }
    }

    /// The image details, for origins in a container image.
    pub fn image(&self) -> Option<&image::ImageOrigin> {
        match self {
            Origin::Image(image) => Some(image),
            Origin::Archived(archived) => archived.container.image(),
            _ => None,
        }
    }

    /// The git details, for origins in a repository.
    pub fn git(&self) -> Option<&git::GitOrigin> {
        match self {
            Origin::Git(git) => Some(git),
            Origin::Archived(archived) => archived.container.git(),
            _ => None,
        }
    }

    /// The member names leading to the blob, for a member of an archive; empty otherwise.
    pub fn archive_members(&self) -> &[String] {
        match self {
            Origin::Archived(archived) => &archived.members,
            _ => &[],
        }
    }

    /// The origin's kind, as used in JSON output: for an archive member, where its archive
    /// was found.
    pub fn kind(&self) -> &'static str {
        match self {
            Origin::File { .. } => "file",
            Origin::Stdin => "stdin",
            Origin::Git(_) => "git",
            Origin::Image(_) => "image",
            Origin::Archived(archived) => archived.container.kind(),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_path())
    }
}

/// What kind of thing went wrong with an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SourceErrorKind {
    /// The input could not be read (permissions, I/O error, vanished mid-scan).
    Unreadable,
    /// The input exceeds `--max-file-size` and was skipped.
    TooLarge,
    /// Not a regular file (a FIFO, socket or device); skipped so the scan cannot block.
    NotRegular,
    /// Walking a directory failed (permission denied, a symlink loop).
    Walk,
    /// The input does not exist.
    NotFound,
    /// The matching engine failed on this input.
    Engine,
    /// An archive member over a limit: nested too deep, expanding too far in all, or a
    /// compression bomb.
    Limit,
    /// An encrypted archive member.
    Encrypted,
}

/// An input that could not be scanned. Never stops the scan of other inputs; makes the exit
/// code say something was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input}: {message}")]
pub struct SourceError {
    /// The input it concerns (a path, `<stdin>`).
    pub input: String,
    /// What kind of problem.
    pub kind: SourceErrorKind,
    /// Human-readable detail.
    pub message: String,
}

impl SourceError {
    /// An error about `input`.
    pub fn new(
        input: impl Into<String>,
        kind: SourceErrorKind,
        message: impl Into<String>,
    ) -> Self {
        SourceError {
            input: input.into(),
            kind,
            message: message.into(),
        }
    }
}

/// One blob's bytes, loaded into the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loaded {
    /// Text to scan is in the buffer.
    Text {
        /// The content id, when the source knows it without hashing (git objects).
        id: Option<BlobId>,
        /// Whether the same content may appear elsewhere in this scan; if so the scan loop
        /// hashes it to scan it only once.
        may_repeat: bool,
    },
    /// Binary content, skipped by design (not an error).
    Binary,
    /// The whole of an archive is in the buffer, to be opened with the limits of
    /// [`Source::archives`]; the archive's own bytes are not scanned.
    Archive,
}

/// A producer of blobs. The scan loop calls [`Source::load`] from many threads, each with its
/// own [`Source::Reader`].
pub trait Source: Sync {
    /// A cheap description of one blob.
    type Item: Send + Sync;
    /// Per-thread reading state (buffers, handles). `Send` so the scan loop may keep it in a
    /// slot per worker thread.
    type Reader: Send;

    /// The blobs to scan, enumerated up front.
    fn items(&self) -> &[Self::Item];

    /// Per-thread state for [`Source::load`].
    fn new_reader(&self) -> Self::Reader;

    /// Loads `item`'s bytes into `buf` (cleared first).
    fn load(
        &self,
        reader: &mut Self::Reader,
        item: &Self::Item,
        buf: &mut Vec<u8>,
    ) -> Result<Loaded, SourceError>;

    /// Where `item` was seen.
    fn origin(&self, item: &Self::Item) -> Origin;

    /// Inputs that could not even be enumerated (an unreadable directory, a missing path).
    fn enumeration_errors(&self) -> &[SourceError] {
        &[]
    }

    /// Symbolic links passed over because following them was not asked for.
    fn skipped_links(&self) -> u64 {
        0
    }

    /// How archives among this source's blobs are opened; `None` when they are not (they are
    /// then binary like any other, and [`Source::load`] never returns [`Loaded::Archive`]).
    fn archives(&self) -> Option<ArchiveLimits> {
        None
    }
}
