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
