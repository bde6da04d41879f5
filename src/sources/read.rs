//! Reading an input into memory: size limits, binary sniffing and UTF-16 text.

use std::io::{self, Read};

/// How much of the start of an input is inspected to decide whether it is binary.
pub(crate) const SNIFF_LEN: usize = 8 * 1024;

/// Limits applied while reading an input an attacker may control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Inputs larger than this many bytes are skipped.
    pub max_size: u64,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_size: 100 * 1024 * 1024,
        }
    }
}

/// The outcome of [`read_text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextOrSkip {
    /// The buffer holds text (UTF-16 input has been transcoded to UTF-8).
    Text,
    /// The input is binary (a NUL byte near its start); the buffer holds only its start.
    Binary,
    /// The input is larger than the limit; reading stopped there.
    TooLarge,
}

/// Reads `input` into `buf` (cleared first), stopping early for binary or oversized input.
///
/// Binary detection follows git's rule: a NUL byte in the first 8 KiB. UTF-16 files with a
/// byte-order mark are the exception: they are text full of NULs, common for Windows config
/// and PowerShell scripts, and are transcoded to UTF-8 so the signatures apply.
pub fn read_text(
    mut input: impl Read,
    limits: ReadLimits,
    buf: &mut Vec<u8>,
) -> io::Result<TextOrSkip> {
    buf.clear();
    (&mut input).take(SNIFF_LEN as u64).read_to_end(buf)?;
    let has_nul = memchr::memchr(0, buf).is_some();
    // A byte-order mark alone proves little (Latin-1 text can start with ÿþ); UTF-16 text that
    // can hold a secret is ASCII-heavy and so full of NULs.
    let utf16 = utf16_order(buf).filter(|_| has_nul);
    if utf16.is_none() && has_nul {
        return Ok(TextOrSkip::Binary);
    }
    let remaining = (limits.max_size + 1).saturating_sub(buf.len() as u64);
    input.take(remaining).read_to_end(buf)?;
    if buf.len() as u64 > limits.max_size {
        return Ok(TextOrSkip::TooLarge);
    }
    if let Some(order) = utf16 {
        *buf = transcode_utf16(&buf[2..], order);
    }
    Ok(TextOrSkip::Text)
}

/// Classifies content already in memory (a git blob, an archive member) the way
/// [`read_text`] classifies a stream: `false` for binary; UTF-16 text is transcoded in place.
pub fn text_in_memory(buf: &mut Vec<u8>) -> bool {
    if looks_binary(buf) {
        return false;
    }
    let start = &buf[..buf.len().min(SNIFF_LEN)];
    if let Some(order) = utf16_order(start).filter(|_| memchr::memchr(0, start).is_some()) {
        *buf = transcode_utf16(&buf[2..], order);
    }
    true
}

/// Whether content starting with `start` is binary by the rule of [`read_text`]: a NUL byte in
/// the first 8 KiB, unless it is UTF-16 text with a byte-order mark.
pub(crate) fn looks_binary(start: &[u8]) -> bool {
    let start = &start[..start.len().min(SNIFF_LEN)];
    memchr::memchr(0, start).is_some() && utf16_order(start).is_none()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ByteOrder {
    Little,
    Big,
}

fn utf16_order(start: &[u8]) -> Option<ByteOrder> {
    match start {
        [0xFF, 0xFE, ..] => Some(ByteOrder::Little),
        [0xFE, 0xFF, ..] => Some(ByteOrder::Big),
        _ => None,
    }
}

fn transcode_utf16(bytes: &[u8], order: ByteOrder) -> Vec<u8> {
    let units = bytes.chunks_exact(2).map(|pair| match order {
        ByteOrder::Little => u16::from_le_bytes([pair[0], pair[1]]),
        ByteOrder::Big => u16::from_be_bytes([pair[0], pair[1]]),
    });
    let text: String = char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    text.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8], max: u64) -> (TextOrSkip, Vec<u8>) {
        let mut buf = Vec::new();
        let outcome = read_text(bytes, ReadLimits { max_size: max }, &mut buf).unwrap();
        (outcome, buf)
    }

    #[test]
    fn text_is_read_whole() {
        assert_eq!(read(b"hello", 100), (TextOrSkip::Text, b"hello".to_vec()));
        assert_eq!(read(b"", 100), (TextOrSkip::Text, Vec::new()));
    }

    #[test]
    fn nul_near_the_start_means_binary() {
        assert_eq!(read(b"PK\x03\x04\x00\x00", 100).0, TextOrSkip::Binary);
        let mut late_nul = vec![b'a'; SNIFF_LEN + 10];
        late_nul.push(0);
        assert_eq!(read(&late_nul, 1 << 20).0, TextOrSkip::Text);
    }

    #[test]
    fn size_limit_is_exact() {
        assert_eq!(read(&[b'a'; 100], 100).0, TextOrSkip::Text);
        assert_eq!(read(&[b'a'; 101], 100).0, TextOrSkip::TooLarge);
        assert_eq!(read(&vec![b'a'; 20_000], 10_000).0, TextOrSkip::TooLarge);
    }

    #[test]
    fn utf16_with_bom_is_transcoded() {
        let mut le = vec![0xFF, 0xFE];
        le.extend("key=é".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(
            read(&le, 100),
            (TextOrSkip::Text, "key=é".as_bytes().to_vec())
        );
        let mut be = vec![0xFE, 0xFF];
        be.extend("ok".encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(read(&be, 100).1, b"ok");
    }

    #[test]
    fn a_bom_without_nuls_is_not_utf16() {
        let latin1 = b"\xff\xfe caf\xe9 token";
        assert_eq!(read(latin1, 100), (TextOrSkip::Text, latin1.to_vec()));
    }
}
