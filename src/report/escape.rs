//! Keeping file names and file contents from talking to the terminal.

use std::borrow::Cow;

/// Replaces control characters (ESC, BEL, CR, ...) with visible escapes so that a file name or
/// snippet cannot move the cursor, recolour the terminal or hide text. Tabs become spaces.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => out.push(' '),
            c if needs_escape(c) => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::escape_control;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_control("plain"), "plain");
        assert_eq!(escape_control("a\x1b[31mred"), "a\\u{1b}[31mred");
        assert_eq!(escape_control("bell\x07"), "bell\\u{7}");
        assert_eq!(escape_control("cr\rhide"), "cr\\rhide");
        assert_eq!(escape_control("tab\there"), "tab here");
        // Bidirectional overrides can reorder what a reviewer sees.
        assert_eq!(escape_control("a\u{202e}b"), "a\\u{202e}b");
    }
}
