//! What can be proven about a pattern from its syntax tree: which literals every match contains
//! or starts with. The engine uses it to search from keyword hits instead of around them; the
//! linter uses it to prove that the prefilter cannot miss a match.

use regex_syntax::hir::{
    self,
    literal::{ExtractKind, Extractor},
    Class, Hir, HirKind,
};

/// Longest run of adjacent concatenation parts expanded together by [`KeywordProof`].
const MAX_RUN: usize = 6;

/// Parses a pattern in the signature dialect (bytes, ASCII classes).
pub fn parse(pattern: &str) -> Result<Hir, String> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .map_err(|e| e.to_string())
}

/// Keywords and how they are compared.
#[derive(Debug, Clone, Copy)]
pub struct Keywords<'a> {
    /// The literals.
    pub literals: &'a [String],
    /// Compare ignoring ASCII case.
    pub ignore_case: bool,
}

impl Keywords<'_> {
    fn same(&self, a: &[u8], b: &[u8]) -> bool {
        if self.ignore_case {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    }

    fn contained_in(&self, text: &[u8]) -> bool {
        self.literals
            .iter()
            .any(|k| text.windows(k.len()).any(|w| self.same(w, k.as_bytes())))
    }

    fn prefix_of(&self, text: &[u8]) -> bool {
        self.literals
            .iter()
            .any(|k| text.len() >= k.len() && self.same(&text[..k.len()], k.as_bytes()))
    }

    /// For case-insensitive keywords, the pattern with every `[Aa]`-style class (what `(?i)`
    /// produces) turned back into a lower-case literal, so literal analysis sees `password`
    /// rather than 256 case variants.
    fn normalise(&self, hir: &Hir) -> Hir {
        if self.ignore_case {
            fold_case_pairs(hir)
        } else {
            hir.clone()
        }
    }
}

/// Whether every match of `hir` begins with one of the keywords, so that a search anchored at
/// each keyword hit finds every match.
pub fn keywords_start_every_match(hir: &Hir, keywords: Keywords<'_>) -> bool {
    let hir = keywords.normalise(hir);
    let prefixes = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    prefixes.literals().is_some_and(|lits| {
        !lits.is_empty() && lits.iter().all(|lit| keywords.prefix_of(lit.as_bytes()))
    })
}

/// Whether every match of `hir` provably contains one of the keywords.
///
/// A literal proves it if it contains a keyword; an alternation if every branch does; a
/// concatenation if any part does, or if a run of adjacent parts expands to a finite set of
/// exact strings that each contain a keyword (`api[_.-]?key` expands to `apikey`, `api_key`,
/// ...); a repetition if it must occur at least once and its body does.
pub fn keywords_in_every_match(hir: &Hir, keywords: Keywords<'_>) -> bool {
    KeywordProof { keywords }.always_contains(&keywords.normalise(hir))
}

struct KeywordProof<'a> {
    keywords: Keywords<'a>,
}

impl KeywordProof<'_> {
    fn always_contains(&self, hir: &Hir) -> bool {
        match hir.kind() {
            HirKind::Literal(lit) => self.keywords.contained_in(&lit.0),
            HirKind::Capture(cap) => self.always_contains(&cap.sub),
            HirKind::Repetition(rep) => rep.min >= 1 && self.always_contains(&rep.sub),
            HirKind::Alternation(branches) => branches.iter().all(|b| self.always_contains(b)),
            HirKind::Concat(parts) => {
                parts.iter().any(|p| self.always_contains(p))
                    || self.some_run_always_contains(parts)
            }
            HirKind::Empty | HirKind::Class(_) | HirKind::Look(_) => false,
        }
    }

    fn some_run_always_contains(&self, parts: &[Hir]) -> bool {
        (0..parts.len()).any(|start| {
            (start + 2..=parts.len().min(start + MAX_RUN)).any(|end| {
                let run = Hir::concat(parts[start..end].to_vec());
                let expansions = Extractor::new().kind(ExtractKind::Prefix).extract(&run);
                expansions.is_exact()
                    && expansions.literals().is_some_and(|lits| {
                        lits.iter()
                            .all(|lit| self.keywords.contained_in(lit.as_bytes()))
                    })
            })
        })
    }
}

/// Rewrites classes holding exactly one ASCII letter in both cases into that letter, lower case.
fn fold_case_pairs(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Class(Class::Bytes(class)) => match class.ranges() {
            [a, b]
                if a.start() == a.end()
                    && b.start() == b.end()
                    && a.start().is_ascii_uppercase()
                    && a.start().to_ascii_lowercase() == b.start() =>
            {
                Hir::literal([b.start()])
            }
            _ => hir.clone(),
        },
        HirKind::Concat(parts) => Hir::concat(parts.iter().map(fold_case_pairs).collect()),
        HirKind::Alternation(branches) => {
            Hir::alternation(branches.iter().map(fold_case_pairs).collect())
        }
        HirKind::Repetition(rep) => Hir::repetition(hir::Repetition {
            sub: Box::new(fold_case_pairs(&rep.sub)),
            ..rep.clone()
        }),
        HirKind::Capture(cap) => Hir::capture(hir::Capture {
            sub: Box::new(fold_case_pairs(&cap.sub)),
            ..cap.clone()
        }),
        _ => hir.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn starts(pattern: &str, keywords: &[&str], ignore_case: bool) -> bool {
        let literals = words(keywords);
        keywords_start_every_match(
            &parse(pattern).unwrap(),
            Keywords {
                literals: &literals,
                ignore_case,
            },
        )
    }

    fn contains(pattern: &str, keywords: &[&str], ignore_case: bool) -> bool {
        let literals = words(keywords);
        keywords_in_every_match(
            &parse(pattern).unwrap(),
            Keywords {
                literals: &literals,
                ignore_case,
            },
        )
    }

    #[test]
    fn prefix_keywords_are_recognised() {
        assert!(starts(
            r"\b(?P<secret>ghp_[A-Za-z0-9]{36})\b",
            &["ghp_"],
            false
        ));
        assert!(starts(
            r"(?i)\b(?:github|gh_)[a-z]{0,5}=",
            &["github", "gh_"],
            true
        ));
        assert!(starts(r"(?i)jenkins[_-]token", &["jenkins"], true));
        assert!(!starts(r"[a-z]{0,4}password", &["password"], true));
        assert!(!starts(r"(?:tok_|tk_)x", &["tok_"], false));
        assert!(!starts(r"x?tok_", &["tok_"], false));
    }

    #[test]
    fn containment_is_proven_through_structure() {
        assert!(contains(
            r"(?i)[a-z]{0,40}(?:password|api[_.-]?key)",
            &["password", "apikey", "api_key", "api-key", "api.key"],
            true
        ));
        assert!(!contains(
            r"(?i)[a-z]{0,40}(?:password|api[_.-]?key)",
            &["password", "apikey", "api_key", "api-key"],
            true
        ));
        assert!(contains(
            r"(?i)\bjenkins[a-z_]{0,10}token",
            &["jenkins"],
            true
        ));
        assert!(!contains(r"(?:tok_|tk_)[a-z0-9]{8}", &["tok_"], false));
        assert!(!contains(r"(?:tok_)?[a-z0-9]{8}", &["tok_"], false));
    }

    #[test]
    fn case_sensitive_keywords_are_not_folded() {
        assert!(!contains(r"(?i)akia[0-9]{4}", &["AKIA"], false));
        assert!(contains(r"AKIA[0-9]{4}", &["AKIA"], false));
    }
}
