//! The Hyperscan engine (cargo feature `hyperscan`): stage 1 is one Hyperscan database holding
//! every signature's pattern, so the prefilter fires on whole-pattern matches rather than on
//! keywords alone (`password` occurs everywhere; `password = "<8+ chars>"` does not).
//!
//! # Why findings equal the portable engine's
//!
//! Each signature's pattern is translated into a Hyperscan pattern that matches a superset of
//! its matches ([`translate`]). Hyperscan reports match *ends*; an end `e` of a signature whose
//! matches are at most `reach` bytes long opens the window `e - reach .. e`, windows of one
//! signature merge, and [`super::confirm`] runs the regex crate in them, as for the portable
//! engine. Every true match lies inside the window of its own end, and so inside exactly one
//! merged window, so searching window by window finds exactly the matches a search of the whole
//! blob finds. The portable engine's keyword windows have the same property whenever every
//! match contains a keyword and is at most `reach` long. A signature for which either fact is
//! not proven (its keywords, or its length bound, from the pattern's syntax tree), or whose
//! translation Hyperscan refuses, is left out of the database and goes through the portable
//! engine's keyword prefilter instead: a [`Fallback`], listed by
//! `keysift rules list --engine-report`.
//!
//! Compiling the database takes seconds, so it is cached on disk ([`cache`]).
//!
//! # Speed, as measured
//!
//! Correct, but not yet fast: on a 60 MB blob of generated text the database scans at about
//! 10 MB/s (60% of the time inside libhs, 20% sorting match ends), where the portable engine
//! takes under a second. The loosened repetitions (see [`translate`]) keep many patterns'
//! states alive across every run of word characters and report an end at each byte of long
//! token-like runs. The next steps are to put only each pattern's distinctive head in the
//! database (a keyword plus its fixed context, which keeps windows exact as long as the
//! head ends inside the match) and to merge adjacent ends of one pattern in the callback.

mod cache;
mod ffi;
mod translate;

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

use super::{
    confirm::RegexCaches, keywords::KeywordHit, portable::KeywordPrefilter, MatchError, Matcher,
    RawMatch, Scratch, Triggers,
};
use crate::rules::{
    analysis::{self, Keywords},
    RuleSet, Signature, SignatureIndex,
};

/// Block mode takes a 32-bit length; larger blobs are scanned in blocks of this size, each
/// extended by the longest possible match so no match straddles two blocks unseen.
const BLOCK_LEN: usize = 1 << 30;

/// A signature the database leaves to the portable prefilter, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    /// The signature.
    pub signature: SignatureIndex,
    /// Why it is not in the database.
    pub reason: String,
}

/// Which signatures the database holds (pattern id `i` is `compiled[i]`) and which fell back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Plan {
    compiled: Vec<SignatureIndex>,
    fallbacks: Vec<Fallback>,
}

/// The database with a scratch to clone for each thread.
#[derive(Debug)]
struct Compiled {
    database: ffi::Database,
    /// Cloned by [`Matcher::new_scratch`]; the lock is taken once per thread, never while
    /// scanning.
    scratch_template: Mutex<ffi::HsScratch>,
}

/// Hyperscan prefilter + windowed regex confirmation. See the module docs.
#[derive(Debug)]
pub struct HyperscanEngine {
    rules: Arc<RuleSet>,
    compiled: Option<Compiled>,
    fallbacks: Vec<Fallback>,
    /// Pattern id → signature.
    signatures: Vec<SignatureIndex>,
    fallback_prefilter: KeywordPrefilter,
    from_cache: bool,
}

/// Configures a [`HyperscanEngine`].
#[derive(Debug)]
pub struct HyperscanBuilder {
    rules: Arc<RuleSet>,
    cache_dir: Option<PathBuf>,
}

struct HyperscanScratch {
    /// `None` when libhs could not allocate scratch; reported by `find_matches`.
    hs: Option<ffi::HsScratch>,
    /// Match ends from the database: (end offset, pattern id).
    ends: Vec<(usize, u32)>,
    hits: Vec<KeywordHit>,
    triggers: Triggers,
    caches: RegexCaches,
}

/// The Hyperscan library's version, for `--version` and the cache key.
pub fn library_version() -> &'static str {
    ffi::version()
}

