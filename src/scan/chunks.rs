//! Large blobs are matched in chunks, in parallel, so that one huge file keeps every core busy
//! instead of one.
//!
//! Each chunk *owns* a span of the blob and *sees* that span plus [`OVERLAP`] bytes on either
//! side. A chunk keeps only the matches that begin in the span it owns, so every match is kept
//! by exactly one chunk. Nothing is lost at the seams because no match is longer than the
//! overlap: a match is confirmed inside a window around a keyword hit, and a window reaches at
//! most [`MAX_WINDOW`] bytes either side of its hit, so a match beginning in a chunk's own span
//! ends inside what the chunk sees. (A pattern that can match more than [`MAX_WINDOW`] bytes is
//! already cut to its windows; near a seam it is cut to the chunk's view too.) The overlap
//! before the span lets regex assertions at the span's start (`\b`, `^` in multi-line mode) see
//! the real preceding bytes.

use std::ops::Range;

use crate::rules::MAX_WINDOW;

/// Bytes each chunk owns. Large enough that the overlap costs little (3%) and that a chunk is
/// a worthwhile unit of parallel work; small enough that a 100 MB file makes a dozen of them.
pub const CHUNK_LEN: usize = 8 << 20;

/// Bytes a chunk sees beyond its own span on each side: longer than any match (two windows'
/// reach around the longest keyword), see the module docs.
pub const OVERLAP: usize = 2 * MAX_WINDOW + 4096;

/// Blobs shorter than this are matched in one piece.
pub const PARALLEL_MIN: usize = 2 * CHUNK_LEN;

/// One chunk of a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The span whose matches this chunk reports (where they begin).
    pub owns: Range<usize>,
    /// The span this chunk's matcher runs over: `owns` widened by the overlap.
    pub sees: Range<usize>,
}

/// Splits `len` bytes into chunks owning `chunk_len` bytes each (the last one the remainder),
/// each seeing `overlap` more bytes on both sides. The owned spans tile `0..len`.
pub fn plan(len: usize, chunk_len: usize, overlap: usize) -> Vec<Chunk> {
    assert!(chunk_len > 0, "chunks own at least one byte");
    (0..len)
        .step_by(chunk_len)
        .map(|start| {
            let end = start.saturating_add(chunk_len).min(len);
            Chunk {
                owns: start..end,
                sees: start.saturating_sub(overlap)..end.saturating_add(overlap).min(len),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_spans_tile_the_blob_and_views_overlap() {
        let chunks = plan(25, 10, 3);
        assert_eq!(
            chunks,
            vec![
                Chunk {
                    owns: 0..10,
                    sees: 0..13
                },
                Chunk {
                    owns: 10..20,
                    sees: 7..23
                },
                Chunk {
                    owns: 20..25,
                    sees: 17..25
                },
            ]
        );
    }

    #[test]
    fn an_exact_multiple_has_no_empty_tail_and_an_empty_blob_no_chunks() {
        assert_eq!(plan(20, 10, 3).len(), 2);
        assert!(plan(0, 10, 3).is_empty());
    }

    #[test]
    fn the_overlap_outlasts_the_longest_match() {
        // A match can span a whole window: a keyword plus `MAX_WINDOW` either side.
        const { assert!(OVERLAP > 2 * MAX_WINDOW + 256) };
        const { assert!(OVERLAP * 10 < CHUNK_LEN) };
    }
}
