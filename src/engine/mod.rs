//! Matching engines: bytes in, every raw match of every signature out.
//!
//! Matching runs in two stages, and the contract between them is [`Triggers`]:
//!
//! 1. A **prefilter** finds where each signature *could* match. The portable engine does this
//!    with one Aho-Corasick automaton over every signature's keywords; each keyword hit opens a
//!    window of the signature's maximum match length on both sides (every match contains one of
//!    its signature's keywords, so every match lies inside such a window). Overlapping windows of
//!    the same signature merge.
//! 2. **Confirmation** ([`confirm`]) runs only the triggered signatures' regexes, only inside
//!    their windows, and extracts the secret and named captures.
//!
//! A signature without keywords (`keywordless = true`, rare by policy) gets one window over the
//! whole blob. Engines differ only in stage 1, so they agree on results by construction as long
//! as their prefilters never miss a keyword hit.
//!
//! With the cargo feature `hyperscan`, a second engine ([`HyperscanEngine`]) replaces the
//! keyword prefilter with one Hyperscan database of every signature's pattern: windows open
//! around *pattern* matches instead of keyword hits. Its module docs show why it reports
//! exactly what the portable engine reports; `tests/engine_equivalence.rs` checks it.

mod confirm;
#[cfg(feature = "hyperscan")]
pub mod hyperscan;
pub(crate) mod keywords;
mod portable;
mod triggers;
mod warm;

use std::{any::Any, ops::Range, path::PathBuf, sync::Arc};

pub use confirm::confirm;
#[cfg(feature = "hyperscan")]
pub use hyperscan::HyperscanEngine;
pub use portable::PortableEngine;
pub use triggers::Triggers;

use crate::rules::{RuleSet, SignatureIndex};

/// One match of one signature: the stage-2 output and the filters' input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMatch {
    /// The signature that matched.
    pub signature: SignatureIndex,
    /// Byte span of the whole match.
    pub span: Range<usize>,
    /// Byte span of the secret (the `secret` group, or the whole match).
    pub secret: Range<usize>,
    /// Other named groups that took part in the match (a host, a user name, a key id).
    pub captures: Vec<NamedCapture>,
}

impl RawMatch {
    /// The same match with its offsets moved `by` bytes later: from a slice's offsets to the
    /// blob's.
    pub fn shifted(mut self, by: usize) -> RawMatch {
        if by > 0 {
            let shift = |r: &mut Range<usize>| *r = r.start + by..r.end + by;
            shift(&mut self.span);
            shift(&mut self.secret);
            self.captures.iter_mut().for_each(|c| shift(&mut c.span));
        }
        self
    }
}

/// A named capture group's span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedCapture {
    /// The group name from the pattern.
    pub name: Arc<str>,
    /// Byte span in the blob.
    pub span: Range<usize>,
}

/// Per-thread working memory of an engine, created by [`Matcher::new_scratch`]. Each worker
/// thread owns one, so matching takes no locks.
pub struct Scratch(Box<dyn Any + Send>);

impl Scratch {
    /// Wraps an engine's own scratch type.
    pub fn new<T: Any + Send>(inner: T) -> Self {
        Scratch(Box::new(inner))
    }

    /// The engine's scratch, if `self` was made by that engine.
    pub fn downcast_mut<T: Any>(&mut self) -> Option<&mut T> {
        self.0.downcast_mut()
    }
}

/// A matching failure: a signature whose regex cannot be compiled, or an engine error.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum MatchError {
    /// A signature's regex failed to compile when first needed.
    #[error("signature {id}: pattern does not compile: {message}")]
    Pattern {
        /// The signature id.
        id: String,
        /// The compiler's message.
        message: String,
    },
    /// Scratch from another engine was passed in.
    #[error("scratch space belongs to a different engine")]
    ForeignScratch,
    /// The engine itself failed (Hyperscan could not compile, allocate or scan).
    #[error("{message}")]
    Engine {
        /// What went wrong.
        message: String,
    },
    /// The engine asked for is not compiled into this build.
    #[error("the {0} engine is not compiled in (build with `--features {0}`)")]
    Unavailable(&'static str),
}

/// The matching engines keysift knows, whether or not this build includes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    /// Pure Rust; always available.
    Portable,
    /// Hyperscan, with the cargo feature `hyperscan`.
    Hyperscan,
}

/// How to build an engine; see [`EngineKind::build`].
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Where engines that compile their signatures may cache the result (`None`: no cache).
    pub cache_dir: Option<PathBuf>,
}

impl EngineOptions {
    /// Options with the cache in the user's cache directory: `$XDG_CACHE_HOME/keysift`, else
    /// `~/.cache/keysift` (none if neither variable is set).
    pub fn user_cache() -> EngineOptions {
        EngineOptions {
            cache_dir: Self::user_cache_dir(),
        }
    }

    /// `$XDG_CACHE_HOME/keysift`, else `~/.cache/keysift`.
    pub fn user_cache_dir() -> Option<PathBuf> {
        let non_empty = |name| std::env::var_os(name).filter(|value| !value.is_empty());
        let base = non_empty("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| non_empty("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
        Some(base.join("keysift"))
    }
}

impl EngineKind {
    /// The engines compiled into this build, fastest first.
    ///
    /// Measured (benches/compare.sh, 554 MB generated corpus, both engines in one run): the
    /// portable engine scans about twice as fast as the Hyperscan engine's whole-pattern
    /// database, so it stays the default until the Hyperscan prefilter is tuned; see
    /// [`hyperscan`] for where its time goes.
    pub fn available() -> &'static [EngineKind] {
        if cfg!(feature = "hyperscan") {
            &[EngineKind::Portable, EngineKind::Hyperscan]
        } else {
            &[EngineKind::Portable]
        }
    }

    /// The fastest engine in this build.
    pub fn fastest() -> EngineKind {
        Self::available()[0]
    }

    /// The engine's name, as `--engine` spells it.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Portable => "portable",
            EngineKind::Hyperscan => "hyperscan",
        }
    }

    /// Builds this engine over `rules`.
    pub fn build(
        self,
        rules: Arc<RuleSet>,
        options: &EngineOptions,
    ) -> Result<Box<dyn Matcher>, MatchError> {
        match self {
            EngineKind::Portable => Ok(Box::new(PortableEngine::new(rules))),
            #[cfg(feature = "hyperscan")]
            EngineKind::Hyperscan => Ok(Box::new(
                HyperscanEngine::builder(rules)
                    .cache_dir(options.cache_dir.clone())
                    .build()?,
            )),
            #[cfg(not(feature = "hyperscan"))]
            EngineKind::Hyperscan => {
                let _ = options;
                Err(MatchError::Unavailable(self.name()))
            }
        }
    }
}

/// Reports every match of every signature in a blob. Implementations differ in how they find
/// the places worth confirming; see the module docs for the contract.
pub trait Matcher: Send + Sync {
    /// Fresh per-thread working memory.
    fn new_scratch(&self) -> Scratch;

    /// Appends to `out` every match of every signature in `haystack`, in no particular order.
    /// Overlapping matches of different signatures are all reported.
    fn find_matches(
        &self,
        haystack: &[u8],
        scratch: &mut Scratch,
        out: &mut Vec<RawMatch>,
    ) -> Result<(), MatchError>;

    /// A short name for `--version` and diagnostics.
    fn name(&self) -> &'static str {
        "unnamed"
    }
}
