//! `keysift git` and `keysift hook` on real repositories built in temp dirs with the `git` CLI.

mod common;

use std::{
    fs,
    path::Path,
    process::{Command, Stdio},
};

use common::{run, GITHUB_TOKEN, GITHUB_TOKEN_2, GITHUB_TOKEN_3};
use serde_json::Value;

/// A repository in a temp dir, driven by the real `git` CLI with fixed identities and dates.
struct Repo {
    dir: tempfile::TempDir,
    /// Commit timestamps advance by a minute per commit, so "earliest" is well defined.
    clock: std::cell::Cell<u64>,
}

impl Repo {
    fn new() -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().unwrap(),
            clock: std::cell::Cell::new(1_700_000_000),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let time = self.clock.get();
        self.clock.set(time + 60);
        let date = format!("{time} +0000");
        let output = git_command(dir, args)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .expect("git runs");
        assert!(
            output.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    fn git(&self, args: &[&str]) -> String {
        self.git_in(self.path(), args)
    }

    fn write(&self, rel: &str, contents: &str) {
        let path = self.path().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }

    /// Writes files and commits them with `message`, as `author` if given; returns the id.
    fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        for (rel, contents) in files {
            self.write(rel, contents);
        }
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// `keysift git REPO --format json ARGS`.
    fn scan(&self, extra: &[&str]) -> Scan {
        let mut args = vec!["git", self.path().to_str().unwrap(), "--format", "json"];
        args.extend_from_slice(extra);
        Scan::new(run(&args))
    }
}

/// The binary's directory first on PATH, so hooks find `keysift` even if they fall back to it.
fn path_with_keysift() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_keysift")).parent().unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

struct Scan {
    run: common::Run,
    json: Value,
}

impl Scan {
    fn new(run: common::Run) -> Scan {
        let json = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", run.stdout, run.stderr));
        Scan { run, json }
    }

    fn findings(&self) -> &Vec<Value> {
        self.json["findings"].as_array().unwrap()
    }

