//! Archives and compressed streams: recognised by their first bytes (or, for a zip behind a
//! prefix, its last), each file inside handed on as an input of its own, within limits a
//! hostile archive cannot talk its way past.
//!
//! Nothing is written to disk. Where the caller can address an archive's bytes ([`Input`]: a
//! file, or an archive it holds in memory) a zip is read through its central directory
//! (`zip.rs`); where it can only stream them, from its local headers. A tar is read header by
//! header (`tar.rs`), a compressed stream as it inflates. Every byte inflated counts against the
//! [`Budget`] of the top-level archive it came from; a budget spent, a ratio too high or too
//! many entries stops that archive (what was read before is still scanned), and says which
//! limit stopped it.

use std::cell::Cell;
use std::fmt;
use std::io::{self, Read};

mod tar;
mod zip;

/// A kind of archive or compressed stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Tar,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

impl Kind {
    /// The kind whose magic bytes `head` starts with (a tar's are at offset 257).
    pub fn sniff(head: &[u8]) -> Option<Kind> {
        const BZIP2_BLOCK: [u8; 6] = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
        const BZIP2_END: [u8; 6] = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];
        if head.starts_with(b"PK\x03\x04") {
            Some(Kind::Zip)
        } else if head.starts_with(&[0x1f, 0x8b, 0x08]) {
            Some(Kind::Gzip)
        } else if head.len() >= 10
            && head.starts_with(b"BZh")
            && (b'1'..=b'9').contains(&head[3])
            && (head[4..10] == BZIP2_BLOCK || head[4..10] == BZIP2_END)
        {
            Some(Kind::Bzip2)
        } else if head.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0x00]) {
            Some(Kind::Xz)
        } else if head.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
            Some(Kind::Zstd)
        } else if head.len() >= 262 && &head[257..262] == b"ustar" {
            Some(Kind::Tar)
        } else {
            None
        }
    }

    /// [`Kind::sniff`] for an input held whole: it also tells a zip behind a prefix (a
    /// self-extracting stub, a launch script), which only the end of the input shows.
    pub fn sniff_whole(bytes: &[u8]) -> Option<Kind> {
        Kind::sniff(bytes).or_else(|| {
            // Most scripts end without a zip's end record: that is told without a copy.
            let tail = &bytes[bytes.len().saturating_sub(zip::TAIL as usize)..];
            let prefixed = starts_as_stub(bytes)
                && memchr::memmem::rfind(tail, b"PK\x05\x06").is_some()
                && zip::has_prefixed_directory(&mut io::Cursor::new(bytes));
            prefixed.then_some(Kind::Zip)
        })
    }

    /// Whether the kind holds named entries (zip, tar) rather than one compressed stream.
    pub fn is_container(self) -> bool {
        matches!(self, Kind::Zip | Kind::Tar)
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Zip => "zip",
            Kind::Tar => "tar",
            Kind::Gzip => "gzip",
            Kind::Bzip2 => "bzip2",
            Kind::Xz => "xz",
            Kind::Zstd => "zstd",
        }
    }
}

/// How far archives are opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Containers (zip, tar) opened one inside another; 0 opens none. A compressed stream
    /// around a container (`.tar.gz`) is part of it.
    pub max_depth: u8,
    /// Bytes inflated from one top-level archive, at every depth together.
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 3,
            max_bytes: 1 << 30,
        }
    }
}

/// Entries of one top-level archive, at every depth together.
pub const MAX_ENTRIES: u64 = 1_000_000;

/// Inflated bytes per compressed byte that a stream may reach once it has inflated
/// [`RATIO_GRACE`] bytes: far above what text compresses to, far below what a bomb needs.
pub const MAX_RATIO: u64 = 1000;

/// Inflated bytes a stream may produce before [`MAX_RATIO`] applies: a short run of zeros
/// compresses further than any ratio a limit could sensibly allow.
pub const RATIO_GRACE: u64 = 1 << 20;

