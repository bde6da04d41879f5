//! The recursive walk: open an archive, read each member through the limits, and either open
//! it in turn (an archive, within the depth limit) or hand it to the visitor.

use std::io::{self, Read};

use flate2::bufread::{DeflateDecoder, MultiGzDecoder};

use super::{
    bounded::{Bounded, Budget, Exceeded},
    format_of, label,
    zip::{self, Method},
    ArchiveLimits, ExpandStats, Format, MemberVisitor,
};
use crate::sources::{
    read::{looks_binary, text_in_memory, SNIFF_LEN},
    SourceErrorKind,
};

/// Opens the archive in `bytes`, called `name` (its file name: `.tar` stands in for missing
/// magic bytes), and hands its members to `visitor`. Does nothing if the bytes are not an
/// archive or `limits.max_depth` is 0.
pub fn expand(
    bytes: &[u8],
    name: &str,
    limits: &ArchiveLimits,
    visitor: &mut impl MemberVisitor,
) -> ExpandStats {
    let Some(format) = format_of(bytes, name).filter(|_| limits.max_depth > 0) else {
        return ExpandStats::default();
    };
    let budget = Budget::new(limits.max_total_size);
    let mut walk = Walk {
        limits,
        budget: &budget,
        path: Vec::new(),
        visitor,
        stats: ExpandStats::default(),
        exhausted: false,
    };
    walk.open(format, bytes, file_name(name), 1);
    walk.stats
}

struct Walk<'a, V> {
    limits: &'a ArchiveLimits,
    budget: &'a Budget,
    /// Names of the members being walked, outermost first (empty at the top-level archive).
    path: Vec<String>,
    visitor: &'a mut V,
    stats: ExpandStats,
    /// The total budget ran out: nothing more is read at any level.
    exhausted: bool,
}

/// How reading a member ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MemberRead {
    /// The buffer holds the whole member.
    Whole,
    /// The member is binary and not an archive; the buffer holds only its start.
    Binary,
    /// The member is over the size limit; the buffer holds only part of it.
    TooLarge,
}

