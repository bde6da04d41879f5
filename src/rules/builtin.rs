//! The built-in signatures' scan view: their scan fields, parsed at build time (see build.rs).

use super::{ChecksumKind, Confidence};

/// One built-in signature, as much of it as a scan needs.
#[derive(Debug)]
pub(crate) struct BuiltinSignature {
    /// Index into `BUILTIN_SIGNATURE_FILES`.
    pub file: usize,
    /// Line of the `id` key.
    pub line: usize,
    /// Line of the `pattern` key.
    pub pattern_line: usize,
    pub id: &'static str,
    pub name: &'static str,
    pub provider: &'static str,
    pub category: &'static str,
    pub confidence: Confidence,
    pub keywords: &'static [&'static str],
    pub keywords_ignore_case: bool,
    pub keywordless: bool,
    pub pattern: &'static str,
    pub max_len: Option<usize>,
    pub min_entropy: Option<f64>,
    pub checksum: Option<ChecksumKind>,
    pub generic: bool,
    pub reject_placeholders: bool,
}

include!(concat!(env!("OUT_DIR"), "/builtin_scan_view.rs"));
