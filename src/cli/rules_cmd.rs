//! `keysift rules list` and `keysift rules check`.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    io::{self, Write},
    path::Path,
    sync::Arc,
};

use anyhow::Context;
use keysift::{
    config::{gitleaks, ProjectConfig, FILE_NAME},
    lint::{self, ProofRequired},
    report::escape_control,
    rules::{Confidence, RuleSet, RulesError, Signature, CATEGORIES},
};
use serde::Serialize;

use super::{
    args::{ListFormat, RulesCommand},
    project::{ConfigRequest, Root},
    scan_cmd::{load_rules, RulesFor},
    Outcome,
};

/// Runs a `rules` subcommand. `list` and `stats` show the signatures scans from here would
/// use: with the project config's own and without the ones it disables.
pub fn run(command: RulesCommand, config: &ConfigRequest) -> anyhow::Result<Outcome> {
    let project = || config.load(Root::Dir(Some(Path::new("."))), true);
    match command {
        RulesCommand::List {
            format,
            rules,
            provider,
            category,
            confidence,
            engine_report,
        } => {
            let filter = Filter {
                provider,
                category,
                confidence,
            };
            let rules = load_rules(&rules, project()?.as_deref(), RulesFor::Inspecting)?;
            if engine_report {
                report_fallbacks(Arc::new(rules), &filter, format)
            } else {
                list(&rules, &filter, format)
            }
        }
        RulesCommand::Stats { format, rules } => {
            let project = project()?;
            stats(
                &load_rules(&rules, project.as_deref(), RulesFor::Inspecting)?,
                format,
            )
        }
        RulesCommand::Check { files } => check(&files),
        RulesCommand::Import { file, output } => import(&file, output.as_deref()),
    }
}

/// `rules import`: a gitleaks config converted into a keysift config, with a note on stderr
/// for each part left out. The result is loaded before it is written, so what is written
/// always works.
fn import(file: &Path, output: Option<&Path>) -> anyhow::Result<Outcome> {
    let text =
        fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let name = file.display().to_string();
    let converted = gitleaks::convert(&text).map_err(|e| e.at(&name, &text))?;
    let mut written = format!(
        "# Converted from the gitleaks config {} by `keysift rules import`.\n",
        file.display()
    );
    for note in &converted.notes {
        written.push_str(&format!("# note: {note}\n"));
    }
    written.push('\n');
    written.push_str(&converted.toml);
    let config_path = output.unwrap_or(Path::new(FILE_NAME));
    let check = ProjectConfig::parse(config_path, &name, &written)
        .map_err(anyhow::Error::from)
        .and_then(|config| load_rules(&[], Some(&config), RulesFor::Scanning));
    if let Err(err) = check {
        anyhow::bail!("the converted config does not load (a bug in the conversion): {err:#}");
    }
    for note in &converted.notes {
        eprintln!("keysift: note: {}", escape_control(note));
    }
    match output {
        Some(path) => {
            fs::write(path, &written).with_context(|| format!("cannot write {}", path.display()))?
        }
        None => {
            let mut out = io::stdout().lock();
            match out.write_all(written.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => return Err(e.into()),
                _ => {}
            }
        }
    }
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    eprintln!(
        "keysift: imported {} signature{} from {} ({} note{})",
        converted.signatures,
        plural(converted.signatures),
        file.display(),
        converted.notes.len(),
        plural(converted.notes.len())
    );
    Ok(Outcome::Clean)
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
            verifiable: s.is_verifiable(),
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

/// `rules list` filters; unset fields match everything.
struct Filter {
    provider: Option<String>,
    category: Option<String>,
    confidence: Option<Confidence>,
}

impl Filter {
    fn matches(&self, s: &Signature) -> bool {
        self.provider
            .as_ref()
            .is_none_or(|p| s.provider().eq_ignore_ascii_case(p))
            && self.category.as_ref().is_none_or(|c| s.category() == c)
            && self.confidence.is_none_or(|c| s.confidence() == c)
    }
}

fn list(rules: &RuleSet, filter: &Filter, format: ListFormat) -> anyhow::Result<Outcome> {
    if let Some(category) = &filter.category {
        if !CATEGORIES.contains(&category.as_str()) {
            anyhow::bail!(
                "unknown category {category:?} (known: {})",
                CATEGORIES.join(", ")
            );
        }
    }
    let listed: Vec<ListedSignature> = rules
        .signatures()
        .iter()
        .filter(|s| filter.matches(s))
        .map(ListedSignature::from)
        .collect();
    print(format, &listed, |out, listed| write_table(out, listed))
}

/// Prints `value` on stdout as pretty JSON or with `human`; a closed pipe is not an error.
fn print<T: Serialize + ?Sized>(
    format: ListFormat,
    value: &T,
    human: impl FnOnce(&mut dyn Write, &T) -> io::Result<()>,
) -> anyhow::Result<Outcome> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = match format {
        ListFormat::Json => serde_json::to_writer_pretty(&mut out, value)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out)),
        ListFormat::Human => human(&mut out, value),
    };
    match result.and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(Outcome::Clean),
    }
}

