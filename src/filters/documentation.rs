//! Secrets copied from documentation: AWS's `...EXAMPLE` keys, the example tokens of RFC 6749,
//! jwt.io's sample token. They are everywhere in docs, SDKs and tests, and never grant
//! anything; reporting them at high confidence would bury real leaks.

use std::{collections::HashSet, sync::OnceLock};

/// AWS marks its documentation keys with this word (`AKIAIOSFODNN7EXAMPLE`); a random token
/// contains it by chance about once in 10^12.
const MARKER: &[u8] = b"EXAMPLE";

fn published() -> &'static HashSet<&'static [u8]> {
    static VALUES: OnceLock<HashSet<&'static [u8]>> = OnceLock::new();
    VALUES.get_or_init(|| {
        include_str!("documentation_examples.txt")
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(str::as_bytes)
            .collect()
    })
}

/// Whether `secret` is a published documentation example.
pub fn is_documentation_example(secret: &[u8]) -> bool {
    secret.windows(MARKER.len()).any(|w| w == MARKER) || published().contains(secret)
}

#[cfg(test)]
mod tests {
    use super::is_documentation_example;

    #[test]
    fn aws_examples_and_published_values_are_recognised() {
        assert!(is_documentation_example(b"AKIAIOSFODNN7EXAMPLE"));
        assert!(is_documentation_example(
            b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        ));
        assert!(is_documentation_example(b"2YotnFZFEjr1zCsicMWpAA"));
        assert!(!is_documentation_example(b"AKIA2ZQX7ML4VBNT3RFS"));
        assert!(
            !is_documentation_example(b"example"),
            "lower case is not the AWS marker"
        );
    }
}
