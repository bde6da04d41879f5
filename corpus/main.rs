//! Writes a synthetic corpus with planted secrets and its answer key.
//!
//! ```text
//! cargo run --release --example gen-corpus -- OUT_DIR [SIZE] [SEED]
//! ```
//! SIZE accepts K/M/G suffixes (default 64M). The answer key is written next to the directory,
//! as `OUT_DIR.answer-key.json`, so scanning the directory does not scan the key.

mod generator;

use std::{path::PathBuf, process::ExitCode};

use keysift::rules::RuleSet;

fn parse_size(s: &str) -> Option<u64> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits.parse().ok()?;
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        _ => return None,
    };
    Some(n << shift)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first().map(PathBuf::from) else {
        eprintln!("usage: gen-corpus OUT_DIR [SIZE] [SEED]");
        return ExitCode::from(2);
    };
    let Some(total_bytes) = parse_size(args.get(1).map_or("64M", String::as_str)) else {
        eprintln!("gen-corpus: invalid size");
        return ExitCode::from(2);
    };
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let rules = RuleSet::builtin().expect("built-in signatures load");
    let config = generator::CorpusConfig {
        total_bytes,
        seed,
        ..Default::default()
    };
    let key = match generator::generate(&out, &config, &rules) {
        Ok(key) => key,
        Err(e) => {
            eprintln!("gen-corpus: {}: {e}", out.display());
            return ExitCode::from(2);
        }
    };
    let key_path = PathBuf::from(format!("{}.answer-key.json", out.display()));
    let json = serde_json::to_string_pretty(&key).expect("answer key serialises");
    if let Err(e) = std::fs::write(&key_path, json) {
        eprintln!("gen-corpus: {}: {e}", key_path.display());
        return ExitCode::from(2);
    }
    println!(
        "wrote {} files ({} bytes) with {} planted secrets to {}; answer key {}",
        key.files,
        key.bytes,
        key.planted.len(),
        out.display(),
        key_path.display()
    );
    ExitCode::SUCCESS
}
