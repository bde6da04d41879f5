//! Stage 5: sinks that turn findings into output. Every format is just another sink, and
//! redaction happens here, at the edge, never earlier.

mod escape;
mod gitlab;
mod human;
mod json;
mod record;
pub mod sarif;

use std::io;

pub use escape::escape_control;
pub use gitlab::GitLabSink;
pub use human::{human_bytes, HumanSink};
pub use json::{findings_schema, JsonLinesSink, JsonSink};
pub use record::FindingRecord;
pub use sarif::SarifSink;

use crate::{findings::Finding, scan::Summary, sources::SourceError};

/// Receives a scan's results as they arrive.
pub trait FindingSink {
    /// One finding; a suppressed one (`finding.suppression`) only when suppressed findings
    /// are to be shown. `Ok(false)` asks the scan to stop (for example, the reader went away).
    fn finding(&mut self, finding: &Finding) -> io::Result<bool>;

    /// An input that could not be scanned. Sinks that produce a document record it; the CLI
    /// also prints it on stderr.
    fn error(&mut self, _error: &SourceError) -> io::Result<()> {
        Ok(())
    }

    /// The scan is over.
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
}

/// Presentation settings shared by the sinks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportOptions {
    /// Print secrets in clear instead of redacted.
    pub show_secrets: bool,
    /// Use ANSI colours (human output only).
    pub color: bool,
}

/// Sort key putting findings in reading order.
pub(crate) fn reading_order(f: &Finding) -> (String, usize, usize, String) {
    (
        f.origin.display_path(),
        f.found.line,
        f.found.column,
        f.found.signature_id.clone(),
    )
}
