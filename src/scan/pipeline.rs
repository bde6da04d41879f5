//! The scan loop: the one place where parallelism lives.
//!
//! Worker threads (a rayon pool) each own a reader, a read buffer and scanner scratch; they
//! load blobs, skip ones already scanned, scan the rest and send findings and errors over a
//! bounded channel. The calling thread is the only consumer: it hands events to the caller's
//! sink in arrival order, so output needs no locks, and a slow sink slows the workers instead
//! of piling findings up in memory.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
        mpsc, Arc,
    },
    time::{Duration, Instant},
};

use rayon::prelude::*;

use super::{
    dedup::{BlobResults, Claim, SeenBlobs},
    per_thread::PerThread,
    Progress, ScanScratch, Scanner, Summary,
};
use crate::{
    findings::Finding,
    sources::{
        archive::{self, MemberVisitor},
        ArchivedOrigin, BlobId, Loaded, Origin, Source, SourceError, SourceErrorKind,
    },
};

/// Read buffers above this size are released after use, so one huge file does not pin its
/// memory for the rest of the scan.
const KEEP_BUFFER: usize = 8 * 1024 * 1024;
/// Batches of events in flight between workers and the consumer.
const CHANNEL_DEPTH: usize = 64;
/// A worker hands its events over in batches of this many...
const BATCH_EVENTS: usize = 64;
/// ...or once the oldest has waited this long, so findings still stream.
const BATCH_AGE: Duration = Duration::from_millis(50);

/// What workers report to the consumer.
#[derive(Debug)]
pub enum Event {
    /// The findings of one blob at one origin (never empty).
    Findings(Vec<Finding>),
    /// An input that could not be scanned.
    Error(SourceError),
}

/// Settings of one run of the scan loop.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Live counters to keep up to date, for a progress display.
    pub progress: Option<&'static Progress>,
}

#[derive(Default)]
struct Counters {
    blobs: AtomicU64,
    bytes: AtomicU64,
    duplicates: AtomicU64,
    binary: AtomicU64,
    archives: AtomicU64,
    members: AtomicU64,
}

/// Scans every blob of `source`, calling `on_event` for each event on the calling thread.
/// `on_event` returns `false` to stop the scan early (the reader went away).
pub fn run<S: Source>(
    source: &S,
    scanner: &Scanner,
    options: RunOptions,
    mut on_event: impl FnMut(&Event) -> bool,
) -> Summary {
    let started = Instant::now();
    let mut summary = Summary {
        links_skipped: source.skipped_links(),
        ..Summary::default()
    };
    let mut stopped = false;
    let mut consume = |event: Event, summary: &mut Summary| {
        match &event {
            Event::Findings(found) => summary.findings += found.len() as u64,
            Event::Error(_) => summary.errors += 1,
        }
        stopped = stopped || !on_event(&event);
        !stopped
    };
    for error in source.enumeration_errors() {
        consume(Event::Error(error.clone()), &mut summary);
    }

    let counters = Counters::default();
    let stop = AtomicBool::new(false);
    let (sender, receiver) = mpsc::sync_channel(CHANNEL_DEPTH);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .thread_name(|i| format!("keysift-scan-{i}"))
        .build();
    std::thread::scope(|scope| {
        let workers = scope.spawn(|| {
            let worker = Worker {
                source,
                scanner,
                seen: SeenBlobs::new(),
                counters: &counters,
                progress: options.progress,
                stop: &stop,
            };
            let scan_all = || {
                let new_state = || ThreadState {
                    reader: source.new_reader(),
                    buf: Vec::new(),
                    out: Output::new(scanner.new_scratch(), sender.clone()),
                };
                let states = PerThread::new(rayon::current_num_threads());
                source
                    .items()
                    .par_iter()
                    .for_each(|item| states.with(new_state, |state| worker.process(item, state)));
            };
            match &pool {
                Ok(pool) => pool.install(scan_all),
                Err(_) => scan_all(),
            }
            drop(sender);
        });
        for event in receiver.into_iter().flatten() {
            if !consume(event, &mut summary) {
                stop.store(true, Relaxed);
            }
        }
        workers.join().expect("scan workers do not panic");
    });

    summary.blobs_scanned = counters.blobs.into_inner();
    summary.bytes_scanned = counters.bytes.into_inner();
    summary.duplicates = counters.duplicates.into_inner();
    summary.binary_skipped = counters.binary.into_inner();
    summary.archives_opened = counters.archives.into_inner();
    summary.archive_members = counters.members.into_inner();
    summary.elapsed = started.elapsed();
    summary
}

