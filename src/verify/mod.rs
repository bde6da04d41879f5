//! Optional verification (`--verify`): asking each provider whether a found credential is
//! live, so the ones that still work are rotated first.
//!
//! It runs after matching has finished, never during it, so a scan without `--verify` pays
//! nothing. Each distinct secret (per signature) is checked once however many places it was
//! found at, by a small pool of threads; the answer is attached to every finding of it.
//!
//! Safety by construction:
//! * requests go only to the check's documented HTTPS base URL, or to one the user configured
//!   for that endpoint (`--verify-endpoint NAME=URL`: HTTPS, or plain HTTP to this machine);
//! * redirects are reported, never followed; throttled (429) and failed (5xx) answers are
//!   retried a few times, honouring `Retry-After`;
//! * only read-only identity endpoints are used ([`check::Method`] has no verbs that change
//!   state);
//! * no secret appears in a message: transport errors are scrubbed before they are kept.

pub mod check;
mod client;
mod template;

use std::{
    collections::{BTreeSet, HashMap},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use serde::Serialize;
use sha2::Digest as _;

use crate::{findings::Finding, rules::RuleSet};
use check::HttpCheck;
use client::{Answer, Client, Prepared};
use template::Escape;

/// What the provider said about a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// It works.
    Live,
    /// It does not (revoked, expired, never valid).
    Invalid,
    /// The answer did not say (throttled, unreachable, unexpected status).
    Unknown,
}

impl Verdict {
    /// `live`, `invalid`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Live => "live",
            Verdict::Invalid => "invalid",
            Verdict::Unknown => "unknown",
        }
    }
}

/// A verdict with its detail: the identity for a live credential, the reason for an unknown one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The verdict.
    pub status: Verdict,
    /// For live: who the credential belongs to (account, scopes), when the provider says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// For unknown: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Verification {
    fn unknown(reason: impl Into<String>) -> Self {
        Verification {
            status: Verdict::Unknown,
            identity: None,
            reason: Some(reason.into()),
        }
    }
}

/// Settings of a verification run.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Base URLs by endpoint name, replacing the checks' own.
    pub endpoints: HashMap<String, String>,
    /// Per request, including retries' individual attempts.
    pub timeout: Duration,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Minimum interval between requests to one host.
    pub per_host_interval: Duration,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            endpoints: HashMap::new(),
            timeout: Duration::from_secs(15),
            concurrency: 8,
            per_host_interval: Duration::from_millis(50),
        }
    }
}

/// Counts of a verification run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyStats {
    /// Distinct secrets checked (requests made, retries aside).
    pub checked: usize,
    /// Of those, live.
    pub live: usize,
    /// Findings whose signature has no check.
    pub without_check: usize,
}

/// Verifies findings with the checks of a rule set.
pub struct Verifier {
    checks: HashMap<String, Arc<HttpCheck>>,
    options: VerifyOptions,
    client: Client,
}

impl Verifier {
    /// The verifier for `rules`. Fails when an endpoint override names no check, or points
    /// somewhere a secret must not go (plain HTTP off this machine).
    pub fn new(rules: &RuleSet, options: VerifyOptions) -> Result<Verifier, String> {
        let checks: HashMap<String, Arc<HttpCheck>> = rules
            .signatures()
            .iter()
            .filter_map(|s| Some((s.id().to_string(), s.verify()?.clone())))
            .collect();
        let known: BTreeSet<&str> = checks.values().map(|c| c.endpoint.as_str()).collect();
        for (name, url) in &options.endpoints {
            if !known.contains(name.as_str()) {
                let known: Vec<&str> = known.iter().copied().collect();
                return Err(format!(
                    "--verify-endpoint {name}: no check uses that endpoint (known: {})",
                    known.join(", ")
                ));
            }
            allowed_base(url).map_err(|why| format!("--verify-endpoint {name}: {why}"))?;
        }
        let client = Client::new(options.timeout, options.per_host_interval);
        Ok(Verifier {
            checks,
            options,
            client,
        })
    }

    /// Checks every distinct secret among `findings` once and attaches the verdicts.
    pub fn verify(&self, findings: &mut [Finding]) -> VerifyStats {
        let mut stats = VerifyStats::default();
        // Distinct (signature, secret) pairs, keyed by a hash so the map holds no secrets.
        let mut jobs: Vec<(Arc<HttpCheck>, &str)> = Vec::new();
        let mut job_of: HashMap<[u8; 32], usize> = HashMap::new();
        let mut finding_job = Vec::with_capacity(findings.len());
        for finding in findings.iter() {
            let Some(check) = self.checks.get(&finding.found.signature_id) else {
                stats.without_check += 1;
                finding_job.push(None);
                continue;
            };
            let key = secret_key(&finding.found.signature_id, &finding.found.secret);
            let next = jobs.len();
            let job = *job_of.entry(key).or_insert(next);
            if job == next {
                jobs.push((check.clone(), finding.found.secret.as_str()));
            }
            finding_job.push(Some(job));
        }
        let results = self.run(&jobs);
        stats.checked = jobs.len();
        stats.live = results.iter().filter(|v| v.status == Verdict::Live).count();
        for (finding, job) in findings.iter_mut().zip(finding_job) {
            if let Some(job) = job {
                finding.verification = Some(results[job].clone());
            }
        }
        stats
    }