    /// `(path, line, commit id or "")` of every finding.
    fn places(&self) -> Vec<(String, u64, String)> {
        let mut places: Vec<_> = self
            .findings()
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_string(),
                    f["line"].as_u64().unwrap(),
                    f["git"]["commit"]["id"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        places.sort();
        places
    }

    fn summary(&self, field: &str) -> u64 {
        self.json["summary"][field].as_u64().unwrap_or(0)
    }
}

#[test]
fn a_secret_deleted_later_is_found_and_attributed_to_the_commit_that_added_it() {
    let repo = Repo::new();
    repo.commit(&[("README.md", "hello\n")], "initial");
    let added = repo.commit(
        &[("config/app.env", &format!("GITHUB_TOKEN={GITHUB_TOKEN}\n"))],
        "add deploy config",
    );
    fs::remove_file(repo.path().join("config/app.env")).unwrap();
    repo.commit(&[], "remove the token");

    let scan = repo.scan(&[]);
    assert_eq!(scan.run.code, 1, "{}", scan.run.stderr);
    assert_eq!(
        scan.places(),
        vec![("config/app.env".into(), 1, added.clone())]
    );
    let git = &scan.findings()[0]["git"];
    assert_eq!(git["commit"]["author_name"], "Alice Example");
    assert_eq!(git["commit"]["author_email"], "alice@example.com");
    assert_eq!(git["commit"]["summary"], "add deploy config");
    // git writes UTC as `Z`, keysift as `+00:00`: compare the local time part.
    let date = repo.git(&["show", "-s", "--format=%cI", &added]);
    assert_eq!(git["commit"]["date"].as_str().unwrap()[..19], date[..19]);
    assert!(git["commit"]["date"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(scan.findings()[0]["origin"], "git");

    // Human output names the commit and author too.
    let human = run(&["git", repo.path().to_str().unwrap(), "--color", "never"]);
    assert!(human.stdout.contains(&added[..12]), "{}", human.stdout);
    assert!(human.stdout.contains("Alice Example <alice@example.com>"));
    assert!(!human.stdout.contains(GITHUB_TOKEN), "secrets are redacted");
}

#[test]
fn secrets_on_side_branches_and_tag_only_commits_are_found() {
    let repo = Repo::new();
    repo.commit(&[("a.txt", "a\n")], "initial");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let side = repo.commit(&[("side.env", &format!("T={GITHUB_TOKEN}\n"))], "side work");
    repo.git(&["checkout", "-q", "main"]);
    // A commit reachable only through a tag: made on main, tagged, then main is reset.
    let tagged = repo.commit(
        &[("tagged.env", &format!("T={GITHUB_TOKEN_2}\n"))],
        "release",
    );
    repo.git(&["tag", "-a", "v1", "-m", "v1"]);
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);

    let scan = repo.scan(&[]);
    assert_eq!(
        scan.places(),
        vec![
            ("side.env".into(), 1, side),
            ("tagged.env".into(), 1, tagged)
        ]
    );
}

#[test]
fn unreachable_commits_are_scanned_only_when_asked() {
    let repo = Repo::new();
    repo.commit(&[("a.txt", "a\n")], "initial");
    repo.commit(&[("oops.env", &format!("T={GITHUB_TOKEN}\n"))], "oops");
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    repo.git(&["reflog", "expire", "--expire-unreachable=now", "--all"]);

    let scan = repo.scan(&[]);
    assert_eq!(scan.run.code, 0, "{}", scan.run.stdout);
    assert!(scan.findings().is_empty());

    let scan = repo.scan(&["--include-unreachable"]);
    assert_eq!(scan.run.code, 1);
    let finding = &scan.findings()[0];
    // No ref reaches it, so there is no commit to blame, only the blob.
    assert!(finding["git"]["commit"].is_null());
    assert!(finding["path"].as_str().unwrap().starts_with("<blob "));
}

#[test]
fn the_same_blob_at_two_paths_is_scanned_once_and_both_paths_are_reported() {
    let repo = Repo::new();
    let text = format!("token: {GITHUB_TOKEN}\n");
    let commit = repo.commit(&[("a/creds.yml", &text), ("b/creds.yml", &text)], "twice");

    let scan = repo.scan(&[]);
    assert_eq!(scan.summary("blobs_scanned"), 1);
    assert_eq!(scan.findings().len(), 1);
    let git = &scan.findings()[0]["git"];
    assert_eq!(git["commit"]["id"], commit.as_str());
    assert_eq!(git["path"], "a/creds.yml");
    assert_eq!(git["other_paths"], serde_json::json!(["b/creds.yml"]));
}

#[test]
fn renames_and_merges_do_not_reintroduce_a_secret() {
    let repo = Repo::new();
    repo.commit(&[("base.txt", "base\n")], "initial");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let introduced = repo.commit(&[("old.env", &format!("T={GITHUB_TOKEN}\n"))], "add");
    repo.git(&["mv", "old.env", "new.env"]);
    repo.commit(&[], "rename");
    repo.git(&["checkout", "-q", "main"]);
    repo.commit(&[("main.txt", "main\n")], "main work");
    repo.git(&["merge", "-q", "--no-ff", "-m", "merge feature", "feature"]);

    let scan = repo.scan(&[]);
    assert_eq!(scan.findings().len(), 1, "{:?}", scan.places());
    let git = &scan.findings()[0]["git"];
    assert_eq!(git["commit"]["id"], introduced.as_str());
    assert_eq!(git["path"], "old.env");
    assert_eq!(git["other_paths"], serde_json::json!(["new.env"]));
    assert!(
        git.get("other_commits").is_none(),
        "neither the rename nor the merge introduced it"
    );
}

#[test]
fn a_blob_added_twice_names_the_earliest_commit_and_counts_the_other() {
    let repo = Repo::new();
    let text = format!("T={GITHUB_TOKEN}\n");
    let first = repo.commit(&[("x.env", &text)], "add");
    fs::remove_file(repo.path().join("x.env")).unwrap();
    repo.commit(&[], "remove");
    repo.commit(&[("x.env", &text)], "add again");

    let scan = repo.scan(&[]);
    let git = &scan.findings()[0]["git"];
    assert_eq!(git["commit"]["id"], first.as_str());
    assert_eq!(git["other_commits"], 1);
}

#[test]
fn staged_scans_report_added_lines_only() {
    let repo = Repo::new();
    repo.commit(
        &[("settings.py", &format!("OLD = '{GITHUB_TOKEN}'\n"))],
        "existing secret",
    );
    repo.write(
        "settings.py",
        &format!("OLD = '{GITHUB_TOKEN}'\nNEW = '{GITHUB_TOKEN_2}'\n"),
    );
    repo.write("unstaged.env", &format!("T={GITHUB_TOKEN_3}\n"));
    repo.git(&["add", "settings.py"]);

    let scan = repo.scan(&["--staged"]);
    assert_eq!(scan.run.code, 1, "{}", scan.run.stderr);
    assert_eq!(
        scan.places(),
        vec![("settings.py".into(), 2, String::new())]
    );
    assert_eq!(scan.findings()[0]["git"]["staged"], true);

    // Nothing staged: clean, and fast paths do not trip over an empty diff.
    repo.git(&["commit", "-q", "-m", "commit it"]);
    let scan = repo.scan(&["--staged"]);
    assert_eq!(scan.run.code, 0, "{}", scan.run.stdout);
}

#[test]
fn staged_scans_work_before_the_first_commit_and_in_deep_directories() {
    let repo = Repo::new();
    repo.write("deep/er/still/key.txt", &format!("{GITHUB_TOKEN}\n"));
    repo.git(&["add", "-A"]);
    let scan = repo.scan(&["--staged"]);
    assert_eq!(
        scan.places(),
        vec![("deep/er/still/key.txt".into(), 1, String::new())]
    );

    // After a commit, a change deep in one directory is found while untouched siblings are
    // skipped through the index's cache tree.
    repo.git(&["commit", "-q", "-m", "first"]);
    repo.write("deep/er/other.txt", &format!("x\n{GITHUB_TOKEN_2}\n"));
    repo.write("shallow.txt", "nothing\n");
    repo.git(&["add", "-A"]);
    let scan = repo.scan(&["--staged"]);
    assert_eq!(
        scan.places(),
        vec![("deep/er/other.txt".into(), 2, String::new())]
    );
}

#[test]
fn range_scans_report_what_the_range_introduces() {
    let repo = Repo::new();
    let base = repo.commit(&[("old.env", &format!("T={GITHUB_TOKEN}\n"))], "before");
    let first = repo.commit(
        &[(
            "old.env",
            &format!("T={GITHUB_TOKEN}\nU={GITHUB_TOKEN_2}\n"),
        )],
        "extend",
    );
    let second = repo.commit(&[("new.env", &format!("V={GITHUB_TOKEN_3}\n"))], "new file");

    let scan = repo.scan(&["--range", &format!("{base}..HEAD")]);
    assert_eq!(
        scan.places(),
        vec![
            ("new.env".into(), 1, second.clone()),
            ("old.env".into(), 2, first.clone())
        ]
    );
    let scan = repo.scan(&["--since", &first]);
    assert_eq!(scan.places(), vec![("new.env".into(), 1, second)]);
    let scan = repo.scan(&["--range", "HEAD..HEAD"]);
    assert_eq!(scan.run.code, 0);

    let bad = run(&[
        "git",
        repo.path().to_str().unwrap(),
        "--range",
        "nope..HEAD",
    ]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("nope"), "{}", bad.stderr);
}

#[test]
fn incremental_rescans_scan_only_new_blobs_and_a_new_signature_set_starts_over() {
    let repo = Repo::new();
    repo.commit(&[("a.txt", "alpha\n"), ("b.txt", "beta\n")], "one");
    repo.commit(&[("c.txt", "gamma\n")], "two");

    let first = repo.scan(&["--incremental"]);
    assert_eq!(first.run.code, 0);
    assert_eq!(first.summary("blobs_scanned"), 3);

    repo.commit(&[("d.env", &format!("T={GITHUB_TOKEN}\n"))], "three");
    let second = repo.scan(&["--incremental"]);
    assert_eq!(second.summary("blobs_scanned"), 1);
    assert_eq!(second.summary("already_scanned"), 3);
    assert_eq!(second.run.code, 1);

    // A blob with findings is never recorded as done: the next run reports it again.
    let third = repo.scan(&["--incremental"]);
    assert_eq!(third.summary("blobs_scanned"), 1);
    assert_eq!(third.run.code, 1);

    // Another signature set (an extra rule file) is another cache.
    let extra = repo.path().join("../extra-rules.toml");
    fs::write(
        &extra,
        r#"[[signature]]
id = "test.extra"
name = "Extra"
provider = "Test"
category = "generic"
confidence = "high"
keywords = ["zzqx_"]
pattern = '''(?P<secret>zzqx_[0-9a-f]{16})'''
references = ["https://example.com"]
examples = ["zzqx_0123456789abcdef"]
negative_examples = ["zzqx_0123"]
"#,
    )
    .unwrap();
    let fourth = repo.scan(&["--incremental", "--rules", extra.to_str().unwrap()]);
    assert_eq!(fourth.summary("blobs_scanned"), 4);
    let _ = fs::remove_file(extra);

    // The cache holds blob ids, never secrets.
    for entry in fs::read_dir(repo.path().join(".git/keysift")).unwrap() {
        let bytes = fs::read(entry.unwrap().path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("ghp_"));
    }
}

#[test]
fn a_damaged_cache_is_discarded_with_a_warning() {
    let repo = Repo::new();
    repo.commit(&[("a.txt", "alpha\n")], "one");
    let cache = repo.path().join("cache");
    let cache_arg = cache.to_str().unwrap();
    repo.scan(&["--incremental", "--cache", cache_arg]);
    let file = fs::read_dir(&cache)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(&file, bytes).unwrap();

    let scan = repo.scan(&["--incremental", "--cache", cache_arg]);
    assert_eq!(scan.summary("blobs_scanned"), 1, "nothing trusted");
    assert!(
        scan.run.stderr.contains("cache discarded"),
        "{}",
        scan.run.stderr
    );
    assert_eq!(
        scan.run.code, 0,
        "a discarded cache is a warning, not an error"
    );
}

#[test]
fn a_corrupt_object_is_named_and_the_rest_is_still_scanned() {
    let repo = Repo::new();
    repo.commit(
        &[
            ("good.env", &format!("T={GITHUB_TOKEN}\n")),
            ("bad.txt", "this blob will be corrupted\n"),
        ],
        "two files",
    );
    let bad = repo.git(&["rev-parse", "HEAD:bad.txt"]);
    let object = repo
        .path()
        .join(".git/objects")
        .join(&bad[..2])
        .join(&bad[2..]);
    let mut permissions = fs::metadata(&object).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    fs::set_permissions(&object, permissions).unwrap();
    fs::write(&object, b"not zlib at all").unwrap();

    let scan = repo.scan(&[]);
    assert_eq!(scan.run.code, 2, "errors outrank findings");
    assert!(scan.run.stderr.contains(&bad), "{}", scan.run.stderr);
    assert_eq!(scan.places().len(), 1, "the good blob is still reported");
}

#[test]
fn bare_repositories_shallow_clones_and_empty_repositories() {
    let repo = Repo::new();
    repo.commit(&[("a.env", &format!("T={GITHUB_TOKEN}\n"))], "one");
    repo.commit(&[("b.env", &format!("T={GITHUB_TOKEN_2}\n"))], "two");
    let source = format!("file://{}", repo.path().display());
    let parent = tempfile::tempdir().unwrap();

    let bare = parent.path().join("bare.git");
    repo.git_in(
        parent.path(),
        &["clone", "-q", "--bare", &source, bare.to_str().unwrap()],
    );
    let scan = Scan::new(run(&["git", bare.to_str().unwrap(), "--format", "json"]));
    assert_eq!(scan.findings().len(), 2);
    let staged = run(&["git", bare.to_str().unwrap(), "--staged"]);
    assert_eq!(staged.code, 2);
    assert!(staged.stderr.contains("bare"), "{}", staged.stderr);

    let shallow = parent.path().join("shallow");
    repo.git_in(
        parent.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &source,
            shallow.to_str().unwrap(),
        ],
    );
    let scan = Scan::new(run(&["git", shallow.to_str().unwrap(), "--format", "json"]));
    assert_eq!(scan.run.code, 1);
    assert!(scan.run.stderr.contains("shallow"), "{}", scan.run.stderr);
    // Both files exist in the one commit there is; it introduced them as far as we can tell.
    assert_eq!(scan.findings().len(), 2);

    let empty = Repo::new();
    let scan = empty.scan(&[]);
    assert_eq!(scan.run.code, 0);
    assert!(
        scan.run.stderr.contains("no commits"),
        "{}",
        scan.run.stderr
    );
}

#[test]
fn submodules_are_not_entered_and_lfs_pointers_are_noted() {
    let inner = Repo::new();
    inner.commit(&[("inner.env", &format!("T={GITHUB_TOKEN}\n"))], "inner");
    let outer = Repo::new();
    outer.commit(&[("README", "outer\n")], "outer");
    outer.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        &format!("file://{}", inner.path().display()),
        "vendor/inner",
    ]);
    outer.git(&["commit", "-q", "-m", "add submodule"]);
    outer.commit(
        &[(
            "big.bin",
            "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n",
        )],
        "lfs",
    );

