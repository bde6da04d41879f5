//! The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding, as
//! PostgreSQL and MongoDB speak it.

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::aws::hmac;

/// PBKDF2 iterations beyond this are refused: a hostile server could ask for billions.
const MAX_ITERATIONS: u32 = 100_000;

/// One exchange: the user name and this side's nonce.
pub struct ScramClient {
    user: String,
    nonce: String,
    /// The server's signature the final answer must carry, once the proof is sent.
    server_signature: Option<[u8; 32]>,
}

impl ScramClient {
    /// A client for `user` (empty when the protocol names the user elsewhere) with a fresh
    /// random nonce.
    pub fn new(user: &str) -> Self {
        let mut random = random_bytes().to_vec();
        random.extend_from_slice(&random_bytes()[..6]);
        Self::with_nonce(
            user,
            &base64::engine::general_purpose::STANDARD.encode(random),
        )
    }

    fn with_nonce(user: &str, nonce: &str) -> Self {
        ScramClient {
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
        if iterations == 0 || iterations > MAX_ITERATIONS {
            return Err(format!("SCRAM: refusing {iterations} iterations"));
        }
        let salted = pbkdf2_sha256(password.as_bytes(), &salt, iterations);
        let client_key = hmac(&salted, b"Client Key");
        let stored_key = Sha256::digest(client_key);
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.first_bare());
        let signature = hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(signature.iter())
            .map(|(k, s)| k ^ s)
            .collect();
        let server_key = hmac(&salted, b"Server Key");
        self.server_signature = Some(hmac(&server_key, auth_message.as_bytes()));
        Ok(format!(
            "{without_proof},p={}",
            base64::engine::general_purpose::STANDARD.encode(proof)
        ))
    }

    /// Whether the server's final message (`v=...`) proves it knew the password too.
    pub fn server_is_genuine(&self, server_final: &str) -> bool {
        let Some(expected) = self.server_signature else {
            return false;
        };
        server_final
            .split(',')
            .find_map(|part| part.strip_prefix("v="))
            .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
            .is_some_and(|v| v == expected)
    }
}

/// PBKDF2-HMAC-SHA256 with one output block (32 bytes), as SCRAM-SHA-256 uses it.
fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut block = salt.to_vec();
    block.extend_from_slice(&1u32.to_be_bytes());
    let mut u = hmac(password, &block);
    let mut out = u;
    for _ in 1..iterations {
        u = hmac(password, &u);
        for (o, b) in out.iter_mut().zip(u.iter()) {
            *o ^= b;
        }
    }
    out
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
        let mut client = ScramClient::with_nonce("user", "rOprNGfwEbeRWgbNEkqO");
        assert_eq!(client.first_message(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        assert_eq!(
            client.final_message(server_first, "pencil").unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        assert!(client.server_is_genuine("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
        assert!(!client.server_is_genuine("v=AAAA"));
    }

    #[test]
    fn hostile_servers_are_refused() {
        let mut client = ScramClient::with_nonce("user", "rOprNGfwEbeRWgbNEkqO");
        assert!(client.final_message("r=other,s=AAAA,i=4096", "x").is_err());
        assert!(client
            .final_message("r=rOprNGfwEbeRWgbNEkqOabc,s=AAAA,i=999999999", "x")
            .is_err());
        assert!(!client.server_is_genuine("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
    }

    #[test]
    fn user_names_are_escaped() {
        let client = ScramClient::with_nonce("a=b,c", "n");
        assert_eq!(client.first_message(), "n,,n=a=3Db=2Cc,r=n");
    }

    #[test]
    fn nonces_differ() {
        assert_ne!(random_bytes(), random_bytes());
    }
}
