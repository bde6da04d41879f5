//! `keysift hook install` and the pre-push entry point the installed hook calls.
//!
//! The hooks are small shell scripts that call this keysift binary (by absolute path, falling
//! back to `keysift` on `PATH` if it has moved), so they work without the pre-commit framework;
//! `.pre-commit-hooks.yaml` at the top of the project serves teams that use it.

use std::{
    fs,
    io::{self, BufRead},
    path::Path,
};

use anyhow::{bail, Context};
use keysift::{
    scan::git::{GitMode, GitScanOptions},
    sources::{
        git::{ObjectId, Repository},
        ReadLimits,
    },
};

use super::{
    args::{HookCommand, ScanArgs},
    git_cmd::{scan, settings_key},
    project::{ConfigRequest, Root},
    Outcome,
};

/// Marks a hook file as written by keysift, so it may be replaced without `--force`.
const MARKER: &str = "# keysift-managed hook";

/// Printed when a hook blocks a commit or push.
const HOW_TO_PROCEED: &str =
    "  If it is a real secret: remove it, rotate the credential, then try again.
  If it is a false positive: add the file's path to .keysiftignore (gitignore syntax)
  or an [[allowlist]] to .keysift.toml (`keysift config init` writes a starter), or skip the check once with --no-verify.";

/// `keysift hook ...`
pub fn run(command: HookCommand, config: &ConfigRequest) -> anyhow::Result<Outcome> {
    match command {
        HookCommand::Install {
            pre_commit,
            pre_push,
            force,
            path,
        } => {
            let (pre_commit, pre_push) = if pre_commit || pre_push {
                (pre_commit, pre_push)
            } else {
                (true, true)
            };
            install(&path, pre_commit, pre_push, force)?;
            Ok(Outcome::Clean)
        }
        HookCommand::PrePush {
            remote,
            url: _,
            scan,
        } => pre_push(remote.as_deref(), *scan, config),
    }
}

fn install(path: &Path, pre_commit: bool, pre_push: bool, force: bool) -> anyhow::Result<()> {
    let repo = Repository::discover(path)?;
    let hooks_dir = repo.hooks_dir();
    fs::create_dir_all(&hooks_dir)
        .with_context(|| format!("cannot create {}", hooks_dir.display()))?;
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "keysift".into());
    let mut planned = Vec::new();
    if pre_commit {
        planned.push(("pre-commit", pre_commit_script(&exe)));
    }
    if pre_push {
        planned.push(("pre-push", pre_push_script(&exe)));
    }
    // Check every hook before writing any, so a refusal leaves nothing half-installed.
    for (name, _) in &planned {
        let file = hooks_dir.join(name);
        if !file.exists() || force {
            continue;
        }
        let ours = fs::read_to_string(&file).is_ok_and(|text| text.contains(MARKER));
        if !ours {
            bail!(
                "{} exists and was not written by keysift; use --force to replace it",
                file.display()
            );
        }
    }
    for (name, script) in planned {
        let file = hooks_dir.join(name);
        fs::write(&file, script).with_context(|| format!("cannot write {}", file.display()))?;
        make_executable(&file)?;
        eprintln!("keysift: installed {}", file.display());
    }
    Ok(())
}

/// The script that blocks a commit whose staged changes add a secret.
fn pre_commit_script(exe: &str) -> String {
    hook_script(
        exe,
        "scans staged changes for secrets",
        r#""$keysift" git --staged --quiet"#,
        "this commit adds what looks like a secret (above).",
        "",
        "the staged changes could not be fully scanned (above); commit blocked.",
    )
}

/// The script that blocks a push whose commits add a secret.
fn pre_push_script(exe: &str) -> String {
    hook_script(
        exe,
        "scans the commits being pushed for secrets",
        r#""$keysift" hook pre-push --quiet "$@""#,
        "the commits being pushed add what looks like a secret (above).",
        "  A secret already committed stays in history: rewrite those commits before pushing\n  (git rebase -i), or rotate the credential.\n",
        "the pushed commits could not be fully scanned (above); push blocked.",
    )
}

