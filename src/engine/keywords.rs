//! The keyword automaton: an Aho-Corasick automaton over every signature's keywords, compiled to
//! a DFA and tuned for large keyword sets.
//!
//! Why not the `aho-corasick` crate: its SIMD prefilters only apply to small literal sets, and
//! with the 800-odd keywords of keysift's library its DFA ran at 260-290 MB/s on this project's
//! reference machine (2.5 GHz Xeon, `~/.cargo/registry/src`), bound by the latency of one
//! dependent table load per byte. This DFA makes each step one add and one load (state ids are
//! premultiplied offsets into the transition table, and case folding is folded into the
//! byte-class map), and it walks four slices of a large haystack in lockstep so the CPU overlaps
//! four independent load chains. Measured side by side on the same text: 290 MB/s for one
//! chain, 410 MB/s for four, against 260 MB/s for the crate.
//!
//! Matching is ASCII-case-insensitive; callers check the exact case of case-sensitive keywords.

use std::collections::VecDeque;

/// Haystacks shorter than this are walked as one chain: splitting them costs more than it saves.
const INTERLEAVE_MIN: usize = 16 * 1024;
/// Independent chains walked in lockstep over a large haystack.
const LANES: usize = 4;
/// log2 of the row length when the classes fit in 64 (the built-in library has 59).
const NARROW_ROWS: u32 = 6;
/// log2 of the row length otherwise: every byte its own class.
const WIDE_ROWS: u32 = 8;

/// A keyword occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeywordHit {
    /// Offset of the first byte.
    pub start: usize,
    /// Index of the keyword in the list the automaton was built from.
    pub keyword: u32,
}

/// A DFA reporting every (overlapping) occurrence of every keyword.
#[derive(Debug, Clone)]
pub struct KeywordAutomaton {
    /// Byte → equivalence class; upper- and lower-case letters share a class.
    classes: [u8; 256],
    /// log2 of the row length ([`NARROW_ROWS`] or [`WIDE_ROWS`]): a row is found with a
    /// constant shift rather than a multiplication.
    shift: u32,
    /// `transitions[(state << shift) | class]` is the next state.
    transitions: Transitions,
    /// States at or above this number are matching states.
    first_match: u32,
    /// For each matching state (indexed by `state - first_match`), the keywords that end there.
    outputs: Vec<Box<[u32]>>,
    /// Length of each keyword.
    lengths: Vec<usize>,
    longest: usize,
}

impl KeywordAutomaton {
    /// Builds the automaton. Keywords are matched ignoring ASCII case; empty keywords are
    /// ignored.
    pub fn new<K: AsRef<[u8]>>(keywords: &[K]) -> KeywordAutomaton {
        Self::build(keywords, true)
    }

    /// Builds the automaton, with 16-bit state ids if `narrow` and the states fit.
    fn build<K: AsRef<[u8]>>(keywords: &[K], narrow: bool) -> KeywordAutomaton {
        let folded: Vec<Vec<u8>> = keywords
            .iter()
            .map(|k| k.as_ref().to_ascii_lowercase())
            .collect();
        let (classes, stride) = byte_classes(&folded);
        let trie = Trie::build(&folded, &classes, stride);
        let shift = if stride <= 1 << NARROW_ROWS {
            NARROW_ROWS
        } else {
            WIDE_ROWS
        };
        let (transitions, outputs, first_match) = trie.into_dfa(stride, shift, narrow);
        KeywordAutomaton {
            classes,
            shift,
            transitions,
            first_match,
            outputs,
            lengths: folded.iter().map(Vec::len).collect(),
            longest: folded.iter().map(Vec::len).max().unwrap_or(0),
        }
    }

    /// Whether any keyword occurs in `haystack`.
    pub fn is_match(&self, haystack: &[u8]) -> bool {
        walk_with!(self, |walker| walker.is_match(haystack))
    }

    /// Appends every occurrence of every keyword in `haystack` to `hits`, sorted by start.
    pub fn find_all(&self, haystack: &[u8], hits: &mut Vec<KeywordHit>) {
        let first = hits.len();
        walk_with!(self, |walker| walker.find_all(haystack, hits));
        hits[first..].sort_unstable();
    }
}

