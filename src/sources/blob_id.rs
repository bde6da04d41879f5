//! Content ids compatible with git's blob ids, so the same bytes found as a file, a git blob or
//! a file in an image layer are recognised as one blob.

use std::fmt;

use sha1::{Digest, Sha1};

/// A blob's id: the SHA-1 of `"blob <len>\0" + content`, exactly as git computes it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobId([u8; 20]);

impl BlobId {
    /// The id of `content`.
    pub fn of(content: &[u8]) -> BlobId {
        let mut hasher = Sha1::new();
        hasher.update(format!("blob {}\0", content.len()).as_bytes());
        hasher.update(content);
        BlobId(hasher.finalize().into())
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
    fn matches_git_hash_object() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            BlobId::of(b"hello\n").to_string(),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        // The empty blob.
        assert_eq!(
            BlobId::of(b"").to_string(),
            "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
        );
    }
}
