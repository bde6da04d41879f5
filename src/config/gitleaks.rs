//! Converts a gitleaks (or Betterleaks, which reads the same format) configuration into a
//! keysift project config: rules become `[[signature]]` tables, allowlists become
//! `[[allowlist]]` tables, a rule's `path` becomes a `[[restrict]]`. What has no keysift
//! equivalent is left out, and a note says what and why.
//!
//! The format, as gitleaks documents it: `[[rules]]` with `id`, `description`, `regex`,
//! `secretGroup`, `entropy`, `keywords`, `path`, `tags` and allowlists (`[rules.allowlist]`,
//! or several `[[rules.allowlists]]`); global `[allowlist]` or `[[allowlists]]` (the latter
//! with optional `targetRules`); each allowlist with `description`, `condition` (`OR`, the
//! default, or `AND`), `commits`, `paths` (regexes), `regexTarget` (`secret`, the default,
//! `match` or `line`), `regexes` and `stopwords`; and `[extend]` (`useDefault`, `path`,
//! `disabledRules`).
//!
//! Differences a converted rule keeps in mind:
//! * gitleaks compares keywords with the lower-cased text, anywhere in the file; keysift's
//!   prefilter needs a keyword inside every match. Keywords are kept (case-insensitive) when
//!   that is provable from the pattern, and the signature runs on every file otherwise.
//! * Without `secretGroup`, gitleaks takes the first non-empty capture group as the secret;
//!   the converted pattern names its first group `secret`.
//! * Patterns are Go RE2; keysift reads them in its own dialect (bytes, ASCII classes), so
//!   Unicode classes and a few RE2-only forms are refused with the parser's reason.

use std::collections::BTreeSet;

use regex_syntax::hir::Hir;
use toml::{map::Map, Table, Value};

use super::ConfigError;
use crate::rules::{
    analysis::{self, Keywords},
    SourceFile,
};

/// Longest match assumed for a pattern with unbounded repetitions (`\s*`, `.+`).
const UNBOUNDED_MAX_LEN: usize = 4096;
/// Shortest keyword keysift's prefilter accepts (see `rules::signature`).
const MIN_KEYWORD_LEN: usize = 3;
/// Prefix of converted signature ids, so they never collide with built-in ones.
pub const ID_PREFIX: &str = "gitleaks.";

/// A converted configuration.
#[derive(Debug)]
pub struct Converted {
    /// The keysift config, as TOML text.
    pub toml: String,
    /// What was not converted, or converted with a difference, one sentence each.
    pub notes: Vec<String>,
    /// How many rules became signatures.
    pub signatures: usize,
}

/// The gitleaks file is not TOML at all.
#[derive(Debug)]
pub struct SyntaxError {
    offset: usize,
    message: String,
}

impl SyntaxError {
    /// The error, located in `text` read from `name`.
    pub fn at(&self, name: &str, text: &str) -> ConfigError {
        ConfigError::Invalid {
            location: SourceFile::new(name.into(), text).location(self.offset),
            message: self.message.clone(),
        }
    }
}

/// Whether `text` is a gitleaks configuration rather than a keysift one: it has gitleaks'
/// top-level `[[rules]]` tables (keysift's `rules` lists file names), `[extend]`,
/// `[[allowlists]]` or a `[allowlist]` table (keysift's `[[allowlist]]` is an array).
pub fn looks_like_gitleaks(text: &str) -> bool {
    let Ok(table) = text.parse::<Table>() else {
        return false;
    };
    let rule_tables = table
        .get("rules")
        .and_then(Value::as_array)
        .is_some_and(|rules| rules.iter().any(Value::is_table));
    rule_tables
        || table.contains_key("extend")
        || table.contains_key("allowlists")
        || table.get("allowlist").is_some_and(Value::is_table)
}