    let scan = outer.scan(&[]);
    assert_eq!(
        scan.run.code, 0,
        "the submodule's secret is in another repository"
    );
    assert!(
        scan.run.stderr.contains("vendor/inner"),
        "{}",
        scan.run.stderr
    );
    assert!(scan.run.stderr.contains("LFS"), "{}", scan.run.stderr);
}

#[test]
fn worktrees_scan_their_own_index() {
    let repo = Repo::new();
    repo.commit(&[("a.txt", "a\n")], "one");
    let parent = tempfile::tempdir().unwrap();
    let worktree = parent.path().join("wt");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "wt",
        worktree.to_str().unwrap(),
    ]);
    fs::write(worktree.join("w.env"), format!("T={GITHUB_TOKEN}\n")).unwrap();
    repo.git_in(&worktree, &["add", "w.env"]);

    let scan = Scan::new(run(&[
        "git",
        worktree.to_str().unwrap(),
        "--staged",
        "--format",
        "json",
    ]));
    assert_eq!(scan.places(), vec![("w.env".into(), 1, String::new())]);
    // The main work tree has nothing staged.
    assert_eq!(repo.scan(&["--staged"]).run.code, 0);
}

#[test]
fn a_directory_that_is_not_a_repository_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let result = run(&["git", dir.path().to_str().unwrap()]);
    assert_eq!(result.code, 2);
    assert!(
        result.stderr.contains("not a git repository"),
        "{}",
        result.stderr
    );
}

