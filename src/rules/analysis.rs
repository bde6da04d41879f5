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
        self.contains_after(hir, &[])
    }

    /// Whether every match of `hir`, preceded by the known bytes `left`, contains a keyword
    /// (possibly one that begins in `left`). Carrying `left` proves patterns whose common
    /// prefix regex-syntax factored out of an alternation: `h(?:ubspot|apikey)`.
    fn contains_after(&self, hir: &Hir, left: &[u8]) -> bool {
        match hir.kind() {
            HirKind::Literal(lit) => self.keywords.contained_in(&[left, &lit.0].concat()),
            HirKind::Capture(cap) => self.contains_after(&cap.sub, left),
            HirKind::Repetition(rep) => rep.min >= 1 && self.contains_after(&rep.sub, left),
            HirKind::Alternation(branches) => branches.iter().all(|b| self.contains_after(b, left)),
            HirKind::Concat(parts) => self.concat_contains(parts, left),
            HirKind::Empty | HirKind::Class(_) | HirKind::Look(_) => false,
        }
    }

    /// Walks a concatenation left to right, extending the known bytes through its literals;
    /// at each part, also tries expanding a short run of parts into exact strings.
    fn concat_contains(&self, parts: &[Hir], left: &[u8]) -> bool {
        let mut known = left.to_vec();
        for (i, part) in parts.iter().enumerate() {
            if self.contains_after(part, &known) || self.run_contains(&parts[i..], &known) {
                return true;
            }
            match part.kind() {
                HirKind::Literal(lit) => known.extend_from_slice(&lit.0),
                // Assertions consume nothing: the known bytes still precede what follows.
                HirKind::Look(_) => {}
                _ => known.clear(),
            }
        }
        false
    }

    /// Whether some run of parts starting at `parts[0]` expands to a finite set of exact
    /// strings that, after `left`, each contain a keyword (`api[_.-]?key` expands to `apikey`,
    /// `api_key`, ...).
    fn run_contains(&self, parts: &[Hir], left: &[u8]) -> bool {
        (2..=parts.len().min(MAX_RUN)).any(|end| {
            let run = Hir::concat(parts[..end].to_vec());
            let expansions = Extractor::new().kind(ExtractKind::Prefix).extract(&run);
            expansions.is_exact()
                && expansions.literals().is_some_and(|lits| {
                    lits.iter()
                        .all(|lit| self.keywords.contained_in(&[left, lit.as_bytes()].concat()))
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
    fn factored_alternation_prefixes_are_proven() {
        // regex-syntax factors the shared `h` and `d` out of these alternations.
        let hubspot = r"(?:\b(?i:hubspot)[a-z]{0,3}|\b(?i:hapikey))=";
        assert!(contains(hubspot, &["hubspot", "hapikey"], true));
        assert!(!contains(hubspot, &["hubspot"], true));
        let datadog = r"\b(?:(?i:dd)[_-]?(?i:api)|(?i:datadog))=";
        assert!(contains(
            datadog,
            &["datadog", "dd_api", "dd-api", "ddapi"],
            true
        ));
        assert!(!contains(datadog, &["datadog", "dd_api", "ddapi"], true));
    }

    #[test]
    fn case_sensitive_keywords_are_not_folded() {
        assert!(!contains(r"(?i)akia[0-9]{4}", &["AKIA"], false));
        assert!(contains(r"AKIA[0-9]{4}", &["AKIA"], false));
    }
}
