//! Signature patterns (regex crate syntax, bytes, ASCII classes) rewritten for Hyperscan.
//!
//! The rewrite starts from regex-syntax's parsed tree rather than the source text, so the two
//! dialects never have to agree on syntax: every literal byte and every class comes out as
//! explicit `\xHH` bytes, and groups as non-capturing groups. Look-around assertions (`\b`,
//! `^`, `$`) are dropped. That makes the Hyperscan pattern match a *superset* of the original's
//! matches, which is all the prefilter needs: any match of the original is also a match of the
//! rewrite, so its end is reported, and the regex crate decides what really matched.
//!
//! Bounded repetitions are loosened the same way: `X{n,m}` becomes `X{min(n, 8),}` (and
//! `X{n,m}` with `m <= 8` stays). Hyperscan builds a state per counted repetition, and the
//! library's `{20,40}`-style token bodies made compiling all signatures take minutes (measured:
//! 45 s for the 930 patterns as written, 4-7 s loosened). The cost is extra match ends inside
//! long runs of token characters, which only widen windows that the regex crate then searches.

use std::fmt::Write as _;

use regex_syntax::hir::{Class, Hir, HirKind};

/// Repetition counts above this are loosened; see the module docs.
const REPEAT_CAP: u32 = 8;

/// The Hyperscan form of `hir`, or why there is none (a class of non-ASCII characters, which
/// the byte-oriented dialect of signatures never produces).
pub fn to_hyperscan(hir: &Hir) -> Result<String, String> {
    let mut out = String::new();
    write_hir(hir, &mut out)?;
    Ok(out)
}

fn write_hir(hir: &Hir, out: &mut String) -> Result<(), String> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(literal) => literal.0.iter().for_each(|&b| write_byte(b, out)),
        HirKind::Class(class) => write_class(class, out)?,
        HirKind::Repetition(rep) => {
            out.push_str("(?:");
            write_hir(&rep.sub, out)?;
            out.push(')');
            let min = rep.min.min(REPEAT_CAP);
            match rep.max {
                Some(max) if max <= REPEAT_CAP => write!(out, "{{{min},{max}}}"),
                _ => write!(out, "{{{min},}}"),
            }
            .expect("writing to a String");
        }
        HirKind::Capture(capture) => {
            out.push_str("(?:");
            write_hir(&capture.sub, out)?;
            out.push(')');
        }
        HirKind::Concat(parts) => {
            for part in parts {
                write_hir(part, out)?;
            }
        }
        HirKind::Alternation(branches) => {
            out.push_str("(?:");
            for (i, branch) in branches.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                write_hir(branch, out)?;
            }
            out.push(')');
        }
    }
    Ok(())
}

/// Letters and digits stay readable; every other byte is escaped, so no byte can be taken for
/// syntax.
fn write_byte(byte: u8, out: &mut String) {
    if byte.is_ascii_alphanumeric() {
        out.push(byte as char);
    } else {
        write!(out, "\\x{byte:02x}").expect("writing to a String");
    }
}

fn write_class(class: &Class, out: &mut String) -> Result<(), String> {
    let ranges: Vec<(u8, u8)> = match class {
        Class::Bytes(bytes) => bytes
            .ranges()
            .iter()
            .map(|r| (r.start(), r.end()))
            .collect(),
        Class::Unicode(unicode) => unicode
            .ranges()
            .iter()
            .map(|r| match (u8::try_from(r.start()), u8::try_from(r.end())) {
                (Ok(start), Ok(end)) if end.is_ascii() => Ok((start, end)),
                _ => Err(format!("non-ASCII class {:?}..{:?}", r.start(), r.end())),
            })
            .collect::<Result<_, _>>()?,
    };
    if ranges.is_empty() {
        return Err("a class that matches nothing".into());
    }
    out.push('[');
    for (start, end) in ranges {
        write!(out, "\\x{start:02x}").expect("writing to a String");
        if end != start {
            write!(out, "-\\x{end:02x}").expect("writing to a String");
        }
    }
    out.push(']');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::analysis::parse;

    fn translate(pattern: &str) -> String {
        to_hyperscan(&parse(pattern).unwrap()).unwrap()
    }

    #[test]
    fn literals_and_classes_become_explicit_bytes() {
        assert_eq!(translate(r"ab\.c"), r"ab\x2ec");
        assert_eq!(translate(r"[a-c_]"), r"[\x5f\x61-\x63]");
    }

    #[test]
    fn groups_lose_their_captures_and_assertions_disappear() {
        assert_eq!(
            translate(r"\bkey=(?P<secret>[0-9]{2,4})$"),
            r"key\x3d(?:(?:[\x30-\x39]){2,4})"
        );
    }

    #[test]
    fn long_repetitions_are_loosened() {
        assert_eq!(translate(r"a{3,8}"), r"(?:a){3,8}");
        assert_eq!(translate(r"a{20,40}"), r"(?:a){8,}");
        assert_eq!(translate(r"a{2,9}"), r"(?:a){2,}");
    }

    #[test]
    fn case_insensitive_literals_become_classes() {
        assert_eq!(translate(r"(?i)ab"), r"[\x41\x61][\x42\x62]");
    }

    #[test]
    fn alternations_keep_their_branches() {
        assert_eq!(translate(r"x(?:ab|cd|)"), r"x(?:ab|cd|)");
    }
}
