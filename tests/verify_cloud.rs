//! The typed cloud checks against loopback stand-ins that do what the providers do: the Google
//! token endpoint verifies the JWT assertion's RS256 signature with the public key and checks
//! its claims; the Azure Blob service recomputes the Shared Key signature.

mod common;

use std::{path::Path, process::Command};

use base64::Engine as _;
use common::{
    http::{Request, Response, Server},
    scan_json, Run, Tree,
};
use serde_json::{json, Value};

fn scan(tree: &Tree, args: &[&str]) -> (Run, Vec<Value>) {
    let run = scan_json(tree.path(), args);
    let json: Value = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
    let findings = json["findings"].as_array().cloned().unwrap_or_default();
    (run, findings)
}

fn finding<'a>(findings: &'a [Value], signature: &str, file: &str) -> &'a Value {
    findings
        .iter()
        .find(|f| f["signature_id"] == signature && f["path"].as_str().unwrap().ends_with(file))
        .unwrap_or_else(|| panic!("no {signature} finding in {file}: {findings:#?}"))
}

// ---------------------------------------------------------------------------------------------
// Google Cloud service accounts

/// A throwaway RSA key made for this test run: its PKCS#8 PEM and its PKCS#1 public key (DER),
/// both written by openssl, so the check's signing and the server's verifying share no code.
struct TestKey {
    pem: String,
    public_der: Vec<u8>,
}

fn openssl_key(dir: &Path, name: &str) -> TestKey {
    let pem_path = dir.join(format!("{name}.pem"));
    let der_path = dir.join(format!("{name}.pub.der"));
    let status = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&pem_path)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl is needed to make test keys");
    assert!(status.success());
    let status = Command::new("openssl")
        .args(["rsa", "-RSAPublicKey_out", "-outform", "DER", "-in"])
        .arg(&pem_path)
        .arg("-out")
        .arg(&der_path)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    TestKey {
        pem: std::fs::read_to_string(pem_path).unwrap(),
        public_der: std::fs::read(der_path).unwrap(),
    }
}

/// A key file laid out as Google's console writes one; the key is a test key made above.
fn key_file(key: &TestKey, email: &str, token_uri: &str) -> String {
    let private_key = key.pem.trim_end().replace('\n', "\\n") + "\\n";
    format!(
        "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"keysift-test\",\n  \
         \"private_key_id\": \"4f1c2b7e9a0d3c5b6e8f7a9b0c1d2e3f4a5b6c7d\",\n  \
         \"private_key\": \"{private_key}\",\n  \"client_email\": \"{email}\",\n  \
         \"client_id\": \"100000000000000000001\",\n  \
         \"auth_uri\": \"https://accounts.google.com/o/oauth2/auth\",\n  \
         \"token_uri\": \"{token_uri}\"\n}}\n"
    )
}

const LIVE_EMAIL: &str = "deployer@keysift-test.iam.gserviceaccount.com";

/// Google's token endpoint as far as the check can tell: a JWT bearer grant whose assertion is
/// signed by the one key it knows, with the claims Google requires.
fn token_endpoint(public_der: Vec<u8>) -> Server {
    let port_cell = std::sync::Arc::new(std::sync::OnceLock::<u16>::new());
    let port = port_cell.clone();
    let server = Server::start(move |request: &Request, _| {
        let form = String::from_utf8_lossy(&request.body).into_owned();
        let field = |name: &str| {
            form.split('&')
                .find_map(|p| p.strip_prefix(&format!("{name}=")))
                .unwrap_or_default()
                .to_string()
        };
        let well_formed = request.method == "POST"
            && request.path == "/token"
            && request.headers["content-type"] == "application/x-www-form-urlencoded"
            && field("grant_type") == "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";
        let assertion = field("assertion");
        let parts: Vec<&str> = assertion.split('.').collect();
        if !well_formed || parts.len() != 3 {
            return Response::json(400, json!({ "error": "invalid_request" }));
        }
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
        let claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        let signature = b64.decode(parts[2]).unwrap();
        let key = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            &public_der,
        );
        let signed = format!("{}.{}", parts[0], parts[1]);
        if key.verify(signed.as_bytes(), &signature).is_err() {
            return Response::json(
                400,
                json!({ "error": "invalid_grant", "error_description": "Invalid JWT Signature." }),
            );
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let iat = claims["iat"].as_i64().unwrap_or(0);
        let claims_ok = header["alg"] == "RS256"
            && claims["iss"] == LIVE_EMAIL
            && claims["aud"] == format!("http://127.0.0.1:{}/token", port.get().unwrap())
            && claims["scope"] == "https://www.googleapis.com/auth/cloud-platform.read-only"
            && claims["exp"].as_i64().unwrap_or(0) - iat == 3600
            && (now - iat).abs() < 60;
        if !claims_ok {
            return Response::json(400, json!({ "error": "bad_claims", "claims": claims }));
        }
        Response::json(
            200,
            json!({ "access_token": "ya29.test-only", "expires_in": 3599, "token_type": "Bearer" }),
        )
    });
    port_cell.set(server.port).unwrap();
    server
}

