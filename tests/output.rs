//! Report formats on a fixed scene with directory, git and image findings: SARIF (checked by
//! Microsoft's SARIF Multitool against the SARIF 2.1.0 schema and GitHub's ingestion rules),
//! GitLab's secret-detection report, and what human output does with hostile bytes.

mod common;

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use common::{
    scene::{git_repo, Commit, Scene},
    GITHUB_TOKEN, GITHUB_TOKEN_2, GITHUB_TOKEN_3,
};
use serde_json::Value;

fn parse(run: &common::Run) -> Value {
    assert_eq!(run.code, 1, "findings expected: {}", run.stderr);
    run.json()
}

fn no_secret_in(text: &str) {
    for token in [GITHUB_TOKEN, GITHUB_TOKEN_2, GITHUB_TOKEN_3] {
        assert!(!text.contains(&token[4..]), "a secret in clear:\n{text}");
    }
}

#[test]
fn sarif_results_carry_rules_locations_fingerprints_and_provenance() {
    let scene = Scene::new();
    for (part, run) in scene.scan_each(&["--format", "sarif"]) {
        no_secret_in(&run.stdout);
        let log = parse(&run);
        assert_eq!(log["version"], "2.1.0");
        let sarif_run = &log["runs"][0];
        let driver = &sarif_run["tool"]["driver"];
        assert_eq!(driver["name"], "keysift");
        assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
        // Only the signatures with results are listed.
        let rules = driver["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 1, "{part}");
        let rule = &rules[0];
        assert_eq!(rule["id"], "github.pat.classic");
        assert_eq!(rule["name"], "GitHubPersonalAccessTokenClassic");
        assert_eq!(rule["properties"]["security-severity"], "8.9");
        assert!(rule["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("Revoke or rotate"));

        let results = sarif_run["results"].as_array().unwrap();
        for result in results {
            assert_eq!(result["ruleIndex"], 0);
            assert_eq!(result["level"], "error");
            assert!(result.get("suppressions").is_none(), "{part}: {result}");
            let fingerprint = result["partialFingerprints"]["keysiftFingerprint/v1"]
                .as_str()
                .unwrap();
            assert_eq!(fingerprint.len(), 32);
            let region = &result["locations"][0]["physicalLocation"]["region"];
            assert_eq!(
                region["endColumn"].as_u64().unwrap() - region["startColumn"].as_u64().unwrap(),
                GITHUB_TOKEN.len() as u64
            );
        }
        let uris: Vec<&str> = results
            .iter()
            .map(|r| {
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        match part {
            "dir" => assert_eq!(uris, ["project/config/app.env"]),
            "git" => {
                assert_eq!(uris, ["deploy/release.sh"]);
                let git = &results[0]["properties"]["git"];
                assert_eq!(git["commit"]["author_name"], "Alice Example");
                assert_eq!(git["commit"]["date"], "2023-11-14T22:13:20+00:00");
                assert_eq!(git["commit"]["id"].as_str().unwrap().len(), 40);
            }
            "image" => {
                assert_eq!(uris, ["config.Env%5B0%5D", "app/settings.py"]);
                let image = &results[1]["properties"]["image"];
                assert_eq!(image["image"], "shop/api:1.0");
                assert!(image["layer"]["digest"].is_string());
                assert_eq!(image["status"], "visible");
            }
            _ => unreachable!(),
        }
    }
}

#[test]
fn sarif_shows_suppressed_findings_as_suppressions_and_secrets_only_when_asked() {
    let scene = Scene::new();
    let run = scene.run(&[
        "dir",
        "project",
        "--format",
        "sarif",
        "--show-suppressed",
        "--show-secrets",
    ]);
    let log = parse(&run);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let suppressed = &results[1];
    assert_eq!(suppressed["suppressions"][0]["kind"], "inSource");
    assert!(suppressed["suppressions"][0]["justification"]
        .as_str()
        .unwrap()
        .contains("keysift:allow"));
    assert!(run.stdout.contains(GITHUB_TOKEN));
}

/// The SARIF Multitool's `validate` verb: the SARIF 2.1.0 JSON schema (JSON1xxx), the spec's
/// rules (SARIF1xxx errors, SARIF2xxx advice) and GitHub's ingestion rules (GH1xxx). It is a
/// self-contained .NET program shipped in the npm package `@microsoft/sarif-multitool`; .ci/run
/// installs it outside the repository and names it in `KEYSIFT_SARIF_MULTITOOL`.
fn multitool() -> Option<PathBuf> {
    let path = std::env::var_os("KEYSIFT_SARIF_MULTITOOL").map(PathBuf::from);
    match path.filter(|p| p.is_file()) {
        Some(path) => Some(path),
        None if std::env::var_os("KEYSIFT_REQUIRE_SARIF_MULTITOOL").is_some() => {
            panic!("KEYSIFT_SARIF_MULTITOOL does not name the SARIF Multitool (see .ci/run)")
        }
        None => {
            eprintln!("skipped: set KEYSIFT_SARIF_MULTITOOL to the SARIF Multitool (see .ci/run)");
            None
        }
    }
}

/// Every problem the Multitool reports about `log` (errors, warnings and notes alike).
fn validate(tool: &Path, log: &Path) -> Vec<String> {
    let out = log.with_extension("validation.sarif");
    let status = Command::new(tool)
        .arg("validate")
        .arg(log)
        .args(["--rule-kind", "Gh;Sarif", "--log", "ForceOverwrite", "-o"])
        .arg(&out)
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .output()
        .expect("the SARIF Multitool runs");
    assert!(
        status.status.success(),
        "the Multitool failed: {}",
        String::from_utf8_lossy(&status.stdout)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    report["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{}: {}", r["ruleId"], r["message"]))
        .collect()
}

#[test]
fn sarif_passes_the_sarif_multitool_schema_and_github_rules() {
    let Some(tool) = multitool() else { return };
    let scene = Scene::new();
    let logs = tempfile::tempdir().unwrap();
    for (part, run) in scene.scan_each(&["--format", "sarif", "--show-suppressed"]) {
        assert_eq!(run.code, 1, "{part}: {}", run.stderr);
        let log = logs.path().join(format!("{part}.sarif"));
        std::fs::write(&log, &run.stdout).unwrap();
        let mut problems = validate(&tool, &log);
        // Advice to name the tool's home page, which keysift has only once Cargo.toml names one.
        if keysift::report::sarif::information_uri().is_none() {
            problems.retain(|p| !p.contains("Warning_ProvideToolnformationUri"));
        }
        assert!(problems.is_empty(), "{part}: {problems:#?}");
    }
    // The validator does catch problems: a result without a region start.
    let broken = logs.path().join("broken.sarif");
    let mut log: Value = parse(&scene.run(&["dir", "project", "--format", "sarif"]));
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    std::fs::write(&broken, log.to_string()).unwrap();
    assert!(!validate(&tool, &broken).is_empty());
}

#[test]
fn gitlab_reports_have_the_secret_detection_schema_fields() {
    let scene = Scene::new();
    for (part, run) in scene.scan_each(&["--format", "gitlab"]) {
        no_secret_in(&run.stdout);
        let report = parse(&run);
        assert!(report["version"].as_str().unwrap().starts_with("15."));
        let scan = &report["scan"];
        assert_eq!(scan["type"], "secret_detection");
        assert_eq!(scan["status"], "success");
        for tool in [&scan["analyzer"], &scan["scanner"]] {
            assert_eq!(tool["id"], "keysift");
            assert_eq!(tool["vendor"]["name"], "keysift");
            assert!(tool["version"].is_string());
        }
        for time in [&scan["start_time"], &scan["end_time"]] {
            let time = time.as_str().unwrap();
            // GitLab's pattern: YYYY-MM-DDTHH:MM:SS, no zone.
            assert_eq!(time.len(), 19, "{time}");
            assert_eq!(&time[10..11], "T");
        }
        let vulnerabilities = report["vulnerabilities"].as_array().unwrap();
        assert!(!vulnerabilities.is_empty());
        let mut ids = std::collections::HashSet::new();
        for v in vulnerabilities {
            assert!(ids.insert(v["id"].as_str().unwrap().to_string()));
            assert_eq!(v["id"].as_str().unwrap().len(), 36);
            // Schema 15 dropped the per-vulnerability category (the scan's type says it).
            assert!(v.get("category").is_none());
            assert_eq!(v["name"], "GitHub personal access token (classic)");
            assert!(v["description"].as_str().unwrap().ends_with('.'));
            assert_eq!(v["severity"], "Critical");
            assert_eq!(v["identifiers"][0]["type"], "keysift_signature_id");
            assert_eq!(v["identifiers"][0]["value"], "github.pat.classic");
            assert!(v["identifiers"][0]["name"].is_string());
            assert!(v["location"]["file"].is_string());
            assert!(v["location"]["start_line"].as_u64().unwrap() >= 1);
            assert!(v.get("raw_source_code_extract").is_none());
            let sha = v["location"]["commit"]["sha"].as_str().unwrap();
            if part == "git" {
                assert_eq!(sha.len(), 40);
                assert_eq!(v["location"]["file"], "deploy/release.sh");
                assert_eq!(
                    v["location"]["commit"]["author"],
                    "Alice Example <dev@example.com>"
                );
            } else {
                assert_eq!(sha, "0000000");
            }
        }
    }
    let shown = scene.run(&["dir", "project", "--format", "gitlab", "--show-secrets"]);
    assert_eq!(
        parse(&shown)["vulnerabilities"][0]["raw_source_code_extract"],
        GITHUB_TOKEN
    );
}

#[test]
fn human_output_never_writes_control_characters_from_names_or_contents() {
    let scene = tempfile::tempdir().unwrap();
    let hostile = "evil\x1b]0;pwned\x07\x1b[2J\rname.env";
    let line = format!("\x1b[31mT={GITHUB_TOKEN} \x1b]8;;http://x\x07link\x1b]8;;\x07\r\x08\n");
    std::fs::write(scene.path().join(hostile), &line).unwrap();
    git_repo(
        &scene.path().join("repo"),
        &[("a\x1b[1m.env", &line)],
        &Commit {
            author: "Mallory \x1b[2J\x1b]0;title\x07",
            message: "fix\x1b[8m hidden \r\x07",
            time: 1_700_000_000,
        },
    );
    let layer = common::images::layer_tar(&[("app/\x1b[5mx.env", &line)]);
    common::images::docker_save(
        &scene.path().join("image.tar"),
        "shop/\x1b[31mapi:1",
        common::images::config(&[]),
        vec![layer],
    );
    let root = scene.path().to_str().unwrap();
    for args in [
        vec!["dir", root, "--color", "always"],
        vec!["git", &format!("{root}/repo"), "--color", "always"],
        vec!["image", &format!("{root}/image.tar"), "--color", "always"],
    ] {
        let run = common::run(&args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        // Only keysift's own colour codes (ESC [ digits ; m) may appear.
        let without_colours = regex_free_strip_sgr(&run.stdout);
        for c in without_colours.chars() {
            assert!(
                c == '\n' || !c.is_control(),
                "{args:?}: raw {c:?} in:\n{}",
                run.stdout.escape_debug()
            );
        }
        assert!(run.stdout.contains("\\u{1b}"), "{args:?}: escapes shown");
        for c in run.stderr.chars() {
            assert!(
                c == '\n' || !c.is_control(),
                "{args:?}: raw {c:?} on stderr"
            );
        }
    }
}

#[test]
fn error_messages_never_write_control_characters_from_input_names() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    let hostile = format!("{root}/gone\x1b]0;pwned\x07\x1b[2J\r.env");
    for args in [
        vec!["dir", hostile.as_str()],
        vec!["dir", root, "--baseline", hostile.as_str()],
        vec!["image", hostile.as_str()],
    ] {
        let run = common::run(&args);
        assert_eq!(run.code, 2, "{args:?}");
        assert!(run.stderr.contains("gone"), "{args:?}: {}", run.stderr);
        for c in run.stderr.chars() {
            assert!(
                c == '\n' || !c.is_control(),
                "{args:?}: raw {c:?} on stderr"
            );
        }
    }
}

/// `text` without SGR colour sequences (`ESC [ n;n m`).
fn regex_free_strip_sgr(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("\x1b[") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 2..];
        let len = tail
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(tail.len());
        if tail[len..].starts_with('m') {
            rest = &tail[len + 1..];
        } else {
            // Not a colour: keep the ESC so the caller sees it.
            out.push('\x1b');
            rest = &rest[at + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// Validates `documents` (JSON values, as text) against `docs/findings.schema.json` with the
/// Python `jsonschema` package (draft 2020-12); `definition` picks a `$defs` entry instead of
/// the whole document (JSONL lines are `FindingRecord`s). `None` when Python or the package
/// is missing here (the test then skips, unless `KEYSIFT_REQUIRE_JSONSCHEMA` is set, as in CI).
fn schema_problems(documents: &[String], definition: Option<&str>) -> Option<String> {
    const SCRIPT: &str = r##"
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
if sys.argv[2]:
    schema = {"$defs": schema["$defs"], "$ref": "#/$defs/" + sys.argv[2]}
validator = jsonschema.Draft202012Validator(schema)
problems = []
for line in sys.stdin:
    for error in validator.iter_errors(json.loads(line)):
        problems.append(f"{list(error.absolute_path)}: {error.message}")
print("\n".join(problems))
"##;
    let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/findings.schema.json");
    let mut child = match Command::new("python3")
        .args(["-c", SCRIPT, schema, definition.unwrap_or("")])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => return unavailable(&format!("python3: {e}")),
    };
    let input: String = documents
        .iter()
        .map(|d| serde_json::from_str::<Value>(d).unwrap().to_string() + "\n")
        .collect();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("No module named 'jsonschema'") {
        return unavailable("the Python package jsonschema is missing");
    }
    assert!(output.status.success(), "validator failed: {stderr}");
    Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn unavailable(why: &str) -> Option<String> {
    if std::env::var_os("KEYSIFT_REQUIRE_JSONSCHEMA").is_some() {
        panic!("{why} (see .ci/run)");
    }
    eprintln!("skipped: {why}");
    None
}

#[test]
fn json_and_jsonl_output_validate_against_the_checked_in_schema() {
    let scene = Scene::new();
    let mut documents = Vec::new();
    let mut lines = Vec::new();
    for (_, run) in scene.scan_each(&["--format", "json", "--show-suppressed"]) {
        documents.push(parse(&run).to_string());
    }
    // An error entry too: a missing input.
    documents.push(
        scene
            .run(&["dir", "project", "missing", "--format", "json"])
            .stdout,
    );
    for (_, run) in scene.scan_each(&["--format", "jsonl", "--show-suppressed"]) {
        lines.extend(run.stdout.lines().map(str::to_string));
    }
    assert!(lines.len() >= 6);
    let Some(problems) = schema_problems(&documents, None) else {
        return;
    };
    assert_eq!(problems, "", "JSON documents");
    let problems = schema_problems(&lines, Some("FindingRecord")).unwrap();
    assert_eq!(problems, "", "JSONL lines");
    // The schema has teeth: an unknown field and a wrong type are caught.
    let mut bad: Value = serde_json::from_str(&lines[0]).unwrap();
    bad["line"] = Value::from("one");
    bad["extra"] = Value::from(1);
    let problems = schema_problems(&[bad.to_string()], Some("FindingRecord")).unwrap();
    assert!(
        problems.contains("'one'") && problems.contains("extra"),
        "{problems}"
    );
}

/// Replaces what changes from run to run (times, keysift's version) with placeholders.
fn normalise(text: &str) -> String {
    let replacements = [
        (
            r#""elapsed_seconds": [0-9.e-]+"#,
            r#""elapsed_seconds": "[ELAPSED]""#,
        ),
        (
            r#""(start|end)_time": "[0-9T:-]+""#,
            r#""${1}_time": "[TIME]""#,
        ),
        (r"in [0-9.]+ s, [0-9.]+ MB/s", "in [ELAPSED]"),
        (r"scanned in [0-9.]+ s", "scanned in [ELAPSED]"),
    ];
    let mut text = text.replace(env!("CARGO_PKG_VERSION"), "[VERSION]");
    for (pattern, replacement) in replacements {
        text = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&text, replacement)
            .into_owned();
    }
    text
}

/// Compares each format's output on the scene (dir, git and image, suppressed findings shown)
/// with tests/snapshots/; `KEYSIFT_BLESS=1` rewrites the snapshots. One thread, so that
/// streamed formats (human, JSONL) list findings in a fixed order.
#[test]
fn every_format_matches_its_snapshot() {
    let scene = Scene::new();
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let bless = std::env::var_os("KEYSIFT_BLESS").is_some();
    let mut stale = Vec::new();
    for (format, file) in [
        ("human", "human.txt"),
        ("json", "json.json"),
        ("jsonl", "jsonl.jsonl"),
        ("sarif", "sarif.json"),
        ("gitlab", "gitlab.json"),
    ] {
        let mut actual = String::new();
        let args = [
            "--format",
            format,
            "--show-suppressed",
            "--color",
            "never",
            "-q",
            "-j",
            "1",
        ];
        for (part, run) in scene.scan_each(&args) {
            assert_eq!(run.code, 1, "{format} {part}: {}", run.stderr);
            actual.push_str(&format!("==> keysift {part} ... --format {format}\n"));
            actual.push_str(&normalise(&run.stdout));
        }
        let path = snapshots.join(file);
        if bless {
            std::fs::create_dir_all(&snapshots).unwrap();
            std::fs::write(&path, &actual).unwrap();
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        if expected != actual {
            let new = path.with_extension("new");
            std::fs::write(&new, &actual).unwrap();
            stale.push(format!("{} (see {})", path.display(), new.display()));
        }
    }
    assert!(
        stale.is_empty(),
        "output differs from the snapshots (KEYSIFT_BLESS=1 rewrites them if the change is meant):\n{}",
        stale.join("\n")
    );
}
