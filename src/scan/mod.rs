//! The one place that wires source → matcher → findings → filter.
//!
//! Each walker thread owns a [`Worker`]: its matcher scratch, its chunk buffer and its findings.
//! Workers share only the read-only [`Matcher`] and, when they finish, hand their results to one
//! collector under a lock, so the hot path takes no lock.

use std::collections::HashSet;
use std::io::{Read, Seek};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

mod copies;
mod deltas;
mod recall;

use crate::cache::Cache;
use crate::filter::{self, Suppressed};
use crate::finding::ImageProvenance;
use crate::finding::{fingerprint, locate, Finding, GitProvenance};
use crate::matcher::{Around, Matcher, RawMatch, Scratch};
use crate::rules::RuleSet;
use crate::source::archive::{self, Budget, Input, Kind};
use crate::source::files::{self, Entry, WalkError, WalkOptions};
use crate::source::git::catfile;
use crate::source::git::changes::Changes;
use crate::source::git::history::{self, HistoryOptions};
use crate::source::git::objects;
use crate::source::git::salvage;
use crate::source::git::{GitError, Repo};
use crate::source::image::{Image, Layer, Whiteouts};
use crate::source::{CacheStats, GitStats};
use crate::source::{
    Chunk, ChunkReader, Mode, Origin, ReadOutcome, SkipReason, Stats, DEFAULT_CHUNK_SIZE,
};
use copies::{content_id, Claim, Content, Copies, Deferred};
use deltas::BlobScan;
use recall::{Recall, Seen};

/// What to scan in the file system.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    pub walk: WalkOptions,
    /// Also scan standard input (`-` among the paths).
    pub stdin: bool,
    pub read: ReadOptions,
}

/// How every input is read, whatever its source.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Scan inputs that look binary.
    pub scan_binary: bool,
    /// Bytes each chunk owns; tests shrink it to prove chunk boundaries lose nothing.
    pub chunk_size: usize,
    /// Keep the candidates the validators reject, with the reason (`--explain`).
    pub explain: bool,
    /// Layers of encoding the matcher decodes around keyword hits.
    pub decode_depth: u8,
    /// How far archives and compressed streams are opened.
    pub archives: archive::Limits,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            scan_binary: false,
            chunk_size: DEFAULT_CHUNK_SIZE,
            explain: false,
            decode_depth: crate::matcher::DEFAULT_DECODE_DEPTH,
            archives: archive::Limits::default(),
        }
    }
}

/// Everything a scan produced.
#[derive(Debug, Default)]
pub struct ScanResult {
    pub findings: Vec<Finding>,
    /// What is not reported, and why: findings an allow marker on their line suppresses
    /// (counted in the summary) and, with `--explain`, the candidates the matcher rejected.
    pub suppressed: Vec<Suppressed>,
    pub stats: Stats,
    /// Blobs that were archives (or compressed streams). A cache records one outcome a blob,
    /// and an archive's is many, so these are scanned again on every audit.
    archive_blobs: Vec<String>,
    /// Copies of archives settled once every input is read ([`Copies::settle`]).
    deferred: Vec<Deferred>,
}

impl ScanResult {
    /// Gives the copies of archives deferred during the scan what their content produced;
    /// each copy's findings are finalized as an input of their own when `finalize` is given.
    fn settle_copies(&mut self, copies: &Copies, finalize: Option<&RuleSet>) {
        let (findings, skipped) = copies.settle(std::mem::take(&mut self.deferred));
        for mut found in findings {
            if let Some(rules) = finalize {
                let suppressed = filter::finalize(&mut found, rules);
                self.suppressed.extend(suppressed);
            }
            self.findings.append(&mut found);
        }
        self.stats.skipped.extend(skipped);
        for (origin, reason) in &self.stats.skipped {
            if is_nesting_limit(reason) {
                tracing::warn!("skipped {origin}: {reason}");
            }
        }
    }
}

/// Whether `reason` is a limit on how deep archives nest: one a copy read elsewhere can lift.
fn is_nesting_limit(reason: &SkipReason) -> bool {
    matches!(reason, SkipReason::ArchiveLimit { limit }
        if limit.starts_with("--max-archive-depth") || limit.ends_with(NESTED_STREAMS))
}

/// How the limit on compressed streams inside one another is named.
const NESTED_STREAMS: &str = "compressed streams one inside another";

/// Archives of at most this many bytes are read into memory to be opened: a copy met again is
/// then known by its digest, and a zip is read through its central directory. Larger ones
/// inside other archives are opened as they stream.
const HELD_ARCHIVE: u64 = 32 << 20;

/// Scans the inputs of `options` with the enabled rules of `rules`.
pub fn scan(rules: &RuleSet, options: &ScanOptions) -> Result<ScanResult, WalkError> {
    let started = Instant::now();
    let matcher = matcher_for(rules, &options.read);
    let collected = Mutex::new(ScanResult::default());
    let copies = Copies::default();
    let shared = Shared {
        collected: &collected,
        copies: &copies,
    };
    // Each file's findings are finalized as soon as it is read, while they are in the cache of
    // the thread that found them; what is left here is merging sorted parts.
    if options.stdin {
        let mut worker = Worker::new(&matcher, &options.read, shared).finalizing();
        worker.scan_input(&Origin::Stdin, std::io::stdin().lock());
        worker.finish_input(0);
    }
    if !options.walk.paths.is_empty() {
        files::walk(&options.walk, || {
            let mut worker = Worker::new(&matcher, &options.read, shared).finalizing();
            move |entry| worker.visit(entry)
        })?;
    }
    let mut result = collected.into_inner().unwrap_or_else(|e| e.into_inner());
    result.settle_copies(&copies, Some(rules));
    filter::merge_finalized(&mut result.findings, &mut result.suppressed);
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
    archives: archive::Limits,
    /// The image layer whose files are being scanned, and what the image's layers delete.
    layer: Option<Arc<Layer>>,
    whiteouts: Whiteouts,
    /// Finalize the findings of each input once it is read (see [`filter::finalize`]): for
    /// inputs whose findings are final where they are found, as files are. Git blobs are not:
    /// their paths come later, from history.
    finalizes: bool,
    shared: Shared<'a>,
}

/// What a scan's workers share: where they put what they produce when they finish, and the
/// archives the run has met.
#[derive(Clone, Copy)]
struct Shared<'a> {
    collected: &'a Mutex<ScanResult>,
    copies: &'a Copies,
}

/// What became of one input.
enum Scanned {
    /// Read to its end: this many bytes.
    Bytes(u64),
    /// An archive of this kind, to be opened.
    Archive(Kind),
    /// Not scanned (binary), or not to its end; the reason is recorded.
    Skipped,
}

