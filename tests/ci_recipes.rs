//! The CI recipes (action.yml, the GitHub workflow, the GitLab job, the pre-commit hooks):
//! their YAML parses (with PyYAML, as the CI systems' own parsers would) and has the shape
//! each system expects, and the shell they run works against a real repository with the real
//! binary.

mod common;

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use common::{Tree, GITHUB_TOKEN, GITHUB_TOKEN_2};
use serde_json::Value;

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// `rel`, parsed as YAML, as JSON.
fn yaml(rel: &str) -> Value {
    let output = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(repo_file(rel))
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{rel} does not parse: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn the_yaml_files_parse_and_have_their_shapes() {
    let action = yaml("action.yml");
    assert_eq!(action["runs"]["using"], "composite");
    let steps = action["runs"]["steps"].as_array().unwrap();
    assert!(steps
        .iter()
        .all(|s| s["shell"] == "bash" || s["uses"].is_string()));
    assert!(steps.iter().any(|s| s["uses"]
        .as_str()
        .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif"))));
    assert_eq!(action["inputs"]["format"]["default"], "sarif");

    let workflow = yaml(".github/workflows/keysift.yml");
    let job_steps = workflow["jobs"]["secrets"]["steps"].as_array().unwrap();
    assert!(job_steps.iter().any(|s| s["uses"] == "./"));
    assert_eq!(workflow["permissions"]["security-events"], "write");
    let ci_config = job_steps
        .iter()
        .find_map(|s| s["with"]["config"].as_str())
        .unwrap();
    assert!(repo_file(ci_config).is_file(), "{ci_config}");

    let gitlab = yaml("docs/ci/gitlab-ci.yml");
    let job = &gitlab["keysift"];
    assert_eq!(
        job["artifacts"]["reports"]["secret_detection"],
        "gl-secret-detection-report.json"
    );
    assert!(job["script"][0]
        .as_str()
        .unwrap()
        .contains("--format gitlab"));

    let hooks = yaml(".pre-commit-hooks.yaml");
    let ids: Vec<&str> = hooks
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["keysift", "keysift-pre-push"]);
    for hook in hooks.as_array().unwrap() {
        assert!(hook["entry"].as_str().unwrap().starts_with("keysift "));
    }
}

/// The CI config this repository's own workflow uses loads.
#[test]
fn the_repository_ci_config_loads() {
    let tree = Tree::new();
    tree.write("a.txt", "nothing here\n");
    let config = repo_file(".github/keysift-ci.toml");
    let run = common::scan_json(tree.path(), &["--config", config.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "T")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "T")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// What a run of the action's scan step left: keysift's exit code (the step output) and the
/// step's own exit status.
struct StepRun {
    exit_code_output: String,
    status: i32,
    report: Option<String>,
}

/// Runs the action's `Scan` step as GitHub would: its `run` script under bash, its `env` as
/// given, keysift installed where the install step puts it.
fn run_scan_step(repo: &Path, env: &[(&str, &str)]) -> StepRun {
    let action = yaml("action.yml");
    let step = action["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "scan")
        .unwrap()
        .clone();
    let runner_temp = tempfile::tempdir().unwrap();
    let bin = runner_temp.path().join("keysift/bin");
    fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_keysift"), bin.join("keysift")).unwrap();
    let output_file = runner_temp.path().join("github_output");
    fs::write(&output_file, "").unwrap();
    let mut command = Command::new("bash");
    command
        .args(["-e", "-c", step["run"].as_str().unwrap()])
        .current_dir(repo)
        .env("RUNNER_TEMP", runner_temp.path())
        .env("GITHUB_OUTPUT", &output_file)
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"));
    // Every variable the step's `env` declares, empty unless the test sets it.
    for name in step["env"].as_object().unwrap().keys() {
        command.env(name, "");
    }
    command.envs(env.iter().copied());
    let status = command.status().unwrap().code().unwrap_or(-1);
    let outputs = fs::read_to_string(&output_file).unwrap();
    StepRun {
        exit_code_output: outputs.trim().to_string(),
        status,
        report: fs::read_to_string(repo.join("keysift.sarif")).ok(),
    }
}

#[test]
fn the_action_scans_what_a_push_adds_and_reports_the_exit_code() {
    let tree = Tree::new();
    let repo = tree.path();
    git(repo, &["init", "-q", "-b", "main"]);
    tree.write("old.env", format!("TOKEN={GITHUB_TOKEN}\n"));
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "an old secret"]);
    let base = git(repo, &["rev-parse", "HEAD"]);
    tree.write("readme.txt", "nothing secret\n");
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "clean change"]);
    // keysift.sarif is written in the checkout; keep it out of the history scan.
    tree.write(".git/info/exclude", "keysift.sarif\n");

    // The step passes `format` through; JSON here keeps the test to what this build has.
    let range = run_scan_step(repo, &[("BASE_SHA", &base), ("KEYSIFT_FORMAT", "json")]);
    assert_eq!(range.exit_code_output, "exit-code=0");
    assert_eq!(range.status, 0);
    assert!(range.report.is_some());

    // No base (a new branch: all zeros): the whole history, and the old secret is found.
    let zeros = "0".repeat(40);
    let history = run_scan_step(repo, &[("BASE_SHA", &zeros), ("KEYSIFT_FORMAT", "json")]);
    assert_eq!(history.exit_code_output, "exit-code=1");
    assert_eq!(history.status, 0, "the failing comes from a later step");
    let report: Value = serde_json::from_str(&history.report.unwrap()).unwrap();
    assert_eq!(report["findings"][0]["signature_id"], "github.pat.classic");

    // A config given to the action applies.
    let config = tree.write("ci.toml", "[[allowlist]]\npaths = ['old.env']\n");
    let allowed = run_scan_step(
        repo,
        &[
            ("KEYSIFT_FORMAT", "json"),
            ("KEYSIFT_CONFIG", config.to_str().unwrap()),
        ],
    );
    assert_eq!(allowed.exit_code_output, "exit-code=0");

    // Bad usage fails the step itself.
    let broken = run_scan_step(
        repo,
        &[
            ("KEYSIFT_ARGS", "git --no-such-flag"),
            ("KEYSIFT_FORMAT", "json"),
        ],
    );
    assert_eq!(broken.exit_code_output, "exit-code=2");
    assert_eq!(broken.status, 2);
}

