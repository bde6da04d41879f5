//! Engine throughput with the full signature library, single-threaded, over bytes already in
//! memory (no file system): generated source/config text, and real source code from the local
//! cargo registry (`~/.cargo/registry/src`, present on any machine that built keysift).
//!
//! `cargo bench --bench engine` prints MB/s per engine and corpus; with `--features hyperscan`
//! both engines run, side by side on the same bytes. End-to-end comparisons with other scanners
//! live in `benches/compare.sh`.

#[path = "../corpus/generator.rs"]
mod generator;

use std::{fs, path::PathBuf, sync::Arc};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use keysift::{
    engine::{EngineKind, EngineOptions},
    rules::RuleSet,
    scan::Scanner,
};

/// Bytes of each corpus held in memory.
const CORPUS_BYTES: usize = 32 << 20;

fn registry_sources(limit: usize) -> Vec<Vec<u8>> {
    let Some(home) = std::env::var_os("HOME") else {
        return Vec::new();
    };
    let root = PathBuf::from(home).join(".cargo/registry/src");
    let mut blobs = Vec::new();
    let mut total = 0;
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = fs::read(&path) {
                if bytes.len() < (4 << 20) && !bytes[..bytes.len().min(8192)].contains(&0) {
                    total += bytes.len();
                    blobs.push(bytes);
                    if total >= limit {
                        return blobs;
                    }
                }
            }
        }
    }
    blobs
}

fn bench_corpus(c: &mut Criterion, name: &str, blobs: &[Vec<u8>], scanner: &Scanner) {
    if blobs.is_empty() {
        eprintln!("skipping {name}: corpus not available");
        return;
    }
    let bytes: usize = blobs.iter().map(Vec::len).sum();
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(10);
    let mut scratch = scanner.new_scratch();
    group.bench_function(name, |b| {
        b.iter(|| {
            let mut findings = 0;
            for blob in blobs {
                findings += scanner.scan(blob, &mut scratch).expect("scan").len();
            }
            findings
        })
    });
    group.finish();
}

fn engine(c: &mut Criterion) {
    let rules = Arc::new(RuleSet::builtin().expect("signatures load"));
    let generated: Vec<Vec<u8>> = generator::filler_text(CORPUS_BYTES, 7)
        .into_iter()
        .map(String::into_bytes)
        .collect();
    let registry = registry_sources(CORPUS_BYTES);
    for &kind in EngineKind::available() {
        let scanner = Scanner::builder(rules.clone())
            .engine(kind)
            .engine_options(EngineOptions::user_cache())
            .build()
            .expect("scanner builds");
        let name = kind.name();
        bench_corpus(c, &format!("{name}/generated"), &generated, &scanner);
        bench_corpus(c, &format!("{name}/cargo-registry"), &registry, &scanner);
    }
}

criterion_group!(benches, engine);
criterion_main!(benches);
