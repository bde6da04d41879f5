//! A read-only zip reader over bytes already in memory: the central directory, and each entry's
//! compressed data. Decompression and limits are the walker's job.
//!
//! Why our own instead of the `zip` crate: the archive is always a byte slice we already hold
//! (a file read under `--max-file-size`, or a member of another archive), we need only stored
//! and deflated entries (what jar, war, whl, nupkg and apk use), and we must not trust declared
//! sizes. That is about 150 lines of slice indexing where every offset is bounds-checked, against
//! a dependency built for seekable files, writing and a dozen compression methods.

use std::ops::Range;

const LOCAL_HEADER: &[u8; 4] = b"PK\x03\x04";
const CENTRAL_HEADER: &[u8; 4] = b"PK\x01\x02";
const END_OF_DIRECTORY: &[u8; 4] = b"PK\x05\x06";
const ZIP64_END_OF_DIRECTORY: &[u8; 4] = b"PK\x06\x06";
const ZIP64_LOCATOR: &[u8; 4] = b"PK\x06\x07";
/// The fixed part of the end-of-central-directory record.
const END_LEN: usize = 22;
/// The fixed part of a central directory entry.
const CENTRAL_LEN: usize = 46;
/// The fixed part of a local file header.
const LOCAL_LEN: usize = 30;
/// Extra field id of the zip64 sizes and offset.
const ZIP64_EXTRA: u16 = 0x0001;

/// How an entry's data is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// As is.
    Stored,
    /// Raw deflate.
    Deflated,
    /// Anything else (bzip2, LZMA, zstd, ...): not read.
    Other(u16),
}

/// One entry of the central directory.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The name as stored (usually UTF-8, sometimes CP437).
    pub name: Vec<u8>,
    /// How the data is compressed.
    pub method: Method,
    /// Whether the data is encrypted (general purpose flag bit 0).
    pub encrypted: bool,
    /// CRC-32 of the uncompressed data, as declared.
    pub crc32: u32,
    compressed_size: u64,
    local_offset: u64,
}

impl Entry {
    /// Directories are entries whose name ends with a slash.
    pub fn is_dir(&self) -> bool {
        self.name.last() == Some(&b'/')
    }
}

/// The central directory of the zip in `bytes`.
pub fn entries(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    let end =
        find_end(bytes).ok_or("no end of central directory record (not a zip, or cut short)")?;
    let Directory {
        count,
        range,
        shift,
    } = directory(bytes, end)?;
    let mut rest = bytes
        .get(range)
        .ok_or("the central directory lies outside the file")?;
    // The declared count only sizes the first allocation, never beyond what could fit.
    let mut found = Vec::with_capacity((count as usize).min(rest.len() / CENTRAL_LEN));
    while rest.starts_with(CENTRAL_HEADER) {
        let (entry, len) = central_entry(rest)?;
        found.push(Entry {
            local_offset: entry.local_offset.saturating_add(shift),
            ..entry
        });
        rest = &rest[len..];
    }
    if (found.len() as u64) < count {
        return Err(format!(
            "the central directory lists {count} entries but holds {}",
            found.len()
        ));
    }
    Ok(found)
}

/// The compressed data of `entry`, located through its local header.
pub fn data<'a>(bytes: &'a [u8], entry: &Entry) -> Result<&'a [u8], String> {
    let start = usize::try_from(entry.local_offset).map_err(|_| "offset out of range")?;
    let header = bytes
        .get(start..)
        .filter(|h| h.len() >= LOCAL_LEN && h.starts_with(LOCAL_HEADER))
        .ok_or("no local header where the central directory points")?;
    let name_len = u16_at(header, 26) as usize;
    let extra_len = u16_at(header, 28) as usize;
    let data_start = LOCAL_LEN + name_len + extra_len;
    let size = usize::try_from(entry.compressed_size).map_err(|_| "size out of range")?;
    header
        .get(data_start..)
        .and_then(|data| data.get(..size))
        .ok_or_else(|| "the entry's data runs past the end of the archive".to_string())
}

/// The end-of-central-directory record: the last signature within reach of the end (the record
/// may be followed by a comment of up to 64 KiB).
fn find_end(bytes: &[u8]) -> Option<usize> {
    let earliest = bytes.len().saturating_sub(END_LEN + u16::MAX as usize);
    let last = bytes.len().checked_sub(END_LEN)?;
    (earliest..=last)
        .rev()
        .find(|&i| bytes[i..].starts_with(END_OF_DIRECTORY))
}

