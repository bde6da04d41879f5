//! `keysift rules list` and `keysift rules check`.

use std::{
    collections::BTreeSet,
    io::{self, Write},
    sync::Arc,
};

use keysift::{
    lint,
    rules::{RuleSet, RulesError, Signature},
};
use serde::Serialize;

use super::{
    args::{ListFormat, RulesCommand},
    scan_cmd::{load_rules, RulesFor},
    Outcome,
};

/// Runs a `rules` subcommand.
pub fn run(command: RulesCommand) -> anyhow::Result<Outcome> {
    match command {
        RulesCommand::List { format, rules } => {
            list(&load_rules(&rules, RulesFor::Inspecting)?, format)
        }
        RulesCommand::Check { files } => check(&files),
    }
}

/// One signature in `rules list --format json`.
#[derive(Serialize)]
struct ListedSignature<'a> {
    id: &'a str,
    name: &'a str,
    provider: &'a str,
    category: &'a str,
    confidence: keysift::rules::Confidence,
    keywords: &'a [String],
    verifiable: bool,
    checksum: Option<&'static str>,
    generic: bool,
    /// How the engine runs the regex: at each keyword hit, around keyword hits, or everywhere.
    search: &'static str,
    references: &'a [String],
}

impl<'a> From<&'a Signature> for ListedSignature<'a> {
    fn from(s: &'a Signature) -> Self {
        ListedSignature {
            id: s.id(),
            name: s.name(),
            provider: s.provider(),
            category: s.category(),
            confidence: s.confidence(),
            keywords: s.keywords(),
            // Verification arrives with its own issue; no signature declares it yet.
            verifiable: false,
            checksum: s.checksum().map(|c| c.as_str()),
            generic: s.is_generic(),
            search: if s.is_keywordless() {
                "everywhere"
            } else if s.is_keyword_prefixed() {
                "at-keyword"
            } else {
                "around-keyword"
            },
            references: s.references(),
        }
    }
}

fn list(rules: &RuleSet, format: ListFormat) -> anyhow::Result<Outcome> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let listed: Vec<ListedSignature> = rules
        .signatures()
        .iter()
        .map(ListedSignature::from)
        .collect();
    let result = match format {
        ListFormat::Json => serde_json::to_writer_pretty(&mut out, &listed)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out)),
        ListFormat::Human => write_table(&mut out, &listed),
    };
    match result.and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(Outcome::Clean),
    }
}

fn write_table(out: &mut impl Write, listed: &[ListedSignature]) -> io::Result<()> {
    let id_width = listed
        .iter()
        .map(|s| s.id.len())
        .chain([2])
        .max()
        .unwrap_or(2);
    let provider_width = listed
        .iter()
        .map(|s| s.provider.len())
        .chain([8])
        .max()
        .unwrap_or(8);
    writeln!(
        out,
        "{:id_width$}  {:provider_width$}  {:16}  {:10}  NAME",
        "ID", "PROVIDER", "CATEGORY", "CONFIDENCE"
    )?;
    for s in listed {
        writeln!(
            out,
            "{:id_width$}  {:provider_width$}  {:16}  {:10}  {}",
            s.id,
            s.provider,
            s.category,
            s.confidence.as_str(),
            s.name
        )?;
    }
    let providers: BTreeSet<&str> = listed.iter().map(|s| s.provider).collect();
    writeln!(
        out,
        "\n{} signatures, {} providers",
        listed.len(),
        providers.len()
    )
}

fn check(files: &[std::path::PathBuf]) -> anyhow::Result<Outcome> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let report = |out: &mut dyn Write, problems: &[keysift::rules::Problem], summary: String| {
        problems.iter().try_for_each(|p| writeln!(out, "{p}"))?;
        writeln!(out, "{summary}")?;
        out.flush()
    };
    let (outcome, written) = match load_rules(files, RulesFor::Inspecting) {
        Ok(rules) => {
            let rules = Arc::new(rules);
            let problems = lint::check(&rules);
            let providers: BTreeSet<&str> =
                rules.signatures().iter().map(|s| s.provider()).collect();
            let (outcome, summary) = if problems.is_empty() {
                (
                    Outcome::Clean,
                    format!(
                        "{} signatures from {} providers: all proven",
                        rules.len(),
                        providers.len()
                    ),
                )
            } else {
                let n = problems.len();
                (
                    Outcome::Found,
                    format!("{n} problem{} in {} signatures", plural(n), rules.len()),
                )
            };
            (outcome, report(&mut out, &problems, summary))
        }
        Err(err) => match err.downcast_ref::<RulesError>() {
            Some(RulesError::Invalid(problems)) => {
                let n = problems.len();
                let summary = format!("{n} problem{} found while loading signatures", plural(n));
                (Outcome::Found, report(&mut out, problems, summary))
            }
            _ => return Err(err),
        },
    };
    match written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(outcome),
    }
}