fn hook_script(
    exe: &str,
    purpose: &str,
    command: &str,
    found: &str,
    advice: &str,
    failed: &str,
) -> String {
    let exe = exe.replace('\'', r"'\''");
    let advice = format!("{HOW_TO_PROCEED}\n{advice}");
    let advice = advice.trim_end().replace('\'', r"'\''");
    format!(
        "#!/bin/sh\n\
         {MARKER}: {purpose}.\n\
         # Reinstall with `keysift hook install --force`.\n\
         keysift='{exe}'\n\
         [ -x \"$keysift\" ] || keysift=keysift\n\
         {command}\n\
         status=$?\n\
         if [ \"$status\" -eq 1 ]; then\n\
         \x20 echo 'keysift: {found}' >&2\n\
         \x20 printf '%s\\n' '{advice}' >&2\n\
         elif [ \"$status\" -ne 0 ]; then\n\
         \x20 echo 'keysift: {failed}' >&2\n\
         fi\n\
         exit \"$status\"\n"
    )
}

#[cfg(unix)]
fn make_executable(file: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut permissions = fs::metadata(file)?.permissions();
    permissions.set_mode(0o755);
    fs::set_permissions(file, permissions)
        .with_context(|| format!("cannot make {} executable", file.display()))
}

#[cfg(not(unix))]
fn make_executable(_file: &Path) -> anyhow::Result<()> {
    Ok(())
}

/// The pre-push hook: git writes one line per pushed ref on stdin. Under the pre-commit
/// framework, which keeps stdin to itself, the range comes from its `PRE_COMMIT_FROM_REF` and
/// `PRE_COMMIT_TO_REF` variables instead.
fn pre_push(
    remote: Option<&str>,
    mut scan_args: ScanArgs,
    config: &ConfigRequest,
) -> anyhow::Result<Outcome> {
    let repo = Repository::discover(Path::new("."))?;
    let project = config.load(Root::Dir(repo.work_dir()), scan_args.quiet)?;
    config.apply(project, &mut scan_args);
    let scan_args = &scan_args;
    let local = repo.local();
    let mut tips = Vec::new();
    let mut hidden = Vec::new();
    let mut new_branch = false;
    let framework = std::env::var("PRE_COMMIT_FROM_REF")
        .ok()
        .zip(std::env::var("PRE_COMMIT_TO_REF").ok());
    let remote_env = std::env::var("PRE_COMMIT_REMOTE_NAME").ok();
    let remote = remote.or(remote_env.as_deref());
    // When a push starts a history (its first commit is a root), the framework runs the hook
    // "on all files" and passes no range, only the branch: scan what it has that the remote's
    // tracking refs do not.
    let whole_branch = std::env::var("PRE_COMMIT_LOCAL_BRANCH")
        .ok()
        .filter(|_| framework.is_none() && std::env::var_os("PRE_COMMIT").is_some());
    let lines: Vec<String> = match (framework, whole_branch) {
        (Some((from, to)), _) => vec![format!("- {to} - {from}")],
        (None, Some(branch)) => {
            let tip = local
                .rev_parse_single(branch.as_str())
                .with_context(|| format!("cannot resolve the pushed branch {branch}"))?
                .detach();
            vec![format!("{branch} {tip} - {}", ObjectId::null(tip.kind()))]
        }
        (None, None) => io::stdin()
            .lock()
            .lines()
            .collect::<Result<_, _>>()
            .context("cannot read the pushed refs from stdin")?,
    };
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_local_ref, local_sha, _remote_ref, remote_sha] = fields[..] else {
            continue;
        };
        let Ok(local_id) = ObjectId::from_hex(local_sha.as_bytes()) else {
            continue;
        };
        if local_id.is_null() {
            continue; // deleting a remote branch adds nothing
        }
        tips.push(local_id);
        match ObjectId::from_hex(remote_sha.as_bytes()) {
            Ok(remote_id) if !remote_id.is_null() && local.has_object(remote_id) => {
                hidden.push(remote_id)
            }
            _ => new_branch = true,
        }
    }
    if new_branch {
        // A new branch (or a remote tip we do not have): what the remote already has is what
        // its remote-tracking refs point at.
        hidden.extend(repo.remote_tracking_tips(remote));
    }
    let options = GitScanOptions {
        mode: GitMode::Commits { tips, hidden },
        limits: ReadLimits::default(),
        run: scan_args.run_options(),
        incremental: false,
        cache_dir: None,
        settings_key: settings_key(scan_args),
    };
    scan(repo, &options, scan_args)
}
