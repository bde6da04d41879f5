//! A set of signatures with unique ids, built from the embedded library and extra files.

use std::{
    borrow::Cow,
    collections::HashMap,
    fs,
    path::Path,
    sync::{Arc, OnceLock},
};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::hex::hex;

use super::{
    error::SourceFile,
    spec::{SignatureFileSpec, SignatureSpec},
    Problem, RulesError, Signature, SourceLocation,
};

/// The `[[signature]]` tables of a file whose other keys belong to someone else.
#[derive(serde::Deserialize)]
struct EmbeddedSignatures {
    #[serde(default, rename = "signature")]
    signatures: Vec<SignatureSpec>,
}

include!(concat!(env!("OUT_DIR"), "/builtin_signatures.rs"));

/// Index of a signature within its [`RuleSet`]; what the engine reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SignatureIndex(pub u32);

impl SignatureIndex {
    /// As a `usize`, for indexing.
    pub fn get(self) -> usize {
        self.0 as usize
    }
}

/// An immutable, validated set of signatures with unique ids.
#[derive(Debug)]
pub struct RuleSet {
    signatures: Vec<Signature>,
    by_id: HashMap<String, SignatureIndex>,
    /// Every source file's name and text, for the digest.
    sources: Vec<(Arc<str>, Cow<'static, str>)>,
    /// How many of the signatures (the first ones) are the built-in library.
    builtin_len: usize,
    digest: OnceLock<String>,
}

impl RuleSet {
    /// The signatures embedded in the binary.
    pub fn builtin() -> Result<RuleSet, RulesError> {
        RuleSet::builder().build()
    }

    /// A builder starting from the built-in signatures.
    pub fn builder() -> RuleSetBuilder {
        RuleSetBuilder {
            include_builtin: true,
            scan_view: false,
            extra: Vec::new(),
            disabled: Vec::new(),
        }
    }

    /// All signatures, in load order.
    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }

    /// The signature at `index`.
    pub fn get(&self, index: SignatureIndex) -> &Signature {
        &self.signatures[index.get()]
    }

    /// Looks a signature up by id.
    pub fn find(&self, id: &str) -> Option<(SignatureIndex, &Signature)> {
        self.by_id.get(id).map(|&idx| (idx, self.get(idx)))
    }

    /// Whether the signature at `index` is from the built-in library (not an extra file).
    pub fn is_builtin(&self, index: SignatureIndex) -> bool {
        index.get() < self.builtin_len
    }

    /// Number of signatures.
    pub fn len(&self) -> usize {
        self.signatures.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.signatures.is_empty()
    }

    /// Iterates `(index, signature)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (SignatureIndex, &Signature)> {
        self.signatures
            .iter()
            .enumerate()
            .map(|(i, s)| (SignatureIndex(i as u32), s))
    }

    /// Every source file the signatures came from, as `(name, text)`, in load order.
    pub fn sources(&self) -> impl Iterator<Item = (&str, &str)> {
        self.sources
            .iter()
            .map(|(name, text)| (name.as_ref(), text.as_ref()))
    }

    /// A hash of every source file's contents: changes whenever any signature changes. Caches
    /// of scan results are keyed by it.
    pub fn digest(&self) -> &str {
        // Computed on first use: only caches need it, and hashing a megabyte of TOML is a
        // noticeable part of start-up.
        self.digest.get_or_init(|| {
            let mut hasher = Sha256::new();
            for (name, text) in &self.sources {
                hasher.update(name.as_bytes());
                hasher.update([0]);
                hasher.update(text.as_bytes());
                hasher.update([0]);
            }
            hex(&hasher.finalize())
        })
    }

    /// Analyses and compiles every signature's pattern now, returning the problems of those
    /// that fail.
    pub fn compile_all(&self) -> Vec<Problem> {
        self.compile(&self.signatures)
    }

    /// Analyses and compiles `signatures` on every core (about 0.3 ms each, a third of a
    /// second for the built-in library on one core), returning the problems, in order.
    fn compile(&self, signatures: &[Signature]) -> Vec<Problem> {
        signatures
            .par_iter()
            .flat_map_iter(|sig| {
                let analysed = sig.pattern_problems();
                if !analysed.is_empty() {
                    return analysed;
                }
                sig.regex()
                    .err()
                    .map(|message| Problem {
                        location: sig.location().clone(),
                        signature: Some(sig.id().to_string()),
                        field: Some("pattern"),
                        message: message.to_string(),
                    })
                    .into_iter()
                    .collect()
            })
            .collect()
    }
}