/// Where an input sits among archives.
#[derive(Clone, Copy)]
struct Nesting<'b> {
    /// Containers it is inside.
    depth: u8,
    /// Compressed streams it is directly inside.
    streams: u8,
    /// What its top-level archive may still inflate (None outside archives).
    budget: Option<&'b Budget>,
}

impl Nesting<'_> {
    /// An input that is in no archive.
    const TOP: Nesting<'static> = Nesting {
        depth: 0,
        streams: 0,
        budget: None,
    };
}

impl<'a> Worker<'a> {
    fn new(matcher: &'a Matcher<'a>, options: &ReadOptions, shared: Shared<'a>) -> Self {
        Worker {
            matcher,
            scratch: matcher.scratch(),
            reader: ChunkReader::new(options.chunk_size),
            raw: Vec::new(),
            local: ScanResult::default(),
            scan_binary: options.scan_binary,
            archives: options.archives,
            layer: None,
            whiteouts: Whiteouts::default(),
            finalizes: false,
            shared,
        }
    }

    /// The worker finalizes the findings of each input, for [`filter::merge_finalized`].
    fn finalizing(mut self) -> Self {
        self.finalizes = true;
        self
    }

    /// Finalizes the findings of the input just scanned (those from index `first` on), if
    /// this worker finalizes.
    fn finish_input(&mut self, first: usize) {
        if !self.finalizes || self.local.findings.len() == first {
            return;
        }
        let mut found = self.local.findings.split_off(first);
        let suppressed = filter::finalize(&mut found, self.matcher.rules());
        self.local.findings.append(&mut found);
        self.local.suppressed.extend(suppressed);
    }

    fn visit(&mut self, entry: Entry) {
        match entry {
            Entry::Skipped { origin, reason } => self.skip(origin, reason),
            Entry::File { origin, max_size } => {
                let Origin::File(path) = &origin else { return };
                let first = self.local.findings.len();
                match files::open(path, max_size) {
                    Ok(mut file) => {
                        let read = self.scan_file(&origin, &mut file);
                        let size = file.size();
                        // A file cut short while it was read ends early without an error: what
                        // was cut off was never scanned.
                        if let (Some(size), Some(read)) = (size, read) {
                            if read < size {
                                let error = format!(
                                    "it shrank from {size} to {read} bytes while being read"
                                );
                                self.skip(origin, SkipReason::Unreadable { error });
                            }
                        }
                    }
                    Err(reason) => self.skip(origin, reason),
                }
                self.finish_input(first);
            }
        }
    }

    /// Scans one input; returns how many bytes it held when it was read to its end (None for
    /// an archive, whose entries are scanned as inputs of their own).
    fn scan_input(&mut self, origin: &Origin, input: impl Read) -> Option<u64> {
        self.scan_nested(origin, input, Nesting::TOP)
    }

    /// [`Worker::scan_input`] for an input already in memory, matched where it lies.
    fn scan_bytes(&mut self, origin: &Origin, input: &[u8]) -> Option<u64> {
        let mode = self.mode();
        match self.scan(origin, |reader, on_chunk| {
            reader.read_bytes(input, mode, on_chunk)
        }) {
            Scanned::Bytes(bytes) => Some(bytes),
            Scanned::Archive(kind) => {
                self.note_archive_blob(origin, Nesting::TOP);
                self.open_held(origin, kind, input, Nesting::TOP);
                None
            }
            Scanned::Skipped => None,
        }
    }

    /// [`Worker::scan_input`] for a file on disk: a zip too large to hold in memory is read
    /// through its central directory where it lies, and a large file that is a zip behind a
    /// prefix (a self-extracting stub, a launch script) is opened as one.
    fn scan_file(&mut self, origin: &Origin, file: &mut files::OpenFile) -> Option<u64> {
        let mode = self.mode();
        let scanned = self.scan(origin, |reader, on_chunk| {
            reader.read(&mut *file, mode, on_chunk)
        });
        let large = file.size().is_some_and(|size| size > HELD_ARCHIVE);
        let prefixed = |file: &mut files::OpenFile| {
            file.size().is_some() && mode.archives && archive::is_prefixed_zip(file.inner())
        };
        let (kind, read) = match scanned {
            Scanned::Archive(kind) if !large => {
                self.open_read(origin, kind, file, Nesting::TOP);
                return None;
            }
            Scanned::Archive(kind) => (kind, None),
            Scanned::Skipped if prefixed(file) => {
                // Binary, as an executable stub is: it is a zip all the same.
                let binary = (origin.clone(), SkipReason::Binary);
                if self.local.stats.skipped.last() == Some(&binary) {
                    self.local.stats.skipped.pop();
                }
                (Kind::Zip, None)
            }
            Scanned::Bytes(bytes) if prefixed(file) => (Kind::Zip, Some(bytes)),
            Scanned::Bytes(bytes) => return Some(bytes),
            Scanned::Skipped => return None,
        };
        match file.inner().seek(std::io::SeekFrom::Start(0)) {
            Ok(_) => self.open_archive(origin, kind, Input::File(file.inner()), Nesting::TOP),
            Err(error) => self.skip(origin.clone(), files::io_reason(&error)),
        }
        read
    }

    /// Scans an input that sits `nesting` deep among archives.
    fn scan_nested(
        &mut self,
        origin: &Origin,
        mut input: impl Read,
        nesting: Nesting<'_>,
    ) -> Option<u64> {
        let mode = self.mode();
        match self.scan(origin, |reader, on_chunk| {
            reader.read(&mut input, mode, on_chunk)
        }) {
            Scanned::Bytes(bytes) => Some(bytes),
            Scanned::Archive(kind) => {
                self.open_read(origin, kind, &mut input, nesting);
                None
            }
            Scanned::Skipped => None,
        }
    }

    /// How inputs are read: archives are looked for unless they are turned off.
    fn mode(&self) -> Mode {
        Mode {
            skip_binary: !self.scan_binary,
            archives: self.archives.max_depth > 0,
        }
    }

    /// A blob that is an archive is remembered as one (see [`ScanResult::archive_blobs`]).
    fn note_archive_blob(&mut self, origin: &Origin, nesting: Nesting<'_>) {
        if let (Origin::Git { blob, .. }, None) = (origin, nesting.budget) {
            self.local.archive_blobs.push(blob.clone());
        }
    }

