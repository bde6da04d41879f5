//! `keysift dir` and `keysift stdin`: resolve arguments, wire source → scanner → sink.

use std::{
    fs::File,
    io::{self, BufWriter, IsTerminal, Write},
    path::Path,
    sync::Arc,
};

use anyhow::Context;
use keysift::{
    baseline::Baseline,
    config::ProjectConfig,
    engine::{EngineKind, EngineOptions},
    findings::Finding,
    report::{
        escape_control, FindingSink, GitLabSink, HumanSink, JsonLinesSink, JsonSink, ReportOptions,
        SarifSink,
    },
    rules::RuleSet,
    scan::{self, Event, Scanner, Summary},
    sources::{dir::DirSourceBuilder, stdin::StdinSource, ArchiveLimits, ReadLimits, Source},
    suppress::Suppressor,
    verify::{CacheSettings, Verdict, Verifier, VerifyOptions},
};

use super::{
    args::{ArchiveArgs, ColorChoice, DirArgs, FailOn, Format, ScanArgs, StdinArgs},
    progress::{ProgressLine, PROGRESS},
    project::{ConfigRequest, Root},
    Outcome,
};

/// `keysift dir PATH...`
pub fn dir(mut args: DirArgs, config: &ConfigRequest) -> anyhow::Result<Outcome> {
    let project = config.load(Root::Paths(&args.paths), args.scan.quiet)?;
    if let Some(project) = &project {
        let limits = project.limits();
        config.set(
            "max_file_size",
            &mut args.max_file_size,
            limits.max_file_size,
        );
    }
    config.apply_archives(project.as_deref(), &mut args.archives);
    config.apply(project, &mut args.scan);
    let mut builder = DirSourceBuilder::new(args.paths)
        .gitignore(args.gitignore)
        .follow_symlinks(args.follow_symlinks)
        .limits(ReadLimits {
            max_size: args.max_file_size,
        })
        .open_archives(archive_limits(&args.archives, args.max_file_size))
        .threads(args.scan.threads);
    // keysift's own files are never scanned: a report, and baselines (whose fingerprints
    // look like random strings to the generic heuristics).
    let own_files = [
        &args.scan.output,
        &args.scan.baseline,
        &args.scan.write_baseline,
    ];
    for path in own_files.into_iter().flatten() {
        builder = builder.exclude(path);
    }
    // The walk and the signature set's set-up (keyword automaton) overlap: neither needs
    // the other, and each takes tens of milliseconds on a large tree.
    let (scanner, source) = std::thread::scope(|scope| {
        let walk = scope.spawn(|| builder.build());
        let scanner = build_scanner(&args.scan);
        (
            scanner,
            walk.join().expect("the directory walk does not panic"),
        )
    });
    let scanner = scanner?;
    let outcome = run_scan(&source, &scanner, &args.scan);
    // The process ends next: freeing the compiled signatures and the file list piece by
    // piece took 10-15 ms of a half-second scan (perf), for memory the OS takes back anyway.
    std::mem::forget((scanner, source));
    outcome
}

/// `keysift stdin`
pub fn stdin(mut args: StdinArgs, config: &ConfigRequest) -> anyhow::Result<Outcome> {
    let project = config.load(Root::Dir(Some(Path::new("."))), args.scan.quiet)?;
    config.apply_archives(project.as_deref(), &mut args.archives);
    config.apply(project, &mut args.scan);
    let scanner = build_scanner(&args.scan)?;
    let limits = ReadLimits::default();
    let source =
        StdinSource::new(limits).open_archives(archive_limits(&args.archives, limits.max_size));
    let outcome = run_scan(&source, &scanner, &args.scan);
    // As for `dir`: no piecewise freeing just before the process ends.
    std::mem::forget(scanner);
    outcome
}

/// The archive limits `args` ask for, members capped at `max_member_size`; `None` when
/// archives are not to be opened.
pub fn archive_limits(args: &ArchiveArgs, max_member_size: u64) -> Option<ArchiveLimits> {
    (!args.no_archives && args.max_archive_depth > 0).then_some(ArchiveLimits {
        max_depth: args.max_archive_depth,
        max_member_size,
        max_total_size: args.max_archive_size,
        max_ratio: args.max_archive_ratio,
    })
}