/// Collects signature sources, then validates them into a [`RuleSet`].
#[derive(Debug, Clone)]
pub struct RuleSetBuilder {
    include_builtin: bool,
    scan_view: bool,
    extra: Vec<Extra>,
    disabled: Vec<(String, SourceLocation)>,
}

/// An extra source of signatures.
#[derive(Debug, Clone)]
struct Extra {
    name: Arc<str>,
    text: String,
    /// A file with other settings besides its `[[signature]]` tables (a project config, whose
    /// own parser has checked those): keys other than `signature` are ignored.
    embedded: bool,
}

impl RuleSetBuilder {
    /// Whether to start from the built-in library (default: yes).
    pub fn builtin(mut self, yes: bool) -> Self {
        self.include_builtin = yes;
        self
    }

    /// Takes the built-in signatures from the table parsed at build time instead of parsing
    /// their TOML: much faster start-up, for scans. The table lacks examples, references and
    /// descriptions; `rules check`, `rules list` and [`RuleSet::builtin`] use the full files.
    pub fn scan_view(mut self, yes: bool) -> Self {
        self.scan_view = yes;
        self
    }

    /// Adds a signature file, or every `*.toml` file in a directory.
    pub fn add_path(mut self, path: &Path) -> Result<Self, RulesError> {
        let io_error = |source| RulesError::Io {
            path: path.display().to_string(),
            source,
        };
        if path.is_dir() {
            let mut files: Vec<_> = fs::read_dir(path)
                .map_err(io_error)?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
                .collect();
            files.sort();
            for file in files {
                self = self.add_path(&file)?;
            }
            return Ok(self);
        }
        let text = fs::read_to_string(path).map_err(io_error)?;
        self.extra.push(Extra {
            name: Arc::from(path.display().to_string()),
            text,
            embedded: false,
        });
        Ok(self)
    }

    /// Adds signatures from TOML text; `name` is used in error messages.
    pub fn add_source(mut self, name: &str, text: &str) -> Self {
        self.extra.push(Extra {
            name: Arc::from(name),
            text: text.to_string(),
            embedded: false,
        });
        self
    }

    /// Adds the `[[signature]]` tables of a file that holds other settings too (a project
    /// config); its other keys are left to that file's own parser.
    pub fn add_embedded_source(mut self, name: &str, text: &str) -> Self {
        self.extra.push(Extra {
            name: Arc::from(name),
            text: text.to_string(),
            embedded: true,
        });
        self
    }

    /// Leaves out the signature `id` (an error at `location` if no signature has that id).
    pub fn disable(mut self, id: &str, location: SourceLocation) -> Self {
        self.disabled.push((id.to_string(), location));
        self
    }

