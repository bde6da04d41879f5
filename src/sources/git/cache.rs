//! The incremental-scan cache: ids of blobs already scanned clean, so a re-scan after new
//! commits scans only new blobs.
//!
//! * Keyed by a hash of everything that decides what a scan finds: the signature set, keysift's
//!   version and the confidence floor. A different key means a different file, so a changed
//!   signature set never trusts old results.
//! * Only blob ids are stored, never secrets, and only blobs that had **no** findings: a blob
//!   with findings is scanned (and reported) again every time, so an incremental CI job keeps
//!   failing until the secret is dealt with instead of passing on its second run.
//! * Written to a temporary file and renamed over the old one (atomic on POSIX), merging what a
//!   concurrent run stored meanwhile; a file that fails its checksum is discarded with a
//!   warning, never trusted.
//!
//! Format: the magic line `keysift-scanned-blobs 1\n`, the key (64 hex digits and `\n`), the
//! ids (20 or 32 bytes each), and the SHA-256 of everything before it.

use std::{
    collections::HashSet,
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
};

use gix::ObjectId;
use sha2::{Digest, Sha256};

use crate::hex::hex;

const MAGIC: &[u8] = b"keysift-scanned-blobs 1\n";

/// The set of blob ids scanned clean under one key.
#[derive(Debug)]
pub struct ScanCache {
    path: PathBuf,
    key: String,
    hash: gix::hash::Kind,
    ids: HashSet<ObjectId>,
}

/// What loading the cache found.
#[derive(Debug, PartialEq, Eq)]
pub enum Loaded {
    /// No cache for this key yet.
    Empty,
    /// A valid cache with this many ids.
    Valid(usize),
    /// A damaged file, discarded: the message says why.
    Discarded(String),
}

impl ScanCache {
    /// The cache under `dir` for `key` (a hex digest of the scan settings).
    pub fn open(dir: &Path, key: &str, hash: gix::hash::Kind) -> (ScanCache, Loaded) {
        let path = dir.join(format!("scanned-{}.bin", &key[..key.len().min(16)]));
        let mut cache = ScanCache {
            path,
            key: key.to_string(),
            hash,
            ids: HashSet::new(),
        };
        let loaded = match fs::read(&cache.path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Loaded::Empty,
            Err(e) => Loaded::Discarded(format!("cannot read {}: {e}", cache.path.display())),
            Ok(bytes) => match cache.parse(&bytes) {
                Ok(ids) => {
                    cache.ids = ids;
                    Loaded::Valid(cache.ids.len())
                }
                Err(why) => Loaded::Discarded(format!("{}: {why}", cache.path.display())),
            },
        };
        (cache, loaded)
    }

    /// The key of a scan: the signature set's digest, keysift's version and the settings that
    /// change what is reported.
    pub fn key(rules_digest: &str, settings: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(rules_digest.as_bytes());
        hasher.update([0]);
        hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
        hasher.update([0]);
        hasher.update(settings.as_bytes());
        hex(&hasher.finalize())
    }

    /// Whether `id` was scanned clean before.
    pub fn contains(&self, id: &ObjectId) -> bool {
        self.ids.contains(id)
    }

    /// Records `id` as scanned clean.
    pub fn insert(&mut self, id: ObjectId) {
        self.ids.insert(id);
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Where the cache lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the cache, merged with whatever a concurrent run stored meanwhile, atomically.
    pub fn save(&mut self) -> io::Result<()> {
        if let Ok(bytes) = fs::read(&self.path) {
            if let Ok(theirs) = self.parse(&bytes) {
                self.ids.extend(theirs);
            }
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir)?;
        let mut ids: Vec<&ObjectId> = self.ids.iter().collect();
        ids.sort();
        let mut bytes = Vec::with_capacity(MAGIC.len() + 65 + ids.len() * 20 + 32);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(self.key.as_bytes());
        bytes.push(b'\n');
        for id in ids {
            bytes.extend_from_slice(id.as_bytes());
        }
        let checksum = Sha256::digest(&bytes);
        bytes.extend_from_slice(&checksum);

        let temp = dir.join(format!(
            ".{}.{}.tmp",
            self.path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("cache"),
            std::process::id()
        ));
        let result = (|| {
            let mut file = fs::File::create(&temp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            fs::rename(&temp, &self.path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }

    fn parse(&self, bytes: &[u8]) -> Result<HashSet<ObjectId>, String> {
        let body_len = bytes
            .len()
            .checked_sub(32)
            .ok_or("truncated (no checksum)")?;
        let (body, checksum) = bytes.split_at(body_len);
        if Sha256::digest(body).as_slice() != checksum {
            return Err("checksum mismatch (damaged or partly written)".into());
        }
        let rest = body.strip_prefix(MAGIC).ok_or("not a keysift cache file")?;
        let newline = rest.iter().position(|&b| b == b'\n').ok_or("no key line")?;
        if &rest[..newline] != self.key.as_bytes() {
            return Err("written for other scan settings".into());
        }
        let ids = &rest[newline + 1..];
        let width = self.hash.len_in_bytes();
        if ids.len() % width != 0 {
            return Err("truncated id".into());
        }
        ids.chunks_exact(width)
            .map(|raw| ObjectId::try_from(raw).map_err(|e| e.to_string()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId::try_from(&[n; 20][..]).unwrap()
    }

    #[test]
    fn round_trips_and_merges_concurrent_writers() {
        let dir = tempfile::tempdir().unwrap();
        let key = ScanCache::key("rules", "medium");
        let (mut a, loaded) = ScanCache::open(dir.path(), &key, gix::hash::Kind::Sha1);
        assert_eq!(loaded, Loaded::Empty);
        let (mut b, _) = ScanCache::open(dir.path(), &key, gix::hash::Kind::Sha1);
        a.insert(id(1));
        b.insert(id(2));
        a.save().unwrap();
        b.save().unwrap();
        let (c, loaded) = ScanCache::open(dir.path(), &key, gix::hash::Kind::Sha1);
        assert_eq!(loaded, Loaded::Valid(2));
        assert!(c.contains(&id(1)) && c.contains(&id(2)));
    }

    #[test]
    fn damaged_or_foreign_files_are_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let key = ScanCache::key("rules", "medium");
        let (mut a, _) = ScanCache::open(dir.path(), &key, gix::hash::Kind::Sha1);
        a.insert(id(7));
        a.save().unwrap();
        let mut bytes = fs::read(a.path()).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
        fs::write(a.path(), &bytes).unwrap();
        let (b, loaded) = ScanCache::open(dir.path(), &key, gix::hash::Kind::Sha1);
        assert!(matches!(loaded, Loaded::Discarded(ref why) if why.contains("checksum")));
        assert!(!b.contains(&id(7)));

        // Another key never reads this file's ids.
        let (mut a, _) = ScanCache::open(dir.path(), &key, gix::hash::Kind::Sha1);
        a.insert(id(7));
        a.save().unwrap();
        let other = ScanCache::key("other rules", "medium");
        let (c, loaded) = ScanCache::open(dir.path(), &other, gix::hash::Kind::Sha1);
        assert_eq!(loaded, Loaded::Empty);
        assert!(!c.contains(&id(7)));
    }
}
