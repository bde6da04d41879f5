//! Suppressing findings: inline markers (`keysift:allow` and friends) in every source, and
//! baseline files written by one scan and honoured by the next.

mod common;

use std::fs;

use common::{
    images::{config, docker_save, layer_tar},
    run, run_with_stdin, scan_json,
    scene::{git_repo, Commit},
    Tree, GITHUB_TOKEN, GITHUB_TOKEN_2, GITHUB_TOKEN_3,
};
use serde_json::Value;

/// Every comment syntax, one file each: the marker on the secret's line.
const SAME_LINE: &[(&str, &str)] = &[
    ("hash.py", "T = '{T}'  # keysift:allow"),
    ("slashes.js", "const t = '{T}'; // keysift:allow"),
    ("block.c", "char *t = \"{T}\"; /* keysift:allow */"),
    ("dashes.sql", "SELECT '{T}'; -- keysift:allow"),
    (
        "markup.html",
        "<meta content=\"{T}\"> <!-- keysift:allow -->",
    ),
    ("semicolon.ini", "token = {T} ; keysift:allow"),
    ("rem.bat", "set T={T} & REM keysift:allow"),
    ("gitleaks.env", "T={T} # gitleaks:allow"),
    ("pragma.py", "T = '{T}'  # pragma: allowlist secret"),
];

/// The marker on the line before.
const NEXT_LINE: &[(&str, &str)] = &[
    ("next.yaml", "# keysift:allow-next-line\ntoken: {T}"),
    ("next.ts", "// keysift:allow-next-line\nconst t = '{T}';"),
    ("next.xml", "<!-- keysift:allow-next-line -->\n<t>{T}</t>"),
    (
        "pragma_next.py",
        "# pragma: allowlist nextline secret\nT = '{T}'",
    ),
];

fn fill(template: &str) -> String {
    format!("{}\n", template.replace("{T}", GITHUB_TOKEN))
}

fn summary(json: &Value, key: &str) -> u64 {
    json["summary"][key].as_u64().unwrap_or(0)
}

#[test]
fn inline_markers_in_every_comment_syntax_suppress_their_line() {
    let tree = Tree::new();
    for (name, template) in SAME_LINE.iter().chain(NEXT_LINE) {
        tree.write(name, fill(template));
    }
    // Not allowed: a marker two lines up, a same-line marker on the line before, a misspelling.
    tree.write(
        "not_allowed.env",
        format!(
            "# keysift:allow-next-line\n\nA={GITHUB_TOKEN_2}\nB=1 # keysift:allow\nC={GITHUB_TOKEN_3}\nD={GITHUB_TOKEN} # keysift: allow\n"
        ),
    );
    let scan = scan_json(tree.path(), &[]);
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    let reported = scan.findings(tree.path());
    let lines: Vec<(String, u64)> = reported.into_iter().map(|(p, l, _)| (p, l)).collect();
    assert_eq!(
        lines,
        [
            ("not_allowed.env".to_string(), 3),
            ("not_allowed.env".to_string(), 5),
            ("not_allowed.env".to_string(), 6)
        ]
    );
    let json = scan.json();
    let allowed = (SAME_LINE.len() + NEXT_LINE.len()) as u64;
    assert_eq!(summary(&json, "suppressed_inline"), allowed);
    assert_eq!(summary(&json, "findings"), 3);

    // Listed on request, each with its marker.
    let shown = scan_json(tree.path(), &["--show-suppressed"]).json();
    let findings = shown["findings"].as_array().unwrap();
    assert_eq!(findings.len() as u64, allowed + 3);
    let marker_of = |file: &str| {
        findings
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(file))
            .map(|f| f["suppression"].clone())
            .unwrap()
    };
    assert_eq!(marker_of("block.c")["kind"], "inline");
    assert_eq!(marker_of("block.c")["marker"], "keysift:allow");
    assert_eq!(marker_of("gitleaks.env")["marker"], "gitleaks:allow");
    assert_eq!(marker_of("pragma.py")["marker"], "pragma: allowlist secret");
    assert_eq!(marker_of("next.xml")["marker"], "keysift:allow-next-line");
    assert!(marker_of("not_allowed.env").is_null());

    // Human output says how many were allowed, and marks them when shown.
    let human = run(&["dir", tree.path().to_str().unwrap(), "--color", "never"]);
    assert!(
        human.stdout.contains(&format!("{allowed} allowed inline")),
        "{}",
        human.stdout
    );
    let human = run(&[
        "dir",
        tree.path().to_str().unwrap(),
        "--color",
        "never",
        "--show-suppressed",
    ]);
    assert!(human.stdout.contains("suppressed: inline gitleaks:allow"));
}