    /// Opens the archive whose first bytes the chunk reader holds and whose other bytes are
    /// `rest`: held in memory when it is small enough (and is its own bytes, not what a
    /// compressed stream inflates to: copies of the stream are known by its own bytes), else
    /// as it streams.
    fn open_read(
        &mut self,
        origin: &Origin,
        kind: Kind,
        rest: &mut dyn Read,
        nesting: Nesting<'_>,
    ) {
        self.note_archive_blob(origin, nesting);
        let mut held = self.reader.head().to_vec();
        let head = held.len();
        // A zip that does not start with a local header has a prefix: only its central
        // directory finds its entries.
        let prefixed = kind == Kind::Zip && !held.starts_with(b"PK");
        if nesting.streams == 0 || prefixed {
            let more = HELD_ARCHIVE.saturating_sub(head as u64) + 1;
            match rest.take(more).read_to_end(&mut held) {
                Ok(_) if held.len() as u64 <= HELD_ARCHIVE => {
                    return self.open_held(origin, kind, &held, nesting);
                }
                Ok(_) => {}
                // What was read is opened, then the error ends it where it happened.
                Err(error) => {
                    let mut failing = std::io::Cursor::new(held).chain(Failing(Some(error)));
                    return self.open_archive(origin, kind, Input::Stream(&mut failing), nesting);
                }
            }
        }
        let mut stream = std::io::Cursor::new(held).chain(rest);
        self.open_archive(origin, kind, Input::Stream(&mut stream), nesting);
    }

    /// Opens an archive held whole in memory, unless a copy of it was read: then the copy's
    /// findings are taken for this place.
    fn open_held(&mut self, origin: &Origin, kind: Kind, bytes: &[u8], nesting: Nesting<'_>) {
        // A compressed file of text (a `.json.gz`, a rotated log) holds no archive to be met
        // again deeper down: it is read without being digested.
        if !kind.is_container() && !archive::inflates_to_archive(kind, bytes) {
            return self.open_archive(origin, kind, Input::Bytes(bytes), nesting);
        }
        let id = content_id(bytes);
        let image = self.image_here();
        if let Err(limit) = self.within_limits(kind, nesting) {
            match self.shared.copies.known(&id) {
                Some(content) => self.take_copy(&content, origin, nesting),
                None => self.local.deferred.push(Deferred {
                    place: origin.clone(),
                    id,
                    unread: Some(limit),
                    image,
                }),
            }
            return;
        }
        match self.shared.copies.claim(id) {
            Claim::Known(content) => self.take_copy(&content, origin, nesting),
            Claim::Pending => self.local.deferred.push(Deferred {
                place: origin.clone(),
                id,
                unread: None,
                image,
            }),
            Claim::Read => {
                let findings = self.local.findings.len();
                let skipped = self.local.stats.skipped.len();
                let deferred = self.local.deferred.len();
                let own = Budget::new(&self.archives);
                let budget = nesting.budget.unwrap_or(&own);
                let entries = budget.entries_taken();
                let nesting = Nesting {
                    budget: Some(budget),
                    ..nesting
                };
                self.open_archive(origin, kind, Input::Bytes(bytes), nesting);
                // A compressed stream whose content is an archive nested too deep to open here
                // was not read: a copy met higher up may be.
                let shut = self.local.stats.skipped[skipped..]
                    .iter()
                    .position(|(place, why)| place == origin && is_nesting_limit(why));
                if let Some(at) = shut {
                    let (_, why) = self.local.stats.skipped.remove(skipped + at);
                    self.shared.copies.release(&id);
                    self.local.deferred.push(Deferred {
                        place: origin.clone(),
                        id,
                        unread: Some(why),
                        image,
                    });
                    return;
                }
                let content = Content {
                    place: origin.clone(),
                    findings: self.local.findings[findings..].to_vec(),
                    skipped: self.local.stats.skipped[skipped..].to_vec(),
                    deferred: self.local.deferred[deferred..].to_vec(),
                    entries: budget.entries_taken() - entries,
                };
                self.shared.copies.finish(id, content);
            }
        }
    }

    /// Takes what a copy of an archive produced, for the copy at `place`; its entries count
    /// against the budget of the archive it is in, so copies cannot multiply without bound.
    fn take_copy(&mut self, content: &Content, place: &Origin, nesting: Nesting<'_>) {
        if let Some(budget) = nesting.budget {
            if let Err(archive::Stop::Limit(limit)) = budget.take_entries(content.entries) {
                self.skip(place.clone(), SkipReason::ArchiveLimit { limit });
                return;
            }
        }
        let mut taken = content.at(place);
        if let Some(image) = self.image_here() {
            for copy in &mut taken.deferred {
                copy.image = Some(image.clone());
            }
        }
        self.local.findings.append(&mut taken.findings);
        self.local.stats.skipped.append(&mut taken.skipped);
        self.local.deferred.append(&mut taken.deferred);
    }

    /// The image layer being read, as a finding in it is placed (a later layer's whiteouts
    /// decide `in_final_image` once the image is read).
    fn image_here(&self) -> Option<ImageProvenance> {
        self.layer.as_ref().map(|layer| ImageProvenance {
            layer: (**layer).clone(),
            in_final_image: true,
        })
    }

    /// Whether an archive of `kind` at `nesting` may be opened; the error is the limit that
    /// keeps it shut.
    fn within_limits(&self, kind: Kind, nesting: Nesting<'_>) -> Result<(), SkipReason> {
        let within = if kind.is_container() {
            nesting.depth < self.archives.max_depth
        } else {
            nesting.streams < archive::MAX_STACKED_STREAMS
        };
        if within {
            return Ok(());
        }
        let limit = if kind.is_container() {
            format!("--max-archive-depth {}", self.archives.max_depth)
        } else {
            format!("{} {NESTED_STREAMS}", archive::MAX_STACKED_STREAMS)
        };
        Err(SkipReason::ArchiveLimit { limit })
    }

