//! A validated signature, ready for the engine.

use std::sync::{Arc, OnceLock};

use regex_automata::meta;
use regex_syntax::hir::{Hir, HirKind};

use crate::verify::check::{CompanionSpec, HttpCheck, TypedSpec};

use super::{
    analysis::{self, Keywords},
    error::SourceFile,
    spec::{ExampleSpec, SignatureSpec},
    ChecksumKind, Confidence, Problem, SourceLocation, CATEGORIES,
};

/// Window used around a keyword hit when a pattern's own bound is larger than this; keeps a
/// pathological `max_len` from turning every hit into a whole-file search.
pub(crate) const MAX_WINDOW: usize = 64 * 1024;

/// Shortest keyword accepted: shorter literals hit almost everywhere and defeat the prefilter.
const MIN_KEYWORD_LEN: usize = 3;

/// A positive example: a text to scan and the secret it must yield.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The text to scan.
    pub text: String,
    /// The secret a finding of this signature must report.
    pub secret: String,
}

/// A signature as the engine uses it: validated fields plus a lazily compiled regex.
#[derive(Debug)]
pub struct Signature {
    id: String,
    name: String,
    provider: String,
    category: String,
    confidence: Confidence,
    keywords: Vec<String>,
    keywords_ignore_case: bool,
    keywordless: bool,
    pattern: String,
    declared_max_len: Option<usize>,
    facts: OnceLock<Result<PatternFacts, Vec<Problem>>>,
    min_entropy: Option<f64>,
    checksum: Option<ChecksumKind>,
    generic: bool,
    reject_placeholders: bool,
    description: Option<String>,
    references: Vec<String>,
    examples: Vec<Example>,
    negative_examples: Vec<String>,
    verify: Option<Arc<HttpCheck>>,
    verify_typed: Option<TypedSpec>,
    companion: Option<CompanionSpec>,
    location: SourceLocation,
    pattern_location: SourceLocation,
    regex: OnceLock<Result<meta::Regex, String>>,
}

/// Facts about a pattern that the engine needs, from its syntax tree.
#[derive(Debug)]
struct PatternFacts {
    max_match_len: usize,
    keyword_prefixed: bool,
    /// Capture group names by group number.
    group_names: Box<[Option<Arc<str>>]>,
    /// Group numbers of the `secret` groups (several when alternatives each capture it).
    secret_groups: Box<[usize]>,
}

/// The regex dialect of signature patterns: bytes, not necessarily UTF-8; ASCII classes and
/// case folding (tokens are ASCII, and Unicode tables would slow every search down).
pub(crate) fn syntax_config() -> regex_automata::util::syntax::Config {
    regex_automata::util::syntax::Config::new()
        .unicode(false)
        .utf8(false)
}

impl Signature {
    /// A built-in signature from the build-time scan view: already proven by `rules check`,
    /// so not validated again. Examples, references and description are left out (scans do
    /// not use them).
    pub(crate) fn from_builtin(b: &super::builtin::BuiltinSignature, file: &Arc<str>) -> Self {
        let at = |line| SourceLocation {
            file: file.clone(),
            line,
        };
        Signature {
            id: b.id.to_string(),
            name: b.name.to_string(),
            provider: b.provider.to_string(),
            category: b.category.to_string(),
            confidence: b.confidence,
            keywords: b.keywords.iter().map(|k| k.to_string()).collect(),
            keywords_ignore_case: b.keywords_ignore_case,
            keywordless: b.keywordless,
            pattern: b.pattern.to_string(),
            declared_max_len: b.max_len,
            facts: OnceLock::new(),
            min_entropy: b.min_entropy,
            checksum: b.checksum,
            generic: b.generic,
            reject_placeholders: b.reject_placeholders,
            description: None,
            references: Vec::new(),
            examples: Vec::new(),
            negative_examples: Vec::new(),
            verify: None,
            verify_typed: None,
            companion: None,
            location: at(b.line),
            pattern_location: at(b.pattern_line),
            regex: OnceLock::new(),
        }
    }

    /// Validates a spec read from `file`.
    pub(crate) fn from_spec(
        spec: SignatureSpec,
        file: &SourceFile<'_>,
    ) -> Result<Signature, Vec<Problem>> {
        let location = file.location(spec.id.span().start);
        let pattern_location = file.location(spec.pattern.span().start);
        let id = spec.id.into_inner();
        let mut problems = Vec::new();
        let mut problem = |loc: &SourceLocation, field: &'static str, message: String| {
            problems.push(Problem {
                location: loc.clone(),
                signature: Some(id.clone()),
                field: Some(field),
                message,
            })
        };

