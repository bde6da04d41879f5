//! The word lists of the placeholder and generic-secret heuristics, kept as data in
//! `heuristics.toml` and parsed once.

use std::sync::OnceLock;

use serde::Deserialize;

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
    /// Name parts marking settings about a secret.
    pub non_secret_name_parts: Vec<String>,
    /// Names that are secrets despite such a part.
    pub secret_name_overrides: Vec<String>,
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