    /// Scans every file of the archive (or the content of the compressed stream) `input` at
    /// `origin`, within the budget of the top-level archive it is part of; past the limits on
    /// nesting it is skipped, and said to be.
    fn open_archive(
        &mut self,
        origin: &Origin,
        kind: Kind,
        input: Input<'_>,
        nesting: Nesting<'_>,
    ) {
        if let Err(limit) = self.within_limits(kind, nesting) {
            self.skip(origin.clone(), limit);
            return;
        }
        // A top-level archive gets a budget of its own.
        let own = Budget::new(&self.archives);
        let budget = nesting.budget.unwrap_or(&own);
        if !kind.is_container() {
            let compressed = std::cell::Cell::new(0);
            let mut bytes;
            let source: &mut dyn Read = match input {
                Input::Bytes(held) => {
                    bytes = held;
                    &mut bytes
                }
                Input::File(file) => file,
                Input::Stream(stream) => stream,
            };
            let mut content = archive::inflate(kind, source, budget, &compressed);
            let inner = Nesting {
                streams: nesting.streams + 1,
                budget: Some(budget),
                ..nesting
            };
            // The content of a compressed stream is the file itself: it keeps the file's name.
            self.scan_nested(origin, &mut content, inner);
            return;
        }
        let inner = Nesting {
            depth: nesting.depth + 1,
            streams: 0,
            budget: Some(budget),
        };
        // A tarball on disk may be a container image: its layers are then named.
        let image = match (kind, origin) {
            (Kind::Tar, Origin::File(path)) if nesting.depth == 0 && nesting.streams == 0 => {
                Image::probe(path)
            }
            _ => None,
        };
        let first_finding = self.local.findings.len();
        let first_deferred = self.local.deferred.len();
        let mut layers: Vec<(usize, Origin)> = Vec::new();
        let mut skipped = Vec::new();
        let read = archive::each_entry(
            kind,
            input,
            budget,
            &mut |entry| {
                let entry_origin = origin.inside(&entry.name);
                if nesting.depth == 1 {
                    if let Some(layer) = &self.layer {
                        self.whiteouts.note(layer.index, &entry.name);
                    }
                }
                let layer = image.as_ref().and_then(|i| i.layer(&entry.name)).cloned();
                let before = self.local.findings.len();
                let outside = std::mem::replace(&mut self.layer, layer.clone());
                self.scan_nested(&entry_origin, entry.data, inner);
                self.layer = outside;
                if let Some(layer) = layer {
                    for finding in &mut self.local.findings[before..] {
                        finding.image = Some(ImageProvenance {
                            layer: (*layer).clone(),
                            in_final_image: true,
                        });
                    }
                    layers.push((layer.index, entry_origin));
                }
            },
            &mut |entry| skipped.push(entry),
        );
        if image.is_some() {
            let whiteouts = std::mem::take(&mut self.whiteouts);
            let found = self.local.findings[first_finding..]
                .iter_mut()
                .map(|f| (&f.origin, &mut f.image));
            let deferred = self.local.deferred[first_deferred..]
                .iter_mut()
                .map(|d| (&d.place, &mut d.image));
            for (place, image) in found.chain(deferred) {
                let Some(image) = image else {
                    continue;
                };
                let index = image.layer.index;
                let Some((_, layer)) = layers.iter().find(|(i, _)| *i == index) else {
                    continue;
                };
                if let Some(path) = place.entry_in(layer) {
                    image.in_final_image = !whiteouts.deletes(index, path);
                }
            }
        }
        for entry in skipped {
            let reason = match entry.why.as_str() {
                archive::ENCRYPTED => SkipReason::Encrypted,
                _ => SkipReason::ArchiveEntry { why: entry.why },
            };
            self.skip(origin.inside(&entry.name), reason);
        }
        match read {
            Ok(()) => {}
            Err(archive::Stop::Limit(limit)) => {
                self.skip(origin.clone(), SkipReason::ArchiveLimit { limit })
            }
            Err(archive::Stop::Unreadable(error)) => {
                self.skip(origin.clone(), SkipReason::Unreadable { error })
            }
            Err(archive::Stop::Damaged(what)) => {
                self.skip(origin.clone(), SkipReason::Damaged { what })
            }
        }
    }

    /// Matches every chunk `read` makes of one input.
    fn scan(
        &mut self,
        origin: &Origin,
        read: impl FnOnce(&mut ChunkReader, &mut dyn FnMut(Chunk<'_>)) -> std::io::Result<ReadOutcome>,
    ) -> Scanned {
        let Worker {
            matcher,
            scratch,
            reader,
            raw,
            local,
            ..
        } = self;
        let findings_before = local.findings.len();
        let outcome = read(reader, &mut |chunk| {
            raw.clear();
            matcher.find(scratch, chunk.data, chunk.owned.clone(), raw);
            if !raw.is_empty() {
                locate(&chunk, origin, matcher.rules(), raw, &mut local.findings);
            }
        });
        match outcome {
            Ok(ReadOutcome::Complete(bytes)) => {
                self.local.stats.files_scanned += 1;
                self.local.stats.bytes_scanned += bytes;
                return Scanned::Bytes(bytes);
            }
            Ok(ReadOutcome::Archive(kind)) => return Scanned::Archive(kind),
            Ok(ReadOutcome::Binary) => self.skip(origin.clone(), SkipReason::Binary),
            Err(error) => {
                // What was read before the error is still reported; the scan is marked incomplete.
                tracing::debug!(path = %origin, found = self.local.findings.len() - findings_before, "read failed part-way");
                let reason = match (archive::limit_of(&error), archive::damage_of(&error)) {
                    (Some(limit), _) => SkipReason::ArchiveLimit { limit },
                    (None, Some(what)) => SkipReason::Damaged { what },
                    (None, None) => files::io_reason(&error),
                };
                self.skip(origin.clone(), reason);
            }
        }
        Scanned::Skipped
    }

    fn skip(&mut self, origin: Origin, reason: SkipReason) {
        match reason {
            SkipReason::Binary | SkipReason::Symlink => {
                tracing::debug!("skipped {origin}: {reason}")
            }
            // Said once the run's copies are settled: a copy read elsewhere may stand for it.
            _ if is_nesting_limit(&reason) => tracing::debug!("shut {origin}: {reason}"),
            SkipReason::Damaged { .. } | SkipReason::Encrypted => {
                tracing::warn!("{origin}: {reason}")
            }
            _ => tracing::warn!("skipped {origin}: {reason}"),
        }
        self.local.stats.skipped.push((origin, reason));
    }
}

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        let local = std::mem::take(&mut self.local);
        let mut shared = self
            .shared
            .collected
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        shared.findings.extend(local.findings);
        shared.suppressed.extend(local.suppressed);
        shared.stats.files_scanned += local.stats.files_scanned;
        shared.stats.bytes_scanned += local.stats.bytes_scanned;
        shared.stats.skipped.extend(local.stats.skipped);
        shared.archive_blobs.extend(local.archive_blobs);
        shared.deferred.extend(local.deferred);
    }
}

/// Blobs larger than this are scanned as they stream from git, on the reading thread, instead
/// of being handed to a worker whole: memory stays bounded whatever a history holds.
const STREAMED_BLOB_SIZE: u64 = 8 << 20;

/// The matcher every source uses: the enabled rules, explaining and decoding as asked.
fn matcher_for<'r>(rules: &'r RuleSet, read: &ReadOptions) -> Matcher<'r> {
    Matcher::new(rules)
        .explaining(read.explain)
        .decoding(read.decode_depth)
}

/// The rule-set digest a cache keys its records by: the enabled rules and every read option
/// that changes what is found in a blob.
pub fn cache_digest(rules: &RuleSet, read: &ReadOptions) -> String {
    let ReadOptions {
        scan_binary,
        chunk_size,
        explain,
        decode_depth,
        archives,
    } = read;
    format!(
        "{} matcher={} binary={scan_binary} chunk={chunk_size} explain={explain} \
         decode={decode_depth} archive-depth={} archive-bytes={}",
        rules.digest(),
        crate::matcher::REVISION,
        archives.max_depth,
        archives.max_bytes
    )
}

