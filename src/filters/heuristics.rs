//! The word lists of the placeholder and generic-secret heuristics, kept as data in
//! `heuristics.toml` and parsed once.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::engine::keywords::KeywordAutomaton;

/// Every list, lower case. See `heuristics.toml` for what each one is for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heuristics {
    /// Substrings marking templates and references to secrets kept elsewhere.
    pub reference_markers: Vec<String>,
    /// Substrings marking documentation, test and placeholder values.
    pub placeholder_words: Vec<String>,
    /// Whole values that are never secrets.
    pub non_values: Vec<String>,
    /// Suffixes marking file names.
    pub file_suffixes: Vec<String>,
    /// Domains reserved for documentation.
    pub documentation_domains: Vec<String>,
    /// Single-label host names that stand for "a host" in documentation.
    pub placeholder_hosts: Vec<String>,
    /// Name parts marking settings about a secret.
    pub non_secret_name_parts: Vec<String>,
    /// Names that are secrets despite such a part.
    pub secret_name_overrides: Vec<String>,
}

impl Heuristics {
    /// Whether `value` contains a reference marker (any case).
    pub fn has_reference_marker(&self, value: &[u8]) -> bool {
        self.matchers().references.is_match(value)
    }

    /// Whether `value` contains a placeholder word (any case).
    pub fn has_placeholder_word(&self, value: &[u8]) -> bool {
        self.matchers().placeholders.is_match(value)
    }

    /// Whether `value` is one of the non-values (any case).
    pub fn is_non_value(&self, value: &[u8]) -> bool {
        self.non_values
            .iter()
            .any(|v| v.as_bytes().eq_ignore_ascii_case(value))
    }

    /// Whether `value` ends with a file suffix (any case).
    pub fn has_file_suffix(&self, value: &[u8]) -> bool {
        self.file_suffixes.iter().any(|s| {
            let s = s.as_bytes();
            value.len() >= s.len() && value[value.len() - s.len()..].eq_ignore_ascii_case(s)
        })
    }

    /// Whether `part` (one word of a name) marks settings about a secret (any case).
    pub fn is_non_secret_name_part(&self, part: &[u8]) -> bool {
        self.non_secret_name_parts
            .iter()
            .any(|p| p.as_bytes().eq_ignore_ascii_case(part))
    }

    fn matchers(&self) -> &Matchers {
        static MATCHERS: OnceLock<Matchers> = OnceLock::new();
        MATCHERS.get_or_init(|| Matchers {
            references: KeywordAutomaton::new(&self.reference_markers),
            placeholders: KeywordAutomaton::new(&self.placeholder_words),
        })
    }
}

/// The substring lists compiled into automata: these run on every generic candidate, and one
/// pass beats a hundred substring searches.
struct Matchers {
    references: KeywordAutomaton,
    placeholders: KeywordAutomaton,
}

/// The lists, parsed on first use.
pub fn heuristics() -> &'static Heuristics {
    static LISTS: OnceLock<Heuristics> = OnceLock::new();
    LISTS.get_or_init(|| {
        toml::from_str(include_str!("heuristics.toml"))
            .expect("heuristics.toml is valid (checked by tests)")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn lists_parse_and_are_lower_case() {
        let h = super::heuristics();
        for list in [
            &h.reference_markers,
            &h.placeholder_words,
            &h.non_values,
            &h.non_secret_name_parts,
        ] {
            assert!(!list.is_empty());
            assert!(
                list.iter().all(|w| *w == w.to_ascii_lowercase()),
                "{list:?}"
            );
        }
    }
}
