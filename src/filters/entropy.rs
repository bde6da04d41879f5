//! Shannon entropy, the randomness measure behind `min_entropy` and the generic heuristics.

/// Shannon entropy of `bytes` in bits per byte (0 for empty input, at most 8).
///
/// For a string drawn uniformly from an alphabet of size `n`, this approaches `log2(n)` as the
/// string grows: about 4 for hex, 5.95 for base62, 6 for base64. Short strings score lower
/// than their alphabet allows, since they cannot use every symbol.
pub fn shannon(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::shannon;

    #[test]
    fn known_values() {
        assert_eq!(shannon(b""), 0.0);
        assert_eq!(shannon(b"aaaa"), 0.0);
        assert!((shannon(b"ab") - 1.0).abs() < 1e-9);
        assert!((shannon(b"0123456789abcdef") - 4.0).abs() < 1e-9);
        let all: Vec<u8> = (0..=255).collect();
        assert!((shannon(&all) - 8.0).abs() < 1e-9);
    }
}
