//! In-process reading of a repository's object database, for the full-history audit.
//!
//! Each pack is traversed along its delta tree on all cores (gitoxide's `gix-pack`): every
//! delta base is inflated once, each delta is applied on the thread that holds its base, and
//! every blob goes straight to that thread's [`BlobSink`], with no process, pipe or copy in
//! between. Loose objects are inflated as they stream. An object stored in several places
//! (two packs, a pack and a loose file, an alternate object directory) is read once. Asked to
//! ([`Reading::changes`]), the reader also says of each blob stored as a delta which of its
//! ranges the delta's base does not hold as they are ([`Changes`]), so that an audit whose
//! rules are costly to match can match only those.
//!
//! What this reader cannot do is left to `git cat-file` ([`super::catfile`]): a database it
//! cannot open (SHA-256 objects, a quoted alternates entry, a pack or index it does not
//! understand) is read by git whole, and a pack whose traversal stops part way (an object
//! larger than [`MAX_OBJECT_SIZE`], a delta it cannot resolve) hands git the objects it did not
//! reach, so that nothing is silently lost.

use std::collections::HashSet;
use std::io::{self, BufReader, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use gix_hash::{oid, ObjectId};

use super::delta;
use super::Repo;

/// The largest single allocation a pack traversal may make: an object (or delta result) larger
/// than this stops the traversal of its pack, and git reads what is left of that pack, streaming
/// large blobs, so memory stays bounded whatever a history holds.
pub const MAX_OBJECT_SIZE: usize = 128 << 20;

/// How many alternates files deep the object directories are followed (git's own limit).
const MAX_ALTERNATE_DEPTH: usize = 5;

/// A pack whose index and data file are open (memory-mapped).
struct Pack {
    index: gix_pack::index::File,
    data: gix_pack::data::File,
}

/// A loose object's file.
struct Loose {
    id: ObjectId,
    path: PathBuf,
}

/// The object database of a repository, opened for in-process reading.
pub struct Database {
    packs: Vec<Pack>,
    loose: Vec<Loose>,
}

impl Database {
    /// Opens every pack and lists every loose object of the repository's object directory and
    /// of its alternates. The error says why the database cannot be read in process.
    pub fn open(repo: &Repo) -> Result<Database, String> {
        if let Ok(config) = repo.repo.config() {
            if let Ok(format) = config.get_string("extensions.objectformat") {
                if !format.eq_ignore_ascii_case("sha1") {
                    return Err(format!("the repository stores {format} object ids"));
                }
            }
        }
        let mut database = Database {
            packs: Vec::new(),
            loose: Vec::new(),
        };
        for dir in object_dirs(&repo.objects_dir())? {
            database.open_packs(&dir.join("pack"))?;
            database.list_loose(&dir)?;
        }
        Ok(database)
    }

    /// Opens the packs of one `pack/` directory, in name order (every pack with its index; a
    /// pack without one is invisible to git too).
    fn open_packs(&mut self, dir: &Path) -> Result<(), String> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(format!("cannot list {}: {e}", dir.display())),
        };
        let mut indexes: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "idx"))
            .filter(|path| path.with_extension("pack").is_file())
            .collect();
        indexes.sort();
        for path in indexes {
            let index = gix_pack::index::File::at(&path, gix_hash::Kind::Sha1)
                .map_err(|e| format!("cannot open pack index {}: {e}", path.display()))?;
            let pack_path = path.with_extension("pack");
            let data = gix_pack::data::File::at(&pack_path, gix_hash::Kind::Sha1)
                .map_err(|e| format!("cannot open pack {}: {e}", pack_path.display()))?;
            if data.num_objects() != index.num_objects() {
                return Err(format!(
                    "pack {} holds {} objects and its index lists {}",
                    pack_path.display(),
                    data.num_objects(),
                    index.num_objects()
                ));
            }
            self.packs.push(Pack { index, data });
        }
        Ok(())
    }

    /// Lists the loose objects of one object directory (`xx/yyyy…` files).
    fn list_loose(&mut self, dir: &Path) -> Result<(), String> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(format!("cannot list {}: {e}", dir.display())),
        };
        let mut found = Vec::new();
        for fanout in entries.filter_map(Result::ok) {
            let name = fanout.file_name();
            let Some(prefix) = name.to_str().filter(|n| is_hex(n, 2)) else {
                continue;
            };
            let Ok(files) = std::fs::read_dir(fanout.path()) else {
                return Err(format!("cannot list {}", fanout.path().display()));
            };
            for file in files.filter_map(Result::ok) {
                let name = file.file_name();
                let Some(rest) = name.to_str().filter(|n| is_hex(n, 38)) else {
                    continue; // temporary files git leaves while writing
                };
                if let Ok(id) = ObjectId::from_hex(format!("{prefix}{rest}").as_bytes()) {
                    found.push(Loose {
                        id,
                        path: file.path(),
                    });
                }
            }
        }
        found.sort_by_key(|loose| loose.id);
        self.loose.extend(found);
        Ok(())
    }

    /// How many objects the packs and loose files hold (an object in two places counts twice).
    pub fn objects(&self) -> u64 {
        let packed: u64 = self
            .packs
            .iter()
            .map(|p| u64::from(p.index.num_objects()))
            .sum();
        packed + self.loose.len() as u64
    }

    /// Every object id of the packs and loose files, sorted, each once.
    pub fn object_ids(&self) -> Vec<ObjectId> {
        let mut ids: Vec<ObjectId> = self
            .packs
            .iter()
            .flat_map(|pack| pack.index.iter().map(|entry| entry.oid))
            .chain(self.loose.iter().map(|loose| loose.id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// How many packs and loose objects there are, for the log.
    pub fn counts(&self) -> (usize, usize) {
        (self.packs.len(), self.loose.len())
    }

    /// Whether a pack before `pack` (in reading order) holds `id`: it was read there.
    fn in_earlier_pack(&self, pack: usize, id: &oid) -> bool {
        self.packs[..pack]
            .iter()
            .any(|p| p.index.lookup(id).is_some())
    }
}

/// Whether `name` is `len` lowercase hex digits.
fn is_hex(name: &str, len: usize) -> bool {
    name.len() == len && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The repository's object directory, then those its alternates name (and theirs, up to git's
/// depth), then those of `GIT_ALTERNATE_OBJECT_DIRECTORIES`; each once.
fn object_dirs(own: &Path) -> Result<Vec<PathBuf>, String> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut seen = HashSet::new();
    let mut pending = vec![(own.to_path_buf(), 0)];
    if let Some(extra) = std::env::var_os("GIT_ALTERNATE_OBJECT_DIRECTORIES") {
        let extra = std::env::split_paths(&extra).filter(|p| !p.as_os_str().is_empty());
        pending.extend(
            extra
                .map(|dir| (dir, 1))
                .collect::<Vec<_>>()
                .into_iter()
                .rev(),
        );
    }
    pending.reverse();
    while let Some((dir, depth)) = pending.pop() {
        let key = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        if !seen.insert(key) {
            continue;
        }
        let alternates = dir.join("info").join("alternates");
        match std::fs::read(&alternates) {
            Ok(text) if depth < MAX_ALTERNATE_DEPTH => {
                let mut named = Vec::new();
                for line in text.split(|&b| b == b'\n') {
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    if line.is_empty() || line.starts_with(b"#") {
                        continue;
                    }
                    if line.starts_with(b"\"") {
                        return Err(format!("{} names a quoted path", alternates.display()));
                    }
                    let path = Path::new(std::str::from_utf8(line).map_err(|_| {
                        format!("{} names a path that is not UTF-8", alternates.display())
                    })?);
                    named.push((dir.join(path), depth + 1));
                }
                pending.extend(named.into_iter().rev());
            }
            Ok(_) => {
                return Err(format!(
                    "alternates nest more than {MAX_ALTERNATE_DEPTH} deep at {}",
                    alternates.display()
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot read {}: {e}", alternates.display())),
        }
        dirs.push(dir);
    }
    Ok(dirs)
}

/// Receives the blobs a thread reads, on that thread.
pub trait BlobSink: Send {
    /// A blob whose whole content is in memory; with [`Reading::changes`], and when it is
    /// stored as a delta, what the delta says of how it differs from its base.
    fn blob(&mut self, id: &oid, content: &[u8], changes: Option<Changes<'_>>);
    /// A blob read as it is inflated (a loose object); `size` is what its header says.
    fn streamed_blob(&mut self, id: &oid, size: u64, content: &mut dyn Read);
    /// A blob, or an object that may be one, that could not be read, and why.
    fn unreadable(&mut self, id: &oid, why: String);
}

/// What git is left to read after the in-process pass.
#[derive(Debug, Default)]
pub struct Leftovers {
    /// Objects of packs whose traversal stopped, that the traversal did not reach: any kind
    /// (the traversal does not know an object's kind before it reaches it).
    pub objects: Vec<ObjectId>,
    /// Each pack whose traversal stopped, with why.
    pub stopped: Vec<(PathBuf, String)>,
}

/// How a blob stored as a delta differs from the blob the delta was made against.
#[derive(Clone, Copy)]
pub struct Changes<'a> {
    /// The delta's base.
    pub base: &'a oid,
    /// The ranges of the blob that the base does not hold as they are (see
    /// [`delta::changed_ranges`]): in order, not overlapping.
    pub changed: &'a [Range<usize>],
}

/// Says whether a blob is to be handed over.
pub type Wanted<'a> = dyn Fn(&oid) -> bool + Sync + 'a;

/// How [`read_blobs`] reads.
#[derive(Clone, Copy)]
pub struct Reading<'a> {
    /// Which blobs are handed over (every blob when `None`).
    pub wanted: Option<&'a Wanted<'a>>,
    /// Threads that inflate and scan.
    pub threads: usize,
    /// The largest object a pack traversal holds in memory ([`MAX_OBJECT_SIZE`]).
    pub max_object_size: usize,
    /// Work out, for each blob stored as a delta, what its delta changes ([`Changes`]).
    pub changes: bool,
}

/// Reads every blob of `database` once, handing each to a sink made by `make_sink` (one per
/// thread, reused from pack to pack). `visited` counts the objects read, of every kind, as
/// they are read.
pub fn read_blobs<S: BlobSink>(
    database: &Database,
    reading: Reading<'_>,
    make_sink: impl Fn() -> S + Sync,
    visited: &AtomicU64,
) -> Leftovers {
    let Reading {
        wanted,
        threads,
        max_object_size,
        changes,
    } = reading;
    let pool = SinkPool {
        make: &make_sink,
        idle: Mutex::new(Vec::new()),
    };
    let mut leftovers = Leftovers::default();
    for (index, pack) in database.packs.iter().enumerate() {
        let reached_all = Mutex::new(Vec::new());
        let mut reached = Reached {
            local: Vec::new(),
            all: &reached_all,
        };
        let mut lender = SinkLender::new(&pool);
        let offsets = if changes {
            DeltaBases::of(&pack.index)
        } else {
            DeltaBases::default()
        };
        let mut deltas = DeltaReader::new(&offsets, max_object_size);
        let interrupt = AtomicBool::new(false);
        let processor = move |kind: gix_object::Kind,
                              content: &[u8],
                              entry: &gix_pack::index::Entry,
                              _: &dyn gix_utils::progress::Progress|
              -> gix_error::Result {
            visited.fetch_add(1, Ordering::Relaxed);
            if kind != gix_object::Kind::Blob {
                return Ok(());
            }
            reached.local.push(entry.oid);
            if wanted.is_some_and(|w| !w(&entry.oid)) || database.in_earlier_pack(index, &entry.oid)
            {
                return Ok(());
            }
            let changes = if changes {
                deltas.changes(&pack.data, entry.pack_offset, content.len())
            } else {
                None
            };
            lender.sink().blob(&entry.oid, content, changes);
            Ok(())
        };
        let outcome = pack.index.traverse_with_index(
            &pack.data,
            processor,
            &mut gix_utils::progress::Discard,
            &interrupt,
            gix_pack::index::traverse::with_index::Options {
                thread_limit: Some(threads.max(1)),
                check:
                    gix_pack::index::traverse::SafetyCheck::SkipFileAndObjectChecksumVerification,
                alloc_limit_bytes: Some(max_object_size),
            },
        );
        if let Err(error) = outcome {
            let reached: HashSet<ObjectId> = reached_all
                .into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .into_iter()
                .collect();
            let left: Vec<ObjectId> = pack
                .index
                .iter()
                .map(|entry| entry.oid)
                .filter(|id| !reached.contains(id))
                .filter(|id| wanted.is_none_or(|w| w(id)))
                .filter(|id| !database.in_earlier_pack(index, id))
                .collect();
            leftovers.objects.extend(left);
            leftovers
                .stopped
                .push((pack.data.path().to_path_buf(), error.to_string()));
        }
    }
    read_loose(database, wanted, threads, &pool, visited);
    leftovers.objects.sort();
    leftovers
}

/// Reads the loose objects that no pack holds, each once, on `threads` threads.
fn read_loose<S: BlobSink>(
    database: &Database,
    wanted: Option<&Wanted<'_>>,
    threads: usize,
    pool: &SinkPool<'_, S>,
    visited: &AtomicU64,
) {
    let packs = database.packs.len();
    let mut seen = HashSet::new();
    let unique: Vec<&Loose> = database
        .loose
        .iter()
        .filter(|loose| seen.insert(loose.id))
        .filter(|loose| !database.in_earlier_pack(packs, &loose.id))
        .collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1).min(unique.len()) {
            scope.spawn(|| {
                let mut lender = SinkLender::new(pool);
                while let Some(loose) = unique.get(next.fetch_add(1, Ordering::Relaxed)) {
                    visited.fetch_add(1, Ordering::Relaxed);
                    read_loose_object(loose, wanted, &mut lender);
                }
            });
        }
    });
}

/// Inflates one loose object and hands it to a sink if it is a wanted blob.
fn read_loose_object<S: BlobSink>(
    loose: &Loose,
    wanted: Option<&Wanted<'_>>,
    lender: &mut SinkLender<'_, '_, S>,
) {
    let file = match std::fs::File::open(&loose.path) {
        Ok(file) => file,
        // Gone since it was listed: git packed it (a concurrent gc) and the pack was opened
        // before, or it was pruned; either way there is nothing left to read here.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return,
        Err(e) => {
            lender
                .sink()
                .unreadable(&loose.id, format!("cannot open loose object: {e}"));
            return;
        }
    };
    let mut inflated = flate2::read::ZlibDecoder::new(BufReader::with_capacity(1 << 16, file));
    let header = match read_header(&mut inflated) {
        Ok(header) => header,
        Err(e) => {
            lender
                .sink()
                .unreadable(&loose.id, format!("corrupt loose object: {e}"));
            return;
        }
    };
    let (kind, size) = header;
    if kind != gix_object::Kind::Blob || wanted.is_some_and(|w| !w(&loose.id)) {
        return;
    }
    lender
        .sink()
        .streamed_blob(&loose.id, size, &mut (&mut inflated).take(size));
}

/// Reads a loose object's `<kind> <size>\0` header.
fn read_header(input: &mut impl Read) -> io::Result<(gix_object::Kind, u64)> {
    let mut header = Vec::with_capacity(32);
    let mut byte = [0u8; 1];
    loop {
        input.read_exact(&mut byte)?;
        if byte[0] == 0 {
            break;
        }
        if header.len() == 32 {
            return Err(io::Error::other("header longer than 32 bytes"));
        }
        header.push(byte[0]);
    }
    let bad = || io::Error::other(format!("bad header {:?}", String::from_utf8_lossy(&header)));
    let text = std::str::from_utf8(&header).map_err(|_| bad())?;
    let (kind, size) = text.split_once(' ').ok_or_else(bad)?;
    let kind = gix_object::Kind::from_bytes(kind.as_bytes()).map_err(|_| bad())?;
    let size = size.parse().map_err(|_| bad())?;
    Ok((kind, size))
}

/// The objects of a pack by where they start in it, to name the base of an offset delta.
#[derive(Default)]
struct DeltaBases(Vec<(u64, ObjectId)>);

impl DeltaBases {
    fn of(index: &gix_pack::index::File) -> DeltaBases {
        let mut offsets: Vec<(u64, ObjectId)> =
            index.iter().map(|e| (e.pack_offset, e.oid)).collect();
        offsets.sort_unstable_by_key(|(offset, _)| *offset);
        DeltaBases(offsets)
    }

    fn at(&self, offset: u64) -> Option<&ObjectId> {
        let i = self.0.binary_search_by_key(&offset, |(o, _)| *o).ok()?;
        Some(&self.0[i].1)
    }
}

/// Reads the deltas of a pack's blobs again, on one traversal thread, to say what each
/// changes (the traversal applies them but does not show them). Cloning (once per traversal
/// thread) gives a reader with buffers of its own.
struct DeltaReader<'a> {
    bases: &'a DeltaBases,
    max_size: usize,
    inflate: gix_zlib::Inflate,
    delta: Vec<u8>,
    changed: Vec<Range<usize>>,
    base: ObjectId,
}

