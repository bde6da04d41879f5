//! Raw command-line arguments, exactly as parsed. No validation beyond types and no side
//! effects here: [`super::scan_cmd`] resolves these into a scan configuration.

use std::{path::PathBuf, sync::Arc};

use clap::{Args, Parser, Subcommand, ValueEnum};
use keysift::{config::ProjectConfig, engine::EngineKind, rules::Confidence};

pub use keysift::config::parse_size;

/// Finds leaked credentials in directories and stdin.
#[derive(Debug, Parser)]
#[command(name = "keysift", version = super::version(), about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 no findings, 1 findings, 2 an input could not be scanned or a usage/config error."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Project configuration to use instead of the .keysift.toml at the scan root (a gitleaks
    /// config is converted).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore .keysift.toml.
    #[arg(long, global = true, conflicts_with = "config")]
    pub no_config: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directory trees.
    Dir(DirArgs),
    /// Scan standard input.
    Stdin(StdinArgs),
    /// Scan a git repository: its whole history, staged changes, or a range of commits.
    Git(GitArgs),
    /// Scan container images: docker-save tarballs, OCI layouts (directories or tars), `-` for
    /// a tarball on stdin.
    Image(ImageArgs),
    /// Install git hooks that scan commits and pushes.
    #[command(subcommand)]
    Hook(HookCommand),
    /// List, check or import signatures.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Write a starter .keysift.toml.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff).
    Man,
}

/// `keysift config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write a commented starter .keysift.toml (in DIR, default: the current directory).
    Init {
        /// Where to write it.
        #[arg(value_name = "DIR", default_value = ".")]
        dir: PathBuf,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
}

