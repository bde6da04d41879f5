//! Stage 2, shared by every engine: run triggered signatures' regexes inside their windows.

use std::ops::Range;

use regex_automata::{meta, util::captures::Captures, Anchored, Input};

use super::{warm, MatchError, NamedCapture, RawMatch, Triggers};
use crate::rules::{RuleSet, Signature, SignatureIndex};

/// Per-thread regex working memory, one slot per signature, filled on first use: the search
/// cache and a reusable set of capture slots, so confirming a match allocates nothing.
#[derive(Debug, Default)]
pub struct RegexCaches {
    slots: Vec<Option<(meta::Cache, Captures)>>,
}

impl RegexCaches {
    fn get(&mut self, index: SignatureIndex, regex: &meta::Regex) -> &mut (meta::Cache, Captures) {
        let i = index.get();
        if self.slots.len() <= i {
            self.slots.resize_with(i + 1, || None);
        }
        self.slots[i].get_or_insert_with(|| (regex.create_cache(), regex.create_captures()))
    }
}

/// Runs each triggered signature's regex at its starts and over its windows, appending the
/// matches to `out`.
///
/// At a start the search is anchored: it succeeds only with a match beginning exactly there,
/// and a start inside the previous match of the same signature is skipped, so matches of one
/// signature never overlap. In a window the search is unanchored and repeated after each match.
/// Either way, look-around assertions (`\b`, `^`, `$`) see the bytes just outside the searched
/// span, so a span never creates a word boundary that the blob does not have.
pub fn confirm(
    rules: &RuleSet,
    haystack: &[u8],
    triggers: &mut Triggers,
    caches: &mut RegexCaches,
    out: &mut Vec<RawMatch>,
) -> Result<(), MatchError> {
    let (windows, starts) = triggers.finish();
    warm::prepare(
        rules,
        windows
            .iter()
            .map(|w| w.0)
            .chain(starts.iter().map(|s| s.0)),
    );
    for (index, window) in windows {
        let target = Target::new(rules, *index)?;
        confirm_window(
            &target,
            caches.get(*index, target.regex),
            haystack,
            window.clone(),
            out,
        );
    }
    for group in starts.chunk_by(|a, b| a.0 == b.0) {
        let index = group[0].0;
        let target = Target::new(rules, index)?;
        let slot = caches.get(index, target.regex);
        let mut previous_end = 0;
        for &(_, start) in group {
            if start < previous_end {
                continue;
            }
            if let Some(raw) = confirm_start(&target, slot, haystack, start) {
                previous_end = raw.span.end;
                out.push(raw);
            }
        }
    }
    Ok(())
}

/// A triggered signature with its compiled regex.
struct Target<'a> {
    index: SignatureIndex,
    signature: &'a Signature,
    regex: &'a meta::Regex,
}

impl<'a> Target<'a> {
    fn new(rules: &'a RuleSet, index: SignatureIndex) -> Result<Self, MatchError> {
        let signature = rules.get(index);
        let regex = signature.regex().map_err(|message| MatchError::Pattern {
            id: signature.id().to_string(),
            message: message.to_string(),
        })?;
        Ok(Target {
            index,
            signature,
            regex,
        })
    }

    fn wants_captures(&self) -> bool {
        self.regex.group_info().all_group_len() > 1
    }

    /// The raw match for `span`, with captures when the pattern has groups.
    fn raw_match(
        &self,
        slot: &mut (meta::Cache, Captures),
        haystack: &[u8],
        span: Range<usize>,
    ) -> Option<RawMatch> {
        if self.wants_captures() {
            with_captures(self, slot, haystack, span)
        } else {
            Some(RawMatch {
                signature: self.index,
                secret: span.clone(),
                span,
                captures: Vec::new(),
            })
        }
    }
}

/// The match beginning exactly at `start`, if any.
fn confirm_start(
    target: &Target<'_>,
    slot: &mut (meta::Cache, Captures),
    haystack: &[u8],
    start: usize,
) -> Option<RawMatch> {
    let end = start
        .saturating_add(target.signature.max_match_len())
        .min(haystack.len());
    let input = Input::new(haystack)
        .span(start..end)
        .anchored(Anchored::Yes);
    // Anchored: the start is known, so only the end is searched for.
    let end = target.regex.search_half_with(&mut slot.0, &input)?.offset();
    if end == start {
        return None;
    }
    target.raw_match(slot, haystack, start..end)
}

fn confirm_window(
    target: &Target<'_>,
    slot: &mut (meta::Cache, Captures),
    haystack: &[u8],
    window: Range<usize>,
    out: &mut Vec<RawMatch>,
) {
    let mut input = Input::new(haystack).span(window.clone());
    while let Some(found) = target.regex.search_with(&mut slot.0, &input) {
        if found.is_empty() {
            // An empty match carries no secret; step over it.
            if found.end() >= window.end {
                break;
            }
            input.set_start(found.end() + 1);
            continue;
        }
        input.set_start(found.end());
        if let Some(raw) = target.raw_match(slot, haystack, found.range()) {
            out.push(raw);
        }
        if input.start() >= window.end {
            break;
        }
    }
}

/// Re-runs the regex anchored on a known match to recover its groups. Returns `None` when the
/// `secret` group did not take part (an optional group): there is nothing to report.
fn with_captures(
    target: &Target<'_>,
    (cache, caps): &mut (meta::Cache, Captures),
    haystack: &[u8],
    span: Range<usize>,
) -> Option<RawMatch> {
    let input = Input::new(haystack).span(span).anchored(Anchored::Yes);
    target.regex.search_captures_with(cache, &input, caps);
    let whole = caps.get_match()?.range();
    let secret_groups = target.signature.secret_groups();
    let secret = if secret_groups.is_empty() {
        whole.clone()
    } else {
        // A `secret` group that took no part in the match leaves nothing to report.
        secret_groups
            .iter()
            .find_map(|&group| caps.get_group(group))?
            .range()
    };
    let captures = target
        .signature
        .group_names()
        .iter()
        .enumerate()
        .filter(|(group, _)| !secret_groups.contains(group))
        .filter_map(|(group, name)| {
            let span = caps.get_group(group)?.range();
            Some(NamedCapture {
                name: name.clone()?,
                span,
            })
        })
        .collect();
    Some(RawMatch {
        signature: target.index,
        span: whole,
        secret,
        captures,
    })
}
