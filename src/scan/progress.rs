//! Live counters of a running scan, for a progress display. Workers add to them with relaxed
//! atomic adds (the cost of two uncontended atomics per blob); a display thread reads them.
//! The scan's own [`super::Summary`] is computed separately and exactly at the end.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Blobs and bytes scanned so far, and findings reported so far.
#[derive(Debug, Default)]
pub struct Progress {
    blobs: AtomicU64,
    bytes: AtomicU64,
    findings: AtomicU64,
}

impl Progress {
    /// Counters at zero (usable in a `static`).
    pub const fn new() -> Self {
        Progress {
            blobs: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            findings: AtomicU64::new(0),
        }
    }

    /// Counts one blob of `bytes` bytes scanned.
    pub fn scanned(&self, bytes: usize) {
        self.blobs.fetch_add(1, Relaxed);
        self.bytes.fetch_add(bytes as u64, Relaxed);
    }

    /// Counts `n` findings reported.
    pub fn found(&self, n: usize) {
        self.findings.fetch_add(n as u64, Relaxed);
    }

    /// Blobs scanned so far.
    pub fn blobs(&self) -> u64 {
        self.blobs.load(Relaxed)
    }

    /// Bytes scanned so far.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Relaxed)
    }

    /// Findings reported so far.
    pub fn findings(&self) -> u64 {
        self.findings.load(Relaxed)
    }
}
