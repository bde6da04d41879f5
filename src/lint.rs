//! Proof that each signature does what it claims: `keysift rules check` and `cargo test`.
//!
//! Loading already checks structure. This goes further: every pattern compiles, every signature
//! has documentation references, positive examples and negative examples, each positive
//! example yields exactly the secret it names *through the real scanner* (prefilter, windows,
//! checksum, entropy and generic filters included), and no negative example yields a finding.
//! Running examples through the scanner rather than the bare regex also proves the keyword
//! contract: a match that contains none of its signature's keywords would be missed.

use std::sync::Arc;

use regex_syntax::hir::{
    literal::{ExtractKind, Extractor},
    Hir, HirKind,
};

use crate::{
    rules::{Confidence, Problem, RuleSet, Signature},
    scan::Scanner,
};

/// At most this many signatures may run without keywords: each one costs a regex search over
/// every blob.
pub const MAX_KEYWORDLESS: usize = 10;

/// Every problem with `rules`; empty when all signatures are proven.
pub fn check(rules: &Arc<RuleSet>) -> Vec<Problem> {
    let mut problems = rules.compile_all();
    if !problems.is_empty() {
        return problems;
    }
    let scanner = Scanner::builder(rules.clone())
        .confidence_floor(Confidence::Low)
        .build()
        .expect("the portable engine builds for any valid rule set");
    for (_, signature) in rules.iter() {
        check_signature(&scanner, signature, &mut problems);
    }
    let keywordless: Vec<&str> = rules
        .signatures()
        .iter()
        .filter(|s| s.is_keywordless())
        .map(|s| s.id())
        .collect();
    if keywordless.len() > MAX_KEYWORDLESS {
        let first = rules
            .signatures()
            .iter()
            .find(|s| s.is_keywordless())
            .expect("non-empty");
        problems.push(Problem {
            location: first.location().clone(),
            signature: None,
            field: Some("keywordless"),
            message: format!(
                "{} keywordless signatures (at most {MAX_KEYWORDLESS}): {}",
                keywordless.len(),
                keywordless.join(", ")
            ),
        });
    }
    problems
}

fn check_signature(scanner: &Scanner, signature: &Signature, problems: &mut Vec<Problem>) {
    let mut problem = |field: &'static str, message: String| {
        problems.push(Problem {
            location: signature.location().clone(),
            signature: Some(signature.id().to_string()),
            field: Some(field),
            message,
        })
    };
    if signature.references().is_empty() {
        problem(
            "references",
            "needs at least one link to the provider's documentation of the format".into(),
        );
    }
    for reference in signature.references() {
        if !reference.starts_with("https://") && !reference.starts_with("http://") {
            problem("references", format!("{reference:?} is not an http(s) URL"));
        }
    }
    if signature.examples().is_empty() {
        problem("examples", "needs at least one positive example".into());
    }
    if signature.negative_examples().is_empty() {
        problem(
            "negative_examples",
            "needs at least one negative example".into(),
        );
    }

    if let Some(gap) = keyword_contract_gap(signature) {
        problem("keywords", gap);
    }

    for example in signature.examples() {
        if !example.text.contains(&example.secret) {
            problem(
                "examples",
                format!("the secret {:?} does not occur in its text", example.secret),
            );
            continue;
        }
        let secrets = secrets_found(scanner, signature, example.text.as_bytes());
        if secrets.contains(&example.secret) {
            continue;
        }
        let message = if !secrets.is_empty() {
            format!(
                "example {:?} yields {:?} instead of {:?}",
                example.text, secrets, example.secret
            )
        } else if regex_matches(signature, &example.text) {
            format!(
                "example {:?} matches the pattern but is dropped by the keyword prefilter, checksum, entropy or generic filters",
                example.text
            )
        } else {
            format!("example {:?} does not match", example.text)
        };
        problem("examples", message);
    }

    for negative in signature.negative_examples() {
        let secrets = secrets_found(scanner, signature, negative.as_bytes());
        if !secrets.is_empty() {
            problem(
                "negative_examples",
                format!("{negative:?} yields {secrets:?} but must not match"),
            );
        }
    }
}

/// The secrets this signature reports in `text`, after filters.
fn secrets_found(scanner: &Scanner, signature: &Signature, text: &[u8]) -> Vec<String> {
    scanner
        .candidates(text)
        .into_iter()
        .filter(|c| scanner.rules().get(c.raw.signature).id() == signature.id())
        .map(|c| String::from_utf8_lossy(&text[c.raw.secret]).into_owned())
        .collect()
}

/// Checks that every match of the pattern contains one of the keywords; the prefilter misses
/// any match that does not.
///
/// The proof walks the pattern: a literal proves it if it contains a keyword; an alternation if
/// every branch does; a concatenation if any part does, or if a run of adjacent parts expands to
/// a finite set of exact strings that each contain a keyword (`api[_.-]?key` expands to
/// `apikey`, `api_key`, ...); a repetition if it must occur at least once and its body does.
/// What cannot be proven is reported, so authors restructure the pattern or its keywords.
fn keyword_contract_gap(signature: &Signature) -> Option<String> {
    if signature.is_keywordless() {
        return None;
    }
    // Parse without a leading `(?i)` and compare ignoring case: the same literals, without
    // the case variants that would exhaust the literal extractor's limits.
    let pattern = signature.pattern();
    let without_case_flag = strip_leading_case_flag(pattern);
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(without_case_flag.as_deref().unwrap_or(pattern))
        .ok()?;
    let proof = KeywordProof {
        keywords: signature.keywords().iter().map(|k| k.as_bytes()).collect(),
        fold: signature.keywords_ignore_case() || without_case_flag.is_some(),
    };
    (!proof.always_contains(&hir)).then(|| {
        "cannot prove that every match contains a keyword, and the prefilter misses matches without one: \
         make each alternative of the pattern contain a keyword"
            .to_string()
    })
}

