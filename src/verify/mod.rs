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
//! * a base URL may take a value from the secret's surroundings only as the first label of the
//!   provider's own domain (`https://{shop}.myshopify.com`), so it never chooses the host;
//! * servers named by the secret itself (database URIs) are refused when private, loopback or
//!   link-local unless the user allows it;
//! * no secret appears in a message: transport errors are scrubbed before they are kept; the
//!   optional on-disk cache (`cache`) names credentials by a keyed hash only.
//!
//! Where the checks live: [`check`] is the declarative one (a signature's `[signature.verify]`);
//! typed checks, one module each behind the `Check` trait, sign or speak what a template
//! cannot: `aws` (SigV4), `gcp` (an RS256 JWT assertion), `azure` (Shared Key), and
//! `database` logins (`mysql`, `mongo` with `bson`, and `scram` shared with
//! PostgreSQL).

mod aws;
mod azure;
mod bson;
mod cache;
pub mod check;
mod client;
mod database;
mod gcp;
mod mongo;
mod mysql;
mod scram;
mod template;

use std::{
    collections::{BTreeSet, HashMap},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::{findings::Finding, rules::RuleSet};
use cache::VerdictCache;
pub use cache::{parse_ttl, CacheSettings};
use check::{CompanionSpec, HttpCheck, TypedKind};
use client::{Answer, Client, Prepared};
use template::Escape;

/// What the provider said about a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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
    /// Let checks whose server comes from the secret (database URIs) reach private, loopback
    /// and link-local addresses.
    pub allow_private: bool,
    /// Keep live and invalid verdicts on disk between runs (see [`CacheSettings`]).
    pub cache: Option<CacheSettings>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            endpoints: HashMap::new(),
            timeout: Duration::from_secs(15),
            concurrency: 8,
            per_host_interval: Duration::from_millis(50),
            allow_private: false,
            cache: None,
        }
    }
}

/// Counts of a verification run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyStats {
    /// Distinct secrets checked (asked, or answered from the on-disk cache).
    pub checked: usize,
    /// Of those, answered from the on-disk cache without a request.
    pub cached: usize,
    /// Why the on-disk cache could not be written, if it could not.
    pub cache_error: Option<String>,
    /// Of those, live.
    pub live: usize,
    /// Findings whose signature has no check.
    pub without_check: usize,
}

/// One way of asking a provider: the declarative [`HttpCheck`], or a typed check.
trait Check: Send + Sync {
    /// For checks that talk to the provider's API: the endpoint name users override the base
    /// URL by, and the default base URL. `None` for checks whose server comes from the secret
    /// itself (database URIs).
    fn endpoint(&self) -> Option<(&str, &str)>;
    /// The names the check needs besides `secret` (named groups or a companion).
    fn needs(&self) -> Vec<String>;
    /// Asks. Errors are reasons for an unknown verdict (the caller scrubs them of secrets).
    fn verify(&self, values: &Values, context: &Context<'_>) -> Result<Verification, String>;
}

/// What a check may use: the HTTP client, its resolved base URL, and the run's settings.
struct Context<'a> {
    client: &'a Client,
    /// The base URL for checks with an endpoint (already checked by [`allowed_base`]).
    base: &'a str,
    options: &'a VerifyOptions,
}

impl Context<'_> {
    /// Sends `request`; a redirect is an unknown verdict (never followed), any other answer
    /// goes to `judge`.
    fn over_http(
        &self,
        request: Prepared,
        judge: impl FnOnce(&Answer) -> Verification,
    ) -> Result<Verification, String> {
        let answer = self.client.send(&request)?;
        if (300..400).contains(&answer.status) {
            let to = answer.location.as_deref().unwrap_or("elsewhere");
            return Err(format!(
                "redirected ({}) to {}; redirects are not followed",
                answer.status,
                to.split('?').next().unwrap_or(to)
            ));
        }
        Ok(judge(&answer))
    }
}