        if let Err(message) = check_id(&id) {
            problem(&location, "id", message);
        }
        if spec.name.trim().is_empty() {
            problem(&location, "name", "must not be empty".into());
        }
        if spec.provider.trim().is_empty() {
            problem(&location, "provider", "must not be empty".into());
        }
        if !CATEGORIES.contains(&spec.category.as_str()) {
            let known = CATEGORIES.join(", ");
            problem(
                &location,
                "category",
                format!("unknown category {:?} (known: {known})", spec.category),
            );
        }
        if spec.keywords.is_empty() && !spec.keywordless {
            problem(
                &location,
                "keywords",
                "a signature needs at least one keyword (or `keywordless = true`, for rare cases)"
                    .into(),
            );
        }
        if !spec.keywords.is_empty() && spec.keywordless {
            problem(
                &location,
                "keywordless",
                "set, but the signature has keywords".into(),
            );
        }
        for keyword in &spec.keywords {
            if keyword.len() < MIN_KEYWORD_LEN || !keyword.is_ascii() {
                problem(
                    &location,
                    "keywords",
                    format!(
                        "keyword {keyword:?} must be ASCII and at least {MIN_KEYWORD_LEN} bytes"
                    ),
                );
            }
        }
        if let Some(entropy) = spec.min_entropy {
            if !(0.0..=8.0).contains(&entropy) {
                problem(
                    &location,
                    "min_entropy",
                    format!("{entropy} is outside 0..=8 bits per byte"),
                );
            }
        }

        let pattern = spec.pattern.into_inner();
        if spec.max_len == Some(0) {
            problem(&location, "max_len", "must be positive".into());
        }
        let keywords_have_letters = spec
            .keywords
            .iter()
            .any(|k| k.bytes().any(|b| b.is_ascii_alphabetic()));
        if starts_case_insensitive(&pattern) && !spec.keywords_ignore_case && keywords_have_letters
        {
            problem(
                &location,
                "keywords_ignore_case",
                "the pattern is case-insensitive but its keywords are matched case-sensitively; set `keywords_ignore_case = true`".into(),
            );
        }