/// Runs `$body` with `$walker` bound to a [`Walker`] compiled for the automaton's state id
/// width and row length.
macro_rules! walk_with {
    ($automaton:expr, |$walker:ident| $body:expr) => {{
        let automaton = $automaton;
        match (&automaton.transitions, automaton.shift) {
            (Transitions::Narrow(transitions), NARROW_ROWS) => {
                let $walker = Walker::<u16, NARROW_ROWS> {
                    automaton,
                    transitions,
                };
                $body
            }
            (Transitions::Narrow(transitions), _) => {
                let $walker = Walker::<u16, WIDE_ROWS> {
                    automaton,
                    transitions,
                };
                $body
            }
            (Transitions::Wide(transitions), NARROW_ROWS) => {
                let $walker = Walker::<u32, NARROW_ROWS> {
                    automaton,
                    transitions,
                };
                $body
            }
            (Transitions::Wide(transitions), _) => {
                let $walker = Walker::<u32, WIDE_ROWS> {
                    automaton,
                    transitions,
                };
                $body
            }
        }
    }};
}
use walk_with;

/// The transition table, with the narrowest state ids that fit.
#[derive(Debug, Clone)]
enum Transitions {
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
}

/// A state id as stored in the transition table.
trait StateId: Copy {
    fn get(self) -> u32;
}

impl StateId for u16 {
    #[inline(always)]
    fn get(self) -> u32 {
        u32::from(self)
    }
}

impl StateId for u32 {
    #[inline(always)]
    fn get(self) -> u32 {
        self
    }
}

/// The automaton walking with its table's state id width and row length known, so each walk
/// loop is compiled for one layout: a constant shift is one instruction, a variable one three.
struct Walker<'a, S, const SHIFT: u32> {
    automaton: &'a KeywordAutomaton,
    transitions: &'a [S],
}

impl<S: StateId, const SHIFT: u32> Walker<'_, S, SHIFT> {
    fn is_match(&self, haystack: &[u8]) -> bool {
        let first_match = self.automaton.first_match;
        let mut state = 0u32;
        haystack.iter().any(|&byte| {
            state = self.step(state, byte);
            state >= first_match
        })
    }

    fn find_all(&self, haystack: &[u8], hits: &mut Vec<KeywordHit>) {
        if haystack.len() < INTERLEAVE_MIN || self.automaton.longest == 0 {
            self.walk(haystack, 0..haystack.len(), 0..haystack.len(), hits);
        } else {
            self.walk_interleaved(haystack, hits);
        }
    }

    #[inline(always)]
    fn step(&self, state: u32, byte: u8) -> u32 {
        // Every state is below the number of rows and every class is below the row length, so
        // the index is in bounds; checked in debug builds.
        let index = ((state as usize) << SHIFT) | self.automaton.classes[byte as usize] as usize;
        debug_assert!(index < self.transitions.len());
        // SAFETY: see above; the table is built with one full row per state.
        unsafe { self.transitions.get_unchecked(index).get() }
    }

    #[inline(always)]
    fn emit(
        &self,
        state: u32,
        end: usize,
        owned: &std::ops::Range<usize>,
        hits: &mut Vec<KeywordHit>,
    ) {
        let automaton = self.automaton;
        let row = (state - automaton.first_match) as usize;
        for &keyword in automaton.outputs[row].iter() {
            let start = end + 1 - automaton.lengths[keyword as usize];
            if owned.contains(&start) {
                hits.push(KeywordHit { start, keyword });
            }
        }
    }

    /// One chain over `span`, reporting keywords that start inside `owned`.
    fn walk(
        &self,
        haystack: &[u8],
        span: std::ops::Range<usize>,
        owned: std::ops::Range<usize>,
        hits: &mut Vec<KeywordHit>,
    ) {
        let first_match = self.automaton.first_match;
        let mut state = 0u32;
        for (i, &byte) in haystack[span.clone()].iter().enumerate() {
            state = self.step(state, byte);
            if state >= first_match {
                self.emit(state, span.start + i, &owned, hits);
            }
        }
    }

    /// Four chains over four slices, each slice extended by the longest keyword so that a
    /// keyword straddling two slices is completed by the chain that saw its start.
    fn walk_interleaved(&self, haystack: &[u8], hits: &mut Vec<KeywordHit>) {
        let first_match = self.automaton.first_match;
        let longest = self.automaton.longest;
        let len = haystack.len();
        let part = len / LANES;
        let owned: [std::ops::Range<usize>; LANES] = std::array::from_fn(|lane| {
            lane * part..if lane + 1 == LANES {
                len
            } else {
                (lane + 1) * part
            }
        });
        let ends: [usize; LANES] =
            std::array::from_fn(|lane| (owned[lane].end + longest - 1).min(len));
        let common = (0..LANES)
            .map(|lane| ends[lane] - owned[lane].start)
            .min()
            .unwrap_or(0);
        let mut states = [0u32; LANES];
        for offset in 0..common {
            for lane in 0..LANES {
                states[lane] = self.step(states[lane], haystack[owned[lane].start + offset]);
            }
            for lane in 0..LANES {
                if states[lane] >= first_match {
                    self.emit(states[lane], owned[lane].start + offset, &owned[lane], hits);
                }
            }
        }
        for lane in 0..LANES {
            let tail = owned[lane].start + common..ends[lane];
            let mut state = states[lane];
            for (i, &byte) in haystack[tail.clone()].iter().enumerate() {
                state = self.step(state, byte);
                if state >= first_match {
                    self.emit(state, tail.start + i, &owned[lane], hits);
                }
            }
        }
    }
}

