//! Human output: findings grouped by file, redacted, coloured on a terminal, then a summary.

use std::{
    borrow::Cow,
    io::{self, Write},
};

use super::{escape_control, FindingSink, ReportOptions};
use crate::{
    findings::{redact, Finding},
    rules::Confidence,
    scan::Summary,
    sources::git::{short, GitOrigin},
    verify::Verdict,
};

/// ANSI styles used when colour is on.
mod style {
    pub const BOLD_MAGENTA: &str = "\x1b[1;35m";
    pub const BOLD_RED: &str = "\x1b[1;31m";
    pub const YELLOW: &str = "\x1b[33m";
    pub const DIM: &str = "\x1b[2m";
    pub const CYAN: &str = "\x1b[36m";
    pub const BOLD: &str = "\x1b[1m";
    pub const RESET: &str = "\x1b[0m";
}

/// Prints findings grouped under their file's path.
pub struct HumanSink<W: Write> {
    out: W,
    options: ReportOptions,
    current_origin: Option<String>,
    /// The last location counted in `files_with_findings` (suppressed findings do not count).
    counted_origin: Option<String>,
    files_with_findings: u64,
    by_confidence: [u64; 3],
}

impl<W: Write> HumanSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W, options: ReportOptions) -> Self {
        HumanSink {
            out,
            options,
            current_origin: None,
            counted_origin: None,
            files_with_findings: 0,
            by_confidence: [0; 3],
        }
    }

    fn paint<'t>(&self, style: &str, text: &'t str) -> Cow<'t, str> {
        if self.options.color {
            Cow::Owned(format!("{style}{text}{}", style::RESET))
        } else {
            Cow::Borrowed(text)
        }
    }
}

impl<W: Write> FindingSink for HumanSink<W> {
    fn finding(&mut self, finding: &Finding) -> io::Result<bool> {
        let found = &finding.found;
        let path = finding.origin.display_path();
        if finding.suppression.is_none() {
            self.by_confidence[found.confidence as usize] += 1;
            if self.counted_origin.as_deref() != Some(path.as_str()) {
                self.files_with_findings += 1;
                self.counted_origin = Some(path.clone());
            }
        }
        if self.current_origin.as_deref() != Some(path.as_str()) {
            if self.current_origin.is_some() {
                writeln!(self.out)?;
            }
            writeln!(
                self.out,
                "{}",
                self.paint(style::BOLD_MAGENTA, &escape_control(&path))
            )?;
            self.current_origin = Some(path);
        }

        let confidence_style = match found.confidence {
            Confidence::High => style::BOLD_RED,
            Confidence::Medium => style::YELLOW,
            Confidence::Low => style::DIM,
        };
        let position = format!("{}:{}", found.line, found.column);
        writeln!(
            self.out,
            "  {:>9}  {}  {}  {}",
            position,
            self.paint(
                confidence_style,
                &format!("{:<6}", found.confidence.as_str())
            ),
            self.paint(style::CYAN, &found.signature_id),
            escape_control(&found.signature_name),
        )?;
        let secret = if self.options.show_secrets {
            found.snippet.secret.clone()
        } else {
            redact(&found.secret)
        };
        let (before, after) = found.snippet.context(self.options.show_secrets);
        let snippet = format!(
            "{}{}{}",
            escape_control(before),
            self.paint(style::BOLD, &escape_control(&secret)),
            escape_control(after)
        );
        writeln!(self.out, "  {:>9}  {}", "", snippet.trim_end())?;
        if let Some(verification) = &finding.verification {
            let (style, detail) = match verification.status {
                Verdict::Live => (style::BOLD_RED, verification.identity.as_deref()),
                Verdict::Invalid => (style::DIM, None),
                Verdict::Unknown => (style::YELLOW, verification.reason.as_deref()),
            };
            let label = match detail {
                Some(detail) => format!("verified: {} ({detail})", verification.status.as_str()),
                None => format!("verified: {}", verification.status.as_str()),
            };
            writeln!(
                self.out,
                "  {:>9}  {}",
                "",
                self.paint(style, &escape_control(&label))
            )?;
        }
        if let Some(suppression) = &finding.suppression {
            let label = format!("suppressed: {}", suppression.reason());
            writeln!(self.out, "  {:>9}  {}", "", self.paint(style::DIM, &label))?;
        }
        if let Some(git) = finding.origin.git() {
            if let Some(line) = git_line(git) {
                writeln!(
                    self.out,
                    "  {:>9}  {}",
                    "",
                    self.paint(style::DIM, &escape_control(&line))
                )?;
            }
        }
        Ok(true)
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        if self.current_origin.is_some() {
            writeln!(self.out)?;
        }
        let [low, medium, high] = self.by_confidence;
        let levels: Vec<String> = [(high, "high"), (medium, "medium"), (low, "low")]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, name)| format!("{n} {name}"))
            .collect();
        let findings = match summary.findings {
            0 => "no findings".to_string(),
            n => format!(
                "{n} finding{} ({}) in {} location{}",
                plural(n),
                levels.join(", "),
                self.files_with_findings,
                plural(self.files_with_findings)
            ),
        };
        let cached = match summary.already_scanned {
            0 => String::new(),
            n => format!(
                " · {n} blob{} already scanned clean (incremental)",
                plural(n)
            ),
        };
        let archives = match summary.archives_opened {
            0 => String::new(),
            n => format!(
                " · {n} archive{} opened ({} member{})",
                plural(n),
                summary.archive_members,
                plural(summary.archive_members)
            ),
        };
        let suppressed = [
            (summary.suppressed_inline, "allowed inline"),
            (summary.baselined, "in the baseline"),
            (summary.allowlisted, "allowlisted by the config"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, why)| format!("{n} {why}"))
        .collect::<Vec<_>>();
        let suppressed = if suppressed.is_empty() {
            String::new()
        } else {
            format!(" · {}", suppressed.join(", "))
        };
        let errors = match summary.errors {
            0 => String::new(),
            n => format!(" · {n} input{} skipped with errors", plural(n)),
        };
        writeln!(
            self.out,
            "{}{} · {} blob{} scanned ({}) in {:.2} s, {:.1} MB/s{}{}{}",
            findings,
            suppressed,
            summary.blobs_scanned,
            plural(summary.blobs_scanned),
            human_bytes(summary.bytes_scanned),
            summary.elapsed.as_secs_f64(),
            summary.megabytes_per_second(),
            cached,
            archives,
            errors
        )?;
        self.out.flush()
    }
}

/// Who introduced a git finding, and when.
fn git_line(git: &GitOrigin) -> Option<String> {
    let commit = git.commit.as_ref()?;
    let mut line = format!(
        "commit {} by {} <{}> on {}: {}",
        short(&commit.id),
        commit.author_name,
        commit.author_email,
        commit.date,
        commit.summary
    );
    if git.other_commits > 0 {
        line.push_str(&format!(
            " (and {} other commit{})",
            git.other_commits,
            plural(git.other_commits as u64)
        ));
    }
    if !git.other_paths.is_empty() {
        line.push_str(&format!("; also at {}", git.other_paths.join(", ")));
    }
    Some(line)
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Bytes in decimal units: `512 B`, `1.5 kB`, `1.2 GB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn bytes_are_humane() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(1_500), "1.5 kB");
        assert_eq!(human_bytes(2_345_678_901), "2.3 GB");
    }
}