/// Converts gitleaks configuration `text`.
pub fn convert(text: &str) -> Result<Converted, SyntaxError> {
    let table: Table = text.parse().map_err(|e: toml::de::Error| SyntaxError {
        offset: e.span().map_or(0, |s| s.start),
        message: e.message().trim().to_string(),
    })?;
    let mut out = Output::default();
    let provider = table
        .get("title")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .unwrap_or("custom (gitleaks import)")
        .to_string();
    for (key, value) in &table {
        match key.as_str() {
            "title" | "description" => {}
            "extend" => out.extend(value),
            "rules" => {
                for rule in value.as_array().into_iter().flatten() {
                    match rule.as_table() {
                        Some(rule) => out.rule(rule, &provider),
                        None => out.note("a [[rules]] entry is not a table: skipped".into()),
                    }
                }
            }
            "allowlist" => out.allowlist(value, "the global [allowlist]", &[]),
            "allowlists" => {
                for (i, list) in value.as_array().into_iter().flatten().enumerate() {
                    let targets = list
                        .get("targetRules")
                        .and_then(Value::as_array)
                        .map(|ids| ids.iter().filter_map(Value::as_str).collect::<Vec<_>>())
                        .unwrap_or_default();
                    out.global_allowlist(list, i, &targets, &table);
                }
            }
            other => out.note(format!(
                "top-level key `{other}` has no keysift equivalent: ignored"
            )),
        }
    }
    Ok(out.finish())
}

/// The converted config being assembled.
#[derive(Default)]
struct Output {
    signatures: Vec<Value>,
    allowlists: Vec<Value>,
    restrictions: Vec<Value>,
    notes: Vec<String>,
}

impl Output {
    fn note(&mut self, note: String) {
        self.notes.push(note);
    }

    fn extend(&mut self, value: &Value) {
        let Some(extend) = value.as_table() else {
            return;
        };
        for (key, value) in extend {
            match key.as_str() {
                "useDefault" if value.as_bool() == Some(true) => self.note(
                    "[extend] useDefault: gitleaks' default rules are not imported; keysift's \
                     built-in library (always on) takes their place"
                        .into(),
                ),
                "useDefault" => {}
                "path" => self.note(format!(
                    "[extend] path {value}: the extended file is not read; import it separately"
                )),
                "disabledRules" => self.note(format!(
                    "[extend] disabledRules {value}: these name gitleaks' default rules, which \
                     keysift does not have; use `disable` with keysift ids instead"
                )),
                other => self.note(format!("[extend] {other}: not supported, ignored")),
            }
        }
    }

    /// Converts one `[[rules]]` table: a signature, and the path restriction and allowlists
    /// that come with it.
    fn rule(&mut self, rule: &Table, provider: &str) {
        let Some(gitleaks_id) = rule.get("id").and_then(Value::as_str) else {
            self.note("a rule without an `id`: skipped".into());
            return;
        };
        let Some((pattern, hir)) = self.pattern(rule, gitleaks_id) else {
            return;
        };
        let signature = self.signature(rule, gitleaks_id, provider, &pattern, &hir);
        self.signatures.push(Value::Table(signature));
        self.scope(rule, gitleaks_id);
    }

    /// The rule's regex with its secret group named, if keysift can use it; a note otherwise.
    fn pattern(&mut self, rule: &Table, gitleaks_id: &str) -> Option<(String, Hir)> {
        let mut refuse = |why: &str| {
            self.note(format!("rule {gitleaks_id:?}: not converted: {why}"));
            None
        };
        let Some(regex) = rule.get("regex").and_then(Value::as_str) else {
            return refuse(if rule.contains_key("path") {
                "it matches file paths only, and keysift reports secrets in contents"
            } else {
                "it has no `regex`"
            });
        };
        if rule.contains_key("required") {
            return refuse("composite rules (`required`) have no keysift equivalent");
        }
        if rule.get("skipReport").and_then(Value::as_bool) == Some(true) {
            return refuse("skipReport");
        }
        let secret_group = rule
            .get("secretGroup")
            .and_then(Value::as_integer)
            .unwrap_or(0);
        let (pattern, note) = match name_secret_group(regex, secret_group) {
            Ok(named) => named,
            Err(why) => return refuse(&why),
        };
        let hir = match analysis::parse(&pattern) {
            Ok(hir) => hir,
            Err(why) => {
                let why = why.lines().last().unwrap_or_default().trim();
                let why = why.strip_prefix("error: ").unwrap_or(why);
                return refuse(&format!(
                    "its regex is not valid in keysift's dialect (bytes, ASCII classes): {why}"
                ));
            }
        };
        if let Some(note) = note {
            self.note(format!("rule {gitleaks_id:?}: {note}"));
        }
        Some((pattern, hir))
    }

