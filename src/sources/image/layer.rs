//! Streaming one layer: decompress (gzip, zstd or none, told apart by magic bytes), walk its
//! tar entries, hand each regular file's bytes to the caller, and record what the layer
//! deletes (whiteouts) so findings can say whether a file is still visible in the final image.

use std::io::{self, BufRead, BufReader, Read};

use tar::EntryType;

use super::store::normalise;
use crate::sources::read::SNIFF_LEN;

/// What a layer contains, for working out visibility after all layers are read.
#[derive(Debug, Default, Clone)]
pub struct LayerListing {
    /// Regular files and symlinks it adds or replaces.
    pub files: Vec<String>,
    /// Paths it deletes (`.wh.<name>` entries).
    pub whiteouts: Vec<String>,
    /// Directories whose lower-layer contents it hides (`.wh..wh..opq` entries).
    pub opaque_dirs: Vec<String>,
}

/// Limits on what a layer may make us read.
#[derive(Debug, Clone, Copy)]
pub struct LayerLimits {
    /// Files larger than this are skipped (reported).
    pub max_file: u64,
    /// A layer that decompresses to more than this is cut off there (reported): a gzip or zstd
    /// bomb cannot make the scan read forever.
    pub max_layer: u64,
}

/// A file that could not be scanned, with why.
#[derive(Debug, Clone)]
pub struct Skipped {
    /// Its path in the layer.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// Reads the layer from `input`, calling `file(path, bytes)` for each regular file within the
/// limits that `wanted(path, first bytes)` accepts after seeing its first 8 KiB (the buffer is
/// the caller's to transform, e.g. to transcode UTF-16). Returns the
/// listing and skipped files, or the listing so far and an error when the layer is damaged
/// (truncated gzip, malformed tar) or over the size limit.
pub fn read_layer(
    input: Box<dyn Read + Send>,
    limits: LayerLimits,
    wanted: impl Fn(&str, &[u8]) -> bool,
    mut file: impl FnMut(&str, &mut Vec<u8>),
) -> (LayerListing, Vec<Skipped>, Option<String>) {
    let mut listing = LayerListing::default();
    let mut skipped = Vec::new();
    let stream = match decompressed(input) {
        Ok(stream) => ReadAhead::start(stream),
        Err(e) => return (listing, skipped, Some(e.to_string())),
    };
    let mut counted = Counted {
        inner: stream,
        read: 0,
        limit: limits.max_layer,
    };
    let mut failure = read_entries(
        &mut counted,
        limits,
        &mut listing,
        &mut skipped,
        &wanted,
        &mut file,
    )
    .err();
    // Read to the end past the tar's end-of-archive blocks, so a digest computed over the
    // compressed stream covers all of it.
    if failure.is_none() {
        failure = io::copy(&mut counted, &mut io::sink())
            .err()
            .map(|e| e.to_string());
    }
    if counted.read > counted.limit {
        let message = format!(
            "decompresses to more than {} bytes (--max-layer-size); the rest was not scanned",
            counted.limit
        );
        return (listing, skipped, Some(message));
    }
    (listing, skipped, failure)
}

/// Walks the tar entries of a decompressed layer.
fn read_entries(
    stream: &mut dyn Read,
    limits: LayerLimits,
    listing: &mut LayerListing,
    skipped: &mut Vec<Skipped>,
    wanted: &impl Fn(&str, &[u8]) -> bool,
    file: &mut impl FnMut(&str, &mut Vec<u8>),
) -> Result<(), String> {
    let mut archive = tar::Archive::new(stream);
    let mut buf = Vec::new();
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let path = normalise(&entry.path().map_err(|e| e.to_string())?.to_string_lossy());
        let (dir, name) = match path.rsplit_once('/') {
            Some((dir, name)) => (dir.to_string(), name.to_string()),
            None => (String::new(), path.clone()),
        };
        if name == ".wh..wh..opq" {
            listing.opaque_dirs.push(dir);
            continue;
        }
        if let Some(deleted) = name.strip_prefix(".wh.") {
            listing.whiteouts.push(join(&dir, deleted));
            continue;
        }
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            listing.files.push(path);
            continue;
        }
        // GNU sparse files are files too: the tar reader fills their holes with zeros, and
        // their size is the expanded one, so the size limit below applies to it.
        let is_file = kind.is_file() || kind.is_gnu_sparse() || kind == EntryType::Continuous;
        if !is_file {
            continue;
        }
        listing.files.push(path.clone());
        let size = entry.size();
        if size > limits.max_file {
            skipped.push(Skipped {
                path,
                reason: format!(
                    "{size} bytes, over the {} byte limit (--max-file-size)",
                    limits.max_file
                ),
            });
            continue;
        }
        // Most of a root filesystem is binaries: read a file's start, and only a file that may
        // be wanted (text, or an archive to open) in full. The rest of an unwanted one is
        // skipped by the tar reader without being copied anywhere.
        buf.clear();
        (&mut entry)
            .take(SNIFF_LEN as u64)
            .read_to_end(&mut buf)
            .map_err(|e| format!("{path}: {e}"))?;
        if !wanted(&path, &buf) {
            continue;
        }
        entry
            .read_to_end(&mut buf)
            .map_err(|e| format!("{path}: {e}"))?;
        file(&path, &mut buf);
    }
    Ok(())
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The layer's tar stream, decompressed according to its first bytes.
fn decompressed(input: Box<dyn Read + Send>) -> io::Result<Box<dyn Read + Send>> {
    let mut input = BufReader::with_capacity(256 * 1024, input);
    let magic = input.fill_buf()?;
    if magic.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(input)))
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let decoder = ruzstd::decoding::StreamingDecoder::new(input)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}")))?;
        Ok(Box::new(decoder))
    } else {
        Ok(Box::new(input))
    }
}

