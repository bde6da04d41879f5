//! keysift finds leaked credentials in directories, git history, container images and stdin.
//!
//! Data flows one way through small stages, each in its own module:
//!
//! ```text
//! sources ─► blobs ─► dedup ─► engine ─► raw matches ─► filters ─► findings ─► report
//! ```
//!
//! * [`rules`] loads the signature library (TOML data embedded at build time, plus extra files)
//!   and lints it.
//! * [`engine`] holds the [`engine::Matcher`] trait and the portable engine: an Aho-Corasick
//!   prefilter over every signature's keywords, then each triggered signature's regex on a
//!   window around its keyword hits.
//! * [`filters`] turns raw matches into candidates worth reporting: checksums, entropy floors and
//!   the generic-secret heuristics.
//! * [`findings`] gives each surviving match a location, a snippet and a fingerprint.
//! * [`sources`] enumerates inputs (a directory tree, stdin) as blobs with origins.
//! * [`scan`] wires it together: the parallel loop that reads blobs, scans each unique blob once
//!   and sends findings to a sink.
//! * [`baseline`] reads and writes baseline files: the fingerprints of accepted findings.
//! * [`report`] holds the sinks: human, JSON, JSONL, SARIF and GitLab output.
//! * [`lint`] proves every signature against its own examples.
//! * [`config`] reads the project configuration (`.keysift.toml`, or a gitleaks file).
//!
//! The library is usable without the CLI:
//!
//! ```
//! use keysift::{rules::RuleSet, scan::Scanner};
//!
//! let rules = RuleSet::builtin().unwrap();
//! // Every signature carries synthetic examples; scan one of them.
//! let (_, github) = rules.find("github.pat.classic").unwrap();
//! let text = format!("export GITHUB_TOKEN={}", github.examples()[0].secret);
//!
//! let scanner = Scanner::builder(rules).build().unwrap();
//! let findings = scanner.scan_bytes(text.as_bytes());
//! assert_eq!(findings[0].signature_id(), "github.pat.classic");
//! assert_eq!(findings[0].line, 1);
//! ```
#![deny(missing_docs)]

pub mod baseline;
pub mod config;
pub mod engine;
pub mod filters;
pub mod findings;
mod hex;
pub mod lint;
pub mod net;
pub mod report;
pub mod rules;
pub mod scan;
pub mod sources;
pub mod suppress;
pub mod time;
pub mod verify;