/// Live counters of a history scan (or of several, sharing them), for a progress display.
#[derive(Debug, Default)]
pub struct Progress {
    /// Objects to read (of every kind when the packs are read in process, blobs through git).
    pub objects_total: AtomicU64,
    /// Objects read so far.
    pub objects: AtomicU64,
    /// Bytes of blobs scanned so far.
    pub bytes: AtomicU64,
}

/// A reader that fails once, with an error another reader met: what came before it is read,
/// then the error ends the input where it happened.
struct Failing(Option<std::io::Error>);

impl Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        match self.0.take() {
            Some(error) => Err(error),
            None => Ok(0),
        }
    }
}

/// Inputs that were not scanned, each with why.
type Skipped = Vec<(Origin, SkipReason)>;

/// The origin of a blob before attribution gives it a path.
fn blob_origin(oid: String) -> Origin {
    Origin::git(PathBuf::new(), oid)
}

/// Scans every blob of a repository's history once, in parallel, then attributes the blobs
/// with findings to the commits that introduced them.
///
/// The object database is read in process ([`objects`]) unless packs are damaged (the objects
/// recovered from them are lent to git) or the database is one that reader cannot open: then
/// `git cat-file` reads it, as it also reads what a stopped pack traversal left.
pub fn scan_history(
    rules: &RuleSet,
    repo: &Repo,
    history: &HistoryOptions,
    read: &ReadOptions,
    threads: usize,
    progress: &Progress,
    cache: Option<&Cache>,
) -> Result<ScanResult, GitError> {
    let started = Instant::now();
    // Objects recovered from damaged packs are lent to the repository for the whole audit.
    let salvaged = salvage::salvage_damaged_packs(repo)?;
    let with_salvage;
    let repo = if salvaged.is_empty() {
        repo
    } else {
        let dirs = salvaged.iter().map(|s| s.objects_dir().to_path_buf());
        with_salvage = repo.with_borrowed_objects(dirs.collect())?;
        &with_salvage
    };
    let database = if salvaged.is_empty() {
        objects::Database::open(repo)
    } else {
        Err("objects recovered from damaged packs are read by git".to_string())
    };
    let database = database
        .inspect_err(|why| tracing::info!("reading objects through git cat-file: {why}"))
        .ok();
    let matcher = matcher_for(rules, read);
    let collected = Mutex::new(ScanResult::default());
    let copies = Copies::default();
    let shared = Shared {
        collected: &collected,
        copies: &copies,
    };
    let workers = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    };
    let recall = match (cache, &database) {
        (Some(cache), Some(database)) => Some(Recall::load(cache, database)?),
        (Some(_), None) => {
            tracing::warn!(
                "{}: the cache is not used: the objects are read through git",
                repo.git_dir.display()
            );
            None
        }
        (None, _) => None,
    };
    if let Some(recall) = &recall {
        tracing::info!("{}", recall.describe());
    }
    let seen: Seen = Mutex::new(Vec::new());
    let scans: Mutex<Vec<BlobScan>> = Mutex::new(Vec::new());
    let around = (!matcher.is_cheap()).then(|| matcher.around());
    // Reads the database in process; returns the ids of objects nobody could read.
    let read_in_process = |database: &objects::Database,
                           reachable: Option<&HashSet<gix_hash::ObjectId>>|
     -> Result<(Skipped, Vec<String>), GitError> {
        let (packs, loose) = database.counts();
        tracing::info!("reading {packs} packs and {loose} loose objects in process");
        progress
            .objects_total
            .fetch_add(database.objects(), Ordering::Relaxed);
        let wanted = |id: &gix_hash::oid| {
            reachable.is_none_or(|r| r.contains(id)) && recall.as_ref().is_none_or(|r| r.is_new(id))
        };
        let filtered = reachable.is_some() || recall.is_some();
        let reading = objects::Reading {
            wanted: filtered.then_some(&wanted as &objects::Wanted<'_>),
            threads: workers,
            max_object_size: objects::MAX_OBJECT_SIZE,
            changes: around.is_some(),
        };
        let sink = || HistorySink {
            worker: Worker::new(&matcher, read, shared),
            progress,
            seen: recall.as_ref().map(|_| (Vec::new(), &seen)),
            scans: (Vec::new(), &scans),
            around: around.as_ref(),
        };
        let leftovers = objects::read_blobs(database, reading, sink, &progress.objects);
        let whole = scan_whole_after_probes(&scans, &collected);
        if !whole.is_empty() {
            tracing::info!(
                "{} blobs whose changes were matched are scanned whole",
                whole.len()
            );
            read_listed(repo, &whole, &Mutex::new(Vec::new()), |blobs| {
                read_through_git(repo, blobs, &matcher, read, shared, workers, progress)
            })?;
        }
        for (pack, why) in &leftovers.stopped {
            tracing::info!(
                "{}: reading stopped ({why}); git reads the rest",
                pack.display()
            );
        }
        let ids: Vec<String> = leftovers.objects.iter().map(|id| id.to_string()).collect();
        read_listed(repo, &ids, &seen, |blobs| {
            read_through_git(repo, blobs, &matcher, read, shared, workers, progress)
        })
    };
    let (plan, mut skipped) = match (&database, &recall) {
        // Few objects are new: git reads just those, and the packs are left alone.
        (Some(_), Some(recall)) if recall.mostly_known() => {
            let mut plan = history::plan(repo, history, false)?;
            let new: Vec<String> = recall
                .unknown()
                .iter()
                .filter(|id| plan.reachable.as_ref().is_none_or(|r| r.contains(*id)))
                .map(|id| id.to_string())
                .collect();
            tracing::info!(
                "git reads the {} new objects; the packs are not read",
                new.len()
            );
            progress
                .objects_total
                .fetch_add(new.len() as u64, Ordering::Relaxed);
            let (skipped, unreadable) = read_listed(repo, &new, &seen, |blobs| {
                read_through_git(repo, blobs, &matcher, read, shared, workers, progress)
            })?;
            plan.unreadable.extend(unreadable);
            (plan, skipped)
        }
        // With every ref in scope nothing the plan says changes what is read: git works out
        // the commit count and the refs while the packs are read (through a handle of its
        // own: libgit2's is not shared between threads).
        (Some(database), _) if history.refs.is_empty() => std::thread::scope(|scope| {
            let git_dir = &repo.git_dir;
            let planning = scope.spawn(|| history::plan(&Repo::open(git_dir)?, history, false));
            let read = read_in_process(database, None);
            let mut plan = planning.join().expect("planning does not panic")?;
            let (skipped, unreadable) = read?;
            plan.unreadable.extend(unreadable);
            Ok::<_, GitError>((plan, skipped))
        })?,
        (Some(database), _) => {
            let mut plan = history::plan(repo, history, false)?;
            let (skipped, unreadable) = read_in_process(database, plan.reachable.as_ref())?;
            plan.unreadable.extend(unreadable);
            (plan, skipped)
        }
        (None, _) => {
            let plan = history::plan(repo, history, true)?;
            progress
                .objects_total
                .fetch_add(plan.blobs.len() as u64, Ordering::Relaxed);
            let blobs = &plan.blobs;
            let skipped = read_through_git(repo, blobs, &matcher, read, shared, workers, progress)?;
            (plan, skipped)
        }
    };
    if plan.shallow {
        tracing::warn!(
            "{} is a shallow clone: history before its cut-off is not there to scan \
             (`git fetch --unshallow` for a full audit)",
            repo.git_dir.display()
        );
    }
    skipped.extend(damage_report(&plan, &salvaged));
    let mut result = collected.into_inner().unwrap_or_else(|e| e.into_inner());
    result.settle_copies(&copies, None);
    result.stats.skipped.extend(skipped);
    if let (Some(recall), Some(cache)) = (&recall, cache) {
        let seen = seen.into_inner().unwrap_or_else(|e| e.into_inner());
        let all_objects_read = plan.reachable.is_none();
        recall.record(cache, &seen, &result, &plan.unreadable, all_objects_read)?;
        recall.recall(cache, plan.reachable.as_ref(), &mut result)?;
        result
            .stats
            .cache
            .get_or_insert_with(CacheStats::default)
            .blobs_scanned += seen.len() as u64;
    }
    let walk_gap = attribute_findings(
        repo,
        history,
        &plan,
        &mut result.findings,
        &mut result.stats.skipped,
    )?;
    result.stats.skipped.extend(walk_gap);
    result.suppressed = filter::finalize(&mut result.findings, rules);
    result.stats.skipped.sort();
    result.stats.git = Some(GitStats {
        refs: plan.refs as u64,
        commits: plan.commits,
        shallow: plan.shallow,
        staged: false,
    });
    result.stats.elapsed = started.elapsed();
    Ok(result)
}

