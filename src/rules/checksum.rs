//! Validators for the checksums and internal structure that some token formats carry.
//!
//! A valid checksum turns a pattern match into a near-certain secret; an invalid one marks a
//! look-alike (a documentation placeholder, a truncated or hand-edited token) that is rejected.

use base64::Engine as _;
use serde::Deserialize;

/// A checksum or structural validator named in a signature's `checksum` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChecksumKind {
    /// `prefix_` + random base62 + 6 base62 digits of the CRC-32 (IEEE) of the random part.
    /// GitHub's 2021 token formats (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) and npm's
    /// (`npm_`) use it. The prefix runs up to the first `_` and is not covered by the checksum.
    Base62Crc32,
    /// `prefix_` + random part + `_` + the CRC-32 (IEEE) of everything before the last `_`
    /// (prefix included), as 8 lowercase hex digits of its little-endian bytes. Grafana
    /// service-account tokens (`glsa_`) use it.
    HexCrc32Suffix,
    /// A JSON Web Token: three base64url parts, the first two decoding to JSON objects and the
    /// header naming an `alg`.
    Jwt,
    /// Base64 of `user:password` (HTTP Basic credentials, Docker `config.json` `auth` fields):
    /// decodes to printable text with a non-empty user and password.
    Base64Credentials,
}

impl ChecksumKind {
    /// Whether `secret` satisfies this validator.
    pub fn is_valid(self, secret: &[u8]) -> bool {
        match self {
            ChecksumKind::Base62Crc32 => base62_crc32_is_valid(secret),
            ChecksumKind::HexCrc32Suffix => hex_crc32_suffix_is_valid(secret),
            ChecksumKind::Jwt => jwt_is_well_formed(secret),
            ChecksumKind::Base64Credentials => base64_credentials_are_well_formed(secret),
        }
    }

