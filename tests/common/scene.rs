//! One fixed scene with findings of every origin kind: a directory tree, a git repository and
//! a container image, all in one temp dir. The output-format tests and snapshots scan it.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use super::{
    finish,
    images::{config, docker_save, layer_tar},
    keysift, Run, GITHUB_TOKEN, GITHUB_TOKEN_2, GITHUB_TOKEN_3,
};

/// Who made a commit, and what it says.
pub struct Commit<'a> {
    pub author: &'a str,
    pub message: &'a str,
    /// Seconds since the epoch (author and committer date, UTC).
    pub time: u64,
}

/// Commits `files` to a new repository at `dir` with the real `git` CLI, no user or system
/// configuration.
pub fn git_repo(dir: &Path, files: &[(&str, &str)], commit: &Commit) {
    fs::create_dir_all(dir).unwrap();
    let date = format!("{} +0000", commit.time);
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", commit.author)
            .env("GIT_AUTHOR_EMAIL", "dev@example.com")
            .env("GIT_COMMITTER_NAME", "CI")
            .env("GIT_COMMITTER_EMAIL", "ci@example.com")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .expect("git runs");
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    git(&["init", "-q", "-b", "main"]);
    for (path, contents) in files {
        let path = dir.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", commit.message]);
}

/// The scene: `project/` (a tree), `repo/` (a git repository), `shop.tar` (a `docker save`
/// image). Each has reported findings and one allowed inline.
pub struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    pub fn new() -> Scene {
        let scene = Scene {
            dir: tempfile::tempdir().unwrap(),
        };
        let project = scene.path().join("project");
        for (path, contents) in [
            ("config/app.env", format!("GITHUB_TOKEN={GITHUB_TOKEN}\n")),
            (
                "docs/setup.md",
                format!("Example: `{GITHUB_TOKEN_2}` <!-- keysift:allow -->\n"),
            ),
        ] {
            let path = project.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, contents).unwrap();
        }
        git_repo(
            &scene.path().join("repo"),
            &[
                (
                    "deploy/release.sh",
                    &format!("export GH_TOKEN={GITHUB_TOKEN_3}\n"),
                ),
                (
                    "tests/fixture.py",
                    &format!("# gitleaks:allow\nTOKEN = '{GITHUB_TOKEN}'  # gitleaks:allow\n"),
                ),
            ],
            &Commit {
                author: "Alice Example",
                message: "Add the release script",
                time: 1_700_000_000,
            },
        );
        let layer = layer_tar(&[
            ("app/settings.py", &format!("TOKEN = '{GITHUB_TOKEN_2}'\n")),
            (
                "app/test_settings.py",
                &format!("# keysift:allow-next-line\nTOKEN = '{GITHUB_TOKEN_3}'\n"),
            ),
        ]);
        docker_save(
            &scene.image(),
            "shop/api:1.0",
            config(&[&format!("GH_TOKEN={GITHUB_TOKEN}")]),
            vec![layer],
        );
        scene
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn project(&self) -> PathBuf {
        self.path().join("project")
    }

    pub fn repo(&self) -> PathBuf {
        self.path().join("repo")
    }

    pub fn image(&self) -> PathBuf {
        self.path().join("shop.tar")
    }

    /// `keysift ARGS`, run in the scene's directory (so relative paths are stable).
    pub fn run(&self, args: &[&str]) -> Run {
        finish(
            keysift()
                .args(args)
                .current_dir(self.path())
                .output()
                .expect("run keysift"),
        )
    }

    /// The same scan of each part: `dir project`, `git repo`, `image shop.tar`, with `extra`
    /// arguments; returns (part name, run).
    pub fn scan_each(&self, extra: &[&str]) -> Vec<(&'static str, Run)> {
        [
            ("dir", ["dir", "project"]),
            ("git", ["git", "repo"]),
            ("image", ["image", "shop.tar"]),
        ]
        .into_iter()
        .map(|(name, source)| {
            let mut args = source.to_vec();
            args.extend_from_slice(extra);
            (name, self.run(&args))
        })
        .collect()
    }
}
