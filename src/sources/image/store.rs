//! Random access to the files of an image archive: a tar file (`docker save`, an OCI layout in
//! a tar) indexed once by entry name, or a directory (an OCI layout on disk).
//!
//! Layers are opened as streams straight from the archive: nothing is unpacked to disk.

use std::{
    collections::HashMap,
    fs::File,
    io::{self, Read, Seek, SeekFrom},
    path::{Path, PathBuf},
};

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
        let hex: String = sha2::Digest::finalize(hasher)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("sha256:{hex}")
    }
}

/// `./a//b` → `a/b`: the form entry names are compared in.
pub fn normalise(name: &str) -> String {
    name.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join("/")
}
