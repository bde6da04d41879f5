//! The false positives users of secret scanners complain about most, one fixture each: none may
//! be reported at medium or high confidence. Each fixture also carries a real-looking secret of
//! the same shape in the same file, so a fixture that yields nothing because the scan broke
//! would fail.

mod common;

use common::{scan_json, Tree, GITHUB_TOKEN};

/// Findings at medium or high confidence, as `(file, line, signature)`.
fn reported(tree: &Tree) -> Vec<(String, u64, String)> {
    let run = scan_json(tree.path(), &[]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    run.findings(tree.path())
}

/// Writes `fixture` (which must yield nothing) plus a control line with a real-shaped secret,
/// and returns what was reported other than the control.
fn false_positives(name: &str, fixture: &str) -> Vec<(String, u64, String)> {
    let tree = Tree::new();
    tree.write(name, fixture);
    tree.write("control.env", format!("GITHUB_TOKEN={GITHUB_TOKEN}\n"));
    let found = reported(&tree);
    assert!(
        found.iter().any(|(file, _, _)| file == "control.env"),
        "the control secret must be found: {found:?}"
    );
    found
        .into_iter()
        .filter(|(file, _, _)| file != "control.env")
        .collect()
}

#[test]
fn uuids_assigned_to_key_names_are_not_medium() {
    let fixture = r#"
api_key = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
session_token: 9b2c4a1e-7d3f-4e2a-8c5b-1f0e6d7a9b3c
"client_secret": "c8f1d2e3-a4b5-4c6d-9e8f-0a1b2c3d4e5f",
"#;
    assert_eq!(false_positives("config.yaml", fixture), vec![]);
}

#[test]
fn hashes_in_lock_files_are_not_secrets() {
    let package_lock = r#"{
  "packages": {
    "node_modules/left-pad": {
      "version": "1.3.0",
      "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
      "integrity": "sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQEyl1sjOLMNTAq2sEUJH/QYwX0Ga2LRr08oPHNqCy1PcYA=="
    }
  }
}
"#;
    let cargo_lock = r#"[[package]]
name = "secret-service"
version = "3.0.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "e4d35ad99a181be0a60ffcbe85d680d98f87bdc4d7644ade319b87076b9dbfd4"
"#;
    let poetry_lock = r#"[[package]]
name = "keyring"
files = [
    {file = "keyring-24.3.0-py3-none-any.whl", hash = "sha256:e730ecffd309658a08ee82535a3b5ec4b4c7e7a5f6b8c9d0e1f2a3b4c5d6e7f8"},
]
"#;
    assert_eq!(false_positives("package-lock.json", package_lock), vec![]);
    assert_eq!(false_positives("Cargo.lock", cargo_lock), vec![]);
    assert_eq!(false_positives("poetry.lock", poetry_lock), vec![]);
}

#[test]
fn public_keys_and_key_settings_are_not_secrets() {
    let fixture = r#"
public_key = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEq2f9tXa7Bw3kPz8vLmN4QrT6yU1iO0pA5sD7fG9hJ2kL3zX4cV6bN8mQ1wE3rT5yU7iO9pA1sD3fG5hJ7kL9zX"
key_algorithm = "RSA_PKCS1_SHA256_2048"
signing_key_id = "kid-7f3a9c2e1b5d8f4a6c0e"
token_endpoint = "https://auth.example.org/oauth2/v1/token"
password_min_length = 12
secret_rotation_days = 90
"#;
    assert_eq!(false_positives("settings.toml", fixture), vec![]);
}

#[test]
fn words_that_merely_contain_key_are_not_key_names() {
    let fixture = r#"
monkey = "x8F3kLm92QzR7tYp4VwB6nJd"
turkey_recipe_id = "Qp7Rt2Vx9Ym4Kw8Zn3Bc6Hd"
donkey_kong_build = "Z9y8X7w6V5u4T3s2R1q0PpOo"
"#;
    assert_eq!(false_positives("zoo.ini", fixture), vec![]);
}

#[test]
fn base64_images_and_fonts_are_not_secrets() {
    let png = "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAABHNCSVQICAgIfAhkiAAAAAlwSFlzAAAAdgAAAHYBTnsmCAAAABl0RVh0U29mdHdhcmUAd3d3Lmlua3NjYXBlLm9yZ5vuPBoAAAGQSURBVDiNpZO9SgNBFIXPnZ2NJhYiFoKFhY1gYyNYWNn4BhbW9j6AjbWNnZWNjY2FYGFhIVgIFoKFYGIixqzs7NwZC2MIJv6k8FbDMPfj3DP3kFSgxiIs";
    let fixture = format!(
        r#".token-icon {{ background: url("data:image/png;base64,{png}"); }}
const secretIcon = "data:image/png;base64,{png}";
@font-face {{ font-family: "Key"; src: url(data:font/woff2;base64,{png}) format("woff2"); }}
"#
    );
    assert_eq!(false_positives("icons.css", &fixture), vec![]);
}

#[test]
fn minified_javascript_references_are_not_secrets() {
    let fixture = r#"!function(e,t){"use strict";var n=function(e){this.apiKey=e.apiKey,this.token=e.token||null,this.secret=t.secret;this.password=e.password||"",this.authToken=n.authToken},r={apiKey:process.env.API_KEY,clientSecret:window.__CONFIG__.clientSecret,accessToken:localStorage.getItem("accessToken")};e.exports={setToken:function(t){return r.accessToken=t},getSecretKey:function(){return r.secretKey||o.secretKey}}}(this,window);
"#;
    assert_eq!(false_positives("bundle.min.js", fixture), vec![]);
}

#[test]
fn test_fixtures_with_obvious_passwords_are_not_medium() {
    let fixture = r#"
def test_login(client):
    client.post("/login", data={"username": "alice", "password": "password123"})
    client.post("/login", data={"username": "bob", "password": "correct horse battery staple"})
    user = User(email="test@example.com", password="changeme")
    assert check_password("hunter2", hash)
DB_PASSWORD = "${DB_PASSWORD}"
api_key = "your-api-key-here"
secret = "xxxxxxxxxxxxxxxxxxxxxxxx"
token = "<TOKEN>"
"#;
    assert_eq!(false_positives("test_auth.py", fixture), vec![]);
}

#[test]
fn number_constants_under_key_names_are_not_secrets() {
    let fixture = r#"
pub const PrivateKeyClientVersionMask: X509CertificateTemplatePrivateKeyFlag = 251658240i32;
pub const SECRET_KEY_FLAGS: u64 = 0x7fff_ffff_ffffu64;
static final long TOKEN_EXPIRY_MILLIS = 86400000L;
"#;
    assert_eq!(false_positives("consts.rs", fixture), vec![]);
}

#[test]
fn documentation_credentials_are_not_medium() {
    let fixture = r#"
If you have percent-encoded credentials in a URL (e.g. `https://user:p%40ss@host`), they are decoded.
  auth: {
    username: 'janedoe',
    password: 's00pers3cret'
  },
DATABASE_URL=postgres://admin:P@ssw0rd@hostname:5432/app
"#;
    assert_eq!(false_positives("README.md", fixture), vec![]);
}
