//! Pulling images from a registry over the OCI distribution API, without a Docker daemon:
//! manifests are fetched whole (small, digest-checked), blobs are streamed straight into the
//! layer reader, never written to disk.
//!
//! Authentication follows the registry's `WWW-Authenticate` challenge: a Bearer challenge
//! sends us to its token service (anonymously, or with the credentials from [`auth`]), a Basic
//! challenge takes the credentials directly. Blob downloads that redirect to a storage host
//! (S3, a CDN) are followed without the `Authorization` header.

pub mod auth;
pub mod reference;

use std::{
    collections::HashMap,
    io::{self, Read},
    sync::Mutex,
    time::Duration,
};

use sha2::Digest as _;

pub use reference::Reference;

use crate::net::percent_encode;
use auth::{credentials_for, Challenge, Credentials};

/// Media types a manifest request accepts: OCI and Docker, images and indexes.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";
/// The largest manifest or token response read into memory.
const MAX_MANIFEST: u64 = 4 * 1024 * 1024;
/// Attempts at a request that meets 429 or a 5xx status (or a connection error).
const ATTEMPTS: u32 = 3;
/// The longest `Retry-After` honoured; a registry asking for more is reported instead.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

/// How to reach registries.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Speak plain HTTP instead of HTTPS (`--insecure`), for a registry on this machine.
    pub insecure: bool,
}

/// One repository on one registry, with its authentication state.
pub struct Registry {
    reference: Reference,
    agent: ureq::Agent,
    /// `https://host` or `http://host`.
    base: String,
    credentials: Option<Credentials>,
    /// The `Authorization` value that worked last, shared by every download thread.
    authorization: Mutex<Option<String>>,
    /// Manifests fetched so far, by digest: the top manifest is fetched by tag and then asked
    /// for again by digest.
    manifests: Mutex<HashMap<String, Vec<u8>>>,
    /// Warnings met while connecting (an unreadable Docker config).
    pub warnings: Vec<String>,
}

/// A manifest as fetched: its bytes, verified digest and media type.
pub struct FetchedManifest {
    /// `sha256:...` of the bytes.
    pub digest: String,
    /// The media type (from `Content-Type`, else the document's `mediaType`).
    pub media_type: String,
    /// The document.
    pub bytes: Vec<u8>,
}