#[test]
fn dir_scans_skip_the_git_directory() {
    let repo = Repo::new();
    repo.commit(&[("a.txt", "a\n")], "one");
    repo.git(&[
        "remote",
        "add",
        "origin",
        &format!("https://x-access-token:{GITHUB_TOKEN}@github.com/o/r.git"),
    ]);
    let result = run(&["dir", repo.path().to_str().unwrap()]);
    assert_eq!(result.code, 0, "{}", result.stdout);
}

#[test]
fn keysiftignore_in_the_work_tree_applies_to_git_scans() {
    let repo = Repo::new();
    repo.commit(
        &[
            ("fixtures/fake.env", &format!("T={GITHUB_TOKEN}\n")),
            (".keysiftignore", "fixtures/\n"),
            ("real.env", &format!("T={GITHUB_TOKEN_2}\n")),
        ],
        "one",
    );
    let scan = repo.scan(&[]);
    assert_eq!(scan.places().len(), 1);
    assert_eq!(scan.places()[0].0, "real.env");
}

#[test]
fn the_pre_commit_hook_blocks_a_commit_that_adds_a_secret() {
    let repo = Repo::new();
    repo.commit(&[("a.txt", "a\n")], "one");
    let hooks = repo.path().join(".git/hooks");
    fs::create_dir_all(&hooks).unwrap();
    fs::write(hooks.join("pre-commit"), "#!/bin/sh\nexit 0\n").unwrap();

    // A foreign hook is not replaced without --force.
    let refused = run(&["hook", "install", repo.path().to_str().unwrap()]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("--force"), "{}", refused.stderr);
    let installed = run(&["hook", "install", "--force", repo.path().to_str().unwrap()]);
    assert_eq!(installed.code, 0, "{}", installed.stderr);
    // Re-installing over our own hook needs no --force.
    assert_eq!(
        run(&["hook", "install", repo.path().to_str().unwrap()]).code,
        0
    );

    repo.write("leak.env", &format!("T={GITHUB_TOKEN}\n"));
    repo.git(&["add", "leak.env"]);
    let commit = git_output(repo.path(), &["commit", "-m", "leak"]);
    assert!(!commit.status.success(), "the hook must block the commit");
    // git sends a hook's stdout to stderr.
    let stderr = String::from_utf8_lossy(&commit.stderr);
    assert!(stderr.contains("false positive"), "{stderr}");
    assert!(stderr.contains("leak.env"), "{stderr}");

    // A clean change goes through.
    repo.git(&["reset", "-q", "leak.env"]);
    repo.write("fine.txt", "nothing to see\n");
    repo.git(&["add", "fine.txt"]);
    let commit = git_output(repo.path(), &["commit", "-q", "-m", "fine"]);
    assert!(
        commit.status.success(),
        "{}",
        String::from_utf8_lossy(&commit.stderr)
    );
}

