//! How much of a value is made of dictionary words.
//!
//! Random secrets contain few real words; passwords people choose by hand and placeholder values
//! ("mysecretpassword", "SuperSecret2024", "hunter_summer") are mostly words.

use std::{
    collections::HashSet,
    hash::{BuildHasherDefault, Hasher},
    sync::OnceLock,
};

/// Only words of at least this many letters count: shorter ones turn up inside random strings.
const MIN_WORD: usize = 4;
const MAX_WORD: usize = 16;

/// Words packed into a `u128` (at most 16 lowercase ASCII bytes), so a lookup hashes one
/// integer instead of a string: this runs for every generic candidate.
type Packed = u128;

fn pack(word: &[u8]) -> Packed {
    word.iter().fold(0, |acc, &b| (acc << 8) | Packed::from(b))
}

/// A multiplicative hasher for packed words; the dictionary is ours, not attacker-controlled.
#[derive(Default)]
struct PackedHasher(u64);

impl Hasher for PackedHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
}

type Dictionary = HashSet<Packed, BuildHasherDefault<PackedHasher>>;

fn dictionary() -> &'static Dictionary {
    static WORDS: OnceLock<Dictionary> = OnceLock::new();
    WORDS.get_or_init(|| {
        include_str!("words.txt")
            .lines()
            .filter(|line| !line.starts_with('#'))
            .flat_map(str::split_whitespace)
            .filter(|w| (MIN_WORD..=MAX_WORD).contains(&w.len()))
            .map(|w| pack(w.as_bytes()))
            .collect()
    })
}

/// Fraction (0..=1) of the letters of `value` that belong to dictionary words, found by
/// dynamic programming over every segmentation so overlapping choices don't matter.
pub fn word_coverage(value: &[u8]) -> f64 {
    // People write words in leetspeak too: `s00pers3cret`, `P@ssw0rd`.
    coverage_of(&value.to_ascii_lowercase()).max(coverage_of(&unleet(value)))
}

/// `P@ssw0rd` → `password`: the digit and symbol stand-ins for letters people use.
fn unleet(value: &[u8]) -> Vec<u8> {
    value
        .iter()
        .map(|b| match b.to_ascii_lowercase() {
            b'0' => b'o',
            b'1' => b'i',
            b'3' => b'e',
            b'4' | b'@' => b'a',
            b'5' | b'$' => b's',
            b'7' => b't',
            other => other,
        })
        .collect()
}

fn coverage_of(lower: &[u8]) -> f64 {
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
            if words.contains(&pack(&lower[start..end])) {
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
        assert!(word_coverage(b"P@ssw0rd") > 0.9);
        assert!(word_coverage(b"s00pers3cret") >= 0.5);
    }

    #[test]
    fn random_values_are_not() {
        assert!(word_coverage(b"q8Zr2LxV0pTn4KmW7sYb") < 0.3);
        assert!(word_coverage(b"9f86d081884c7d659a2feaa0c55ad015") < 0.3);
        assert_eq!(word_coverage(b"1234567890"), 0.0);
    }
}