    /// The name used in signature files.
    pub fn as_str(self) -> &'static str {
        match self {
            ChecksumKind::Base62Crc32 => "base62-crc32",
            ChecksumKind::HexCrc32Suffix => "hex-crc32-suffix",
            ChecksumKind::Jwt => "jwt",
            ChecksumKind::Base64Credentials => "base64-credentials",
        }
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE62_CHECKSUM_LEN: usize = 6;

/// Encodes `value` as `width` base62 digits, most significant first, zero-padded.
pub fn base62_encode(mut value: u64, width: usize) -> String {
    let mut digits = vec![b'0'; width];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(digits).expect("base62 digits are ASCII")
}

fn base62_crc32_is_valid(secret: &[u8]) -> bool {
    let Some(underscore) = secret.iter().position(|&b| b == b'_') else {
        return false;
    };
    let body = &secret[underscore + 1..];
    if body.len() <= BASE62_CHECKSUM_LEN {
        return false;
    }
    let (random, checksum) = body.split_at(body.len() - BASE62_CHECKSUM_LEN);
    let expected = base62_encode(u64::from(crc32fast::hash(random)), BASE62_CHECKSUM_LEN);
    checksum == expected.as_bytes()
}

fn hex_crc32_suffix_is_valid(secret: &[u8]) -> bool {
    let Some(last) = secret.iter().rposition(|&b| b == b'_') else {
        return false;
    };
    let (covered, checksum) = (&secret[..last], &secret[last + 1..]);
    checksum == format!("{:08x}", crc32fast::hash(covered).swap_bytes()).as_bytes()
}

fn jwt_is_well_formed(secret: &[u8]) -> bool {
    let mut parts = secret.split(|&b| b == b'.');
    let (Some(header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let decode_object = |part: &[u8]| -> Option<serde_json::Map<String, serde_json::Value>> {
        let trimmed = part
            .strip_suffix(b"==")
            .or(part.strip_suffix(b"="))
            .unwrap_or(part);
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(trimmed)
            .ok()?;
        match serde_json::from_slice(&bytes).ok()? {
            serde_json::Value::Object(map) => Some(map),
            _ => None,
        }
    };
    let Some(header) = decode_object(header) else {
        return false;
    };
    header.get("alg").is_some_and(|alg| alg.is_string()) && decode_object(payload).is_some()
}

fn base64_credentials_are_well_formed(secret: &[u8]) -> bool {
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(secret) else {
        return false;
    };
    let printable = decoded.iter().all(|b| (0x20..0x7f).contains(b));
    let colon = decoded.iter().position(|&b| b == b':');
    printable && colon.is_some_and(|i| i > 0 && i + 1 < decoded.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a token with a correct base62 CRC-32 checksum, as the providers do.
    fn base62_token(prefix: &str, random: &str) -> String {
        let checksum = base62_encode(u64::from(crc32fast::hash(random.as_bytes())), 6);
        format!("{prefix}{random}{checksum}")
    }

    #[test]
    fn base62_encoding_pads_and_orders_digits() {
        assert_eq!(base62_encode(0, 6), "000000");
        assert_eq!(base62_encode(61, 6), "00000z");
        assert_eq!(base62_encode(62, 6), "000010");
        assert_eq!(base62_encode(u64::from(u32::MAX), 6), "4gfFC3");
    }

    #[test]
    fn base62_crc32_accepts_correct_and_rejects_altered_tokens() {
        let token = base62_token("ghp_", "Qm7sK2pLx9VbT4nRw8YcZ1aHd5Ge3F");
        assert_eq!(token.len(), 40);
        assert!(ChecksumKind::Base62Crc32.is_valid(token.as_bytes()));

        let mut altered = token.clone().into_bytes();
        altered[10] = if altered[10] == b'a' { b'b' } else { b'a' };
        assert!(!ChecksumKind::Base62Crc32.is_valid(&altered));
        assert!(!ChecksumKind::Base62Crc32.is_valid(b"ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
        assert!(!ChecksumKind::Base62Crc32.is_valid(b"no-underscore"));
        assert!(!ChecksumKind::Base62Crc32.is_valid(b"ghp_abc"));
    }

    #[test]
    fn hex_crc32_suffix_covers_the_prefix() {
        let covered = "glsa_Zq4vN8bT2mKx7LwP9cRd3HsY6fJe1AuG";
        let little_endian = crc32fast::hash(covered.as_bytes()).swap_bytes();
        let token = format!("{covered}_{little_endian:08x}");
        assert!(ChecksumKind::HexCrc32Suffix.is_valid(token.as_bytes()));
        let wrong = format!("{covered}_00000000");
        assert!(!ChecksumKind::HexCrc32Suffix.is_valid(wrong.as_bytes()));
        assert!(!ChecksumKind::HexCrc32Suffix.is_valid(b"nounderscore"));
    }

    #[test]
    fn base64_credentials_need_user_and_password() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert!(ChecksumKind::Base64Credentials.is_valid(b64("deploy:Zq4vN8bT2m").as_bytes()));
        assert!(!ChecksumKind::Base64Credentials.is_valid(b64("deploy:").as_bytes()));
        assert!(!ChecksumKind::Base64Credentials.is_valid(b64(":secret").as_bytes()));
        assert!(!ChecksumKind::Base64Credentials.is_valid(b64("no colon here").as_bytes()));
        assert!(!ChecksumKind::Base64Credentials.is_valid(b"not base64!"));
        assert!(!ChecksumKind::Base64Credentials.is_valid(b64("bin\u{1}:x").as_bytes()));
    }

    #[test]
    fn jwt_requires_json_header_with_alg_and_json_payload() {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let good = format!(
            "{}.{}.c2lnbmF0dXJl",
            b64(r#"{"alg":"HS256","typ":"JWT"}"#),
            b64(r#"{"sub":"42"}"#)
        );
        assert!(ChecksumKind::Jwt.is_valid(good.as_bytes()));

        let no_alg = format!(
            "{}.{}.c2ln",
            b64(r#"{"typ":"JWT"}"#),
            b64(r#"{"sub":"42"}"#)
        );
        assert!(!ChecksumKind::Jwt.is_valid(no_alg.as_bytes()));
        let not_json = format!("{}.{}.c2ln", b64("hello"), b64(r#"{"sub":"42"}"#));
        assert!(!ChecksumKind::Jwt.is_valid(not_json.as_bytes()));
        assert!(!ChecksumKind::Jwt.is_valid(b"a.b"));
        assert!(!ChecksumKind::Jwt.is_valid(b"a.b.c.d"));
    }
}