    /// Runs the jobs on a small pool of threads.
    fn run(&self, jobs: &[(Arc<HttpCheck>, &str)]) -> Vec<Arc<Verification>> {
        let next = AtomicUsize::new(0);
        let threads = self.options.concurrency.clamp(1, jobs.len().max(1));
        let mut results: Vec<Option<Arc<Verification>>> = vec![None; jobs.len()];
        let done: Vec<Vec<(usize, Verification)>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut mine = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some((check, secret)) = jobs.get(i) else {
                                break;
                            };
                            mine.push((i, self.check_one(check, secret)));
                        }
                        mine
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().unwrap_or_default())
                .collect()
        });
        for (i, verification) in done.into_iter().flatten() {
            results[i] = Some(Arc::new(verification));
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Arc::new(Verification::unknown("the check did not run"))))
            .collect()
    }

    /// One request, and what its answer means.
    fn check_one(&self, check: &HttpCheck, secret: &str) -> Verification {
        let request = match self.prepare(check, secret) {
            Ok(request) => request,
            Err(why) => return Verification::unknown(scrub(&why, secret)),
        };
        match self.client.send(&request) {
            Ok(answer) => judge(check, &answer),
            Err(why) => Verification::unknown(scrub(&why, secret)),
        }
    }

    fn prepare(&self, check: &HttpCheck, secret: &str) -> Result<Prepared, String> {
        let base = self
            .options
            .endpoints
            .get(&check.endpoint)
            .unwrap_or(&check.base);
        allowed_base(base)?;
        let path = template::render(&check.path, secret, Escape::Url)?;
        let mut headers = Vec::new();
        for (name, value) in &check.headers {
            headers.push((name.clone(), template::render(value, secret, Escape::None)?));
        }
        if let Some(basic) = &check.basic_auth {
            use base64::Engine as _;
            let user = template::render(&basic.user, secret, Escape::None)?;
            let password = template::render(&basic.password, secret, Escape::None)?;
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            headers.push(("Authorization".to_string(), format!("Basic {encoded}")));
        }
        let body = match &check.body {
            Some(body) => Some(template::render(body, secret, Escape::None)?),
            None => None,
        };
        Ok(Prepared {
            method: check.method,
            url: format!("{}{path}", base.trim_end_matches('/')),
            headers,
            body,
        })
    }
}

/// What an answer means under `check`.
fn judge(check: &HttpCheck, answer: &Answer) -> Verification {
    if (300..400).contains(&answer.status) {
        let to = answer.location.as_deref().unwrap_or("elsewhere");
        return Verification::unknown(format!(
            "redirected ({}) to {}; redirects are not followed",
            answer.status,
            to.split('?').next().unwrap_or(to)
        ));
    }
    let json: Option<serde_json::Value> = serde_json::from_slice(&answer.body).ok();
    if check.live.holds(answer.status, &answer.body, json.as_ref()) {
        let identity: Vec<String> = check
            .identity
            .iter()
            .filter_map(|pointer| json.as_ref()?.pointer(pointer))
            .filter(|value| !value.is_null())
            .map(|value| match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .map(|s| s.chars().take(200).collect())
            .collect();
        return Verification {
            status: Verdict::Live,
            identity: (!identity.is_empty()).then(|| identity.join(", ")),
            reason: None,
        };
    }
    if check
        .invalid
        .holds(answer.status, &answer.body, json.as_ref())
    {
        return Verification {
            status: Verdict::Invalid,
            identity: None,
            reason: None,
        };
    }
    let reason = match answer.status {
        429 => "rate limited (429) after retries".to_string(),
        500..=599 => format!("the provider failed ({}) after retries", answer.status),
        status => format!("unexpected answer (status {status})"),
    };
    Verification::unknown(reason)
}

/// Where a secret may be sent: HTTPS anywhere, plain HTTP only to this machine (a test server,
/// a local proxy the user runs).
fn allowed_base(url: &str) -> Result<(), String> {
    if url.starts_with("https://") {
        return Ok(());
    }
    if let Some(rest) = url.strip_prefix("http://") {
        let authority = rest.split('/').next().unwrap_or(rest);
        if crate::net::is_loopback_authority(authority) {
            return Ok(());
        }
    }
    Err(format!(
        "{url:?}: secrets are only sent over HTTPS (plain HTTP only to this machine)"
    ))
}

/// Removes every trace of `secret` from a message (raw, URL-encoded).
fn scrub(message: &str, secret: &str) -> String {
    if secret.is_empty() {
        return message.to_string();
    }
    let encoded = template::render("{secret}", secret, Escape::Url).unwrap_or_default();
    message
        .replace(secret, "[secret]")
        .replace(&encoded, "[secret]")
}

fn secret_key(signature: &str, secret: &str) -> [u8; 32] {
    let mut hasher = sha2::Sha256::new();
    hasher.update(signature.as_bytes());
    hasher.update([0]);
    hasher.update(secret.as_bytes());
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_go_over_https_or_to_this_machine_only() {
        assert!(allowed_base("https://api.github.com").is_ok());
        assert!(allowed_base("http://127.0.0.1:8080/api").is_ok());
        assert!(allowed_base("http://localhost:1").is_ok());
        assert!(allowed_base("http://api.github.com").is_err());
        assert!(allowed_base("ftp://x").is_err());
    }

    #[test]
    fn messages_are_scrubbed_of_the_secret() {
        let secret = "tok/en+1";
        let message = format!("GET https://x/{} failed: {secret}", "tok%2Fen%2B1");
        let clean = scrub(&message, secret);
        assert!(!clean.contains("tok"), "{clean}");
    }
}
