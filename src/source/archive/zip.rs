//! Zip archives (and JARs, WARs, wheels, APKs), read as their writers lay them out.
//!
//! Where the bytes can be addressed (a file, or an archive held in memory) the central
//! directory is read: it is what `unzip` trusts, it finds the entries behind a self-extracting
//! stub or a launch script, and it is the only place streaming writers (`jar`, Java's
//! `ZipOutputStream`, `zip -` to a pipe, Python's `zipfile` on a socket) put the sizes of
//! entries whose local headers say "sizes follow the data" (general-purpose flag bit 3). A zip
//! that can only be streamed is read from its local headers: an entry with a data descriptor
//! ends where its compressed stream ends, or, stored, where a descriptor whose CRC-32 and
//! sizes match the bytes before it stands. A zip whose central directory is missing or
//! damaged is streamed too, so what comes before the damage is still read.

use std::cell::Cell;
use std::io::{self, BufRead, Read, Seek, SeekFrom};

use super::{
    shown_name, Budget, Entry, Metered, Skipped, Stop, ZstdFrames, COMPRESSED_BUFFER, MAX_RATIO,
    RATIO_GRACE,
};

const LOCAL: &[u8; 4] = b"PK\x03\x04";
const CENTRAL: &[u8; 4] = b"PK\x01\x02";
const END: &[u8; 4] = b"PK\x05\x06";
const END64: &[u8; 4] = b"PK\x06\x06";
const END64_LOCATOR: &[u8; 4] = b"PK\x06\x07";
const DESCRIPTOR: &[u8; 4] = b"PK\x07\x08";

const LOCAL_SIZE: usize = 30;
const CENTRAL_SIZE: usize = 46;
const END_SIZE: usize = 22;
const END64_SIZE: usize = 56;
const LOCATOR_SIZE: usize = 20;
/// The end record's comment is at most this long, so the record is within this many bytes of
/// the end (plus its own size).
const MAX_COMMENT: usize = u16::MAX as usize;

const FLAG_ENCRYPTED: u16 = 1;
const FLAG_DESCRIPTOR: u16 = 1 << 3;
/// A 32-bit size or offset that stands for "see the Zip64 extra field".
const SEE_ZIP64: u64 = 0xFFFF_FFFF;
const ZIP64_FIELD: u16 = 0x0001;

/// The largest central directory read into memory from a file: a million entries' worth.
const MAX_CENTRAL_DIRECTORY: u64 = 128 << 20;

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
}

fn damaged(why: impl std::fmt::Display) -> Stop {
    Stop::Unreadable(format!("damaged zip: {why}"))
}

/// The stop for a zip that ends early: everything it holds was read.
fn cut_short(why: impl std::fmt::Display) -> Stop {
    Stop::Damaged(format!("damaged zip: {why}"))
}

/// How an entry's data is compressed, of the methods keyhound inflates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Stored,
    Deflated,
    Bzip2,
    Zstd,
    Xz,
}

impl Method {
    fn of(code: u16) -> Result<Method, String> {
        match code {
            0 => Ok(Method::Stored),
            8 => Ok(Method::Deflated),
            12 => Ok(Method::Bzip2),
            93 => Ok(Method::Zstd),
            95 => Ok(Method::Xz),
            9 => Err("compression method Deflate64 is not supported".into()),
            14 => Err("compression method LZMA is not supported".into()),
            code => Err(format!("compression method {code} is not supported")),
        }
    }

    /// The inflated content of `source`, the entry's compressed bytes.
    fn decoder<'a, R: BufRead + 'a>(self, source: R) -> Box<dyn Read + 'a> {
        match self {
            Method::Stored => Box::new(source),
            Method::Deflated => Box::new(flate2::bufread::DeflateDecoder::new(source)),
            Method::Bzip2 => Box::new(bzip2::bufread::BzDecoder::new(source)),
            Method::Zstd => Box::new(ZstdFrames::new(source)),
            Method::Xz => Box::new(liblzma::bufread::XzDecoder::new(source)),
        }
    }

    /// Whether the compressed data says where it ends, so an entry whose sizes follow it can
    /// be streamed by decoding it.
    fn ends_itself(self) -> bool {
        matches!(self, Method::Deflated | Method::Bzip2)
    }
}

/// What a central directory record or a local header says of one entry.
#[derive(Debug, Clone, Default)]
struct Header {
    name: String,
    flags: u16,
    method: u16,
    crc: u32,
    compressed: u64,
    size: u64,
    /// Where the local header is (central directory records only).
    offset: u64,
    /// A Zip64 extra field is there: a data descriptor then holds 8-byte sizes.
    zip64: bool,
    /// A directory, or a link or device by its Unix mode (central directory records only).
    not_a_file: bool,
}