impl<'a> DeltaReader<'a> {
    fn new(bases: &'a DeltaBases, max_size: usize) -> Self {
        DeltaReader {
            bases,
            max_size,
            inflate: gix_zlib::Inflate::default(),
            delta: Vec::new(),
            changed: Vec::new(),
            base: ObjectId::null(gix_hash::Kind::Sha1),
        }
    }

    /// What the delta stored at `offset` changes of its base, if the entry there is a delta
    /// this reader can read and it builds `size` bytes; None leaves the blob to be read whole.
    fn changes(
        &mut self,
        data: &gix_pack::data::File,
        offset: u64,
        size: usize,
    ) -> Option<Changes<'_>> {
        let entry = data.entry(offset).ok()?;
        self.base = match entry.header {
            gix_pack::data::entry::Header::OfsDelta { base_distance } => *self
                .bases
                .at(entry.checked_base_pack_offset(base_distance)?)?,
            gix_pack::data::entry::Header::RefDelta { base_id } => base_id,
            _ => return None,
        };
        let length = usize::try_from(entry.decompressed_size).ok()?;
        if length > self.max_size {
            return None;
        }
        self.delta.resize(length, 0);
        data.decompress_entry(&entry, &mut self.inflate, &mut self.delta)
            .ok()?;
        self.changed.clear();
        let built = delta::changed_ranges(&self.delta, &mut self.changed).ok()?;
        (built == size).then_some(Changes {
            base: &self.base,
            changed: &self.changed,
        })
    }
}

