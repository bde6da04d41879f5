//! The two engines report the same matches (same signature, same spans, same captures) on
//! every signature example, a generated corpus, this repository's own files, and random bytes
//! with planted secrets. Only built with the `hyperscan` feature.
#![cfg(feature = "hyperscan")]

#[path = "../corpus/generator.rs"]
mod generator;

use std::{
    fs,
    path::{Path, PathBuf},
    sync::{Arc, OnceLock},
};

use keysift::{
    engine::{HyperscanEngine, Matcher, PortableEngine, RawMatch},
    rules::RuleSet,
};

/// Both engines over the built-in signatures (examples included), built once per test binary.
struct Engines {
    rules: Arc<RuleSet>,
    portable: PortableEngine,
    hyperscan: HyperscanEngine,
}

fn engines() -> &'static Engines {
    static ENGINES: OnceLock<Engines> = OnceLock::new();
    ENGINES.get_or_init(|| {
        let rules = Arc::new(RuleSet::builtin().unwrap());
        Engines {
            portable: PortableEngine::new(rules.clone()),
            hyperscan: HyperscanEngine::builder(rules.clone()).build().unwrap(),
            rules,
        }
    })
}

fn matches(engine: &dyn Matcher, haystack: &[u8]) -> Vec<RawMatch> {
    let mut out = Vec::new();
    engine
        .find_matches(haystack, &mut engine.new_scratch(), &mut out)
        .unwrap();
    out.sort_by_key(|m| {
        (
            m.signature,
            m.span.start,
            m.span.end,
            m.secret.start,
            m.secret.end,
        )
    });
    out
}

/// Panics with a readable difference (signature ids and spans, never the text) unless both
/// engines report the same matches in `haystack`. Returns how many matches there were.
fn assert_same(what: &str, haystack: &[u8]) -> usize {
    let engines = engines();
    let portable = matches(&engines.portable, haystack);
    let hyperscan = matches(&engines.hyperscan, haystack);
    if portable != hyperscan {
        let describe = |found: &[RawMatch]| {
            found
                .iter()
                .map(|m| format!("{} {:?}", engines.rules.get(m.signature).id(), m.span))
                .collect::<Vec<_>>()
        };
        let only_portable: Vec<_> = portable.iter().filter(|m| !hyperscan.contains(m)).collect();
        let only_hyperscan: Vec<_> = hyperscan.iter().filter(|m| !portable.contains(m)).collect();
        panic!(
            "{what}: engines differ\n  portable only: {:?}\n  hyperscan only: {:?}",
            describe(&only_portable.into_iter().cloned().collect::<Vec<_>>()),
            describe(&only_hyperscan.into_iter().cloned().collect::<Vec<_>>()),
        );
    }
    portable.len()
}

#[test]
fn every_signature_example_matches_alike() {
    let rules = &engines().rules;
    let mut found = 0;
    for (_, signature) in rules.iter() {
        for example in signature.examples() {
            found += assert_same(signature.id(), example.text.as_bytes());
        }
        for negative in signature.negative_examples() {
            assert_same(signature.id(), negative.as_bytes());
        }
    }
    assert!(
        found >= rules.len(),
        "every signature has a positive example"
    );
}

#[test]
fn a_generated_corpus_matches_alike() {
    let dir = tempfile::tempdir().unwrap();
    let config = generator::CorpusConfig {
        total_bytes: 2 << 20,
        seed: 7,
        bytes_per_secret: 2 << 10,
        file_bytes: 16 << 10,
    };
    let key = generator::generate(dir.path(), &config, &engines().rules).unwrap();
    let mut found = 0;
    for path in files_under(dir.path()) {
        found += assert_same(&path.display().to_string(), &fs::read(&path).unwrap());
    }
    assert!(found >= key.planted.len(), "{found} matches");
}

#[test]
fn this_repository_matches_alike() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = 0;
    let mut found = 0;
    for dir in ["src", "signatures", "tests", "benches", "corpus"] {
        for path in files_under(&root.join(dir)) {
            found += assert_same(&path.display().to_string(), &fs::read(&path).unwrap());
            files += 1;
        }
    }
    // The signature files are full of examples, so a real tree with real matches.
    assert!(files > 50 && found > 100, "{files} files, {found} matches");
}

/// Random bytes of several kinds (binary, text, runs of token characters, keyword fragments)
/// with signature examples planted at random places, back to back and inside one another.
#[test]
fn random_bytes_with_planted_secrets_match_alike() {
    let rules = &engines().rules;
    let examples: Vec<&str> = rules
        .signatures()
        .iter()
        .flat_map(|s| s.examples().iter().map(|e| e.text.as_str()))
        .collect();
    let mut rng = generator::Rng::new(0x006b_6579_7369_6674);
    let mut found = 0;
    for case in 0..300 {
        let mut text: Vec<u8> = Vec::new();
        let pieces = 1 + rng.below(24);
        for _ in 0..pieces {
            let kind = rng.below(6);
            let len = rng.below(300);
            match kind {
                0 => text.extend((0..len).map(|_| rng.below(256) as u8)),
                1 => text.extend(rng.string(b"abcdefXYZ0123456789_-+/=", len).bytes()),
                2 => text.extend(rng.string(b" \n\t:=\"'{}", len % 8).bytes()),
                3 => {
                    // Half an example: a keyword or prefix without its tail.
                    let example = rng.pick(&examples).as_bytes();
                    text.extend_from_slice(&example[..len.min(example.len())]);
                }
                _ => text.extend_from_slice(rng.pick(&examples).as_bytes()),
            }
        }
        // Plant one more example inside the text, possibly splitting another.
        let at = rng.below(text.len() + 1);
        let planted = rng.pick(&examples).as_bytes().to_vec();
        text.splice(at..at, planted);
        found += assert_same(&format!("random case {case}"), &text);
    }
    assert!(found > 300, "{found} matches");
}

/// Every file under `dir`, recursively, in a stable order.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    files
}
