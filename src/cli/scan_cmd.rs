//! `keysift dir` and `keysift stdin`: resolve arguments, wire source → scanner → sink.

use std::{
    fs::File,
    io::{self, BufWriter, IsTerminal, Write},
    path::Path,
    sync::Arc,
};

use anyhow::Context;
use keysift::{
    engine::{EngineKind, EngineOptions},
    report::{escape_control, FindingSink, HumanSink, JsonLinesSink, JsonSink, ReportOptions},
    rules::RuleSet,
    scan::{self, Event, RunOptions, Scanner, Summary},
    sources::{dir::DirSourceBuilder, stdin::StdinSource, ReadLimits, Source},
};

use super::{
    args::{ColorChoice, DirArgs, Format, ScanArgs},
    Outcome,
};

/// `keysift dir PATH...`
pub fn dir(args: DirArgs) -> anyhow::Result<Outcome> {
    let scanner = build_scanner(&args.scan)?;
    let mut builder = DirSourceBuilder::new(args.paths)
        .gitignore(args.gitignore)
        .follow_symlinks(args.follow_symlinks)
        .limits(ReadLimits {
            max_size: args.max_file_size,
        })
        .threads(args.scan.threads);
    if let Some(output) = &args.scan.output {
        builder = builder.exclude(output);
    }
    let source = builder.build();
    run_scan(&source, &scanner, &args.scan)
}

/// `keysift stdin`
pub fn stdin(args: ScanArgs) -> anyhow::Result<Outcome> {
    let scanner = build_scanner(&args)?;
    let source = StdinSource::new(ReadLimits::default());
    run_scan(&source, &scanner, &args)
}

/// The scanner `args` ask for.
pub fn build_scanner(args: &ScanArgs) -> anyhow::Result<Scanner> {
    let rules = load_rules(&args.rules, RulesFor::Scanning)?;
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

/// The built-in signatures plus any extra files.
pub fn load_rules(extra: &[std::path::PathBuf], purpose: RulesFor) -> anyhow::Result<RuleSet> {
    let mut builder = RuleSet::builder().scan_view(purpose == RulesFor::Scanning);
    for path in extra {
        builder = builder.add_path(path)?;
    }
    builder.build().context("invalid signatures")
}

fn run_scan<S: Source>(source: &S, scanner: &Scanner, args: &ScanArgs) -> anyhow::Result<Outcome> {
    let mut report = Report::open(args)?;
    let summary = scan::run(
        source,
        scanner,
        RunOptions {
            threads: args.threads,
        },
        |event| report.event(event),
    );
    report.finish(&summary)
}

/// The chosen sink and its output, fed with scan events.
pub struct Report {
    sink: Box<dyn FindingSink>,
    sink_error: Option<io::Error>,
    format: Format,
    quiet: bool,
}

impl Report {
    /// Opens the output and the sink that `args` ask for.
    pub fn open(args: &ScanArgs) -> anyhow::Result<Report> {
        let (out, to_terminal) = open_output(args.output.as_deref())?;
        let color = match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
        };
        let options = ReportOptions {
            show_secrets: args.show_secrets,
            color,
        };
        let sink: Box<dyn FindingSink> = match args.format {
            Format::Human => Box::new(HumanSink::new(out, options)),
            Format::Json => Box::new(JsonSink::new(out, options)),
            Format::Jsonl => Box::new(JsonLinesSink::new(out, options)),
        };
        Ok(Report {
            sink,
            sink_error: None,
            format: args.format,
            quiet: args.quiet,
        })
    }

    /// Hands one event to the sink (errors are also printed on stderr); `false` once the
    /// output is gone and the scan should stop.
    pub fn event(&mut self, event: &Event) -> bool {
        if self.sink_error.is_some() {
            return false;
        }
        let result = match event {
            Event::Findings(found) => found.iter().try_fold(true, |go, f| {
                Ok::<_, io::Error>(go && self.sink.finding(f)?)
            }),
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
        if self.sink_error.is_none() {
            if let Err(e) = self.sink.finish(summary) {
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
            print_summary_line(summary);
        }
        Ok(outcome(summary))
    }
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
        "keysift: {} findings, {} blobs ({} bytes) scanned in {:.2} s, {} errors",
        summary.findings,
        summary.blobs_scanned,
        summary.bytes_scanned,
        summary.elapsed.as_secs_f64(),
        summary.errors
    );
}

/// The report's destination, and whether it is a terminal.
fn open_output(path: Option<&Path>) -> anyhow::Result<(Box<dyn Write>, bool)> {
    match path {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            Ok((Box::new(BufWriter::new(file)), false))
        }
        None => {
            let stdout = io::stdout();
            let terminal = stdout.is_terminal();
            Ok((Box::new(BufWriter::new(stdout.lock())), terminal))
        }
    }
}