#[test]
fn gcp_service_account_keys_are_exchanged_for_a_token() {
    let keys = Tree::new();
    let live = openssl_key(keys.path(), "live");
    let deleted = openssl_key(keys.path(), "deleted");
    let server = token_endpoint(live.public_der.clone());
    // The key file's token_uri points at a server of its own: it must never be asked.
    let decoy = Server::start(|_, _| Response::json(200, json!({ "access_token": "stolen" })));
    let decoy_uri = format!("{}/token", decoy.url());

    let tree = Tree::new();
    tree.write("live.json", key_file(&live, LIVE_EMAIL, &decoy_uri));
    tree.write("deleted.json", key_file(&deleted, LIVE_EMAIL, &decoy_uri));
    let endpoint = format!("gcp-oauth={}", server.url());
    let (run, findings) = scan(&tree, &["--verify", "--verify-endpoint", &endpoint]);
    assert_eq!(run.code, 1, "{}", run.stderr);

    let live_finding = finding(&findings, "gcp.service-account.private-key", "live.json");
    assert_eq!(
        live_finding["verification"]["status"], "live",
        "{live_finding:#}"
    );
    assert_eq!(live_finding["verification"]["identity"], LIVE_EMAIL);
    let deleted_finding = finding(&findings, "gcp.service-account.private-key", "deleted.json");
    assert_eq!(
        deleted_finding["verification"]["status"], "invalid",
        "{deleted_finding:#}"
    );

    assert_eq!(server.requests().len(), 2);
    assert_eq!(
        decoy.requests().len(),
        0,
        "the file's token_uri is never used"
    );
    let key_body = live.pem.lines().nth(3).unwrap();
    assert!(!run.stdout.contains(key_body) && !run.stderr.contains(key_body));
}

#[test]
fn gcp_keys_that_cannot_be_checked_say_why() {
    let tree = Tree::new();
    // A PEM-shaped key that is not a key, and a real-looking key without its client_email.
    let not_a_key = format!(
        "{{\"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{}-----END PRIVATE KEY-----\\n\", \
         \"client_email\": \"x@keysift-test.iam.gserviceaccount.com\"}}\n",
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\\n".repeat(9)
    );
    tree.write("broken.json", not_a_key);
    let keys = Tree::new();
    let key = openssl_key(keys.path(), "alone");
    tree.write(
        "alone.json",
        format!(
            "{{\"private_key\": \"{}\"}}\n",
            key.pem.trim_end().replace('\n', "\\n")
        ),
    );
    let server = Server::start(|_, _| Response::json(500, json!({})));
    let endpoint = format!("gcp-oauth={}", server.url());
    let (run, findings) = scan(&tree, &["--verify", "--verify-endpoint", &endpoint]);
    let broken = finding(&findings, "gcp.service-account.private-key", "broken.json");
    assert_eq!(
        broken["verification"]["status"], "unknown",
        "{}",
        run.stderr
    );
    assert!(broken["verification"]["reason"]
        .as_str()
        .unwrap()
        .contains("not a usable RSA key"));
    let alone = finding(&findings, "gcp.service-account.private-key", "alone.json");
    assert_eq!(alone["verification"]["status"], "unknown");
    assert!(alone["verification"]["reason"]
        .as_str()
        .unwrap()
        .contains("client_email"));
    assert_eq!(
        server.requests().len(),
        0,
        "nothing to ask without a signed assertion"
    );
}

// ---------------------------------------------------------------------------------------------
// Azure Storage

/// Synthetic account keys (64 bytes each, as Azure's are): one the service knows, one it does
/// not.
fn account_key(byte: u8) -> String {
    let bytes: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37) ^ byte).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The Blob service of account `keysifttest`: it rebuilds the Shared Key string to sign from
/// the request as received and checks the HMAC with the account's key.
fn blob_service(key: String) -> Server {
    Server::start(move |request: &Request, _| {
        let auth = request
            .headers
            .get("authorization")
            .cloned()
            .unwrap_or_default();
        let Some((account, signature)) = auth
            .strip_prefix("SharedKey ")
            .and_then(|rest| rest.split_once(':'))
        else {
            return Response::new(400, "no shared key");
        };
        let (path, query) = request.path.split_once('?').unwrap_or((&request.path, ""));
        let mut parameters: Vec<(String, String)> = query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(n, v)| (n.to_lowercase(), v.to_string()))
            .collect();
        parameters.sort();
        let mut resource = format!("/{account}{path}");
        for (name, value) in &parameters {
            resource.push_str(&format!("\n{name}:{value}"));
        }
        let mut ms: Vec<(&String, &String)> = request
            .headers
            .iter()
            .filter(|(n, _)| n.starts_with("x-ms-"))
            .collect();
        ms.sort();
        let headers: String = ms.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
        let to_sign = format!(
            "{}\n\n\n\n\n\n\n\n\n\n\n\n{headers}{resource}",
            request.method
        );
        let hmac_key = ring::hmac::Key::new(
            ring::hmac::HMAC_SHA256,
            &base64::engine::general_purpose::STANDARD
                .decode(&key)
                .unwrap(),
        );
        let expected = base64::engine::general_purpose::STANDARD
            .encode(ring::hmac::sign(&hmac_key, to_sign.as_bytes()).as_ref());
        let shape_ok = request.method == "GET"
            && request.path == "/?comp=properties&restype=service"
            && request.headers.contains_key("x-ms-date")
            && request.headers.contains_key("x-ms-version")
            && account == "keysifttest";
        if !shape_ok {
            return Response::new(400, "malformed");
        }
        if signature == expected {
            Response::new(200, "<StorageServiceProperties></StorageServiceProperties>")
        } else {
            Response::new(
                403,
                "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request.</Message></Error>",
            )
            .header("x-ms-error-code", "AuthenticationFailed")
        }
    })
}

