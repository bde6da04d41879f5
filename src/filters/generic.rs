//! Heuristics for generic secrets: a value assigned to a suspicious name, with no provider
//! format to vouch for it.
//!
//! Signatures marked `generic = true` find the assignments (`password = "..."`,
//! `"api_key": "..."`, `<secret>...</secret>`, `TOKEN=...`); this module decides whether the
//! value looks like a real secret. The decision is layered, cheapest first:
//!
//! 1. the **name**: some names only look suspicious (`token_type`, `password_min_length`,
//!    `public_key`, `key_id`) and never hold secrets;
//! 2. the **value**: templates, references, code, placeholders, file names, repetition
//!    ([`super::placeholder`]);
//! 3. **randomness**: Shannon entropy, the mix of character classes, and how much of the value
//!    is dictionary words ([`super::words`]).
//!
//! Random-looking values are reported at medium confidence; password-like values (long enough,
//! mixed, not word salad) at low, so they only show with `--confidence low`.

use super::{
    entropy::shannon, heuristics::heuristics, placeholder::placeholder_reason, words::word_coverage,
};
use crate::rules::Confidence;

/// Hex values shorter than this are usually short hashes or ids (`3bf4404734c82308`).
const SHORTEST_HEX_KEY: usize = 24;

/// The verdict on one generic candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenericVerdict {
    /// Report it, at most at this confidence.
    Keep(Confidence),
    /// Not a secret, and why.
    Reject(&'static str),
}

/// Judges a value assigned to `name` (when the signature captured one).
pub fn assess(name: Option<&[u8]>, value: &[u8]) -> GenericVerdict {
    if let Some(reason) = name.and_then(non_secret_name) {
        return GenericVerdict::Reject(reason);
    }
    if value.len() < 6 {
        return GenericVerdict::Reject("too short");
    }
    if let Some(reason) = placeholder_reason(value) {
        return GenericVerdict::Reject(reason);
    }
    if is_number_literal(value) {
        // `251658240i32`, `0x7fff_ffffu64`, `1e-9f64`: constants, however random the digits.
        return GenericVerdict::Reject("a number");
    }
    if value.starts_with(b"eyJ") && !value.contains(&b'.') {
        // Base64 of a JSON object without a JWT's signature: pagination tokens, state blobs.
        return GenericVerdict::Reject("base64-encoded JSON data");
    }
    let randomness = Randomness::of(value);
    if randomness.looks_random() {
        if randomness.looks_like_uuid || (randomness.hex_only && randomness.len < SHORTEST_HEX_KEY)
        {
            // UUIDs and short hex strings are identifiers and hashes far more often than keys.
            return GenericVerdict::Keep(Confidence::Low);
        }
        GenericVerdict::Keep(Confidence::Medium)
    } else if randomness.looks_like_password() {
        GenericVerdict::Keep(Confidence::Low)
    } else {
        GenericVerdict::Reject("not random enough")
    }
}

fn non_secret_name(name: &[u8]) -> Option<&'static str> {
    let lists = heuristics();
    let overridden = lists.secret_name_overrides.iter().any(|o| {
        let o = o.as_bytes();
        name.windows(o.len()).any(|w| w.eq_ignore_ascii_case(o))
    });
    if overridden {
        return None;
    }
    name_parts(name)
        .any(|part| lists.is_non_secret_name_part(part))
        .then_some("the name describes a secret's settings, not the secret")
}

/// The words of `clientSecretMaxLength` or `client_secret-max.length`: split on separators and
/// at lower-to-upper case changes, as slices of the name (compare them ignoring case).
fn name_parts(name: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let mut i = 0;
    std::iter::from_fn(move || {
        while i <= name.len() {
            let at = i;
            i += 1;
            let boundary = match name.get(at) {
                None => true,
                Some(b) if !b.is_ascii_alphanumeric() => true,
                Some(b) => {
                    b.is_ascii_uppercase()
                        && at > 0
                        && (name[at - 1].is_ascii_lowercase() || name[at - 1].is_ascii_digit())
                }
            };
            if boundary {
                let part = &name[start..at];
                start = if name.get(at).is_some_and(u8::is_ascii_alphanumeric) {
                    at
                } else {
                    at + 1
                };
                if !part.is_empty() {
                    return Some(part);
                }
            }
        }
        None
    })
}

