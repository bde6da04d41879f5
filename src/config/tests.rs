use std::{path::Path, sync::Arc};

use super::*;
use crate::{
    findings::{BlobFinding, Finding, Snippet},
    rules::RuleSet,
    sources::Origin,
};

fn parse(text: &str) -> Result<ProjectConfig, ConfigError> {
    ProjectConfig::parse(
        Path::new("/repo/.keysift.toml"),
        "/repo/.keysift.toml",
        text,
    )
}

fn finding(signature: &str, path: &str, secret: &str, line: &str) -> Finding {
    let (before, after) = line.split_once(secret).unwrap_or((line, ""));
    let found = BlobFinding {
        signature_id: signature.into(),
        signature_name: signature.into(),
        confidence: Confidence::High,
        entropy: 4.0,
        secret: secret.into(),
        offset: 0,
        line: 1,
        column: 1,
        snippet: Snippet {
            before: before.into(),
            secret: secret.into(),
            after: after.into(),
            ..Snippet::default()
        },
        also_matched: Vec::new(),
        captures: Vec::new(),
        allowed: None,
    };
    let origin = Origin::File { path: path.into() };
    Finding::new(Arc::new(found), Arc::new(origin))
}

#[test]
fn the_starter_file_parses_and_sets_nothing() {
    let config = parse(STARTER).unwrap();
    assert_eq!(config.confidence(), None);
    assert_eq!(config.limits(), Limits::default());
    assert!(config.allowlist().is_empty());
    assert!(config.endpoints().is_empty());
}

#[test]
fn the_starter_file_uncommented_takes_effect() {
    // Every `# key = value` line and `# [[table]]` header, uncommented.
    let uncommented: String = STARTER
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if rest.contains(" = ") || rest.starts_with('[') => rest,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let uncommented = uncommented.replace("rules = [\"ci/keysift-signatures.toml\"]", "");
    let config = parse(&uncommented).unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
    assert_eq!(config.confidence(), Some(Confidence::Medium));
    assert_eq!(config.limits().max_file_size, Some(100 << 20));
    assert_eq!(config.limits().max_archive_depth, Some(3));
    assert_eq!(config.verify_timeout(), Some(15));
    assert_eq!(
        config.endpoints()["github"],
        "https://ghe.example.com/api/v3"
    );
    let rules = config
        .add_rules(RuleSet::builder().scan_view(true))
        .unwrap()
        .build()
        .unwrap();
    assert!(rules.find("acme.deploy-key").is_some());
    assert!(rules.find("generic.cli-flag").is_none());
    let allow = config.allowlist();
    let fixture = finding(
        "x.y",
        "/repo/tests/fixtures/a.env",
        "s3cr3tvalue",
        "k=s3cr3tvalue",
    );
    assert!(allow.suppresses(&fixture));
    let dummy = finding("x.y", "/repo/src/a.env", "myDummyValue", "k=myDummyValue");
    assert!(allow.suppresses(&dummy));
    let real = finding("x.y", "/repo/src/a.env", "s3cr3tvalue", "k=s3cr3tvalue");
    assert!(!allow.suppresses(&real));
    // [[restrict]]: the deploy key only under deploy/.
    let key = "acme_dk_0123456789abcdefghijABCDEFGHIJ01";
    assert!(allow.suppresses(&finding("acme.deploy-key", "/repo/src/k", key, key)));
    assert!(!allow.suppresses(&finding("acme.deploy-key", "/repo/deploy/k", key, key)));
}

#[test]
fn unknown_keys_name_file_and_line() {
    let err = parse("confidence = 'low'\n\n[limits]\nmax_file_sise = '1M'\n").unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("/repo/.keysift.toml:4:"), "{message}");
    assert!(message.contains("max_file_sise"), "{message}");
    let err = parse("[[allowlist]]\npaths = ['x']\nsecret = ['y']\n").unwrap_err();
    assert!(
        err.to_string().starts_with("/repo/.keysift.toml:3:"),
        "{err}"
    );
}

#[test]
fn bad_values_name_their_line() {
    let err = parse("[[allowlist]]\nsecrets = ['ok', '(unclosed']\n").unwrap_err();
    assert!(
        err.to_string().starts_with("/repo/.keysift.toml:2:"),
        "{err}"
    );
    let err = parse("[limits]\nmax_file_size = '12 parsecs'\n").unwrap_err();
    assert!(err.to_string().contains(":2:"), "{err}");
    let err = parse("[[allowlist]]\nsignatures = ['a.b']\n").unwrap_err();
    assert!(err.to_string().contains("at least one of"), "{err}");
}

#[test]
fn unknown_disabled_ids_are_errors_with_their_line() {
    let config = parse("\ndisable = ['no.such-signature']\n").unwrap();
    let err = config
        .add_rules(RuleSet::builder().scan_view(true))
        .unwrap()
        .build()
        .unwrap_err();
    let message = err.to_string();
    assert!(message.contains(".keysift.toml:2:"), "{message}");
    assert!(message.contains("no signature has this id"), "{message}");
}

#[test]
fn condition_all_needs_every_criterion() {
    let config =
        parse("[[allowlist]]\ncondition = 'all'\npaths = ['docs/**']\nstopwords = ['example']\n")
            .unwrap();
    let allow = config.allowlist();
    let both = finding(
        "a.b",
        "/repo/docs/x.md",
        "my-example-key",
        "k=my-example-key",
    );
    let path_only = finding("a.b", "/repo/docs/x.md", "realvalue1", "k=realvalue1");
    let word_only = finding("a.b", "/repo/src/x", "my-example-key", "k=my-example-key");
    assert!(allow.suppresses(&both));
    assert!(!allow.suppresses(&path_only));
    assert!(!allow.suppresses(&word_only));
}