/// Where the central directory is, from the end record (zip64 if needed).
struct Directory {
    /// Entries it declares.
    count: u64,
    /// Its bytes.
    range: Range<usize>,
    /// How far the archive starts into the file: data prepended to a zip (a launch script, a
    /// self-extractor) shifts every offset the zip records.
    shift: u64,
}

fn directory(bytes: &[u8], end: usize) -> Result<Directory, String> {
    let record = &bytes[end..];
    let mut count = u16_at(record, 10) as u64;
    let mut size = u32_at(record, 12) as u64;
    let mut offset = u32_at(record, 16) as u64;
    let needs_zip64 = count == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF;
    if needs_zip64 {
        let locator = end
            .checked_sub(20)
            .map(|at| &bytes[at..])
            .filter(|l| l.starts_with(ZIP64_LOCATOR))
            .ok_or("zip64 archive without its locator")?;
        let at = usize::try_from(u64_at(locator, 8)).map_err(|_| "zip64 offset out of range")?;
        let record64 = bytes
            .get(at..)
            .filter(|r| r.len() >= 56 && r.starts_with(ZIP64_END_OF_DIRECTORY))
            .ok_or("no zip64 end of central directory where its locator points")?;
        count = u64_at(record64, 32);
        size = u64_at(record64, 40);
        offset = u64_at(record64, 48);
    }
    // The directory ends where the end record (or the zip64 records) begin; taking its start
    // from there rather than from the declared offset copes with prepended data.
    let directory_end = if needs_zip64 {
        end.saturating_sub(20 + 56)
    } else {
        end
    };
    let size = usize::try_from(size).map_err(|_| "directory size out of range")?;
    let start = directory_end
        .checked_sub(size)
        .ok_or("the central directory is larger than the archive")?;
    if (start as u64) < offset {
        return Err("the central directory starts before its declared offset".into());
    }
    Ok(Directory {
        count,
        range: start..directory_end,
        shift: start as u64 - offset,
    })
}

/// One central directory entry and its length in bytes.
fn central_entry(rest: &[u8]) -> Result<(Entry, usize), String> {
    if rest.len() < CENTRAL_LEN {
        return Err("a central directory entry is cut short".into());
    }
    let name_len = u16_at(rest, 28) as usize;
    let extra_len = u16_at(rest, 30) as usize;
    let comment_len = u16_at(rest, 32) as usize;
    let len = CENTRAL_LEN + name_len + extra_len + comment_len;
    let name = rest
        .get(CENTRAL_LEN..CENTRAL_LEN + name_len)
        .ok_or("a central directory entry is cut short")?;
    let extra = rest
        .get(CENTRAL_LEN + name_len..CENTRAL_LEN + name_len + extra_len)
        .ok_or("a central directory entry is cut short")?;
    if rest.len() < len {
        return Err("a central directory entry is cut short".into());
    }
    // The uncompressed size is never trusted; it is read only to find the zip64 fields.
    let mut uncompressed_size = u32_at(rest, 24) as u64;
    let mut compressed_size = u32_at(rest, 20) as u64;
    let mut local_offset = u32_at(rest, 42) as u64;
    // Zip64: the extra field holds the 8-byte values whose 4-byte fields are saturated, in
    // the order uncompressed size, compressed size, offset.
    if let Some(mut zip64) = extra_field(extra, ZIP64_EXTRA) {
        for value in [
            &mut uncompressed_size,
            &mut compressed_size,
            &mut local_offset,
        ] {
            if *value == 0xFFFF_FFFF && zip64.len() >= 8 {
                *value = u64_at(zip64, 0);
                zip64 = &zip64[8..];
            }
        }
    }
    let method = match u16_at(rest, 10) {
        0 => Method::Stored,
        8 => Method::Deflated,
        other => Method::Other(other),
    };
    let entry = Entry {
        name: name.to_vec(),
        method,
        encrypted: u16_at(rest, 8) & 1 == 1,
        crc32: u32_at(rest, 16),
        compressed_size,
        local_offset,
    };
    Ok((entry, len))
}

/// The data of extra field `id`, if present.
fn extra_field(mut extra: &[u8], id: u16) -> Option<&[u8]> {
    while extra.len() >= 4 {
        let len = u16_at(extra, 2) as usize;
        let data = extra.get(4..4 + len)?;
        if u16_at(extra, 0) == id {
            return Some(data);
        }
        extra = &extra[4 + len..];
    }
    None
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
}