impl Clone for DeltaReader<'_> {
    fn clone(&self) -> Self {
        DeltaReader::new(self.bases, self.max_size)
    }
}

/// Sinks waiting for a thread: a traversal's threads end with its pack, their sinks do not.
struct SinkPool<'f, S> {
    make: &'f (dyn Fn() -> S + Sync),
    idle: Mutex<Vec<S>>,
}

/// One thread's hold on a sink, taken from the pool on the first blob and given back when the
/// thread is done. Cloning (once per traversal thread) gives a holder with no sink yet.
struct SinkLender<'p, 'f, S> {
    pool: &'p SinkPool<'f, S>,
    sink: Option<S>,
}

impl<'p, 'f, S> SinkLender<'p, 'f, S> {
    fn new(pool: &'p SinkPool<'f, S>) -> Self {
        SinkLender { pool, sink: None }
    }

    fn sink(&mut self) -> &mut S {
        let pool = self.pool;
        self.sink.get_or_insert_with(|| {
            let idle = pool.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            idle.unwrap_or_else(|| (pool.make)())
        })
    }
}

impl<S> Clone for SinkLender<'_, '_, S> {
    fn clone(&self) -> Self {
        SinkLender::new(self.pool)
    }
}

impl<S> Drop for SinkLender<'_, '_, S> {
    fn drop(&mut self) {
        if let Some(sink) = self.sink.take() {
            let mut idle = self.pool.idle.lock().unwrap_or_else(|e| e.into_inner());
            idle.push(sink);
        }
    }
}