impl Header {
    fn encrypted(&self) -> bool {
        self.flags & FLAG_ENCRYPTED != 0 || self.method == 99
    }

    /// Reads the Zip64 extra field among `extra`: the 8-byte values of the fields the fixed
    /// part marks with all ones, in the order the format gives them.
    fn read_zip64(&mut self, extra: &[u8], central: bool) {
        let mut at = 0;
        while at + 4 <= extra.len() {
            let (id, len) = (u16_at(extra, at), usize::from(u16_at(extra, at + 2)));
            let field = &extra[at + 4..(at + 4 + len).min(extra.len())];
            at += 4 + len;
            if id != ZIP64_FIELD {
                continue;
            }
            self.zip64 = true;
            let mut values = field.chunks_exact(8).map(|v| u64_at(v, 0));
            // A local header's field holds both sizes whatever the fixed part says.
            if !central || self.size == SEE_ZIP64 {
                if let Some(v) = values.next() {
                    self.size = v;
                }
            }
            if !central || self.compressed == SEE_ZIP64 {
                if let Some(v) = values.next() {
                    self.compressed = v;
                }
            }
            if central && self.offset == SEE_ZIP64 {
                if let Some(v) = values.next() {
                    self.offset = v;
                }
            }
        }
    }

    /// The name, as UTF-8 where the writer says so and where the bytes are (legacy code pages
    /// are shown with replacement characters for what is not ASCII).
    fn name_of(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    fn is_dir_name(&self) -> bool {
        self.name.ends_with('/') || self.name.ends_with('\\')
    }
}

/// The central directory record at the start of `record`; returns it and the record's length.
fn central_record(record: &[u8]) -> Result<(Header, usize), Stop> {
    if record.len() < CENTRAL_SIZE || &record[..4] != CENTRAL {
        return Err(damaged(
            "a central directory record is not where the directory says",
        ));
    }
    let (name_len, extra_len, comment_len) = (
        usize::from(u16_at(record, 28)),
        usize::from(u16_at(record, 30)),
        usize::from(u16_at(record, 32)),
    );
    let len = CENTRAL_SIZE + name_len + extra_len + comment_len;
    if record.len() < len {
        return Err(damaged("the central directory ends inside a record"));
    }
    let made_by_unix = record[5] == 3;
    let mode = u32_at(record, 38) >> 16;
    let file_type = mode & 0o170000;
    let mut header = Header {
        name: Header::name_of(&record[CENTRAL_SIZE..CENTRAL_SIZE + name_len]),
        flags: u16_at(record, 8),
        method: u16_at(record, 10),
        crc: u32_at(record, 16),
        compressed: u64::from(u32_at(record, 20)),
        size: u64::from(u32_at(record, 24)),
        offset: u64::from(u32_at(record, 42)),
        zip64: false,
        not_a_file: made_by_unix && file_type != 0 && file_type != 0o100000,
    };
    let extra = &record[CENTRAL_SIZE + name_len..CENTRAL_SIZE + name_len + extra_len];
    header.read_zip64(extra, true);
    header.not_a_file |= header.is_dir_name();
    Ok((header, len))
}

/// Where the central directory is, by the end records.
struct Directory {
    /// Offset of the first record, as the file holds it (after any prefix).
    start: u64,
    size: u64,
    entries: u64,
    /// Bytes before the archive proper (a self-extracting stub, a launch script) that the
    /// offsets the archive records do not count.
    prefix: u64,
}

/// Finds the end of central directory record in `tail`, the last bytes of an input of `len`
/// bytes: the last signature whose comment reaches exactly the end, else the last signature.
fn find_end(tail: &[u8]) -> Option<usize> {
    let mut last = None;
    let finder = memchr::memmem::rfind_iter(tail, END);
    for at in finder {
        if at + END_SIZE > tail.len() {
            continue;
        }
        let comment = usize::from(u16_at(tail, at + 20));
        if at + END_SIZE + comment == tail.len() {
            return Some(at);
        }
        last.get_or_insert(at);
    }
    last
}

/// How many bytes from the end of an input its end records can start.
pub(super) const TAIL: u64 = (END_SIZE + MAX_COMMENT + LOCATOR_SIZE + END64_SIZE) as u64;

/// Reads `len` bytes at `at`.
fn read_at<R: Read + Seek + ?Sized>(input: &mut R, at: u64, len: usize) -> io::Result<Vec<u8>> {
    input.seek(SeekFrom::Start(at))?;
    let mut bytes = vec![0; len];
    input.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// Locates the central directory of the zip `input` of `len` bytes; None when there is no end
/// record to trust (the zip is then streamed from its local headers).
fn directory<R: Read + Seek + ?Sized>(input: &mut R, len: u64) -> io::Result<Option<Directory>> {
    let tail_start = len.saturating_sub(TAIL);
    let tail = read_at(input, tail_start, (len - tail_start) as usize)?;
    let Some(end) = find_end(&tail) else {
        return Ok(None);
    };
    let record = &tail[end..];
    let (disk, cd_disk) = (u16_at(record, 4), u16_at(record, 6));
    let mut entries = u64::from(u16_at(record, 10));
    let mut size = u64::from(u32_at(record, 12));
    let mut offset = u64::from(u32_at(record, 16));
    // Where the directory ends as the file holds it: at the Zip64 end record if there is one,
    // else at this one.
    let mut directory_end = tail_start + end as u64;
    let locator = end.checked_sub(LOCATOR_SIZE).map(|at| &tail[at..]);
    if let Some(locator) = locator.filter(|l| &l[..4] == END64_LOCATOR) {
        let stated = u64_at(locator, 8);
        // The Zip64 end record normally stands right before its locator; a prefix shifts
        // where the archive says it is, not where it stands.
        let expected = (tail_start + end as u64).saturating_sub((LOCATOR_SIZE + END64_SIZE) as u64);
        let mut found = None;
        for at in [stated, expected] {
            if at + END64_SIZE as u64 <= len {
                let record = read_at(input, at, END64_SIZE)?;
                if &record[..4] == END64 {
                    found = Some((at, record));
                    break;
                }
            }
        }
        if let Some((at, record)) = found {
            entries = u64_at(&record, 32);
            size = u64_at(&record, 40);
            offset = u64_at(&record, 48);
            directory_end = at;
        }
    } else if disk != 0 || cd_disk != 0 {
        return Ok(None);
    }
    let Some(start) = directory_end.checked_sub(size) else {
        return Ok(None);
    };
    let Some(prefix) = start.checked_sub(offset) else {
        return Ok(None);
    };
    Ok(Some(Directory {
        start,
        size,
        entries,
        prefix,
    }))
}

/// Whether `input` ends with the central directory of a zip (one that starts after a prefix,
/// when the input does not start as a zip), with entries.
pub(super) fn has_prefixed_directory<R: Read + Seek + ?Sized>(input: &mut R) -> bool {
    let Ok(len) = input.seek(SeekFrom::End(0)) else {
        return false;
    };
    match directory(input, len) {
        Ok(Some(dir)) if dir.entries > 0 => {
            read_at(input, dir.start, 4).is_ok_and(|sig| sig == CENTRAL)
        }
        _ => false,
    }
}

/// Reads a zip through its central directory; one without a readable end record is streamed
/// from its local headers instead.
pub(super) fn addressed_entries<R: Read + Seek>(
    input: &mut R,
    budget: &Budget,
    visit: &mut dyn FnMut(Entry<'_>),
    skipped: &mut dyn FnMut(Skipped),
) -> Result<(), Stop> {
    let io_damage = |e: io::Error| damaged(e);
    let len = input.seek(SeekFrom::End(0)).map_err(io_damage)?;
    let found = directory(input, len).map_err(io_damage)?;
    let readable = found.filter(|d| d.size <= MAX_CENTRAL_DIRECTORY && d.start + d.size <= len);
    let Some(dir) = readable else {
        input.seek(SeekFrom::Start(0)).map_err(io_damage)?;
        return streamed_entries(input, budget, visit, skipped);
    };
    let records = read_at(input, dir.start, dir.size as usize).map_err(io_damage)?;
    if dir.entries > 0 && !records.starts_with(CENTRAL) {
        input.seek(SeekFrom::Start(0)).map_err(io_damage)?;
        return streamed_entries(input, budget, visit, skipped);
    }
    let mut at = 0;
    while at < records.len() && records[at..].starts_with(CENTRAL) {
        let (header, record_len) = central_record(&records[at..])?;
        at += record_len;
        if header.not_a_file {
            continue;
        }
        budget.take_entry()?;
        match read_addressed(input, &header, dir.prefix, budget, visit)? {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(why) => skipped(Skipped {
                name: header.name,
                why,
            }),
        }
    }
    Ok(())
}

/// Reads the entry `header` describes from its local header on; returns whether the archive
/// goes on, or why the entry could not be read. The error is a limit that stops the archive.
fn read_addressed<R: Read + Seek + ?Sized>(
    input: &mut R,
    header: &Header,
    prefix: u64,
    budget: &Budget,
    visit: &mut dyn FnMut(Entry<'_>),
) -> Result<Result<bool, String>, Stop> {
    let local_at = header.offset.saturating_add(prefix);
    let Some(local) = read_at(input, local_at, LOCAL_SIZE)
        .ok()
        .filter(|local| local.starts_with(LOCAL))
    else {
        return Ok(Err(
            "damaged: its local header is not where the central directory says".into(),
        ));
    };
    if header.encrypted() || u16_at(&local, 6) & FLAG_ENCRYPTED != 0 {
        return Ok(Err(super::ENCRYPTED.into()));
    }
    let method = match Method::of(header.method) {
        Ok(method) => method,
        Err(why) => return Ok(Err(why)),
    };
    check_ratio(header, budget)?;
    let skip = usize::from(u16_at(&local, 26)) + usize::from(u16_at(&local, 28));
    let data_at = local_at + (LOCAL_SIZE + skip) as u64;
    if let Err(e) = input.seek(SeekFrom::Start(data_at)) {
        return Ok(Err(format!("damaged: {e}")));
    }
    let compressed = Cell::new(0);
    let capacity = COMPRESSED_BUFFER.min(usize::try_from(header.compressed).unwrap_or(usize::MAX));
    let source = CountedBuf::new(
        io::BufReader::with_capacity(capacity.max(1), Read::take(&mut *input, header.compressed)),
        &compressed,
    );
    let mut data = Checked::new(method.decoder(source), Some((header.crc, header.size)));
    let mut data = Metered::new(&mut data as &mut dyn Read, budget, Some(&compressed));
    visit(Entry {
        name: header.name.clone(),
        data: &mut data,
    });
    Ok(Ok(!budget.reached.get()))
}

/// An entry whose sizes say it inflates past [`MAX_RATIO`] is a bomb: the archive stops
/// before it is inflated.
fn check_ratio(header: &Header, budget: &Budget) -> Result<(), Stop> {
    let (size, packed) = (header.size, header.compressed.max(1));
    if size > RATIO_GRACE && size / packed > MAX_RATIO {
        budget.reached.set(true);
        return Err(Stop::Limit(format!(
            "entry {} would inflate {size} bytes from {packed}, a ratio over {MAX_RATIO} to 1",
            shown_name(&header.name)
        )));
    }
    Ok(())
}

/// Reads a zip front to back from its local headers, as it streams.
pub(super) fn streamed_entries(
    input: &mut dyn Read,
    budget: &Budget,
    visit: &mut dyn FnMut(Entry<'_>),
    skipped: &mut dyn FnMut(Skipped),
) -> Result<(), Stop> {
    let mut input = Lookahead::new(input);
    let io_damage = |e: io::Error| match super::damage_of(&e) {
        Some(_) => cut_short(e),
        None => damaged(e),
    };
    loop {
        let head = input.peek(4).map_err(io_damage)?;
        if head.is_empty() {
            return Err(cut_short("it ends before its central directory"));
        }
        if head.len() < 4 {
            return Err(cut_short("it ends inside a header"));
        }
        match <&[u8; 4]>::try_from(&head[..4]).expect("four bytes") {
            LOCAL => {}
            CENTRAL | END | END64 => return Ok(()),
            // A spanned archive's marker, as its first bytes.
            DESCRIPTOR => {
                input.consume(4);
                continue;
            }
            _ => return Err(damaged("a local header is not where one should be")),
        }
        let header = input.peek(LOCAL_SIZE).map_err(io_damage)?;
        if header.len() < LOCAL_SIZE {
            return Err(cut_short("it ends inside a local header"));
        }
        let (name_len, extra_len) = (
            usize::from(u16_at(header, 26)),
            usize::from(u16_at(header, 28)),
        );
        let whole = input
            .peek(LOCAL_SIZE + name_len + extra_len)
            .map_err(io_damage)?;
        if whole.len() < LOCAL_SIZE + name_len + extra_len {
            return Err(cut_short("it ends inside a local header"));
        }
        let mut entry = Header {
            name: Header::name_of(&whole[LOCAL_SIZE..LOCAL_SIZE + name_len]),
            flags: u16_at(whole, 6),
            method: u16_at(whole, 8),
            crc: u32_at(whole, 14),
            compressed: u64::from(u32_at(whole, 18)),
            size: u64::from(u32_at(whole, 22)),
            ..Header::default()
        };
        entry.read_zip64(&whole[LOCAL_SIZE + name_len..], false);
        input.consume(LOCAL_SIZE + name_len + extra_len);
        if !streamed_entry(&mut input, &entry, budget, visit, skipped)? {
            return Ok(());
        }
    }
}

/// Reads one entry whose local header `input` has just passed, up to the next header;
/// returns whether the archive goes on.
fn streamed_entry(
    input: &mut Lookahead<'_>,
    header: &Header,
    budget: &Budget,
    visit: &mut dyn FnMut(Entry<'_>),
    skipped: &mut dyn FnMut(Skipped),
) -> Result<bool, Stop> {
    let io_damage = |e: io::Error| {
        let why = format!("entry {}: {e}", shown_name(&header.name));
        match super::damage_of(&e) {
            Some(_) => cut_short(why),
            None => damaged(why),
        }
    };
    let described = header.flags & FLAG_DESCRIPTOR != 0;
    let is_file = !header.is_dir_name();
    if is_file {
        budget.take_entry()?;
    }
    let method = match (header.encrypted(), Method::of(header.method)) {
        (false, Ok(method)) => method,
        (encrypted, method) => {
            // Data that is not inflated is stepped over by its size or, when only a descriptor
            // gives it, to a descriptor whose compressed size matches (the CRC-32 is of data
            // that cannot be read).
            if described {
                let mut data = StoredUntilDescriptor::new(input, header.zip64, false);
                io::copy(&mut data, &mut io::sink()).map_err(io_damage)?;
            } else {
                input.skip(header.compressed).map_err(io_damage)?;
            }
            if is_file {
                let why = match method {
                    Err(why) if !encrypted => why,
                    _ => super::ENCRYPTED.to_string(),
                };
                skipped(Skipped {
                    name: header.name.clone(),
                    why,
                });
            }
            return Ok(true);
        }
    };
    let mut hand_over = |data: &mut dyn Read, compressed: Option<&Cell<u64>>| {
        let mut data = Metered::new(data, budget, compressed);
        if is_file {
            visit(Entry {
                name: header.name.clone(),
                data: &mut data,
            });
        }
        !budget.reached.get()
    };
    if !described {
        check_ratio(header, budget)?;
        let compressed = Cell::new(0);
        let source = CountedBuf::new((&mut *input).take(header.compressed), &compressed);
        let mut data = Checked::new(method.decoder(source), Some((header.crc, header.size)));
        if !hand_over(&mut data, Some(&compressed)) {
            return Ok(false);
        }
        drop(data);
        // What the reader of the entry left, raw.
        let left = header.compressed - compressed.get().min(header.compressed);
        input.skip(left).map_err(io_damage)?;
        return Ok(true);
    }
    if method == Method::Stored {
        let mut data = StoredUntilDescriptor::new(input, header.zip64, true);
        if !hand_over(&mut data, None) {
            return Ok(false);
        }
        io::copy(&mut data, &mut io::sink()).map_err(io_damage)?;
        return Ok(true);
    }
    if !method.ends_itself() {
        return Err(damaged(format!(
            "entry {} gives its size only after its data, and its compression does not say \
             where it ends",
            shown_name(&header.name)
        )));
    }
    // Deflate and bzip2 streams end themselves; the descriptor follows.
    let compressed = Cell::new(0);
    let inflated = {
        let source = CountedBuf::new(&mut *input, &compressed);
        let mut data = Checked::new(method.decoder(source), None);
        if !hand_over(&mut data, Some(&compressed)) {
            return Ok(false);
        }
        // The rest of the entry, inflated to find where it ends; still within the limits.
        let mut rest = Metered::new(&mut data as &mut dyn Read, budget, Some(&compressed));
        io::copy(&mut rest, &mut io::sink()).map_err(|e| match super::limit_of(&e) {
            Some(limit) => Stop::Limit(limit),
            None => io_damage(e),
        })?;
        (data.crc.clone().finalize(), data.len)
    };
    let descriptor = read_descriptor(input, header.zip64).map_err(io_damage)?;
    let matches = descriptor.is_some_and(|(crc, packed, size)| {
        crc == inflated.0 && packed == compressed.get() && size == inflated.1
    });
    if !matches {
        tracing::warn!(
            "zip entry {}: its data descriptor does not match its data",
            shown_name(&header.name)
        );
    }
    Ok(true)
}

/// Reads the data descriptor at the front of `input`: (CRC-32, compressed size, size). None
/// when what stands there is not one.
fn read_descriptor(input: &mut Lookahead<'_>, zip64: bool) -> io::Result<Option<(u32, u64, u64)>> {
    let sizes = if zip64 { 16 } else { 8 };
    let bytes = input.peek(4 + 4 + sizes)?;
    let signed = bytes.starts_with(DESCRIPTOR);
    let at = if signed { 4 } else { 0 };
    if bytes.len() < at + 4 + sizes {
        return Ok(None);
    }
    let crc = u32_at(bytes, at);
    let (packed, size) = if zip64 {
        (u64_at(bytes, at + 4), u64_at(bytes, at + 12))
    } else {
        (
            u64::from(u32_at(bytes, at + 4)),
            u64::from(u32_at(bytes, at + 8)),
        )
    };
    input.consume(at + 4 + sizes);
    Ok(Some((crc, packed, size)))
}

/// The data of a stored (or encrypted) entry whose size only its data descriptor gives: the
/// bytes up to the first place where a descriptor stands whose compressed size is the number
/// of bytes before it and, when `check_crc`, whose CRC-32 and size are theirs. A descriptor may
/// lack its signature; it is then known by the header that follows it.
struct StoredUntilDescriptor<'i, 'r> {
    input: &'i mut Lookahead<'r>,
    zip64: bool,
    check_crc: bool,
    crc: crc32fast::Hasher,
    len: u64,
    done: bool,
}

impl<'i, 'r> StoredUntilDescriptor<'i, 'r> {
    fn new(input: &'i mut Lookahead<'r>, zip64: bool, check_crc: bool) -> Self {
        StoredUntilDescriptor {
            input,
            zip64,
            check_crc,
            crc: crc32fast::Hasher::new(),
            len: 0,
            done: false,
        }
    }

    /// The longest descriptor with the signature of the header after an unsigned one.
    fn window(&self) -> usize {
        4 + 4 + if self.zip64 { 16 } else { 8 } + 4
    }
}

/// Whether a descriptor of an entry starts at `at` in `bytes`, `len` bytes into the entry's
/// data, whose CRC-32 over the bytes before `bytes` is `crc` (checked when `check_crc`);
/// returns the descriptor's length.
fn descriptor_at(
    bytes: &[u8],
    at: usize,
    len: u64,
    zip64: bool,
    crc: Option<&crc32fast::Hasher>,
) -> Option<usize> {
    let sizes = if zip64 { 16 } else { 8 };
    let rest = &bytes[at..];
    let matches = |fields: &[u8]| {
        let stated = u32_at(fields, 0);
        let (packed, size) = if zip64 {
            (u64_at(fields, 4), u64_at(fields, 12))
        } else {
            (u64::from(u32_at(fields, 4)), u64::from(u32_at(fields, 8)))
        };
        let len = len + at as u64;
        let sized = if zip64 {
            packed == len
        } else {
            packed == len & SEE_ZIP64
        };
        match crc {
            _ if !sized => false,
            None => true,
            Some(crc) => {
                let mut hasher = crc.clone();
                hasher.update(&bytes[..at]);
                hasher.finalize() == stated && size == packed
            }
        }
    };
    if rest.len() >= 4 + 4 + sizes && rest.starts_with(DESCRIPTOR) && matches(&rest[4..]) {
        return Some(4 + 4 + sizes);
    }
    let next = rest.get(4 + sizes..4 + sizes + 4);
    let followed = next.is_some_and(|n| [LOCAL, CENTRAL, END, END64].iter().any(|s| n == *s));
    if followed && matches(rest) {
        return Some(4 + sizes);
    }
    None
}

impl Read for StoredUntilDescriptor<'_, '_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.done || out.is_empty() {
            return Ok(0);
        }
        let window = self.window();
        let bytes = self.input.peek(COMPRESSED_BUFFER.max(window * 2))?;
        let at_end = bytes.len() < window;
        // Every place a descriptor could start: at a signature `PK`, or before one by an
        // unsigned descriptor's length.
        let sizes = if self.zip64 { 16 } else { 8 };
        let mut candidates: Vec<usize> = Vec::new();
        for pk in memchr::memmem::find_iter(bytes, b"PK") {
            candidates.push(pk);
            if let Some(before) = pk.checked_sub(4 + sizes) {
                candidates.push(before);
            }
        }
        candidates.sort_unstable();
        let mut release = if at_end {
            bytes.len()
        } else {
            bytes.len() - window
        };
        for at in candidates {
            if at > release {
                break;
            }
            let crc = self.check_crc.then_some(&self.crc);
            if let Some(len) = descriptor_at(bytes, at, self.len, self.zip64, crc) {
                if at == 0 {
                    self.input.consume(len);
                    self.done = true;
                    return Ok(0);
                }
                release = at;
                break;
            }
        }
        if release == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "no data descriptor follows the entry's data",
            ));
        }
        let n = release.min(out.len());
        out[..n].copy_from_slice(&bytes[..n]);
        self.crc.update(&out[..n]);
        self.len += n as u64;
        self.input.consume(n);
        Ok(n)
    }
}

/// The CRC-32 and length of what a reader returned; with the values a header gives, an entry
/// that ends short or whose checksum differs fails at its end.
struct Checked<R> {
    inner: R,
    crc: crc32fast::Hasher,
    len: u64,
    expected: Option<(u32, u64)>,
}

impl<R: Read> Checked<R> {
    fn new(inner: R, expected: Option<(u32, u64)>) -> Self {
        Checked {
            inner,
            crc: crc32fast::Hasher::new(),
            len: 0,
            expected,
        }
    }
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            if let Some((crc, size)) = self.expected {
                if self.len != size {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("the entry ends after {} of its {size} bytes", self.len),
                    ));
                }
                if self.crc.clone().finalize() != crc {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "the entry's CRC-32 does not match its data",
                    ));
                }
            }
            return Ok(0);
        }
        self.crc.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