#[test]
fn inline_markers_work_on_stdin_in_git_blobs_and_in_image_layers() {
    let text = format!(
        "A={GITHUB_TOKEN} # keysift:allow\n// keysift:allow-next-line\nB={GITHUB_TOKEN_2}\nC={GITHUB_TOKEN_3}\n"
    );
    let stdin = run_with_stdin(&["stdin", "--format", "json"], text.as_bytes());
    let json = stdin.json();
    assert_eq!(json["findings"].as_array().unwrap().len(), 1);
    assert_eq!(json["findings"][0]["line"], 4);
    assert_eq!(summary(&json, "suppressed_inline"), 2);

    let tree = Tree::new();
    git_repo(
        &tree.join("repo"),
        &[("app.env", &text)],
        &Commit {
            author: "Alice Example",
            message: "add",
            time: 1_700_000_000,
        },
    );
    let git = run(&[
        "git",
        tree.join("repo").to_str().unwrap(),
        "--format",
        "json",
    ])
    .json();
    assert_eq!(git["findings"].as_array().unwrap().len(), 1);
    assert_eq!(git["findings"][0]["line"], 4);
    assert_eq!(summary(&git, "suppressed_inline"), 2);

    let image = tree.join("image.tar");
    docker_save(
        &image,
        "app:1",
        config(&[]),
        vec![layer_tar(&[("app/app.env", &text)])],
    );
    let image = run(&["image", image.to_str().unwrap(), "--format", "json"]).json();
    assert_eq!(image["findings"].as_array().unwrap().len(), 1);
    assert_eq!(image["findings"][0]["line"], 4);
    assert_eq!(summary(&image, "suppressed_inline"), 2);
}

#[test]
fn a_baseline_hides_known_findings_even_when_they_move_and_reports_new_ones() {
    let tree = Tree::new();
    let project = tree.join("project");
    fs::create_dir_all(&project).unwrap();
    let secret_file = project.join("app.env");
    fs::write(&secret_file, format!("TOKEN={GITHUB_TOKEN}\n")).unwrap();
    let baseline = tree.join(".keysift-baseline.json");
    let (project_arg, baseline_arg) = (project.to_str().unwrap(), baseline.to_str().unwrap());

    let created = run(&["dir", project_arg, "--write-baseline", baseline_arg]);
    assert_eq!(
        created.code, 0,
        "accepted findings are not reported: {}",
        created.stderr
    );
    assert!(created.stderr.contains("wrote 1 finding to the baseline"));
    let text = fs::read_to_string(&baseline).unwrap();
    assert!(
        !text.contains(&GITHUB_TOKEN[4..]),
        "no secret in the baseline:\n{text}"
    );
    let file: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(file["keysift_baseline"], 1);
    assert_eq!(file["findings"][0]["signature_id"], "github.pat.classic");
    assert_eq!(file["findings"][0]["line"], 1);

    // Lines added above the secret: still known.
    fs::write(
        &secret_file,
        format!("# settings\nNAME=shop\n\nTOKEN={GITHUB_TOKEN}\n"),
    )
    .unwrap();
    let rescan = scan_json(&project, &["--baseline", baseline_arg]);
    assert_eq!(rescan.code, 0, "{}", rescan.stdout);
    let json = rescan.json();
    assert_eq!(json["findings"].as_array().unwrap().len(), 0);
    assert_eq!(summary(&json, "baselined"), 1);

    // A new secret is reported, alone.
    fs::write(
        &secret_file,
        format!("# settings\nNAME=shop\n\nTOKEN={GITHUB_TOKEN}\nOTHER={GITHUB_TOKEN_2}\n"),
    )
    .unwrap();
    let rescan = scan_json(&project, &["--baseline", baseline_arg]);
    assert_eq!(rescan.code, 1);
    assert_eq!(
        rescan.findings(&project),
        [("app.env".to_string(), 5, "github.pat.classic".to_string())]
    );
    // The known secret in another file is a new finding too.
    fs::write(project.join("copy.env"), format!("T={GITHUB_TOKEN}\n")).unwrap();
    let rescan = scan_json(&project, &["--baseline", baseline_arg]);
    assert_eq!(rescan.findings(&project).len(), 2);

    // Shown on request, marked as baselined; and in human output's summary.
    let shown = scan_json(&project, &["--baseline", baseline_arg, "--show-suppressed"]).json();
    let kinds: Vec<Value> = shown["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["suppression"]["kind"].clone())
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "baseline").count(), 1);
    let human = run(&[
        "dir",
        project_arg,
        "--baseline",
        baseline_arg,
        "--color",
        "never",
    ]);
    assert!(
        human.stdout.contains("1 in the baseline"),
        "{}",
        human.stdout
    );
}

