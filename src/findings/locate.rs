//! Turns a blob's candidates into findings: one per secret and place, with line, column and a
//! snippet. Line numbers are computed only here, for the few matches that survive filtering,
//! in a single pass over the blob.

use std::ops::Range;

use super::{
    allow::{inline_allow, line_end, InlineAllow},
    redact, BlobFinding,
};
use crate::{filters::Candidate, rules::RuleSet};

/// Longest snippet context kept on each side of the secret, in bytes.
const CONTEXT: usize = 60;
/// Longest part of the secret shown in a snippet (multi-line secrets show their first line).
const SECRET_IN_SNIPPET: usize = 120;

/// The line around a secret, cut to a readable length, with the secret kept separate so sinks
/// can redact it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snippet {
    /// Text before the secret on its line (`…` marks a cut).
    pub before: String,
    /// The secret's text on this line.
    pub secret: String,
    /// Text after the secret on its line.
    pub after: String,
    /// `before` with the other secrets found on the line redacted.
    pub before_redacted: String,
    /// `after` with the other secrets found on the line redacted.
    pub after_redacted: String,
}

impl Snippet {
    /// The text around the secret: with other secrets on the line redacted, unless secrets
    /// are shown.
    pub fn context(&self, show_secrets: bool) -> (&str, &str) {
        if show_secrets {
            (&self.before, &self.after)
        } else {
            (&self.before_redacted, &self.after_redacted)
        }
    }
}

/// Builds the findings of one blob from its candidates.
///
/// Candidates with the same secret span collapse into one finding, keeping the most confident
/// signature (provider-specific before generic), listing the others in `also_matched`, and
/// keeping the named captures of all of them (the first of each name). A
/// generic candidate whose secret overlaps a provider-specific one is not reported on its own:
/// the specific signature explains it, and lists it in `also_matched`.
pub fn describe(
    rules: &RuleSet,
    haystack: &[u8],
    mut candidates: Vec<Candidate>,
) -> Vec<BlobFinding> {
    let is_generic = |c: &Candidate| rules.get(c.raw.signature).is_generic();
    candidates.sort_by(|a, b| {
        (a.raw.secret.start, a.raw.secret.end)
            .cmp(&(b.raw.secret.start, b.raw.secret.end))
            .then(b.confidence.cmp(&a.confidence))
            .then(is_generic(a).cmp(&is_generic(b)))
            .then(a.raw.signature.cmp(&b.raw.signature))
    });

    let specific = SpanIndex::new(
        candidates
            .iter()
            .filter(|c| !is_generic(c))
            .map(|c| c.raw.secret.clone()),
    );

    let mut kept: Vec<(Candidate, Vec<String>)> = Vec::new();
    let mut absorbed: Vec<Candidate> = Vec::new();
    for candidate in candidates {
        if is_generic(&candidate) && specific.first_overlapping(&candidate.raw.secret).is_some() {
            absorbed.push(candidate);
            continue;
        }
        match kept.last_mut() {
            Some((best, also)) if best.raw.secret == candidate.raw.secret => {
                let id = rules.get(candidate.raw.signature).id().to_string();
                if !also.contains(&id) && id != rules.get(best.raw.signature).id() {
                    also.push(id);
                }
                // Its named parts stay with the finding: a signature that matched the same
                // secret with the account or shop beside it is how verification gets them.
                for capture in candidate.raw.captures {
                    if !best.raw.captures.iter().any(|c| c.name == capture.name) {
                        best.raw.captures.push(capture);
                    }
                }
            }
            _ => kept.push((candidate, Vec::new())),
        }
    }

    // A generic match explained by a specific one is named in the specific finding.
    let kept_spans = SpanIndex::new(kept.iter().map(|(c, _)| c.raw.secret.clone()));
    for generic in absorbed {
        if let Some(host) = kept_spans.first_overlapping(&generic.raw.secret) {
            let also = &mut kept[host].1;
            let id = rules.get(generic.raw.signature).id().to_string();
            if !also.contains(&id) {
                also.push(id);
            }
        }
    }

    let mut lines = LineCounter::new(haystack);
    // Findings come in offset order, so those sharing a line are consecutive: the line's end
    // and inline marker are looked up once per line, not once per finding (a minified file is
    // one huge line with many findings).
    let mut current_line: Option<(usize, usize, Option<InlineAllow>)> = None;
    let mut findings: Vec<BlobFinding> = kept
        .into_iter()
        .map(|(candidate, also_matched)| {
            let signature = rules.get(candidate.raw.signature);
            let secret = candidate.raw.secret.clone();
            let (line, line_start) = lines.line_of(secret.start);
            let (line_end, allowed) = match current_line {
                Some((start, end, allowed)) if start == line_start => (end, allowed),
                _ => {
                    let end = line_end(haystack, secret.start);
                    let allowed = inline_allow(haystack, line_start..end);
                    current_line = Some((line_start, end, allowed));
                    (end, allowed)
                }
            };
            BlobFinding {
                signature_id: signature.id().to_string(),
                signature_name: signature.name().to_string(),
                confidence: candidate.confidence,
                entropy: candidate.entropy,
                secret: String::from_utf8_lossy(&haystack[secret.clone()]).into_owned(),
                offset: secret.start,
                line,
                column: 1 + char_count(&haystack[line_start..secret.start]),
                allowed,
                snippet: snippet(haystack, line_start..line_end, secret),
                also_matched,
                captures: candidate
                    .raw
                    .captures
                    .iter()
                    .map(|c| {
                        let value = String::from_utf8_lossy(&haystack[c.span.clone()]);
                        (c.name.clone(), value.into_owned())
                    })
                    .collect(),
            }
        })
        .collect();
    redact_neighbours(&mut findings);
    findings
}