    /// Validates everything, reporting every problem found.
    pub fn build(self) -> Result<RuleSet, RulesError> {
        let mut signatures = Vec::new();
        let mut sources = Vec::new();
        let view =
            super::builtin::BUILTIN_SCAN_VIEW.filter(|_| self.scan_view && self.include_builtin);
        if let Some(view) = view {
            let names: Vec<Arc<str>> = BUILTIN_SIGNATURE_FILES
                .iter()
                .map(|(name, _)| Arc::<str>::from(*name))
                .collect();
            signatures.extend(
                view.iter()
                    .map(|b| Signature::from_builtin(b, &names[b.file])),
            );
            for (name, (_, text)) in names.into_iter().zip(BUILTIN_SIGNATURE_FILES) {
                sources.push((name, Cow::Borrowed(*text)));
            }
        }
        let builtin = BUILTIN_SIGNATURE_FILES
            .iter()
            .filter(|_| self.include_builtin && view.is_none())
            .map(|(name, text)| (Arc::<str>::from(*name), Cow::Borrowed(*text), None));
        let extra = self
            .extra
            .into_iter()
            .map(|extra| (extra.name, Cow::Owned(extra.text), Some(extra.embedded)));

        let mut problems = Vec::new();
        let mut extra_from = usize::MAX;
        for (name, text, embedded) in builtin.chain(extra) {
            if embedded.is_some() && extra_from == usize::MAX {
                extra_from = signatures.len();
            }
            match parse_file(
                &SourceFile::new(name.clone(), &text),
                embedded == Some(true),
            ) {
                Ok(parsed) => signatures.extend(parsed),
                Err(mut p) => problems.append(&mut p),
            }
            sources.push((name, text));
        }
        let mut builtin_len = extra_from.min(signatures.len());
        if !self.disabled.is_empty() {
            builtin_len -=
                remove_disabled(&mut signatures, builtin_len, &self.disabled, &mut problems);
            // Part of the digest: caches of clean blobs must not outlive a re-enabled signature.
            let ids: Vec<&str> = self.disabled.iter().map(|(id, _)| id.as_str()).collect();
            sources.push((Arc::from("<disabled>"), Cow::Owned(ids.join("\n"))));
        }

        let mut by_id: HashMap<String, SignatureIndex> = HashMap::new();
        for (i, sig) in signatures.iter().enumerate() {
            if let Some(first) = by_id.insert(sig.id().to_string(), SignatureIndex(i as u32)) {
                problems.push(Problem {
                    location: sig.location().clone(),
                    signature: Some(sig.id().to_string()),
                    field: Some("id"),
                    message: format!(
                        "duplicate id, first defined at {}",
                        signatures[first.get()].location()
                    ),
                });
            }
        }

        let set = RuleSet {
            signatures,
            by_id,
            sources,
            builtin_len,
            digest: OnceLock::new(),
        };
        // Extra files are compiled now, so a bad pattern is reported at load time with its
        // file and line rather than silently skipped mid-scan. Built-ins stay lazy: the test
        // suite proves they compile.
        problems.extend(set.compile(&set.signatures[set.builtin_len..]));
        if problems.is_empty() {
            Ok(set)
        } else {
            Err(RulesError::Invalid(problems))
        }
    }
}

/// Removes the signatures whose ids are `disabled`, reporting ids that match none; returns how
/// many of the first `builtin_len` (the built-ins) went.
fn remove_disabled(
    signatures: &mut Vec<Signature>,
    builtin_len: usize,
    disabled: &[(String, SourceLocation)],
    problems: &mut Vec<Problem>,
) -> usize {
    for (id, location) in disabled {
        if !signatures.iter().any(|s| s.id() == id) {
            problems.push(Problem {
                location: location.clone(),
                signature: Some(id.clone()),
                field: Some("disable"),
                message: "no signature has this id".into(),
            });
        }
    }
    let is_disabled = |s: &Signature| disabled.iter().any(|(id, _)| id == s.id());
    let removed_builtin = signatures[..builtin_len]
        .iter()
        .filter(|s| is_disabled(s))
        .count();
    signatures.retain(|s| !is_disabled(s));
    removed_builtin
}