impl HyperscanEngine {
    /// A builder for an engine over `rules`, without an on-disk cache.
    pub fn builder(rules: Arc<RuleSet>) -> HyperscanBuilder {
        HyperscanBuilder {
            rules,
            cache_dir: None,
        }
    }

    /// The signatures matched by the portable prefilter instead of the database.
    pub fn fallbacks(&self) -> &[Fallback] {
        &self.fallbacks
    }

    /// Whether the database was loaded from the on-disk cache rather than compiled.
    pub fn loaded_from_cache(&self) -> bool {
        self.from_cache
    }

    /// Calls `on_end(pattern id, end)` for every match end of the database in `haystack`.
    fn for_each_end(
        &self,
        compiled: &Compiled,
        hs: &mut ffi::HsScratch,
        haystack: &[u8],
        block_len: usize,
        on_end: &mut impl FnMut(u32, usize),
    ) -> Result<(), MatchError> {
        // Every compiled signature's matches fit its window, which the rules cap.
        let overlap = crate::rules::MAX_WINDOW;
        let mut start = 0usize;
        loop {
            let end = start.saturating_add(block_len).saturating_add(overlap);
            let block = &haystack[start..end.min(haystack.len())];
            compiled
                .database
                .scan(block, hs, |id, block_end| on_end(id, start + block_end))
                .map_err(|message| MatchError::Engine { message })?;
            start += block_len;
            if end >= haystack.len() {
                return Ok(());
            }
        }
    }

    fn find_with_block_len(
        &self,
        haystack: &[u8],
        scratch: &mut HyperscanScratch,
        block_len: usize,
        out: &mut Vec<RawMatch>,
    ) -> Result<(), MatchError> {
        let triggers = &mut scratch.triggers;
        triggers.reset(self.rules.len(), haystack.len());
        self.fallback_prefilter
            .add_triggers(&self.rules, haystack, &mut scratch.hits, triggers);
        if let Some(compiled) = &self.compiled {
            let hs = scratch.hs.as_mut().ok_or_else(|| MatchError::Engine {
                message: "Hyperscan scratch space could not be allocated".into(),
            })?;
            let ends = &mut scratch.ends;
            ends.clear();
            self.for_each_end(compiled, hs, haystack, block_len, &mut |id, end| {
                ends.push((end, id))
            })?;
            // Windows of one signature must arrive in order of their start; Hyperscan reports
            // ends mostly, but not strictly, in order.
            if !ends.is_sorted() {
                ends.sort_unstable();
            }
            for &(end, id) in ends.iter() {
                let signature = self.signatures[id as usize];
                let reach = self.rules.get(signature).max_match_len();
                triggers.end_at(signature, end, reach);
            }
        }
        super::confirm(&self.rules, haystack, triggers, &mut scratch.caches, out)
    }
}

impl HyperscanBuilder {
    /// Where compiled databases are cached (`None`: compile every time). See
    /// [`super::EngineOptions::user_cache_dir`].
    pub fn cache_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.cache_dir = dir;
        self
    }

    /// Loads the database from the cache, or plans and compiles it (and caches it).
    pub fn build(self) -> Result<HyperscanEngine, MatchError> {
        let rules = self.rules;
        let key = self.cache_dir.as_ref().map(|_| cache::key(&rules));
        let cached = self
            .cache_dir
            .as_deref()
            .zip(key.as_deref())
            .and_then(|(dir, key)| cache::load(dir, key, rules.len()));
        let from_cache = cached.is_some();
        let (plan, database) = match cached {
            Some((plan, database)) => (plan, Some(database)),
            None => {
                let (plan, database) = compile(&rules)?;
                if let (Some(dir), Some(key), Some(database)) = (&self.cache_dir, &key, &database) {
                    // Best effort: without a cache the next run compiles again.
                    let _ = cache::store(dir, key, &plan, database);
                }
                (plan, database)
            }
        };
        let compiled = database
            .map(|database| {
                let template = database
                    .alloc_scratch()
                    .map_err(|message| MatchError::Engine { message })?;
                Ok::<_, MatchError>(Compiled {
                    database,
                    scratch_template: Mutex::new(template),
                })
            })
            .transpose()?;
        let fallback_prefilter =
            KeywordPrefilter::new(&rules, plan.fallbacks.iter().map(|f| f.signature));
        Ok(HyperscanEngine {
            rules,
            compiled,
            fallbacks: plan.fallbacks,
            signatures: plan.compiled,
            fallback_prefilter,
            from_cache,
        })
    }
}