/// One signature in `rules list --engine-report`.
#[cfg(feature = "hyperscan")]
#[derive(Serialize)]
struct FallbackEntry<'a> {
    id: &'a str,
    reason: &'a str,
}

/// `rules list --engine-report`: the signatures the Hyperscan database leaves to the portable
/// keyword prefilter, and why. Builds the engine (from the on-disk cache when it can).
#[cfg(feature = "hyperscan")]
fn report_fallbacks(
    rules: Arc<RuleSet>,
    filter: &Filter,
    format: ListFormat,
) -> anyhow::Result<Outcome> {
    use keysift::engine::{EngineOptions, HyperscanEngine};

    let engine = HyperscanEngine::builder(rules.clone())
        .cache_dir(EngineOptions::user_cache_dir())
        .build()?;
    let listed: Vec<FallbackEntry> = engine
        .fallbacks()
        .iter()
        .map(|fallback| (rules.get(fallback.signature), fallback.reason.as_str()))
        .filter(|(signature, _)| filter.matches(signature))
        .map(|(signature, reason)| FallbackEntry {
            id: signature.id(),
            reason,
        })
        .collect();
    let compiled = rules.len() - engine.fallbacks().len();
    print(format, &listed, |out, listed| {
        writeln!(
            out,
            "{compiled} of {} signatures are in the Hyperscan database (libhs {}); {} use the \
             portable keyword prefilter:",
            rules.len(),
            keysift::engine::hyperscan::library_version(),
            engine.fallbacks().len()
        )?;
        let id_width = listed.iter().map(|s| s.id.len()).max().unwrap_or(0);
        for entry in listed {
            writeln!(out, "  {:id_width$}  {}", entry.id, entry.reason)?;
        }
        Ok(())
    })
}

#[cfg(not(feature = "hyperscan"))]
fn report_fallbacks(
    _rules: Arc<RuleSet>,
    _filter: &Filter,
    _format: ListFormat,
) -> anyhow::Result<Outcome> {
    Err(keysift::engine::MatchError::Unavailable("hyperscan").into())
}

fn write_table(out: &mut dyn Write, listed: &[ListedSignature]) -> io::Result<()> {
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
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    writeln!(
        out,
        "\n{} signature{}, {} provider{}",
        listed.len(),
        plural(listed.len()),
        providers.len(),
        plural(providers.len())
    )
}

/// `rules stats`: counts by category and confidence.
#[derive(Serialize)]
struct Stats {
    signatures: usize,
    providers: usize,
    /// Per category: signatures, providers, and signatures per confidence.
    categories: BTreeMap<String, CategoryStats>,
    /// Signatures with a verification check.
    verifiable: Vec<String>,
    /// Providers with at least one.
    verifiable_providers: usize,
}