/// A buffered reader that counts the bytes its user consumes: how much compressed input a
/// decoder took.
struct CountedBuf<'c, R> {
    inner: R,
    count: &'c Cell<u64>,
}

impl<'c, R> CountedBuf<'c, R> {
    fn new(inner: R, count: &'c Cell<u64>) -> Self {
        CountedBuf { inner, count }
    }
}

impl<R: BufRead> Read for CountedBuf<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for CountedBuf<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.count.set(self.count.get() + amount as u64);
        self.inner.consume(amount);
    }
}

/// A buffered reader that can look further ahead than what it has handed out: a header is
/// parsed where it lies, and a descriptor is looked for before the bytes before it go.
struct Lookahead<'r> {
    inner: &'r mut dyn Read,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
}

impl<'r> Lookahead<'r> {
    fn new(inner: &'r mut dyn Read) -> Self {
        Lookahead {
            inner,
            buf: Vec::new(),
            start: 0,
            end: 0,
            eof: false,
        }
    }

    /// At least `n` bytes ahead, or every byte left when fewer are.
    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.end - self.start < n && !self.eof {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            let want = n.max(COMPRESSED_BUFFER);
            if self.buf.len() < want {
                self.buf.resize(want, 0);
            }
            while self.end < n {
                match self.inner.read(&mut self.buf[self.end..]) {
                    Ok(0) => {
                        self.eof = true;
                        break;
                    }
                    Ok(read) => self.end += read,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(&self.buf[self.start..self.end])
    }

    /// Steps over `n` bytes; fails if the input ends first.
    fn skip(&mut self, mut n: u64) -> io::Result<()> {
        while n > 0 {
            let available = self.fill_buf()?;
            if available.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the archive ends inside an entry",
                ));
            }
            let step = available
                .len()
                .min(usize::try_from(n).unwrap_or(usize::MAX));
            self.consume(step);
            n -= step as u64;
        }
        Ok(())
    }
}