/// Decides which signatures go into the database, translates them, and compiles them. A
/// pattern libhs refuses is retried in its prefilter mode (an approximation that still
/// matches a superset), then left to the fallback path.
fn compile(rules: &RuleSet) -> Result<(Plan, Option<ffi::Database>), MatchError> {
    let mut plan = Plan::default();
    let mut patterns = Vec::new();
    for (index, signature) in rules.iter() {
        match database_pattern(signature) {
            Ok(pattern) => {
                plan.compiled.push(index);
                patterns.push(pattern);
            }
            Err(reason) => plan.fallbacks.push(Fallback {
                signature: index,
                reason,
            }),
        }
    }
    let mut flags = vec![0u32; patterns.len()];
    loop {
        if patterns.is_empty() {
            return Ok((plan, None));
        }
        let error = match ffi::Database::compile(&patterns, &flags) {
            Ok(database) => return Ok((plan, Some(database))),
            Err(error) => error,
        };
        match error.expression.filter(|&i| i < patterns.len()) {
            Some(i) if flags[i] & ffi::FLAG_PREFILTER == 0 => flags[i] |= ffi::FLAG_PREFILTER,
            Some(i) => {
                patterns.remove(i);
                flags.remove(i);
                plan.fallbacks.push(Fallback {
                    signature: plan.compiled.remove(i),
                    reason: format!("Hyperscan refuses the pattern: {}", error.message),
                });
            }
            None => {
                return Err(MatchError::Engine {
                    message: format!("Hyperscan cannot compile the signatures: {}", error.message),
                })
            }
        }
    }
}

/// The Hyperscan pattern of `signature`, or why it must fall back (see the module docs).
fn database_pattern(signature: &Signature) -> Result<String, String> {
    let hir = analysis::parse(signature.pattern()).map_err(|e| format!("pattern: {e}"))?;
    if let Some(problem) = signature.pattern_problems().first() {
        return Err(problem.message.clone());
    }
    match hir.properties().maximum_len() {
        Some(longest) if longest <= signature.max_match_len() => {}
        _ => return Err("matches can be longer than its search window (`max_len`)".into()),
    }
    let keywords = Keywords {
        literals: signature.keywords(),
        ignore_case: signature.keywords_ignore_case(),
    };
    if !signature.is_keywordless() && !analysis::keywords_in_every_match(&hir, keywords) {
        return Err("not proven that every match contains a keyword".into());
    }
    let pattern = translate::to_hyperscan(&hir)?;
    match ffi::min_match_width(&pattern, 0) {
        Ok(0) => Err("can match empty text".into()),
        Ok(_) => Ok(pattern),
        Err(error) => Err(format!("Hyperscan refuses the pattern: {}", error.message)),
    }
}