/// The values a request is made of: the secret and named parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Values {
    secret: String,
    named: Vec<(String, String)>,
}

impl Values {
    fn get(&self, name: &str) -> Option<&str> {
        if name == "secret" {
            return Some(&self.secret);
        }
        self.named
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Check for HttpCheck {
    fn endpoint(&self) -> Option<(&str, &str)> {
        Some((&self.endpoint, &self.base))
    }

    fn needs(&self) -> Vec<String> {
        let templates = [&self.base, &self.path]
            .into_iter()
            .chain(self.headers.values())
            .chain(self.body.iter())
            .chain(self.basic_auth.iter().flat_map(|b| [&b.user, &b.password]));
        let mut names: Vec<String> = templates
            .flat_map(|t| template::placeholders(t).unwrap_or_default())
            .filter(|name| *name != "secret")
            .map(str::to_string)
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn verify(&self, values: &Values, context: &Context<'_>) -> Result<Verification, String> {
        let request = self.request(context.base, values)?;
        context.over_http(request, |answer| judge_declared(self, answer))
    }
}

impl HttpCheck {
    fn request(&self, base: &str, values: &Values) -> Result<Prepared, String> {
        let value = |name: &str| values.get(name);
        let base = template::render(base, value, Escape::Label)?;
        let path = template::render(&self.path, value, Escape::Url)?;
        let mut headers = Vec::new();
        for (name, header) in &self.headers {
            headers.push((name.clone(), template::render(header, value, Escape::None)?));
        }
        if let Some(basic) = &self.basic_auth {
            use base64::Engine as _;
            let user = template::render(&basic.user, value, Escape::None)?;
            let password = template::render(&basic.password, value, Escape::None)?;
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            headers.push(("Authorization".to_string(), format!("Basic {encoded}")));
        }
        let body = match &self.body {
            Some(body) => Some(template::render(body, value, Escape::None)?),
            None => None,
        };
        Ok(Prepared {
            method: self.method,
            url: format!("{}{path}", base.trim_end_matches('/')),
            headers,
            body,
        })
    }
}

/// AWS key pairs, through STS (see [`aws`]).
struct AwsSts;

impl Check for AwsSts {
    fn endpoint(&self) -> Option<(&str, &str)> {
        Some(("aws-sts", aws::STS_BASE))
    }

    fn needs(&self) -> Vec<String> {
        vec!["id".to_string()]
    }

    fn verify(&self, values: &Values, context: &Context<'_>) -> Result<Verification, String> {
        let key_id = values.get("id").ok_or("no access key id")?;
        let request = aws::caller_identity_request(context.base, key_id, &values.secret);
        context.over_http(request, aws::judge)
    }
}

/// Database logins from connection URIs (see [`database`]).
struct DatabaseCheck(database::Database);

impl Check for DatabaseCheck {
    fn endpoint(&self) -> Option<(&str, &str)> {
        None
    }

    fn needs(&self) -> Vec<String> {
        vec!["host".to_string()]
    }

    fn verify(&self, values: &Values, context: &Context<'_>) -> Result<Verification, String> {
        self.0.verify(values, context)
    }
}

/// A signature's check and, for multi-part credentials, where its other half comes from.
struct SignatureCheck {
    check: Arc<dyn Check>,
    /// What the check needs besides the secret, worked out once.
    needs: Vec<String>,
    companion: Option<CompanionSpec>,
}

/// Verifies findings with the checks of a rule set.
pub struct Verifier {
    checks: HashMap<String, SignatureCheck>,
    /// Signature ids some check takes a companion from.
    companion_signatures: BTreeSet<String>,
    options: VerifyOptions,
    client: Client,
    cache: Option<std::sync::Mutex<VerdictCache>>,
}

/// One distinct credential to check: the check and the values.
type Job = (Arc<dyn Check>, Values);

/// A job's name in the caches (a digest of its signature and values) and the values that
/// must never be written down with its verdict (the secret and any companion).
struct JobKey {
    digest: [u8; 32],
    private: Vec<String>,
}

impl Verifier {
    /// The verifier for `rules`. Fails when an endpoint override names no check, or points
    /// somewhere a secret must not go (plain HTTP off this machine).
    pub fn new(rules: &RuleSet, options: VerifyOptions) -> Result<Verifier, String> {
        let mut checks = HashMap::new();
        for signature in rules.signatures() {
            let check: Arc<dyn Check> = match (signature.verify(), signature.verify_typed()) {
                (Some(http), _) => http.clone(),
                (None, Some(typed)) => match typed.kind {
                    TypedKind::AwsSts => Arc::new(AwsSts),
                    TypedKind::Postgres => Arc::new(DatabaseCheck(database::Database::Postgres)),
                    TypedKind::Redis => Arc::new(DatabaseCheck(database::Database::Redis)),
                    TypedKind::Mysql => Arc::new(DatabaseCheck(database::Database::MySql)),
                    TypedKind::Mongodb => Arc::new(DatabaseCheck(database::Database::MongoDb)),
                    TypedKind::GcpServiceAccount => Arc::new(gcp::ServiceAccount),
                    TypedKind::AzureStorage => Arc::new(azure::StorageSharedKey),
                },
                (None, None) => continue,
            };
            checks.insert(
                signature.id().to_string(),
                SignatureCheck {
                    needs: check.needs(),
                    check,
                    companion: signature.companion().cloned(),
                },
            );
        }
        let known: BTreeSet<&str> = checks
            .values()
            .filter_map(|c| Some(c.check.endpoint()?.0))
            .collect();
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
        let cache = match &options.cache {
            Some(settings) => Some(std::sync::Mutex::new(VerdictCache::open(settings.clone())?)),
            None => None,
        };
        let companion_signatures = checks
            .values()
            .filter_map(|c| c.companion.as_ref())
            .flat_map(|spec| spec.signatures.iter().cloned())
            .collect();
        Ok(Verifier {
            checks,
            companion_signatures,
            options,
            client,
            cache,
        })
    }

    /// Checks every distinct credential among `findings` once and attaches the verdicts. A
    /// multi-part credential is verified together and reported as one finding: the companion's
    /// own finding is folded into the one that was verified (its place is kept in
    /// [`Finding::paired_with`]).
    pub fn verify(&self, findings: &mut Vec<Finding>) -> VerifyStats {
        let mut stats = VerifyStats::default();
        let mut jobs: Vec<Job> = Vec::new();
        let mut keys: Vec<JobKey> = Vec::new();
        let mut job_of: HashMap<[u8; 32], usize> = HashMap::new();
        // Per finding: its job, or why it has none ("" when its signature has no check).
        let mut assigned: Vec<Result<usize, String>> = Vec::with_capacity(findings.len());
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        // The findings that can complete another (an AWS key id), listed once: looking for a
        // companion then walks these, not every finding.
        let companions: Vec<usize> = findings
            .iter()
            .enumerate()
            .filter(|(_, f)| self.companion_signatures.contains(&f.found.signature_id))
            .map(|(i, _)| i)
            .collect();
        for (i, finding) in findings.iter().enumerate() {
            // The reported signature's check, else that of another signature that matched the
            // same secret (a provider's context signature behind a generic JWT one).
            let entry = std::iter::once(&finding.found.signature_id)
                .chain(&finding.found.also_matched)
                .find_map(|id| self.checks.get(id));
            let Some(entry) = entry else {
                stats.without_check += 1;
                assigned.push(Err(String::new()));
                continue;
            };
            let (values, private) = match gather(findings, i, entry, &companions, &mut pairs) {
                Ok(gathered) => gathered,
                Err(why) => {
                    assigned.push(Err(why));
                    continue;
                }
            };
            let key = values_key(&finding.found.signature_id, &values);
            let next = jobs.len();
            let job = *job_of.entry(key).or_insert(next);
            if job == next {
                jobs.push((entry.check.clone(), values));
                keys.push(JobKey {
                    digest: key,
                    private,
                });
            }
            assigned.push(Ok(job));
        }
        let results = self.answers(&jobs, &keys, &mut stats);
        stats.checked = jobs.len();
        stats.live = results.iter().filter(|v| v.status == Verdict::Live).count();
        for (finding, job) in findings.iter_mut().zip(assigned) {
            finding.verification = match job {
                Ok(job) => Some(results[job].clone()),
                Err(reason) if reason.is_empty() => None,
                Err(reason) => Some(Arc::new(Verification::unknown(reason))),
            };
        }
        // Fold each companion into the finding it completed, unless it has a check of its own.
        let mut folded = vec![false; findings.len()];
        for (i, j) in pairs {
            let partner = &findings[j];
            let paired = PairedWith {
                signature_id: partner.found.signature_id.clone(),
                line: partner.found.line,
                column: partner.found.column,
            };
            folded[j] = !self.checks.contains_key(&partner.found.signature_id);
            findings[i].paired_with = Some(Arc::new(paired));
        }
        let mut index = 0;
        findings.retain(|_| {
            index += 1;
            !folded[index - 1]
        });
        stats
    }

    /// The verdicts of `jobs`: from the on-disk cache when it has them, else asked (and then
    /// remembered).
    fn answers(
        &self,
        jobs: &[Job],
        keys: &[JobKey],
        stats: &mut VerifyStats,
    ) -> Vec<Arc<Verification>> {
        let Some(cache) = &self.cache else {
            return self.run(jobs);
        };
        let Ok(mut cache) = cache.lock() else {
            return self.run(jobs);
        };
        let mut results: Vec<Option<Arc<Verification>>> = keys
            .iter()
            .map(|key| cache.get(&key.digest).map(Arc::new))
            .collect();
        let pending: Vec<usize> = (0..jobs.len()).filter(|&i| results[i].is_none()).collect();
        stats.cached = jobs.len() - pending.len();
        let to_ask: Vec<Job> = pending.iter().map(|&i| jobs[i].clone()).collect();
        for (&i, answer) in pending.iter().zip(self.run(&to_ask)) {
            let parts: Vec<&str> = keys[i].private.iter().map(String::as_str).collect();
            let kept = Verification {
                identity: answer.identity.as_deref().map(|id| scrub_parts(id, &parts)),
                ..(*answer).clone()
            };
            cache.put(&keys[i].digest, &kept);
            results[i] = Some(answer);
        }
        stats.cache_error = cache.save().err();
        results.into_iter().flatten().collect()
    }

    /// Runs the jobs on a small pool of threads.
    fn run(&self, jobs: &[Job]) -> Vec<Arc<Verification>> {
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
                            let Some((check, values)) = jobs.get(i) else {
                                break;
                            };
                            mine.push((i, self.check_one(check.as_ref(), values)));
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
    fn check_one(&self, check: &dyn Check, values: &Values) -> Verification {
        let base = match check.endpoint() {
            Some((endpoint, default_base)) => self
                .options
                .endpoints
                .get(endpoint)
                .map_or(default_base, String::as_str),
            None => "",
        };
        let context = Context {
            client: &self.client,
            base,
            options: &self.options,
        };
        let verdict = if base.is_empty() {
            check.verify(values, &context)
        } else {
            allowed_base(base).and_then(|()| check.verify(values, &context))
        };
        verdict.unwrap_or_else(|why| Verification::unknown(scrub(&why, values)))
    }
}

/// What finding `of`'s check is asked with: its secret and named parts, completed from a
/// companion finding where the check needs one (each companion used is added to `pairs`, to be
/// folded in), and the values never to be written down (the secret and the companions).
fn gather(
    findings: &[Finding],
    of: usize,
    entry: &SignatureCheck,
    companions: &[usize],
    pairs: &mut Vec<(usize, usize)>,
) -> Result<(Values, Vec<String>), String> {
    let found = &findings[of].found;
    let mut values = Values {
        secret: found.secret.clone(),
        named: found
            .captures
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect(),
    };
    let mut private = vec![values.secret.clone()];
    for name in &entry.needs {
        let spec = entry.companion.as_ref().filter(|spec| spec.name == *name);
        if let Some(have) = values.get(name) {
            // The pattern matched the other part too (or another signature of the same secret
            // did); its own finding, when there is one, folds in all the same.
            if let Some(spec) = spec {
                private.push(have.to_string());
                let same = companion_of(findings, companions, of, spec)
                    .filter(|&j| findings[j].found.secret == have);
                pairs.extend(same.map(|j| (of, j)));
            }
            continue;
        }
        let partner = spec.and_then(|spec| companion_of(findings, companions, of, spec));
        let Some(j) = partner else {
            return Err(format!(
                "the check needs the credential's other part ({{{name}}}), not found nearby"
            ));
        };
        private.push(findings[j].found.secret.clone());
        values
            .named
            .push((name.clone(), findings[j].found.secret.clone()));
        pairs.push((of, j));
    }
    Ok((values, private))
}

/// The nearest finding of one of `spec`'s signatures at the same origin within its line range.
fn companion_of(
    findings: &[Finding],
    candidates: &[usize],
    of: usize,
    spec: &CompanionSpec,
) -> Option<usize> {
    let me = &findings[of];
    candidates
        .iter()
        .map(|&j| (j, &findings[j]))
        .filter(|(j, other)| {
            *j != of
                && spec.signatures.contains(&other.found.signature_id)
                && *other.origin == *me.origin
                && other.found.line.abs_diff(me.found.line) <= spec.within_lines
        })
        .min_by_key(|(_, other)| other.found.line.abs_diff(me.found.line))
        .map(|(j, _)| j)
}

/// Where a finding's other half was found, when its credential was verified as a pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PairedWith {
    /// The companion's signature.
    pub signature_id: String,
    /// Its line.
    pub line: usize,
    /// Its column.
    pub column: usize,
}

/// What an answer means under a declarative check.
fn judge_declared(check: &HttpCheck, answer: &Answer) -> Verification {
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

/// Removes every trace of the credential's parts from a message (raw and URL-encoded).
fn scrub(message: &str, values: &Values) -> String {
    let parts: Vec<&str> = std::iter::once(values.secret.as_str())
        .chain(values.named.iter().map(|(_, v)| v.as_str()))
        .collect();
    scrub_parts(message, &parts)
}

/// Removes every trace of `parts` from a message (raw and URL-encoded).
fn scrub_parts(message: &str, parts: &[&str]) -> String {
    let mut clean = message.to_string();
    for part in parts.iter().filter(|p| p.len() >= 4) {
        clean = clean
            .replace(part, "[redacted]")
            .replace(&crate::net::percent_encode(part), "[redacted]");
    }
    clean
}

/// A map key for a credential that holds no secret: a hash of the signature and the values.
fn values_key(signature: &str, values: &Values) -> [u8; 32] {
    let mut hasher = sha2::Sha256::new();
    hasher.update(signature.as_bytes());
    for part in std::iter::once(("secret", values.secret.as_str()))
        .chain(values.named.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    {
        hasher.update([0]);
        hasher.update(part.0.as_bytes());
        hasher.update([0]);
        hasher.update(part.1.as_bytes());
    }
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
    fn messages_are_scrubbed_of_every_part() {
        let values = Values {
            secret: "tok/en+1".into(),
            named: vec![("id".into(), "AKIAEXAMPLEID".into())],
        };
        let message = "GET https://x/tok%2Fen%2B1?id=AKIAEXAMPLEID failed: tok/en+1";
        let clean = scrub(message, &values);
        assert!(!clean.contains("tok") && !clean.contains("AKIA"), "{clean}");
    }
}