#[test]
fn baselines_work_for_git_history_and_images() {
    let tree = Tree::new();
    let repo = tree.join("repo");
    let commit = |time| Commit {
        author: "Alice Example",
        message: "change",
        time,
    };
    git_repo(
        &repo,
        &[("a.env", &format!("T={GITHUB_TOKEN}\n"))],
        &commit(1_700_000_000),
    );
    let baseline = tree.join("git-baseline.json");
    let (repo_arg, baseline_arg) = (repo.to_str().unwrap(), baseline.to_str().unwrap());
    assert_eq!(
        run(&["git", repo_arg, "--write-baseline", baseline_arg]).code,
        0
    );
    // A second commit moves the secret down and adds another elsewhere.
    fs::write(repo.join("a.env"), format!("# moved\nT={GITHUB_TOKEN}\n")).unwrap();
    fs::write(repo.join("b.env"), format!("U={GITHUB_TOKEN_2}\n")).unwrap();
    for args in [vec!["add", "-A"], vec!["commit", "-q", "-m", "more"]] {
        let status = std::process::Command::new("git")
            .args(&args)
            .current_dir(&repo)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "A")
            .env("GIT_AUTHOR_EMAIL", "a@example.com")
            .env("GIT_COMMITTER_NAME", "A")
            .env("GIT_COMMITTER_EMAIL", "a@example.com")
            .status()
            .unwrap();
        assert!(status.success());
    }
    let rescan = run(&[
        "git",
        repo_arg,
        "--format",
        "json",
        "--baseline",
        baseline_arg,
    ]);
    assert_eq!(rescan.code, 1);
    let json = rescan.json();
    let paths: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["b.env"]);
    // Both blobs of a.env (before and after the move) are known.
    assert_eq!(summary(&json, "baselined"), 2);

    let image = tree.join("image.tar");
    let image_baseline = tree.join("image-baseline.json");
    let build = |files: &[(&str, &str)], tag| {
        docker_save(&image, tag, config(&[]), vec![layer_tar(files)]);
    };
    let settings = format!("T={GITHUB_TOKEN}\n");
    build(&[("app/settings.env", &settings)], "app:1");
    let (image_arg, image_baseline_arg) =
        (image.to_str().unwrap(), image_baseline.to_str().unwrap());
    assert_eq!(
        run(&["image", image_arg, "--write-baseline", image_baseline_arg]).code,
        0
    );
    // The next version of the image: the same secret moved, and a new one.
    let moved = format!("\n\nT={GITHUB_TOKEN}\n");
    let new = format!("U={GITHUB_TOKEN_3}\n");
    build(
        &[("app/settings.env", &moved), ("app/new.env", &new)],
        "app:2",
    );
    let rescan = run(&[
        "image",
        image_arg,
        "--format",
        "json",
        "--baseline",
        image_baseline_arg,
    ]);
    let json = rescan.json();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{json}");
    assert_eq!(findings[0]["image"]["path"], "app/new.env");
}

#[test]
fn a_missing_or_damaged_baseline_is_an_error_naming_it() {
    let tree = Tree::new();
    tree.write("a.env", format!("T={GITHUB_TOKEN}\n"));
    let missing = tree.join("nope.json");
    let run_missing = scan_json(tree.path(), &["--baseline", missing.to_str().unwrap()]);
    assert_eq!(run_missing.code, 2);
    assert!(
        run_missing.stderr.contains("nope.json"),
        "{}",
        run_missing.stderr
    );
    let damaged = tree.write("damaged.json", "{\"keysift_baseline\": ");
    let run_damaged = scan_json(tree.path(), &["--baseline", damaged.to_str().unwrap()]);
    assert_eq!(run_damaged.code, 2);
    assert!(run_damaged.stderr.contains("damaged.json"));
    assert!(run_damaged.stderr.contains("not a keysift baseline"));
}