/// `keysift dir`.
#[derive(Debug, Args)]
pub struct DirArgs {
    /// Files or directories to scan.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Honour .gitignore files (and git's exclude files); .keysiftignore is always honoured.
    #[arg(long)]
    pub gitignore: bool,
    /// Follow symbolic links (loops are detected and reported).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Skip files larger than this (e.g. 512K, 100M, 2G).
    #[arg(long, value_name = "SIZE", default_value = "100M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Archive options.
    #[command(flatten)]
    pub archives: ArchiveArgs,
    /// Scan options.
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// `keysift stdin`.
#[derive(Debug, Args)]
pub struct StdinArgs {
    /// Archive options.
    #[command(flatten)]
    pub archives: ArchiveArgs,
    /// Scan options.
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// How archives (zip, jar, war, whl, apk, tar, tar.gz, gz, zst) found among the inputs are
/// opened. A member over a limit is reported and skipped, and the exit code is 2.
#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// Do not open archives; they are skipped as binary files.
    #[arg(long)]
    pub no_archives: bool,
    /// How many levels of archives inside archives to open (0: none).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub max_archive_depth: u32,
    /// Stop reading an archive once it has expanded to this much in all, nested members
    /// included.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub max_archive_size: u64,
    /// Skip compressed data that expands more than N times its size (compression bombs);
    /// checked past 1 MiB of output.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub max_archive_ratio: u64,
}

/// `keysift git`.
#[derive(Debug, Args)]
pub struct GitArgs {
    /// The repository (its work tree, a subdirectory, or a bare repository).
    #[arg(value_name = "REPO", default_value = ".")]
    pub path: PathBuf,
    /// Also scan blobs that no ref reaches (dangling and unreachable objects).
    #[arg(long, conflicts_with_all = ["staged", "range", "since"])]
    pub include_unreachable: bool,
    /// Scan what is staged (pre-commit): findings on added or changed lines only.
    #[arg(long, conflicts_with_all = ["range", "since"])]
    pub staged: bool,
    /// Scan what the commits of a range introduce (A..B, A.., or REV): added lines only.
    #[arg(long, value_name = "RANGE", conflicts_with = "since")]
    pub range: Option<String>,
    /// Scan what the commits since REV introduce (the same as --range REV..HEAD).
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,
    /// Skip blobs that an earlier scan with the same signatures and settings found clean.
    #[arg(long)]
    pub incremental: bool,
    /// Where the incremental cache lives (default: keysift/ in the repository's git dir).
    #[arg(long, value_name = "DIR", requires = "incremental")]
    pub cache: Option<PathBuf>,
    /// Skip blobs larger than this (e.g. 512K, 100M, 2G).
    #[arg(long, value_name = "SIZE", default_value = "100M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Scan options.
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// `keysift image`.
#[derive(Debug, Args)]
pub struct ImageArgs {
    /// Image archives (`docker save` output, OCI layout tars), OCI layout directories, or
    /// references to pull from a registry (`registry.example.com/team/app:1.2`,
    /// `alpine@sha256:...`); `-` reads a tarball from stdin. An existing path is always read as
    /// a file.
    #[arg(required = true, value_name = "IMAGE")]
    pub inputs: Vec<PathBuf>,
    /// Pull over plain HTTP: only for a registry on this machine (localhost, 127.0.0.1).
    #[arg(long)]
    pub insecure: bool,
    /// Only images of this platform (e.g. linux/arm64), when the archive holds several.
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,
    /// Skip files larger than this (e.g. 512K, 100M, 2G).
    #[arg(long, value_name = "SIZE", default_value = "100M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Stop reading a layer that decompresses to more than this (a compression bomb).
    #[arg(long, value_name = "SIZE", default_value = "32G", value_parser = parse_size)]
    pub max_layer_size: u64,
    /// Archive options (jars and other archives inside layers).
    #[command(flatten)]
    pub archives: ArchiveArgs,
    /// Scan options.
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// `keysift hook ...`.
#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Write git hooks that run keysift: pre-commit scans staged changes, pre-push the pushed
    /// commits. Without --pre-commit or --pre-push, both are installed.
    Install {
        /// Install the pre-commit hook.
        #[arg(long)]
        pre_commit: bool,
        /// Install the pre-push hook.
        #[arg(long)]
        pre_push: bool,
        /// Replace existing hooks that keysift did not write.
        #[arg(long)]
        force: bool,
        /// The repository.
        #[arg(value_name = "REPO", default_value = ".")]
        path: PathBuf,
    },
    /// What the pre-push hook runs: reads git's "<local ref> <local sha> <remote ref> <remote
    /// sha>" lines on stdin and scans the commits being pushed.
    #[command(hide = true)]
    PrePush {
        /// The remote's name, as git passes it.
        remote: Option<String>,
        /// The remote's URL, as git passes it.
        url: Option<String>,
        /// Scan options (boxed: they dwarf the other variant).
        #[command(flatten)]
        scan: Box<ScanArgs>,
    },
}

/// Options of every scan.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Extra signature files or directories (TOML), added to the built-in ones.
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Report findings at or above this confidence.
    #[arg(long, value_name = "LEVEL", default_value = "medium", value_parser = parse_confidence)]
    pub confidence: Confidence,
    /// Print secrets in clear instead of redacted.
    #[arg(long)]
    pub show_secrets: bool,
    /// Report only findings this baseline file does not list (counting the others).
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    pub baseline: Option<PathBuf>,
    /// Record this scan's findings in a baseline file (fingerprints only) and report none.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Also list findings suppressed by the baseline or inline `keysift:allow` markers.
    #[arg(long)]
    pub show_suppressed: bool,
    /// Worker threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// When to colour human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print no summary or warnings on stderr (errors are still printed).
    #[arg(short, long)]
    pub quiet: bool,
    /// Ask each provider whether the secrets found are live (network requests to the
    /// providers' own APIs; never without this flag).
    #[arg(long)]
    pub verify: bool,
    /// Report only findings verified live (implies --verify).
    #[arg(long)]
    pub only_verified: bool,
    /// Exit code 1 on any finding (`any`), or only on live ones (`live`, implies --verify).
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = FailOn::Any)]
    pub fail_on: FailOn,
    /// Send one provider's checks to another base URL, e.g. GitHub Enterprise:
    /// `--verify-endpoint github=https://ghe.example.com/api/v3` (HTTPS, or plain HTTP to this
    /// machine). Repeatable.
    #[arg(long, value_name = "NAME=URL", value_parser = parse_endpoint)]
    pub verify_endpoint: Vec<(String, String)>,
    /// Let database checks (whose server comes from the found URI) connect to private,
    /// loopback and link-local addresses.
    #[arg(long)]
    pub verify_allow_private: bool,
    /// Seconds each verification request may take.
    #[arg(long, value_name = "SECS", default_value_t = 15)]
    pub verify_timeout: u64,
    /// Remember live and invalid verdicts between runs in FILE (by a keyed hash, never the
    /// secret); `--verify-cache` alone uses $XDG_CACHE_HOME/keysift/verify-cache.json.
    #[arg(long, value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub verify_cache: Option<Option<PathBuf>>,
    /// How long cached verdicts hold: `30m`, `24h`, `7d`, or seconds.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = keysift::verify::parse_ttl)]
    pub verify_cache_ttl: std::time::Duration,
    /// Matching engine (default: the fastest in this build; `keysift --version` lists them).
    #[arg(long, value_enum, value_name = "ENGINE")]
    pub engine: Option<Engine>,
    /// The project configuration, once found (not a flag: see `--config`).
    #[arg(skip)]
    pub project: Option<Arc<ProjectConfig>>,
}

