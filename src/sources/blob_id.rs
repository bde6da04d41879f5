//! Blob ids: git's own (SHA-1) for git objects, and a cheaper per-run content key for files
//! and image layer contents, where an id only serves to scan repeated content once.

use std::{
    collections::hash_map::RandomState,
    fmt,
    hash::{BuildHasher, Hasher},
    sync::OnceLock,
};

/// A blob's id: a git object id (SHA-1 of `"blob <len>\0" + content`) for git objects, or a
/// per-run content key ([`BlobId::of_content`]) for everything else.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobId([u8; 20]);

impl BlobId {
    /// A key for `content` that is only meaningful within this process: a keyed SipHash-1-3
    /// of the bytes (the key drawn at random once per process, so nobody can craft two
    /// contents that collide) next to their length. Used to deduplicate files and image layer
    /// contents, where no git id is known: it costs a quarter of a SHA-1 (git's id) on CPUs
    /// without SHA extensions, and a scan hashes every file it reads.
    pub fn of_content(content: &[u8]) -> BlobId {
        static KEY: OnceLock<RandomState> = OnceLock::new();
        let mut hasher = KEY.get_or_init(RandomState::new).build_hasher();
        hasher.write(content);
        let mut id = [0u8; 20];
        id[..8].copy_from_slice(&hasher.finish().to_le_bytes());
        id[8..16].copy_from_slice(&(content.len() as u64).to_le_bytes());
        // A fixed marker fills the rest; it sets these keys apart from git ids at a glance.
        id[16..].copy_from_slice(b"run!");
        BlobId(id)
    }

    /// An id known from elsewhere (a git object id).
    pub fn from_bytes(bytes: [u8; 20]) -> BlobId {
        BlobId(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// First byte, used to pick a shard of the dedup map.
    pub fn shard(&self, shards: usize) -> usize {
        self.0[0] as usize % shards
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::BlobId;

    #[test]
    fn content_keys_tell_contents_apart_and_agree_on_equal_ones() {
        let a = BlobId::of_content(b"hello\n");
        assert_eq!(a, BlobId::of_content(b"hello\n"));
        assert_ne!(a, BlobId::of_content(b"hello\n\n"));
        assert_ne!(BlobId::of_content(b""), BlobId::of_content(b"\0"));
    }
}
