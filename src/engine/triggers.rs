//! The contract between the prefilter and confirmation: per signature, the places where it may
//! match. Signatures whose matches begin with a keyword get *starts* (search anchored there);
//! the others get *windows* around their keyword hits (search anywhere inside).

use std::ops::Range;

use crate::rules::SignatureIndex;

/// A signature and a byte range in which it may match anywhere.
pub type Window = (SignatureIndex, Range<usize>);
/// A signature and an offset at which one of its matches may begin.
pub type Start = (SignatureIndex, usize);

/// Windows in which signatures may match, accumulated from prefilter hits.
///
/// Hits must arrive in non-decreasing order of their start offset (how the keyword automaton
/// reports them); each signature then keeps one open window that the next hit either extends or
/// closes. That makes accumulation O(hits) with no sorting, and allocation-free once the
/// vectors have grown to the blob's needs.
#[derive(Debug, Default)]
pub struct Triggers {
    /// Per signature: the window still open to extension.
    open: Vec<Option<Range<usize>>>,
    /// Signatures with an open window, to flush without scanning `open`.
    touched: Vec<SignatureIndex>,
    /// Finished windows.
    closed: Vec<Window>,
    /// Offsets where a keyword-prefixed signature's match may begin.
    starts: Vec<Start>,
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
        self.starts.clear();
        self.haystack_len = haystack_len;
    }

    /// Records a keyword hit at `hit` for `signature`, whose matches are at most `reach` bytes
    /// long: any match containing the hit lies within `reach` bytes of it on either side.
    pub fn hit(&mut self, signature: SignatureIndex, hit: Range<usize>, reach: usize) {
        let window =
            hit.start.saturating_sub(reach)..(hit.end.saturating_add(reach)).min(self.haystack_len);
        self.add_window(signature, window);
    }

    /// Records that a match of `signature`, whose matches are at most `reach` bytes long, may
    /// end at `end`: the match lies within `reach` bytes before it. Ends of one signature must
    /// arrive in non-decreasing order.
    pub fn end_at(&mut self, signature: SignatureIndex, end: usize, reach: usize) {
        let end = end.min(self.haystack_len);
        self.add_window(signature, end.saturating_sub(reach)..end);
    }

    /// Opens `window`, or merges it into the signature's open window when they touch.
    fn add_window(&mut self, signature: SignatureIndex, window: Range<usize>) {
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

    /// Records that a match of `signature` may begin at `offset`.
    pub fn start_at(&mut self, signature: SignatureIndex, offset: usize) {
        self.starts.push((signature, offset));
    }

    /// Marks `signature` as possible anywhere in the blob.
    pub fn everywhere(&mut self, signature: SignatureIndex) {
        self.hit(signature, 0..self.haystack_len, 0);
    }

    /// Closes every open window and returns the windows (in no particular order) and the
    /// starts (sorted by signature, then offset, without duplicates).
    pub fn finish(&mut self) -> (&[Window], &[Start]) {
        for &sig in &self.touched {
            if let Some(window) = self.open[sig.get()].take() {
                self.closed.push((sig, window));
            }
        }
        self.touched.clear();
        self.starts.sort_unstable();
        self.starts.dedup();
        (&self.closed, &self.starts)
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
        let mut windows = t.finish().0.to_vec();
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
        assert!(t.finish().0.is_empty());
        t.everywhere(SignatureIndex(0));
        assert_eq!(t.finish().0, &[(SignatureIndex(0), 0..10)]);
    }

    #[test]
    fn match_ends_open_windows_reaching_back() {
        let mut t = Triggers::default();
        t.reset(1, 100);
        t.end_at(SignatureIndex(0), 5, 10); // 0..5, clipped
        t.end_at(SignatureIndex(0), 30, 10); // 20..30, closes 0..5
        t.end_at(SignatureIndex(0), 35, 10); // 25..35, merges
        t.end_at(SignatureIndex(0), 50, 10); // 40..50, closes 20..35
        let mut windows = t.finish().0.to_vec();
        windows.sort_by_key(|(_, w)| w.start);
        assert_eq!(
            windows,
            [
                (SignatureIndex(0), 0..5),
                (SignatureIndex(0), 20..35),
                (SignatureIndex(0), 40..50)
            ]
        );
    }

    #[test]
    fn starts_come_back_sorted_and_unique() {
        let mut t = Triggers::default();
        t.reset(2, 100);
        t.start_at(SignatureIndex(1), 5);
        t.start_at(SignatureIndex(0), 9);
        t.start_at(SignatureIndex(0), 3);
        t.start_at(SignatureIndex(0), 9);
        assert_eq!(
            t.finish().1,
            &[
                (SignatureIndex(0), 3),
                (SignatureIndex(0), 9),
                (SignatureIndex(1), 5)
            ]
        );
    }
}