/// Measurements of a value's randomness.
#[derive(Debug)]
struct Randomness {
    len: usize,
    entropy: f64,
    classes: u8,
    has_digit: bool,
    words: f64,
    hex_only: bool,
    looks_like_uuid: bool,
}

impl Randomness {
    fn of(value: &[u8]) -> Self {
        let has = |f: fn(&u8) -> bool| value.iter().any(f);
        let has_digit = has(u8::is_ascii_digit);
        let classes = [
            has(u8::is_ascii_lowercase),
            has(u8::is_ascii_uppercase),
            has_digit,
            has(|b| b.is_ascii_punctuation()),
        ]
        .iter()
        .filter(|&&x| x)
        .count() as u8;
        Randomness {
            len: value.len(),
            entropy: shannon(value),
            classes,
            has_digit,
            words: word_coverage(value),
            hex_only: value.iter().all(u8::is_ascii_hexdigit),
            looks_like_uuid: is_uuid(value),
        }
    }

    /// Machine-generated: long, high entropy for its length and alphabet, mixed, and not made
    /// of words.
    fn looks_random(&self) -> bool {
        let Some(floor) = entropy_floor(self.len, self.hex_only) else {
            return false;
        };
        self.entropy >= floor && self.classes >= 2 && self.has_digit && self.words < 0.5
    }

    /// Chosen by a person but plausibly real: long enough, mixed classes, not only words.
    fn looks_like_password(&self) -> bool {
        self.len >= 8 && self.classes >= 3 && self.entropy >= 2.5 && self.words < 0.75
    }
}

/// The entropy below which a value of `len` characters is unlikely to be random: about the
/// first percentile of uniformly random strings of that length (base62/base64, or hex), found
/// by simulation. Short strings cannot reach their alphabet's full entropy, hence the table.
fn entropy_floor(len: usize, hex_only: bool) -> Option<f64> {
    const BASE62: [(usize, f64); 7] = [
        (12, 2.9),
        (16, 3.2),
        (20, 3.5),
        (24, 3.7),
        (32, 4.0),
        (40, 4.2),
        (64, 4.5),
    ];
    const HEX: [(usize, f64); 6] = [
        (16, 2.6),
        (20, 2.8),
        (24, 3.0),
        (32, 3.2),
        (40, 3.3),
        (64, 3.5),
    ];
    let table: &[(usize, f64)] = if hex_only { &HEX } else { &BASE62 };
    table
        .iter()
        .rev()
        .find(|(min_len, _)| len >= *min_len)
        .map(|(_, floor)| *floor)
}

/// A numeric literal as code writes it: decimal, hex, octal or binary digits (with `_`
/// separators, a fraction or exponent), optionally followed by a type suffix (`i32`, `u64`,
/// `usize`, `f64`, `L`, `UL`, `n`, ...).
fn is_number_literal(value: &[u8]) -> bool {
    const SUFFIXES: &[&[u8]] = &[
        b"i8", b"i16", b"i32", b"i64", b"i128", b"isize", b"u8", b"u16", b"u32", b"u64", b"u128",
        b"usize", b"f32", b"f64", b"ull", b"ul", b"ll", b"l", b"u", b"f", b"d", b"m", b"n",
    ];
    let lower = value.to_ascii_lowercase();
    let (digits, radix_hex) = match lower.strip_prefix(b"0x") {
        Some(rest) => (rest, true),
        None => (
            lower
                .strip_prefix(b"0b")
                .or_else(|| lower.strip_prefix(b"0o"))
                .unwrap_or(&lower),
            false,
        ),
    };
    let is_digit = |b: &u8| {
        if radix_hex {
            b.is_ascii_hexdigit() || *b == b'_'
        } else {
            b.is_ascii_digit() || matches!(*b, b'_' | b'.' | b'e' | b'-' | b'+')
        }
    };
    let body_end = digits
        .iter()
        .position(|b| !is_digit(b))
        .unwrap_or(digits.len());
    let (body, suffix) = digits.split_at(body_end);
    // Hex digits swallow `f` and `d`; a hex literal's suffix must start with `u`, `i` or `l`.
    !body.is_empty()
        && body.first().is_some_and(u8::is_ascii_digit)
        && (suffix.is_empty() || SUFFIXES.contains(&suffix))
}