/// Compressed streams directly inside one another (`.gz` of a `.gz`) that are opened: a
/// stream that inflates to itself would otherwise never end.
pub const MAX_STACKED_STREAMS: u8 = 2;

/// Why an archive was not read to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// A limit of [`Limits`] or of this module was reached.
    Limit(String),
    /// The archive is damaged, or uses something this reader does not support.
    Unreadable(String),
    /// The archive ends early (cut short, or a checksum over what was read does not match):
    /// everything it holds was read, so nothing is missing from the scan.
    Damaged(String),
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Limit(limit) => write!(f, "stopped at a limit: {limit}"),
            Stop::Unreadable(why) | Stop::Damaged(why) => f.write_str(why),
        }
    }
}

/// What may still be inflated from one top-level archive.
#[derive(Debug)]
pub struct Budget {
    bytes_left: Cell<u64>,
    entries_left: Cell<u64>,
    max_bytes: u64,
    /// The first limit reached: every reader of this archive fails from then on.
    reached: Cell<bool>,
}

impl Budget {
    pub fn new(limits: &Limits) -> Budget {
        Budget {
            bytes_left: Cell::new(limits.max_bytes),
            entries_left: Cell::new(MAX_ENTRIES),
            max_bytes: limits.max_bytes,
            reached: Cell::new(false),
        }
    }

    /// Entries counted so far.
    pub fn entries_taken(&self) -> u64 {
        MAX_ENTRIES - self.entries_left.get()
    }

    /// Counts `count` entries at once (those of a copy of an archive already read, taken
    /// without reading it again); the error is the limit reached.
    pub fn take_entries(&self, count: u64) -> Result<(), Stop> {
        match self.entries_left.get().checked_sub(count) {
            Some(left) => {
                self.entries_left.set(left);
                Ok(())
            }
            None => {
                self.reached.set(true);
                Err(Stop::Limit(format!("more than {MAX_ENTRIES} entries")))
            }
        }
    }

    /// Counts one entry; the error is the limit reached.
    pub(super) fn take_entry(&self) -> Result<(), Stop> {
        match self.entries_left.get() {
            0 => {
                self.reached.set(true);
                Err(Stop::Limit(format!("more than {MAX_ENTRIES} entries")))
            }
            n => {
                self.entries_left.set(n - 1);
                Ok(())
            }
        }
    }
}

/// The error a reader of a budgeted archive fails with once a limit is reached; [`stop_of`]
/// tells it from an I/O error.
#[derive(Debug)]
struct LimitReached(String);

impl fmt::Display for LimitReached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LimitReached {}

/// The damage an I/O error of a stream reports, when the stream was read as far as it goes:
/// it ends early (a truncated archive or compressed file), or its checksum, checked once
/// everything was inflated, does not match. Anything else, such as a corrupt block with more
/// data after it, left content unread.
pub fn damage_of(error: &io::Error) -> Option<String> {
    let checksum = error.kind() == io::ErrorKind::InvalidInput
        && error
            .to_string()
            .contains("does not have a matching checksum");
    (error.kind() == io::ErrorKind::UnexpectedEof || checksum).then(|| error.to_string())
}

/// The limit an I/O error reports, if it is one.
pub fn limit_of(error: &io::Error) -> Option<String> {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<LimitReached>())
        .map(|limit| limit.0.clone())
}

/// Counts what a reader inflates against the budget, and, for a compressed stream, the ratio
/// of what it inflated to what it read (`compressed`).
struct Metered<'b, R> {
    inner: R,
    budget: &'b Budget,
    inflated: u64,
    compressed: Option<&'b Cell<u64>>,
    /// A ratio found too high by the last read: the next one fails (the bytes the last read
    /// returned are scanned first).
    over: Option<String>,
}