/// `(?i)rest` → `rest`, `(?im)rest` → `(?m)rest`; `None` when the pattern does not start with
/// a flag group enabling case-insensitivity.
fn strip_leading_case_flag(pattern: &str) -> Option<String> {
    let rest = pattern.strip_prefix("(?")?;
    let end = rest.find(')')?;
    let flags = &rest[..end];
    if !flags.chars().all(|c| "imsxuUR".contains(c)) || !flags.contains('i') {
        return None;
    }
    let kept: String = flags.chars().filter(|&c| c != 'i').collect();
    let tail = &rest[end + 1..];
    Some(if kept.is_empty() {
        tail.to_string()
    } else {
        format!("(?{kept}){tail}")
    })
}

/// The keyword-containment proof of [`keyword_contract_gap`].
struct KeywordProof<'a> {
    keywords: Vec<&'a [u8]>,
    fold: bool,
}

/// Longest run of adjacent concatenation parts expanded together.
const MAX_RUN: usize = 6;

impl KeywordProof<'_> {
    fn contains_keyword(&self, text: &[u8]) -> bool {
        self.keywords.iter().any(|k| {
            text.windows(k.len()).any(|w| {
                if self.fold {
                    w.eq_ignore_ascii_case(k)
                } else {
                    w == *k
                }
            })
        })
    }

    fn always_contains(&self, hir: &Hir) -> bool {
        match hir.kind() {
            HirKind::Literal(lit) => self.contains_keyword(&lit.0),
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
                        lits.iter().all(|lit| self.contains_keyword(lit.as_bytes()))
                    })
            })
        })
    }
}

fn regex_matches(signature: &Signature, text: &str) -> bool {
    signature
        .regex()
        .is_ok_and(|re| re.is_match(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_for(body: &str) -> Vec<Problem> {
        let text = format!(
            "[[signature]]\nid = 'test.token'\nname = 'n'\nprovider = 'p'\ncategory = 'saas'\n\
             confidence = 'high'\nreferences = ['https://example.org/docs']\n{body}\n"
        );
        let rules = RuleSet::builder()
            .builtin(false)
            .add_source("t.toml", &text)
            .build()
            .unwrap();
        check(&Arc::new(rules))
    }

    #[test]
    fn proven_signature_passes() {
        let p = problems_for(
            "keywords = ['tok_']\npattern = 'tok_[a-z0-9]{8}'\nexamples = ['tok_a1b2c3d4']\nnegative_examples = ['tok_short']",
        );
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn wrong_secret_is_reported() {
        let p = problems_for(
            "keywords = ['tok_']\npattern = 'tok_[a-z0-9]{8}'\n\
             examples = [{ text = 'x tok_a1b2c3d4', secret = 'tok_a1b2' }]\nnegative_examples = ['tok_short']",
        );
        assert_eq!(p.len(), 1);
        assert!(p[0].message.contains("instead of"), "{}", p[0].message);
    }

    #[test]
    fn matching_negative_example_is_reported() {
        let p = problems_for(
            "keywords = ['tok_']\npattern = 'tok_[a-z0-9]{8}'\nexamples = ['tok_a1b2c3d4']\nnegative_examples = ['tok_zzzzzzzz']",
        );
        assert_eq!(p[0].field, Some("negative_examples"));
    }

    #[test]
    fn keyword_missing_from_match_is_reported() {
        let p = problems_for(
            "keywords = ['nothere']\npattern = 'tok_[a-z0-9]{8}'\nexamples = ['tok_a1b2c3d4']\nnegative_examples = ['x']",
        );
        assert!(p[0].message.contains("prefilter"), "{}", p[0].message);
    }

    #[test]
    fn prefix_without_keyword_is_reported() {
        let p = problems_for(
            "keywords = ['tok_']\npattern = '(?:tok_|tk_)[a-z0-9]{8}'\nexamples = ['tok_a1b2c3d4']\nnegative_examples = ['x']",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].message.contains("cannot prove"), "{}", p[0].message);
    }

    #[test]
    fn keywords_spanning_optional_parts_are_proven() {
        let p = problems_for(
            "keywords = ['apikey', 'api_key', 'api-key']\nkeywords_ignore_case = true\n\
             pattern = '(?i)x?api[_-]?key=[a-z0-9]{8}'\nexamples = ['API_KEY=a1b2c3d4']\nnegative_examples = ['x']",
        );
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn missing_proof_is_reported() {
        let p = problems_for("keywords = ['tok_']\npattern = 'tok_[a-z0-9]{8}'");
        let fields: Vec<_> = p.iter().filter_map(|p| p.field).collect();
        assert!(
            fields.contains(&"examples") && fields.contains(&"negative_examples"),
            "{fields:?}"
        );
    }
}