impl Matcher for HyperscanEngine {
    fn new_scratch(&self) -> Scratch {
        let hs = self.compiled.as_ref().and_then(|compiled| {
            let template = compiled
                .scratch_template
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            template.try_clone().ok()
        });
        Scratch::new(HyperscanScratch {
            hs,
            ends: Vec::new(),
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
            .downcast_mut::<HyperscanScratch>()
            .ok_or(MatchError::ForeignScratch)?;
        self.find_with_block_len(haystack, scratch, BLOCK_LEN, out)
    }

    fn name(&self) -> &'static str {
        "hyperscan"
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn rules(signatures: &[(&str, &str, &str)]) -> Arc<RuleSet> {
        let text: String = signatures
            .iter()
            .map(|(id, pattern, extra)| {
                format!(
                    "[[signature]]\nid = {id:?}\nname = 'n'\nprovider = 'p'\ncategory = 'saas'\n\
                     confidence = 'high'\nkeywords = ['tok_']\npattern = '''{pattern}'''\n{extra}\n"
                )
            })
            .collect();
        Arc::new(
            RuleSet::builder()
                .builtin(false)
                .add_source("t.toml", &text)
                .build()
                .unwrap(),
        )
    }

    fn secrets(engine: &HyperscanEngine, text: &[u8]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        engine
            .find_matches(text, &mut engine.new_scratch(), &mut out)
            .unwrap();
        let mut found: Vec<_> = out
            .iter()
            .map(|m| {
                (
                    engine.rules.get(m.signature).id().to_string(),
                    String::from_utf8_lossy(&text[m.secret.clone()]).into_owned(),
                )
            })
            .collect();
        found.sort();
        found
    }

    #[test]
    fn unproven_signatures_fall_back_and_still_match() {
        let set = rules(&[
            ("a.compiled", r"tok_[a-z]{4}\b", ""),
            ("b.unbounded", r"tok_[0-9]+", "max_len = 20"),
            ("c.no-keyword", r"(?:tok_|xyz_)[A-Z]{4}", ""),
        ]);
        let engine = HyperscanEngine::builder(set).build().unwrap();
        let reasons: Vec<(usize, &str)> = engine
            .fallbacks()
            .iter()
            .map(|f| (f.signature.get(), f.reason.as_str()))
            .collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert_eq!(reasons[0].0, 1);
        assert!(reasons[0].1.contains("longer than its search window"));
        assert_eq!(reasons[1].0, 2);
        assert!(reasons[1].1.contains("keyword"));
        assert_eq!(
            secrets(&engine, b"tok_abcd tok_1234 tok_WXYZ"),
            vec![
                ("a.compiled".into(), "tok_abcd".into()),
                ("b.unbounded".into(), "tok_1234".into()),
                ("c.no-keyword".into(), "tok_WXYZ".into()),
            ]
        );
    }

    #[test]
    fn large_blobs_scanned_in_overlapping_blocks_match_alike() {
        let set = rules(&[("a.tok", r"tok_[a-z]{4,30}", "")]);
        let engine = HyperscanEngine::builder(set).build().unwrap();
        let mut text = Vec::new();
        for i in 0..40_000usize {
            text.extend_from_slice(if i % 97 == 0 {
                b"tok_abcdefgh "
            } else {
                b"x1 "
            });
        }
        let find = |block_len| {
            let mut scratch = engine.new_scratch();
            let scratch = scratch.downcast_mut::<HyperscanScratch>().unwrap();
            let mut out = Vec::new();
            engine
                .find_with_block_len(&text, scratch, block_len, &mut out)
                .unwrap();
            out.sort_by_key(|m| m.span.start);
            out
        };
        let whole = find(BLOCK_LEN);
        assert_eq!(whole.len(), 40_000usize.div_ceil(97));
        assert_eq!(find(4096), whole);
    }

    #[test]
    fn the_cache_is_reused_and_a_bad_file_is_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let set = rules(&[
            ("a.tok", r"tok_[a-z]{4}", ""),
            ("b.tok", r"tok_[0-9]+", "max_len = 9"),
        ]);
        let build = |set: &Arc<RuleSet>| {
            HyperscanEngine::builder(set.clone())
                .cache_dir(Some(dir.path().to_path_buf()))
                .build()
                .unwrap()
        };
        let first = build(&set);
        assert!(!first.loaded_from_cache());
        let second = build(&set);
        assert!(second.loaded_from_cache());
        assert_eq!(second.fallbacks(), first.fallbacks());
        assert_eq!(
            secrets(&second, b"tok_abcd tok_12"),
            secrets(&first, b"tok_abcd tok_12")
        );

        let path = cache::file_path(dir.path(), &cache::key(&set));
        let good = fs::read(&path).unwrap();
        let mut corrupt = good.clone();
        let last = corrupt.len() - 1;
        corrupt[last] ^= 0x55;
        let other = rules(&[("z.other", r"tok_[a-z]{5}", "")]);
        let foreign = {
            build(&other);
            fs::read(cache::file_path(dir.path(), &cache::key(&other))).unwrap()
        };
        for bad in [
            corrupt,
            good[..good.len() / 2].to_vec(),
            foreign,
            Vec::new(),
        ] {
            fs::write(&path, bad).unwrap();
            let rebuilt = build(&set);
            assert!(!rebuilt.loaded_from_cache());
            assert_eq!(
                secrets(&rebuilt, b"tok_abcd"),
                vec![("a.tok".into(), "tok_abcd".into())]
            );
            assert_eq!(fs::read(&path).unwrap(), good, "the file is rewritten");
        }
    }
}
