//! `keysift dir`: output formats, exit codes, ignore files, deduplication and bad input.

mod common;

use std::{fs, os::unix::fs::symlink, process::Command};

use common::{archives, run, run_with_stdin, scan_json, Tree, GITHUB_TOKEN, GITHUB_TOKEN_2};

#[test]
fn clean_tree_exits_zero() {
    let tree = Tree::new();
    tree.write("src/main.rs", "fn main() { println!(\"hello\"); }\n");
    tree.write("empty.txt", "");
    let out = scan_json(tree.path(), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["findings"].as_array().unwrap().len(), 0);
    assert_eq!(out.json()["summary"]["blobs_scanned"], 2);
}

#[test]
fn findings_exit_one_with_location_and_redaction() {
    let tree = Tree::new();
    tree.write(
        "config/app.env",
        format!("# ci\nGITHUB_TOKEN={GITHUB_TOKEN}\n"),
    );
    let out = scan_json(tree.path(), &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json = out.json();
    let finding = &json["findings"][0];
    assert_eq!(finding["signature_id"], "github.pat.classic");
    assert_eq!(finding["line"], 2);
    assert_eq!(finding["column"], 14);
    assert_eq!(finding["confidence"], "high");
    assert_eq!(finding["secret"], "ghp_*****");
    assert_eq!(finding["redacted"], true);
    assert_eq!(finding["snippet"], "GITHUB_TOKEN=ghp_*****");
    assert_eq!(finding["fingerprint"].as_str().unwrap().len(), 32);
    assert!(
        !out.stdout.contains(GITHUB_TOKEN),
        "the secret must not appear in output"
    );
}

#[test]
fn show_secrets_reveals_them() {
    let tree = Tree::new();
    tree.write("a.txt", GITHUB_TOKEN);
    let out = scan_json(tree.path(), &["--show-secrets"]);
    assert_eq!(out.json()["findings"][0]["secret"], GITHUB_TOKEN);
    assert_eq!(out.json()["findings"][0]["redacted"], false);
}

#[test]
fn human_output_groups_by_file_and_summarises() {
    let tree = Tree::new();
    tree.write("b.txt", format!("x {GITHUB_TOKEN}\ny {GITHUB_TOKEN_2}\n"));
    tree.write("a.txt", format!("{GITHUB_TOKEN_2}\n"));
    let out = run(&["dir", tree.path().to_str().unwrap(), "--color", "never"]);
    assert_eq!(out.code, 1);
    let b = tree.join("b.txt").display().to_string();
    assert_eq!(
        out.stdout.matches(&b).count(),
        1,
        "one header per file:\n{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("1:3  high    github.pat.classic"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("x ghp_*****"), "{}", out.stdout);
    assert!(
        out.stdout.contains("3 findings (3 high) in 2 locations"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("2 blobs scanned"), "{}", out.stdout);
    assert!(!out.stdout.contains('\x1b'), "no colour when asked not to");
    let coloured = run(&["dir", tree.path().to_str().unwrap(), "--color", "always"]);
    assert!(coloured.stdout.contains("\x1b[1;31m"), "colour when asked");
}

#[test]
fn jsonl_streams_one_finding_per_line_to_a_file() {
    let tree = Tree::new();
    tree.write("a.txt", format!("{GITHUB_TOKEN}\n{GITHUB_TOKEN_2}\n"));
    let report = tree.join("findings.jsonl");
    let out = run(&[
        "dir",
        tree.path().to_str().unwrap(),
        "--format",
        "jsonl",
        "-o",
        report.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    let text = fs::read_to_string(&report).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines
        .iter()
        .all(|l| l["signature_id"] == "github.pat.classic"));

    // The report file is inside the scanned tree: a second scan must not scan it.
    let again = run(&[
        "dir",
        tree.path().to_str().unwrap(),
        "-f",
        "json",
        "-o",
        report.to_str().unwrap(),
    ]);
    assert_eq!(again.code, 1);
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["summary"]["blobs_scanned"], 1);
}

#[test]
fn same_content_is_scanned_once_and_reported_everywhere() {
    let tree = Tree::new();
    let content = format!("token = \"{GITHUB_TOKEN}\"\n");
    tree.write("one/settings.py", &content);
    tree.write("two/settings.py", &content);
    tree.write(
        "three/other.py",
        "print('unrelated but same length!!!!!!!!!!!!!!!!!')\n",
    );
    let out = scan_json(tree.path(), &[]);
    let json = out.json();
    assert_eq!(json["summary"]["blobs_scanned"], 2, "{json}");
    assert_eq!(json["summary"]["duplicates"], 1);
    let paths: Vec<_> = out.findings(tree.path()).into_iter().map(|f| f.0).collect();
    assert_eq!(paths, ["one/settings.py", "two/settings.py"]);
}

#[test]
fn overlapping_signatures_are_reported_once_per_secret() {
    let tree = Tree::new();
    tree.write("a.env", format!("API_TOKEN=\"{GITHUB_TOKEN}\"\n"));
    let out = scan_json(tree.path(), &["--confidence", "low"]);
    let findings = out.json()["findings"].as_array().unwrap().clone();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["signature_id"], "github.pat.classic");
}

#[test]
fn keysiftignore_is_always_honoured_gitignore_only_when_asked() {
    let tree = Tree::new();
    tree.write(".gitignore", ".env\n");
    tree.write(".keysiftignore", "fixtures/\n");
    tree.write(".env", format!("TOKEN={GITHUB_TOKEN}\n"));
    tree.write("fixtures/fake.txt", format!("{GITHUB_TOKEN_2}\n"));
    let by_default = scan_json(tree.path(), &[]).findings(tree.path());
    assert_eq!(
        by_default,
        vec![(".env".to_string(), 1, "github.pat.classic".to_string())]
    );
    let with_gitignore = scan_json(tree.path(), &["--gitignore"]);
    assert_eq!(
        with_gitignore.code,
        0,
        "{:?}",
        with_gitignore.findings(tree.path())
    );
}

#[test]
fn vcs_metadata_is_skipped() {
    let tree = Tree::new();
    tree.write(
        ".git/config",
        format!("url = https://x:{GITHUB_TOKEN}@github.com/o/r\n"),
    );
    tree.write(".hg/hgrc", format!("{GITHUB_TOKEN}\n"));
    assert_eq!(scan_json(tree.path(), &[]).code, 0);
}

#[test]
fn binary_files_are_skipped_but_utf16_text_is_scanned() {
    let tree = Tree::new();
    let mut binary = b"\x7fELF\x02\x01\x01\x00\x00".to_vec();
    binary.extend_from_slice(GITHUB_TOKEN.as_bytes());
    tree.write("app.bin", binary);
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(
        format!("$env:TOKEN = '{GITHUB_TOKEN_2}'\r\n")
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    tree.write("profile.ps1", utf16);
    let out = scan_json(tree.path(), &[]);
    assert_eq!(
        out.findings(tree.path()),
        vec![(
            "profile.ps1".to_string(),
            1,
            "github.pat.classic".to_string()
        )]
    );
    assert_eq!(out.json()["summary"]["binary_skipped"], 1);
}

#[test]
fn invalid_utf8_and_huge_single_lines_are_scanned() {
    let tree = Tree::new();
    let mut bytes = b"\xff\xfe\xfd garbage \xc3\x28 ".to_vec();
    bytes.extend_from_slice(GITHUB_TOKEN.as_bytes());
    tree.write("latin1.txt", bytes);
    let mut line = "a".repeat(5 << 20);
    line.push(' ');
    line.push_str(GITHUB_TOKEN_2);
    line.push_str(&" b".repeat(1000));
    tree.write("minified.js", line);
    let out = scan_json(tree.path(), &[]);
    let json = out.json();
    assert_eq!(out.findings(tree.path()).len(), 2, "{json}");
    for finding in json["findings"].as_array().unwrap() {
        assert!(
            finding["snippet"].as_str().unwrap().len() < 300,
            "snippets stay short"
        );
    }
}

#[test]
fn oversized_files_are_skipped_named_and_make_exit_two() {
    let tree = Tree::new();
    // A sparse 1 GiB file with no newline costs nothing to create.
    let huge = tree.join("huge.log");
    fs::File::create(&huge).unwrap().set_len(1 << 30).unwrap();
    tree.write("small.env", format!("T={GITHUB_TOKEN}\n"));
    let out = scan_json(tree.path(), &[]);
    assert_eq!(out.code, 2, "errors outrank findings");
    assert!(out.stderr.contains("huge.log"), "{}", out.stderr);
    assert!(out.stderr.contains("--max-file-size"), "{}", out.stderr);
    let json = out.json();
    assert_eq!(
        json["findings"].as_array().unwrap().len(),
        1,
        "the rest is still scanned"
    );
    assert_eq!(json["errors"][0]["kind"], "too-large");

    let limited = scan_json(tree.path(), &["--max-file-size", "10"]);
    assert_eq!(limited.json()["errors"].as_array().unwrap().len(), 2);
}

#[test]
fn fifos_are_skipped_without_blocking() {
    let tree = Tree::new();
    let fifo = tree.join("pipe");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    tree.write("a.env", format!("T={GITHUB_TOKEN}\n"));
    let out = scan_json(tree.path(), &[]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("pipe") && out.stderr.contains("FIFO"),
        "{}",
        out.stderr
    );
    assert_eq!(out.json()["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn symlinks_are_not_followed_unless_asked_and_loops_are_reported() {
    let tree = Tree::new();
    tree.write("real/secret.env", format!("T={GITHUB_TOKEN}\n"));
    symlink(tree.join("real"), tree.join("link")).unwrap();
    symlink(tree.path(), tree.join("real/loop")).unwrap();

    let plain = scan_json(tree.path(), &[]);
    assert_eq!(plain.code, 1, "{}", plain.stderr);
    assert_eq!(plain.findings(tree.path()).len(), 1);
    assert_eq!(plain.json()["summary"]["links_skipped"], 2);

    let followed = scan_json(tree.path(), &["--follow-symlinks"]);
    assert_eq!(
        followed.code, 2,
        "the loop is reported: {}",
        followed.stderr
    );
    assert!(followed.stderr.contains("loop"), "{}", followed.stderr);
    // The same file through the link is one blob found at two paths.
    assert_eq!(followed.findings(tree.path()).len(), 2);
    assert_eq!(followed.json()["summary"]["blobs_scanned"], 1);
}

#[test]
fn unreadable_files_are_reported_and_the_scan_goes_on() {
    let tree = Tree::new();
    tree.write("a.env", format!("T={GITHUB_TOKEN}\n"));
    // Reading /proc/self/mem at offset 0 fails with EIO even for root: a reliably unreadable
    // regular file, reached through a followed link.
    symlink("/proc/self/mem", tree.join("mem")).unwrap();
    let out = scan_json(tree.path(), &["--follow-symlinks"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("mem"), "{}", out.stderr);
    assert_eq!(out.json()["errors"][0]["kind"], "unreadable");
    assert_eq!(out.json()["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn missing_paths_are_errors_but_other_roots_are_scanned() {
    let tree = Tree::new();
    tree.write("a.env", format!("T={GITHUB_TOKEN}\n"));
    let missing = tree.join("does-not-exist");
    let out = run(&[
        "dir",
        missing.to_str().unwrap(),
        tree.path().to_str().unwrap(),
        "-f",
        "json",
    ]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("does-not-exist"), "{}", out.stderr);
    assert_eq!(out.json()["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn file_names_cannot_inject_terminal_escapes() {
    let tree = Tree::new();
    tree.write("evil\x1b[2Jname.env", format!("T={GITHUB_TOKEN}\n"));
    let out = run(&["dir", tree.path().to_str().unwrap(), "--color", "never"]);
    assert_eq!(out.code, 1);
    assert!(!out.stdout.contains('\x1b'), "{:?}", out.stdout);
    assert!(
        out.stdout.contains("evil\\u{1b}[2Jname.env"),
        "{}",
        out.stdout
    );
}

#[test]
fn confidence_floor_filters_findings() {
    let tree = Tree::new();
    tree.write("db.yaml", "password: Summer2024!Fun\n");
    assert_eq!(scan_json(tree.path(), &[]).code, 0);
    let low = scan_json(tree.path(), &["--confidence", "low"]);
    assert_eq!(
        low.findings(tree.path()),
        vec![("db.yaml".to_string(), 1, "generic.assignment".to_string())]
    );
    assert_eq!(low.json()["findings"][0]["confidence"], "low");
}

#[test]
fn broken_pipe_is_not_an_error() {
    let tree = Tree::new();
    for i in 0..200 {
        tree.write(
            &format!("f{i}.env"),
            format!("T={GITHUB_TOKEN}\nU={GITHUB_TOKEN_2}\n"),
        );
    }
    let mut child = common::keysift()
        .args(["dir", tree.path().to_str().unwrap(), "-f", "jsonl"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert_ne!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
}

#[test]
fn usage_errors_exit_two() {
    assert_eq!(run(&["dir"]).code, 2);
    assert_eq!(run(&["dir", ".", "--confidence", "extreme"]).code, 2);
    assert_eq!(run(&["dir", ".", "--max-file-size", "lots"]).code, 2);
    assert_eq!(run(&["frobnicate"]).code, 2);
}

#[test]
fn a_snippet_never_shows_another_secret_of_its_line_in_clear() {
    let tree = Tree::new();
    tree.write(
        "pair.env",
        format!("TOKENS=\"{GITHUB_TOKEN},{GITHUB_TOKEN_2}\"\n"),
    );
    for format in ["human", "json", "jsonl"] {
        let out = run(&["dir", tree.path().to_str().unwrap(), "--format", format]);
        assert_eq!(out.code, 1);
        assert!(
            !out.stdout.contains(GITHUB_TOKEN) && !out.stdout.contains(GITHUB_TOKEN_2),
            "{format}: {}",
            out.stdout
        );
    }
    let shown = run(&["dir", tree.path().to_str().unwrap(), "--show-secrets"]);
    assert!(shown.stdout.contains(GITHUB_TOKEN) && shown.stdout.contains(GITHUB_TOKEN_2));
}

/// An application jar: compiled classes (binary) and a properties file holding `secret`.
fn jar(secret: &str) -> Vec<u8> {
    let properties = format!("spring.datasource.url=jdbc:h2:mem\ngithub.token={secret}\n");
    archives::zip(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        ("BOOT-INF/classes/App.class", b"\xca\xfe\xba\xbe\0\0\0\x41"),
        (
            "BOOT-INF/classes/application.properties",
            properties.as_bytes(),
        ),
    ])
}

#[test]
fn a_secret_in_a_jar_is_found_with_the_member_path() {
    let tree = Tree::new();
    tree.write("target/app.jar", jar(GITHUB_TOKEN));
    tree.write("app.properties", format!("github.token={GITHUB_TOKEN}\n"));
    let out = scan_json(tree.path(), &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json = out.json();
    let inside = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().contains("app.jar"))
        .expect("a finding in the jar");
    let jar_path = tree.join("target/app.jar").display().to_string();
    assert_eq!(
        inside["path"],
        format!("{jar_path}!/BOOT-INF/classes/application.properties")
    );
    assert_eq!(
        inside["archive_members"],
        serde_json::json!(["BOOT-INF/classes/application.properties"])
    );
    assert_eq!(inside["origin"], "file");
    assert_eq!(inside["line"], 2);
    assert_eq!(json["findings"].as_array().unwrap().len(), 2);
    assert_ne!(
        json["findings"][0]["fingerprint"], json["findings"][1]["fingerprint"],
        "the member path is part of the fingerprint"
    );
    assert_eq!(json["summary"]["archives_opened"], 1);
    assert_eq!(json["summary"]["archive_members"], 3);

    let human = run(&["dir", tree.path().to_str().unwrap(), "--color", "never"]);
    assert!(
        human
            .stdout
            .contains("app.jar!/BOOT-INF/classes/application.properties"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("1 archive opened (3 members)"),
        "{}",
        human.stdout
    );
    assert!(!human.stdout.contains(GITHUB_TOKEN), "redacted");

    let off = scan_json(tree.path(), &["--no-archives"]);
    assert_eq!(off.findings(tree.path()).len(), 1, "only the loose file");
}

#[test]
fn tarballs_and_gzipped_files_are_opened() {
    let tree = Tree::new();
    let env = format!("GITHUB_TOKEN={GITHUB_TOKEN}\n");
    tree.write(
        "release.tgz",
        archives::gzip(&archives::tar(&[
            ("release/README", b"read me\n"),
            ("release/config/.env", env.as_bytes()),
        ])),
    );
    tree.write(
        "logs/deploy.log.gz",
        archives::gzip(format!("deploying with {GITHUB_TOKEN_2}\n").as_bytes()),
    );
    let out = scan_json(tree.path(), &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(
        out.findings(tree.path()),
        vec![
            (
                "logs/deploy.log.gz!/deploy.log".to_string(),
                1,
                "github.pat.classic".to_string()
            ),
            (
                "release.tgz!/release/config/.env".to_string(),
                1,
                "github.pat.classic".to_string()
            ),
        ]
    );
}

#[test]
fn a_jar_in_a_war_names_both() {
    let tree = Tree::new();
    let war = archives::zip(&[
        ("WEB-INF/web.xml", b"<web-app/>\n"),
        ("WEB-INF/lib/inner.jar", &jar(GITHUB_TOKEN)),
    ]);
    tree.write("app.war", war);
    let out = scan_json(tree.path(), &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let finding = &out.json()["findings"][0];
    assert!(
        finding["path"]
            .as_str()
            .unwrap()
            .ends_with("app.war!/WEB-INF/lib/inner.jar!/BOOT-INF/classes/application.properties"),
        "{finding}"
    );
    assert_eq!(
        finding["archive_members"],
        serde_json::json!([
            "WEB-INF/lib/inner.jar",
            "BOOT-INF/classes/application.properties"
        ])
    );
    assert_eq!(out.json()["summary"]["archives_opened"], 2);
}

#[test]
fn a_zip_bomb_is_reported_with_exit_two_and_the_rest_is_scanned() {
    let tree = Tree::new();
    tree.write("downloads/bomb.zip", archives::bomb());
    tree.write("config/.env", format!("GITHUB_TOKEN={GITHUB_TOKEN}\n"));
    let out = scan_json(tree.path(), &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(
        out.findings(tree.path()),
        vec![(
            "config/.env".to_string(),
            1,
            "github.pat.classic".to_string()
        )]
    );
    let error = &out.json()["errors"][0];
    assert!(
        error["input"]
            .as_str()
            .unwrap()
            .ends_with("downloads/bomb.zip!/spaces.txt"),
        "{error}"
    );
    assert_eq!(error["kind"], "limit");
    assert!(out.stderr.contains("compression bomb"), "{}", out.stderr);

    // A generous ratio lets it through.
    let out = scan_json(tree.path(), &["--max-archive-ratio", "100000"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
}

#[test]
fn archives_nested_past_the_depth_limit_are_reported() {
    let tree = Tree::new();
    let env = format!("GITHUB_TOKEN={GITHUB_TOKEN}\n");
    let c = archives::zip(&[("c/.env", env.as_bytes())]);
    let b = archives::zip(&[("c.zip", &c)]);
    tree.write("a.zip", archives::zip(&[("b.zip", &b)]));

    let out = scan_json(tree.path(), &[]);
    assert_eq!(out.code, 1, "depth 3 reaches it: {}", out.stderr);
    assert_eq!(
        out.findings(tree.path())[0].0,
        "a.zip!/b.zip!/c.zip!/c/.env"
    );

    let out = scan_json(tree.path(), &["--max-archive-depth", "2"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let error = &out.json()["errors"][0];
    assert!(
        error["input"]
            .as_str()
            .unwrap()
            .ends_with("a.zip!/b.zip!/c.zip"),
        "{error}"
    );
    assert!(out.stderr.contains("--max-archive-depth"), "{}", out.stderr);
}

#[test]
fn an_archive_on_stdin_is_opened() {
    let zip = archives::zip(&[("deploy/.env", format!("T={GITHUB_TOKEN}\n").as_bytes())]);
    let out = run_with_stdin(&["stdin", "--format", "json"], &zip);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(out.json()["findings"][0]["path"], "<stdin>!/deploy/.env");
    assert_eq!(out.json()["findings"][0]["origin"], "stdin");
}

/// Builds a blob of `len` filler bytes (one line per 64 bytes, or none) with `token` planted at
/// each of `offsets`.
fn blob_with_tokens(len: usize, offsets: &[usize], token: &str, newlines: bool) -> Vec<u8> {
    let filler = b"lorem ipsum dolor sit amet consectetur adipiscing elit sed do x\n";
    let mut blob: Vec<u8> = filler.iter().copied().cycle().take(len).collect();
    if !newlines {
        blob.iter_mut()
            .filter(|b| **b == b'\n')
            .for_each(|b| *b = b' ');
    }
    for &at in offsets {
        blob[at - 1] = b' ';
        blob[at..at + token.len()].copy_from_slice(token.as_bytes());
        blob[at + token.len()] = b' ';
    }
    blob
}

#[test]
fn huge_files_are_matched_in_chunks_and_seam_secrets_found_once() {
    use keysift::scan::{CHUNK_LEN, CHUNK_OVERLAP, PARALLEL_MIN};
    let len = 2 * CHUNK_LEN + 1000;
    assert!(len >= PARALLEL_MIN, "the file must take the chunked path");
    let token_len = GITHUB_TOKEN.len();
    // Across the first seam, starting exactly on the second, ending exactly on it, and across
    // the edges of the first chunk's view and of the second's.
    let offsets = [
        CHUNK_LEN - token_len / 2,
        2 * CHUNK_LEN,
        2 * CHUNK_LEN - token_len - 1,
        CHUNK_LEN + CHUNK_OVERLAP - 10,
        CHUNK_LEN - CHUNK_OVERLAP - 10,
    ];
    for newlines in [true, false] {
        let tree = Tree::new();
        let blob = blob_with_tokens(len, &offsets, GITHUB_TOKEN, newlines);
        tree.write("huge.txt", &blob);
        let out = scan_json(tree.path(), &[]);
        assert_eq!(out.code, 1, "{}", out.stderr);
        let json = out.json();
        let mut found: Vec<(u64, u64)> = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["line"].as_u64().unwrap(), f["column"].as_u64().unwrap()))
            .collect();
        found.sort();
        let mut expected: Vec<(u64, u64)> = offsets
            .iter()
            .map(|&at| {
                let before = &blob[..at];
                let line_start = before
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
                (line as u64, (at - line_start + 1) as u64)
            })
            .collect();
        expected.sort();
        assert_eq!(found, expected, "newlines: {newlines}");
    }
}
