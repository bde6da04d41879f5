//! The project config (`.keysift.toml`, `--config`, `config init`), gitleaks configs
//! (`rules import`, `--config .gitleaks.toml`), and the files generated from the CLI definition
//! (`completions`, `man`), through the real binary.

mod common;

use std::{fs, path::Path, process::Command};

use common::{finish, keysift, run, run_with_stdin, scan_json, Run, Tree, GITHUB_TOKEN};

/// A test token for the config's own signature: the pattern below, nothing real.
const ACME_KEY: &str = "acme_dk_Q7w2E9r4T1y6U3i8O5p0A2s7D4f9G1h6";
const ACME_SIGNATURE: &str = r#"
[[signature]]
id = "acme.deploy-key"
name = "ACME deploy key"
provider = "ACME"
category = "credentials"
confidence = "high"
keywords = ["acme_dk_"]
pattern = '''\b(?P<secret>acme_dk_[A-Za-z0-9]{32})\b'''
"#;

fn env_line(secret: &str) -> String {
    format!("TOKEN=\"{secret}\"\n")
}

/// `(relative path, signature)` of each finding.
fn found(run: &Run, root: &Path) -> Vec<(String, String)> {
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    run.findings(root)
        .into_iter()
        .map(|(path, _, signature)| (path, signature))
        .collect()
}

#[test]
fn the_config_at_the_scanned_directory_applies() {
    let tree = Tree::new();
    tree.write("src/app.env", env_line(GITHUB_TOKEN));
    tree.write("tests/fixtures/app.env", env_line(GITHUB_TOKEN));
    tree.write("deploy/key.txt", format!("key: {ACME_KEY}\n"));
    tree.write("src/key.txt", format!("key: {ACME_KEY}\n"));
    let without = scan_json(tree.path(), &[]);
    assert_eq!(without.findings(tree.path()).len(), 2, "{}", without.stdout);

    tree.write(
        ".keysift.toml",
        format!(
            "[[allowlist]]\npaths = ['tests/fixtures/**']\n\n\
             [[restrict]]\nsignatures = ['acme.deploy-key']\npaths = ['deploy/**']\n{ACME_SIGNATURE}"
        ),
    );
    let with = scan_json(tree.path(), &[]);
    assert_eq!(with.code, 1);
    assert_eq!(
        found(&with, tree.path()),
        [
            ("deploy/key.txt".to_string(), "acme.deploy-key".to_string()),
            ("src/app.env".to_string(), "github.pat.classic".to_string()),
        ]
    );
    assert_eq!(with.json()["summary"]["findings"], 2);

    let ignored = scan_json(tree.path(), &["--no-config"]);
    assert_eq!(found(&ignored, tree.path()).len(), 2);
}

#[test]
fn allowlisting_every_finding_exits_zero() {
    let tree = Tree::new();
    tree.write("a.env", env_line(GITHUB_TOKEN));
    tree.write(
        ".keysift.toml",
        "[[allowlist]]\nsignatures = ['github.pat.classic']\nlines = ['^TOKEN=']\n",
    );
    let run = scan_json(tree.path(), &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["summary"]["findings"], 0);
}

#[test]
fn flags_override_the_config() {
    let tree = Tree::new();
    // A generic assignment is a medium-confidence finding: hidden by a `high` floor.
    tree.write("a.env", env_line(GITHUB_TOKEN));
    tree.write("b.conf", "db_password = \"Xk9#mQ2$vL7pR4wZ\"\n");
    tree.write(
        ".keysift.toml",
        "confidence = 'high'\n[limits]\nmax_file_size = 10\n",
    );
    let from_config = scan_json(tree.path(), &[]);
    // Both files are over 10 bytes: skipped with an error each.
    assert_eq!(from_config.code, 2, "{}", from_config.stderr);
    assert!(
        from_config.stderr.contains("a.env"),
        "{}",
        from_config.stderr
    );

    let overridden = scan_json(tree.path(), &["--max-file-size", "1M"]);
    assert_eq!(
        found(&overridden, tree.path()).len(),
        1,
        "{}",
        overridden.stdout
    );
    let low = scan_json(
        tree.path(),
        &["--max-file-size", "1M", "--confidence", "low"],
    );
    assert!(found(&low, tree.path()).len() >= 2, "{}", low.stdout);
}