#[derive(Serialize, Default)]
struct CategoryStats {
    signatures: usize,
    providers: usize,
    high: usize,
    medium: usize,
    low: usize,
    #[serde(skip)]
    provider_names: BTreeSet<String>,
}

fn stats(rules: &RuleSet, format: ListFormat) -> anyhow::Result<Outcome> {
    let mut categories: BTreeMap<String, CategoryStats> = BTreeMap::new();
    let mut providers = BTreeSet::new();
    for s in rules.signatures() {
        let entry = categories.entry(s.category().to_string()).or_default();
        entry.signatures += 1;
        entry.provider_names.insert(s.provider().to_string());
        match s.confidence() {
            Confidence::High => entry.high += 1,
            Confidence::Medium => entry.medium += 1,
            Confidence::Low => entry.low += 1,
        }
        providers.insert(s.provider());
    }
    for entry in categories.values_mut() {
        entry.providers = entry.provider_names.len();
    }
    let stats = Stats {
        signatures: rules.len(),
        providers: providers.len(),
        categories,
        verifiable: rules
            .signatures()
            .iter()
            .filter(|s| s.is_verifiable())
            .map(|s| s.id().to_string())
            .collect(),
        verifiable_providers: rules
            .signatures()
            .iter()
            .filter(|s| s.is_verifiable())
            .map(|s| s.provider())
            .collect::<BTreeSet<_>>()
            .len(),
    };
    print(format, &stats, |out, stats| write_stats(out, stats))
}

fn write_stats(out: &mut dyn Write, stats: &Stats) -> io::Result<()> {
    writeln!(
        out,
        "{:18} {:>10} {:>9} {:>6} {:>6} {:>6}",
        "CATEGORY", "SIGNATURES", "PROVIDERS", "HIGH", "MEDIUM", "LOW"
    )?;
    for (name, c) in &stats.categories {
        writeln!(
            out,
            "{:18} {:>10} {:>9} {:>6} {:>6} {:>6}",
            name, c.signatures, c.providers, c.high, c.medium, c.low
        )?;
    }
    writeln!(
        out,
        "\n{} signatures from {} providers; {} signatures from {} providers with verification",
        stats.signatures,
        stats.providers,
        stats.verifiable.len(),
        stats.verifiable_providers
    )
}

/// The built-in signatures and those of `files`: signature files, directories of them, or
/// project configs (keysift or gitleaks), told apart by their keys.
fn load_for_check(files: &[std::path::PathBuf]) -> anyhow::Result<RuleSet> {
    let mut builder = RuleSet::builder();
    for file in files {
        let is_config = file.is_file()
            && fs::read_to_string(file)
                .ok()
                .and_then(|text| text.parse::<toml::Table>().ok())
                .is_some_and(|table| table.keys().any(|key| key != "signature"));
        builder = if is_config {
            ProjectConfig::load(file)?.add_rules(builder)?
        } else {
            builder.add_path(file)?
        };
    }
    builder.build().context("invalid signatures")
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
    let (outcome, written) = match load_for_check(files) {
        Ok(rules) => {
            let rules = Arc::new(rules);
            // Signatures of the user's own need not carry examples: see `ProofRequired`.
            let lint = lint::lint(&rules, ProofRequired::BuiltinOnly);
            let problems = lint.problems;
            let warned = lint
                .warnings
                .iter()
                .try_for_each(|w| writeln!(out, "warning: {w}"));
            if let Err(e) = warned {
                return Err(e.into());
            }
            let providers: BTreeSet<&str> =
                rules.signatures().iter().map(|s| s.provider()).collect();
            let (outcome, summary) = if problems.is_empty() {
                let unproven = match lint.warnings.len() {
                    0 => String::new(),
                    n => format!(
                        " ({n} warning{}: extra signatures without proof)",
                        plural(n)
                    ),
                };
                (
                    Outcome::Clean,
                    format!(
                        "{} signatures from {} providers: all proven{unproven}",
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