/// Gives every byte that occurs in a keyword its own class (letters folded), and all other
/// bytes class 0: the smaller the alphabet, the smaller the table.
fn byte_classes(keywords: &[Vec<u8>]) -> ([u8; 256], usize) {
    let mut classes = [0u8; 256];
    let mut next = 1u8;
    for keyword in keywords {
        for &byte in keyword {
            if classes[byte as usize] == 0 {
                classes[byte as usize] = next;
                next += 1;
            }
        }
    }
    for upper in b'A'..=b'Z' {
        classes[upper as usize] = classes[upper.to_ascii_lowercase() as usize];
    }
    (classes, next as usize)
}

/// The keyword trie, before it becomes a DFA.
struct Trie {
    /// `children[state * stride + class]`, or `u32::MAX` for no child.
    children: Vec<u32>,
    /// Keywords ending at each state.
    ends: Vec<Vec<u32>>,
}

impl Trie {
    fn build(keywords: &[Vec<u8>], classes: &[u8; 256], stride: usize) -> Trie {
        let mut trie = Trie {
            children: vec![u32::MAX; stride],
            ends: vec![Vec::new()],
        };
        for (index, keyword) in keywords.iter().enumerate().filter(|(_, k)| !k.is_empty()) {
            let mut state = 0usize;
            for &byte in keyword {
                let slot = state * stride + classes[byte as usize] as usize;
                if trie.children[slot] == u32::MAX {
                    trie.children[slot] = trie.ends.len() as u32;
                    trie.children.extend(std::iter::repeat_n(u32::MAX, stride));
                    trie.ends.push(Vec::new());
                }
                state = trie.children[slot] as usize;
            }
            trie.ends[state].push(index as u32);
        }
        trie
    }

