//! A declarative verification check, as written in a signature's `[signature.verify]` table:
//! one HTTP request to the provider's read-only identity endpoint, and how to read the answer.
//!
//! ```toml
//! [signature.verify]
//! endpoint = "github"                 # the name users override the base URL by
//! base = "https://api.github.com"     # the provider's documented API host, HTTPS
//! path = "/user"
//! headers = { Authorization = "Bearer {secret}" }
//! live = { status = [200] }
//! invalid = { status = [401] }
//! identity = ["/login"]               # JSON pointers into a live answer, shown to the user
//! ```
//!
//! Templates (`path`, header values, `body`, `basic_auth`) may name `{secret}`. Every table
//! denies unknown keys, so a typo is an error with its file and line, never a check that
//! silently tests something else.

use std::collections::BTreeMap;

use serde::Deserialize;

/// HTTP methods a check may use: reading only, never anything that changes state. `POST` is
/// allowed because some identity endpoints (Slack's `auth.test`, GraphQL `viewer` queries)
/// only answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST` (identity queries only).
    Post,
}

/// One check.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpCheck {
    /// The name of the base URL, so a user can point it at an enterprise install
    /// (`--verify-endpoint github=https://ghe.example.com/api/v3`).
    pub endpoint: String,
    /// The provider's documented API base URL (HTTPS).
    pub base: String,
    /// The request method.
    #[serde(default = "default_method")]
    pub method: Method,
    /// Path (and query) appended to the base; a template.
    pub path: String,
    /// Request headers; values are templates.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Request body (for `POST`); a template.
    pub body: Option<String>,
    /// HTTP Basic credentials; templates.
    pub basic_auth: Option<BasicAuth>,
    /// When the answer means the credential works.
    pub live: Criteria,
    /// When the answer means it does not (revoked, wrong, expired).
    pub invalid: Criteria,
    /// JSON pointers into a live answer naming the identity (account, scopes), joined for display.
    #[serde(default)]
    pub identity: Vec<String>,
}

fn default_method() -> Method {
    Method::Get
}

/// HTTP Basic credentials.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// User name template.
    pub user: String,
    /// Password template.
    #[serde(default)]
    pub password: String,
}

/// Conditions on an answer; all that are given must hold.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criteria {
    /// The status is one of these.
    #[serde(default)]
    pub status: Vec<u16>,
    /// JSON pointer → the value found there.
    #[serde(default)]
    pub json: BTreeMap<String, serde_json::Value>,
    /// The body contains this text.
    pub body_contains: Option<String>,
}

impl Criteria {
    /// Whether an answer with `status` and `body` meets every condition.
    pub fn holds(&self, status: u16, body: &[u8], json: Option<&serde_json::Value>) -> bool {
        if !self.status.is_empty() && !self.status.contains(&status) {
            return false;
        }
        if !self.json.is_empty() {
            let Some(json) = json else { return false };
            if !self
                .json
                .iter()
                .all(|(pointer, expected)| json.pointer(pointer) == Some(expected))
            {
                return false;
            }
        }
        if let Some(needle) = &self.body_contains {
            if memchr::memmem::find(body, needle.as_bytes()).is_none() {
                return false;
            }
        }
        true
    }

    fn is_empty(&self) -> bool {
        self.status.is_empty() && self.json.is_empty() && self.body_contains.is_none()
    }
}

impl HttpCheck {
    /// Problems with the check itself, found when the signatures load.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.base.starts_with("https://") {
            problems.push(format!("verify.base {:?} is not an HTTPS URL", self.base));
        }
        if let Err(why) = base_template_is_safe(&self.base) {
            problems.push(format!("verify.base {:?}: {why}", self.base));
        }
        if self.endpoint.is_empty()
            || !self
                .endpoint
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            problems.push(format!(
                "verify.endpoint {:?} must be a lowercase name",
                self.endpoint
            ));
        }
        if !self.path.starts_with('/') {
            problems.push("verify.path must start with /".to_string());
        }
        if self.live.is_empty() || self.invalid.is_empty() {
            problems.push("verify.live and verify.invalid each need a condition".to_string());
        }
        if self.method == Method::Get && self.body.is_some() {
            problems.push("verify.body needs method = \"POST\"".to_string());
        }
        for pointer in self
            .identity
            .iter()
            .chain(self.live.json.keys())
            .chain(self.invalid.json.keys())
        {
            if !pointer.starts_with('/') {
                problems.push(format!("{pointer:?} is not a JSON pointer (starts with /)"));
            }
        }
        let templates = std::iter::once(&self.path)
            .chain(self.headers.values())
            .chain(self.body.iter())
            .chain(self.basic_auth.iter().flat_map(|b| [&b.user, &b.password]));
        for template in templates {
            if let Err(why) = super::template::placeholders(template) {
                problems.push(format!("template {template:?}: {why}"));
            }
        }
        problems
    }
}