#[test]
fn azure_storage_keys_sign_a_read_of_the_service_properties() {
    let live_key = account_key(0x5a);
    let rotated_key = account_key(0xc3);
    let server = blob_service(live_key.clone());
    let tree = Tree::new();
    let connection = |key: &str| {
        format!("DefaultEndpointsProtocol=https;AccountName=keysifttest;AccountKey={key};EndpointSuffix=core.windows.net\n")
    };
    tree.write("live.env", connection(&live_key));
    tree.write("rotated.env", connection(&rotated_key));
    let endpoint = format!("azure-storage={}", server.url());
    let (run, findings) = scan(&tree, &["--verify", "--verify-endpoint", &endpoint]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let live = finding(&findings, "azure.storage.connection-string", "live.env");
    assert_eq!(live["verification"]["status"], "live", "{live:#}");
    assert_eq!(
        live["verification"]["identity"],
        "storage account keysifttest"
    );
    let rotated = finding(&findings, "azure.storage.connection-string", "rotated.env");
    assert_eq!(rotated["verification"]["status"], "invalid", "{rotated:#}");
    assert_eq!(server.requests().len(), 2);
    assert!(!run.stdout.contains(&live_key[..20]) && !run.stderr.contains(&live_key[..20]));

    // The account named by the variable before the key is the same pair.
    let env = Tree::new();
    env.write(
        "azure.env",
        format!("export AZURE_STORAGE_ACCOUNT=keysifttest\nexport AZURE_STORAGE_KEY={live_key}\n"),
    );
    let (_, findings) = scan(
        &env,
        &[
            "--verify",
            "--verify-endpoint",
            &format!("azure-storage={}", server.url()),
        ],
    );
    let live = finding(&findings, "azure.storage.account-key", "azure.env");
    assert_eq!(live["verification"]["status"], "live", "{live:#}");
    assert_eq!(server.requests().len(), 3);

    // Throttled and failing services: retried, then unknown with the status.
    let failing =
        Server::start(|_, _| Response::new(503, "<Error><Code>ServerBusy</Code></Error>"));
    let endpoint = format!("azure-storage={}", failing.url());
    let (_, findings) = scan(&tree, &["--verify", "--verify-endpoint", &endpoint]);
    let live = finding(&findings, "azure.storage.connection-string", "live.env");
    assert_eq!(live["verification"]["status"], "unknown");
    assert!(live["verification"]["reason"]
        .as_str()
        .unwrap()
        .contains("503"));
}

/// The typed checks share the client's rules: a throttled answer is retried after
/// `Retry-After`, a redirect is reported and not followed.
#[test]
fn typed_checks_retry_throttling_and_refuse_redirects() {
    let keys = Tree::new();
    let key = openssl_key(keys.path(), "key");
    let tree = Tree::new();
    tree.write(
        "key.json",
        key_file(&key, LIVE_EMAIL, "https://oauth2.googleapis.com/token"),
    );
    let throttled = Server::start(|_, i| match i {
        0 => Response::json(429, json!({ "error": "rate_limit_exceeded" }))
            .header("Retry-After", "1"),
        _ => Response::json(200, json!({ "access_token": "ya29.test-only" })),
    });
    let endpoint = format!("gcp-oauth={}", throttled.url());
    let (_, findings) = scan(&tree, &["--verify", "--verify-endpoint", &endpoint]);
    let found = finding(&findings, "gcp.service-account.private-key", "key.json");
    assert_eq!(found["verification"]["status"], "live", "{found:#}");
    assert_eq!(throttled.requests().len(), 2);

    let redirecting = Server::start(|_, _| {
        Response::new(302, "").header("Location", "http://198.51.100.7/token")
    });
    let endpoint = format!("gcp-oauth={}", redirecting.url());
    let (_, findings) = scan(&tree, &["--verify", "--verify-endpoint", &endpoint]);
    let found = finding(&findings, "gcp.service-account.private-key", "key.json");
    assert_eq!(found["verification"]["status"], "unknown");
    assert!(found["verification"]["reason"]
        .as_str()
        .unwrap()
        .contains("redirects are not followed"));
    assert_eq!(redirecting.requests().len(), 1);
}