#[test]
fn per_signature_allowlists_leave_other_signatures_alone() {
    let config = parse("[[allowlist]]\nsignatures = ['a.b']\nlines = ['nosec']\n").unwrap();
    let allow = config.allowlist();
    assert!(allow.suppresses(&finding("a.b", "x", "v4lue", "k=v4lue # nosec")));
    assert!(!allow.suppresses(&finding("c.d", "x", "v4lue", "k=v4lue # nosec")));
}

#[test]
fn relative_paths_are_matched_from_the_config_directory() {
    // A scan started elsewhere reports absolute paths; patterns are still written relative.
    let config = parse("[[allowlist]]\npaths = ['src/*.env']\n").unwrap();
    assert!(config
        .allowlist()
        .suppresses(&finding("a.b", "/repo/src/app.env", "v", "v")));
    assert!(!config
        .allowlist()
        .suppresses(&finding("a.b", "/elsewhere/src/app.env", "v", "v")));
}

const GITLEAKS: &str = r#"
title = "Team rules"

[extend]
useDefault = true
disabledRules = ["generic-api-key"]

[[rules]]
id = "acme-token"
description = "ACME token"
regex = '''(?i)acme[_-]?token\s{0,3}=\s{0,3}['"]?([a-z0-9]{24})'''
secretGroup = 1
entropy = 3.0
keywords = ["ACME"]
tags = ["acme", "token"]

[[rules.allowlists]]
regexTarget = "line"
regexes = ['''#\s*fake''']

[[rules]]
id = "loose"
regex = '''tok=([a-z]+)'''
keywords = ["zz"]
path = '''\.cfg$'''

[[rules]]
id = "unicode-words"
regex = '''name=\p{L}{8}'''

[[rules]]
id = "pem-files"
path = '''\.pem$'''

[allowlist]
description = "global"
paths = ['''(^|/)testdata/''']
stopwords = ["sample"]

[[allowlists]]
targetRules = ["acme-token", "some-default-rule"]
condition = "AND"
regexes = ['''^0{4}''']
paths = ['''fixtures''']

[[allowlists]]
commits = ["abc123"]
condition = "AND"
regexes = ['''x''']
"#;

#[test]
fn a_gitleaks_file_converts_with_notes() {
    let converted = gitleaks::convert(GITLEAKS).unwrap();
    assert_eq!(converted.signatures, 2, "{}", converted.toml);
    let notes = converted.notes.join("\n");
    for expected in [
        "useDefault",
        "disabledRules",
        "\"unicode-words\": not converted",
        "\"pem-files\": not converted: it matches file paths only",
        "\"loose\": a keyword is shorter than 3 bytes",
        "some-default-rule",
        "`commits` cannot be matched",
    ] {
        assert!(
            notes.contains(expected),
            "missing {expected:?} in:\n{notes}"
        );
    }
    let config = ProjectConfig::parse(Path::new("/repo/.gitleaks.toml"), "g", &converted.toml)
        .unwrap_or_else(|e| panic!("{e}\n{}", converted.toml));
    let rules = config
        .add_rules(RuleSet::builder().builtin(false))
        .unwrap()
        .build()
        .unwrap_or_else(|e| panic!("{e}\n{}", converted.toml));
    let (_, acme) = rules.find("gitleaks.acme-token").unwrap();
    assert_eq!(acme.keywords(), ["acme"]);
    assert!(acme.keywords_ignore_case());
    assert_eq!(acme.min_entropy(), Some(3.0));
    let (_, loose) = rules.find("gitleaks.loose").unwrap();
    assert!(loose.is_keywordless());

    let allow = config.allowlist();
    let secret = "abcdefghijklmnopqrstuvwx";
    let line = format!("acme_token = {secret}");
    assert!(!allow.suppresses(&finding("gitleaks.acme-token", "/repo/a", secret, &line)));
    let faked = format!("{line} # fake");
    assert!(allow.suppresses(&finding("gitleaks.acme-token", "/repo/a", secret, &faked)));
    assert!(!allow.suppresses(&finding("gitleaks.loose", "/repo/a.cfg", "b", "# fake")));
    // Global paths and stopwords.
    assert!(allow.suppresses(&finding("gitleaks.loose", "/repo/testdata/a", "b", "b")));
    assert!(allow.suppresses(&finding("x.y", "/repo/a", "mysamplekey", "mysamplekey")));
    // targetRules + AND: both the path and the regex.
    let zeros = "0000abcdefghijklmnopqrst";
    assert!(allow.suppresses(&finding(
        "gitleaks.acme-token",
        "/repo/fixtures/a",
        zeros,
        zeros
    )));
    assert!(!allow.suppresses(&finding("gitleaks.acme-token", "/repo/src/a", zeros, zeros)));
    assert!(!allow.suppresses(&finding(
        "gitleaks.loose",
        "/repo/fixtures/a.cfg",
        zeros,
        zeros
    )));
    // The rule's `path`: reported only in .cfg files.
    assert!(allow.suppresses(&finding("gitleaks.loose", "/repo/x.txt", "abc", "tok=abc")));
    assert!(!allow.suppresses(&finding("gitleaks.loose", "/repo/x.cfg", "abc", "tok=abc")));
    // The AND allowlist with commits was not converted: "x" alone suppresses nothing.
    assert!(!allow.suppresses(&finding("gitleaks.loose", "/repo/x.cfg", "xyz", "tok=xyz")));
}

#[test]
fn a_gitleaks_file_that_is_not_toml_names_its_line() {
    let err = gitleaks::convert("[[rules]]\nid = 'a'\nregex = \n")
        .unwrap_err()
        .at("g.toml", "[[rules]]\nid = 'a'\nregex = \n");
    assert!(err.to_string().starts_with("g.toml:3:"), "{err}");
}