/// The GitLab job's script, run with a merge request's variables: a GitLab report of the
/// merge request's commits only (the base already had a secret of its own).
#[test]
fn the_gitlab_job_scans_a_merge_request() {
    let tree = Tree::new();
    let repo = tree.path();
    git(repo, &["init", "-q", "-b", "main"]);
    tree.write("a.txt", format!("OLD={GITHUB_TOKEN_2}\n"));
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "base"]);
    let base = git(repo, &["rev-parse", "HEAD"]);
    tree.write("b.env", format!("TOKEN={GITHUB_TOKEN}\n"));
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "adds a secret"]);

    let job = &yaml("docs/ci/gitlab-ci.yml")["keysift"];
    let script = job["script"][0].as_str().unwrap();
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_keysift"), bin.path().join("keysift")).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap()
    );
    let output = Command::new("bash")
        .args(["-c", script])
        .current_dir(repo)
        .env("PATH", path)
        .env("CI_MERGE_REQUEST_DIFF_BASE_SHA", &base)
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let report = fs::read_to_string(repo.join("gl-secret-detection-report.json")).unwrap();
    let report: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["scan"]["type"], "secret_detection", "{report}");
    let vulnerabilities = report["vulnerabilities"].as_array().unwrap();
    assert_eq!(
        vulnerabilities.len(),
        1,
        "only the merge request's secret: {report}"
    );
    assert_eq!(vulnerabilities[0]["location"]["file"], "b.env", "{report}");
}

/// Regression: when a push starts a new history (its first commit is a root), the pre-commit
/// framework runs the `keysift-pre-push` hook "on all files" with the branch but no range;
/// the hook then scans the branch, rather than nothing.
#[test]
fn the_framework_pre_push_hook_scans_a_branch_pushed_from_its_root_commit() {
    let tree = Tree::new();
    let repo = tree.path();
    git(repo, &["init", "-q", "-b", "main"]);
    tree.write("app.env", format!("TOKEN={GITHUB_TOKEN}\n"));
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "first"]);
    let hook = |env: &[(&str, &str)]| {
        let output = common::keysift()
            .args(["hook", "pre-push", "origin", "/nowhere.git"])
            .current_dir(repo)
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        common::finish(output)
    };
    let framework = hook(&[
        ("PRE_COMMIT", "1"),
        ("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main"),
    ]);
    assert_eq!(
        framework.code, 1,
        "{}{}",
        framework.stdout, framework.stderr
    );
    assert!(framework.stdout.contains("app.env"), "{}", framework.stdout);
    // Git's own hook with nothing on stdin: nothing pushed, nothing scanned.
    assert_eq!(hook(&[]).code, 0);
}
