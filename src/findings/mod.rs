//! Stage 4: what keysift reports. A [`BlobFinding`] is everything about a secret that depends
//! only on the blob's bytes (computed once per unique blob); a [`Finding`] adds one place the
//! blob was seen and the fingerprint that identifies the finding there.

mod allow;
mod fingerprint;
mod locate;
mod redact;

use std::sync::Arc;

use serde::Serialize;

pub use allow::InlineAllow;
pub use fingerprint::fingerprint;
pub use locate::{describe, Snippet};
pub use redact::redact;

use crate::{
    rules::Confidence,
    sources::Origin,
    verify::{PairedWith, Verification},
};

/// A secret found in a blob, independent of where the blob came from.
#[derive(Debug, Clone, PartialEq)]
pub struct BlobFinding {
    /// Signature id.
    pub signature_id: String,
    /// Signature name.
    pub signature_name: String,
    /// Confidence after filters.
    pub confidence: Confidence,
    /// Shannon entropy of the secret, bits per byte.
    pub entropy: f64,
    /// The secret, lossily decoded as UTF-8. Kept in memory only; sinks redact it.
    pub secret: String,
    /// Byte offset of the secret in the blob.
    pub offset: usize,
    /// 1-based line of the secret's first byte.
    pub line: usize,
    /// 1-based column (in characters) of the secret's first byte.
    pub column: usize,
    /// The secret's line, bounded in length.
    pub snippet: Snippet,
    /// Other signatures that matched the same secret at the same place.
    pub also_matched: Vec<String>,
    /// The inline marker (`keysift:allow`, ...) that allows this secret, if its line or the
    /// line before has one.
    pub allowed: Option<InlineAllow>,
    /// The match's other named groups (a key id, a host, a user), for verification. Kept in
    /// memory only, never reported: a group may hold a secret too.
    pub captures: Vec<(Arc<str>, String)>,
}

impl BlobFinding {
    /// The signature id, for convenience.
    pub fn signature_id(&self) -> &str {
        &self.signature_id
    }
}

/// A secret found at one place.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// What was found.
    pub found: Arc<BlobFinding>,
    /// Where.
    pub origin: Arc<Origin>,
    /// Stable id: signature, secret and origin path hashed together; see [`fingerprint`].
    pub fingerprint: String,
    /// What the provider said, when verification ran and the signature has a check.
    pub verification: Option<Arc<Verification>>,
    /// For a multi-part credential verified as a pair: where its other part was found (that
    /// part is not reported separately).
    pub paired_with: Option<Arc<PairedWith>>,
    /// Why the finding is not reported, if it is not: an inline marker, or the baseline.
    pub suppression: Option<Suppression>,
}

/// Why a finding is not reported. Suppressed findings are counted in the summary and shown
/// only when asked (`--show-suppressed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Suppression {
    /// An inline marker on the secret's line (or the line before).
    Inline {
        /// The marker.
        marker: InlineAllow,
    },
    /// The baseline file lists the finding's fingerprint.
    Baseline,
}

impl Suppression {
    /// Why, in words.
    pub fn reason(&self) -> String {
        match self {
            Suppression::Inline { marker } => format!("inline {}", marker.marker()),
            Suppression::Baseline => "in the baseline".to_string(),
        }
    }
}

impl Finding {
    /// Attaches a blob finding to one of the blob's origins.
    pub fn new(found: Arc<BlobFinding>, origin: Arc<Origin>) -> Self {
        let fingerprint = fingerprint(
            &found.signature_id,
            found.secret.as_bytes(),
            &origin.location_key(),
        );
        let suppression = found.allowed.map(|marker| Suppression::Inline { marker });
        Finding {
            found,
            origin,
            fingerprint,
            verification: None,
            paired_with: None,
            suppression,
        }
    }
}
