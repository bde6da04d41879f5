//! The portable engine: pure Rust, the default.
//!
//! Stage 1 is a single Aho-Corasick DFA ([`KeywordAutomaton`]) over the distinct keywords of
//! every signature, ASCII-case-insensitive so that one pass serves case-sensitive and
//! case-insensitive keywords alike; a case-sensitive keyword's hit is then checked byte for
//! byte, which is cheaper than a second pass over the blob. Keywords shared by several
//! signatures appear once in the automaton and fan out to all of them. Every occurrence is
//! reported, overlapping ones included, so a keyword inside another (`secret` inside
//! `client_secret`) still triggers its own signatures.

use std::{collections::HashMap, sync::Arc};

use super::{
    confirm::RegexCaches,
    keywords::{KeywordAutomaton, KeywordHit},
    MatchError, Matcher, RawMatch, Scratch, Triggers,
};
use crate::rules::{RuleSet, SignatureIndex};

/// Where a keyword hit leads.
#[derive(Debug, Clone)]
struct Target {
    signature: SignatureIndex,
    /// For case-sensitive keywords, the exact bytes the hit must have.
    exact: Option<Box<[u8]>>,
}

/// Keyword prefilter + windowed regex confirmation. See the module docs.
#[derive(Debug)]
pub struct PortableEngine {
    rules: Arc<RuleSet>,
    prefilter: KeywordPrefilter,
}

/// Stage 1 of the portable engine, over any subset of the signatures: the Hyperscan engine
/// uses it for the signatures its database leaves out.
#[derive(Debug)]
pub(super) struct KeywordPrefilter {
    keywords: KeywordAutomaton,
    /// Length of each automaton keyword.
    keyword_lengths: Vec<usize>,
    /// Per automaton keyword, the signatures it triggers.
    targets: Vec<Vec<Target>>,
    keywordless: Vec<SignatureIndex>,
}

struct PortableScratch {
    hits: Vec<KeywordHit>,
    triggers: Triggers,
    caches: RegexCaches,
}

impl PortableEngine {
    /// Builds the keyword automaton for `rules`.
    pub fn new(rules: Arc<RuleSet>) -> PortableEngine {
        let prefilter = KeywordPrefilter::new(&rules, rules.iter().map(|(index, _)| index));
        PortableEngine { rules, prefilter }
    }
}

impl KeywordPrefilter {
    /// The automaton over the keywords of `signatures`.
    pub(super) fn new(
        rules: &RuleSet,
        signatures: impl IntoIterator<Item = SignatureIndex>,
    ) -> KeywordPrefilter {
        let mut literal_index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut targets: Vec<Vec<Target>> = Vec::new();
        let mut keywordless = Vec::new();

        for index in signatures {
            let signature = rules.get(index);
            if signature.is_keywordless() {
                keywordless.push(index);
            }
            for keyword in signature.keywords() {
                let folded = keyword.as_bytes().to_ascii_lowercase();
                let slot = *literal_index.entry(folded.clone()).or_insert_with(|| {
                    literals.push(folded);
                    targets.push(Vec::new());
                    literals.len() - 1
                });
                let exact = (!signature.keywords_ignore_case()).then(|| keyword.as_bytes().into());
                let target = Target {
                    signature: index,
                    exact,
                };
                let already = targets[slot]
                    .iter()
                    .any(|t| t.signature == index && t.exact == target.exact);
                if !already {
                    targets[slot].push(target);
                }
            }
        }

        KeywordPrefilter {
            keywords: KeywordAutomaton::new(&literals),
            keyword_lengths: literals.iter().map(Vec::len).collect(),
            targets,
            keywordless,
        }
    }

    /// Stage 1: adds the starts and windows of this prefilter's signatures to `triggers`,
    /// which the caller has reset for `haystack`.
    pub(super) fn add_triggers(
        &self,
        rules: &RuleSet,
        haystack: &[u8],
        hits: &mut Vec<KeywordHit>,
        triggers: &mut Triggers,
    ) {
        for &signature in &self.keywordless {
            triggers.everywhere(signature);
        }
        hits.clear();
        self.keywords.find_all(haystack, hits);
        // The loop below reads each triggered signature's facts; build the missing ones on
        // every core first.
        super::warm::prepare(
            rules,
            hits.iter().flat_map(|hit| {
                self.targets[hit.keyword as usize]
                    .iter()
                    .map(|target| target.signature)
            }),
        );
        for hit in hits.iter() {
            let keyword = hit.keyword as usize;
            let span = hit.start..hit.start + self.keyword_lengths[keyword];
            for target in &self.targets[keyword] {
                if let Some(exact) = &target.exact {
                    if haystack[span.clone()] != **exact {
                        continue;
                    }
                }
                // Whether matches begin with the keyword (search anchored at the hit) and how
                // far they reach are analysed on a signature's first hit, not at start-up.
                let signature = rules.get(target.signature);
                if signature.is_keyword_prefixed() {
                    triggers.start_at(target.signature, span.start);
                } else {
                    triggers.hit(target.signature, span.clone(), signature.max_match_len());
                }
            }
        }
    }
}

