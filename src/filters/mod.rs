//! Stage 3: decide which raw matches are worth reporting, and how confidently.
//!
//! Each raw match passes, in order: the signature's entropy floor, its checksum (a valid one
//! raises confidence to high, an invalid one rejects a look-alike), placeholder rejection where
//! the signature asks for it, the generic-secret heuristics for generic signatures, and finally
//! the user's confidence floor. The filters see
//! only the matched bytes and the signature, never the origin, so a blob's candidates are the
//! same wherever the blob was found.

mod documentation;
pub mod entropy;
pub mod generic;
mod heuristics;
pub mod placeholder;
pub mod words;

use crate::{
    engine::RawMatch,
    rules::{Confidence, RuleSet},
};

/// Passwords shorter than this in a credential context are test values (`abc:xyz@`).
const SHORTEST_CREDENTIAL: usize = 4;

/// A placeholder value, a password that repeats its user name (`postgres:postgres@`,
/// `admin:admin`: the defaults of local development setups), a password too short to be
/// real, or credentials for a host reserved for documentation (`example.com`, RFC 2606).
fn is_placeholder_credential(raw: &RawMatch, haystack: &[u8], secret: &[u8]) -> bool {
    let capture = |name: &str| {
        raw.captures
            .iter()
            .find(|c| &*c.name == name)
            .map(|c| &haystack[c.span.clone()])
    };
    secret.len() < SHORTEST_CREDENTIAL
        || placeholder::placeholder_reason(secret).is_some()
        || capture("user").is_some_and(|user| user.eq_ignore_ascii_case(secret))
        || capture("host").is_some_and(placeholder::is_documentation_host)
        // Roff escapes (`example\&.org`, `\fIhost\fR`) only occur in manual page sources:
        // their credentials are examples.
        || capture("host").is_some_and(|host| {
            memchr::memmem::find(host, b"\\&").is_some()
                || memchr::memmem::find(host, b"\\f").is_some()
        })
}

/// Longest identifier prefix added to a captured name.
const NAME_LEAD: usize = 64;

/// Generic patterns start at their keyword; the name they assign to may begin earlier
/// (`DB_PASSWORD`, `$config['api_key']`). Extends `name` left over identifier characters.
fn whole_name(haystack: &[u8], name: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let is_ident = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'$');
    let lead = haystack[name.start.saturating_sub(NAME_LEAD)..name.start]
        .iter()
        .rev()
        .take_while(|b| is_ident(b))
        .count();
    name.start - lead..name.end
}

/// A raw match that survived the filters.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The match.
    pub raw: RawMatch,
    /// Confidence after checksum and heuristics.
    pub confidence: Confidence,
    /// Shannon entropy of the secret, bits per byte.
    pub entropy: f64,
}

/// The filter chain, configured once per scan.
#[derive(Debug, Clone)]
pub struct Filters {
    floor: Confidence,
}

impl Filters {
    /// Filters that drop anything below `floor`.
    pub fn new(floor: Confidence) -> Self {
        Filters { floor }
    }

    /// The confidence floor.
    pub fn floor(&self) -> Confidence {
        self.floor
    }

    /// Judges one raw match found in `haystack`.
    pub fn judge(&self, rules: &RuleSet, haystack: &[u8], raw: RawMatch) -> Option<Candidate> {
        let signature = rules.get(raw.signature);
        let secret = &haystack[raw.secret.clone()];
        if signature
            .min_entropy()
            .is_some_and(|min| entropy::shannon(secret) < min)
        {
            return None;
        }
        let mut confidence = signature.confidence();
        if let Some(checksum) = signature.checksum() {
            if !checksum.is_valid(secret) {
                return None;
            }
            confidence = Confidence::High;
        }
        if documentation::is_documentation_example(secret) {
            confidence = Confidence::Low;
        }
        if signature.rejects_placeholders() && is_placeholder_credential(&raw, haystack, secret) {
            return None;
        }
        if signature.is_generic() {
            let name = raw
                .captures
                .iter()
                .find(|c| &*c.name == "name")
                .map(|c| &haystack[whole_name(haystack, c.span.clone())]);
            match generic::assess(name, secret) {
                generic::GenericVerdict::Keep(level) => confidence = confidence.min(level),
                generic::GenericVerdict::Reject(_) => return None,
            }
        }
        if confidence < self.floor {
            return None;
        }
        // Computed last: most raw matches are rejected before they need it.
        let entropy = entropy::shannon(secret);
        Some(Candidate {
            raw,
            confidence,
            entropy,
        })
    }
}
