//! Inline allows: a marker written next to a secret in the file itself says "this one is known
//! and accepted" (a test fixture, a documented example). The marker is looked for as plain text
//! anywhere on the line, so it works in every comment syntax (`#`, `//`, `/* */`, `--`,
//! `<!-- -->`, `;`, ...) and in formats without comments.
//!
//! Markers other scanners use are honoured too, so a repository moving to keysift keeps its
//! annotations: gitleaks' `gitleaks:allow` and detect-secrets' `pragma: allowlist secret`.

use memchr::memmem;
use serde::Serialize;

/// Which marker suppressed a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
pub enum InlineAllow {
    /// `keysift:allow` on the secret's line.
    #[serde(rename = "keysift:allow")]
    Keysift,
    /// `keysift:allow-next-line` on the line before.
    #[serde(rename = "keysift:allow-next-line")]
    KeysiftNextLine,
    /// `gitleaks:allow` on the secret's line.
    #[serde(rename = "gitleaks:allow")]
    Gitleaks,
    /// `pragma: allowlist secret` on the secret's line.
    #[serde(rename = "pragma: allowlist secret")]
    Pragma,
    /// `pragma: allowlist nextline secret` on the line before.
    #[serde(rename = "pragma: allowlist nextline secret")]
    PragmaNextLine,
}

impl InlineAllow {
    /// The marker as written in files.
    pub fn marker(self) -> &'static str {
        match self {
            InlineAllow::Keysift => "keysift:allow",
            InlineAllow::KeysiftNextLine => "keysift:allow-next-line",
            InlineAllow::Gitleaks => "gitleaks:allow",
            InlineAllow::Pragma => "pragma: allowlist secret",
            InlineAllow::PragmaNextLine => "pragma: allowlist nextline secret",
        }
    }
}

/// The marker allowing a secret whose line spans `line` of `haystack`, if any: a same-line
/// marker on that line, or a next-line marker on the line before it.
pub fn inline_allow(haystack: &[u8], line: std::ops::Range<usize>) -> Option<InlineAllow> {
    let this_line = &haystack[line.clone()];
    if let Some(allow) = same_line_marker(this_line) {
        return Some(allow);
    }
    let previous = previous_line(haystack, line.start)?;
    next_line_marker(previous)
}

/// Where the line containing `offset` ends (its newline excluded).
pub fn line_end(haystack: &[u8], offset: usize) -> usize {
    memchr::memchr(b'\n', &haystack[offset..]).map_or(haystack.len(), |i| offset + i)
}

fn same_line_marker(line: &[u8]) -> Option<InlineAllow> {
    // `keysift:allow-next-line` contains `keysift:allow`: only an occurrence not followed by
    // `-next-line` allows this line.
    let keysift = memmem::find_iter(line, b"keysift:allow")
        .any(|at| !line[at + b"keysift:allow".len()..].starts_with(b"-next-line"));
    if keysift {
        Some(InlineAllow::Keysift)
    } else if memmem::find(line, b"gitleaks:allow").is_some() {
        Some(InlineAllow::Gitleaks)
    } else if has_pragma(line, b"secret") {
        Some(InlineAllow::Pragma)
    } else {
        None
    }
}

fn next_line_marker(line: &[u8]) -> Option<InlineAllow> {
    if memmem::find(line, b"keysift:allow-next-line").is_some() {
        Some(InlineAllow::KeysiftNextLine)
    } else if has_pragma(line, b"nextline secret") {
        Some(InlineAllow::PragmaNextLine)
    } else {
        None
    }
}

/// `pragma: allowlist <rest>`, with any spacing after the colon (detect-secrets accepts
/// `pragma:allowlist secret` too).
fn has_pragma(line: &[u8], rest: &[u8]) -> bool {
    memmem::find_iter(line, b"pragma:").any(|at| {
        let after = &line[at + b"pragma:".len()..];
        let after = &after[after.iter().take_while(|b| **b == b' ').count()..];
        after
            .strip_prefix(b"allowlist ".as_slice())
            .is_some_and(|tail| tail.starts_with(rest))
    })
}

fn previous_line(haystack: &[u8], line_start: usize) -> Option<&[u8]> {
    if line_start == 0 {
        return None;
    }
    let end = line_start - 1; // the newline ending the previous line
    let start = memchr::memrchr(b'\n', &haystack[..end]).map_or(0, |i| i + 1);
    Some(&haystack[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The allow for the secret on 1-based line `n` of `text`.
    fn allow_on(text: &str, n: usize) -> Option<InlineAllow> {
        let bytes = text.as_bytes();
        let start = text
            .split_inclusive('\n')
            .take(n - 1)
            .map(str::len)
            .sum::<usize>();
        inline_allow(bytes, start..line_end(bytes, start))
    }

    #[test]
    fn same_line_markers_in_any_comment_syntax() {
        for line in [
            "token = abc # keysift:allow",
            "token = abc // keysift:allow",
            "token = abc /* keysift:allow */",
            "token = abc -- keysift:allow",
            "<x>abc</x> <!-- keysift:allow -->",
            "token = abc ; keysift:allow",
            "keysift:allow token = abc",
        ] {
            assert_eq!(allow_on(line, 1), Some(InlineAllow::Keysift), "{line}");
        }
        assert_eq!(
            allow_on("t = abc # gitleaks:allow", 1),
            Some(InlineAllow::Gitleaks)
        );
        assert_eq!(
            allow_on("t = abc  # pragma: allowlist secret", 1),
            Some(InlineAllow::Pragma)
        );
        assert_eq!(
            allow_on("t = abc  # pragma:allowlist secret", 1),
            Some(InlineAllow::Pragma)
        );
        assert_eq!(allow_on("t = abc # keysift: allow", 1), None);
        assert_eq!(allow_on("t = abc # pragma: allowlist", 1), None);
    }

    #[test]
    fn next_line_markers_cover_only_the_next_line() {
        let text = "# keysift:allow-next-line\nt = abc\nt = def\n";
        assert_eq!(allow_on(text, 1), None, "the marker's own line");
        assert_eq!(allow_on(text, 2), Some(InlineAllow::KeysiftNextLine));
        assert_eq!(allow_on(text, 3), None);
        let text = "# pragma: allowlist nextline secret\nt = abc\n";
        assert_eq!(allow_on(text, 2), Some(InlineAllow::PragmaNextLine));
        // A same-line marker on the line before does not reach down.
        assert_eq!(allow_on("x # keysift:allow\nt = abc", 2), None);
    }

    #[test]
    fn windows_line_endings_and_first_lines() {
        let text = "// keysift:allow-next-line\r\nt = abc\r\n";
        assert_eq!(allow_on(text, 2), Some(InlineAllow::KeysiftNextLine));
        assert_eq!(allow_on("t = abc", 1), None);
    }
}
