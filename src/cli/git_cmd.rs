//! `keysift git`: resolve the repository and mode, scan, report.

use std::sync::Arc;

use keysift::{
    report::escape_control,
    scan::git::{scan_repository, GitMode, GitScanOptions},
    sources::{git::Repository, ReadLimits},
};

use super::{
    args::{GitArgs, ScanArgs},
    project::{ConfigRequest, Root},
    scan_cmd::{build_scanner, Report},
    Outcome,
};

/// `keysift git [REPO]`
pub fn git(mut args: GitArgs, config: &ConfigRequest) -> anyhow::Result<Outcome> {
    let mode = if args.staged {
        GitMode::Staged
    } else if let Some(range) = args.range {
        GitMode::Range(range)
    } else if let Some(since) = args.since {
        GitMode::Range(format!("{since}..HEAD"))
    } else {
        GitMode::History {
            include_unreachable: args.include_unreachable,
        }
    };
    let repo = Repository::discover(&args.path)?;
    let project = config.load(Root::Dir(repo.work_dir()), args.scan.quiet)?;
    if let Some(project) = &project {
        let limits = project.limits();
        config.set(
            "max_file_size",
            &mut args.max_file_size,
            limits.max_file_size,
        );
    }
    config.apply(project, &mut args.scan);
    let options = GitScanOptions {
        mode,
        limits: ReadLimits {
            max_size: args.max_file_size,
        },
        run: args.scan.run_options(),
        incremental: args.incremental,
        cache_dir: args.cache,
        settings_key: settings_key(&args.scan),
    };
    scan(repo, &options, &args.scan)
}

/// Scans `repo` as `options` say and reports as `scan_args` say.
pub fn scan(
    repo: Repository,
    options: &GitScanOptions,
    scan_args: &ScanArgs,
) -> anyhow::Result<Outcome> {
    let scanner = build_scanner(scan_args)?;
    let mut report = Report::open(scan_args, &scanner)?;
    let result = scan_repository(Arc::new(repo), &scanner, options, |event| {
        report.event(event)
    })?;
    if !scan_args.quiet {
        for note in &result.notes {
            eprintln!("keysift: note: {}", escape_control(note));
        }
    }
    report.finish(&result.summary)
}

/// What, besides the signature set (whose digest covers extra rule files too) and keysift's
/// version, changes what a scan reports: part of the incremental cache key.
pub fn settings_key(args: &ScanArgs) -> String {
    format!("confidence={}", args.confidence)
}