impl ScanArgs {
    /// The scan loop's settings.
    pub fn run_options(&self) -> keysift::scan::RunOptions {
        keysift::scan::RunOptions {
            threads: self.threads,
            progress: Some(&super::progress::PROGRESS),
        }
    }

    /// Whether verification runs.
    pub fn verifying(&self) -> bool {
        self.verify || self.only_verified || self.fail_on == FailOn::Live
    }
}

/// When findings make the exit code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any finding.
    Any,
    /// Only findings verified live.
    Live,
}

fn parse_endpoint(text: &str) -> Result<(String, String), String> {
    let (name, url) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: expected NAME=URL"))?;
    Ok((name.to_string(), url.to_string()))
}

/// `--engine` values: every engine keysift knows, so that asking for one missing from this
/// build gets a clear error rather than "invalid value".
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// Pure Rust: keyword prefilter, then regexes near the keywords.
    Portable,
    /// Hyperscan: one database of every pattern (cargo feature `hyperscan`).
    Hyperscan,
}

impl From<Engine> for EngineKind {
    fn from(engine: Engine) -> Self {
        match engine {
            Engine::Portable => EngineKind::Portable,
            Engine::Hyperscan => EngineKind::Hyperscan,
        }
    }
}

/// `keysift rules ...`.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the signatures.
    List {
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
        /// Extra signature files or directories to include.
        #[arg(long = "rules", value_name = "PATH")]
        rules: Vec<PathBuf>,
        /// Only signatures of this provider (case-insensitive).
        #[arg(long, value_name = "NAME")]
        provider: Option<String>,
        /// Only signatures of this category.
        #[arg(long, value_name = "CATEGORY")]
        category: Option<String>,
        /// Only signatures of this confidence.
        #[arg(long, value_name = "LEVEL", value_parser = parse_confidence)]
        confidence: Option<Confidence>,
        /// List the signatures the Hyperscan engine leaves to the portable keyword prefilter,
        /// and why.
        #[arg(long)]
        engine_report: bool,
    },
    /// Count signatures by category and confidence, and say which can be verified.
    Stats {
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
        /// Extra signature files or directories to include.
        #[arg(long = "rules", value_name = "PATH")]
        rules: Vec<PathBuf>,
    },
    /// Check signatures: they load, compile, match their examples and not their negative examples.
    Check {
        /// Extra signature files or directories, checked together with the built-in ones.
        #[arg(value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Convert a gitleaks (or Betterleaks) config into a keysift config, saying what could
    /// not be converted.
    Import {
        /// The gitleaks config (TOML).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Write the keysift config here instead of stdout.
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
    },
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Grouped by file, for people.
    Human,
    /// One JSON document.
    Json,
    /// One JSON object per finding per line, streamed.
    Jsonl,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitLab's secret-detection report (`gl-secret-detection-report.json`).
    Gitlab,
}

/// `rules list` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table.
    Human,
    /// A JSON array.
    Json,
}

/// Colour choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

fn parse_confidence(s: &str) -> Result<Confidence, String> {
    s.parse()
}
