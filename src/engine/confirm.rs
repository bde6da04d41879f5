//! Stage 2, shared by every engine: run triggered signatures' regexes inside their windows.

use std::{ops::Range, sync::Arc};

use regex_automata::{meta, Anchored, Input, PatternID};

use super::{MatchError, NamedCapture, RawMatch, Triggers};
use crate::rules::{RuleSet, Signature, SignatureIndex};

/// Per-thread regex caches, one slot per signature, filled on first use.
#[derive(Debug, Default)]
pub struct RegexCaches {
    caches: Vec<Option<meta::Cache>>,
}

impl RegexCaches {
    fn get(&mut self, index: SignatureIndex, regex: &meta::Regex) -> &mut meta::Cache {
        let i = index.get();
        if self.caches.len() <= i {
            self.caches.resize_with(i + 1, || None);
        }
        self.caches[i].get_or_insert_with(|| regex.create_cache())
    }
}

/// Runs each triggered signature's regex over its windows and appends the matches to `out`.
///
/// Look-around assertions (`\b`, `^`, `$`) see the bytes just outside a window, so a window
/// never creates a word boundary that the blob does not have.
pub fn confirm(
    rules: &RuleSet,
    haystack: &[u8],
    triggers: &mut Triggers,
    caches: &mut RegexCaches,
    out: &mut Vec<RawMatch>,
) -> Result<(), MatchError> {
    for (index, window) in triggers.finish() {
        let signature = rules.get(*index);
        let regex = signature.regex().map_err(|message| MatchError::Pattern {
            id: signature.id().to_string(),
            message: message.to_string(),
        })?;
        let target = Target {
            index: *index,
            signature,
            regex,
        };
        confirm_window(
            &target,
            caches.get(*index, regex),
            haystack,
            window.clone(),
            out,
        );
    }
    Ok(())
}

/// A triggered signature with its compiled regex.
struct Target<'a> {
    index: SignatureIndex,
    signature: &'a Signature,
    regex: &'a meta::Regex,
}

fn confirm_window(
    target: &Target<'_>,
    cache: &mut meta::Cache,
    haystack: &[u8],
    window: Range<usize>,
    out: &mut Vec<RawMatch>,
) {
    let regex = target.regex;
    let wants_captures = regex.group_info().all_group_len() > 1;
    let mut input = Input::new(haystack).span(window.clone());
    while let Some(found) = regex.search_with(cache, &input) {
        if found.is_empty() {
            // An empty match carries no secret; step over it.
            if found.end() >= window.end {
                break;
            }
            input.set_start(found.end() + 1);
            continue;
        }
        input.set_start(found.end());
        let raw = if wants_captures {
            match with_captures(target, cache, haystack, found.range()) {
                Some(raw) => raw,
                None => continue,
            }
        } else {
            RawMatch {
                signature: target.index,
                span: found.range(),
                secret: found.range(),
                captures: Vec::new(),
            }
        };
        out.push(raw);
        if input.start() >= window.end {
            break;
        }
    }
}

/// Re-runs the regex anchored on a known match to recover its groups. Returns `None` when the
/// `secret` group did not take part (an optional group): there is nothing to report.
fn with_captures(
    target: &Target<'_>,
    cache: &mut meta::Cache,
    haystack: &[u8],
    span: Range<usize>,
) -> Option<RawMatch> {
    let (regex, secret_group) = (target.regex, target.signature.secret_group());
    let mut caps = regex.create_captures();
    let input = Input::new(haystack)
        .span(span.clone())
        .anchored(Anchored::Yes);
    regex.search_captures_with(cache, &input, &mut caps);
    let whole = caps.get_match()?.range();
    let mut secret = whole.clone();
    let mut captures = Vec::new();
    let names = regex.group_info().pattern_names(PatternID::ZERO);
    for (group, name) in names.enumerate() {
        let (Some(name), Some(group_span)) = (name, caps.get_group(group)) else {
            continue;
        };
        if Some(name) == secret_group {
            secret = group_span.range();
        } else {
            captures.push(NamedCapture {
                name: Arc::from(name),
                span: group_span.range(),
            });
        }
    }
    if let Some(group) = secret_group {
        caps.get_group_by_name(group)?;
    }
    Some(RawMatch {
        signature: target.index,
        span: whole,
        secret,
        captures,
    })
}