impl Registry {
    /// Prepares to pull `reference`. Plain HTTP is refused for registries off this machine:
    /// credentials and image contents would cross the network in clear.
    pub fn connect(reference: Reference, options: &RegistryOptions) -> Result<Registry, String> {
        if options.insecure && !reference.is_loopback() {
            return Err(format!(
                "{}: --insecure (plain HTTP) is only allowed for registries on this machine",
                reference.registry
            ));
        }
        let scheme = if options.insecure { "http" } else { "https" };
        let base = format!("{scheme}://{}", reference.api_host());
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .https_only(!options.insecure)
            .user_agent(concat!("keysift/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .timeout_recv_body(None)
            .build()
            .into();
        let (credentials, warning) = credentials_for(&reference.registry);
        Ok(Registry {
            reference,
            agent,
            base,
            credentials,
            authorization: Mutex::new(None),
            manifests: Mutex::new(HashMap::new()),
            warnings: warning.into_iter().collect(),
        })
    }

    /// The reference being pulled.
    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    /// The manifest the reference names (an image manifest or an index), digest-checked
    /// against the pinned digest or the registry's `Docker-Content-Digest`.
    pub fn top_manifest(&self) -> Result<FetchedManifest, String> {
        let what = self.reference.manifest_reference().to_string();
        let fetched = self.fetch_manifest(&what)?;
        if let Some(pinned) = &self.reference.digest {
            if &fetched.digest != pinned {
                return Err(digest_mismatch(
                    &format!("manifest {what}"),
                    &fetched.digest,
                ));
            }
        }
        Ok(fetched)
    }

    /// The manifest with `digest`, checked against it.
    pub fn manifest(&self, digest: &str) -> Result<Vec<u8>, String> {
        if let Some(bytes) = self
            .manifests
            .lock()
            .ok()
            .and_then(|m| m.get(digest).cloned())
        {
            return Ok(bytes);
        }
        let fetched = self.fetch_manifest(digest)?;
        if fetched.digest != digest {
            return Err(digest_mismatch(
                &format!("manifest {digest}"),
                &fetched.digest,
            ));
        }
        Ok(fetched.bytes)
    }

    fn fetch_manifest(&self, reference: &str) -> Result<FetchedManifest, String> {
        let path = format!("/v2/{}/manifests/{reference}", self.reference.repository);
        let response = self.get(&path, Some(MANIFEST_ACCEPT))?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type");
        let announced = header("docker-content-digest");
        let bytes = response
            .into_body()
            .into_with_config()
            .limit(MAX_MANIFEST)
            .read_to_vec()
            .map_err(|e| format!("{}{path}: {e}", self.base))?;
        let digest = sha256_digest(&bytes);
        if let Some(announced) = announced.filter(|d| d.starts_with("sha256:")) {
            if announced != digest {
                return Err(digest_mismatch(&format!("manifest {reference}"), &digest));
            }
        }
        let media_type = content_type
            .map(|t| t.split(';').next().unwrap_or_default().trim().to_string())
            .filter(|t| t.starts_with("application/vnd."))
            .or_else(|| {
                serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| v["mediaType"].as_str().map(str::to_string))
            })
            .unwrap_or_default();
        if media_type.contains("distribution.manifest.v1") {
            return Err(format!(
                "{}: schema 1 manifests (deprecated since 2017) are not supported",
                self.reference
            ));
        }
        if let Ok(mut manifests) = self.manifests.lock() {
            manifests.insert(digest.clone(), bytes.clone());
        }
        Ok(FetchedManifest {
            digest,
            media_type,
            bytes,
        })
    }

    /// A stream of blob `digest`'s bytes. The caller checks the digest while reading (layers
    /// are verified by the scan, configs by [`super::store::Store::read`]).
    pub fn blob(&self, digest: &str) -> io::Result<Box<dyn Read + Send>> {
        let path = format!("/v2/{}/blobs/{digest}", self.reference.repository);
        let response = self.get(&path, None).map_err(io::Error::other)?;
        Ok(Box::new(response.into_body().into_reader()))
    }

    /// GETs `path` on the registry, answering an authentication challenge once and retrying
    /// throttled or failed requests; any status but 200 is an error naming the URL.
    fn get(
        &self,
        path: &str,
        accept: Option<&str>,
    ) -> Result<ureq::http::Response<ureq::Body>, String> {
        let url = format!("{}{path}", self.base);
        let mut answered_challenge = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let authorization = self.authorization.lock().ok().and_then(|a| a.clone());
            let mut request = self.agent.get(&url);
            if let Some(accept) = accept {
                request = request.header("Accept", accept);
            }
            if let Some(authorization) = &authorization {
                request = request.header("Authorization", authorization);
            }
            let response = match request.call() {
                Ok(response) => response,
                // Connection-level failures (reset, timeout) are worth another try.
                Err(_) if attempt < ATTEMPTS => {
                    std::thread::sleep(backoff(attempt));
                    continue;
                }
                Err(e) => return Err(format!("{url}: {e}")),
            };
            let status = response.status().as_u16();
            match status {
                200 => return Ok(response),
                401 if !answered_challenge => {
                    answered_challenge = true;
                    let challenge = response
                        .headers()
                        .get("www-authenticate")
                        .and_then(|v| v.to_str().ok())
                        .and_then(Challenge::parse)
                        .ok_or_else(|| {
                            format!("{url}: 401 Unauthorized without an authentication challenge")
                        })?;
                    let header = self.answer(&challenge)?;
                    if let Ok(mut slot) = self.authorization.lock() {
                        *slot = Some(header);
                    }
                }
                401 | 403 => {
                    return Err(match &self.credentials {
                        Some(c) => format!(
                            "{url}: access denied ({status}) with the credentials from {}",
                            c.from
                        ),
                        None => format!(
                            "{url}: access denied ({status}); no credentials were found for {} \
                             (docker login, or KEYSIFT_REGISTRY_USERNAME and KEYSIFT_REGISTRY_PASSWORD)",
                            self.reference.registry
                        ),
                    })
                }
                404 => return Err(format!("{url}: not found (404)")),
                429 | 500..=599 if attempt < ATTEMPTS => {
                    let wait = retry_after(&response).unwrap_or_else(|| backoff(attempt));
                    if wait > MAX_RETRY_WAIT {
                        return Err(format!(
                            "{url}: {status}, and the registry asks to wait {} s",
                            wait.as_secs()
                        ));
                    }
                    std::thread::sleep(wait);
                }
                _ => return Err(format!("{url}: unexpected status {status}")),
            }
        }
    }