impl<'b, R> Metered<'b, R> {
    fn new(inner: R, budget: &'b Budget, compressed: Option<&'b Cell<u64>>) -> Self {
        Metered {
            inner,
            budget,
            inflated: 0,
            compressed,
            over: None,
        }
    }
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let fail = |budget: &Budget, limit: String| {
            budget.reached.set(true);
            Err(io::Error::other(LimitReached(limit)))
        };
        if let Some(limit) = self.over.take() {
            return fail(self.budget, limit);
        }
        if self.budget.reached.get() {
            return fail(self.budget, "an earlier limit of this archive".into());
        }
        let left = self.budget.bytes_left.get();
        if left == 0 {
            let max = self.budget.max_bytes;
            return fail(
                self.budget,
                format!("{max} bytes inflated (--max-archive-bytes)"),
            );
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.budget.bytes_left.set(left - n as u64);
        self.inflated += n as u64;
        if let Some(compressed) = self.compressed {
            let read = compressed.get().max(1);
            if self.inflated > RATIO_GRACE && self.inflated / read > MAX_RATIO {
                self.over = Some(format!("an expansion ratio over {MAX_RATIO} to 1"));
            }
        }
        Ok(n)
    }
}

/// Counts the bytes read from a compressed stream's source.
struct Counted<'c, R> {
    inner: R,
    count: &'c Cell<u64>,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// One file inside an archive.
pub struct Entry<'a> {
    /// Its name in the archive, as the archive gives it (see [`shown_name`]).
    pub name: String,
    pub data: &'a mut dyn Read,
}

/// Why an encrypted entry is not read: keyhound has no key to it, by design.
pub const ENCRYPTED: &str = "encrypted";

/// An entry that is not read, and why ([`ENCRYPTED`], or what keyhound cannot inflate).
pub struct Skipped {
    pub name: String,
    pub why: String,
}

/// Whether `input` is a zip behind a prefix: it starts as an executable or a script does
/// (`MZ`, ELF, `#!`) and ends with a zip's central directory, which starts where its end record
/// says it does, past the prefix. Reads the first bytes and the last 64 KiB or so.
pub fn is_prefixed_zip<R: Read + io::Seek + ?Sized>(input: &mut R) -> bool {
    let mut magic = [0u8; 4];
    input.seek(io::SeekFrom::Start(0)).is_ok()
        && input.read_exact(&mut magic).is_ok()
        && starts_as_stub(&magic)
        && zip::has_prefixed_directory(input)
}

/// Whether `head` starts as an executable or a script does: what a zip's prefix is.
fn starts_as_stub(head: &[u8]) -> bool {
    head.starts_with(b"MZ") || head.starts_with(b"\x7fELF") || head.starts_with(b"#!")
}

