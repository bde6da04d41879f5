//! The Google Cloud service-account check: a JWT assertion signed with the key file's private
//! key (RS256), exchanged for an access token at Google's OAuth 2.0 token endpoint (the JWT
//! bearer grant, RFC 7523). A token comes back only while the key exists and the account is
//! enabled; the token itself is discarded unread.
//!
//! The request goes to Google's documented host only (or to the base URL the user configured as
//! `gcp-oauth`). The key file's own `token_uri` is never used: a file found in a repository
//! must not decide where a signed assertion goes.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use ring::{rand::SystemRandom, signature::RsaKeyPair};

use super::{
    check::Method,
    client::{Answer, Prepared},
    Check, Context, Values, Verdict, Verification,
};

/// The check: the private key is the secret, `client_email` the named group beside it.
pub struct ServiceAccount;

impl Check for ServiceAccount {
    fn endpoint(&self) -> Option<(&str, &str)> {
        Some(("gcp-oauth", TOKEN_BASE))
    }

    fn needs(&self) -> Vec<String> {
        vec!["client_email".to_string()]
    }

    fn verify(&self, values: &Values, context: &Context<'_>) -> Result<Verification, String> {
        let email = values.get("client_email").ok_or("no client_email")?;
        let request = token_request(context.base, email, &values.secret)?;
        context.over_http(request, |answer| judge(answer, email))
    }
}

/// Google's OAuth 2.0 token endpoint host.
pub const TOKEN_BASE: &str = "https://oauth2.googleapis.com";
/// The narrowest scope that still proves the key: reading project metadata, nothing more (the
/// token is never used anyway).
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform.read-only";
/// How long the assertion is valid; Google accepts at most one hour.
const LIFETIME_SECONDS: u64 = 3600;
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The token request for the service account `client_email` whose private key is `key`, as
/// it appears in the JSON key file (PEM, newlines escaped as `\n`), sent to `base`.
pub fn token_request(base: &str, client_email: &str, key: &str) -> Result<Prepared, String> {
    let der = pkcs8_der(key)?;
    let key_pair = RsaKeyPair::from_pkcs8(&der)
        .map_err(|why| format!("the private key is not a usable RSA key ({why})"))?;
    let url = format!("{}/token", base.trim_end_matches('/'));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims = serde_json::json!({
        "iss": client_email,
        "scope": SCOPE,
        "aud": url,
        "iat": now,
        "exp": now + LIFETIME_SECONDS,
    });
    let assertion = sign_rs256(&key_pair, &claims)?;
    Ok(Prepared {
        method: Method::Post,
        url,
        headers: vec![(
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        )],
        body: Some(format!(
            "grant_type={}&assertion={assertion}",
            crate::net::percent_encode(GRANT_TYPE)
        )),
    })
}

/// `header.claims.signature`, each part base64url without padding (RFC 7515 compact form).
fn sign_rs256(key_pair: &RsaKeyPair, claims: &serde_json::Value) -> Result<String, String> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let signing_input = format!("{header}.{}", b64.encode(claims.to_string()));
    let mut signature = vec![0; key_pair.public().modulus_len()];
    key_pair
        .sign(
            &ring::signature::RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            signing_input.as_bytes(),
            &mut signature,
        )
        .map_err(|_| "signing the assertion failed")?;
    Ok(format!("{signing_input}.{}", b64.encode(signature)))
}

/// The DER bytes of a `-----BEGIN PRIVATE KEY-----` PEM block, with JSON's `\n` escapes or
/// real line breaks.
fn pkcs8_der(pem: &str) -> Result<Vec<u8>, String> {
    let text = pem.replace("\\n", "\n");
    let body = text
        .trim()
        .strip_prefix("-----BEGIN PRIVATE KEY-----")
        .and_then(|rest| rest.trim_end().strip_suffix("-----END PRIVATE KEY-----"))
        .ok_or("the private key is not a PKCS#8 PEM block")?;
    let base64: String = body.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(base64)
        .map_err(|_| "the private key's PEM body is not base64".to_string())
}