        if let Some(check) = &spec.verify {
            for message in check.problems() {
                problem(&location, "verify", message);
            }
        }
        if spec.verify.is_some() && spec.verify_typed.is_some() {
            problem(
                &location,
                "verify_typed",
                "a signature has one check: verify or verify_typed".into(),
            );
        }

        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Signature {
            id,
            name: spec.name,
            provider: spec.provider,
            category: spec.category,
            confidence: spec.confidence,
            keywords: spec.keywords,
            keywords_ignore_case: spec.keywords_ignore_case,
            keywordless: spec.keywordless,
            pattern,
            declared_max_len: spec.max_len,
            facts: OnceLock::new(),
            min_entropy: spec.min_entropy,
            checksum: spec.checksum,
            generic: spec.generic,
            reject_placeholders: spec.reject_placeholders,
            description: spec.description,
            references: spec.references,
            examples: spec.examples.into_iter().map(Example::from).collect(),
            negative_examples: spec.negative_examples,
            verify: spec.verify.map(Arc::new),
            verify_typed: spec.verify_typed,
            companion: spec.companion,
            location,
            pattern_location,
            regex: OnceLock::new(),
        })
    }

    /// What the pattern's syntax tree says, worked out on first use: parsing and analysing
    /// hundreds of patterns is most of start-up, and a hook run triggers only a few. Built-in
    /// patterns are proven by `rules check` (run by the test suite); extra files are checked
    /// eagerly at load time by [`super::RuleSetBuilder`].
    fn facts(&self) -> &Result<PatternFacts, Vec<Problem>> {
        self.facts.get_or_init(|| self.analyse())
    }

    fn analyse(&self) -> Result<PatternFacts, Vec<Problem>> {
        let problem = |message: String| {
            vec![Problem {
                location: self.pattern_location.clone(),
                signature: Some(self.id.clone()),
                field: Some("pattern"),
                message,
            }]
        };
        let hir = analysis::parse(&self.pattern).map_err(problem)?;
        let max_match_len = match (hir.properties().maximum_len(), self.declared_max_len) {
            (_, Some(declared)) => declared,
            (Some(bound), None) => bound,
            (None, None) => return Err(problem(
                "can match unboundedly long text: bound its repetitions (e.g. `\\s{0,8}` instead of `\\s*`) or set `max_len`".into(),
            )),
        };
        let keywords = Keywords {
            literals: &self.keywords,
            ignore_case: self.keywords_ignore_case,
        };
        let keyword_prefixed =
            !self.keywordless && analysis::keywords_start_every_match(&hir, keywords);
        let group_names = capture_names(&hir);
        let secret_groups = group_names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.as_deref() == Some("secret"))
            .map(|(group, _)| group)
            .collect();
        Ok(PatternFacts {
            max_match_len: max_match_len.min(MAX_WINDOW),
            keyword_prefixed,
            group_names: group_names.into_boxed_slice(),
            secret_groups,
        })
    }

    /// Problems with the pattern itself (syntax, unbounded length), found by analysing it.
    pub fn pattern_problems(&self) -> Vec<Problem> {
        self.facts().as_ref().err().cloned().unwrap_or_default()
    }

    /// Stable identifier.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Human-readable name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Issuing organisation.
    pub fn provider(&self) -> &str {
        &self.provider
    }
    /// Category, one of [`CATEGORIES`].
    pub fn category(&self) -> &str {
        &self.category
    }
    /// Declared confidence of a match.
    pub fn confidence(&self) -> Confidence {
        self.confidence
    }
    /// Prefilter literals.
    pub fn keywords(&self) -> &[String] {
        &self.keywords
    }
    /// Whether keywords match regardless of ASCII case.
    pub fn keywords_ignore_case(&self) -> bool {
        self.keywords_ignore_case
    }
    /// Whether the signature runs without a prefilter.
    pub fn is_keywordless(&self) -> bool {
        self.keywordless
    }
    /// The regular expression source.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }
    /// The longest text a match can span, in bytes: the engine searches this far on either
    /// side of a keyword hit.
    pub fn max_match_len(&self) -> usize {
        self.facts().as_ref().map_or(0, |f| f.max_match_len)
    }
    /// Whether every match begins with one of the keywords, so the engine can search anchored
    /// at each keyword hit instead of around it.
    pub fn is_keyword_prefixed(&self) -> bool {
        self.facts().as_ref().is_ok_and(|f| f.keyword_prefixed)
    }
    /// Group numbers of the `secret` groups; empty when the whole match is the secret. A
    /// pattern whose alternatives each capture the secret names them `secret`, `secret_2`, ...:
    /// the first one taking part in a match holds the secret.
    pub fn secret_groups(&self) -> &[usize] {
        self.facts().as_ref().map_or(&[], |f| &f.secret_groups)
    }
    /// Capture group names by group number (0 is the whole match and has none). A numbered
    /// name (`name_2`) is reported under its base name (`name`).
    pub fn group_names(&self) -> &[Option<Arc<str>>] {
        self.facts().as_ref().map_or(&[], |f| &f.group_names)
    }
    /// Minimum Shannon entropy of the secret, in bits per byte.
    pub fn min_entropy(&self) -> Option<f64> {
        self.min_entropy
    }
    /// Checksum validator, if the format has one.
    pub fn checksum(&self) -> Option<ChecksumKind> {
        self.checksum
    }
    /// Whether candidates go through the generic-secret heuristics.
    pub fn is_generic(&self) -> bool {
        self.generic
    }
    /// Whether placeholder values are rejected (see the spec field of the same name).
    pub fn rejects_placeholders(&self) -> bool {
        self.reject_placeholders
    }
    /// Optional description.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// Documentation links.
    pub fn references(&self) -> &[String] {
        &self.references
    }

    /// The verification check, when the signature has one (loaded from TOML only: the
    /// build-time scan view leaves it out).
    pub fn verify(&self) -> Option<&Arc<HttpCheck>> {
        self.verify.as_ref()
    }

    /// The typed verification check, when the signature has one instead of a declarative one.
    pub fn verify_typed(&self) -> Option<&TypedSpec> {
        self.verify_typed.as_ref()
    }

    /// Whether the signature can be verified at all.
    pub fn is_verifiable(&self) -> bool {
        self.verify.is_some() || self.verify_typed.is_some()
    }

    /// The other half of a multi-part credential, when the check needs one.
    pub fn companion(&self) -> Option<&CompanionSpec> {
        self.companion.as_ref()
    }
    /// Positive examples.
    pub fn examples(&self) -> &[Example] {
        &self.examples
    }
    /// Negative examples.
    pub fn negative_examples(&self) -> &[String] {
        &self.negative_examples
    }
    /// Where the signature is defined.
    pub fn location(&self) -> &SourceLocation {
        &self.location
    }

    /// Whether the pattern's facts and regex are built already (see [`Signature::prepare`]).
    pub fn is_prepared(&self) -> bool {
        self.facts.get().is_some() && self.regex.get().is_some()
    }

    /// Builds now what matching builds on first use: the pattern's facts and its regex.
    /// Errors are kept and reported by the calls that need the result.
    pub fn prepare(&self) {
        let _ = self.facts();
        let _ = self.regex();
    }

    /// The compiled regex, built on first use. Built-in patterns are proven to compile by the
    /// test suite; extra files are compiled eagerly at load time by [`super::RuleSetBuilder`].
    pub fn regex(&self) -> Result<&meta::Regex, &str> {
        self.regex
            .get_or_init(|| {
                meta::Regex::builder()
                    .syntax(syntax_config())
                    // Captures are extracted from short, known match spans, where the
                    // bounded backtracker is as fast as a one-pass DFA, which costs 15% of the
                    // compile time (measured with callgrind) for nothing.
                    .configure(meta::Config::new().onepass(false))
                    .build(&self.pattern)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(String::as_str)
    }
}

impl From<ExampleSpec> for Example {
    fn from(spec: ExampleSpec) -> Self {
        Example {
            text: spec.text().to_string(),
            secret: spec.secret().to_string(),
        }
    }
}

/// Ids are lowercase dot-separated words: `provider.kind[.variant]`.
fn check_id(id: &str) -> Result<(), String> {
    let valid_segment = |seg: &str| {
        !seg.is_empty()
            && seg
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !seg.starts_with('-')
            && !seg.ends_with('-')
    };
    if id.len() > 64 {
        return Err(format!("{id:?} is longer than 64 characters"));
    }
    if id.split('.').count() < 2 || !id.split('.').all(valid_segment) {
        return Err(format!(
            "{id:?} must be two or more dot-separated lowercase words (a-z, 0-9, -), e.g. `github.pat.classic`"
        ));
    }
    Ok(())
}

/// The base name of each capture group, indexed by group number (0 is the whole match):
/// `secret_2` → `secret`, so alternatives can each capture the same part.
fn capture_names(hir: &Hir) -> Vec<Option<Arc<str>>> {
    let mut names = vec![None; hir.properties().explicit_captures_len() + 1];
    let mut stack = vec![hir];
    while let Some(node) = stack.pop() {
        match node.kind() {
            HirKind::Capture(cap) => {
                names[cap.index as usize] = cap.name.as_deref().map(|n| Arc::from(base_name(n)));
                stack.push(&cap.sub);
            }
            HirKind::Concat(subs) | HirKind::Alternation(subs) => stack.extend(subs.iter()),
            HirKind::Repetition(rep) => stack.push(&rep.sub),
            _ => {}
        }
    }
    names
}

/// `secret_2` → `secret`; other names unchanged.
fn base_name(name: &str) -> &str {
    match name.rsplit_once('_') {
        Some((base, n))
            if !base.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) =>
        {
            base
        }
        _ => name,
    }
}

fn starts_case_insensitive(pattern: &str) -> bool {
    pattern.trim_start().starts_with("(?i")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_dotted_lowercase_words() {
        assert!(check_id("github.pat.classic").is_ok());
        assert!(check_id("aws.access-key-id").is_ok());
        assert!(check_id("github").is_err());
        assert!(check_id("GitHub.pat").is_err());
        assert!(check_id("github..pat").is_err());
        assert!(check_id("github.pat_classic").is_err());
        assert!(check_id("a.-b").is_err());
        assert!(check_id(&format!("a.{}", "b".repeat(70))).is_err());
    }

    #[test]
    fn capture_names_are_found_at_any_depth() {
        let hir = analysis::parse(r"(?:x(?P<secret>a(?P<host>b)+))|(c)|(?P<secret_2>d)").unwrap();
        let names = capture_names(&hir);
        assert_eq!(
            names,
            [
                None,
                Some("secret".into()),
                Some("host".into()),
                None,
                Some("secret".into())
            ]
        );
        assert_eq!(base_name("key_id"), "key_id");
        assert_eq!(base_name("_2"), "_2");
    }
}