/// Where a container's bytes are, which decides how it is read: a zip whose bytes can be
/// addressed is read through its central directory (which is what unzip trusts, and the only
/// place some writers put sizes), one that can only be streamed from its local headers.
pub enum Input<'a> {
    /// Held whole in memory.
    Bytes(&'a [u8]),
    /// A file on disk, which can seek.
    File(&'a mut std::fs::File),
    /// Bytes that can be read once, front to back.
    Stream(&'a mut dyn Read),
}

/// Hands every file of the container `input` to `visit`, metered against `budget`; entries
/// that cannot be read go to `skipped`. Directories, links and devices are passed over. The
/// error says why the container was not read to its end; the entries before it were visited.
/// A limit reached while an entry is read ends the container without an error: the reader of
/// that entry failed with the limit, and that is where it is reported.
pub fn each_entry(
    kind: Kind,
    input: Input<'_>,
    budget: &Budget,
    visit: &mut dyn FnMut(Entry<'_>),
    skipped: &mut dyn FnMut(Skipped),
) -> Result<(), Stop> {
    match (kind, input) {
        (Kind::Zip, Input::Bytes(bytes)) => {
            zip::addressed_entries(&mut io::Cursor::new(bytes), budget, visit, skipped)
        }
        (Kind::Zip, Input::File(file)) => zip::addressed_entries(file, budget, visit, skipped),
        (Kind::Zip, Input::Stream(input)) => zip::streamed_entries(input, budget, visit, skipped),
        (Kind::Tar, Input::Bytes(mut bytes)) => tar::entries(&mut bytes, budget, visit),
        (Kind::Tar, Input::File(file)) => tar::entries(file, budget, visit),
        (Kind::Tar, Input::Stream(input)) => tar::entries(input, budget, visit),
        (kind, _) => Err(Stop::Unreadable(format!(
            "{} is a compressed stream, not a container",
            kind.name()
        ))),
    }
}

/// How much compressed input a decoder is handed at a time. A decoder returns after each
/// helping of input it inflates, so a small one means many short calls: with the default 8 KiB,
/// inflating the planted corpus's 56 gzip files took 17% longer than with 64 KiB. (128 KiB was
/// slower again: buffers that large are mapped and unmapped for every file.)
pub(super) const COMPRESSED_BUFFER: usize = 64 << 10;

/// The most memory an xz stream may ask its decoder for. The largest dictionary `xz -9e` uses
/// is 64 MiB; a header that asks for more (up to 4 GiB) is hostile, and refused rather than
/// allocated. Only `.xz` streams are read, not the legacy `.lzma` format, whose header names a
/// dictionary with no limit checked.
const XZ_MEMORY_LIMIT: u64 = 128 << 20;

/// A reader that fails at once: a decoder that could not be set up.
struct Refused(io::Error);

impl Read for Refused {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::new(self.0.kind(), self.0.to_string()))
    }
}

/// The inflated content of the compressed stream `input`, metered against `budget`.
pub fn inflate<'a>(
    kind: Kind,
    input: &'a mut dyn Read,
    budget: &'a Budget,
    compressed: &'a Cell<u64>,
) -> Box<dyn Read + 'a> {
    let source = io::BufReader::with_capacity(
        COMPRESSED_BUFFER,
        Counted {
            inner: input,
            count: compressed,
        },
    );
    let inflating: Box<dyn Read + 'a> = match kind {
        Kind::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(source)),
        Kind::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(source)),
        Kind::Xz => match liblzma::stream::Stream::new_stream_decoder(
            XZ_MEMORY_LIMIT,
            liblzma::stream::CONCATENATED,
        ) {
            Ok(stream) => Box::new(liblzma::bufread::XzDecoder::new_stream(source, stream)),
            Err(error) => Box::new(Refused(io::Error::other(error))),
        },
        Kind::Zstd => Box::new(ZstdFrames::new(source)),
        Kind::Zip | Kind::Tar => Box::new(source),
    };
    Box::new(Metered::new(inflating, budget, Some(compressed)))
}

/// Whether the compressed stream `bytes` of `kind` starts, once inflated, as an archive or
/// another compressed stream does. Inflates only its first few hundred bytes.
pub fn inflates_to_archive(kind: Kind, bytes: &[u8]) -> bool {
    /// Enough for every kind's magic, a tar's at offset 257 included.
    const HEAD: usize = 512;
    let budget = Budget::new(&Limits::default());
    let compressed = Cell::new(0);
    let mut input = bytes;
    let mut head = Vec::with_capacity(HEAD);
    let inflated = inflate(kind, &mut input, &budget, &compressed);
    // A stream too damaged to inflate its head is opened as it is, to say so where it fails.
    let _ = inflated.take(HEAD as u64).read_to_end(&mut head);
    Kind::sniff(&head).is_some()
}

/// Zstandard frames one after another, as `zstd -d` reads them; a decoder error is an I/O
/// error of the stream.
pub(super) struct ZstdFrames<R: io::BufRead> {
    source: Option<R>,
    frame: Option<ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>>,
}

impl<R: io::BufRead> ZstdFrames<R> {
    pub(super) fn new(source: R) -> Self {
        ZstdFrames {
            source: Some(source),
            frame: None,
        }
    }
}