impl<V: MemberVisitor> Walk<'_, V> {
    /// Walks one archive; `depth` is 1 for the top-level one.
    fn open(&mut self, format: Format, bytes: &[u8], name: &str, depth: u32) {
        self.stats.archives += 1;
        match format {
            Format::Zip => self.zip(bytes, depth),
            Format::Tar => {
                let mut stream = Bounded::plain(bytes, self.budget);
                if let Err(e) = self.tar(&mut stream, depth) {
                    self.failure(None, stream.exceeded(), &e, "tar");
                }
            }
            Format::Gzip => self.compressed(MultiGzDecoder::new(bytes), bytes.len(), name, depth),
            Format::Zstd => match ruzstd::decoding::StreamingDecoder::new(bytes) {
                Ok(decoder) => self.compressed(decoder, bytes.len(), name, depth),
                Err(e) => self.skip(
                    None,
                    SourceErrorKind::Unreadable,
                    format!("cannot decompress zstd: {e}; not scanned"),
                ),
            },
        }
    }

    fn zip(&mut self, bytes: &[u8], depth: u32) {
        let entries = match zip::entries(bytes) {
            Ok(entries) => entries,
            Err(message) => {
                let message = format!("damaged zip: {message}; not scanned");
                return self.skip(None, SourceErrorKind::Unreadable, message);
            }
        };
        let mut buf = Vec::new();
        for entry in entries.iter().filter(|e| !e.is_dir()) {
            if self.done() {
                break;
            }
            let name = label(&entry.name);
            if entry.encrypted {
                let message = "encrypted; not scanned".to_string();
                self.skip(Some(name), SourceErrorKind::Encrypted, message);
                continue;
            }
            let data = match zip::data(bytes, entry) {
                Ok(data) => data,
                Err(message) => {
                    let message = format!("damaged zip entry: {message}; not scanned");
                    self.skip(Some(name), SourceErrorKind::Unreadable, message);
                    continue;
                }
            };
            let (read, exceeded) = match entry.method {
                Method::Stored => {
                    self.read_bounded(Bounded::plain(data, self.budget), &name, &mut buf)
                }
                Method::Deflated => {
                    let decoder = DeflateDecoder::new(data);
                    let ratio = self.limits.max_ratio;
                    let member =
                        Bounded::compressed(decoder, self.budget, data.len() as u64, ratio);
                    self.read_bounded(member, &name, &mut buf)
                }
                Method::Other(method) => {
                    let message =
                        format!("compression method {method} is not supported; not scanned");
                    self.skip(Some(name), SourceErrorKind::Unreadable, message);
                    continue;
                }
            };
            match read {
                Ok(MemberRead::Whole) if crc32fast::hash(&buf) != entry.crc32 => {
                    let message = "damaged zip entry: its CRC-32 does not match; not scanned";
                    self.skip(Some(name), SourceErrorKind::Unreadable, message.into());
                }
                Ok(read) => self.visit(name, read, &mut buf, depth),
                Err(e) => self.failure(Some(name), exceeded, &e, "zip entry"),
            }
        }
    }

    /// Walks a tar stream's regular files. An error ends the walk: after damage, a tar stream
    /// cannot be resynchronised.
    fn tar(&mut self, stream: &mut impl Read, depth: u32) -> io::Result<()> {
        let mut archive = tar::Archive::new(stream);
        let mut buf = Vec::new();
        for entry in archive.entries()? {
            if self.done() {
                break;
            }
            let mut entry = entry?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = label(&entry.path_bytes());
            // A tar header's size is exactly how much data follows it, so an entry declared
            // too large can be passed over unread.
            let read = if entry.size() > self.limits.max_member_size {
                MemberRead::TooLarge
            } else {
                self.read_member(&mut entry, &name, &mut buf)?
            };
            self.visit(name, read, &mut buf, depth);
        }
        Ok(())
    }

    /// A gzip or zstd stream: a tar inside is walked as it decompresses; anything else is one
    /// member, named after the archive without its suffix.
    fn compressed(&mut self, decoder: impl Read, compressed_len: usize, name: &str, depth: u32) {
        let mut stream = Bounded::compressed(
            decoder,
            self.budget,
            compressed_len as u64,
            self.limits.max_ratio,
        );
        let inner = decompressed_name(name);
        let mut head = Vec::with_capacity(512);
        let result = match (&mut stream).take(512).read_to_end(&mut head) {
            Err(e) => Err(e),
            Ok(_) if format_of(&head, &inner) == Some(Format::Tar) => {
                self.tar(&mut head.as_slice().chain(&mut stream), depth)
            }
            Ok(_) => {
                let mut buf = Vec::new();
                let mut whole = head.as_slice().chain(&mut stream);
                self.read_member(&mut whole, &inner, &mut buf)
                    .map(|read| self.visit(inner, read, &mut buf, depth))
            }
        };
        if let Err(e) = result {
            self.failure(None, stream.exceeded(), &e, "compressed stream");
        }
    }

    /// [`Walk::read_member`] through `member`, and which limit stopped it, if one did.
    fn read_bounded<R: Read>(
        &self,
        mut member: Bounded<'_, R>,
        name: &str,
        buf: &mut Vec<u8>,
    ) -> (io::Result<MemberRead>, Option<Exceeded>) {
        let read = self.read_member(&mut member, name, buf);
        (read, member.exceeded())
    }

    /// Reads a member into `buf`, stopping after its first 8 KiB if it is binary and not an
    /// archive, and just past the member size limit.
    fn read_member(
        &self,
        reader: &mut impl Read,
        name: &str,
        buf: &mut Vec<u8>,
    ) -> io::Result<MemberRead> {
        buf.clear();
        reader.take(SNIFF_LEN as u64).read_to_end(buf)?;
        if looks_binary(buf) && format_of(buf, name).is_none() {
            return Ok(MemberRead::Binary);
        }
        let max = self.limits.max_member_size;
        let room = (max + 1).saturating_sub(buf.len() as u64);
        reader.take(room).read_to_end(buf)?;
        Ok(if buf.len() as u64 > max {
            MemberRead::TooLarge
        } else {
            MemberRead::Whole
        })
    }

    /// Does what a member calls for: open it (an archive), scan it (text) or count it (binary).
    fn visit(&mut self, name: String, read: MemberRead, bytes: &mut Vec<u8>, depth: u32) {
        let format = format_of(bytes, &name);
        self.path.push(name);
        match (read, format) {
            (MemberRead::TooLarge, _) => {
                let message = format!(
                    "larger than the {} byte limit (--max-file-size); not scanned",
                    self.limits.max_member_size
                );
                self.visitor
                    .skipped(&self.path, SourceErrorKind::TooLarge, message);
            }
            (MemberRead::Whole, Some(format)) if depth < self.limits.max_depth => {
                let name = file_name(self.path.last().expect("just pushed")).to_string();
                self.open(format, bytes, &name, depth + 1);
            }
            (MemberRead::Whole, Some(_)) => {
                let message = format!(
                    "an archive nested deeper than {} levels (--max-archive-depth); not opened",
                    self.limits.max_depth
                );
                self.visitor
                    .skipped(&self.path, SourceErrorKind::Limit, message);
            }
            (MemberRead::Binary, _) => {
                self.stats.members += 1;
                self.stats.binary += 1;
            }
            (MemberRead::Whole, None) => {
                self.stats.members += 1;
                if !text_in_memory(bytes) {
                    self.stats.binary += 1;
                } else if !bytes.is_empty() {
                    self.visitor.text(&self.path, bytes);
                }
            }
        }
        self.path.pop();
    }

    /// Reports why reading stopped: a limit, or damage.
    fn failure(
        &mut self,
        member: Option<String>,
        exceeded: Option<Exceeded>,
        e: &io::Error,
        what: &str,
    ) {
        let rest = match member {
            Some(_) => "not scanned",
            None => "the rest of the archive was not scanned",
        };
        let (kind, message) = match exceeded {
            Some(Exceeded::Total) => {
                self.exhausted = true;
                (
                    SourceErrorKind::Limit,
                    format!(
                        "the archive expands to more than {} bytes in all (--max-archive-size); nothing more of it was scanned",
                        self.limits.max_total_size
                    ),
                )
            }
            Some(Exceeded::Ratio) => (
                SourceErrorKind::Limit,
                format!(
                    "expands more than {} times its compressed size (--max-archive-ratio), likely a compression bomb; {rest}",
                    self.limits.max_ratio
                ),
            ),
            None => (SourceErrorKind::Unreadable, format!("damaged {what}: {e}; {rest}")),
        };
        self.skip(member, kind, message);
    }

    /// Reports the current archive (`member: None`) or one of its members as skipped.
    fn skip(&mut self, member: Option<String>, kind: SourceErrorKind, message: String) {
        let pushed = member.is_some();
        self.path.extend(member);
        self.visitor.skipped(&self.path, kind, message);
        if pushed {
            self.path.pop();
        }
    }

    fn done(&self) -> bool {
        self.exhausted || self.visitor.stopped()
    }
}

/// The last component of a member path.
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// What a compressed file called `name` holds: `app.tgz` → `app.tar`, `notes.txt.gz` →
/// `notes.txt`; a name without a known suffix is kept as it is.
fn decompressed_name(name: &str) -> String {
    let name = file_name(name);
    for (suffix, replacement) in [
        (".tgz", ".tar"),
        (".gz", ""),
        (".tzst", ".tar"),
        (".zst", ""),
    ] {
        if let Some(stem) = name.strip_suffix(suffix).filter(|s| !s.is_empty()) {
            return format!("{stem}{replacement}");
        }
    }
    name.to_string()
}