#[test]
fn the_pre_push_hook_blocks_pushing_commits_that_add_a_secret() {
    let remote_dir = tempfile::tempdir().unwrap();
    let remote = remote_dir.path().join("remote.git");
    let repo = Repo::new();
    repo.git_in(
        remote_dir.path(),
        &["init", "-q", "--bare", remote.to_str().unwrap()],
    );
    repo.commit(&[("a.txt", "a\n")], "one");
    repo.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    repo.git(&["push", "-q", "origin", "main"]);
    assert_eq!(
        run(&[
            "hook",
            "install",
            "--pre-push",
            repo.path().to_str().unwrap()
        ])
        .code,
        0
    );

    repo.commit(&[("leak.env", &format!("T={GITHUB_TOKEN}\n"))], "leak");
    let push = git_output(repo.path(), &["push", "origin", "main"]);
    assert!(!push.status.success(), "the hook must block the push");
    assert!(String::from_utf8_lossy(&push.stderr).contains("keysift"));

    // A new branch with only clean commits on top of what the remote has goes through.
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.commit(&[("b.txt", "b\n")], "clean");
    let push = git_output(repo.path(), &["push", "-q", "origin", "topic"]);
    assert!(
        push.status.success(),
        "{}",
        String::from_utf8_lossy(&push.stderr)
    );
}