impl<R: io::BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(frame) = &mut self.frame {
                let n = frame.read(buf)?;
                if n > 0 || buf.is_empty() {
                    return Ok(n);
                }
                self.source = self.frame.take().map(|f| f.into_inner());
            }
            let Some(mut source) = self.source.take() else {
                return Ok(0);
            };
            if source.fill_buf()?.is_empty() {
                return Ok(0);
            }
            let frame = ruzstd::decoding::StreamingDecoder::new(source)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            self.frame = Some(frame);
        }
    }
}

/// Hands one entry to `visit`, metered against `budget`; returns whether the archive goes on.
/// An entry that reached a limit was reported with it, and the rest of the archive is not read.
pub(super) fn hand_over(
    name: String,
    data: &mut dyn Read,
    budget: &Budget,
    visit: &mut dyn FnMut(Entry<'_>),
) -> bool {
    let mut data = Metered::new(data, budget, None);
    visit(Entry {
        name,
        data: &mut data,
    });
    !budget.reached.get()
}

/// An entry name as reports show it: control characters, a leading `/` and `..` components
/// escaped, so a hostile name can neither pass for another path nor disturb a terminal. The
/// name is only ever shown: nothing is written where it points.
pub fn shown_name(name: &str) -> String {
    let mut shown = String::with_capacity(name.len());
    for (i, part) in name.split('/').enumerate() {
        if i > 0 {
            shown.push('/');
        }
        if part == ".." {
            shown.push_str("%2E%2E");
            continue;
        }
        for c in part.chars() {
            match c {
                '%' => shown.push_str("%25"),
                c if c.is_control() => shown.push_str(&format!("%{:02X}", c as u32)),
                c => shown.push(c),
            }
        }
    }
    if let Some(rest) = shown.strip_prefix('/') {
        shown = format!("%2F{rest}");
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_told_by_their_first_bytes() {
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        let cases: [(&[u8], Option<Kind>); 8] = [
            (b"PK\x03\x04rest", Some(Kind::Zip)),
            (&[0x1f, 0x8b, 0x08, 0x00], Some(Kind::Gzip)),
            (b"BZh91AY&SYrest", Some(Kind::Bzip2)),
            (&[0xFD, b'7', b'z', b'X', b'Z', 0x00, 1], Some(Kind::Xz)),
            (&[0x28, 0xB5, 0x2F, 0xFD, 0], Some(Kind::Zstd)),
            (&tar, Some(Kind::Tar)),
            (b"BZh is how this text starts", None),
            (b"AKIA plain text", None),
        ];
        for (head, kind) in cases {
            assert_eq!(Kind::sniff(head), kind, "{head:?}");
        }
    }

    #[test]
    fn hostile_names_are_shown_escaped() {
        assert_eq!(shown_name("a/b.txt"), "a/b.txt");
        assert_eq!(shown_name("../../etc/passwd"), "%2E%2E/%2E%2E/etc/passwd");
        assert_eq!(shown_name("/etc/passwd"), "%2Fetc/passwd");
        assert_eq!(shown_name("a\x1b[31mred\n"), "a%1B[31mred%0A");
        assert_eq!(shown_name("100%"), "100%25");
    }

    #[test]
    fn a_budget_stops_every_reader_of_its_archive() {
        let budget = Budget::new(&Limits {
            max_depth: 3,
            max_bytes: 10,
        });
        let mut first = Metered::new(&[7u8; 8][..], &budget, None);
        let mut out = Vec::new();
        first.read_to_end(&mut out).unwrap();
        let mut second = Metered::new(&[7u8; 8][..], &budget, None);
        let error = second.read_to_end(&mut out).unwrap_err();
        assert_eq!(out.len(), 10);
        let limit = limit_of(&error).expect("a limit");
        assert!(limit.contains("10 bytes"), "{limit}");
    }
}
