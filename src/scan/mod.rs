//! The scanner (bytes in, findings out) and the parallel scan loop that feeds it.

mod chunks;
mod dedup;
pub mod git;
pub mod image;
mod per_thread;
mod pipeline;
mod progress;
mod summary;

use std::sync::Arc;

use rayon::prelude::*;

pub use chunks::{CHUNK_LEN, OVERLAP as CHUNK_OVERLAP, PARALLEL_MIN};
pub use pipeline::{run, Event, RunOptions};
pub use progress::Progress;
pub use summary::Summary;

use crate::{
    engine::{EngineKind, EngineOptions, MatchError, Matcher, RawMatch, Scratch},
    filters::{Candidate, Filters},
    findings::{describe, BlobFinding},
    rules::{Confidence, RuleSet},
};

/// Matches, filters and describes the secrets in a blob. Immutable and shared by all threads;
/// each thread brings its own [`ScanScratch`].
pub struct Scanner {
    rules: Arc<RuleSet>,
    matcher: Box<dyn Matcher>,
    filters: Filters,
}

/// Configures a [`Scanner`].
pub struct ScannerBuilder {
    rules: Arc<RuleSet>,
    floor: Confidence,
    engine: EngineKind,
    engine_options: EngineOptions,
}

/// Per-thread working memory of a [`Scanner`].
pub struct ScanScratch {
    engine: Scratch,
    raw: Vec<RawMatch>,
}

impl ScannerBuilder {
    /// Drop findings below this confidence (default: medium).
    pub fn confidence_floor(mut self, floor: Confidence) -> Self {
        self.floor = floor;
        self
    }

    /// The matching engine (default: portable, which needs no set-up; the CLI picks the
    /// fastest in the build).
    pub fn engine(mut self, engine: EngineKind) -> Self {
        self.engine = engine;
        self
    }

    /// How to build the engine (the Hyperscan engine's database cache).
    pub fn engine_options(mut self, options: EngineOptions) -> Self {
        self.engine_options = options;
        self
    }

    /// Builds the scanner; fails if the engine is not in this build or cannot be built.
    pub fn build(self) -> Result<Scanner, MatchError> {
        let matcher = self
            .engine
            .build(self.rules.clone(), &self.engine_options)?;
        Ok(Scanner {
            rules: self.rules,
            matcher,
            filters: Filters::new(self.floor),
        })
    }
}

impl Scanner {
    /// A builder for a scanner over `rules`.
    pub fn builder(rules: impl Into<Arc<RuleSet>>) -> ScannerBuilder {
        ScannerBuilder {
            rules: rules.into(),
            floor: Confidence::Medium,
            engine: EngineKind::Portable,
            engine_options: EngineOptions::default(),
        }
    }

    /// The signatures.
    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    /// The engine's name.
    pub fn engine_name(&self) -> &'static str {
        self.matcher.name()
    }

    /// The confidence floor.
    pub fn confidence_floor(&self) -> Confidence {
        self.filters.floor()
    }

    /// Working memory for one thread.
    pub fn new_scratch(&self) -> ScanScratch {
        ScanScratch {
            engine: self.matcher.new_scratch(),
            raw: Vec::new(),
        }
    }

    /// Every finding in `haystack`, in offset order.
    pub fn scan(
        &self,
        haystack: &[u8],
        scratch: &mut ScanScratch,
    ) -> Result<Vec<BlobFinding>, MatchError> {
        let candidates = self.candidates_with(haystack, scratch)?;
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        Ok(describe(&self.rules, haystack, candidates))
    }

    /// The matches that survive the filters, before they are merged into findings: every
    /// signature's own view, which is what signature examples are checked against.
    pub fn candidates(&self, haystack: &[u8]) -> Vec<Candidate> {
        self.candidates_with(haystack, &mut self.new_scratch())
            .unwrap_or_default()
    }

    fn candidates_with(
        &self,
        haystack: &[u8],
        scratch: &mut ScanScratch,
    ) -> Result<Vec<Candidate>, MatchError> {
        if haystack.len() < chunks::PARALLEL_MIN {
            return self.chunk_candidates(haystack, &whole(haystack), scratch);
        }
        // A huge blob: its chunks are matched in parallel (see `chunks`), on the same thread
        // pool as the other blobs, each with scratch of its own.
        let plan = chunks::plan(haystack.len(), chunks::CHUNK_LEN, chunks::OVERLAP);
        let per_chunk: Vec<Vec<Candidate>> = plan
            .par_iter()
            .map_init(
                || self.new_scratch(),
                |scratch, chunk| self.chunk_candidates(haystack, chunk, scratch),
            )
            .collect::<Result<_, _>>()?;
        Ok(per_chunk.into_iter().flatten().collect())
    }

    /// The candidates that begin in the span `chunk` owns, matched over the span it sees.
    /// Offsets are the blob's, and the filters judge them against the whole blob.
    fn chunk_candidates(
        &self,
        haystack: &[u8],
        chunk: &chunks::Chunk,
        scratch: &mut ScanScratch,
    ) -> Result<Vec<Candidate>, MatchError> {
        scratch.raw.clear();
        self.matcher.find_matches(
            &haystack[chunk.sees.clone()],
            &mut scratch.engine,
            &mut scratch.raw,
        )?;
        let base = chunk.sees.start;
        Ok(scratch
            .raw
            .drain(..)
            .map(|raw| raw.shifted(base))
            .filter(|raw| chunk.owns.contains(&raw.span.start))
            .filter_map(|raw| self.filters.judge(&self.rules, haystack, raw))
            .collect())
    }

    /// Convenience for one-off scans: a fresh scratch, and a signature whose pattern fails to
    /// compile is treated as matching nothing.
    pub fn scan_bytes(&self, haystack: &[u8]) -> Vec<BlobFinding> {
        self.scan(haystack, &mut self.new_scratch())
            .unwrap_or_default()
    }
}

/// The one chunk of a blob matched in one piece.
fn whole(haystack: &[u8]) -> chunks::Chunk {
    chunks::Chunk {
        owns: 0..haystack.len(),
        sees: 0..haystack.len(),
    }
}