/// The scanner `args` ask for.
pub fn build_scanner(args: &ScanArgs) -> anyhow::Result<Scanner> {
    // Verification checks live in the TOML files, not in the build-time scan table.
    let purpose = if args.verifying() {
        RulesFor::Inspecting
    } else {
        RulesFor::Scanning
    };
    let rules = load_rules(&args.rules, args.project.as_deref(), purpose)?;
    let engine = args.engine.map_or(EngineKind::fastest(), EngineKind::from);
    Ok(Scanner::builder(Arc::new(rules))
        .confidence_floor(args.confidence)
        .engine(engine)
        .engine_options(EngineOptions::user_cache())
        .build()?)
}

/// What the signatures are loaded for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RulesFor {
    /// A scan: built-ins from the build-time table (fast start-up, no examples).
    Scanning,
    /// Listing or checking: everything, from the TOML files.
    Inspecting,
}

/// The built-in signatures plus any extra files and the project config's.
pub fn load_rules(
    extra: &[std::path::PathBuf],
    project: Option<&ProjectConfig>,
    purpose: RulesFor,
) -> anyhow::Result<RuleSet> {
    let mut builder = RuleSet::builder().scan_view(purpose == RulesFor::Scanning);
    if let Some(project) = project {
        builder = project.add_rules(builder)?;
    }
    for path in extra {
        builder = builder.add_path(path)?;
    }
    builder.build().context("invalid signatures")
}

fn run_scan<S: Source>(source: &S, scanner: &Scanner, args: &ScanArgs) -> anyhow::Result<Outcome> {
    let mut report = Report::open(args, scanner)?;
    let summary = scan::run(source, scanner, args.run_options(), |event| {
        report.event(event)
    });
    report.finish(&summary)
}

/// The on-disk verdict cache `--verify-cache` asks for, if any.
fn cache_settings(args: &ScanArgs) -> anyhow::Result<Option<CacheSettings>> {
    let Some(path) = &args.verify_cache else {
        return Ok(None);
    };
    let path = match path {
        Some(path) => path.clone(),
        None => CacheSettings::default_path().ok_or_else(|| {
            anyhow::anyhow!("--verify-cache: neither XDG_CACHE_HOME nor HOME is set; give a file")
        })?,
    };
    Ok(Some(CacheSettings {
        path,
        ttl: args.verify_cache_ttl,
    }))
}

/// The chosen sink and its output, fed with scan events.
pub struct Report {
    sink: Box<dyn FindingSink>,
    sink_error: Option<io::Error>,
    format: Format,
    quiet: bool,
    fail_on: FailOn,
    /// With verification, findings wait here until the scan is over.
    verifying: Option<Verifying>,
    /// Inline markers and the baseline.
    suppressor: Suppressor,
    show_suppressed: bool,
    write_baseline: Option<std::path::PathBuf>,
    /// Findings handed to the sink (or held for verification): suppressed and allowlisted ones
    /// not counted.
    reported: u64,
    /// The project config, whose allowlists leave findings out.
    project: Option<Arc<ProjectConfig>>,
    /// Findings the project config's allowlists left out.
    allowlisted: u64,
    /// The progress line on stderr, when it is a terminal.
    progress: Option<ProgressLine>,
}

/// Verification's state: the verifier, the findings held back, and what to report.
struct Verifying {
    verifier: Verifier,
    held: Vec<Finding>,
    only_verified: bool,
}

