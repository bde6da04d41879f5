//! JSON (one document) and JSONL (one finding per line, streamed) output.

use std::io::{self, Write};

use serde::Serialize;

use super::{FindingRecord, FindingSink, ReportOptions};
use crate::{findings::Finding, scan::Summary, sources::SourceError};

/// Version of the JSON document layout; bumped on incompatible changes.
const SCHEMA_VERSION: u32 = 1;

/// Writes one JSON document at the end of the scan: findings sorted by path, line and column,
/// the errors, and the summary.
pub struct JsonSink<W: Write> {
    out: W,
    options: ReportOptions,
    findings: Vec<Finding>,
    errors: Vec<SourceError>,
}

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Tool,
    findings: Vec<FindingRecord<'a>>,
    errors: Vec<ErrorRecord<'a>>,
    summary: &'a Summary,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct ErrorRecord<'a> {
    input: &'a str,
    kind: crate::sources::SourceErrorKind,
    message: &'a str,
}

impl<W: Write> JsonSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W, options: ReportOptions) -> Self {
        JsonSink {
            out,
            options,
            findings: Vec::new(),
            errors: Vec::new(),
        }
    }
}

/// Sort key putting findings in reading order.
fn reading_order(f: &Finding) -> (String, usize, usize, String) {
    (
        f.origin.display_path(),
        f.found.line,
        f.found.column,
        f.found.signature_id.clone(),
    )
}

impl<W: Write> FindingSink for JsonSink<W> {
    fn finding(&mut self, finding: &Finding) -> io::Result<bool> {
        self.findings.push(finding.clone());
        Ok(true)
    }

    fn error(&mut self, error: &SourceError) -> io::Result<()> {
        self.errors.push(error.clone());
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.findings.sort_by_cached_key(reading_order);
        let document = Document {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "keysift",
                version: env!("CARGO_PKG_VERSION"),
            },
            findings: self
                .findings
                .iter()
                .map(|f| FindingRecord::new(f, &self.options))
                .collect(),
            errors: self
                .errors
                .iter()
                .map(|e| ErrorRecord {
                    input: &e.input,
                    kind: e.kind,
                    message: &e.message,
                })
                .collect(),
            summary,
        };
        serde_json::to_writer_pretty(&mut self.out, &document)?;
        writeln!(self.out)?;
        self.out.flush()
    }
}

/// Writes each finding as one JSON line as soon as it is found.
pub struct JsonLinesSink<W: Write> {
    out: W,
    options: ReportOptions,
}

impl<W: Write> JsonLinesSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W, options: ReportOptions) -> Self {
        JsonLinesSink { out, options }
    }
}

impl<W: Write> FindingSink for JsonLinesSink<W> {
    fn finding(&mut self, finding: &Finding) -> io::Result<bool> {
        serde_json::to_writer(&mut self.out, &FindingRecord::new(finding, &self.options))?;
        writeln!(self.out)?;
        self.out.flush()?;
        Ok(true)
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.out.flush()
    }
}
