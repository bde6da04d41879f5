//! JSON (one document) and JSONL (one finding per line, streamed) output.

use std::io::{self, Write};

use serde::Serialize;

use super::{FindingRecord, FindingSink, ReportOptions};
use crate::{findings::Finding, scan::Summary, sources::SourceError};

/// Version of the JSON document layout; bumped on incompatible changes. The layout itself is
/// described by `docs/findings.schema.json`, generated from these types (see
/// [`findings_schema`]).
const SCHEMA_VERSION: u32 = 1;

/// Writes one JSON document at the end of the scan: findings sorted by path, line and column,
/// the errors, and the summary.
pub struct JsonSink<W: Write> {
    out: W,
    options: ReportOptions,
    findings: Vec<Finding>,
    errors: Vec<SourceError>,
}

/// The JSON report of a keysift scan (`--format json`). Each line of `--format jsonl` is one
/// `FindingRecord`.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(title = "keysift findings", deny_unknown_fields)]
struct Document<'a> {
    /// The version of this layout (1); bumped on incompatible changes.
    schema_version: u32,
    /// The program that wrote the report.
    tool: Tool,
    /// Findings, in reading order (path, line, column).
    findings: Vec<FindingRecord<'a>>,
    /// Inputs that could not be scanned.
    errors: Vec<ErrorRecord<'a>>,
    /// What the scan did.
    summary: &'a Summary,
}

/// The program that wrote the report.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Tool {
    /// `keysift`.
    name: &'static str,
    /// Its version.
    version: &'static str,
}

/// An input that could not be scanned.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
struct ErrorRecord<'a> {
    /// The input (a path, `<stdin>`, an archive member).
    input: &'a str,
    /// What kind of problem.
    kind: crate::sources::SourceErrorKind,
    /// Human-readable detail.
    message: &'a str,
}

/// The JSON Schema (draft 2020-12) of `--format json` documents; `$defs/FindingRecord` is the
/// schema of each `--format jsonl` line. `docs/findings.schema.json` is this, checked in.
pub fn findings_schema() -> serde_json::Value {
    // What keysift writes (fields skipped when empty are optional), not what it would read.
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<Document<'static>>();
    serde_json::to_value(schema).expect("a schema serialises")
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
        self.findings.sort_by_cached_key(super::reading_order);
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

#[cfg(test)]
mod tests {
    use super::findings_schema;

    /// The checked-in schema is what the types say: a change to the output shows up in review
    /// as a change to docs/findings.schema.json. `KEYSIFT_BLESS=1` rewrites the file.
    #[test]
    fn the_checked_in_schema_is_the_generated_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/findings.schema.json");
        let mut generated = serde_json::to_string_pretty(&findings_schema()).unwrap();
        generated.push('\n');
        if std::env::var_os("KEYSIFT_BLESS").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let checked_in = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            checked_in == generated,
            "docs/findings.schema.json differs from the report types; if the change is meant, \
             regenerate it with `KEYSIFT_BLESS=1 cargo test --lib report::json` and bump \
             SCHEMA_VERSION for incompatible changes"
        );
    }
}
