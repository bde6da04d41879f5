//! `keysift stdin`, `keysift rules list|check` and extra signature files.

mod common;

use common::{run, run_with_stdin, Tree, GITHUB_TOKEN};

const EXTRA: &str = r#"
[[signature]]
id = "acme.deploy-key"
name = "ACME deploy key"
provider = "ACME"
category = "saas"
confidence = "high"
keywords = ["acme_dk_"]
pattern = '''\b(?P<secret>acme_dk_[a-z0-9]{16})\b'''
references = ["https://acme.example/docs/deploy-keys"]
examples = ["acme_dk_0123456789abcdef"]
negative_examples = ["acme_dk_short"]
"#;

#[test]
fn stdin_is_scanned_as_one_blob() {
    let out = run_with_stdin(
        &["stdin", "-f", "json"],
        format!("line one\nexport GH={GITHUB_TOKEN}\n").as_bytes(),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json = out.json();
    assert_eq!(json["findings"][0]["path"], "<stdin>");
    assert_eq!(json["findings"][0]["origin"], "stdin");
    assert_eq!(json["findings"][0]["line"], 2);
    let clean = run_with_stdin(&["stdin"], b"nothing to see\n");
    assert_eq!(clean.code, 0);
    assert!(clean.stdout.contains("no findings"), "{}", clean.stdout);
}

#[test]
fn rules_list_json_describes_every_signature() {
    let out = run(&["rules", "list", "--format", "json"]);
    assert_eq!(out.code, 0);
    let list = out.json();
    let list = list.as_array().unwrap();
    assert!(list.len() >= 250, "{} signatures", list.len());
    for sig in list {
        for field in [
            "id",
            "name",
            "provider",
            "category",
            "confidence",
            "keywords",
            "verifiable",
        ] {
            assert!(!sig[field].is_null(), "{field} missing in {sig}");
        }
    }
    let providers: std::collections::BTreeSet<&str> = list
        .iter()
        .map(|s| s["provider"].as_str().unwrap())
        .collect();
    assert!(providers.len() >= 120, "{} providers", providers.len());
    let human = run(&["rules", "list"]);
    assert!(human.stdout.contains("github.pat.classic"));
}

#[test]
fn rules_check_passes_for_the_builtin_library_and_extra_files() {
    let out = run(&["rules", "check"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains("all proven"), "{}", out.stdout);
    let tree = Tree::new();
    let extra = tree.write("extra.toml", EXTRA);
    let with_extra = run(&["rules", "check", extra.to_str().unwrap()]);
    assert_eq!(with_extra.code, 0, "{}", with_extra.stdout);
}

#[test]
fn rules_check_names_file_line_and_field() {
    let tree = Tree::new();
    let broken = tree.write(
        "broken.toml",
        EXTRA.replace("negative_examples", "negative_example"),
    );
    let out = run(&["rules", "check", broken.to_str().unwrap()]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("broken.toml:12"), "{}", out.stdout);
    assert!(
        out.stdout.contains("unknown field `negative_example`"),
        "{}",
        out.stdout
    );

    let wrong = tree.write(
        "wrong.toml",
        EXTRA.replace(
            "negative_examples = [\"acme_dk_short\"]",
            "negative_examples = [\"acme_dk_fedcba9876543210\"]",
        ),
    );
    let out = run(&["rules", "check", wrong.to_str().unwrap()]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout
            .contains("wrong.toml:3: signature \"acme.deploy-key\": negative_examples"),
        "{}",
        out.stdout
    );

    let duplicate = tree.write(
        "dup.toml",
        EXTRA.replace("acme.deploy-key", "github.pat.classic"),
    );
    let out = run(&["rules", "check", duplicate.to_str().unwrap()]);
    assert!(out.stdout.contains("duplicate id"), "{}", out.stdout);
}

#[test]
fn extra_rules_take_part_in_scans_and_bad_ones_stop_with_exit_two() {
    let tree = Tree::new();
    let extra = tree.write("rules/extra.toml", EXTRA);
    tree.write("src/deploy.sh", "KEY=acme_dk_0123456789abcdef\n");
    let src = tree.join("src");
    let out = run(&[
        "dir",
        src.to_str().unwrap(),
        "--rules",
        extra.to_str().unwrap(),
        "-f",
        "json",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(out.json()["findings"][0]["signature_id"], "acme.deploy-key");

    let bad = tree.write(
        "rules/bad.toml",
        EXTRA.replace("[a-z0-9]{16}", "[a-z0-9{16}"),
    );
    let out = run(&[
        "dir",
        src.to_str().unwrap(),
        "--rules",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("bad.toml:9"), "{}", out.stderr);
    assert!(out.stderr.contains("pattern"), "{}", out.stderr);
}

#[test]
fn version_names_the_engines() {
    let out = run(&["--version"]);
    assert_eq!(out.code, 0);
    let engines = if cfg!(feature = "hyperscan") {
        "engines: portable, hyperscan"
    } else {
        "engines: portable"
    };
    assert!(out.stdout.contains(engines), "{}", out.stdout);
}

#[test]
fn engine_flag_picks_an_engine_compiled_in_and_refuses_others() {
    let input = format!("export GH={GITHUB_TOKEN}\n");
    let portable = run_with_stdin(
        &["stdin", "-f", "json", "--engine", "portable"],
        input.as_bytes(),
    );
    assert_eq!(portable.code, 1, "{}", portable.stderr);
    let hyperscan = run_with_stdin(
        &["stdin", "-f", "json", "--engine", "hyperscan"],
        input.as_bytes(),
    );
    if cfg!(feature = "hyperscan") {
        assert_eq!(hyperscan.code, 1, "{}", hyperscan.stderr);
        assert_eq!(hyperscan.json()["findings"], portable.json()["findings"]);
    } else {
        assert_eq!(hyperscan.code, 2);
        assert!(
            hyperscan.stderr.contains("not compiled in"),
            "{}",
            hyperscan.stderr
        );
    }
}

#[test]
fn engine_report_lists_the_signatures_left_to_the_portable_prefilter() {
    let out = run(&["rules", "list", "--engine-report"]);
    if cfg!(feature = "hyperscan") {
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(
            out.stdout
                .contains("signatures are in the Hyperscan database"),
            "{}",
            out.stdout
        );
        // Private keys are unbounded blocks: longer than any window, so never in the database.
        assert!(out.stdout.contains("private-key.rsa"), "{}", out.stdout);
    } else {
        assert_eq!(out.code, 2);
        assert!(out.stderr.contains("not compiled in"), "{}", out.stderr);
    }
}

#[test]
fn rules_list_filters_and_rules_stats_count() {
    let listed = run(&[
        "rules",
        "list",
        "--format",
        "json",
        "--provider",
        "github",
        "--confidence",
        "high",
    ]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let list: Vec<serde_json::Value> = serde_json::from_str(&listed.stdout).unwrap();
    assert!(list.len() >= 5, "every GitHub token kind: {}", list.len());
    assert!(list
        .iter()
        .all(|s| s["provider"] == "GitHub" && s["confidence"] == "high"));

    let by_category = run(&[
        "rules",
        "list",
        "--format",
        "json",
        "--category",
        "private-key",
    ]);
    let list: Vec<serde_json::Value> = serde_json::from_str(&by_category.stdout).unwrap();
    assert!(!list.is_empty() && list.iter().all(|s| s["category"] == "private-key"));
    assert_eq!(run(&["rules", "list", "--category", "no-such"]).code, 2);

    let stats = run(&["rules", "stats", "--format", "json"]);
    assert_eq!(stats.code, 0, "{}", stats.stderr);
    let stats: serde_json::Value = serde_json::from_str(&stats.stdout).unwrap();
    let total: u64 = stats["categories"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["signatures"].as_u64().unwrap())
        .sum();
    assert_eq!(total, stats["signatures"].as_u64().unwrap());
    assert!(stats["signatures"].as_u64().unwrap() >= 900);
    assert!(stats["providers"].as_u64().unwrap() >= 400);
    let human = run(&["rules", "stats"]);
    assert!(human.stdout.contains("CATEGORY") && human.stdout.contains("with verification"));
}