impl Report {
    /// Opens the output and the sink that `args` ask for; with verification, prepares the
    /// verifier from `scanner`'s signatures.
    pub fn open(args: &ScanArgs, scanner: &Scanner) -> anyhow::Result<Report> {
        let verifying = if args.verifying() {
            let options = VerifyOptions {
                endpoints: args.verify_endpoint.iter().cloned().collect(),
                timeout: std::time::Duration::from_secs(args.verify_timeout.max(1)),
                allow_private: args.verify_allow_private,
                cache: cache_settings(args)?,
                ..VerifyOptions::default()
            };
            let verifier = Verifier::new(scanner.rules(), options).map_err(anyhow::Error::msg)?;
            Some(Verifying {
                verifier,
                held: Vec::new(),
                only_verified: args.only_verified,
            })
        } else {
            None
        };
        let progress = ProgressLine::start(&PROGRESS, args.quiet);
        // The baseline is read before the output is created: a bad baseline leaves no empty
        // report behind.
        let suppressor = open_suppressor(args)?;
        let sink = open_sink(args, scanner, progress.is_some())?;
        Ok(Report {
            sink,
            sink_error: None,
            format: args.format,
            quiet: args.quiet,
            fail_on: args.fail_on,
            verifying,
            suppressor,
            show_suppressed: args.show_suppressed,
            write_baseline: args.write_baseline.clone(),
            reported: 0,
            project: args.project.clone(),
            allowlisted: 0,
            progress,
        })
    }

    /// Hands one finding on: to the sink, held for verification, or (suppressed) counted and
    /// shown only if asked.
    fn finding(&mut self, finding: &Finding) -> io::Result<bool> {
        let mut finding = finding.clone();
        if self.suppressor.judge(&mut finding) {
            return if self.show_suppressed {
                self.sink.finding(&finding)
            } else {
                Ok(true)
            };
        }
        self.reported += 1;
        match &mut self.verifying {
            Some(verifying) => {
                verifying.held.push(finding);
                Ok(true)
            }
            None => self.sink.finding(&finding),
        }
    }

    /// Hands one event to the sink (errors are also printed on stderr); `false` once the
    /// output is gone and the scan should stop.
    pub fn event(&mut self, event: &Event) -> bool {
        if self.sink_error.is_some() {
            return false;
        }
        // Findings and errors go to the terminal while the progress line is away.
        let progress = self.progress.take();
        let delivered = {
            let _hold = progress.as_ref().map(ProgressLine::hold);
            self.deliver(event)
        };
        self.progress = progress;
        delivered
    }

    /// [`Report::event`] once the terminal is free.
    fn deliver(&mut self, event: &Event) -> bool {
        let kept;
        let event = match (event, &self.project) {
            (Event::Findings(found), Some(project)) if !project.allowlist().is_empty() => {
                let allowlist = project.allowlist();
                kept = found
                    .iter()
                    .filter(|f| !allowlist.suppresses(f))
                    .cloned()
                    .collect::<Vec<_>>();
                self.allowlisted += (found.len() - kept.len()) as u64;
                &Event::Findings(kept)
            }
            _ => event,
        };
        if let Event::Findings(found) = event {
            PROGRESS.found(found.len());
        }
        let result = match event {
            Event::Findings(found) => found
                .iter()
                .try_fold(true, |go, f| Ok::<_, io::Error>(go && self.finding(f)?)),
            Event::Error(error) => {
                eprintln!(
                    "keysift: {}: {}",
                    escape_control(&error.input),
                    escape_control(&error.message)
                );
                self.sink.error(error).map(|()| true)
            }
        };
        result.unwrap_or_else(|e| {
            self.sink_error = Some(e);
            false
        })
    }