#[test]
fn disabled_signatures_are_not_reported() {
    let tree = Tree::new();
    tree.write("a.env", env_line(GITHUB_TOKEN));
    tree.write(
        ".keysift.toml",
        "disable = ['github.pat.classic', 'generic.assignment']\n",
    );
    let run = scan_json(tree.path(), &[]);
    assert_eq!(found(&run, tree.path()), []);
}

#[test]
fn config_errors_name_the_file_and_line() {
    let tree = Tree::new();
    tree.write("a.env", env_line(GITHUB_TOKEN));
    let config = tree.write(
        ".keysift.toml",
        "confidence = 'high'\n\n[[allowlist]]\npath = ['x']\n",
    );
    let run = scan_json(tree.path(), &[]);
    assert_eq!(run.code, 2);
    let expected = format!("{}:4:", config.display());
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
    assert!(
        run.stderr.contains("unknown field `path`"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());

    tree.write(".keysift.toml", "disable = ['no.such-id']\n");
    let run = scan_json(tree.path(), &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(".keysift.toml:1:"), "{}", run.stderr);

    let missing = scan_json(tree.path(), &["--config", "/nonexistent/k.toml"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("/nonexistent/k.toml"),
        "{}",
        missing.stderr
    );
}

#[test]
fn config_given_with_a_flag_and_paths_relative_to_it() {
    let tree = Tree::new();
    tree.write("code/a.env", env_line(GITHUB_TOKEN));
    tree.write("code/keep.env", env_line(GITHUB_TOKEN));
    tree.write("conf/extra/acme.toml", ACME_SIGNATURE);
    tree.write("code/k.txt", format!("{ACME_KEY}\n"));
    let config = tree.write(
        "conf/keysift.toml",
        "rules = ['extra']\n[[allowlist]]\npath_regexes = ['a\\.env$']\n",
    );
    let code = tree.join("code");
    let run = scan_json(&code, &["--config", config.to_str().unwrap()]);
    assert_eq!(
        found(&run, &code),
        [
            ("k.txt".to_string(), "acme.deploy-key".to_string()),
            ("keep.env".to_string(), "github.pat.classic".to_string()),
        ]
    );
}

#[test]
fn several_scanned_directories_with_different_configs_are_an_error() {
    let tree = Tree::new();
    tree.write("one/.keysift.toml", "confidence = 'high'\n");
    tree.write("two/.keysift.toml", "confidence = 'low'\n");
    let run = run(&[
        "dir",
        tree.join("one").to_str().unwrap(),
        tree.join("two").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--config"), "{}", run.stderr);
}

#[test]
fn stdin_uses_the_config_of_the_current_directory() {
    let tree = Tree::new();
    tree.write(
        ".keysift.toml",
        "[[allowlist]]\nstopwords = ['gonsmmmq1']\n",
    );
    let input = env_line(GITHUB_TOKEN);
    let elsewhere = run_with_stdin(&["stdin", "--format", "json"], input.as_bytes());
    assert_eq!(elsewhere.code, 1, "{}", elsewhere.stderr);
    let output = keysift()
        .args(["stdin", "--format", "json"])
        .current_dir(tree.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(input.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    let here = finish(output);
    assert_eq!(here.code, 0, "{}{}", here.stdout, here.stderr);
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "T")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "T")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

#[test]
fn git_scans_use_the_config_at_the_top_of_the_work_tree() {
    let tree = Tree::new();
    git(tree.path(), &["init", "-q", "-b", "main"]);
    tree.write("docs/example.md", env_line(GITHUB_TOKEN));
    tree.write(".keysift.toml", "[[allowlist]]\npaths = ['docs/**']\n");
    git(tree.path(), &["add", "."]);
    // Scanning from a subdirectory still finds the config at the top.
    let sub = tree.write("docs/sub/.keep", "");
    let staged = run(&["git", sub.parent().unwrap().to_str().unwrap(), "--staged"]);
    assert_eq!(staged.code, 0, "{}{}", staged.stdout, staged.stderr);
    git(tree.path(), &["commit", "-q", "-m", "docs"]);
    let history = run(&["git", tree.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(history.code, 0, "{}{}", history.stdout, history.stderr);
    let ignored = run(&["git", tree.path().to_str().unwrap(), "--no-config"]);
    assert_eq!(ignored.code, 1, "{}", ignored.stderr);
}

#[test]
fn config_init_writes_a_starter_that_works_and_refuses_to_overwrite() {
    let tree = Tree::new();
    let dir = tree.path().to_str().unwrap();
    let first = run(&["config", "init", dir]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let written = fs::read_to_string(tree.join(".keysift.toml")).unwrap();
    assert!(written.contains("[[allowlist]]"));
    let again = run(&["config", "init", dir]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    fs::write(tree.join(".keysift.toml"), "# mine\n").unwrap();
    assert_eq!(run(&["config", "init", dir, "--force"]).code, 0);
    assert_eq!(
        fs::read_to_string(tree.join(".keysift.toml")).unwrap(),
        written
    );

    // As written, it changes nothing.
    tree.write("a.env", env_line(GITHUB_TOKEN));
    tree.write("tests/fixtures/b.env", env_line(GITHUB_TOKEN));
    let scan = scan_json(tree.path(), &[]);
    assert_eq!(found(&scan, tree.path()).len(), 2, "{}", scan.stderr);
    // Its allowlist example, uncommented, takes effect.
    let uncommented = written.replace("# [[allowlist]]", "[[allowlist]]").replace(
        "# paths = [\"tests/fixtures/**\"",
        "paths = [\"tests/fixtures/**\"",
    );
    fs::write(tree.join(".keysift.toml"), uncommented).unwrap();
    let scan = scan_json(tree.path(), &[]);
    assert_eq!(
        found(&scan, tree.path()),
        [("a.env".to_string(), "github.pat.classic".to_string())],
        "{}",
        scan.stderr
    );
}

const GITLEAKS: &str = r#"
title = "Team rules"

[extend]
useDefault = true

[[rules]]
id = "acme-deploy-key"
description = "ACME deploy key"
regex = '''(acme_dk_[A-Za-z0-9]{32})'''
keywords = ["acme_dk_"]
entropy = 3.5

[[rules]]
id = "greek-words"
regex = '''\p{Greek}{6}'''

[[allowlists]]
paths = ['''(^|/)fixtures/''']
"#;

#[test]
fn rules_import_converts_and_reports_what_it_left_out() {
    let tree = Tree::new();
    let source = tree.write(".gitleaks.toml", GITLEAKS);
    let out = tree.join("converted.toml");
    let run = run(&[
        "rules",
        "import",
        source.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("useDefault"), "{}", run.stderr);
    assert!(
        run.stderr.contains("\"greek-words\": not converted"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("imported 1 signature"),
        "{}",
        run.stderr
    );
    let converted = fs::read_to_string(&out).unwrap();
    assert!(
        converted.contains("id = \"gitleaks.acme-deploy-key\""),
        "{converted}"
    );

    // The converted file is a working config, and so is the gitleaks file itself.
    tree.write("src/k.txt", format!("{ACME_KEY}\n"));
    tree.write("fixtures/k.txt", format!("{ACME_KEY}\n"));
    let expected = [(
        "src/k.txt".to_string(),
        "gitleaks.acme-deploy-key".to_string(),
    )];
    for config in [&out, &source] {
        let scan = scan_json(tree.path(), &["--config", config.to_str().unwrap()]);
        assert_eq!(found(&scan, tree.path()), expected, "{}", scan.stderr);
    }
}

#[test]
fn importing_a_broken_file_names_its_line() {
    let tree = Tree::new();
    let source = tree.write("g.toml", "[[rules]]\nid = 'x'\nregex = '''a\n");
    let run = run(&["rules", "import", source.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    // The string left open on line 3 runs to the end of the file.
    assert!(run.stderr.contains("g.toml:4: invalid"), "{}", run.stderr);
}

#[test]
fn completions_generate_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = run(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        for subcommand in ["dir", "git", "image", "rules", "completions"] {
            assert!(
                run.stdout.contains(subcommand),
                "{shell} lacks {subcommand}"
            );
        }
        assert!(run.stdout.contains("max-file-size"), "{shell}");
    }
    let bash = run(&["completions", "bash"]);
    let tree = Tree::new();
    let script = tree.write("keysift.bash", &bash.stdout);
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    assert_eq!(run(&["completions", "tcsh"]).code, 2);
}

#[test]
fn the_man_page_is_roff_with_every_subcommand() {
    let run = run(&["man"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let first_macro = run
        .stdout
        .lines()
        .find(|l| !l.starts_with(".ie") && !l.starts_with(".el"))
        .unwrap();
    assert!(first_macro.starts_with(".TH keysift 1"), "{first_macro}");
    for section in [
        "KEYSIFT DIR",
        "KEYSIFT GIT",
        "KEYSIFT RULES IMPORT",
        "KEYSIFT CONFIG INIT",
    ] {
        assert!(run.stdout.contains(section), "{section}");
    }
    assert!(run.stdout.contains("max\\-file\\-size"));
}

/// The example in the README's "Project configuration" section is a valid config.
#[test]
fn the_readme_example_config_parses() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = &readme[readme.find("## Project configuration").unwrap()..];
    let start = section.find("```toml\n").unwrap() + "```toml\n".len();
    let example = &section[start..start + section[start..].find("```").unwrap()];
    let config =
        keysift::config::ProjectConfig::parse(Path::new("README.md"), "README.md", example)
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.limits().max_archive_depth, Some(2));
    assert!(!config.allowlist().is_empty());
}

#[test]
fn rules_list_shows_what_the_config_adds_and_disables() {
    let tree = Tree::new();
    let config = tree.write(
        "k.toml",
        format!("disable = ['github.pat.classic']\n{ACME_SIGNATURE}"),
    );
    let run = run(&[
        "rules",
        "list",
        "--format",
        "json",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ids: Vec<String> = run
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.iter().any(|id| id == "acme.deploy-key"));
    assert!(!ids.iter().any(|id| id == "github.pat.classic"));
    assert!(ids.len() > 900, "the built-in library is still listed");
}

/// `[verify] endpoints` sends a provider's checks elsewhere, as `--verify-endpoint` does, and
/// the flag wins over the file.
#[test]
fn verification_endpoints_come_from_the_config() {
    use common::http::{Response, Server};
    let live = |name: &'static str| {
        Server::start(move |_, _| Response::json(200, serde_json::json!({ "login": name })))
    };
    let (from_file, from_flag) = (live("file"), live("flag"));
    let tree = Tree::new();
    tree.write("a.env", env_line(GITHUB_TOKEN));
    tree.write(
        ".keysift.toml",
        format!(
            "[verify]\nendpoints = {{ github = \"{}\" }}\n",
            from_file.url()
        ),
    );
    let identity = |run: &Run| run.json()["findings"][0]["verification"]["identity"].clone();
    let run = scan_json(tree.path(), &["--verify"]);
    assert_eq!(identity(&run), "file", "{}", run.stderr);
    let flag = format!("github={}", from_flag.url());
    let run = scan_json(tree.path(), &["--verify", "--verify-endpoint", &flag]);
    assert_eq!(identity(&run), "flag", "{}", run.stderr);
    assert_eq!(from_file.requests().len(), 1);
}
