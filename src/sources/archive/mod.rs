//! Archives inside any source: zip (and jar, war, ear, whl, nupkg, apk, docx, ...), tar, and
//! gzip or zstd streams, opened in memory and walked recursively.
//!
//! A source that meets an archive hands its bytes to [`expand`], which calls a
//! [`MemberVisitor`] with every text member, and the chain of member names that leads to it
//! (`WEB-INF/lib/inner.jar`, `config.properties`). Nothing is written to disk; member names are
//! only labels.
//!
//! The input is an attacker's to shape, so every limit is enforced on bytes as they are produced,
//! never on sizes the archive declares (see [`bounded`]): nesting depth, the bytes one top-level
//! archive may expand to, each member's size, and each compressed member's expansion ratio.
//! A member or archive over a limit, damaged, encrypted or compressed with an unsupported method
//! is reported to the visitor as skipped, and the walk carries on with the rest.

mod bounded;
mod walk;
mod zip;

use super::{Origin, SourceErrorKind};

pub use walk::expand;

/// Limits on what opening one archive may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// How many levels of archives are opened: 1 opens the archive but not archives inside it.
    pub max_depth: u32,
    /// Members larger than this are skipped.
    pub max_member_size: u64,
    /// Bytes one top-level archive may expand to, counting every member at every depth.
    pub max_total_size: u64,
    /// Compressed data expanding more than this many times its size is a bomb, and skipped
    /// (checked once it expands past 1 MiB).
    pub max_ratio: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_depth: 3,
            max_member_size: 100 * 1024 * 1024,
            max_total_size: 1024 * 1024 * 1024,
            max_ratio: 200,
        }
    }
}

/// Receives what [`expand`] finds.
pub trait MemberVisitor {
    /// A text member (UTF-16 already transcoded to UTF-8). `path` names it from the top-level
    /// archive down: one name per level of nesting.
    fn text(&mut self, path: &[String], bytes: &[u8]);

    /// A member (or, when `path` names an archive, the rest of that archive) that was not
    /// scanned, and why.
    fn skipped(&mut self, path: &[String], kind: SourceErrorKind, message: String);

    /// Whether the walk should stop early (the scan was cancelled).
    fn stopped(&self) -> bool {
        false
    }
}

/// What [`expand`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpandStats {
    /// Archives opened, the top-level one and nested ones.
    pub archives: u64,
    /// Members read that are not themselves archives (text and binary).
    pub members: u64,
    /// Of those, members skipped as binary.
    pub binary: u64,
}

/// The archive formats keysift opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Zip,
    Tar,
    Gzip,
    Zstd,
}

/// Which format `bytes` (or at least their first 512 bytes) are in, by magic bytes; a `.tar`
/// name stands in for the magic of old tars that lack it.
fn format_of(start: &[u8], name: &str) -> Option<Format> {
    if start.starts_with(b"PK\x03\x04") || start.starts_with(b"PK\x05\x06") {
        Some(Format::Zip)
    } else if start.starts_with(&[0x1f, 0x8b]) {
        Some(Format::Gzip)
    } else if start.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Format::Zstd)
    } else if start.get(257..262) == Some(b"ustar") || name.ends_with(".tar") && start.len() >= 512
    {
        Some(Format::Tar)
    } else {
        None
    }
}

/// Whether content starting with `start` and called `name` is an archive [`expand`] opens.
pub fn is_archive(start: &[u8], name: &str) -> bool {
    format_of(start, name).is_some()
}

/// A member of an archive (possibly nested in others) that was found at another origin.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArchivedOrigin {
    /// Where the top-level archive was found: a file, stdin, a file in an image layer.
    pub container: Origin,
    /// Member names from the top-level archive down to this member.
    pub members: Vec<String>,
}

impl ArchivedOrigin {
    /// `app.war!/WEB-INF/lib/inner.jar!/config.properties`: the chain after the container.
    pub fn chain(&self) -> String {
        self.members
            .iter()
            .map(|m| format!("!/{m}"))
            .collect::<String>()
    }
}

/// Longest member name kept, in characters; names can be up to 64 KiB in zip and unbounded in
/// tar, and are only labels.
const MAX_LABEL: usize = 512;

/// A member's name as a label: lossy UTF-8 (zip names may be CP437), without a leading `./` or
/// `/`, bounded in length. Control characters are escaped by the sinks that print it.
fn label(raw: &[u8]) -> String {
    let name = String::from_utf8_lossy(raw);
    let name = name.trim_start_matches("./").trim_start_matches('/');
    if name.is_empty() {
        return "(unnamed)".to_string();
    }
    match name.char_indices().nth(MAX_LABEL) {
        Some((cut, _)) => format!("{}…", &name[..cut]),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests;
