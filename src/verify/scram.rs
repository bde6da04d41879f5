//! The client side of SCRAM (RFC 5802) without channel binding: SCRAM-SHA-256 (RFC 7677) as
//! PostgreSQL and MongoDB speak it, and SCRAM-SHA-1 for MongoDB users that only have that.

use std::num::NonZeroU32;

use base64::Engine as _;
use ring::{digest, hmac, pbkdf2};

/// The hash a SCRAM mechanism is named after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScramHash {
    /// SCRAM-SHA-1.
    Sha1,
    /// SCRAM-SHA-256.
    Sha256,
}

impl ScramHash {
    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        let algorithm = match self {
            ScramHash::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            ScramHash::Sha256 => hmac::HMAC_SHA256,
        };
        hmac::sign(&hmac::Key::new(algorithm, key), data)
            .as_ref()
            .to_vec()
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        let algorithm = match self {
            ScramHash::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            ScramHash::Sha256 => &digest::SHA256,
        };
        digest::digest(algorithm, data).as_ref().to_vec()
    }

    fn salted_password(self, password: &[u8], salt: &[u8], iterations: NonZeroU32) -> Vec<u8> {
        let (algorithm, length) = match self {
            ScramHash::Sha1 => (pbkdf2::PBKDF2_HMAC_SHA1, 20),
            ScramHash::Sha256 => (pbkdf2::PBKDF2_HMAC_SHA256, 32),
        };
        let mut out = vec![0; length];
        pbkdf2::derive(algorithm, iterations, salt, password, &mut out);
        out
    }
}

/// PBKDF2 iterations beyond this are refused: a hostile server could ask for billions.
const MAX_ITERATIONS: u32 = 100_000;

/// One exchange: the hash, the user name and this side's nonce.
pub struct ScramClient {
    hash: ScramHash,
    user: String,
    nonce: String,
    /// The server's signature the final answer must carry, once the proof is sent.
    server_signature: Option<Vec<u8>>,
}

impl ScramClient {
    /// A SCRAM-SHA-256 client for `user` (empty when the protocol names the user elsewhere)
    /// with a fresh random nonce.
    pub fn new(user: &str) -> Self {
        Self::with_hash(ScramHash::Sha256, user)
    }

    /// A client of the mechanism named after `hash`.
    pub fn with_hash(hash: ScramHash, user: &str) -> Self {
        let mut random = random_bytes().to_vec();
        random.extend_from_slice(&random_bytes()[..6]);
        Self::with_nonce(
            hash,
            user,
            &base64::engine::general_purpose::STANDARD.encode(random),
        )
    }

    fn with_nonce(hash: ScramHash, user: &str, nonce: &str) -> Self {
        ScramClient {
            hash,
            // RFC 5802: ',' and '=' in the name are written =2C and =3D.
            user: user.replace('=', "=3D").replace(',', "=2C"),
            nonce: nonce.to_string(),
            server_signature: None,
        }
    }

    fn first_bare(&self) -> String {
        format!("n={},r={}", self.user, self.nonce)
    }

    /// `client-first-message`.
    pub fn first_message(&self) -> String {
        format!("n,,{}", self.first_bare())
    }

    /// `client-final-message` with the proof of `password`, for the server's first message.
    pub fn final_message(&mut self, server_first: &str, password: &str) -> Result<String, String> {
        let field = |name: &str| {
            server_first
                .split(',')
                .find_map(|part| part.strip_prefix(&format!("{name}=")))
                .ok_or_else(|| format!("SCRAM: no {name} in the server's message"))
        };
        let nonce = field("r")?;
        if !nonce.starts_with(&self.nonce) {
            return Err("SCRAM: the server's nonce does not extend ours".into());
        }
        let salt = base64::engine::general_purpose::STANDARD
            .decode(field("s")?)
            .map_err(|_| "SCRAM: bad salt")?;
        let iterations: u32 = field("i")?
            .parse()
            .map_err(|_| "SCRAM: bad iteration count")?;
        let iterations = NonZeroU32::new(iterations)
            .filter(|i| i.get() <= MAX_ITERATIONS)
            .ok_or_else(|| format!("SCRAM: refusing {iterations} iterations"))?;
        let hash = self.hash;
        let salted = hash.salted_password(password.as_bytes(), &salt, iterations);
        let client_key = hash.hmac(&salted, b"Client Key");
        let stored_key = hash.digest(&client_key);
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.first_bare());
        let signature = hash.hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(signature.iter())
            .map(|(k, s)| k ^ s)
            .collect();
        let server_key = hash.hmac(&salted, b"Server Key");
        self.server_signature = Some(hash.hmac(&server_key, auth_message.as_bytes()));
        Ok(format!(
            "{without_proof},p={}",
            base64::engine::general_purpose::STANDARD.encode(proof)
        ))
    }

    /// Whether the server's final message (`v=...`) proves it knew the password too.
    pub fn server_is_genuine(&self, server_final: &str) -> bool {
        let Some(expected) = &self.server_signature else {
            return false;
        };
        server_final
            .split(',')
            .find_map(|part| part.strip_prefix("v="))
            .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
            .is_some_and(|v| v == *expected)
    }
}

/// 18 unpredictable bytes from the operating system's generator.
pub(super) fn random_bytes() -> [u8; 18] {
    use ring::rand::SecureRandom as _;
    let mut out = [0u8; 18];
    if ring::rand::SystemRandom::new().fill(&mut out).is_err() {
        // No system generator: fall back to the process's random SipHash keys and the time.
        use std::hash::{BuildHasher, Hasher};
        for (i, chunk) in out.chunks_mut(8).enumerate() {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_usize(i);
            hasher.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            let value = hasher.finish().to_le_bytes();
            chunk.copy_from_slice(&value[..chunk.len()]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677's example exchange (user "user", password "pencil"), message for message.
    #[test]
    fn scram_sha_256_matches_rfc_7677() {
        let mut client = ScramClient::with_nonce(ScramHash::Sha256, "user", "rOprNGfwEbeRWgbNEkqO");
        assert_eq!(client.first_message(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        assert_eq!(
            client.final_message(server_first, "pencil").unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        assert!(client.server_is_genuine("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
        assert!(!client.server_is_genuine("v=AAAA"));
    }

    /// RFC 5802's example exchange for SCRAM-SHA-1 (user "user", password "pencil").
    #[test]
    fn scram_sha_1_matches_rfc_5802() {
        let mut client =
            ScramClient::with_nonce(ScramHash::Sha1, "user", "fyko+d2lbbFgONRv9qkxdawL");
        assert_eq!(
            client.first_message(),
            "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"
        );
        let server_first = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
        assert_eq!(
            client.final_message(server_first, "pencil").unwrap(),
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
        );
        assert!(client.server_is_genuine("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="));
    }

    #[test]
    fn hostile_servers_are_refused() {
        let mut client = ScramClient::with_nonce(ScramHash::Sha256, "user", "rOprNGfwEbeRWgbNEkqO");
        assert!(client.final_message("r=other,s=AAAA,i=4096", "x").is_err());
        assert!(client
            .final_message("r=rOprNGfwEbeRWgbNEkqOabc,s=AAAA,i=999999999", "x")
            .is_err());
        assert!(!client.server_is_genuine("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
    }

    #[test]
    fn user_names_are_escaped() {
        let client = ScramClient::with_nonce(ScramHash::Sha256, "a=b,c", "n");
        assert_eq!(client.first_message(), "n,,n=a=3Db=2Cc,r=n");
    }

    #[test]
    fn nonces_differ() {
        assert_ne!(random_bytes(), random_bytes());
    }
}