fn is_uuid(value: &[u8]) -> bool {
    value.len() == 36
        && value.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(name: &str, value: &str) -> GenericVerdict {
        assess(Some(name.as_bytes()), value.as_bytes())
    }

    #[test]
    fn random_values_under_secret_names_are_medium() {
        assert_eq!(
            verdict("api_key", "q8Zr2LxV0pTn4KmW7sYb"),
            GenericVerdict::Keep(Confidence::Medium)
        );
        assert_eq!(
            verdict("client_secret", "9f86d081884c7d659a2feaa0c55ad015"),
            GenericVerdict::Keep(Confidence::Medium)
        );
        assert_eq!(
            verdict("secret_id", "c3f1a9e2b7d04f6a8e5b4d2c1f0e9a8b"),
            GenericVerdict::Keep(Confidence::Medium)
        );
    }

    #[test]
    fn hand_made_passwords_are_low() {
        assert_eq!(
            verdict("password", "Summer2024!Fun"),
            GenericVerdict::Keep(Confidence::Low)
        );
        assert_eq!(
            verdict("db_password", "Winter#Rain71"),
            GenericVerdict::Keep(Confidence::Low)
        );
    }

    #[test]
    fn short_hex_is_low_and_base64_json_is_rejected() {
        assert_eq!(
            verdict("AccessKey", "3bf4404734c82308"),
            GenericVerdict::Keep(Confidence::Low)
        );
        assert!(matches!(
            verdict("token", "eyJOZXh0VG9rZW4iOiBudWxsfQ=="),
            GenericVerdict::Reject(_)
        ));
    }

    #[test]
    fn pagination_and_algorithm_settings_are_not_secrets() {
        for name in [
            "NextToken",
            "NextContinuationToken",
            "page_token",
            "csrf_token",
            "password_encryption",
        ] {
            assert!(
                matches!(
                    verdict(name, "q8Zr2LxV0pTn4KmW7sYb"),
                    GenericVerdict::Reject(_)
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn number_literals_are_not_secrets() {
        for value in [
            "251658240i32",
            "0x7fff_ffffu64",
            "18446744073709551615u64",
            "1e-9f64",
        ] {
            assert_eq!(
                verdict("X509CertificateTemplatePrivateKeyFlag", value),
                GenericVerdict::Reject("a number"),
                "{value}"
            );
        }
        assert_ne!(
            verdict("api_key", "9f8e7d6c5b4aZ3Y2X1W0v9u8"),
            GenericVerdict::Reject("a number")
        );
    }

    #[test]
    fn uuids_are_low() {
        assert_eq!(
            verdict("token", "3f0c8a52-9b1e-4d7a-a2c4-6e8f1b0d9c37"),
            GenericVerdict::Keep(Confidence::Low)
        );
    }

    #[test]
    fn settings_about_secrets_are_rejected() {
        for name in [
            "password_min_length",
            "token_type",
            "publicKey",
            "key_id",
            "secretName",
            "tokenUrl",
            "passwordHint",
        ] {
            assert!(
                matches!(
                    verdict(name, "q8Zr2LxV0pTn4KmW7sYb"),
                    GenericVerdict::Reject(_)
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn weak_or_placeholder_values_are_rejected() {
        for value in [
            "changeme",
            "hunter2",
            "mysecretpassword",
            "SuperSecretValue",
            "${TOKEN}",
            "abc123",
            "aaaaaaaaaaaa",
        ] {
            assert!(
                matches!(verdict("password", value), GenericVerdict::Reject(_)),
                "{value}"
            );
        }
    }

    #[test]
    fn names_split_on_case_and_separators() {
        let parts = |n: &'static str| {
            name_parts(n.as_bytes())
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            parts("clientSecretMaxLength"),
            ["client", "Secret", "Max", "Length"]
        );
        assert_eq!(parts("DB_PASSWORD"), ["DB", "PASSWORD"]);
        assert_eq!(parts("x-api-key.v2"), ["x", "api", "key", "v2"]);
        assert_eq!(parts("__a__"), ["a"]);
        assert!(parts("").is_empty());
    }
}
