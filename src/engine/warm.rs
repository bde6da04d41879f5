//! Building the signatures a blob needs, in parallel, the first time they are needed.
//!
//! A signature's regex and pattern facts are built lazily: a scan that touches forty
//! signatures pays for forty, not for the whole library. Built one at a time, though, the
//! first blob that triggers many of them (a config file full of keywords, or the first
//! files of a keyword-dense tree) compiles them all on one thread, up to a third of a
//! second for the whole library, while the other cores wait. Handing the not-yet-built ones
//! to the rayon pool spreads that cost over every core.

use rayon::prelude::*;

use crate::rules::{RuleSet, SignatureIndex};

/// Builds, in parallel, those of `signatures` that are not built yet. Cheap when they all
/// are: one atomic load per signature.
pub fn prepare(rules: &RuleSet, signatures: impl IntoIterator<Item = SignatureIndex>) {
    let mut cold: Vec<SignatureIndex> = signatures
        .into_iter()
        .filter(|&index| !rules.get(index).is_prepared())
        .collect();
    if cold.len() < 2 {
        // One signature is built where it is needed, without a trip through the pool.
        return;
    }
    cold.sort_unstable();
    cold.dedup();
    cold.par_iter()
        .for_each(|&index| rules.get(index).prepare());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepares_every_cold_signature_once() {
        // Built-in signatures are built lazily (extra files are compiled at load time).
        let rules = RuleSet::builder().scan_view(true).build().unwrap();
        let some: Vec<SignatureIndex> = rules.iter().map(|(index, _)| index).take(4).collect();
        assert!(some.iter().all(|&i| !rules.get(i).is_prepared()));
        prepare(&rules, [some[1], some[2], some[1]]);
        let prepared: Vec<bool> = some.iter().map(|&i| rules.get(i).is_prepared()).collect();
        assert_eq!(prepared, [false, true, true, false]);
        // A single cold signature is left to the caller.
        prepare(&rules, [some[3]]);
        assert!(!rules.get(some[3]).is_prepared());
    }
}