/// Bytes decompressed per hand-over, and hand-overs waiting at most: 4 MiB of read-ahead.
const AHEAD_CHUNK: u64 = 256 * 1024;
const AHEAD_DEPTH: usize = 16;

/// Runs a layer's decompression (and the digest check beneath it) on a thread of its own, a
/// few chunks ahead of the tar reader and the scan. Inflating is a third or more of an image
/// scan; overlapping it with scanning keeps a second core busy when one big layer is left.
struct ReadAhead {
    chunks: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    position: usize,
}

impl ReadAhead {
    fn start(mut inner: Box<dyn Read + Send>) -> ReadAhead {
        let (sender, chunks) = std::sync::mpsc::sync_channel(AHEAD_DEPTH);
        std::thread::spawn(move || loop {
            let mut chunk = Vec::with_capacity(AHEAD_CHUNK as usize);
            match (&mut inner).take(AHEAD_CHUNK).read_to_end(&mut chunk) {
                Ok(0) => break,
                // The reader went away (the scan stopped early): stop too.
                Ok(_) if sender.send(Ok(chunk)).is_err() => break,
                Ok(_) => {}
                Err(e) => {
                    let _ = sender.send(Err(e));
                    break;
                }
            }
        });
        ReadAhead {
            chunks,
            current: Vec::new(),
            position: 0,
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.position == self.current.len() {
            match self.chunks.recv() {
                Ok(chunk) => {
                    self.current = chunk?;
                    self.position = 0;
                }
                // The decompressing thread is done: end of stream.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.position);
        buf[..n].copy_from_slice(&self.current[self.position..self.position + n]);
        self.position += n;
        Ok(n)
    }
}

/// Counts decompressed bytes and stops at the limit (reading then returns end of file, and
/// the caller reports the cut).
struct Counted<R> {
    inner: R,
    read: u64,
    limit: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.read > self.limit {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// Where a file of layer `layer` stands in the final image, given every layer's listing.
pub fn visibility(listings: &[&LayerListing], layer: usize, path: &str) -> Visibility {
    let covers = |dir: &str| dir.is_empty() || path.starts_with(&format!("{dir}/"));
    for (later, listing) in listings.iter().enumerate().skip(layer + 1) {
        let deleted = listing
            .whiteouts
            .iter()
            .any(|w| w == path || path.starts_with(&format!("{w}/")))
            || listing.opaque_dirs.iter().any(|d| covers(d));
        if deleted {
            return Visibility::Deleted { by_layer: later };
        }
        if listing.files.iter().any(|f| f == path) {
            return Visibility::Replaced { by_layer: later };
        }
    }
    Visibility::Visible
}

/// Whether a layer's file is what the final image shows at its path.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum Visibility {
    /// Still there in the final image.
    Visible,
    /// Deleted by a later layer, but still shipped in this one.
    Deleted {
        /// The layer (0-based) that deleted it.
        by_layer: usize,
    },
    /// Replaced by a later layer's file at the same path, but still shipped in this one.
    Replaced {
        /// The layer (0-based) that replaced it.
        by_layer: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(files: &[&str], whiteouts: &[&str], opaque: &[&str]) -> LayerListing {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        LayerListing {
            files: own(files),
            whiteouts: own(whiteouts),
            opaque_dirs: own(opaque),
        }
    }

    #[test]
    fn later_layers_delete_replace_or_hide_files() {
        let base = listing(&["app/.env", "app/config/a.yml", "etc/x"], &[], &[]);
        let delete = listing(&[], &["app/.env"], &[]);
        let replace = listing(&["etc/x"], &[], &[]);
        let opaque = listing(&[], &[], &["app/config"]);
        let all = [&base, &delete, &replace, &opaque];
        assert_eq!(
            visibility(&all, 0, "app/.env"),
            Visibility::Deleted { by_layer: 1 }
        );
        assert_eq!(
            visibility(&all, 0, "etc/x"),
            Visibility::Replaced { by_layer: 2 }
        );
        assert_eq!(
            visibility(&all, 0, "app/config/a.yml"),
            Visibility::Deleted { by_layer: 3 }
        );
        assert_eq!(visibility(&all, 2, "etc/x"), Visibility::Visible);
        let dir_deleted = listing(&[], &["app"], &[]);
        assert_eq!(
            visibility(&[&base, &dir_deleted], 0, "app/config/a.yml"),
            Visibility::Deleted { by_layer: 1 }
        );
    }
}