/// Scans the history of every checked-out submodule, adding its findings under its path.
pub fn scan_submodules(
    repo: &Repo,
    rules: &RuleSet,
    history: &HistoryOptions,
    read: &ReadOptions,
    threads: usize,
    result: &mut ScanResult,
) -> Result<(), GitError> {
    for submodule in repo.repo.submodules()? {
        let Ok(inner) = submodule.open() else {
            tracing::warn!(
                "submodule {} is not checked out; not scanned",
                submodule.path().display()
            );
            continue;
        };
        let inner = Repo::open(inner.path())?;
        let progress = Progress::default();
        let sub = scan_history(rules, &inner, history, read, threads, &progress, None)?;
        let prefix = submodule.path().to_path_buf();
        let prefixed = |path: &str| prefix.join(path).to_string_lossy().into_owned();
        for mut finding in sub.findings {
            if let Origin::Git { path, .. } = &mut finding.origin {
                *path = prefix.join(&*path);
            }
            if let Some(git) = &mut finding.git {
                if let Some(commit) = &mut git.commit {
                    commit.path = prefixed(&commit.path);
                }
                git.paths = git.paths.iter().map(|p| prefixed(p)).collect();
            }
            result.findings.push(finding);
        }
        result.suppressed.extend(sub.suppressed);
        result.stats.files_scanned += sub.stats.files_scanned;
        result.stats.bytes_scanned += sub.stats.bytes_scanned;
        result.stats.skipped.extend(sub.stats.skipped);
    }
    let suppressed = filter::finalize(&mut result.findings, rules);
    result.suppressed.extend(suppressed);
    Ok(())
}

/// The blobs that a probe of their changes cannot vouch for (see [`deltas::to_scan_whole`]),
/// by id, to be scanned whole; the others count as scanned.
fn scan_whole_after_probes(
    scans: &Mutex<Vec<BlobScan>>,
    collected: &Mutex<ScanResult>,
) -> Vec<String> {
    let scans = std::mem::take(&mut *scans.lock().unwrap_or_else(|e| e.into_inner()));
    let whole = deltas::to_scan_whole(&scans);
    let vouched = scans
        .iter()
        .filter(|s| s.base.is_some() && whole.binary_search(&s.id).is_err());
    let mut collected = collected.lock().unwrap_or_else(|e| e.into_inner());
    for scan in vouched {
        collected.stats.files_scanned += 1;
        collected.stats.bytes_scanned += scan.size;
    }
    whole.iter().map(|id| id.to_string()).collect()
}

/// Asks git which of `ids` are blobs, has `read` scan those, and notes them as `seen`;
/// returns what `read` could not read and the objects git could not read at all.
fn read_listed(
    repo: &Repo,
    ids: &[String],
    seen: &Seen,
    read: impl FnOnce(&[catfile::BlobRef]) -> Result<Skipped, GitError>,
) -> Result<(Skipped, Vec<String>), GitError> {
    let listing = catfile::check_objects(repo, ids)?;
    let skipped = read(&listing.blobs)?;
    let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
    for blob in &listing.blobs {
        if let Ok(id) = gix_hash::ObjectId::from_hex(blob.oid.as_bytes()) {
            seen.push((id, blob.size));
        }
    }
    Ok((skipped, listing.unreadable))
}

/// A scanning thread of the in-process reader.
struct HistorySink<'a> {
    worker: Worker<'a>,
    progress: &'a Progress,
    /// With a cache: the blobs this thread scanned, handed to the shared list when it is done.
    seen: Option<(Vec<(gix_hash::ObjectId, u64)>, &'a Seen)>,
    /// How each blob this thread read was scanned (see [`deltas`]), handed over likewise.
    scans: (Vec<BlobScan>, &'a Mutex<Vec<BlobScan>>),
    /// The keyword searches that probe a delta blob's changes, when the matcher is costly
    /// enough for probing to pay (see [`Matcher::is_cheap`]).
    around: Option<&'a Around>,
}

impl HistorySink<'_> {
    fn saw(&mut self, id: &gix_hash::oid, bytes: u64) {
        self.progress.bytes.fetch_add(bytes, Ordering::Relaxed);
        if let Some((seen, _)) = &mut self.seen {
            seen.push((id.to_owned(), bytes));
        }
    }
}