/// What every worker shares.
struct Worker<'a, S: Source> {
    source: &'a S,
    scanner: &'a Scanner,
    seen: SeenBlobs,
    counters: &'a Counters,
    progress: Option<&'static Progress>,
    stop: &'a AtomicBool,
}

/// What each worker thread owns.
struct ThreadState<R> {
    reader: R,
    buf: Vec<u8>,
    out: Output,
}

/// A worker's scanner scratch and its end of the channel: what scanning a blob needs besides
/// its bytes.
///
/// Events go over in batches ([`BATCH_EVENTS`], [`BATCH_AGE`]). One send per event woke the
/// consumer thousands of times a second, and on two cores each wake-up preempted a worker: on
/// the generated corpus the workers were switched out 3,300 times each (perf sched).
struct Output {
    scratch: ScanScratch,
    events: mpsc::SyncSender<Vec<Event>>,
    pending: Vec<Event>,
    /// When the oldest pending event was queued.
    oldest: Option<Instant>,
}

impl Output {
    fn new(scratch: ScanScratch, events: mpsc::SyncSender<Vec<Event>>) -> Output {
        Output {
            scratch,
            events,
            pending: Vec::new(),
            oldest: None,
        }
    }

    /// Queues an event, handing the batch over when it is full.
    fn send(&mut self, event: Event, stop: &AtomicBool) {
        self.oldest.get_or_insert_with(Instant::now);
        self.pending.push(event);
        if self.pending.len() >= BATCH_EVENTS {
            self.flush(stop);
        }
    }

    /// Hands the pending events over if the oldest has waited [`BATCH_AGE`].
    fn flush_if_stale(&mut self, stop: &AtomicBool) {
        if self
            .oldest
            .is_some_and(|oldest| oldest.elapsed() >= BATCH_AGE)
        {
            self.flush(stop);
        }
    }

    /// Hands the pending events over; a consumer that went away stops the scan.
    fn flush(&mut self, stop: &AtomicBool) {
        self.oldest = None;
        if !self.pending.is_empty() && self.events.send(std::mem::take(&mut self.pending)).is_err()
        {
            stop.store(true, Relaxed);
        }
    }

    /// Sends the findings of a blob at one of its origins.
    fn report(&mut self, results: &BlobResults, origin: &Arc<Origin>, stop: &AtomicBool) {
        if !results.is_empty() {
            let found = results
                .iter()
                .map(|f| Finding::new(f.clone(), origin.clone()))
                .collect();
            self.send(Event::Findings(found), stop);
        }
    }
}

impl Drop for Output {
    /// The worker is done: what is pending goes over now.
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let _ = self.events.send(std::mem::take(&mut self.pending));
        }
    }
}