    /// Writes the summary and maps the scan's result to an exit code.
    pub fn finish(mut self, summary: &Summary) -> anyhow::Result<Outcome> {
        if let Some(progress) = self.progress.take() {
            progress.finish();
        }
        let mut summary = summary.clone();
        summary.findings = self.reported;
        summary.allowlisted = self.allowlisted;
        self.suppressor.count_into(&mut summary);
        if let Some(path) = &self.write_baseline {
            if let Some(n) = self.suppressor.write_baseline(path)? {
                if !self.quiet {
                    eprintln!(
                        "keysift: wrote {n} finding{} to the baseline {}",
                        if n == 1 { "" } else { "s" },
                        escape_control(&path.to_string_lossy())
                    );
                }
            }
        }
        let mut live = 0;
        if let Some(mut verifying) = self.verifying.take() {
            let stats = verifying.verifier.verify(&mut verifying.held);
            live = stats.live as u64;
            if !self.quiet {
                let cached = match stats.cached {
                    0 => String::new(),
                    n => format!(", {n} answered from the cache"),
                };
                eprintln!(
                    "keysift: verified {} distinct secrets: {} live ({} findings have no check{cached})",
                    stats.checked, stats.live, stats.without_check
                );
            }
            if let Some(why) = &stats.cache_error {
                eprintln!("keysift: {}", escape_control(why));
            }
            if verifying.only_verified {
                verifying.held.retain(|f| {
                    f.verification
                        .as_ref()
                        .is_some_and(|v| v.status == Verdict::Live)
                });
            }
            // Fewer than found when pairs were folded into one finding or --only-verified.
            summary.findings = verifying.held.len() as u64;
            for finding in &verifying.held {
                if self.sink_error.is_some() {
                    break;
                }
                if let Err(e) = self.sink.finding(finding) {
                    self.sink_error = Some(e);
                }
            }
        }
        if self.sink_error.is_none() {
            if let Err(e) = self.sink.finish(&summary) {
                self.sink_error = Some(e);
            }
        }
        match self.sink_error {
            // The reader went away (`keysift dir . | head`): not a failure of the scan.
            Some(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
            Some(e) => return Err(e).context("cannot write the report"),
            None => {}
        }
        if !self.quiet && self.format == Format::Jsonl {
            print_summary_line(&summary);
        }
        if self.fail_on == FailOn::Live && summary.errors == 0 {
            return Ok(if live > 0 {
                Outcome::Found
            } else {
                Outcome::Clean
            });
        }
        Ok(outcome(&summary))
    }
}

/// The sink `args` ask for, writing where they say.
fn open_sink(
    args: &ScanArgs,
    scanner: &Scanner,
    progress: bool,
) -> anyhow::Result<Box<dyn FindingSink>> {
    let (out, to_terminal) = open_output(args.output.as_deref(), progress)?;
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    let options = ReportOptions {
        show_secrets: args.show_secrets,
        color,
    };
    Ok(match args.format {
        Format::Human => Box::new(HumanSink::new(out, options)),
        Format::Json => Box::new(JsonSink::new(out, options)),
        Format::Jsonl => Box::new(JsonLinesSink::new(out, options)),
        Format::Sarif => {
            // URIs relative to where keysift runs: the repository root, in CI.
            let base = std::env::current_dir().ok();
            Box::new(SarifSink::new(out, options, scanner.rules().clone(), base))
        }
        Format::Gitlab => Box::new(GitLabSink::new(out, options)),
    })
}

/// What suppresses findings: inline markers always, the baseline `args` name, and recording a
/// new baseline with `--write-baseline`.
fn open_suppressor(args: &ScanArgs) -> anyhow::Result<Suppressor> {
    let baseline = args.baseline.as_deref().map(Baseline::load).transpose()?;
    let suppressor = Suppressor::new(baseline);
    Ok(if args.write_baseline.is_some() {
        suppressor.recording()
    } else {
        suppressor
    })
}

fn outcome(summary: &Summary) -> Outcome {
    if summary.errors > 0 {
        Outcome::Error
    } else if summary.findings > 0 {
        Outcome::Found
    } else {
        Outcome::Clean
    }
}

fn print_summary_line(summary: &Summary) {
    eprintln!(
        "keysift: {} findings ({} allowed inline, {} in the baseline, {} allowlisted), {} blobs \
         ({} bytes) scanned in {:.2} s, {} errors",
        summary.findings,
        summary.suppressed_inline,
        summary.baselined,
        summary.allowlisted,
        summary.blobs_scanned,
        summary.bytes_scanned,
        summary.elapsed.as_secs_f64(),
        summary.errors
    );
}

/// The report's destination, and whether it is a terminal. Written a line at a time to a
/// terminal that also shows the progress line, so each finding is out before it is redrawn.
fn open_output(path: Option<&Path>, progress: bool) -> anyhow::Result<(Box<dyn Write>, bool)> {
    match path {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            Ok((Box::new(BufWriter::new(file)), false))
        }
        None => {
            let stdout = io::stdout();
            let terminal = stdout.is_terminal();
            if terminal && progress {
                return Ok((Box::new(io::LineWriter::new(stdout.lock())), terminal));
            }
            Ok((Box::new(BufWriter::new(stdout.lock())), terminal))
        }
    }
}
