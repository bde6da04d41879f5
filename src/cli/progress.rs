//! The progress line on stderr: blobs and bytes scanned, findings so far and throughput,
//! redrawn ten times a second by a thread of its own from the scan's atomic counters, shown
//! only on a terminal, only once a scan has run for a moment, and cleared at the end.
//!
//! Whatever else writes to the terminal during the scan (findings, error messages) first
//! [`ProgressLine::hold`]s the line: that clears it and keeps it from being redrawn until the
//! text is out, so the two never mix on one line.

use std::{
    io::{self, Write},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex, MutexGuard,
    },
    thread,
    time::{Duration, Instant},
};

use keysift::{report::human_bytes, scan::Progress};

/// The counters every scan of this process keeps up to date (cheaply, shown or not).
pub static PROGRESS: Progress = Progress::new();

/// How often the line is redrawn.
const REDRAW: Duration = Duration::from_millis(100);
/// Scans shorter than this never show a line.
const DELAY: Duration = Duration::from_millis(500);
/// Erases the current terminal line and returns to its start.
const CLEAR: &str = "\r\x1b[2K";

/// A progress line being drawn; stopped and cleared by [`ProgressLine::finish`] or on drop.
pub struct ProgressLine {
    shared: Arc<Shared>,
    thread: Option<thread::JoinHandle<()>>,
}

struct Shared {
    stop: AtomicBool,
    /// Whether the line is on screen; held by whoever writes to the terminal.
    drawn: Mutex<bool>,
}

/// Keeps the progress line off the screen while held.
pub struct Hold<'a> {
    _drawn: MutexGuard<'a, bool>,
}

impl ProgressLine {
    /// Starts drawing from `counters` when stderr is a terminal and not `quiet`.
    pub fn start(counters: &'static Progress, quiet: bool) -> Option<ProgressLine> {
        use std::io::IsTerminal;
        if quiet
            || !io::stderr().is_terminal()
            || std::env::var_os("TERM").is_some_and(|t| t == "dumb")
        {
            return None;
        }
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            drawn: Mutex::new(false),
        });
        let drawer = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name("keysift-progress".into())
            .spawn(move || draw_until_stopped(&drawer, counters))
            .ok()?;
        Some(ProgressLine {
            shared,
            thread: Some(thread),
        })
    }

    /// Clears the line and keeps it away until the returned guard is dropped.
    pub fn hold(&self) -> Hold<'_> {
        let mut drawn = self.shared.drawn.lock().unwrap_or_else(|e| e.into_inner());
        if *drawn {
            let _ = io::stderr().write_all(CLEAR.as_bytes());
            *drawn = false;
        }
        Hold { _drawn: drawn }
    }

    /// Stops drawing and clears the line.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
        drop(self.hold());
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.stop();
    }
}

fn draw_until_stopped(shared: &Shared, counters: &Progress) {
    let started = Instant::now();
    while !shared.stop.load(Ordering::Relaxed) {
        thread::park_timeout(REDRAW);
        let elapsed = started.elapsed();
        if elapsed < DELAY || shared.stop.load(Ordering::Relaxed) {
            continue;
        }
        let line = render(
            counters.blobs(),
            counters.bytes(),
            counters.findings(),
            elapsed,
        );
        let mut drawn = shared.drawn.lock().unwrap_or_else(|e| e.into_inner());
        let mut stderr = io::stderr().lock();
        let _ = write!(stderr, "{CLEAR}{line}").and_then(|()| stderr.flush());
        *drawn = true;
    }
}

/// The line's text: `scanning: 12,345 blobs, 1.2 GB, 3 findings, 85.1 MB/s, 14 s`.
pub fn render(blobs: u64, bytes: u64, findings: u64, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        bytes as f64 / seconds
    } else {
        0.0
    };
    let plural =
        |n: u64, word: &str| format!("{} {word}{}", thousands(n), if n == 1 { "" } else { "s" });
    format!(
        "scanning: {}, {}, {}, {}/s, {} s",
        plural(blobs, "blob"),
        human_bytes(bytes),
        plural(findings, "finding"),
        human_bytes(rate as u64),
        elapsed.as_secs()
    )
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_reads_well() {
        assert_eq!(
            render(12_345, 1_234_567_890, 3, Duration::from_millis(14_500)),
            "scanning: 12,345 blobs, 1.2 GB, 3 findings, 85.1 MB/s, 14 s"
        );
        assert_eq!(
            render(1, 512, 1, Duration::from_secs(1)),
            "scanning: 1 blob, 512 B, 1 finding, 512 B/s, 1 s"
        );
        assert_eq!(
            render(0, 0, 0, Duration::ZERO),
            "scanning: 0 blobs, 0 B, 0 findings, 0 B/s, 0 s"
        );
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