impl<S: Source> Worker<'_, S> {
    fn process(&self, item: &S::Item, state: &mut ThreadState<S::Reader>) {
        if self.stop.load(Relaxed) {
            return;
        }
        let ThreadState { reader, buf, out } = state;
        match self.source.load(reader, item, buf) {
            Err(error) => out.send(Event::Error(error), self.stop),
            Ok(Loaded::Binary) => {
                self.counters.binary.fetch_add(1, Relaxed);
            }
            Ok(Loaded::Text { id, may_repeat }) => {
                let origin = Arc::new(self.source.origin(item));
                let id = id.or_else(|| may_repeat.then(|| BlobId::of_content(buf)));
                self.scan_once(buf, id, origin, out);
            }
            Ok(Loaded::Archive) => {
                let origin = self.source.origin(item);
                self.expand(buf, origin, out);
            }
        }
        if state.buf.capacity() > KEEP_BUFFER {
            state.buf = Vec::new();
        }
        state.out.flush_if_stale(self.stop);
    }

    /// Scans a blob unless its content (`id`) was scanned already, and reports its findings
    /// at `origin` and at every origin that met the same content meanwhile.
    fn scan_once(&self, bytes: &[u8], id: Option<BlobId>, origin: Arc<Origin>, out: &mut Output) {
        match id.map(|id| (id, self.seen.claim(id, &origin))) {
            None => {
                if let Some(results) = self.scan(bytes, &origin, out) {
                    out.report(&results, &origin, self.stop);
                }
            }
            Some((id, Claim::First)) => {
                let results = self.scan(bytes, &origin, out).unwrap_or_default();
                out.report(&results, &origin, self.stop);
                for waiting in self.seen.complete(id, results.clone()) {
                    out.report(&results, &waiting, self.stop);
                }
            }
            Some((_, Claim::Done(results))) => {
                self.counters.duplicates.fetch_add(1, Relaxed);
                out.report(&results, &origin, self.stop);
            }
            Some((_, Claim::Pending)) => {
                self.counters.duplicates.fetch_add(1, Relaxed);
            }
        }
    }

    /// Opens the archive in `bytes` and scans its text members, each once by content like any
    /// other blob.
    fn expand(&self, bytes: &[u8], container: Origin, out: &mut Output) {
        let Some(limits) = self.source.archives() else {
            self.counters.binary.fetch_add(1, Relaxed);
            return;
        };
        let name = container.location_key();
        let mut members = MemberScan {
            worker: self,
            container,
            out,
        };
        let stats = archive::expand(bytes, &name, &limits, &mut members);
        self.counters.archives.fetch_add(stats.archives, Relaxed);
        self.counters.members.fetch_add(stats.members, Relaxed);
        self.counters.binary.fetch_add(stats.binary, Relaxed);
    }

    /// Scans one blob; an engine failure becomes an error event naming the origin.
    fn scan(&self, bytes: &[u8], origin: &Origin, out: &mut Output) -> Option<BlobResults> {
        self.counters.blobs.fetch_add(1, Relaxed);
        self.counters.bytes.fetch_add(bytes.len() as u64, Relaxed);
        if let Some(progress) = self.progress {
            progress.scanned(bytes.len());
        }
        match self.scanner.scan(bytes, &mut out.scratch) {
            Ok(found) => Some(Arc::new(found.into_iter().map(Arc::new).collect())),
            Err(e) => {
                let error = SourceError::new(
                    origin.display_path(),
                    SourceErrorKind::Engine,
                    e.to_string(),
                );
                out.send(Event::Error(error), self.stop);
                None
            }
        }
    }
}

/// Scans the members of one archive found at `container`.
struct MemberScan<'w, 'o, S: Source> {
    worker: &'w Worker<'w, S>,
    container: Origin,
    out: &'o mut Output,
}

impl<S: Source> MemberScan<'_, '_, S> {
    fn origin(&self, path: &[String]) -> Origin {
        Origin::Archived(Box::new(ArchivedOrigin {
            container: self.container.clone(),
            members: path.to_vec(),
        }))
    }
}

impl<S: Source> MemberVisitor for MemberScan<'_, '_, S> {
    fn text(&mut self, path: &[String], bytes: &[u8]) {
        let origin = Arc::new(self.origin(path));
        let id = Some(BlobId::of_content(bytes));
        self.worker.scan_once(bytes, id, origin, self.out);
    }

    fn skipped(&mut self, path: &[String], kind: SourceErrorKind, message: String) {
        let input = if path.is_empty() {
            self.container.display_path()
        } else {
            self.origin(path).display_path()
        };
        let error = SourceError::new(input, kind, message);
        self.out.send(Event::Error(error), self.worker.stop);
    }

    fn stopped(&self) -> bool {
        self.worker.stop.load(Relaxed)
    }
}
