//! The command-line front end: parse arguments, resolve them into configured library objects,
//! run, and map the outcome to an exit code.
//!
//! Exit codes (the contract CI relies on):
//! * `0`: the scan completed and found nothing;
//! * `1`: findings were reported;
//! * `2`: an input could not be scanned (it is named on stderr), or a usage or configuration
//!   error. Errors take precedence over findings, so a partial scan never looks complete.

mod args;
mod config_cmd;
mod git_cmd;
mod hook_cmd;
mod image_cmd;
mod progress;
mod project;
mod rules_cmd;
mod scan_cmd;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use args::{Cli, Command};
use project::ConfigRequest;

/// Outcomes, as exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing found.
    Clean = 0,
    /// Findings reported (or, for `rules check`, problems found).
    Found = 1,
    /// Something could not be scanned, or bad usage/configuration.
    Error = 2,
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> Self {
        ExitCode::from(outcome as u8)
    }
}

/// The version string, naming the engines compiled in (the default first).
pub fn version() -> &'static str {
    if cfg!(feature = "hyperscan") {
        concat!(env!("CARGO_PKG_VERSION"), " (engines: portable, hyperscan)")
    } else {
        concat!(env!("CARGO_PKG_VERSION"), " (engines: portable)")
    }
}

/// Runs the command line and returns the exit code.
pub fn main() -> ExitCode {
    // Parsed in two steps: the matches tell flags given from defaults, so the project
    // config can fill in only what the command line left out.
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let config = ConfigRequest::new(cli.config, cli.no_config, &matches);
    let result = match cli.command {
        Command::Dir(args) => scan_cmd::dir(args, &config),
        Command::Stdin(args) => scan_cmd::stdin(args, &config),
        Command::Git(args) => git_cmd::git(args, &config),
        Command::Image(args) => image_cmd::image(args, &config),
        Command::Hook(command) => hook_cmd::run(command, &config),
        Command::Rules(command) => rules_cmd::run(command, &config),
        Command::Config(command) => config_cmd::run(command),
        Command::Completions { shell } => config_cmd::completions(shell),
        Command::Man => config_cmd::man(),
    };
    match result {
        Ok(outcome) => outcome.into(),
        Err(err) => {
            // Errors name inputs (paths, image references): keep their bytes off the terminal.
            let message = format!("{err:#}");
            eprintln!(
                "keysift: error: {}",
                keysift::report::escape_control(&message)
            );
            Outcome::Error.into()
        }
    }
}
