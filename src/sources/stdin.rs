//! Standard input, scanned as one blob.

use std::io::{self, Read};

use super::{
    archive::is_archive, ArchiveLimits, Loaded, Origin, ReadLimits, Source, SourceError,
    SourceErrorKind,
};

/// Standard input as a source. Binary content is scanned too: the user piped it in on purpose.
/// An archive (a zip, a tarball) is opened instead, when asked.
#[derive(Debug)]
pub struct StdinSource {
    limits: ReadLimits,
    archives: Option<ArchiveLimits>,
    items: [(); 1],
}

impl StdinSource {
    /// Reads at most `limits.max_size` bytes.
    pub fn new(limits: ReadLimits) -> Self {
        StdinSource {
            limits,
            archives: None,
            items: [()],
        }
    }

    /// Open an archive on stdin within these limits and scan its members; `None` (the
    /// default) scans its bytes as they are.
    pub fn open_archives(mut self, limits: Option<ArchiveLimits>) -> Self {
        self.archives = limits;
        self
    }
}

/// Reads `input` whole, up to the limit.
fn read_limited(
    input: impl Read,
    limits: ReadLimits,
    buf: &mut Vec<u8>,
) -> Result<Loaded, SourceError> {
    buf.clear();
    input
        .take(limits.max_size.saturating_add(1))
        .read_to_end(buf)
        .map_err(|e| SourceError::new("<stdin>", SourceErrorKind::Unreadable, e.to_string()))?;
    if buf.len() as u64 > limits.max_size {
        return Err(SourceError::new(
            "<stdin>",
            SourceErrorKind::TooLarge,
            format!(
                "not scanned: more than the --max-file-size limit of {} bytes",
                limits.max_size
            ),
        ));
    }
    Ok(Loaded::Text {
        id: None,
        may_repeat: false,
    })
}

impl Source for StdinSource {
    type Item = ();
    type Reader = ();

    fn items(&self) -> &[()] {
        &self.items
    }

    fn new_reader(&self) {}

    fn load(&self, _: &mut (), _: &(), buf: &mut Vec<u8>) -> Result<Loaded, SourceError> {
        let loaded = read_limited(io::stdin().lock(), self.limits, buf)?;
        if self.archives.is_some() && is_archive(buf, "") {
            return Ok(Loaded::Archive);
        }
        Ok(loaded)
    }

    fn archives(&self) -> Option<ArchiveLimits> {
        self.archives
    }

    fn origin(&self, _: &()) -> Origin {
        Origin::Stdin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_limit() {
        let mut buf = Vec::new();
        let limits = ReadLimits { max_size: 4 };
        assert!(read_limited(&b"abcd"[..], limits, &mut buf).is_ok());
        assert_eq!(buf, b"abcd");
        let err = read_limited(&b"abcde"[..], limits, &mut buf).unwrap_err();
        assert_eq!(err.kind, SourceErrorKind::TooLarge);
    }
}