    /// Adds failure transitions breadth-first (the classic Aho-Corasick construction, with
    /// each state's outputs merged with its failure state's), then renumbers states in
    /// breadth-first order with all matching states last, and lays the table out in rows of
    /// `1 << shift` entries.
    fn into_dfa(
        mut self,
        stride: usize,
        shift: u32,
        narrow: bool,
    ) -> (Transitions, Vec<Box<[u32]>>, u32) {
        let count = self.ends.len();
        let mut delta = vec![0u32; count * stride];
        let mut fail = vec![0u32; count];
        let mut queue = VecDeque::new();
        let mut breadth_first = vec![0usize];
        for (class, &child) in self.children[..stride].iter().enumerate() {
            if child != u32::MAX {
                delta[class] = child;
                queue.push_back(child as usize);
            }
        }
        while let Some(state) = queue.pop_front() {
            breadth_first.push(state);
            let failure = fail[state] as usize;
            let inherited = self.ends[failure].clone();
            self.ends[state].extend(inherited);
            for class in 0..stride {
                let child = self.children[state * stride + class];
                if child == u32::MAX {
                    delta[state * stride + class] = delta[failure * stride + class];
                } else {
                    fail[child as usize] = delta[failure * stride + class];
                    delta[state * stride + class] = child;
                    queue.push_back(child as usize);
                }
            }
        }

        let matching = |s: &usize| !self.ends[*s].is_empty();
        let mut order: Vec<usize> = breadth_first
            .iter()
            .copied()
            .filter(|s| !matching(s))
            .collect();
        let first_match = order.len();
        order.extend(breadth_first.iter().copied().filter(matching));
        let mut renumbered = vec![0u32; count];
        for (new, &old) in order.iter().enumerate() {
            renumbered[old] = new as u32;
        }
        // Written straight into the final width: a 32-bit copy first would be 2.4 MB more to
        // allocate and touch at every start-up.
        let row = 1usize << shift;
        let next =
            |new: usize, class: usize| renumbered[delta[order[new] * stride + class] as usize];
        let transitions = if narrow && count <= usize::from(u16::MAX) + 1 {
            Transitions::Narrow(lay_out(count, row, stride, |new, class| {
                next(new, class) as u16
            }))
        } else {
            Transitions::Wide(lay_out(count, row, stride, next))
        };
        let outputs = order[first_match..]
            .iter()
            .map(|&old| std::mem::take(&mut self.ends[old]).into_boxed_slice())
            .collect();
        (transitions, outputs, first_match as u32)
    }
}

