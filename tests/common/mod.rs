//! Shared fixtures for the integration tests: run the real `keysift` binary on real files.
#![allow(dead_code)]

pub mod archives;
pub mod http;
pub mod images;
pub mod scene;

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

/// A synthetic GitHub token with a valid checksum (see signatures/github.toml).
pub const GITHUB_TOKEN: &str = "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";
/// Another one.
pub const GITHUB_TOKEN_2: &str = "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";
/// A third, for tests that need three different secrets.
pub const GITHUB_TOKEN_3: &str = "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";

/// A temporary directory tree to scan.
pub struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    pub fn new() -> Self {
        Tree {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `contents` to `rel`, creating parent directories.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, contents).unwrap();
        path
    }
}

/// The result of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// `(path relative to root, line, signature id)` of every finding in a JSON report.
    pub fn findings(&self, root: &Path) -> Vec<(String, u64, String)> {
        let json = self.json();
        let mut out: Vec<_> = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let path = f["path"].as_str().unwrap();
                let rel = Path::new(path)
                    .strip_prefix(root)
                    .map(|p| p.display().to_string())
                    .unwrap_or(path.to_string());
                (
                    rel,
                    f["line"].as_u64().unwrap(),
                    f["signature_id"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        out.sort();
        out
    }
}

pub fn keysift() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keysift"));
    cmd.env_remove("NO_COLOR");
    // The Hyperscan engine caches compiled databases under the user cache directory; tests
    // share one under target/ instead of writing to the user's.
    cmd.env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"));
    cmd
}

/// The outcome of a finished `keysift` process.
pub fn finish(output: Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `keysift ARGS`.
pub fn run(args: &[&str]) -> Run {
    finish(keysift().args(args).output().expect("run keysift"))
}

/// Runs `keysift ARGS` with `input` on stdin.
pub fn run_with_stdin(args: &[&str], input: &[u8]) -> Run {
    let mut child = keysift()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keysift");
    child.stdin.take().unwrap().write_all(input).unwrap();
    finish(child.wait_with_output().unwrap())
}

/// `keysift dir ROOT --format json ARGS`.
pub fn scan_json(root: &Path, extra: &[&str]) -> Run {
    let root = root.to_str().unwrap();
    let mut args = vec!["dir", root, "--format", "json"];
    args.extend_from_slice(extra);
    run(&args)
}