/// Spans sorted by start, answering "which is the first to overlap this one?" in O(log n):
/// a blob with many thousands of candidates must not cost a quadratic merge.
struct SpanIndex {
    starts: Vec<usize>,
    /// `reach[i]`: the largest end among the first `i + 1` spans.
    reach: Vec<usize>,
}

impl SpanIndex {
    /// Indexes `spans`, which must come sorted by start.
    fn new(spans: impl Iterator<Item = Range<usize>>) -> SpanIndex {
        let (mut starts, mut reach) = (Vec::new(), Vec::new());
        for span in spans {
            debug_assert!(starts.last().is_none_or(|&last| last <= span.start));
            let furthest = reach.last().map_or(span.end, |&r: &usize| r.max(span.end));
            starts.push(span.start);
            reach.push(furthest);
        }
        SpanIndex { starts, reach }
    }

    /// The index of the first span (in start order) that overlaps `span`.
    fn first_overlapping(&self, span: &Range<usize>) -> Option<usize> {
        // Candidates start before `span` ends; the first of them reaching past its start is
        // the first whose own end does (the running maximum first exceeds it there).
        let before_end = self.starts.partition_point(|&start| start < span.end);
        let first = self.reach[..before_end].partition_point(|&r| r <= span.start);
        (first < before_end).then_some(first)
    }
}

/// Masks, in each finding's snippet, the other secrets found on the same line: a snippet must
/// not show in clear a secret that its own finding redacts.
fn redact_neighbours(findings: &mut [BlobFinding]) {
    for i in 0..findings.len() {
        let line = findings[i].line;
        let neighbours: Vec<(String, String)> = findings
            .iter()
            .enumerate()
            .filter(|&(j, other)| j != i && other.line == line && !other.snippet.secret.is_empty())
            .map(|(_, other)| {
                let shown = other.snippet.secret.trim_end_matches('…').to_string();
                (shown, redact(&other.secret))
            })
            .collect();
        let snippet = &mut findings[i].snippet;
        for (text, masked) in neighbours {
            if !text.is_empty() {
                snippet.before_redacted = snippet.before_redacted.replace(&text, &masked);
                snippet.after_redacted = snippet.after_redacted.replace(&text, &masked);
            }
        }
    }
}

/// Counts newlines incrementally: queries must come in non-decreasing offset order.
struct LineCounter<'a> {
    haystack: &'a [u8],
    offset: usize,
    line: usize,
    line_start: usize,
}

impl<'a> LineCounter<'a> {
    fn new(haystack: &'a [u8]) -> Self {
        LineCounter {
            haystack,
            offset: 0,
            line: 1,
            line_start: 0,
        }
    }