impl Matcher for PortableEngine {
    fn new_scratch(&self) -> Scratch {
        Scratch::new(PortableScratch {
            hits: Vec::new(),
            triggers: Triggers::default(),
            caches: RegexCaches::default(),
        })
    }

    fn find_matches(
        &self,
        haystack: &[u8],
        scratch: &mut Scratch,
        out: &mut Vec<RawMatch>,
    ) -> Result<(), MatchError> {
        let scratch = scratch
            .downcast_mut::<PortableScratch>()
            .ok_or(MatchError::ForeignScratch)?;
        scratch.triggers.reset(self.rules.len(), haystack.len());
        self.prefilter.add_triggers(
            &self.rules,
            haystack,
            &mut scratch.hits,
            &mut scratch.triggers,
        );
        super::confirm(
            &self.rules,
            haystack,
            &mut scratch.triggers,
            &mut scratch.caches,
            out,
        )
    }

    fn name(&self) -> &'static str {
        "portable"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Arc<RuleSet> {
        Arc::new(
            RuleSet::builder()
                .builtin(false)
                .add_source("t.toml", text)
                .build()
                .unwrap(),
        )
    }

    fn sig(id: &str, keywords: &str, pattern: &str, extra: &str) -> String {
        format!(
            "[[signature]]\nid = {id:?}\nname = 'n'\nprovider = 'p'\ncategory = 'saas'\nconfidence = 'high'\n\
             keywords = {keywords}\npattern = '''{pattern}'''\n{extra}\n"
        )
    }

    fn matches(rules: &Arc<RuleSet>, text: &[u8]) -> Vec<(String, String)> {
        let engine = PortableEngine::new(rules.clone());
        let mut scratch = engine.new_scratch();
        let mut out = Vec::new();
        engine.find_matches(text, &mut scratch, &mut out).unwrap();
        let mut found: Vec<_> = out
            .iter()
            .map(|m| {
                let id = rules.get(m.signature).id().to_string();
                (
                    id,
                    String::from_utf8_lossy(&text[m.secret.clone()]).into_owned(),
                )
            })
            .collect();
        found.sort();
        found
    }

    #[test]
    fn overlapping_signatures_both_report() {
        let set = rules(&format!(
            "{}{}",
            sig("a.token", "['tok_']", r"tok_[a-z]{6}", ""),
            sig("b.token", "['tok_']", r"(?P<secret>tok_[a-z]{4})", "")
        ));
        assert_eq!(
            matches(&set, b"x tok_abcdef y"),
            vec![
                ("a.token".into(), "tok_abcdef".into()),
                ("b.token".into(), "tok_abcd".into())
            ]
        );
    }

    #[test]
    fn case_sensitive_keywords_need_exact_case() {
        let set = rules(&sig("a.key", "['AKIA']", r"AKIA[0-9A-Z]{4}", ""));
        assert_eq!(matches(&set, b"akia1234 AKIA5678").len(), 1);
        let ci = rules(&sig(
            "a.key",
            "['akia']",
            r"(?i)akia[0-9a-z]{4}",
            "keywords_ignore_case = true",
        ));
        assert_eq!(matches(&ci, b"akia1234 AKIA5678").len(), 2);
    }

    #[test]
    fn keyword_inside_another_keyword_still_triggers() {
        let set = rules(&format!(
            "{}{}",
            sig(
                "a.client",
                "['client_secret']",
                r"client_secret=(?P<secret>[a-z]{4})",
                ""
            ),
            sig("b.secret", "['secret']", r"secret=(?P<secret>[a-z]{4})", "")
        ));
        let found = matches(&set, b"client_secret=abcd");
        assert_eq!(found.len(), 2, "{found:?}");
    }

    #[test]
    fn word_boundaries_see_past_the_window() {
        // The window starts inside a longer word; `\b` must not match there.
        let set = rules(&sig(
            "a.hex",
            "['key=']",
            r"\b[a-f0-9]{4}key=[a-f0-9]{4}\b",
            "",
        ));
        assert!(matches(&set, b"zzzzzzzzzz0000key=1111").is_empty());
        assert_eq!(matches(&set, b"zzz 0000key=1111 ").len(), 1);
    }

    #[test]
    fn matches_are_found_at_blob_edges_and_in_every_window() {
        let set = rules(&sig("a.tok", "['tok_']", r"tok_[a-z]{3}", ""));
        let mut text = b"tok_abc".to_vec();
        text.extend(std::iter::repeat_n(b' ', 10_000));
        text.extend(b"tok_def");
        assert_eq!(matches(&set, &text).len(), 2);
    }

    #[test]
    fn keywordless_signatures_search_everywhere() {
        let set = rules(&sig("a.any", "[]", r"zz[0-9]{3}", "keywordless = true"));
        assert_eq!(matches(&set, b"a zz123 b zz456").len(), 2);
    }
}