    /// The `Authorization` header that answers `challenge`.
    fn answer(&self, challenge: &Challenge) -> Result<String, String> {
        match challenge.scheme.as_str() {
            "basic" => match &self.credentials {
                Some(credentials) => Ok(credentials.basic_header()),
                None => Err(format!(
                    "{}: the registry requires a user name and password, and no credentials \
                     were found (docker login, or KEYSIFT_REGISTRY_USERNAME and \
                     KEYSIFT_REGISTRY_PASSWORD)",
                    self.reference.registry
                )),
            },
            "bearer" => self.bearer_token(challenge).map(|t| format!("Bearer {t}")),
            other => Err(format!(
                "{}: unsupported authentication scheme {other:?}",
                self.reference.registry
            )),
        }
    }

    /// Fetches a pull token from the challenge's token service.
    fn bearer_token(&self, challenge: &Challenge) -> Result<String, String> {
        let realm = challenge
            .params
            .get("realm")
            .ok_or("the Bearer challenge names no token service (realm)")?;
        // Credentials go to the token service: plain HTTP only to this machine, and only when
        // the registry itself was reached that way (--insecure).
        let insecure_realm = realm.starts_with("http://");
        let allowed = realm.starts_with("https://")
            || (insecure_realm
                && self.base.starts_with("http://")
                && realm["http://".len()..]
                    .split('/')
                    .next()
                    .is_some_and(crate::net::is_loopback_authority));
        if !allowed {
            return Err(format!(
                "{}: refusing token service {realm:?}: not HTTPS",
                self.reference.registry
            ));
        }
        let scope = challenge
            .params
            .get("scope")
            .cloned()
            .unwrap_or_else(|| format!("repository:{}:pull", self.reference.repository));
        let mut url = format!("{realm}?scope={}", percent_encode(&scope));
        if let Some(service) = challenge.params.get("service") {
            url.push_str(&format!("&service={}", percent_encode(service)));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .https_only(!insecure_realm)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let mut request = agent.get(&url);
        if let Some(credentials) = &self.credentials {
            request = request.header("Authorization", credentials.basic_header());
        }
        let response = request
            .call()
            .map_err(|e| format!("token service {realm}: {e}"))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(format!(
                "token service {realm}: status {status}{}",
                if self.credentials.is_some() {
                    " (are the credentials right?)"
                } else {
                    ""
                }
            ));
        }
        #[derive(serde::Deserialize)]
        struct TokenAnswer {
            token: Option<String>,
            access_token: Option<String>,
        }
        let bytes = response
            .into_body()
            .into_with_config()
            .limit(MAX_MANIFEST)
            .read_to_vec()
            .map_err(|e| format!("token service {realm}: {e}"))?;
        // The error names the field, never the content: the answer holds a token.
        let answer: TokenAnswer = serde_json::from_slice(&bytes)
            .map_err(|_| format!("token service {realm}: the answer is not JSON"))?;
        answer
            .token
            .or(answer.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| format!("token service {realm}: the answer holds no token"))
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250 << attempt.min(6))
}

/// `Retry-After: <seconds>` (the HTTP-date form is treated as "unknown").
fn retry_after(response: &ureq::http::Response<ureq::Body>) -> Option<Duration> {
    response
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", crate::hex::hex(&sha2::Sha256::digest(bytes)))
}

fn digest_mismatch(what: &str, actual: &str) -> String {
    format!("digest mismatch: {what} hashes to {actual}")
}