/// What the token endpoint's answer means: 200 with an access token is live; `invalid_grant`
/// (a deleted key or account, a signature from another key) or 401 (`invalid_client`) is not.
/// A complaint about the assertion's time says nothing about the key (this machine's clock is
/// off), so it is unknown.
pub fn judge(answer: &Answer, client_email: &str) -> Verification {
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
    let error = json["error"].as_str().unwrap_or_default();
    let description = json["error_description"].as_str().unwrap_or_default();
    let clock_problem = ["timeframe", "iat", "exp"]
        .iter()
        .any(|word| description.contains(word));
    let status = match answer.status {
        200 if json["access_token"].is_string() => Verdict::Live,
        400 if error == "invalid_grant" && !clock_problem => Verdict::Invalid,
        401 => Verdict::Invalid,
        _ => Verdict::Unknown,
    };
    Verification {
        status,
        identity: (status == Verdict::Live).then(|| client_email.to_string()),
        reason: (status == Verdict::Unknown).then(|| {
            let detail: String = format!("{error} {description}")
                .trim()
                .chars()
                .take(120)
                .collect();
            match detail.is_empty() {
                true => format!("the token endpoint answered {}", answer.status),
                false => format!("the token endpoint answered {} ({detail})", answer.status),
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: serde_json::Value) -> Answer {
        Answer {
            status,
            body: body.to_string().into_bytes(),
            location: None,
        }
    }

    #[test]
    fn token_answers_are_read() {
        let email = "ci@demo.iam.gserviceaccount.com";
        let live = judge(
            &answer(
                200,
                serde_json::json!({"access_token": "ya29.x", "expires_in": 3599}),
            ),
            email,
        );
        assert_eq!(
            (live.status, live.identity.as_deref()),
            (Verdict::Live, Some(email))
        );
        let deleted = serde_json::json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."});
        assert_eq!(judge(&answer(400, deleted), email).status, Verdict::Invalid);
        assert_eq!(
            judge(
                &answer(401, serde_json::json!({"error": "invalid_client"})),
                email
            )
            .status,
            Verdict::Invalid
        );
        let clock = serde_json::json!({"error": "invalid_grant", "error_description": "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe."});
        let unknown = judge(&answer(400, clock), email);
        assert_eq!(unknown.status, Verdict::Unknown);
        assert!(unknown.reason.unwrap().contains("timeframe"));
        assert_eq!(
            judge(&answer(200, serde_json::json!({})), email).status,
            Verdict::Unknown
        );
    }

    #[test]
    fn pem_blocks_are_read_with_escaped_or_real_newlines() {
        let escaped = "-----BEGIN PRIVATE KEY-----\\nAAEC\\nAwQ=\\n-----END PRIVATE KEY-----\\n";
        assert_eq!(pkcs8_der(escaped).unwrap(), [0, 1, 2, 3, 4]);
        let real = "-----BEGIN PRIVATE KEY-----\nAAEC\nAwQ=\n-----END PRIVATE KEY-----";
        assert_eq!(pkcs8_der(real).unwrap(), [0, 1, 2, 3, 4]);
        assert!(pkcs8_der("-----BEGIN RSA PRIVATE KEY-----\\nAAEC\\n").is_err());
        assert!(pkcs8_der("-----BEGIN PRIVATE KEY-----\\n!!\\n-----END PRIVATE KEY-----").is_err());
    }

    #[test]
    fn a_key_that_is_not_rsa_is_refused_without_a_request() {
        let garbage =
            "-----BEGIN PRIVATE KEY-----\\nAAECAwQFBgcICQ==\\n-----END PRIVATE KEY-----\\n";
        let why = token_request(TOKEN_BASE, "a@b.iam.gserviceaccount.com", garbage)
            .err()
            .unwrap();
        assert!(why.contains("not a usable RSA key"), "{why}");
    }
}