impl Drop for HistorySink<'_> {
    fn drop(&mut self) {
        if let Some((seen, shared)) = &mut self.seen {
            let mut shared = shared.lock().unwrap_or_else(|e| e.into_inner());
            shared.append(seen);
        }
        let (scans, shared) = &mut self.scans;
        shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .append(scans);
    }
}

impl objects::BlobSink for HistorySink<'_> {
    fn blob(&mut self, id: &gix_hash::oid, content: &[u8], changes: Option<objects::Changes<'_>>) {
        let probed = changes.zip(self.around).and_then(|(changes, around)| {
            let found = self
                .worker
                .probe_changes(around, content, changes.changed)?;
            Some(BlobScan {
                id: id.to_owned(),
                size: content.len() as u64,
                base: Some(changes.base.to_owned()),
                text: true,
                found,
            })
        });
        let scan = probed.unwrap_or_else(|| {
            let before = self.worker.local.findings.len();
            self.worker
                .scan_bytes(&blob_origin(id.to_string()), content);
            BlobScan {
                id: id.to_owned(),
                size: content.len() as u64,
                base: None,
                text: self.around.is_some() && self.worker.read_as_text(content),
                found: self.worker.local.findings.len() > before,
            }
        });
        // Without probes nothing asks how a blob was scanned.
        if self.around.is_some() {
            self.scans.0.push(scan);
        }
        self.saw(id, content.len() as u64);
    }

    fn streamed_blob(&mut self, id: &gix_hash::oid, size: u64, content: &mut dyn Read) {
        let origin = blob_origin(id.to_string());
        let read = self.worker.scan_input(&origin, content);
        if read.is_some_and(|read| read < size) {
            let error = format!("the object is cut short: {size} bytes announced");
            self.worker.skip(origin, SkipReason::Unreadable { error });
        }
        self.saw(id, size);
    }

    fn unreadable(&mut self, id: &gix_hash::oid, why: String) {
        tracing::warn!("skipped object {id}: {why}");
        let origin = blob_origin(id.to_string());
        self.worker
            .skip(origin, SkipReason::Unreadable { error: why });
    }
}

/// Reads `blobs` through `git cat-file` and scans them on `workers` threads; returns the blobs
/// git could not read. Blobs over [`STREAMED_BLOB_SIZE`] are scanned as they stream.
fn read_through_git(
    repo: &Repo,
    blobs: &[catfile::BlobRef],
    matcher: &Matcher<'_>,
    read: &ReadOptions,
    shared: Shared<'_>,
    workers: usize,
    progress: &Progress,
) -> Result<Skipped, GitError> {
    if blobs.is_empty() {
        return Ok(Vec::new());
    }
    let mut unreadable = Vec::new();
    std::thread::scope(|scope| -> Result<(), GitError> {
        let (blob_tx, blob_rx) = crossbeam_channel::bounded::<(String, Vec<u8>)>(workers * 4);
        let (spare_tx, spare_rx) = crossbeam_channel::unbounded::<Vec<u8>>();
        for _ in 0..workers {
            let (blob_rx, spare_tx) = (blob_rx.clone(), spare_tx.clone());
            scope.spawn(move || {
                let mut worker = Worker::new(matcher, read, shared);
                for (oid, content) in blob_rx {
                    worker.scan_bytes(&blob_origin(oid), &content);
                    progress.objects.fetch_add(1, Ordering::Relaxed);
                    progress
                        .bytes
                        .fetch_add(content.len() as u64, Ordering::Relaxed);
                    let _ = spare_tx.send(content);
                }
            });
        }
        drop(blob_rx);
        let mut streamer = Worker::new(matcher, read, shared);
        catfile::read_blobs(
            repo,
            blobs,
            |blob, content| {
                if blob.size > STREAMED_BLOB_SIZE {
                    streamer.scan_input(&blob_origin(blob.oid.clone()), content);
                    progress.objects.fetch_add(1, Ordering::Relaxed);
                    progress.bytes.fetch_add(blob.size, Ordering::Relaxed);
                    return Ok(());
                }
                let mut buffer = spare_rx.try_recv().unwrap_or_default();
                buffer.clear();
                content.read_to_end(&mut buffer)?;
                blob_tx
                    .send((blob.oid.clone(), buffer))
                    .map_err(|_| std::io::Error::other("scanning threads stopped"))
            },
            |blob, reason| {
                tracing::warn!("skipped blob {}: {reason}", blob.oid);
                let origin = blob_origin(blob.oid.clone());
                unreadable.push((origin, SkipReason::Unreadable { error: reason }));
            },
        )?;
        drop(blob_tx);
        Ok(())
    })?;
    Ok(unreadable)
}

/// Warns about every part of the repository a history scan could not read, and lists each as
/// a skipped input: damaged packs, objects git cannot read, refs to nothing, objects a partial
/// clone never fetched, and history git could not walk.
fn damage_report(
    plan: &history::Plan,
    salvaged: &[salvage::SalvagedPack],
) -> Vec<(Origin, SkipReason)> {
    /// Objects named one by one in warnings; the JSON report's `skipped` lists them all.
    const NAMED_OBJECTS: usize = 20;
    let origin = |oid: &str, path: &str| Origin::git(PathBuf::from(path), oid.to_string());
    let unreadable = |error: String| SkipReason::Unreadable { error };
    let mut skipped = Vec::new();
    for pack in salvaged {
        let listed = pack
            .listed
            .map_or(String::new(), |n| format!(" of the {n} it lists"));
        let what = format!(
            "damaged pack: {}; {} object{}{listed} read from it",
            pack.problem,
            pack.recovered,
            if pack.recovered == 1 { "" } else { "s" },
        );
        tracing::warn!("{}: {what}", pack.pack.display());
        skipped.push((origin("", &pack.pack.to_string_lossy()), unreadable(what)));
    }
    if let Some(error) = &plan.broken_history {
        tracing::warn!("history is broken: git could not walk all of it ({error})");
        skipped.push((
            origin("", ""),
            unreadable(format!("history git could not walk: {error}")),
        ));
    }
    if !plan.not_fetched.is_empty() {
        let count = plan.not_fetched.len();
        tracing::warn!(
            "{count} object{} of this partial clone's history {} not present locally and {} not \
             scanned (keyhound never fetches; `git fetch --refetch` without a filter brings them)",
            if count == 1 { "" } else { "s" },
            if count == 1 { "is" } else { "are" },
            if count == 1 { "was" } else { "were" },
        );
    }
    for oid in &plan.not_fetched {
        let why = "not present in this partial clone (not fetched)";
        skipped.push((origin(oid, ""), unreadable(why.into())));
    }
    for oid in &plan.missing_at_tips {
        tracing::warn!(
            "object {oid} of HEAD's or a branch's tree is missing from the object database \
             (the repository is damaged; `git fsck` names everything missing)"
        );
        let why = "missing from the object database, though HEAD or a branch tip holds it";
        skipped.push((origin(oid, ""), unreadable(why.into())));
    }
    for (name, error) in &plan.broken_refs {
        tracing::warn!("skipped ref {name}: it does not point at a readable object ({error})");
        let why = format!("a ref that does not point at a readable object: {error}");
        skipped.push((origin("", name), unreadable(why)));
    }
    for (i, oid) in plan.unreadable.iter().enumerate() {
        if i < NAMED_OBJECTS {
            tracing::warn!("skipped object {oid}: git cannot read it (corrupt or missing)");
        } else if i == NAMED_OBJECTS {
            tracing::warn!(
                "skipped {} more objects git cannot read (the JSON report lists them all)",
                plan.unreadable.len() - NAMED_OBJECTS
            );
        }
        let why = "git cannot read this object (corrupt or missing)";
        skipped.push((origin(oid, ""), unreadable(why.into())));
    }
    skipped
}

