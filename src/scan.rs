//! The one place that wires source → matcher → findings → filter.
//!
//! Each walker thread owns a [`Worker`]: its matcher scratch, its chunk buffer and its findings.
//! Workers share only the read-only [`Matcher`] and, when they finish, hand their results to one
//! collector under a lock, so the hot path takes no lock.

use std::io::Read;
use std::sync::Mutex;
use std::time::Instant;

use crate::filter;
use crate::finding::{locate, Finding};
use crate::matcher::{Matcher, RawMatch, Scratch};
use crate::rules::RuleSet;
use crate::source::files::{self, Entry, WalkError, WalkOptions};
use crate::source::{ChunkReader, Origin, ReadOutcome, SkipReason, Stats, DEFAULT_CHUNK_SIZE};

/// What to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub walk: WalkOptions,
    /// Also scan standard input (`-` among the paths).
    pub stdin: bool,
    /// Scan files that look binary.
    pub scan_binary: bool,
    /// Bytes each chunk owns; tests shrink it to prove chunk boundaries lose nothing.
    pub chunk_size: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            walk: WalkOptions::default(),
            stdin: false,
            scan_binary: false,
            chunk_size: DEFAULT_CHUNK_SIZE,
        }
    }
}

/// Everything a scan produced.
#[derive(Debug, Default)]
pub struct ScanResult {
    pub findings: Vec<Finding>,
    pub stats: Stats,
}

/// Scans the inputs of `options` with the enabled rules of `rules`.
pub fn scan(rules: &RuleSet, options: &ScanOptions) -> Result<ScanResult, WalkError> {
    let started = Instant::now();
    let matcher = Matcher::new(rules);
    let collected = Mutex::new(ScanResult::default());
    if options.stdin {
        let mut worker = Worker::new(&matcher, options, &collected);
        worker.scan_input(Origin::Stdin, std::io::stdin().lock());
    }
    if !options.walk.paths.is_empty() {
        files::walk(&options.walk, || {
            let mut worker = Worker::new(&matcher, options, &collected);
            move |entry| worker.visit(entry)
        })?;
    }
    let mut result = collected.into_inner().unwrap_or_else(|e| e.into_inner());
    filter::finalize(&mut result.findings);
    result.stats.skipped.sort();
    result.stats.elapsed = started.elapsed();
    Ok(result)
}

/// Per-thread scanning state; results go to the shared collector when it is dropped.
struct Worker<'a> {
    matcher: &'a Matcher<'a>,
    scratch: Scratch,
    reader: ChunkReader,
    raw: Vec<RawMatch>,
    local: ScanResult,
    scan_binary: bool,
    collected: &'a Mutex<ScanResult>,
}

impl<'a> Worker<'a> {
    fn new(
        matcher: &'a Matcher<'a>,
        options: &ScanOptions,
        collected: &'a Mutex<ScanResult>,
    ) -> Self {
        Worker {
            matcher,
            scratch: matcher.scratch(),
            reader: ChunkReader::new(options.chunk_size),
            raw: Vec::new(),
            local: ScanResult::default(),
            scan_binary: options.scan_binary,
            collected,
        }
    }

    fn visit(&mut self, entry: Entry) {
        match entry {
            Entry::Skipped { origin, reason } => self.skip(origin, reason),
            Entry::File { origin, .. } => {
                let Origin::File(path) = &origin else { return };
                match files::open(path) {
                    Ok(file) => self.scan_input(origin, file),
                    Err(reason) => self.skip(origin, reason),
                }
            }
        }
    }

    fn scan_input(&mut self, origin: Origin, input: impl Read) {
        let Worker {
            matcher,
            scratch,
            reader,
            raw,
            local,
            ..
        } = self;
        let findings_before = local.findings.len();
        let outcome = reader.read(input, !self.scan_binary, |chunk| {
            raw.clear();
            matcher.find(scratch, chunk.data, chunk.owned.clone(), raw);
            if !raw.is_empty() {
                locate(&chunk, &origin, matcher.rules(), raw, &mut local.findings);
            }
        });
        match outcome {
            Ok(ReadOutcome::Complete(bytes)) => {
                self.local.stats.files_scanned += 1;
                self.local.stats.bytes_scanned += bytes;
            }
            Ok(ReadOutcome::Binary) => self.skip(origin, SkipReason::Binary),
            Err(error) => {
                // What was read before the error is still reported; the scan is marked incomplete.
                tracing::debug!(path = %origin, found = self.local.findings.len() - findings_before, "read failed part-way");
                self.skip(origin, files::io_reason(&error));
            }
        }
    }

    fn skip(&mut self, origin: Origin, reason: SkipReason) {
        match reason {
            SkipReason::Binary | SkipReason::Symlink => {
                tracing::debug!("skipped {origin}: {reason}")
            }
            _ => tracing::warn!("skipped {origin}: {reason}"),
        }
        self.local.stats.skipped.push((origin, reason));
    }
}

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        let local = std::mem::take(&mut self.local);
        let mut shared = self.collected.lock().unwrap_or_else(|e| e.into_inner());
        shared.findings.extend(local.findings);
        shared.stats.files_scanned += local.stats.files_scanned;
        shared.stats.bytes_scanned += local.stats.bytes_scanned;
        shared.stats.skipped.extend(local.stats.skipped);
    }
}
