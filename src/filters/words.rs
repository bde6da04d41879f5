//! How much of a value is made of dictionary words.
//!
//! Random secrets contain few real words; passwords people choose by hand and placeholder values
//! ("mysecretpassword", "SuperSecret2024", "hunter_summer") are mostly words.

use std::{collections::HashSet, sync::OnceLock};

/// Only words of at least this many letters count: shorter ones turn up inside random strings.
const MIN_WORD: usize = 4;
const MAX_WORD: usize = 16;

fn dictionary() -> &'static HashSet<&'static str> {
    static WORDS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| {
        include_str!("words.txt")
            .lines()
            .filter(|line| !line.starts_with('#'))
            .flat_map(str::split_whitespace)
            .filter(|w| w.len() >= MIN_WORD)
            .collect()
    })
}

/// Fraction (0..=1) of the letters of `value` that belong to dictionary words, found by
/// dynamic programming over every segmentation so overlapping choices don't matter.
pub fn word_coverage(value: &[u8]) -> f64 {
    let lower: Vec<u8> = value.to_ascii_lowercase();
    let letters = lower.iter().filter(|b| b.is_ascii_lowercase()).count();
    if letters == 0 {
        return 0.0;
    }
    let words = dictionary();
    // best[i]: most letters covered by words within lower[..i].
    let mut best = vec![0usize; lower.len() + 1];
    for end in 1..=lower.len() {
        best[end] = best[end - 1];
        for len in MIN_WORD..=MAX_WORD.min(end) {
            let start = end - len;
            let Ok(candidate) = std::str::from_utf8(&lower[start..end]) else {
                continue;
            };
            if words.contains(candidate) {
                best[end] = best[end].max(best[start] + len);
            }
        }
    }
    best[lower.len()] as f64 / letters as f64
}

#[cfg(test)]
mod tests {
    use super::word_coverage;

    #[test]
    fn word_like_values_are_covered() {
        assert!(word_coverage(b"mysecretpassword") > 0.9);
        assert!(word_coverage(b"SuperSecret2024!") > 0.9);
        assert!(word_coverage(b"changeme") > 0.9);
        assert!(word_coverage(b"hunter_summer") > 0.9);
    }

    #[test]
    fn random_values_are_not() {
        assert!(word_coverage(b"q8Zr2LxV0pTn4KmW7sYb") < 0.3);
        assert!(word_coverage(b"9f86d081884c7d659a2feaa0c55ad015") < 0.3);
        assert_eq!(word_coverage(b"1234567890"), 0.0);
    }
}