/// Gives each history finding the path, commit and occurrences of its blob, and each blob that
/// was not read (or not to its end) its path; drops findings in blobs outside the scanned refs
/// unless unreachable blobs were asked for. If git could not walk
/// all of history (broken refs, missing commits or trees), a blob the walk did not reach may
/// still be in history: its findings are kept, marked unplaced. A walk that stopped early is
/// returned as a skipped input.
fn attribute_findings(
    repo: &Repo,
    history: &HistoryOptions,
    plan: &history::Plan,
    findings: &mut Vec<Finding>,
    skipped: &mut [(Origin, SkipReason)],
) -> Result<Option<(Origin, SkipReason)>, GitError> {
    let blob_of = |origin: &Origin| match origin.outermost() {
        Origin::Git { blob, path, .. } if !blob.is_empty() && path.as_os_str().is_empty() => {
            Some(blob.clone())
        }
        _ => None,
    };
    // Blobs skipped as binary are many and need no path; the others are shown at theirs.
    let unread = skipped
        .iter()
        .filter(|(_, reason)| reason.makes_scan_incomplete())
        .filter_map(|(origin, _)| blob_of(origin));
    let wanted: HashSet<String> = findings
        .iter()
        .filter_map(|f| blob_of(&f.origin))
        .chain(unread)
        .collect();
    let attribution = history::attribute(repo, &wanted, &plan.revisions)?;
    for (origin, reason) in skipped.iter_mut() {
        if !reason.makes_scan_incomplete() {
            continue;
        }
        let Some(blob) = blob_of(origin) else {
            continue;
        };
        if let Some(commit) = attribution
            .provenance
            .get(&blob)
            .and_then(|p| p.commit.as_ref())
        {
            let placed = Origin::git(PathBuf::from(&commit.path), blob);
            *origin = std::mem::replace(origin, Origin::Stdin).with_outermost(|_| placed);
        }
    }
    let walked_all = attribution.stopped.is_none()
        && plan.broken_refs.is_empty()
        && plan.broken_history.is_none();
    let mut unplaced = HashSet::new();
    findings.retain_mut(|finding| {
        let Some(blob) = blob_of(&finding.origin) else {
            return true;
        };
        let git = match attribution.provenance.get(&blob) {
            Some(found) => found.clone(),
            None if !walked_all => {
                unplaced.insert(blob.clone());
                GitProvenance {
                    blob: blob.clone(),
                    unplaced: true,
                    ..GitProvenance::default()
                }
            }
            None if history.all_objects => GitProvenance {
                blob: blob.clone(),
                unreachable: true,
                ..GitProvenance::default()
            },
            None => return false,
        };
        if let Some(commit) = &git.commit {
            let placed = Origin::git(PathBuf::from(&commit.path), blob);
            finding.origin =
                std::mem::replace(&mut finding.origin, Origin::Stdin).with_outermost(|_| placed);
            let path = finding.origin.display_path();
            finding.fingerprint = fingerprint(&finding.rule_id, finding.secret.as_bytes(), &path);
        }
        finding.git = Some(git);
        true
    });
    if !unplaced.is_empty() {
        let blobs = unplaced.len();
        tracing::warn!(
            "findings in {blobs} blob{} that the walk of history did not reach are reported \
             without the commit that added them (a broken ref, or a missing commit or tree, may \
             hide where {} in history)",
            if blobs == 1 { "" } else { "s" },
            if blobs == 1 { "it sits" } else { "they sit" },
        );
    }
    Ok(attribution.stopped.map(|error| {
        tracing::warn!("git stopped walking history: {error}");
        let why = format!("history git could not walk to attribute findings: {error}");
        let origin = Origin::git(PathBuf::new(), String::new());
        (origin, SkipReason::Unreadable { error: why })
    }))
}

/// Scans the files a diff source lists, keeping only findings on added lines.
pub fn scan_changes(
    rules: &RuleSet,
    repo: &Repo,
    changes: Changes,
    read: &ReadOptions,
) -> ScanResult {
    let started = Instant::now();
    let matcher = matcher_for(rules, read);
    let collected = Mutex::new(ScanResult::default());
    let copies = Copies::default();
    {
        let shared = Shared {
            collected: &collected,
            copies: &copies,
        };
        let mut worker = Worker::new(&matcher, read, shared);
        for changed in &changes.blobs {
            let origin = changed.origin();
            let blob = match repo.repo.find_blob(changed.blob) {
                Ok(blob) => blob,
                Err(e) => {
                    let error = format!("cannot read blob {}: {}", changed.blob, e.message());
                    worker.skip(origin, SkipReason::Unreadable { error });
                    continue;
                }
            };
            let before = worker.local.findings.len();
            worker.scan_bytes(&origin, blob.content());
            let mut index = before;
            while index < worker.local.findings.len() {
                let finding = &mut worker.local.findings[index];
                if !changed.adds_line(finding.location.line) {
                    worker.local.findings.remove(index);
                    continue;
                }
                finding.git = Some(GitProvenance {
                    blob: changed.blob.to_string(),
                    commit: changed.commit.clone(),
                    paths: vec![changed.path.to_string_lossy().into_owned()],
                    ..GitProvenance::default()
                });
                index += 1;
            }
        }
        worker.local.stats.skipped.extend(changes.skipped);
    }
    let mut result = collected.into_inner().unwrap_or_else(|e| e.into_inner());
    result.settle_copies(&copies, None);
    result.suppressed = filter::finalize(&mut result.findings, rules);
    result.stats.skipped.sort();
    result.stats.git = Some(GitStats {
        refs: 0,
        commits: changes.commits,
        shallow: repo.repo.is_shallow(),
        staged: changes.staged,
    });
    result.stats.elapsed = started.elapsed();
    result
}
