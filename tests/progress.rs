//! The progress line: drawn on a terminal (a pseudo-terminal from util-linux's `script`), never
//! when stderr is a pipe or with `--quiet`. Input trickling in on stdin keeps each scan running
//! past the moment the line first appears, whatever the machine's speed.

mod common;

use std::process::{Command, Stdio};

use common::GITHUB_TOKEN;

/// Runs `keysift ARGS` with `input` arriving on stdin after a second, under a pseudo-terminal
/// when `terminal`; returns what reached the terminal (or stderr) and the exit code.
fn slow_stdin_scan(args: &str, terminal: bool) -> (String, i32) {
    let keysift = env!("CARGO_BIN_EXE_keysift");
    let pipeline = format!("(sleep 1.2; echo 'TOKEN={GITHUB_TOKEN}') | {keysift} stdin {args}");
    let output = if terminal {
        Command::new("script")
            .args(["-qec", &pipeline, "/dev/null"])
            .stdin(Stdio::null())
            .output()
            .expect("script (util-linux) runs")
    } else {
        Command::new("sh")
            .args(["-c", &format!("{pipeline} 2>&1 >/dev/null")])
            .output()
            .expect("sh runs")
    };
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        output.status.code().unwrap_or(-1),
    )
}

#[test]
fn a_terminal_shows_the_progress_line_and_it_is_cleared() {
    let (screen, code) = slow_stdin_scan("", true);
    assert_eq!(code, 1, "{screen}");
    assert!(screen.contains("\r\x1b[2Kscanning: 0 blobs"), "{screen:?}");
    // Cleared before the report: the findings start on a clean line.
    let report = screen.rfind("<stdin>").expect("the finding is shown");
    let last_clear = screen.rfind("\r\x1b[2K").unwrap();
    assert!(last_clear < report, "{screen:?}");
    assert!(!screen[last_clear..].contains("scanning:"), "{screen:?}");
}

#[test]
fn no_progress_when_stderr_is_not_a_terminal_or_with_quiet() {
    let (stderr, code) = slow_stdin_scan("", false);
    assert_eq!(code, 1);
    assert!(
        !stderr.contains("scanning:") && !stderr.contains('\x1b'),
        "{stderr:?}"
    );
    let (screen, code) = slow_stdin_scan("--quiet", true);
    assert_eq!(code, 1);
    assert!(!screen.contains("scanning:"), "{screen:?}");
}
