//! Registry authentication: where credentials come from, and the `WWW-Authenticate` challenge
//! that says how to use them.
//!
//! Credentials are looked up, first found wins, in `KEYSIFT_REGISTRY_USERNAME` /
//! `KEYSIFT_REGISTRY_PASSWORD`, then the Docker CLI's config (`$DOCKER_CONFIG/config.json` or
//! `~/.docker/config.json`): a credential helper named for the registry (`credHelpers`), the
//! default helper (`credsStore`), then the `auths` entry. They are only ever sent to the
//! registry itself (Basic) or to the token service its challenge names (Bearer), and never
//! appear in messages.

use std::{
    collections::HashMap,
    fmt,
    io::Write,
    path::PathBuf,
    process::{Command, Stdio},
};

use base64::Engine as _;
use serde::Deserialize;

/// A user name and password (or token) for a registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password or access token.
    pub password: String,
    /// Where they came from, for messages (`~/.docker/config.json`, `docker-credential-pass`).
    pub from: String,
}

impl fmt::Debug for Credentials {
    /// Never prints the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// The `Authorization` header value for Basic authentication.
    pub fn basic_header(&self) -> String {
        let pair = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

/// The Docker CLI's config file, the parts that hold credentials.
#[derive(Debug, Default, Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(rename = "credHelpers", default)]
    cred_helpers: HashMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

/// The credentials to use for `registry` (as written in the reference, e.g. `docker.io`).
/// Problems reading the Docker config are returned as a warning, not an error: an anonymous
/// pull may still work.
pub fn credentials_for(registry: &str) -> (Option<Credentials>, Option<String>) {
    if let (Ok(username), Ok(password)) = (
        std::env::var("KEYSIFT_REGISTRY_USERNAME"),
        std::env::var("KEYSIFT_REGISTRY_PASSWORD"),
    ) {
        let from = "KEYSIFT_REGISTRY_USERNAME/KEYSIFT_REGISTRY_PASSWORD".to_string();
        return (
            Some(Credentials {
                username,
                password,
                from,
            }),
            None,
        );
    }
    let Some(path) = docker_config_path() else {
        return (None, None);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (None, None),
        Err(e) => return (None, Some(format!("{}: {e}", path.display()))),
    };
    let config: DockerConfig = match serde_json::from_str(&text) {
        Ok(config) => config,
        Err(e) => return (None, Some(format!("{}: {e}", path.display()))),
    };
    match from_docker_config(&config, registry, &path.display().to_string()) {
        Ok(found) => (found, None),
        Err(warning) => (None, Some(warning)),
    }
}

fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker/config.json"))
}

/// The names Docker Hub goes by in config files.
fn is_docker_hub(host: &str) -> bool {
    matches!(
        host,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    )
}

/// `https://index.docker.io/v1/` → `index.docker.io`: config keys may be URLs.
fn key_host(key: &str) -> &str {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or(rest)
}

fn from_docker_config(
    config: &DockerConfig,
    registry: &str,
    config_name: &str,
) -> Result<Option<Credentials>, String> {
    let same_registry = |key: &str| {
        let host = key_host(key);
        host == registry || (is_docker_hub(host) && is_docker_hub(registry))
    };
    // The address helpers and `auths` know Docker Hub by.
    let server = if is_docker_hub(registry) {
        "https://index.docker.io/v1/".to_string()
    } else {
        registry.to_string()
    };
    let helper = config
        .cred_helpers
        .iter()
        .find(|(key, _)| same_registry(key))
        .map(|(_, helper)| helper.clone())
        .or_else(|| config.creds_store.clone());
    if let Some(helper) = helper {
        if let Some(found) = from_helper(&helper, &server)? {
            return Ok(Some(found));
        }
    }
    let Some((_, entry)) = config.auths.iter().find(|(key, _)| same_registry(key)) else {
        return Ok(None);
    };
    if let (Some(username), Some(password)) = (&entry.username, &entry.password) {
        return Ok(Some(Credentials {
            username: username.clone(),
            password: password.clone(),
            from: config_name.to_string(),
        }));
    }
    let Some(auth) = &entry.auth else {
        return Ok(None);
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    match decoded.as_deref().and_then(|pair| pair.split_once(':')) {
        Some((username, password)) => Ok(Some(Credentials {
            username: username.to_string(),
            password: password.to_string(),
            from: config_name.to_string(),
        })),
        None => Err(format!(
            "{config_name}: the auth entry for {registry} is not base64 of user:password"
        )),
    }
}

/// Asks `docker-credential-<helper> get` (the credential-helper protocol: server address on
/// stdin, `{"Username": ..., "Secret": ...}` on stdout).
fn from_helper(helper: &str, server: &str) -> Result<Option<Credentials>, String> {
    if helper.is_empty()
        || !helper
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(format!(
            "credential helper name {helper:?} is not a plain name"
        ));
    }
    let program = format!("docker-credential-{helper}");
    let child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => return Err(format!("{program}: {e}")),
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let output = child
        .wait_with_output()
        .map_err(|e| format!("{program}: {e}"))?;
    if !output.status.success() {
        // Helpers exit non-zero for "no credentials for this server".
        return Ok(None);
    }
    #[derive(Deserialize)]
    struct HelperAnswer {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let answer: HelperAnswer = serde_json::from_slice(&output.stdout)
        .map_err(|_| format!("{program}: its answer is not the credential-helper JSON"))?;
    if answer.username == "<token>" {
        return Err(format!(
            "{program}: identity tokens (OAuth refresh tokens) are not supported; \
             set KEYSIFT_REGISTRY_USERNAME and KEYSIFT_REGISTRY_PASSWORD"
        ));
    }
    Ok(Some(Credentials {
        username: answer.username,
        password: answer.secret,
        from: program,
    }))
}

/// A `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `bearer` or `basic`, lowercased.
    pub scheme: String,
    /// Its parameters (`realm`, `service`, `scope`), names lowercased.
    pub params: HashMap<String, String>,
}

impl Challenge {
    /// Parses `Bearer realm="https://auth.example/token",service="registry",scope="a:b:pull"`.
    /// Quoted values may hold commas (`scope="repository:a:pull,push"`).
    pub fn parse(header: &str) -> Option<Challenge> {
        let header = header.trim();
        let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
        if scheme.is_empty() {
            return None;
        }
        let mut params = HashMap::new();
        let mut rest = rest.trim_start();
        while !rest.is_empty() {
            let (name, after) = rest.split_once('=')?;
            let name = name.trim().to_ascii_lowercase();
            let after = after.trim_start();
            let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            } else {
                let end = after.find(',').unwrap_or(after.len());
                (after[..end].trim(), &after[end..])
            };
            params.insert(name, value.to_string());
            rest = remaining.trim_start().trim_start_matches(',').trim_start();
        }
        Some(Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_parse_with_commas_in_quotes() {
        let c = Challenge::parse(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:team/app:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.example.com/token");
        assert_eq!(c.params["service"], "registry.example.com");
        assert_eq!(c.params["scope"], "repository:team/app:pull,push");
        let c = Challenge::parse(r#"Basic realm="keysift-test""#).unwrap();
        assert_eq!(c.scheme, "basic");
        assert_eq!(c.params["realm"], "keysift-test");
        assert_eq!(Challenge::parse(r#"Bearer realm="unterminated"#), None);
    }

    #[test]
    fn docker_config_auth_entries_decode() {
        let config: DockerConfig = serde_json::from_str(
            r#"{"auths": {
                "https://index.docker.io/v1/": {"auth": "aHViLXVzZXI6aHViLXBhc3M="},
                "registry.example.com": {"username": "u", "password": "p"},
                "broken.example.com": {"auth": "bm8tY29sb24="}
            }}"#,
        )
        .unwrap();
        let hub = from_docker_config(&config, "docker.io", "cfg")
            .unwrap()
            .unwrap();
        assert_eq!(
            (hub.username.as_str(), hub.password.as_str()),
            ("hub-user", "hub-pass")
        );
        let other = from_docker_config(&config, "registry.example.com", "cfg")
            .unwrap()
            .unwrap();
        assert_eq!(other.username, "u");
        assert!(from_docker_config(&config, "broken.example.com", "cfg").is_err());
        assert_eq!(
            from_docker_config(&config, "unknown.example.com", "cfg").unwrap(),
            None
        );
    }

    #[test]
    fn helper_names_cannot_be_paths() {
        assert!(from_helper("../../bin/sh", "x").is_err());
        // A helper that does not exist is a warning, not a panic.
        assert!(from_helper("keysift-no-such-helper", "x").is_err());
    }

    #[test]
    fn credentials_never_print_their_password() {
        let c = Credentials {
            username: "u".into(),
            password: "hunter2-synthetic".into(),
            from: "test".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.basic_header(), "Basic dTpodW50ZXIyLXN5bnRoZXRpYw==");
    }

    #[test]
    fn query_values_are_escaped() {
        assert_eq!(
            crate::net::percent_encode("repository:team/app:pull"),
            "repository%3Ateam%2Fapp%3Apull"
        );
    }
}