/// Runs git with hooks enabled, returning the raw output (the caller checks the status).
fn git_output(dir: &Path, args: &[&str]) -> std::process::Output {
    git_command(dir, args)
        .stdin(Stdio::null())
        .output()
        .expect("git runs")
}

/// `git ARGS` in `dir` with a fixed identity, no user or system configuration, and keysift on
/// PATH.
fn git_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("git");
    command
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Alice Example")
        .env("GIT_AUTHOR_EMAIL", "alice@example.com")
        .env("GIT_COMMITTER_NAME", "Alice Example")
        .env("GIT_COMMITTER_EMAIL", "alice@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("PATH", path_with_keysift());
    command
}

#[test]
fn sha256_repositories_are_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repo {
        dir,
        clock: std::cell::Cell::new(1_700_000_000),
    };
    repo.git(&["init", "-q", "--object-format=sha256", "-b", "main"]);
    let commit = repo.commit(&[("a.env", &format!("T={GITHUB_TOKEN}\n"))], "one");
    assert_eq!(commit.len(), 64);
    let scan = repo.scan(&[]);
    assert_eq!(scan.places(), vec![("a.env".into(), 1, commit)]);
    assert!(scan.run.stderr.contains("sha256"), "{}", scan.run.stderr);
}

#[test]
fn packed_histories_read_whole_packs_and_find_what_loose_objects_give() {
    let repo = Repo::new();
    // Enough blobs that whole packs are read in delta-tree order, then versions of one file
    // that `git gc` stores as deltas.
    let files: Vec<(String, String)> = (0..300)
        .map(|i| {
            (
                format!("src/f{i}.txt"),
                format!("line {i} of a plain file\n").repeat(30),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    repo.commit(&refs, "many files");
    let base = "config value = 1\n".repeat(200);
    let added = repo.commit(
        &[("app/config.txt", &format!("{base}token = {GITHUB_TOKEN}\n"))],
        "add token",
    );
    repo.commit(&[("app/config.txt", &base)], "remove token");

    let loose = repo.scan(&[]);
    repo.git(&["gc", "-q", "--aggressive"]);
    assert!(
        fs::read_dir(repo.path().join(".git/objects/pack"))
            .unwrap()
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "pack")),
        "objects are packed"
    );
    let packed = repo.scan(&[]);
    assert_eq!(packed.places(), loose.places());
    assert_eq!(packed.places(), vec![("app/config.txt".into(), 201, added)]);
    assert_eq!(
        packed.summary("blobs_scanned"),
        loose.summary("blobs_scanned")
    );
    assert_eq!(
        packed.summary("bytes_scanned"),
        loose.summary("bytes_scanned")
    );

    // Incremental scans record what the pack walk scanned.
    repo.scan(&["--incremental"]);
    let again = repo.scan(&["--incremental"]);
    assert_eq!(
        again.summary("blobs_scanned"),
        1,
        "only the blob with a finding"
    );
}