    /// The `[[signature]]` table of a rule, keys in the order of keysift's own files.
    fn signature(
        &mut self,
        rule: &Table,
        gitleaks_id: &str,
        provider: &str,
        pattern: &str,
        hir: &Hir,
    ) -> Map<String, Value> {
        let mut signature = Map::new();
        let text = |s: &str| Value::String(s.to_string());
        signature.insert("id".into(), text(&keysift_id(gitleaks_id)));
        let description = rule.get("description").and_then(Value::as_str);
        signature.insert("name".into(), text(description.unwrap_or(gitleaks_id)));
        signature.insert("provider".into(), text(provider));
        signature.insert("category".into(), text("generic"));
        signature.insert("confidence".into(), text("medium"));
        let keywords = self.keywords(rule, hir, gitleaks_id);
        if keywords.is_empty() {
            signature.insert("keywordless".into(), Value::Boolean(true));
        } else {
            let keywords = keywords.iter().map(|k| text(k)).collect();
            signature.insert("keywords".into(), Value::Array(keywords));
            signature.insert("keywords_ignore_case".into(), Value::Boolean(true));
        }
        signature.insert("pattern".into(), text(pattern));
        if hir.properties().maximum_len().is_none() {
            signature.insert("max_len".into(), Value::Integer(UNBOUNDED_MAX_LEN as i64));
        }
        if let Some(entropy) = rule.get("entropy").and_then(number) {
            signature.insert("min_entropy".into(), Value::Float(entropy.clamp(0.0, 8.0)));
        }
        let tags: Vec<&str> = rule
            .get("tags")
            .and_then(Value::as_array)
            .map(|t| t.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !tags.is_empty() {
            let description = format!(
                "Imported from gitleaks rule {gitleaks_id:?}; tags: {}",
                tags.join(", ")
            );
            signature.insert("description".into(), text(&description));
        }
        const KNOWN: &[&str] = &[
            "id",
            "description",
            "regex",
            "secretGroup",
            "entropy",
            "keywords",
            "path",
            "tags",
            "allowlist",
            "allowlists",
        ];
        for key in rule.keys().filter(|key| !KNOWN.contains(&key.as_str())) {
            self.note(format!(
                "rule {gitleaks_id:?}: `{key}` is not supported, ignored"
            ));
        }
        signature
    }

    /// A rule's `path` (a `[[restrict]]`) and allowlists (`[[allowlist]]`s for its signature).
    fn scope(&mut self, rule: &Table, gitleaks_id: &str) {
        let id = keysift_id(gitleaks_id);
        let only_this = [id.clone()];
        if let Some(path) = rule.get("path").and_then(Value::as_str) {
            if regex::Regex::new(path).is_ok() {
                let mut restrict = Map::new();
                let text = |s: &str| Value::Array(vec![Value::String(s.to_string())]);
                restrict.insert("signatures".into(), text(&id));
                restrict.insert("path_regexes".into(), text(path));
                self.restrictions.push(Value::Table(restrict));
            } else {
                self.note(format!(
                    "rule {gitleaks_id:?}: its `path` regex is invalid: ignored"
                ));
            }
        }
        if let Some(list) = rule.get("allowlist") {
            self.allowlist(
                list,
                &format!("rule {gitleaks_id:?}'s allowlist"),
                &only_this,
            );
        }
        let lists = rule.get("allowlists").and_then(Value::as_array);
        for (i, list) in lists.into_iter().flatten().enumerate() {
            let what = format!("rule {gitleaks_id:?}'s allowlist #{}", i + 1);
            self.allowlist(list, &what, &only_this);
        }
    }

    /// The rule's keywords if the prefilter can rely on them, else none (the signature then
    /// runs on every file), with a note saying why.
    fn keywords(&mut self, rule: &Table, hir: &Hir, id: &str) -> Vec<String> {
        let keywords: Vec<String> = rule
            .get("keywords")
            .and_then(Value::as_array)
            .map(|k| {
                k.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        let why = if keywords.is_empty() {
            "it has no keywords"
        } else if keywords
            .iter()
            .any(|k| k.len() < MIN_KEYWORD_LEN || !k.is_ascii())
        {
            "a keyword is shorter than 3 bytes or not ASCII"
        } else if !analysis::keywords_in_every_match(
            hir,
            Keywords {
                literals: &keywords,
                ignore_case: true,
            },
        ) {
            "its keywords are not provably inside every match (gitleaks looks for them anywhere \
             in the file)"
        } else {
            return keywords;
        };
        self.note(format!(
            "rule {id:?}: {why}, so its regex runs over every file (slower)"
        ));
        Vec::new()
    }

    fn global_allowlist(&mut self, list: &Value, index: usize, targets: &[&str], config: &Table) {
        let what = format!("global allowlist #{}", index + 1);
        if targets.is_empty() {
            return self.allowlist(list, &what, &[]);
        }
        let imported: BTreeSet<&str> = config
            .get("rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("id").and_then(Value::as_str))
            .collect();
        let (known, unknown): (Vec<&str>, Vec<&str>) =
            targets.iter().partition(|t| imported.contains(*t));
        if !unknown.is_empty() {
            self.note(format!(
                "{what}: targetRules {unknown:?} are not rules of this file (gitleaks defaults?): \
                 left out"
            ));
        }
        if known.is_empty() {
            self.note(format!(
                "{what}: applies to no imported rule: not converted"
            ));
            return;
        }
        let ids: Vec<String> = known.iter().map(|t| keysift_id(t)).collect();
        self.allowlist(list, &what, &ids);
    }

    /// Converts one gitleaks allowlist (limited to `signatures` when not empty).
    fn allowlist(&mut self, list: &Value, what: &str, signatures: &[String]) {
        let Some(list) = list.as_table() else {
            self.note(format!("{what} is not a table: skipped"));
            return;
        };
        let strings = |key: &str| -> Vec<Value> {
            list.get(key)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter(|v| v.is_str()).cloned().collect())
                .unwrap_or_default()
        };
        let all = match list.get("condition").and_then(Value::as_str) {
            None => false,
            Some(c) if c.eq_ignore_ascii_case("or") => false,
            Some(c) if c.eq_ignore_ascii_case("and") => true,
            Some(other) => {
                self.note(format!(
                    "{what}: unknown condition {other:?}: not converted"
                ));
                return;
            }
        };
        if !strings("commits").is_empty() {
            if all {
                // Dropping one criterion of an AND would suppress more than gitleaks does.
                self.note(format!(
                    "{what}: `commits` cannot be matched by keysift, and with condition AND the \
                     rest would hide more than intended: not converted"
                ));
                return;
            }
            self.note(format!(
                "{what}: `commits` cannot be matched by keysift: left out"
            ));
        }
        let target = list
            .get("regexTarget")
            .and_then(Value::as_str)
            .unwrap_or("secret");
        let regex_key = match target {
            "secret" => "secrets",
            "line" => "lines",
            "match" => {
                self.note(format!(
                    "{what}: regexTarget \"match\" is checked against the secret's whole line"
                ));
                "lines"
            }
            other => {
                self.note(format!(
                    "{what}: unknown regexTarget {other:?}: not converted"
                ));
                return;
            }
        };
        let mut entry = Map::new();
        if let Some(description) = list.get("description").filter(|d| d.is_str()) {
            entry.insert("description".into(), description.clone());
        }
        if !signatures.is_empty() {
            let ids = signatures
                .iter()
                .map(|s| Value::String(s.clone()))
                .collect();
            entry.insert("signatures".into(), Value::Array(ids));
        }
        let mut criteria = 0;
        for (from, to) in [
            ("paths", "path_regexes"),
            ("regexes", regex_key),
            ("stopwords", "stopwords"),
        ] {
            let values: Vec<Value> = strings(from)
                .into_iter()
                .filter(|v| {
                    let text = v.as_str().unwrap_or_default();
                    let valid = from == "stopwords" || regex::Regex::new(text).is_ok();
                    if !valid {
                        self.notes.push(format!(
                            "{what}: invalid regex {text:?} in `{from}`: left out"
                        ));
                    }
                    valid
                })
                .collect();
            if !values.is_empty() {
                criteria += 1;
                entry.insert(to.into(), Value::Array(values));
            }
        }
        if criteria == 0 {
            self.note(format!("{what}: nothing keysift can match: not converted"));
            return;
        }
        if all {
            entry.insert("condition".into(), Value::String("all".into()));
        }
        self.allowlists.push(Value::Table(entry));
    }

    fn finish(self) -> Converted {
        let mut root = Map::new();
        let signatures = self.signatures.len();
        if !self.signatures.is_empty() {
            root.insert("signature".into(), Value::Array(self.signatures));
        }
        if !self.allowlists.is_empty() {
            root.insert("allowlist".into(), Value::Array(self.allowlists));
        }
        if !self.restrictions.is_empty() {
            root.insert("restrict".into(), Value::Array(self.restrictions));
        }
        let toml = toml::to_string(&Value::Table(root)).expect("tables of strings serialise");
        Converted {
            toml,
            notes: self.notes,
            signatures,
        }
    }
}

fn number(value: &Value) -> Option<f64> {
    value
        .as_float()
        .or_else(|| value.as_integer().map(|i| i as f64))
}

/// `gitleaks.` + the id in keysift's alphabet (lower-case letters, digits, `-`).
fn keysift_id(gitleaks_id: &str) -> String {
    let mut id: String = gitleaks_id
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while id.contains("--") {
        id = id.replace("--", "-");
    }
    let id = id.trim_matches('-');
    let id = if id.is_empty() { "rule" } else { id };
    let mut full = format!("{ID_PREFIX}{id}");
    full.truncate(64);
    full.trim_end_matches('-').to_string()
}

/// The pattern with capture group `group` (gitleaks' `secretGroup`; 0: the first group, if
/// any) named `secret`, and a note when the choice may differ from gitleaks'.
fn name_secret_group(pattern: &str, group: i64) -> Result<(String, Option<String>), String> {
    use regex_syntax::ast::{parse::Parser, Ast, GroupKind};

    let ast = Parser::new()
        .parse(pattern)
        .map_err(|e| format!("its regex does not parse: {}", e.kind()))?;
    let mut groups = Vec::new();
    let mut stack = vec![&ast];
    while let Some(node) = stack.pop() {
        match node {
            Ast::Group(g) => {
                match &g.kind {
                    GroupKind::CaptureIndex(i) => groups.push((*i, g.span.start.offset, None)),
                    GroupKind::CaptureName { name, .. } => {
                        groups.push((name.index, g.span.start.offset, Some(name.span)))
                    }
                    GroupKind::NonCapturing(_) => {}
                }
                stack.push(&g.ast);
            }
            Ast::Repetition(r) => stack.push(&r.ast),
            Ast::Alternation(a) => stack.extend(a.asts.iter()),
            Ast::Concat(c) => stack.extend(c.asts.iter()),
            _ => {}
        }
    }
    let count = groups.len() as i64;
    let (wanted, note) = match group {
        0 if count == 0 => return Ok((pattern.to_string(), None)),
        0 if count > 1 => (
            1,
            Some("no secretGroup and several groups: the first group is the secret".to_string()),
        ),
        0 => (1, None),
        n if n > count => return Err(format!("secretGroup {n}, but the regex has {count} groups")),
        n if n < 0 => return Err(format!("secretGroup {n} is negative")),
        n => (n as u32, None),
    };
    let (_, start, name) = groups
        .iter()
        .find(|(i, _, _)| *i == wanted)
        .expect("group numbers run from 1 to the count");
    let renamed = match name {
        Some(span) => format!(
            "{}secret{}",
            &pattern[..span.start.offset],
            &pattern[span.end.offset..]
        ),
        None => format!("{}(?P<secret>{}", &pattern[..*start], &pattern[start + 1..]),
    };
    Ok((renamed, note))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_become_keysift_ids() {
        assert_eq!(keysift_id("aws-access-token"), "gitleaks.aws-access-token");
        assert_eq!(keysift_id("My_Rule (v2)"), "gitleaks.my-rule-v2");
        assert_eq!(keysift_id("!!!"), "gitleaks.rule");
    }

    #[test]
    fn secret_group_is_named() {
        let (p, note) = name_secret_group(r"key=(\w+)-(\d+)", 2).unwrap();
        assert_eq!(p, r"key=(\w+)-(?P<secret>\d+)");
        assert!(note.is_none());
        let (p, note) = name_secret_group(r"(a)(b)", 0).unwrap();
        assert_eq!(p, r"(?P<secret>a)(b)");
        assert!(note.is_some());
        let (p, _) = name_secret_group(r"x(?P<tok>[a-z]{4})", 1).unwrap();
        assert_eq!(p, r"x(?P<secret>[a-z]{4})");
        assert_eq!(name_secret_group("abc", 0).unwrap().0, "abc");
        assert!(name_secret_group("(a)", 3).is_err());
    }

    #[test]
    fn recognises_gitleaks_files() {
        assert!(looks_like_gitleaks("[[rules]]\nid = 'x'\nregex = 'y'\n"));
        assert!(looks_like_gitleaks("[extend]\nuseDefault = true\n"));
        assert!(looks_like_gitleaks("[allowlist]\npaths = ['x']\n"));
        assert!(!looks_like_gitleaks("[[allowlist]]\npaths = ['x']\n"));
        assert!(!looks_like_gitleaks("confidence = 'low'\n"));
        assert!(!looks_like_gitleaks("rules = ['extra.toml']\n"));
    }
}
