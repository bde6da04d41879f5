//! Finding fingerprints: stable ids for baselines, deduplication across runs and SARIF.

use sha2::{Digest, Sha256};

/// Version tag mixed into every fingerprint, so a future change of scheme cannot collide with
/// fingerprints recorded today.
const SCHEME: &[u8] = b"keysift-finding-v1";

/// `sha256(scheme, signature id, secret, location)` as 32 hex characters.
///
/// The location is the origin's path (see [`crate::sources::Origin::location_key`]), not its
/// line, so a fingerprint survives edits that move the secret within its file. Fields are
/// length-prefixed so that no two different inputs hash the same bytes.
pub fn fingerprint(signature_id: &str, secret: &[u8], location: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(SCHEME);
    for part in [signature_id.as_bytes(), secret, location.as_bytes()] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::fingerprint;

    #[test]
    fn fingerprints_are_stable() {
        // Pinned: a change here invalidates every baseline users have recorded.
        assert_eq!(
            fingerprint("github.pat.classic", b"ghp_example", "src/app.py"),
            fingerprint("github.pat.classic", b"ghp_example", "src/app.py")
        );
        assert_eq!(
            fingerprint("a.b", b"s", "p"),
            "b59bef2c73605ec1bc0303744c0cdbf4"
        );
    }

    #[test]
    fn every_part_matters() {
        let base = fingerprint("a.b", b"secret", "path");
        assert_ne!(base, fingerprint("a.c", b"secret", "path"));
        assert_ne!(base, fingerprint("a.b", b"secreT", "path"));
        assert_ne!(base, fingerprint("a.b", b"secret", "path2"));
        // Length prefixes keep field boundaries apart.
        assert_ne!(
            fingerprint("a.b", b"xy", "z"),
            fingerprint("a.b", b"x", "yz")
        );
    }
}
