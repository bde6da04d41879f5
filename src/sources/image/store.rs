//! Random access to the files of an image archive: a tar file (`docker save`, an OCI layout in
//! a tar) indexed once by entry name, a directory (an OCI layout on disk), or a repository on
//! a registry, whose blobs are named here as they would be in an OCI layout
//! (`blobs/sha256/<hex>`).
//!
//! Layers are opened as streams straight from the archive: nothing is unpacked to disk.

use std::{
    collections::HashMap,
    fs::File,
    io::{self, Read, Seek, SeekFrom},
    path::{Path, PathBuf},
};

use super::registry::{sha256_digest, Registry};

/// The largest metadata file (manifest, index, config) read whole into memory.
const MAX_METADATA: u64 = 64 * 1024 * 1024;

/// Where an image archive's files live.
pub enum Store {
    /// A tar file: entry name → (data offset, size).
    Tar {
        /// The archive.
        path: PathBuf,
        /// Regular-file entries by normalised name.
        entries: HashMap<String, (u64, u64)>,
    },
    /// A directory.
    Dir(PathBuf),
    /// A repository on a registry: blobs are fetched by digest as they are opened.
    Registry(Box<Registry>),
}

impl Store {
    /// Opens `path`: a directory, or a tar file whose entries are indexed now.
    pub fn open(path: &Path) -> io::Result<Store> {
        if path.is_dir() {
            return Ok(Store::Dir(path.to_path_buf()));
        }
        let file = File::open(path)?;
        let mut archive = tar::Archive::new(io::BufReader::new(file));
        let mut entries = HashMap::new();
        // Seek past each member's data: indexing reads headers only.
        for entry in archive.entries_with_seek()? {
            let entry = entry?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = normalise(&entry.path()?.to_string_lossy());
            entries.insert(name, (entry.raw_file_position(), entry.size()));
        }
        Ok(Store::Tar {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// Whether the archive has a file called `name`.
    pub fn contains(&self, name: &str) -> bool {
        match self {
            Store::Tar { entries, .. } => entries.contains_key(&normalise(name)),
            Store::Dir(root) => root.join(normalise(name)).is_file(),
            // A registry has no layout files (index.json, manifest.json) to look for.
            Store::Registry(_) => false,
        }
    }

    /// A stream of file `name`'s bytes.
    pub fn open_file(&self, name: &str) -> io::Result<Box<dyn Read + Send>> {
        let name = normalise(name);
        if name.split('/').any(|part| part == "..") {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{name}: path leaves the archive"),
            ));
        }
        match self {
            Store::Tar { path, entries } => {
                let &(offset, size) = entries.get(&name).ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("{name}: not in the archive"),
                    )
                })?;
                let mut file = File::open(path)?;
                file.seek(SeekFrom::Start(offset))?;
                Ok(Box::new(io::BufReader::new(file).take(size)))
            }
            Store::Dir(root) => Ok(Box::new(io::BufReader::new(File::open(root.join(name))?))),
            Store::Registry(registry) => {
                let digest = digest_of_blob_path(&name).ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("{name}: a registry serves blobs by digest only"),
                    )
                })?;
                registry.blob(&digest)
            }
        }
    }

    /// The manifest (or index) with `digest`, checked against it: a blob in an archive, a
    /// manifest on a registry.
    pub fn read_manifest(&self, digest: &str) -> io::Result<Vec<u8>> {
        match self {
            Store::Registry(registry) => registry
                .manifest(digest)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            _ => {
                let path =
                    blob_path(digest).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                self.read(&path)
            }
        }
    }

    /// File `name` read whole (manifests, indexes, configs), with a size limit.
    pub fn read(&self, name: &str) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.open_file(name)?
            .take(MAX_METADATA + 1)
            .read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_METADATA {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{name}: larger than {MAX_METADATA} bytes"),
            ));
        }
        // Content-addressed files must be what their name says: a config or manifest that
        // does not match its digest is not the one the image ships.
        if let Some(expected) = digest_of_blob_path(&normalise(name)) {
            if expected.starts_with("sha256:") {
                let actual = sha256_digest(&bytes);
                if actual != expected {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{name}: digest mismatch: the content hashes to {actual}"),
                    ));
                }
            }
        }
        Ok(bytes)
    }
}

/// Computes the SHA-256 of everything read through it, for checking a blob against its digest.
pub struct Hashing<R> {
    inner: R,
    hasher: std::sync::Arc<std::sync::Mutex<sha2::Sha256>>,
}

impl<R> Hashing<R> {
    /// Wraps `inner`; the returned handle yields the digest once reading is done.
    pub fn new(inner: R) -> (Self, DigestHandle) {
        let hasher =
            std::sync::Arc::new(std::sync::Mutex::new(<sha2::Sha256 as sha2::Digest>::new()));
        (
            Hashing {
                inner,
                hasher: hasher.clone(),
            },
            DigestHandle(hasher),
        )
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Ok(mut hasher) = self.hasher.lock() {
            sha2::Digest::update(&mut *hasher, &buf[..n]);
        }
        Ok(n)
    }
}

/// The digest of what a [`Hashing`] reader has read so far.
pub struct DigestHandle(std::sync::Arc<std::sync::Mutex<sha2::Sha256>>);

impl DigestHandle {
    /// `sha256:<hex>`.
    pub fn digest(&self) -> String {
        let hasher = self.0.lock().map(|h| h.clone()).unwrap_or_default();
        format!(
            "sha256:{}",
            crate::hex::hex(&sha2::Digest::finalize(hasher))
        )
    }
}

/// `blobs/sha256/abc` → `sha256:abc`, for content-addressed paths only.
pub fn digest_of_blob_path(path: &str) -> Option<String> {
    let (algorithm, hex) = path.strip_prefix("blobs/")?.split_once('/')?;
    let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    (plain(algorithm) && plain(hex)).then(|| format!("{algorithm}:{hex}"))
}

/// `sha256:abc...` → `blobs/sha256/abc...`, refusing digests that are not plain hex.
pub fn blob_path(digest: &str) -> Result<String, String> {
    let (algorithm, hex) = digest
        .split_once(':')
        .ok_or_else(|| format!("malformed digest {digest:?}"))?;
    let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    if !plain(algorithm) || !plain(hex) {
        return Err(format!("malformed digest {digest:?}"));
    }
    Ok(format!("blobs/{algorithm}/{hex}"))
}

/// `./a//b` → `a/b`: the form entry names are compared in.
pub fn normalise(name: &str) -> String {
    name.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join("/")
}
