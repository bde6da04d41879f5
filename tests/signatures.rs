//! Every built-in signature is proven against its own examples (`keysift rules check` as a test),
//! and the library meets its coverage floor.

use std::{collections::BTreeSet, sync::Arc};

use keysift::{lint, rules::RuleSet};

#[test]
fn every_builtin_signature_is_proven() {
    let rules = Arc::new(RuleSet::builtin().unwrap_or_else(|e| panic!("{e}")));
    let problems = lint::check(&rules);
    let report: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        report.join("\n")
    );
}

#[test]
fn library_covers_enough_signatures_and_providers() {
    let rules = RuleSet::builtin().unwrap();
    let providers: BTreeSet<&str> = rules.signatures().iter().map(|s| s.provider()).collect();
    assert!(rules.len() >= 250, "{} signatures", rules.len());
    assert!(providers.len() >= 120, "{} providers", providers.len());
}

#[test]
fn keywordless_signatures_are_rare() {
    let rules = RuleSet::builtin().unwrap();
    let keywordless = rules
        .signatures()
        .iter()
        .filter(|s| s.is_keywordless())
        .count();
    assert!(keywordless <= lint::MAX_KEYWORDLESS);
}