/// A transition table of `count` rows of `row` entries, the first `stride` of each filled by
/// `next(state, class)`.
fn lay_out<S: Copy + Default>(
    count: usize,
    row: usize,
    stride: usize,
    next: impl Fn(usize, usize) -> S,
) -> Vec<S> {
    let mut table = vec![S::default(); count * row];
    for (state, cells) in table.chunks_exact_mut(row).enumerate() {
        for (class, cell) in cells[..stride].iter_mut().enumerate() {
            *cell = next(state, class);
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every occurrence, found the slow way.
    fn naive(keywords: &[&str], haystack: &[u8]) -> Vec<KeywordHit> {
        let mut hits = Vec::new();
        for start in 0..haystack.len() {
            for (index, keyword) in keywords.iter().enumerate() {
                let k = keyword.as_bytes();
                if haystack.len() - start >= k.len()
                    && haystack[start..start + k.len()].eq_ignore_ascii_case(k)
                {
                    hits.push(KeywordHit {
                        start,
                        keyword: index as u32,
                    });
                }
            }
        }
        hits.sort_unstable();
        hits
    }

    /// At least `len` bytes of `pieces` in a pseudo-random order fixed by `seed`.
    fn fragments(pieces: &[&[u8]], len: usize, seed: u64) -> Vec<u8> {
        let mut text = Vec::new();
        let mut x = seed;
        while text.len() < len {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            text.extend_from_slice(pieces[(x >> 33) as usize % pieces.len()]);
        }
        text
    }

    fn found(keywords: &[&str], haystack: &[u8]) -> Vec<KeywordHit> {
        let mut hits = Vec::new();
        KeywordAutomaton::new(keywords).find_all(haystack, &mut hits);
        hits
    }

    #[test]
    fn overlapping_and_nested_keywords_are_all_reported() {
        let keywords = ["secret", "client_secret", "cret_k", "he"];
        let text = b"CLIENT_SECRET_KEY she";
        assert_eq!(found(&keywords, text), naive(&keywords, text));
        assert_eq!(found(&keywords, text).len(), 4);
    }

    #[test]
    fn interleaved_walk_equals_naive_search_across_lane_boundaries() {
        let keywords = [
            "ghp_", "xoxb-", "password", "pass", "sk_live_", "ab", "zzzz",
        ];
        // Pseudo-random text dense in keyword fragments, long enough for four lanes, with
        // keywords planted across every lane boundary.
        let mut text = fragments(
            &[
                b"PassWord",
                b"ghp_",
                b"xoxb-",
                b"sk_live_",
                b"zzzzz",
                b"a",
                b"b",
                b" q ",
                b" q ",
            ],
            3 * INTERLEAVE_MIN,
            7,
        );
        for cut in 1..LANES {
            let at = cut * (text.len() / LANES) - 3;
            text[at..at + 8].copy_from_slice(b"password");
        }
        assert_eq!(found(&keywords, &text), naive(&keywords, &text));
    }

    #[test]
    fn wide_and_narrow_tables_find_the_same_hits() {
        let keywords = [
            "ghp_", "xoxb-", "password", "pass", "sk_live_", "ab", "zzzz",
        ];
        let text = fragments(
            &[
                b"PASSword",
                b"ghp_x",
                b"xoxB-",
                b"zzzzzab",
                b" sk_live_ ",
                b" sk_live_ ",
            ],
            2 * INTERLEAVE_MIN,
            11,
        );
        let narrow = KeywordAutomaton::build(&keywords, true);
        let wide = KeywordAutomaton::build(&keywords, false);
        assert!(matches!(narrow.transitions, Transitions::Narrow(_)));
        assert!(matches!(wide.transitions, Transitions::Wide(_)));
        let (mut a, mut b) = (Vec::new(), Vec::new());
        narrow.find_all(&text, &mut a);
        wide.find_all(&text, &mut b);
        assert_eq!(a, b);
        assert_eq!(a, naive(&keywords, &text));
        assert!(wide.is_match(b"xx PassWord") && !wide.is_match(b"pas swor"));
    }

    #[test]
    fn more_states_than_sixteen_bits_hold_take_the_wide_table() {
        // 70,000 distinct keywords of 8 bytes: well over 65,536 states.
        let keywords: Vec<String> = (0..70_000u32).map(|i| format!("k{i:07}")).collect();
        let automaton = KeywordAutomaton::new(&keywords);
        assert!(matches!(automaton.transitions, Transitions::Wide(_)));
        let mut hits = Vec::new();
        automaton.find_all(b"x k0069999 k0000000k0000001", &mut hits);
        let found: Vec<u32> = hits.iter().map(|h| h.keyword).collect();
        assert_eq!(found, [69_999, 0, 1]);
    }

    #[test]
    fn keywords_with_more_than_64_distinct_bytes_take_long_rows() {
        // 100 two-byte keywords over 100 distinct lead bytes (non-ASCII: no case folding).
        let keywords: Vec<Vec<u8>> = (0..100u8).map(|b| vec![0x80 + b, b'q']).collect();
        let automaton = KeywordAutomaton::new(&keywords);
        assert_eq!(automaton.shift, WIDE_ROWS);
        let text = [0x80 + 99, b'Q', 0x80, b'q', 0x80, 0x81, b'q'];
        let mut hits = Vec::new();
        automaton.find_all(&text, &mut hits);
        let found: Vec<(usize, u32)> = hits.iter().map(|h| (h.start, h.keyword)).collect();
        assert_eq!(found, [(0, 99), (2, 0), (5, 1)]);
    }

    #[test]
    fn is_match_finds_any_keyword_ignoring_case() {
        let automaton = KeywordAutomaton::new(&["${", "changeme"]);
        assert!(automaton.is_match(b"x${y}"));
        assert!(automaton.is_match(b"ChangeMe!"));
        assert!(!automaton.is_match(b"q8Zr2LxV0pTn"));
    }

    #[test]
    fn short_and_empty_inputs() {
        assert!(found(&["abc"], b"").is_empty());
        assert_eq!(found(&["abc"], b"abc").len(), 1);
        assert!(found(&[] as &[&str], b"abc").is_empty());
    }
}
