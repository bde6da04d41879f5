//! The contract between the prefilter and confirmation: per signature, the merged byte windows
//! in which it may match.

use std::ops::Range;

use crate::rules::SignatureIndex;

/// Windows in which signatures may match, accumulated from prefilter hits.
///
/// Hits must arrive in non-decreasing order of their end offset (what a left-to-right scan
/// produces); each signature then keeps one open window that the next hit either extends or
/// closes. That makes accumulation O(hits) with no sorting, and allocation-free once the
/// vectors have grown to the blob's needs.
#[derive(Debug, Default)]
pub struct Triggers {
    /// Per signature: the window still open to extension.
    open: Vec<Option<Range<usize>>>,
    /// Signatures with an open window, to flush without scanning `open`.
    touched: Vec<SignatureIndex>,
    /// Finished windows.
    closed: Vec<(SignatureIndex, Range<usize>)>,
    haystack_len: usize,
}

impl Triggers {
    /// Clears the triggers for a new blob of `haystack_len` bytes.
    pub fn reset(&mut self, signature_count: usize, haystack_len: usize) {
        if self.open.len() != signature_count {
            self.open = vec![None; signature_count];
        }
        for sig in self.touched.drain(..) {
            self.open[sig.get()] = None;
        }
        self.closed.clear();
        self.haystack_len = haystack_len;
    }

    /// Records a keyword hit at `hit` for `signature`, whose matches are at most `reach` bytes
    /// long: any match containing the hit lies within `reach` bytes of it on either side.
    pub fn hit(&mut self, signature: SignatureIndex, hit: Range<usize>, reach: usize) {
        let window =
            hit.start.saturating_sub(reach)..(hit.end.saturating_add(reach)).min(self.haystack_len);
        match &mut self.open[signature.get()] {
            Some(open) if window.start <= open.end => {
                open.start = open.start.min(window.start);
                open.end = open.end.max(window.end);
            }
            Some(open) => {
                let finished = std::mem::replace(open, window);
                self.closed.push((signature, finished));
            }
            slot @ None => {
                *slot = Some(window);
                self.touched.push(signature);
            }
        }
    }

    /// Marks `signature` as possible anywhere in the blob.
    pub fn everywhere(&mut self, signature: SignatureIndex) {
        self.hit(signature, 0..self.haystack_len, 0);
    }

    /// Closes every open window and returns all windows, grouped by nothing in particular.
    pub fn finish(&mut self) -> &[(SignatureIndex, Range<usize>)] {
        for &sig in &self.touched {
            if let Some(window) = self.open[sig.get()].take() {
                self.closed.push((sig, window));
            }
        }
        self.touched.clear();
        &self.closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_merge_per_signature_and_clip_to_the_blob() {
        let mut t = Triggers::default();
        t.reset(2, 100);
        t.hit(SignatureIndex(0), 10..14, 5); // 5..19
        t.hit(SignatureIndex(1), 12..16, 2); // 10..18
        t.hit(SignatureIndex(0), 20..24, 5); // 15..29, merges
        t.hit(SignatureIndex(0), 60..64, 5); // 55..69, closes 5..29
        t.hit(SignatureIndex(1), 95..99, 10); // 85..100 (clipped)
        let mut windows = t.finish().to_vec();
        windows.sort_by_key(|(sig, w)| (*sig, w.start));
        assert_eq!(
            windows,
            vec![
                (SignatureIndex(0), 5..29),
                (SignatureIndex(0), 55..69),
                (SignatureIndex(1), 10..18),
                (SignatureIndex(1), 85..100),
            ]
        );
    }

    #[test]
    fn reset_forgets_previous_blob() {
        let mut t = Triggers::default();
        t.reset(1, 10);
        t.hit(SignatureIndex(0), 0..3, 1);
        t.reset(1, 10);
        assert!(t.finish().is_empty());
        t.everywhere(SignatureIndex(0));
        assert_eq!(t.finish(), &[(SignatureIndex(0), 0..10)]);
    }
}
