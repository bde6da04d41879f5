//! Proof that each signature does what it claims: `keysift rules check` and `cargo test`.
//!
//! Loading already checks structure. This goes further: every pattern compiles, every signature
//! has documentation references, positive examples and negative examples, each positive
//! example yields exactly the secret it names *through the real scanner* (prefilter, windows,
//! checksum, entropy and generic filters included), and no negative example yields a finding.
//! Running examples through the scanner rather than the bare regex also proves the keyword
//! contract: a match that contains none of its signature's keywords would be missed.

use std::sync::Arc;

use crate::{
    rules::{
        analysis::{self, Keywords},
        Confidence, Problem, RuleSet, Signature,
    },
    scan::Scanner,
};

/// At most this many signatures may run without keywords: each one costs a regex search over
/// every blob.
pub const MAX_KEYWORDLESS: usize = 10;

/// Which signatures must carry their proof: references, examples and negative examples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofRequired {
    /// Every signature (the built-in library's own standard).
    Everywhere,
    /// Built-in signatures only. A team's own signatures, or ones converted from a gitleaks
    /// config, often have no examples to give; their missing proof is a warning, while
    /// everything that can be checked (patterns, keywords, the examples they do have) still
    /// fails the check.
    BuiltinOnly,
}

/// What a lint run found.
#[derive(Debug, Default)]
pub struct Lint {
    /// What fails the check.
    pub problems: Vec<Problem>,
    /// Missing proof that is not required.
    pub warnings: Vec<Problem>,
}

/// Every problem with `rules`, proof required of every signature; empty when all signatures
/// are proven.
pub fn check(rules: &Arc<RuleSet>) -> Vec<Problem> {
    lint(rules, ProofRequired::Everywhere).problems
}

/// Every problem with `rules`, and missing proof as `required` says.
pub fn lint(rules: &Arc<RuleSet>, required: ProofRequired) -> Lint {
    let mut problems = rules.compile_all();
    if !problems.is_empty() {
        return Lint {
            problems,
            warnings: Vec::new(),
        };
    }
    let mut warnings = Vec::new();
    let scanner = Scanner::builder(rules.clone())
        .confidence_floor(Confidence::Low)
        .build()
        .expect("the portable engine builds for any valid rule set");
    for (index, signature) in rules.iter() {
        let proof_required = required == ProofRequired::Everywhere || rules.is_builtin(index);
        let missing_proof = if proof_required {
            &mut problems
        } else {
            &mut warnings
        };
        check_proof(signature, missing_proof);
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
    Lint { problems, warnings }
}

/// A problem about `signature`'s `field`.
fn problem_with(signature: &Signature, field: &'static str, message: String) -> Problem {
    Problem {
        location: signature.location().clone(),
        signature: Some(signature.id().to_string()),
        field: Some(field),
        message,
    }
}

/// Whether the signature carries its proof: references and examples both ways.
fn check_proof(signature: &Signature, problems: &mut Vec<Problem>) {
    let mut problem = |field: &'static str, message: String| {
        problems.push(problem_with(signature, field, message))
    };
    if signature.references().is_empty() {
        problem(
            "references",
            "needs at least one link to the provider's documentation of the format".into(),
        );
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
}

fn check_signature(scanner: &Scanner, signature: &Signature, problems: &mut Vec<Problem>) {
    let mut problem = |field: &'static str, message: String| {
        problems.push(problem_with(signature, field, message))
    };
    for reference in signature.references() {
        if !reference.starts_with("https://") && !reference.starts_with("http://") {
            problem("references", format!("{reference:?} is not an http(s) URL"));
        }
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
/// any match that does not. See [`analysis::keywords_in_every_match`] for the proof.
fn keyword_contract_gap(signature: &Signature) -> Option<String> {
    if signature.is_keywordless() {
        return None;
    }
    let hir = analysis::parse(signature.pattern()).ok()?;
    let keywords = Keywords {
        literals: signature.keywords(),
        ignore_case: signature.keywords_ignore_case(),
    };
    (!analysis::keywords_in_every_match(&hir, keywords)).then(|| {
        "cannot prove that every match contains a keyword, and the prefilter misses matches without one: \
         make each alternative of the pattern contain a keyword"
            .to_string()
    })
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
    fn extra_signatures_may_go_without_proof_but_not_without_a_working_pattern() {
        let extra = |body: &str| {
            let text = format!(
                "[[signature]]\nid = 'team.token'\nname = 'n'\nprovider = 'p'\n\
                 category = 'saas'\nconfidence = 'high'\nkeywords = ['tok_']\n{body}\n"
            );
            let rules = RuleSet::builder()
                .builtin(false)
                .add_source("team.toml", &text)
                .build()
                .unwrap();
            let rules = Arc::new(rules);
            assert!(
                !check(&rules).is_empty(),
                "proof is required everywhere by `check`"
            );
            lint(&rules, ProofRequired::BuiltinOnly)
        };
        let unproven = extra("pattern = 'tok_[a-z0-9]{8}'");
        assert!(unproven.problems.is_empty(), "{:?}", unproven.problems);
        let fields: Vec<_> = unproven.warnings.iter().filter_map(|w| w.field).collect();
        assert_eq!(fields, ["references", "examples", "negative_examples"]);
        // Examples given are still proven.
        let wrong = extra("pattern = 'tok_[a-z0-9]{8}'\nexamples = ['tok_short']");
        assert_eq!(wrong.problems.len(), 1, "{:?}", wrong.problems);
        assert_eq!(wrong.problems[0].field, Some("examples"));
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
