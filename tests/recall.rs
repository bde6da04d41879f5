//! Recall and precision on a generated corpus: every planted secret is found with the right
//! signature on the right line, and nothing is found in the filler between them.

mod common;
#[path = "../corpus/generator.rs"]
mod generator;

use std::collections::HashMap;

use keysift::rules::RuleSet;

#[test]
fn every_planted_secret_is_found_and_the_filler_is_clean() {
    let tree = common::Tree::new();
    let rules = RuleSet::builtin().unwrap();
    // Enough bytes to plant every example of every signature at least once.
    let examples: usize = rules.signatures().iter().map(|s| s.examples().len()).sum();
    let config = generator::CorpusConfig {
        total_bytes: (examples as u64 + 50) * 16 * 1024,
        bytes_per_secret: 12 * 1024,
        file_bytes: 64 * 1024,
        seed: 42,
    };
    let key = generator::generate(tree.path(), &config, &rules).unwrap();
    let planted_ids: std::collections::BTreeSet<&str> = key
        .planted
        .iter()
        .map(|p| p.signature_id.as_str())
        .collect();
    assert_eq!(
        planted_ids.len(),
        rules.len(),
        "the corpus plants every signature"
    );

    let out = common::scan_json(tree.path(), &["--confidence", "low"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json = out.json();
    let findings = json["findings"].as_array().unwrap();

    let mut by_place: HashMap<(String, u64), Vec<&serde_json::Value>> = HashMap::new();
    for finding in findings {
        let path = finding["path"].as_str().unwrap();
        let rel = std::path::Path::new(path)
            .strip_prefix(tree.path())
            .unwrap()
            .display()
            .to_string();
        by_place
            .entry((rel, finding["line"].as_u64().unwrap()))
            .or_default()
            .push(finding);
    }

    let mut missed = Vec::new();
    for planted in &key.planted {
        let found = by_place
            .get(&(planted.path.clone(), planted.line as u64))
            .is_some_and(|here| {
                here.iter().any(|f| {
                    f["signature_id"] == planted.signature_id.as_str()
                        || f["also_matched"]
                            .as_array()
                            .is_some_and(|a| a.iter().any(|id| id == planted.signature_id.as_str()))
                })
            });
        if !found {
            missed.push(format!(
                "{}:{} {}",
                planted.path, planted.line, planted.signature_id
            ));
        }
    }
    assert!(
        missed.is_empty(),
        "{} planted secrets missed:\n{}",
        missed.len(),
        missed.join("\n")
    );

    let mut ranges: HashMap<&str, Vec<(usize, usize)>> = HashMap::new();
    for planted in &key.planted {
        ranges
            .entry(planted.path.as_str())
            .or_default()
            .push((planted.first_line, planted.last_line));
    }
    let false_positives: Vec<String> = by_place
        .iter()
        .filter(|((path, line), _)| {
            !ranges
                .get(path.as_str())
                .is_some_and(|r| r.iter().any(|(a, b)| (*a..=*b).contains(&(*line as usize))))
        })
        .flat_map(|((path, line), here)| {
            here.iter()
                .map(move |f| format!("{path}:{line} {} {}", f["signature_id"], f["snippet"]))
        })
        .collect();
    assert!(
        false_positives.is_empty(),
        "{} findings in filler:\n{}",
        false_positives.len(),
        false_positives.join("\n")
    );
}
