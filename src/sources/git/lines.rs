//! Which lines of a blob a change added, so that hooks and range scans report only what the
//! change introduced and not a secret that was already there.

use imara_diff::{Algorithm, Diff, InternedInput};

/// The lines of a new blob that a change added (1-based), as sorted, disjoint ranges.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineSet {
    /// `(first, last)` inclusive.
    ranges: Vec<(usize, usize)>,
    all: bool,
}

impl LineSet {
    /// Every line: the blob is new.
    pub fn all() -> Self {
        LineSet {
            ranges: Vec::new(),
            all: true,
        }
    }

    /// The lines of `new` that are not in `old`, by a line diff (histogram algorithm, as git's
    /// `diff.algorithm=histogram`).
    pub fn added(old: &[u8], new: &[u8]) -> Self {
        let input = InternedInput::new(old, new);
        let diff = Diff::compute(Algorithm::Histogram, &input);
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for hunk in diff.hunks() {
            if hunk.after.is_empty() {
                continue;
            }
            let (first, last) = (hunk.after.start as usize + 1, hunk.after.end as usize);
            match ranges.last_mut() {
                Some(prev) if prev.1 + 1 >= first => prev.1 = prev.1.max(last),
                _ => ranges.push((first, last)),
            }
        }
        LineSet { ranges, all: false }
    }

    /// The lines added by either change (a merge: what is new relative to every parent is the
    /// intersection, see [`LineSet::intersect`]).
    pub fn intersect(&self, other: &LineSet) -> LineSet {
        if self.all {
            return other.clone();
        }
        if other.all {
            return self.clone();
        }
        let mut ranges = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a, b) = (self.ranges[i], other.ranges[j]);
            let (first, last) = (a.0.max(b.0), a.1.min(b.1));
            if first <= last {
                ranges.push((first, last));
            }
            if a.1 < b.1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        LineSet { ranges, all: false }
    }

    /// Whether any of lines `first..=last` was added.
    pub fn touches(&self, first: usize, last: usize) -> bool {
        if self.all {
            return true;
        }
        let i = self.ranges.partition_point(|r| r.1 < first);
        self.ranges.get(i).is_some_and(|r| r.0 <= last)
    }

    /// Whether no line was added.
    pub fn is_empty(&self) -> bool {
        !self.all && self.ranges.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::LineSet;

    #[test]
    fn added_lines_are_found_and_old_lines_are_not() {
        let old = b"a\nb\nc\n";
        let new = b"a\nB\nc\nd\n";
        let set = LineSet::added(old, new);
        assert!(!set.touches(1, 1));
        assert!(set.touches(2, 2));
        assert!(!set.touches(3, 3));
        assert!(set.touches(4, 4));
        assert!(set.touches(1, 2), "a range touching an added line");
    }

    #[test]
    fn identical_blobs_add_nothing_and_new_blobs_add_everything() {
        assert!(LineSet::added(b"x\ny\n", b"x\ny\n").is_empty());
        assert!(LineSet::all().touches(1000, 1000));
    }

    #[test]
    fn intersection_keeps_lines_new_to_both_sides() {
        let a = LineSet::added(b"1\n2\n", b"1\n2\n3\n4\n");
        let b = LineSet::added(b"1\n2\n3\n", b"1\n2\n3\n4\n");
        let both = a.intersect(&b);
        assert!(!both.touches(3, 3));
        assert!(both.touches(4, 4));
        assert_eq!(LineSet::all().intersect(&b), b);
    }
}