fn parse_file(file: &SourceFile<'_>, embedded: bool) -> Result<Vec<Signature>, Vec<Problem>> {
    let parsed = if embedded {
        toml::from_str::<EmbeddedSignatures>(file.text).map(|e| e.signatures)
    } else {
        toml::from_str::<SignatureFileSpec>(file.text).map(|f| f.signatures)
    };
    let signatures_spec = parsed.map_err(|err| {
        let location = file.location(err.span().map_or(0, |span| span.start));
        vec![Problem {
            location,
            signature: None,
            field: None,
            message: err.message().trim().to_string(),
        }]
    })?;
    let mut signatures = Vec::new();
    let mut problems = Vec::new();
    for sig in signatures_spec {
        match Signature::from_spec(sig, file) {
            Ok(sig) => signatures.push(sig),
            Err(mut p) => problems.append(&mut p),
        }
    }
    if problems.is_empty() {
        Ok(signatures)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_time_scan_view_agrees_with_the_signature_files() {
        assert!(
            crate::rules::builtin::BUILTIN_SCAN_VIEW.is_some(),
            "build.rs could not generate the scan view"
        );
        let full = RuleSet::builtin().unwrap();
        let view = RuleSet::builder().scan_view(true).build().unwrap();
        assert_eq!(full.len(), view.len());
        assert_eq!(full.digest(), view.digest());
        for ((_, a), (_, b)) in full.iter().zip(view.iter()) {
            let context = a.id();
            assert_eq!(a.id(), b.id());
            assert_eq!(a.name(), b.name(), "{context}");
            assert_eq!(a.provider(), b.provider(), "{context}");
            assert_eq!(a.category(), b.category(), "{context}");
            assert_eq!(a.confidence(), b.confidence(), "{context}");
            assert_eq!(a.keywords(), b.keywords(), "{context}");
            assert_eq!(
                a.keywords_ignore_case(),
                b.keywords_ignore_case(),
                "{context}"
            );
            assert_eq!(a.is_keywordless(), b.is_keywordless(), "{context}");
            assert_eq!(a.pattern(), b.pattern(), "{context}");
            assert_eq!(a.max_match_len(), b.max_match_len(), "{context}");
            assert_eq!(
                a.is_keyword_prefixed(),
                b.is_keyword_prefixed(),
                "{context}"
            );
            assert_eq!(a.secret_groups(), b.secret_groups(), "{context}");
            assert_eq!(a.group_names(), b.group_names(), "{context}");
            assert_eq!(a.min_entropy(), b.min_entropy(), "{context}");
            assert_eq!(a.checksum(), b.checksum(), "{context}");
            assert_eq!(a.is_generic(), b.is_generic(), "{context}");
            assert_eq!(
                a.rejects_placeholders(),
                b.rejects_placeholders(),
                "{context}"
            );
            assert_eq!(a.location(), b.location(), "{context}");
            assert_eq!(a.pattern_problems(), b.pattern_problems(), "{context}");
        }
    }

    const MINIMAL: &str = r#"
[[signature]]
id = "test.token"
name = "Test token"
provider = "Test"
category = "saas"
confidence = "high"
keywords = ["tst_"]
pattern = 'tst_[a-z0-9]{8}'
"#;

    fn load(text: &str) -> Result<RuleSet, RulesError> {
        RuleSet::builder()
            .builtin(false)
            .add_source("extra.toml", text)
            .build()
    }

    fn problems(text: &str) -> Vec<Problem> {
        match load(text) {
            Err(RulesError::Invalid(p)) => p,
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn minimal_signature_loads() {
        let set = load(MINIMAL).unwrap();
        let (_, sig) = set.find("test.token").unwrap();
        assert_eq!(sig.max_match_len(), 12);
        assert!(sig.secret_groups().is_empty());
    }

    #[test]
    fn unknown_field_names_file_and_line() {
        let text = MINIMAL.replace("keywords =", "keyword =");
        let p = problems(&text);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].location.file.as_ref(), "extra.toml");
        assert_eq!(p[0].location.line, 8);
        assert!(
            p[0].message.contains("unknown field `keyword`"),
            "{}",
            p[0].message
        );
    }

    #[test]
    fn bad_pattern_names_the_pattern_line() {
        let text = MINIMAL.replace("'tst_[a-z0-9]{8}'", "'tst_[a-z0-9{8}'");
        let p = problems(&text);
        assert_eq!(p[0].location.line, 9);
        assert_eq!(p[0].field, Some("pattern"));
    }

    #[test]
    fn unbounded_pattern_needs_max_len() {
        let text = MINIMAL.replace("{8}", "+");
        assert!(problems(&text)[0].message.contains("unboundedly"));
        let bounded = format!("{}\nmax_len = 64\n", text.trim_end());
        assert_eq!(load(&bounded).unwrap().signatures()[0].max_match_len(), 64);
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let p = problems(&format!("{MINIMAL}\n{MINIMAL}"));
        assert!(p.iter().any(|p| p.message.contains("duplicate id")));
    }

    #[test]
    fn case_insensitive_pattern_needs_case_insensitive_keywords() {
        let text = MINIMAL.replace("'tst_", "'(?i)tst_");
        assert_eq!(problems(&text)[0].field, Some("keywords_ignore_case"));
    }

    #[test]
    fn digest_changes_with_content() {
        let a = load(MINIMAL).unwrap();
        let b = load(&MINIMAL.replace("{8}", "{9}")).unwrap();
        assert_ne!(a.digest(), b.digest());
        assert_eq!(a.digest(), load(MINIMAL).unwrap().digest());
    }

    #[test]
    fn builtin_library_loads_and_compiles() {
        let set = RuleSet::builtin().unwrap_or_else(|e| panic!("{e}"));
        assert!(!set.is_empty());
        let problems = set.compile_all();
        assert!(problems.is_empty(), "{problems:?}");
    }
}