    /// 1-based line number of `offset`, and the offset where that line starts.
    fn line_of(&mut self, offset: usize) -> (usize, usize) {
        debug_assert!(offset >= self.offset, "offsets must not decrease");
        for nl in memchr::memchr_iter(b'\n', &self.haystack[self.offset..offset]) {
            self.line += 1;
            self.line_start = self.offset + nl + 1;
        }
        self.offset = offset;
        (self.line, self.line_start)
    }
}

/// Characters in `bytes` (UTF-8 sequences count once; invalid bytes count one each).
fn char_count(bytes: &[u8]) -> usize {
    String::from_utf8_lossy(bytes).chars().count()
}

/// The snippet of `secret` on its line (`line`, its newline excluded).
fn snippet(haystack: &[u8], line: Range<usize>, secret: Range<usize>) -> Snippet {
    let (line_start, line_end) = (line.start, line.end);
    // What is shown of the secret, and where the text after it starts: after the whole secret
    // (or the end of the line), never inside the part of a long secret that is cut from view.
    let secret_end = secret
        .end
        .min(line_end)
        .min(secret.start + SECRET_IN_SNIPPET);
    let after_start = secret.end.min(line_end);
    let before_start = line_start.max(secret.start.saturating_sub(CONTEXT));
    let after_end = line_end.min(after_start + CONTEXT);
    let text = |r: Range<usize>| {
        String::from_utf8_lossy(&haystack[r])
            .trim_end_matches('\r')
            .to_string()
    };
    let mut before = text(before_start..secret.start);
    if before_start > line_start {
        before.insert(0, '…');
    }
    let mut after = text(after_start..after_end);
    if after_end < line_end {
        after.push('…');
    }
    let mut secret_text = text(secret.start..secret_end);
    if secret_end < secret.end {
        secret_text.push('…');
    }
    let before = before.trim_start().to_string();
    Snippet {
        before_redacted: before.clone(),
        after_redacted: after.clone(),
        before,
        secret: secret_text,
        after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_index_finds_the_first_overlap_as_a_linear_search_would() {
        let spans = [0..4, 2..3, 5..20, 6..7, 9..10, 30..31];
        let index = SpanIndex::new(spans.iter().cloned());
        for start in 0..32 {
            for end in start + 1..33 {
                let query = start..end;
                let linear = spans
                    .iter()
                    .position(|s| s.start < query.end && query.start < s.end);
                assert_eq!(index.first_overlapping(&query), linear, "{query:?}");
            }
        }
        assert_eq!(
            SpanIndex::new(std::iter::empty()).first_overlapping(&(0..5)),
            None
        );
    }

    #[test]
    fn line_counter_tracks_lines_and_starts() {
        let text = b"ab\ncd\n\nef";
        let mut lines = LineCounter::new(text);
        assert_eq!(lines.line_of(0), (1, 0));
        assert_eq!(lines.line_of(4), (2, 3));
        assert_eq!(lines.line_of(7), (4, 7));
    }

    #[test]
    fn snippets_are_cut_around_long_lines() {
        let mut line = "x".repeat(500);
        line.push_str("SECRET");
        line.push_str(&"y".repeat(500));
        let s = snippet(line.as_bytes(), 0..line.len(), 500..506);
        assert_eq!(s.secret, "SECRET");
        assert!(s.before.starts_with('…') && s.before.len() < 70);
        assert!(s.after.ends_with('…') && s.after.len() < 70);
    }

    #[test]
    fn long_secrets_never_leak_into_the_text_after_them() {
        let secret = "s".repeat(300);
        let line = format!("token={secret} # tail");
        let s = snippet(line.as_bytes(), 0..line.len(), 6..306);
        assert_eq!(s.secret.len(), SECRET_IN_SNIPPET + '…'.len_utf8());
        assert_eq!(s.after, " # tail");
    }

    #[test]
    fn multi_line_secrets_show_their_first_line() {
        let text = b"key = -----BEGIN\nbody\n-----END";
        let s = snippet(text, 0..line_end(text, 6), 6..text.len());
        assert_eq!(s.before, "key = ");
        assert_eq!(s.secret, "-----BEGIN…");
        assert_eq!(s.after, "");
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(char_count("é=".as_bytes()), 2);
        assert_eq!(char_count(b"\xff\xfeab"), 4);
    }
}