impl Read for Lookahead<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Lookahead<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.start == self.end {
            self.peek(1)?;
        }
        Ok(&self.buf[self.start..self.end])
    }

    fn consume(&mut self, amount: usize) {
        self.start = (self.start + amount).min(self.end);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{each_entry, Input, Kind, Limits};
    use super::*;

    /// What reading `zip` hands over: each entry's name and content (or the read error), and
    /// the error that ended the archive.
    type Outcome = (Vec<(String, Result<Vec<u8>, String>)>, Result<(), String>);

    fn read(zip: &[u8], streamed: bool) -> Outcome {
        let budget = Budget::new(&Limits::default());
        let mut entries = Vec::new();
        let mut visit = |entry: Entry<'_>| {
            let mut data = Vec::new();
            let read = entry.data.read_to_end(&mut data).map(|_| data);
            entries.push((entry.name, read.map_err(|e| e.to_string())));
        };
        let mut stream = zip;
        let input = if streamed {
            Input::Stream(&mut stream)
        } else {
            Input::Bytes(zip)
        };
        let end = each_entry(Kind::Zip, input, &budget, &mut visit, &mut |_| {});
        (entries, end.map_err(|e| e.to_string()))
    }

    /// A stored entry written as a streaming writer writes it: sizes and CRC-32 in a data
    /// descriptor after the data, `signed` with its optional signature; then a central
    /// directory.
    fn described_stored(name: &str, data: &[u8], signed: bool) -> Vec<u8> {
        let crc = crc32fast::hash(data);
        let mut zip = Vec::new();
        zip.extend_from_slice(LOCAL);
        zip.extend_from_slice(&[20, 0, 8, 0, 0, 0, 0, 0, 0, 0]);
        zip.extend_from_slice(&[0; 12]);
        zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
        zip.extend_from_slice(&[0, 0]);
        zip.extend_from_slice(name.as_bytes());
        zip.extend_from_slice(data);
        if signed {
            zip.extend_from_slice(DESCRIPTOR);
        }
        zip.extend_from_slice(&crc.to_le_bytes());
        zip.extend_from_slice(&(data.len() as u32).to_le_bytes());
        zip.extend_from_slice(&(data.len() as u32).to_le_bytes());
        let directory = zip.len() as u32;
        zip.extend_from_slice(CENTRAL);
        zip.extend_from_slice(&[20, 3, 20, 0, 8, 0, 0, 0, 0, 0, 0, 0]);
        zip.extend_from_slice(&crc.to_le_bytes());
        zip.extend_from_slice(&(data.len() as u32).to_le_bytes());
        zip.extend_from_slice(&(data.len() as u32).to_le_bytes());
        zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
        zip.extend_from_slice(&[0; 12]);
        zip.extend_from_slice(&0u32.to_le_bytes());
        zip.extend_from_slice(name.as_bytes());
        let size = zip.len() as u32 - directory;
        zip.extend_from_slice(END);
        zip.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
        zip.extend_from_slice(&size.to_le_bytes());
        zip.extend_from_slice(&directory.to_le_bytes());
        zip.extend_from_slice(&[0, 0]);
        zip
    }

    #[test]
    fn a_stored_entry_is_found_by_the_descriptor_that_matches_it_not_by_a_lookalike() {
        // Two megabytes, larger than a read buffer, with things that look like descriptors and
        // headers inside: a signature with the wrong sizes, and one whose sizes match the bytes
        // before it but whose CRC-32 does not.
        let mut data = b"AWS_ACCESS_KEY_ID=AKIA...\n".repeat(80_000);
        data.extend_from_slice(b"PK\x07\x08\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c");
        let lookalike = data.len() as u32;
        data.extend_from_slice(b"PK\x07\x08\0\0\0\0");
        data.extend_from_slice(&lookalike.to_le_bytes());
        data.extend_from_slice(&lookalike.to_le_bytes());
        data.extend_from_slice(b"PK\x03\x04 and the rest of the file\n");
        for signed in [true, false] {
            let zip = described_stored("app/big.env", &data, signed);
            for streamed in [true, false] {
                let (entries, end) = read(&zip, streamed);
                assert_eq!(end, Ok(()), "signed {signed}, streamed {streamed}");
                assert_eq!(entries.len(), 1);
                assert_eq!(entries[0].0, "app/big.env");
                assert_eq!(entries[0].1.as_deref(), Ok(&data[..]), "signed {signed}");
            }
        }
    }

    #[test]
    fn a_stored_entry_whose_descriptor_never_comes_is_damage_not_a_guess() {
        let zip = described_stored("a.env", b"x = 1\n", true);
        let cut = &zip[..LOCAL_SIZE + 5 + 6];
        let (entries, end) = read(cut, true);
        assert!(entries[0].1.is_err(), "{entries:?}");
        assert!(end.is_err());
    }

    #[test]
    fn a_zip_behind_a_script_is_told_by_its_end_and_read_through_its_directory() {
        let zip = described_stored("config/app.properties", b"key = value\n", true);
        let mut prefixed = b"#!/bin/sh\nexec java -jar \"$0\"\n".to_vec();
        prefixed.extend_from_slice(&zip);
        assert_eq!(Kind::sniff_whole(&prefixed), Some(Kind::Zip));
        let (entries, end) = read(&prefixed, false);
        assert_eq!(end, Ok(()));
        assert_eq!(entries[0].1.as_deref(), Ok(&b"key = value\n"[..]));
        // A script that is only a script is not a zip.
        assert_eq!(Kind::sniff_whole(b"#!/bin/sh\necho PK\x05\x06\n"), None);
    }

    #[test]
    fn no_cut_or_changed_byte_of_a_zip_makes_either_reader_panic() {
        let zip = described_stored("a/b.env", &b"AKIA line\n".repeat(30), true);
        for cut in 0..zip.len() {
            let _ = read(&zip[..cut], true);
            let _ = read(&zip[..cut], false);
        }
        let mut changed = zip.clone();
        for at in 0..zip.len() {
            for byte in [0x00, 0xFF, 0x7F] {
                changed[at] = byte;
                let _ = read(&changed, true);
                let _ = read(&changed, false);
                changed[at] = zip[at];
            }
        }
    }
}