/// The blobs one traversal thread reached, gathered into `all` when the thread is done: what
/// a traversal that stops part way did not reach is left to git. Cloning (once per traversal
/// thread) starts an empty list.
struct Reached<'a> {
    local: Vec<ObjectId>,
    all: &'a Mutex<Vec<ObjectId>>,
}

impl Clone for Reached<'_> {
    fn clone(&self) -> Self {
        Reached {
            local: Vec::new(),
            all: self.all,
        }
    }
}

impl Drop for Reached<'_> {
    fn drop(&mut self) {
        if !self.local.is_empty() {
            let mut all = self.all.lock().unwrap_or_else(|e| e.into_inner());
            all.append(&mut self.local);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// Runs `git args…` in `dir`, isolated from the user's configuration; returns stdout.
    fn git(dir: &Path, args: &[&str]) -> String {
        let output = Command::new("git")
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env_remove("GIT_DIR")
            .env_remove("GIT_ALTERNATE_OBJECT_DIRECTORIES")
            .args(["-c", "user.name=T", "-c", "user.email=t@keyhound.invalid"])
            .args(args)
            .output()
            .expect("git runs");
        assert!(output.status.success(), "git {args:?}: {output:?}");
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// A blob as a sink was given it.
    type Blob = (ObjectId, Vec<u8>);

    /// A blob stored as a delta: its id, its base's, and what the delta changes.
    type Delta = (ObjectId, ObjectId, Vec<Range<usize>>);

    /// Every blob a sink was given, in the order given, shared by all the threads' sinks, and
    /// what was said of the changes of those stored as deltas.
    #[derive(Clone, Default)]
    struct Collect(
        std::sync::Arc<Mutex<Vec<Blob>>>,
        std::sync::Arc<Mutex<Vec<Delta>>>,
    );

    impl BlobSink for Collect {
        fn blob(&mut self, id: &oid, content: &[u8], changes: Option<Changes<'_>>) {
            self.0
                .lock()
                .unwrap()
                .push((id.to_owned(), content.to_vec()));
            if let Some(changes) = changes {
                let entry = (
                    id.to_owned(),
                    changes.base.to_owned(),
                    changes.changed.to_vec(),
                );
                self.1.lock().unwrap().push(entry);
            }
        }
        fn streamed_blob(&mut self, id: &oid, size: u64, content: &mut dyn Read) {
            let mut bytes = Vec::new();
            content.read_to_end(&mut bytes).unwrap();
            assert_eq!(bytes.len() as u64, size);
            self.blob(id, &bytes, None);
        }
        fn unreadable(&mut self, id: &oid, why: String) {
            panic!("{id} unreadable: {why}");
        }
    }

    /// The blob ids git lists for the repository at `dir`, each once.
    fn blobs_git_lists(dir: &Path) -> Vec<ObjectId> {
        let listing = git(dir, &["cat-file", "--batch-all-objects", "--batch-check"]);
        let mut ids: Vec<ObjectId> = listing
            .lines()
            .filter(|l| l.contains(" blob "))
            .map(|l| ObjectId::from_hex(&l.as_bytes()[..40]).unwrap())
            .collect();
        ids.sort();
        ids
    }

    fn read_all(dir: &Path, reading: Reading<'_>) -> (Vec<Blob>, Leftovers) {
        let repo = Repo::open(dir).unwrap();
        let database = Database::open(&repo).unwrap();
        let collect = Collect::default();
        let leftovers = read_blobs(&database, reading, || collect.clone(), &AtomicU64::new(0));
        let mut got = collect.0.lock().unwrap().clone();
        got.sort();
        (got, leftovers)
    }

    fn everything(threads: usize) -> Reading<'static> {
        Reading {
            wanted: None,
            threads,
            max_object_size: MAX_OBJECT_SIZE,
            changes: false,
        }
    }

    #[test]
    fn what_a_delta_leaves_unchanged_is_in_its_base_as_it_is() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q"]);
        let mut lines: Vec<String> = (0..400)
            .map(|n| format!("line {n} of the file\n"))
            .collect();
        for round in 0..6 {
            // an edit, an insertion and a deletion at places that move from round to round
            lines[round * 50 + 7] = format!("edited in round {round}\n");
            lines.insert(round * 60 + 3, format!("inserted in round {round}\n"));
            lines.remove(round * 40 + 20);
            std::fs::write(dir.join("f.txt"), lines.concat()).unwrap();
            git(dir, &["add", "-A"]);
            git(dir, &["commit", "-qm", &format!("round {round}")]);
        }
        git(dir, &["repack", "-q", "-a", "-d", "-f", "--depth=10"]);
        let repo = Repo::open(dir).unwrap();
        let database = Database::open(&repo).unwrap();
        let collect = Collect::default();
        let reading = Reading {
            changes: true,
            ..everything(2)
        };
        read_blobs(&database, reading, || collect.clone(), &AtomicU64::new(0));
        let blobs: std::collections::HashMap<ObjectId, Vec<u8>> =
            collect.0.lock().unwrap().iter().cloned().collect();
        let deltas = collect.1.lock().unwrap().clone();
        assert!(
            deltas.len() >= 4,
            "git stores most versions as deltas: {deltas:?}"
        );
        for (id, base, changed) in deltas {
            let (blob, base) = (&blobs[&id], &blobs[&base]);
            assert!(!changed.is_empty() && changed.len() < 40, "{changed:?}");
            let mut at = 0;
            for range in changed
                .iter()
                .chain(std::iter::once(&(blob.len()..blob.len())))
            {
                let unchanged = &blob[at..range.start];
                assert!(
                    memchr::memmem::find(base, unchanged).is_some(),
                    "bytes {at}..{} of {id} are not in its base",
                    range.start
                );
                at = range.end;
            }
        }
    }

    /// A repository whose objects lie in two packs that share some, a multi-pack index,
    /// loose files (one also packed), and an alternate object directory.
    fn scattered_repository(tmp: &Path) -> PathBuf {
        let base = tmp.join("base");
        std::fs::create_dir(&base).unwrap();
        git(&base, &["init", "-q"]);
        for n in 0..3 {
            std::fs::write(
                base.join(format!("f{n}.txt")),
                format!("base {n}\n").repeat(50),
            )
            .unwrap();
            git(&base, &["add", "-A"]);
            git(&base, &["commit", "-qm", &format!("base {n}")]);
        }
        git(&base, &["repack", "-q", "-d"]);
        let repo = tmp.join("repo");
        git(tmp, &["clone", "-q", "--shared", "base", "repo"]);
        for n in 0..4 {
            std::fs::write(repo.join("f0.txt"), format!("edit {n}\n").repeat(60)).unwrap();
            git(&repo, &["add", "-A"]);
            git(&repo, &["commit", "-qm", &format!("edit {n}")]);
            if n == 1 {
                git(&repo, &["repack", "-q", "-d"]); // first pack of the clone's own objects
            }
        }
        // A second pack holding everything of the clone's own, the first one's objects too.
        git(&repo, &["repack", "-q", "-a", "-l"]);
        git(&repo, &["multi-pack-index", "write"]);
        // A loose blob of its own, and a loose copy of a packed blob (git writes none itself).
        std::fs::write(repo.join("new.txt"), "only loose\n").unwrap();
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-qm", "loose"]);
        let packed = git(&repo, &["rev-parse", "HEAD~1:f0.txt"]);
        let content = git(&repo, &["cat-file", "blob", &packed]);
        let mut object = format!("blob {}\0{content}\n", content.len() + 1).into_bytes();
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut encoder, &object).unwrap();
        object = encoder.finish().unwrap();
        let loose = repo.join(".git/objects").join(&packed[..2]);
        std::fs::create_dir_all(&loose).unwrap();
        std::fs::write(loose.join(&packed[2..]), object).unwrap();
        repo
    }

    #[test]
    fn every_blob_is_read_once_wherever_it_is_stored() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = scattered_repository(tmp.path());
        let packs = std::fs::read_dir(repo.join(".git/objects/pack"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "pack")
            })
            .count();
        assert!(packs >= 2, "{packs} packs");
        let expected = blobs_git_lists(&repo);
        for threads in [1, 2, 4] {
            let (got, leftovers) = read_all(&repo, everything(threads));
            let ids: Vec<ObjectId> = got.iter().map(|(id, _)| *id).collect();
            assert_eq!(ids, expected, "{threads} threads");
            assert!(leftovers.objects.is_empty() && leftovers.stopped.is_empty());
            for (id, content) in &got {
                let said = git(&repo, &["cat-file", "blob", &id.to_string()]);
                assert_eq!(String::from_utf8_lossy(content).trim(), said, "{id}");
            }
        }
    }

    #[test]
    fn only_wanted_blobs_are_handed_over() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = scattered_repository(tmp.path());
        let all = blobs_git_lists(&repo);
        let wanted: HashSet<ObjectId> = all.iter().step_by(2).copied().collect();
        let reading = Reading {
            wanted: Some(&|id: &oid| wanted.contains(id)),
            ..everything(2)
        };
        let (got, _) = read_all(&repo, reading);
        let got: HashSet<ObjectId> = got.iter().map(|(id, _)| *id).collect();
        assert_eq!(got, wanted);
    }

    #[test]
    fn a_pack_whose_traversal_stops_leaves_the_rest_to_git() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = scattered_repository(tmp.path());
        git(&repo, &["repack", "-q", "-a", "-d"]);
        let all = blobs_git_lists(&repo);
        // Every blob here is over 10 bytes: the traversal stops at the first object it inflates.
        let reading = Reading {
            max_object_size: 10,
            ..everything(2)
        };
        let (got, leftovers) = read_all(&repo, reading);
        assert_eq!(
            leftovers.stopped.len(),
            2,
            "the clone's pack and its alternate's: {leftovers:?}"
        );
        let got: HashSet<ObjectId> = got.iter().map(|(id, _)| *id).collect();
        let left: HashSet<ObjectId> = leftovers.objects.iter().copied().collect();
        assert!(got.is_disjoint(&left), "a blob read twice");
        let covered: Vec<ObjectId> = all
            .iter()
            .filter(|id| got.contains(*id) || left.contains(*id))
            .copied()
            .collect();
        assert_eq!(covered, all, "a blob neither read nor left to git");
    }

    #[test]
    fn a_corrupt_loose_object_is_named_and_the_rest_read() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q"]);
        std::fs::write(dir.join("a.txt"), "a\n").unwrap();
        std::fs::write(dir.join("b.txt"), "b\n").unwrap();
        git(dir, &["add", "-A"]);
        let bad = git(dir, &["rev-parse", ":b.txt"]);
        let path = dir.join(".git/objects").join(&bad[..2]).join(&bad[2..]);
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, b"not zlib").unwrap();

        #[derive(Clone, Default)]
        struct Named(std::sync::Arc<Mutex<Vec<String>>>);
        impl BlobSink for Named {
            fn blob(&mut self, id: &oid, _: &[u8], _: Option<Changes<'_>>) {
                self.0.lock().unwrap().push(format!("read {id}"));
            }
            fn streamed_blob(&mut self, id: &oid, _: u64, _: &mut dyn Read) {
                self.0.lock().unwrap().push(format!("read {id}"));
            }
            fn unreadable(&mut self, id: &oid, why: String) {
                self.0
                    .lock()
                    .unwrap()
                    .push(format!("unreadable {id}: {why}"));
            }
        }
        let repo = Repo::open(dir).unwrap();
        let database = Database::open(&repo).unwrap();
        let named = Named::default();
        read_blobs(
            &database,
            everything(1),
            || named.clone(),
            &AtomicU64::new(0),
        );
        let mut said = named.0.lock().unwrap().clone();
        said.sort();
        let good = git(dir, &["rev-parse", ":a.txt"]);
        assert_eq!(said.len(), 2, "{said:?}");
        assert_eq!(said[0], format!("read {good}"));
        assert!(
            said[1].starts_with(&format!("unreadable {bad}: corrupt loose object")),
            "{said:?}"
        );
    }

    #[test]
    fn a_quoted_alternates_entry_is_left_to_git() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q"]);
        let alternates = dir.join(".git/objects/info/alternates");
        std::fs::write(&alternates, "\"/elsewhere/objects\"\n").unwrap();
        let repo = Repo::open(dir).unwrap();
        let why = Database::open(&repo).err().unwrap();
        assert!(why.contains("quoted path"), "{why}");
    }
}