/// A base URL may name one value, as the first label of its host in front of the provider's
/// fixed domain (`https://{shop}.myshopify.com`): the value is then only ever a subdomain of
/// that domain (see [`super::template::Escape::Label`]).
fn base_template_is_safe(base: &str) -> Result<(), String> {
    let names = super::template::placeholders(base)?;
    if names.is_empty() {
        return Ok(());
    }
    let host = base
        .strip_prefix("https://")
        .map(|rest| rest.split('/').next().unwrap_or(rest))
        .unwrap_or_default();
    let suffix = host
        .strip_prefix('{')
        .and_then(|rest| rest.split_once("}."))
        .map(|(_, suffix)| suffix);
    match suffix {
        Some(domain)
            if names.len() == 1
                && domain.contains('.')
                && !domain.contains(['{', '}'])
                && host.len() + "https://".len() == base.len() =>
        {
            Ok(())
        }
        _ => Err("a placeholder may only be the host's first label, before a fixed domain".into()),
    }
}

/// A check that needs code rather than a template: a signed request or a protocol.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedSpec {
    /// Which one.
    pub kind: TypedKind,
}

/// The typed checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TypedKind {
    /// AWS access key pairs: STS `GetCallerIdentity`, signed with Signature Version 4. Needs
    /// the key id as `{id}` (a named group or a companion) and the secret key as the secret.
    AwsSts,
    /// A PostgreSQL login from a URI's `user`, `host`, optional `port` groups and the password.
    Postgres,
    /// A Redis login from a URI's optional `user`, `host`, optional `port` groups and the
    /// password.
    Redis,
    /// A MySQL or MariaDB login from a URI's `user`, `host`, optional `port` groups and the
    /// password.
    Mysql,
    /// A MongoDB login (SCRAM-SHA-256 or SCRAM-SHA-1) from a URI's `user`, `host` (the first of its list),
    /// optional `database` and `auth_source` groups and the password; `srv` marks a
    /// `mongodb+srv://` URI, which is not resolved.
    Mongodb,
    /// A Google Cloud service-account key: an RS256 JWT assertion exchanged for a token. The
    /// PEM private key is the secret; needs `{client_email}`.
    GcpServiceAccount,
    /// An Azure Storage account key: a Shared Key signed read of the Blob service's
    /// properties. Needs the account name as `{account}`.
    AzureStorage,
}

/// The other half of a multi-part credential: a finding of one of `signatures` in the same
/// blob, within `within_lines` lines, available to the check as `{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanionSpec {
    /// Signature ids whose findings can be the companion.
    pub signatures: Vec<String>,
    /// The template name it is known by.
    #[serde(default = "default_companion_name")]
    pub name: String,
    /// How far away (in lines, either way) it may be.
    #[serde(default = "default_within_lines")]
    pub within_lines: usize,
}

fn default_companion_name() -> String {
    "companion".to_string()
}

fn default_within_lines() -> usize {
    5
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(extra: &str) -> Result<HttpCheck, toml::de::Error> {
        toml::from_str(&format!(
            "endpoint = \"example\"\nbase = \"https://api.example.com\"\npath = \"/me\"\n\
             live = {{ status = [200] }}\ninvalid = {{ status = [401] }}\n{extra}"
        ))
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert!(check("").is_ok());
        assert!(check("header = { A = \"b\" }").is_err());
        assert!(check("method = \"DELETE\"").is_err());
        let err = toml::from_str::<HttpCheck>(
            "endpoint = \"e\"\nbase = \"https://x\"\npath = \"/\"\n\
             live = { stauts = [200] }\ninvalid = { status = [401] }",
        );
        assert!(err.is_err());
    }

    #[test]
    fn problems_are_named() {
        let mut c = check("").unwrap();
        assert!(c.problems().is_empty());
        c.base = "http://api.example.com".into();
        c.body = Some("x".into());
        c.identity = vec!["login".into()];
        c.path = "/u/{secret".into();
        let problems = c.problems().join("\n");
        for expected in ["HTTPS", "POST", "JSON pointer", "template"] {
            assert!(problems.contains(expected), "{problems}");
        }
    }

    #[test]
    fn base_urls_name_a_value_only_as_a_subdomain() {
        assert!(base_template_is_safe("https://api.example.com").is_ok());
        assert!(base_template_is_safe("https://{shop}.myshopify.com").is_ok());
        for unsafe_base in [
            "https://{host}",
            "https://{shop}.com.{x}",
            "https://api.example.com/{path}",
            "https://x{shop}.example.com",
            "https://{shop}.localhost",
        ] {
            assert!(base_template_is_safe(unsafe_base).is_err(), "{unsafe_base}");
        }
    }

    #[test]
    fn criteria_combine_status_json_and_body() {
        let c = Criteria {
            status: vec![200],
            json: [("/ok".to_string(), serde_json::json!(true))].into(),
            body_contains: Some("team".into()),
        };
        let body = br#"{"ok": true, "team": "x"}"#;
        let json: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert!(c.holds(200, body, Some(&json)));
        assert!(!c.holds(201, body, Some(&json)));
        assert!(!c.holds(200, body, None));
        let other: serde_json::Value = serde_json::json!({"ok": false});
        assert!(!c.holds(200, body, Some(&other)));
    }
}
