//! `keysift config init`, `keysift completions` and `keysift man`: files made for the user
//! rather than scans.

use std::{
    fs,
    io::{self, Write},
};

use anyhow::Context;
use clap::CommandFactory;
use keysift::config::{FILE_NAME, STARTER};

use super::{
    args::{Cli, ConfigCommand},
    Outcome,
};

/// Runs a `config` subcommand.
pub fn run(command: ConfigCommand) -> anyhow::Result<Outcome> {
    match command {
        ConfigCommand::Init { dir, force } => {
            let path = dir.join(FILE_NAME);
            if path.exists() && !force {
                anyhow::bail!(
                    "{} exists; use --force to replace it with the starter file",
                    path.display()
                );
            }
            fs::write(&path, STARTER)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("keysift: wrote {}", path.display());
            Ok(Outcome::Clean)
        }
    }
}

/// `keysift completions SHELL`: the completion script on stdout.
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<Outcome> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "keysift", &mut script);
    write_stdout(&script)
}

/// `keysift man`: the manual page (roff) on stdout: the command, then the options of each
/// subcommand (`keysift rules import`, ...) in a section of its own.
pub fn man() -> anyhow::Result<Outcome> {
    let command = Cli::command();
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut page)?;
    let mut stack: Vec<(String, clap::Command)> = command
        .get_subcommands()
        .map(|s| (format!("keysift {}", s.get_name()), s.clone()))
        .collect();
    stack.reverse();
    while let Some((name, sub)) = stack.pop() {
        if sub.is_hide_set() {
            continue;
        }
        let mut children: Vec<_> = sub.get_subcommands().cloned().collect();
        children.reverse();
        if children.is_empty() {
            let mut options = Vec::new();
            let man = clap_mangen::Man::new(sub.clone().bin_name(&name));
            man.render_synopsis_section(&mut options)?;
            man.render_options_section(&mut options)?;
            // One page: each subcommand's sections become one section named after it.
            let options = String::from_utf8_lossy(&options)
                .replace(
                    ".SH SYNOPSIS\n",
                    &format!(".SH \"{}\"\n", name.to_uppercase()),
                )
                .replace(".SH OPTIONS\n", ".SS Options\n");
            page.extend_from_slice(options.as_bytes());
        }
        for child in children {
            stack.push((format!("{name} {}", child.get_name()), child));
        }
    }
    write_stdout(&page)
}

/// Writes `bytes` to stdout; a closed pipe (`keysift man | head`) is not an error.
fn write_stdout(bytes: &[u8]) -> anyhow::Result<Outcome> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(Outcome::Clean),
    }
}
