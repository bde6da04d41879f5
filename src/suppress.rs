//! Deciding which findings are reported: a finding allowed by an inline marker, or listed in
//! the baseline, is suppressed. Suppressed findings are counted (the summary says how many were
//! left out and why) and shown only when asked.
//!
//! This runs between the scan and the sinks, on the consumer thread, so that every source (dir,
//! stdin, git, image) and every format gets the same decisions.

use std::path::Path;

use crate::{
    baseline::{Baseline, BaselineError, BaselineWriter},
    findings::{Finding, Suppression},
    scan::Summary,
};

/// Marks findings as suppressed and counts them.
#[derive(Debug, Default)]
pub struct Suppressor {
    baseline: Option<Baseline>,
    recording: Option<BaselineWriter>,
    inline: u64,
    baselined: u64,
}

impl Suppressor {
    /// Suppresses what `baseline` lists (if given), besides inline markers.
    pub fn new(baseline: Option<Baseline>) -> Self {
        Suppressor {
            baseline,
            ..Suppressor::default()
        }
    }

    /// Also records every finding not allowed inline, for a new baseline; those findings are
    /// then accepted, so suppressed as baselined.
    pub fn recording(mut self) -> Self {
        self.recording = Some(BaselineWriter::default());
        self
    }

    /// Decides `finding`'s suppression (an inline marker found by the scan is kept) and counts
    /// it; returns whether it is suppressed.
    pub fn judge(&mut self, finding: &mut Finding) -> bool {
        if finding.suppression.is_none() {
            if let Some(writer) = &mut self.recording {
                writer.add(finding);
                finding.suppression = Some(Suppression::Baseline);
            } else if self.baseline.as_ref().is_some_and(|b| b.contains(finding)) {
                finding.suppression = Some(Suppression::Baseline);
            }
        }
        match finding.suppression {
            Some(Suppression::Inline { .. }) => self.inline += 1,
            Some(Suppression::Baseline) => self.baselined += 1,
            None => return false,
        }
        true
    }

    /// Writes the counts into `summary`.
    pub fn count_into(&self, summary: &mut Summary) {
        summary.suppressed_inline = self.inline;
        summary.baselined = self.baselined;
    }

    /// Writes the recorded baseline, if recording; returns how many distinct findings it
    /// holds.
    pub fn write_baseline(&mut self, path: &Path) -> Result<Option<usize>, BaselineError> {
        match self.recording.take() {
            Some(writer) => {
                let n = writer.len();
                writer.write(path)?;
                Ok(Some(n))
            }
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{findings::InlineAllow, rules::RuleSet, scan::Scanner, sources::Origin};

    fn scan(text: &str) -> Vec<Finding> {
        let scanner = Scanner::builder(RuleSet::builtin().unwrap())
            .build()
            .unwrap();
        let origin = Arc::new(Origin::File {
            path: "a.env".into(),
        });
        scanner
            .scan_bytes(text.as_bytes())
            .into_iter()
            .map(|f| Finding::new(Arc::new(f), origin.clone()))
            .collect()
    }

    #[test]
    fn inline_markers_win_and_recording_accepts_the_rest() {
        let text = "a = 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 # keysift:allow\n\
                    b = 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\n";
        let mut found = scan(text);
        assert_eq!(found.len(), 2);
        let mut plain = Suppressor::new(None);
        let verdicts: Vec<bool> = found.clone().iter_mut().map(|f| plain.judge(f)).collect();
        assert_eq!(verdicts, [true, false]);

        let mut recording = Suppressor::new(None).recording();
        assert!(found.iter_mut().all(|f| recording.judge(f)));
        assert_eq!(
            found[0].suppression,
            Some(Suppression::Inline {
                marker: InlineAllow::Keysift
            })
        );
        assert_eq!(found[1].suppression, Some(Suppression::Baseline));
        let mut summary = Summary::default();
        recording.count_into(&mut summary);
        assert_eq!((summary.suppressed_inline, summary.baselined), (1, 1));
    }
}
