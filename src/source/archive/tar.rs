//! Tar archives as GNU tar and POSIX write them, read header by header: what `tar --list`
//! lists, keyhound reads.
//!
//! A tar is a run of 512-byte blocks: a header, the entry's data padded to a whole block, the
//! next header, and so on to a zero block. The v7 header left no room for long names, large
//! sizes or sparse files, and each writer added them its own way; a reader that knows only some
//! finds wrong names, loses its place, or hands on a sparse file's packed data instead of the
//! file. So this reader takes every form GNU tar 1.34, bsdtar and POSIX writers produce:
//!
//! - v7, ustar and GNU headers, their checksums summed signed or unsigned as GNU tar accepts
//!   them; numbers in octal, or in GNU's base 256 when octal is too short; ustar's `prefix`
//!   joined to the name;
//! - names too long for the header in a GNU long-name header (`L`) or a pax extended header
//!   (`x`, or Solaris's `X`) before it, and a pax `size` for entries over 8 GiB;
//! - sparse files in the four forms GNU tar writes: the old GNU header (`S`) with its extension
//!   blocks, pax formats 0.0 and 0.1 (the map in pax records) and pax 1.0 (the map at the start
//!   of the data). A sparse file is handed on as extracting it gives it back: its data at their
//!   offsets, its holes as zeros, and under its real name rather than the placeholder
//!   (`GNUSparseFile.0/…`) other readers would show.
//!
//! Regular files are handed on; directories, links, devices, FIFOs, GNU dumpdirs, volume labels
//! and multi-volume continuations (the tail of a file whose start is in another volume) are
//! passed over. Damage (a header whose checksum fails, a number that does not parse, a map that
//! goes backwards, an archive that ends inside a header or an entry) stops the archive with
//! what is wrong; the entries before it have been handed on. A size the archive states is
//! never allocated beyond a small bound: extended headers and sparse maps are capped.

use std::io::{self, BufReader, Read};

use super::{hand_over, limit_of, shown_name, Budget, Entry, Stop};

/// The unit of a tar: headers are one block, data is padded to a whole number of blocks.
const BLOCK: usize = 512;

/// What the reader reads from its input at a time: an archive of small files would otherwise
/// cost a read call for every header and every padding.
const READ_BUFFER: usize = 64 << 10;

/// The largest extended header (GNU long name, pax records) read: a name or a set of records
/// is far shorter, and the header is held in memory.
const MAX_EXTENDED_HEADER: u64 = 1 << 20;

/// The most data segments a sparse file's map may hold; each is held in memory.
const MAX_SPARSE_SEGMENTS: u64 = 1_000_000;

// Where a header's fields are.
const NAME: std::ops::Range<usize> = 0..100;
const SIZE: std::ops::Range<usize> = 124..136;
const CHECKSUM: std::ops::Range<usize> = 148..156;
const TYPEFLAG: usize = 156;
const MAGIC: std::ops::Range<usize> = 257..263;
const PREFIX: std::ops::Range<usize> = 345..500;
/// Old GNU sparse header (`S`): four map entries of an offset and a length, 12 bytes each.
const OLD_GNU_MAP: std::ops::Range<usize> = 386..482;
const OLD_GNU_IS_EXTENDED: usize = 482;
const OLD_GNU_REAL_SIZE: std::ops::Range<usize> = 483..495;
/// A sparse extension block: 21 more map entries, then whether another block follows.
const EXTENSION_MAP: std::ops::Range<usize> = 0..504;
const EXTENSION_IS_EXTENDED: usize = 504;
const MAP_ENTRY: usize = 24;

/// The magic of a POSIX ustar header, the only one with a `prefix` field (GNU's is
/// `ustar  \0`).
const USTAR_MAGIC: &[u8] = b"ustar\0";

// Typeflags of the headers that describe the next entry rather than being one.
const GNU_LONG_NAME: u8 = b'L';
const GNU_LONG_LINK: u8 = b'K';
const PAX_EXTENDED: u8 = b'x';
const SOLARIS_EXTENDED: u8 = b'X';
const PAX_GLOBAL: u8 = b'g';

// Typeflags of entries.
const OLD_REGULAR: u8 = b'\0';
const HARD_LINK: u8 = b'1';
const OLD_GNU_SPARSE: u8 = b'S';

/// The stop for a tar that is damaged: what is wrong with it, said as every tar error is.
fn damaged(why: impl std::fmt::Display) -> Stop {
    Stop::Unreadable(format!("damaged tar: {why}"))
}

/// The stop for a tar that ends early: everything it holds was read.
fn cut_short(why: impl std::fmt::Display) -> Stop {
    Stop::Damaged(format!("damaged tar: {why}"))
}

/// The stop an I/O error of the archive's input means: a limit of the archive around it (a
/// `.tar.gz` inflating too much), an input that ends early, or damage.
fn read_failure(error: io::Error) -> Stop {
    match limit_of(&error) {
        Some(limit) => Stop::Limit(limit),
        None if super::damage_of(&error).is_some() => cut_short(error),
        None => damaged(error),
    }
}

/// Hands every regular file of the tar `input` to `visit`.
pub(super) fn entries(
    input: &mut dyn Read,
    budget: &Budget,
    visit: &mut dyn FnMut(Entry<'_>),
) -> Result<(), Stop> {
    let mut blocks = Blocks {
        input: BufReader::with_capacity(READ_BUFFER, input),
    };
    let mut described = Described::default();
    while let Some(header) = blocks.next_header()? {
        match header.typeflag() {
            GNU_LONG_NAME => {
                described.long_name = Some(until_nul(&blocks.extended(header.size()?)?).to_vec());
            }
            PAX_EXTENDED | SOLARIS_EXTENDED => {
                described.pax.read(&blocks.extended(header.size()?)?)?;
            }
            // A long link target names no file; a global header's keywords are not applied:
            // GNU tar would give every later entry its `path`, which names none of them.
            GNU_LONG_LINK | PAX_GLOBAL => blocks.skip_extended(header.size()?)?,
            _ => {
                let described = std::mem::take(&mut described);
                if !entry(&mut blocks, &header, &described, budget, visit)? {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// Reads or passes over the entry `header` starts, as the extended headers before it
/// `described` it; returns whether the archive goes on.
fn entry(
    blocks: &mut Blocks<'_>,
    header: &Header,
    described: &Described,
    budget: &Budget,
    visit: &mut dyn FnMut(Entry<'_>),
) -> Result<bool, Stop> {
    // GNU tar stores no data for a hard link, whatever its size field says.
    if header.typeflag() == HARD_LINK {
        return Ok(true);
    }
    let stored = match described.pax.size {
        Some(size) => size,
        None => header.size()?,
    };
    let name = described.name(header);
    if !is_file(header.typeflag(), &name) {
        return blocks.skip_data(stored).map(|()| true);
    }
    budget.take_entry()?;
    let sparse = if header.typeflag() == OLD_GNU_SPARSE {
        Some(Sparse::Mapped(header.old_gnu_map(blocks)?))
    } else {
        described.pax.sparse.form(stored)?
    };
    let name = String::from_utf8_lossy(&name).into_owned();
    let mut data = blocks.data(stored);
    let goes_on = match sparse {
        None => hand_over(name, &mut data, budget, visit),
        Some(sparse) => hand_over_sparse(name, &mut data, sparse, budget, visit)?,
    };
    if !goes_on {
        return Ok(false);
    }
    // What the visitor left unread, then the padding.
    io::copy(&mut data, &mut io::sink()).map_err(read_failure)?;
    blocks.skip_padding(stored)?;
    Ok(true)
}

/// Hands on the sparse file named `name` as `sparse` lays out its stored `data`; returns
/// whether the archive goes on.
fn hand_over_sparse(
    name: String,
    data: &mut Stored<'_, '_>,
    sparse: Sparse,
    budget: &Budget,
    visit: &mut dyn FnMut(Entry<'_>),
) -> Result<bool, Stop> {
    let map = match sparse {
        Sparse::Mapped(map) => map,
        Sparse::MapInData { real_size } => map_in_data(data, real_size)?,
    };
    if map.data_len > data.left {
        return Err(damaged(format!(
            "sparse file {}: its map places more data than the entry holds",
            shown_name(&name)
        )));
    }
    Ok(hand_over(
        name,
        &mut Expanded::new(data, &map),
        budget,
        visit,
    ))
}

/// Whether an entry of `typeflag` named `name` is a file to read. A type GNU tar does not know
/// it extracts as a regular file, and so is it read here.
fn is_file(typeflag: u8, name: &[u8]) -> bool {
    match typeflag {
        // Before typeflags, a trailing slash was what made a directory.
        OLD_REGULAR => !name.ends_with(b"/"),
        // Links, devices, directories, FIFOs; GNU dumpdirs, multi-volume continuations (the
        // tail of a file whose start is in another volume), volume labels.
        b'1'..=b'6' | b'D' | b'M' | b'V' => false,
        _ => true,
    }
}

/// The bytes of `field` before its first NUL: how C strings end in tar headers.
fn until_nul(field: &[u8]) -> &[u8] {
    match memchr::memchr(0, field) {
        Some(end) => &field[..end],
        None => field,
    }
}

/// The number in a header's numeric field, as GNU tar reads it: octal digits after optional
/// spaces, ended by a space, a NUL or the field's end (an empty field is 0); or, when the
/// first byte's high bit is set, a big-endian base-256 number (GNU's form for sizes over
/// 8 GiB). None for anything else, or a negative number.
fn number(field: &[u8]) -> Option<u64> {
    match field.first() {
        Some(&first) if first & 0x80 != 0 => base_256(first, &field[1..]),
        _ => octal(field),
    }
}

/// A GNU base-256 number: bit 6 of `first` is its sign, the rest of `first` and then `rest`
/// its magnitude.
fn base_256(first: u8, rest: &[u8]) -> Option<u64> {
    if first & 0x40 != 0 {
        return None;
    }
    rest.iter()
        .try_fold(u64::from(first & 0x3f), |value, &byte| {
            value.checked_mul(256).map(|value| value | u64::from(byte))
        })
}

/// An octal number field, as [`number`] reads it.
fn octal(field: &[u8]) -> Option<u64> {
    let start = field.iter().position(|&b| b != b' ')?;
    let digits = &field[start..];
    let end = digits
        .iter()
        .position(|b| !(b'0'..=b'7').contains(b))
        .unwrap_or(digits.len());
    if !matches!(digits.get(end), None | Some(b' ' | b'\0')) {
        return None;
    }
    digits[..end].iter().try_fold(0u64, |value, &digit| {
        value
            .checked_mul(8)
            .map(|value| value | u64::from(digit - b'0'))
    })
}

/// A decimal number as pax records and sparse maps write them: digits only.
fn decimal(text: &[u8]) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    text.iter().try_fold(0u64, |value, &digit| {
        if !digit.is_ascii_digit() {
            return None;
        }
        value.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
    })
}

/// Whether `block`'s checksum field holds the sum of its bytes (the field itself counted as
/// spaces), summed unsigned as POSIX says or signed as some old writers did.
fn checksum_matches(block: &[u8; BLOCK]) -> bool {
    let Some(recorded) = number(&block[CHECKSUM]) else {
        return false;
    };
    let (mut unsigned, mut signed) = (0u64, 0i64);
    for (at, &byte) in block.iter().enumerate() {
        let byte = if CHECKSUM.contains(&at) { b' ' } else { byte };
        unsigned += u64::from(byte);
        signed += i64::from(byte as i8);
    }
    recorded == unsigned || i64::try_from(recorded).is_ok_and(|recorded| recorded == signed)
}

/// One header block, its checksum verified.
struct Header([u8; BLOCK]);

impl Header {
    /// What the entry is: a file, a link, an extended header for the next entry, ….
    fn typeflag(&self) -> u8 {
        self.0[TYPEFLAG]
    }

    /// The size of the data that follows the header, as its size field says.
    fn size(&self) -> Result<u64, Stop> {
        number(&self.0[SIZE]).ok_or_else(|| damaged("a header's size field is not a number"))
    }

    /// The name the header itself holds: a ustar header's `prefix`, if any, joined to its
    /// `name` (GNU and v7 headers have other fields where ustar has the prefix).
    fn name(&self) -> Vec<u8> {
        let name = until_nul(&self.0[NAME]);
        let prefix = until_nul(&self.0[PREFIX]);
        if &self.0[MAGIC] != USTAR_MAGIC || prefix.is_empty() {
            return name.to_vec();
        }
        [prefix, b"/", name].concat()
    }

    /// The sparse map of an old GNU sparse header (`S`): its own four entries, then those of
    /// the extension blocks that follow it while each says another follows.
    fn old_gnu_map(&self, blocks: &mut Blocks<'_>) -> Result<SparseMap, Stop> {
        let real_size = number(&self.0[OLD_GNU_REAL_SIZE])
            .ok_or_else(|| damaged("a sparse header's real size is not a number"))?;
        let mut map = SparseMap::new(real_size);
        map.add_old_gnu_entries(&self.0[OLD_GNU_MAP])?;
        let mut extended = self.0[OLD_GNU_IS_EXTENDED] != 0;
        while extended {
            let block = blocks
                .block()?
                .ok_or_else(|| cut_short("the archive ends inside a sparse file's header"))?;
            map.add_old_gnu_entries(&block[EXTENSION_MAP])?;
            extended = block[EXTENSION_IS_EXTENDED] != 0;
        }
        Ok(map)
    }
}

/// The archive's blocks, read through a buffer.
struct Blocks<'r> {
    input: BufReader<&'r mut dyn Read>,
}

impl<'r> Blocks<'r> {
    /// The next block; None when the input ends before it, damage when it ends inside it.
    fn block(&mut self) -> Result<Option<[u8; BLOCK]>, Stop> {
        let mut block = [0u8; BLOCK];
        let mut filled = 0;
        while filled < BLOCK {
            match self.input.read(&mut block[filled..]) {
                Ok(0) if filled == 0 => return Ok(None),
                Ok(0) => return Err(cut_short("the archive ends inside a header")),
                Ok(read) => filled += read,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(read_failure(e)),
            }
        }
        Ok(Some(block))
    }

    /// The next header; None at the end of the archive: a zero block (GNU tar stops at the
    /// first, whatever follows), or the input's end where a header would start.
    fn next_header(&mut self) -> Result<Option<Header>, Stop> {
        let Some(block) = self.block()? else {
            return Ok(None);
        };
        if block.iter().all(|&b| b == 0) {
            return Ok(None);
        }
        if !checksum_matches(&block) {
            return Err(damaged("a header's checksum does not match it"));
        }
        Ok(Some(Header(block)))
    }

    /// The next `len` bytes, an entry's data.
    fn data(&mut self, len: u64) -> Stored<'_, 'r> {
        Stored {
            input: &mut self.input,
            left: len,
        }
    }

    /// Steps over an entry's `len` bytes of data and their padding.
    fn skip_data(&mut self, len: u64) -> Result<(), Stop> {
        io::copy(&mut self.data(len), &mut io::sink()).map_err(read_failure)?;
        self.skip_padding(len)
    }

    /// Steps over the padding after `len` bytes of data.
    fn skip_padding(&mut self, len: u64) -> Result<(), Stop> {
        let padding = len.next_multiple_of(BLOCK as u64) - len;
        io::copy(&mut self.data(padding), &mut io::sink()).map_err(read_failure)?;
        Ok(())
    }

    /// The `len` bytes of an extended header's data (and steps over their padding).
    fn extended(&mut self, len: u64) -> Result<Vec<u8>, Stop> {
        check_extended(len)?;
        let mut bytes = Vec::new();
        self.data(len)
            .read_to_end(&mut bytes)
            .map_err(read_failure)?;
        self.skip_padding(len)?;
        Ok(bytes)
    }

    /// Steps over an extended header that says nothing keyhound uses.
    fn skip_extended(&mut self, len: u64) -> Result<(), Stop> {
        check_extended(len)?;
        self.skip_data(len)
    }
}

/// Fails for an extended header too large to be one.
fn check_extended(len: u64) -> Result<(), Stop> {
    if len > MAX_EXTENDED_HEADER {
        return Err(damaged(format!(
            "an extended header claims {len} bytes (at most {MAX_EXTENDED_HEADER} are read)"
        )));
    }
    Ok(())
}

/// An entry's data as stored in the archive: the input's next `left` bytes. The input ending
/// before them is an error.
struct Stored<'a, 'r> {
    input: &'a mut BufReader<&'r mut dyn Read>,
    left: u64,
}

impl Read for Stored<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let read = self.input.read(&mut buf[..want])?;
        if read == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the archive ends inside an entry's data",
            ));
        }
        self.left -= read as u64;
        Ok(read)
    }
}

/// What the extended headers before an entry say of it.
#[derive(Default)]
struct Described {
    /// A GNU long name (`L`).
    long_name: Option<Vec<u8>>,
    pax: Pax,
}

impl Described {
    /// The entry's name: a GNU sparse file's real name, else the pax `path`, else the GNU long
    /// name, else the header's own, as GNU tar ranks them.
    fn name(&self, header: &Header) -> Vec<u8> {
        let extended = [&self.pax.sparse.name, &self.pax.path, &self.long_name];
        match extended.into_iter().flatten().next() {
            Some(name) => until_nul(name).to_vec(),
            None => header.name(),
        }
    }
}

/// The pax records (`x` headers) before an entry that keyhound uses. Others (`linkpath`,
/// times, owners, attributes) are read over: they say nothing of a file's name or content.
#[derive(Default)]
struct Pax {
    path: Option<Vec<u8>>,
    /// The size of the entry's data in the archive, for sizes the header's field cannot hold.
    size: Option<u64>,
    sparse: PaxSparse,
}

impl Pax {
    /// Reads the records of an extended header's `data`; NULs after the last are padding.
    fn read(&mut self, mut data: &[u8]) -> Result<(), Stop> {
        while data.first().is_some_and(|&b| b != 0) {
            let record = record(data)?;
            self.apply(record.key, record.value)?;
            data = record.rest;
        }
        Ok(())
    }

    /// Takes in the record `key=value`; a number that does not parse is damage.
    fn apply(&mut self, key: &[u8], value: &[u8]) -> Result<(), Stop> {
        let number = || {
            decimal(value).ok_or_else(|| {
                damaged(format!(
                    "pax record {} is not a number",
                    String::from_utf8_lossy(key)
                ))
            })
        };
        let sparse = &mut self.sparse;
        match key {
            // An empty value undoes a global record; globals are not applied here.
            b"path" => self.path = (!value.is_empty()).then(|| value.to_vec()),
            b"size" => self.size = Some(number()?),
            b"GNU.sparse.name" => sparse.name = Some(value.to_vec()),
            b"GNU.sparse.size" | b"GNU.sparse.realsize" => sparse.real_size = Some(number()?),
            b"GNU.sparse.major" => sparse.major = Some(number()?),
            b"GNU.sparse.minor" => sparse.minor = Some(number()?),
            b"GNU.sparse.offset" => sparse.offset = Some(number()?),
            b"GNU.sparse.numbytes" => {
                let offset = sparse.offset.take().ok_or_else(|| {
                    damaged("pax record GNU.sparse.numbytes without a GNU.sparse.offset")
                })?;
                let len = number()?;
                sparse
                    .segments
                    .get_or_insert_with(Vec::new)
                    .push((offset, len));
            }
            b"GNU.sparse.map" => sparse.segments = Some(listed_segments(value)?),
            _ => {}
        }
        Ok(())
    }
}

/// One pax record, `<length> <key>=<value>\n`, the length counting the whole record.
struct Record<'d> {
    key: &'d [u8],
    value: &'d [u8],
    /// The records after it.
    rest: &'d [u8],
}

/// The first pax record of `data`.
fn record(data: &[u8]) -> Result<Record<'_>, Stop> {
    let malformed = || damaged("a pax extended header holds a malformed record");
    let space = memchr::memchr(b' ', data).ok_or_else(malformed)?;
    let len = decimal(&data[..space])
        .and_then(|len| usize::try_from(len).ok())
        .filter(|&len| len > space + 1 && len <= data.len() && data[len - 1] == b'\n')
        .ok_or_else(malformed)?;
    let body = &data[space + 1..len - 1];
    let equals = memchr::memchr(b'=', body).ok_or_else(malformed)?;
    Ok(Record {
        key: &body[..equals],
        value: &body[equals + 1..],
        rest: &data[len..],
    })
}

/// The segments of a pax 0.1 `GNU.sparse.map`: offsets and lengths, all comma-separated.
fn listed_segments(map: &[u8]) -> Result<Vec<(u64, u64)>, Stop> {
    if map.is_empty() {
        return Ok(Vec::new());
    }
    let numbers = map
        .split(|&b| b == b',')
        .map(decimal)
        .collect::<Option<Vec<u64>>>()
        .ok_or_else(|| damaged("pax record GNU.sparse.map holds something not a number"))?;
    if numbers.len() % 2 != 0 {
        return Err(damaged(
            "pax record GNU.sparse.map has an offset without a length",
        ));
    }
    Ok(numbers
        .chunks_exact(2)
        .map(|pair| (pair[0], pair[1]))
        .collect())
}

/// What pax records say of a GNU sparse file.
#[derive(Default)]
struct PaxSparse {
    /// The file's real name (formats 0.1 and 1.0 give the header a placeholder).
    name: Option<Vec<u8>>,
    /// The file's size once its holes are filled.
    real_size: Option<u64>,
    major: Option<u64>,
    minor: Option<u64>,
    /// The segments the records list (formats 0.0 and 0.1), as offset and length.
    segments: Option<Vec<(u64, u64)>>,
    /// A format 0.0 offset waiting for the length that follows it.
    offset: Option<u64>,
}

impl PaxSparse {
    /// How the entry is sparse, if it is; `stored` is the size of its data in the archive,
    /// the real size where no record gives one (as GNU tar takes it).
    fn form(&self, stored: u64) -> Result<Option<Sparse>, Stop> {
        let real_size = self.real_size.unwrap_or(stored);
        match (self.major, self.minor) {
            (Some(1), None | Some(0)) => return Ok(Some(Sparse::MapInData { real_size })),
            (Some(major), minor) if major > 0 => {
                return Err(Stop::Unreadable(format!(
                    "tar: GNU sparse format {major}.{} is not supported",
                    minor.unwrap_or(0)
                )))
            }
            _ => {}
        }
        let Some(segments) = &self.segments else {
            return Ok(None);
        };
        let mut map = SparseMap::new(real_size);
        for &(offset, len) in segments {
            map.add(offset, len)?;
        }
        Ok(Some(Sparse::Mapped(map)))
    }
}

/// Where a sparse file's map is.
enum Sparse {
    /// Read before the data: from an old GNU header, or from pax records (formats 0.0, 0.1).
    Mapped(SparseMap),
    /// At the start of the data (pax format 1.0).
    MapInData { real_size: u64 },
}

/// The damage of a map with more segments than [`MAX_SPARSE_SEGMENTS`].
fn too_many_segments() -> Stop {
    damaged(format!(
        "a sparse file's map has more than {MAX_SPARSE_SEGMENTS} segments"
    ))
}

/// Where a sparse file's stored data goes: segments in order, none overlapping another, all
/// within the file's real size. Their data is stored one segment after another, as bsdtar and
/// Go's archive/tar read it, whatever their lengths. (GNU tar extracts each segment from whole
/// blocks; every segment it writes but the last is whole blocks, so both readings agree on its
/// archives.)
struct SparseMap {
    /// Offset and length of each segment of data, in order; empty ones are left out.
    segments: Vec<(u64, u64)>,
    real_size: u64,
    /// Where the last segment added ends.
    end: u64,
    /// The segments' lengths together: the data stored for them.
    data_len: u64,
}

impl SparseMap {
    /// A map with no segment yet, for a file of `real_size` bytes.
    fn new(real_size: u64) -> Self {
        SparseMap {
            segments: Vec::new(),
            real_size,
            end: 0,
            data_len: 0,
        }
    }

    /// Adds the segment of `len` bytes at `offset`.
    fn add(&mut self, offset: u64, len: u64) -> Result<(), Stop> {
        if offset < self.end {
            return Err(damaged(
                "a sparse file's map has segments out of order or overlapping",
            ));
        }
        let end = offset
            .checked_add(len)
            .filter(|&end| end <= self.real_size)
            .ok_or_else(|| damaged("a sparse file's map has a segment past the file's end"))?;
        if len > 0 {
            if self.segments.len() as u64 == MAX_SPARSE_SEGMENTS {
                return Err(too_many_segments());
            }
            self.segments.push((offset, len));
        }
        self.end = end;
        self.data_len += len;
        Ok(())
    }

    /// Adds the entries of an old GNU sparse header or extension block, 12-byte octal offset
    /// and length each, up to the first whose length is empty.
    fn add_old_gnu_entries(&mut self, entries: &[u8]) -> Result<(), Stop> {
        for entry in entries.chunks_exact(MAP_ENTRY) {
            let (offset, len) = entry.split_at(MAP_ENTRY / 2);
            if len[0] == 0 {
                break;
            }
            match (number(offset), number(len)) {
                (Some(offset), Some(len)) => self.add(offset, len)?,
                _ => return Err(damaged("a sparse file's map holds something not a number")),
            }
        }
        Ok(())
    }
}

/// The map at the start of a pax 1.0 sparse file's `data`: decimal numbers one per line, the
/// number of segments and then each one's offset and length, padded to a whole block. Leaves
/// `data` where the segments' data starts.
fn map_in_data(data: &mut Stored<'_, '_>, real_size: u64) -> Result<SparseMap, Stop> {
    let mut lines = MapLines {
        data,
        block: [0; BLOCK],
        filled: 0,
        at: 0,
    };
    let count = lines.next_number()?;
    if count > MAX_SPARSE_SEGMENTS {
        return Err(too_many_segments());
    }
    let mut map = SparseMap::new(real_size);
    for _ in 0..count {
        let offset = lines.next_number()?;
        let len = lines.next_number()?;
        map.add(offset, len)?;
    }
    Ok(map)
}

/// The lines of a pax 1.0 sparse map, read a whole block at a time, so that what follows the
/// map starts where the last block read ends.
struct MapLines<'d, 'a, 'r> {
    data: &'d mut Stored<'a, 'r>,
    block: [u8; BLOCK],
    /// How much of `block` was read: less than a block only where the entry's data ends.
    filled: usize,
    /// Where the next byte is in `block`.
    at: usize,
}

impl MapLines<'_, '_, '_> {
    /// The number on the next line; anything but digits before its newline is damage.
    fn next_number(&mut self) -> Result<u64, Stop> {
        let mut number: Option<u64> = None;
        loop {
            match (self.next_byte()?, number) {
                (b'\n', Some(number)) => return Ok(number),
                (digit @ b'0'..=b'9', _) => {
                    let value = number.unwrap_or(0);
                    number = Some(
                        value
                            .checked_mul(10)
                            .and_then(|value| value.checked_add(u64::from(digit - b'0')))
                            .ok_or_else(|| damaged("a number of a sparse file's map overflows"))?,
                    );
                }
                _ => return Err(damaged("a sparse file's map holds something not a number")),
            }
        }
    }

    /// The map's next byte, reading the next block of the data when this one is used up.
    fn next_byte(&mut self) -> Result<u8, Stop> {
        if self.at == self.filled {
            let len = usize::try_from(self.data.left).map_or(BLOCK, |left| left.min(BLOCK));
            if len == 0 {
                return Err(damaged("a sparse file's map runs past the entry's data"));
            }
            self.data
                .read_exact(&mut self.block[..len])
                .map_err(read_failure)?;
            (self.filled, self.at) = (len, 0);
        }
        self.at += 1;
        Ok(self.block[self.at - 1])
    }
}

/// A sparse file's content as extracting it gives it back: `data`'s bytes placed as `map`
/// says, zeros in the holes between them and after the last, up to the real size.
struct Expanded<'m, D> {
    data: D,
    map: &'m SparseMap,
    /// The segment being read, or the next one.
    next: usize,
    position: u64,
}

impl<'m, D: Read> Expanded<'m, D> {
    /// The file `map` lays out, read from its start.
    fn new(data: D, map: &'m SparseMap) -> Self {
        Expanded {
            data,
            map,
            next: 0,
            position: 0,
        }
    }
}

impl<D: Read> Read for Expanded<'_, D> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (until, in_data) = match self.map.segments.get(self.next) {
            Some(&(offset, _)) if self.position < offset => (offset, false),
            Some(&(offset, len)) => (offset + len, true),
            None => (self.map.real_size, false),
        };
        let want = buf
            .len()
            .min(usize::try_from(until - self.position).unwrap_or(usize::MAX));
        let read = if in_data {
            match self.data.read(&mut buf[..want])? {
                0 if want > 0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "a sparse file's data ends before its map does",
                    ))
                }
                read => read,
            }
        } else {
            buf[..want].fill(0);
            want
        };
        self.position += read as u64;
        if in_data && self.position == until {
            self.next += 1;
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    //! Archives are built by the tools users have: GNU tar (`tar`) and bsdtar (package
    //! `libarchive-tools`); a test fails, saying which, where one is missing. Damage, and forms
    //! no tool writes on request, are built by hand.

    use std::fs;
    use std::io::{Seek, SeekFrom, Write};
    use std::path::Path;
    use std::process::Command;

    use super::super::Limits;
    use super::*;

    /// Each file read from an archive: its name, and what could be read of it.
    type Files = Vec<(String, Vec<u8>)>;

    /// Written after a sparse file's holes, to be found where it was written.
    const MARKER: &[u8] = b"marker written after the hole\n";

    /// The files the reader hands over from `archive`, each with what could be read of it
    /// (at most `first` bytes when given), and how the archive ended, within `limits`.
    fn read_within(
        archive: &[u8],
        first: Option<u64>,
        limits: &Limits,
    ) -> (Files, Result<(), Stop>) {
        let budget = Budget::new(limits);
        let mut files = Vec::new();
        let mut input = archive;
        let result = entries(&mut input, &budget, &mut |entry| {
            let mut content = Vec::new();
            // A read error (a truncated entry) keeps what was read before it.
            let _ = match first {
                Some(first) => entry.data.take(first).read_to_end(&mut content),
                None => entry.data.read_to_end(&mut content),
            };
            files.push((entry.name, content));
        });
        (files, result)
    }

    /// [`read_within`] within the default limits.
    fn read_first(archive: &[u8], first: Option<u64>) -> (Files, Result<(), Stop>) {
        read_within(archive, first, &Limits::default())
    }

    /// [`read_first`] reading every entry whole.
    fn read_archive(archive: &[u8]) -> (Files, Result<(), Stop>) {
        read_first(archive, None)
    }

    /// The names of the files in `files`.
    fn names(files: &Files) -> Vec<&str> {
        files.iter().map(|(name, _)| name.as_str()).collect()
    }

    /// The message of a damaged-tar stop; fails on anything else.
    fn damage(result: Result<(), Stop>) -> String {
        match result {
            Err(Stop::Unreadable(why) | Stop::Damaged(why)) if why.starts_with("damaged tar: ") => {
                why
            }
            other => panic!("expected damage, got {other:?}"),
        }
    }

    /// Whether `needle` is somewhere in `haystack`.
    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        memchr::memmem::find(haystack, needle).is_some()
    }

    /// Whether bsdtar is installed. Where CI asks for every archiver
    /// (`KEYHOUND_REQUIRE_ARCHIVERS`) a missing one fails the test; elsewhere the test says it
    /// did not run and passes. GNU tar is taken to be there, as on every system keyhound's tests
    /// run on.
    fn have_bsdtar() -> bool {
        let found = Command::new("bsdtar").arg("--version").output().is_ok();
        if !found {
            assert!(
                std::env::var_os("KEYHOUND_REQUIRE_ARCHIVERS").is_none(),
                "bsdtar is not installed (package libarchive-tools)"
            );
            eprintln!("skipped: bsdtar is not installed (package libarchive-tools)");
        }
        found
    }

    /// Runs `program ARGS` in `dir`; fails the test, naming what to install, if it cannot run.
    fn run(dir: &Path, program: &str, args: &[&str]) -> Vec<u8> {
        let output = Command::new(program)
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "{program} could not run ({e}): these tests need GNU tar as `tar` and \
                     bsdtar (package libarchive-tools)"
                )
            });
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }

    /// The archive `program` (`tar` or `bsdtar`) writes of `files` in `dir`, created with
    /// `options`. `tar` must be GNU tar.
    fn archive_of(dir: &Path, program: &str, options: &[&str], files: &[&str]) -> Vec<u8> {
        if program == "tar" {
            let version = run(dir, "tar", &["--version"]);
            assert!(
                String::from_utf8_lossy(&version).contains("GNU tar"),
                "`tar` is not GNU tar: these tests need GNU tar as `tar`"
            );
        }
        let out = tempfile::tempdir().unwrap();
        let path = out.path().join("archive.tar");
        let mut args = options.to_vec();
        args.extend(["-cf", path.to_str().unwrap()]);
        args.extend(files);
        run(dir, program, &args);
        fs::read(&path).unwrap()
    }

    /// The names GNU tar lists in `archive`, less directories (a trailing `/`).
    fn gnu_tar_lists(archive: &[u8]) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("listed.tar"), archive).unwrap();
        let listing = run(dir.path(), "tar", &["-tf", "listed.tar"]);
        String::from_utf8(listing)
            .unwrap()
            .lines()
            .filter(|name| !name.ends_with('/'))
            .map(str::to_string)
            .collect()
    }

    /// The content of every file bsdtar extracts from `archive`, one after another.
    fn bsdtar_extracts(archive: &[u8]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("extracted.tar"), archive).unwrap();
        run(dir.path(), "bsdtar", &["-xOf", "extracted.tar"])
    }

    /// Writes `content` to `name` in `dir`, making its directories.
    fn write_file(dir: &Path, name: &str, content: &[u8]) {
        let path = dir.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    /// Writes a file with holes at `path`: 27 KiB of text, a hole `set_len` makes, and
    /// [`MARKER`] past it at 6 MiB and a bit (an offset no block boundary falls on). Returns
    /// the file's content, holes read as zeros, and where the marker is.
    fn write_sparse(path: &Path) -> (Vec<u8>, usize) {
        let mut file = fs::File::create(path).unwrap();
        for line in 0..700 {
            writeln!(file, "line {line:05} of the text before the hole").unwrap();
        }
        let text_end = file.stream_position().unwrap();
        file.set_len(text_end + (3 << 20)).unwrap();
        let marker_at = (6 << 20) + 1000;
        file.seek(SeekFrom::Start(marker_at)).unwrap();
        file.write_all(MARKER).unwrap();
        drop(file);
        (fs::read(path).unwrap(), marker_at as usize)
    }

    /// Archives a sparse file with `program` (`tar` or `bsdtar`) and `options`, checks with
    /// `archived_sparse` that it stored a sparse file, and that the reader gives back the file
    /// as it was.
    fn sparse_file_reads_as_it_was(
        program: &str,
        options: &[&str],
        archived_sparse: fn(&[u8]) -> bool,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (content, marker_at) = write_sparse(&dir.path().join("sparse.txt"));
        let archive = archive_of(dir.path(), program, options, &["sparse.txt"]);
        assert!(
            archived_sparse(&archive),
            "{program} {options:?} did not store a sparse file"
        );
        assert!(archive.len() < content.len() / 10, "the holes were stored");
        let (files, result) = read_archive(&archive);
        assert_eq!(result, Ok(()));
        assert_eq!(names(&files), ["sparse.txt"]);
        assert_eq!(gnu_tar_lists(&archive), ["sparse.txt"]);
        let read = &files[0].1;
        assert!(
            *read == content,
            "{} bytes read, not the file's {} (first difference at {:?})",
            read.len(),
            content.len(),
            read.iter().zip(&content).position(|(a, b)| a != b)
        );
        assert_eq!(&read[marker_at..marker_at + MARKER.len()], MARKER);
    }

    #[test]
    fn an_old_gnu_sparse_file_reads_as_extracted() {
        sparse_file_reads_as_it_was("tar", &["--sparse", "--format=gnu"], |archive| {
            archive[TYPEFLAG] == OLD_GNU_SPARSE
        });
    }

    #[test]
    fn a_pax_0_0_sparse_file_reads_as_extracted() {
        sparse_file_reads_as_it_was(
            "tar",
            &["--sparse", "--format=posix", "--sparse-version=0.0"],
            |archive| contains(archive, b"GNU.sparse.offset="),
        );
    }

    #[test]
    fn a_pax_0_1_sparse_file_reads_as_extracted() {
        sparse_file_reads_as_it_was(
            "tar",
            &["--sparse", "--format=posix", "--sparse-version=0.1"],
            |archive| contains(archive, b"GNU.sparse.map="),
        );
    }

    #[test]
    fn a_pax_1_0_sparse_file_reads_as_extracted() {
        sparse_file_reads_as_it_was(
            "tar",
            &["--sparse", "--format=posix", "--sparse-version=1.0"],
            |archive| contains(archive, b"GNU.sparse.major=1"),
        );
    }

    #[test]
    fn a_sparse_file_bsdtar_writes_reads_as_extracted() {
        if !have_bsdtar() {
            return;
        }
        sparse_file_reads_as_it_was("bsdtar", &["--format", "pax"], |archive| {
            contains(archive, b"GNU.sparse.major=1")
        });
    }

    /// `value` as a header's octal field of `width` bytes, NUL-ended.
    fn octal_field(value: u64, width: usize) -> Vec<u8> {
        format!("{value:0w$o}\0", w = width - 1).into_bytes()
    }

    /// Sets `block`'s checksum to the unsigned sum of its bytes.
    fn seal(block: &mut [u8]) {
        block[CHECKSUM].fill(b' ');
        let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
        block[CHECKSUM].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    }

    /// A ustar header for `name`, of `typeflag`, its size field `size`, sealed.
    fn header(name: &str, typeflag: u8, size: &[u8]) -> Vec<u8> {
        let mut block = vec![0u8; BLOCK];
        block[..name.len()].copy_from_slice(name.as_bytes());
        block[100..108].copy_from_slice(b"0000644\0");
        block[SIZE][..size.len()].copy_from_slice(size);
        block[TYPEFLAG] = typeflag;
        block[257..265].copy_from_slice(b"ustar\x0000");
        seal(&mut block);
        block
    }

    /// `data` padded to whole blocks.
    fn padded(data: &[u8]) -> Vec<u8> {
        let mut padded = data.to_vec();
        padded.resize(data.len().next_multiple_of(BLOCK), 0);
        padded
    }

    /// A regular file's header and data.
    fn file(name: &str, data: &[u8]) -> Vec<u8> {
        let size = octal_field(data.len() as u64, 12);
        [header(name, b'0', &size), padded(data)].concat()
    }

    /// An old GNU sparse file (`S`) as GNU tar lays it out: four map entries in the header,
    /// twenty-one in each extension block after it, then the segments' `data`.
    fn old_gnu_sparse(name: &str, real_size: u64, segments: &[(u64, u64)], data: &[u8]) -> Vec<u8> {
        let mut header = header(name, OLD_GNU_SPARSE, &octal_field(data.len() as u64, 12));
        header[257..265].copy_from_slice(b"ustar  \0");
        header[OLD_GNU_REAL_SIZE].copy_from_slice(&octal_field(real_size, 12));
        let mut blocks = vec![header];
        let mut left = segments;
        let mut room = 4;
        let mut at = OLD_GNU_MAP.start;
        loop {
            let (here, rest) = left.split_at(left.len().min(room));
            let block = blocks.last_mut().unwrap();
            for (i, &(offset, len)) in here.iter().enumerate() {
                let entry = at + i * MAP_ENTRY;
                block[entry..entry + 12].copy_from_slice(&octal_field(offset, 12));
                block[entry + 12..entry + 24].copy_from_slice(&octal_field(len, 12));
            }
            left = rest;
            if left.is_empty() {
                break;
            }
            let flag = if blocks.len() == 1 {
                OLD_GNU_IS_EXTENDED
            } else {
                EXTENSION_IS_EXTENDED
            };
            blocks.last_mut().unwrap()[flag] = 1;
            blocks.push(vec![0u8; BLOCK]);
            (room, at) = (21, 0);
        }
        seal(&mut blocks[0]);
        [blocks.concat(), padded(data)].concat()
    }

    #[test]
    fn sparse_segments_need_no_alignment() {
        if !have_bsdtar() {
            return;
        }
        // Five segments of odd lengths at odd offsets, the fifth in an extension block. bsdtar
        // extracts what is read here; GNU tar lists the entries but extracts other bytes, as
        // it reads each segment from whole blocks.
        let segments = [(1, 5), (20, 3), (25, 2), (29, 1), (31, 1)];
        let archive = [
            old_gnu_sparse("unaligned.bin", 40, &segments, b"abcdeXYZqr!?"),
            file("after.txt", b"the entry after it\n"),
            vec![0; 2 * BLOCK],
        ]
        .concat();
        let (files, result) = read_archive(&archive);
        assert_eq!(result, Ok(()));
        let mut expected = vec![0u8; 40];
        expected[1..6].copy_from_slice(b"abcde");
        expected[20..23].copy_from_slice(b"XYZ");
        expected[25..27].copy_from_slice(b"qr");
        expected[29] = b'!';
        expected[31] = b'?';
        assert_eq!(
            files,
            [
                ("unaligned.bin".to_string(), expected),
                ("after.txt".to_string(), b"the entry after it\n".to_vec())
            ]
        );
        assert_eq!(gnu_tar_lists(&archive), ["unaligned.bin", "after.txt"]);
        assert_eq!(
            bsdtar_extracts(&archive),
            [&files[0].1[..], &files[1].1].concat()
        );
    }

    #[test]
    fn sparse_maps_that_go_backwards_or_past_the_file_are_damage() {
        let cases: [(&[(u64, u64)], &str); 4] = [
            (&[(10, 5), (12, 2)], "overlapping"),
            (&[(10, 5), (2, 2)], "out of order"),
            (&[(38, 5)], "past the file's end"),
            (&[(0, 30)], "more data than the entry holds"),
        ];
        for (segments, why) in cases {
            let archive = old_gnu_sparse("bad.bin", 40, segments, b"1234567");
            let message = damage(read_archive(&archive).1);
            assert!(message.contains(why), "{segments:?}: {message}");
        }
    }

    #[test]
    fn sparse_maps_that_do_not_parse_or_overflow_are_damage() {
        let dir = tempfile::tempdir().unwrap();
        write_sparse(&dir.path().join("sparse.txt"));
        let options = ["--sparse", "--format=posix", "--sparse-version=1.0"];
        let archive = archive_of(dir.path(), "tar", &options, &["sparse.txt"]);
        // The map opens the data of the entry named by its placeholder.
        let header = memchr::memmem::find(&archive, b"./GNUSparseFile.").unwrap();
        let map = header + BLOCK;
        assert!(
            archive[map..].starts_with(b"3\n0\n"),
            "the map GNU tar writes"
        );
        let cases: [(&[u8], &str); 3] = [
            (b"x\n", "not a number"),
            (b"99999999999999999999999\n", "overflows"),
            (b"2000000\n", "more than 1000000 segments"),
        ];
        for (map_start, why) in cases {
            let mut damaged = archive.clone();
            damaged[map..map + map_start.len()].copy_from_slice(map_start);
            let message = damage(read_archive(&damaged).1);
            assert!(message.contains(why), "{message}");
        }

        let options = ["--sparse", "--format=posix", "--sparse-version=0.1"];
        let mut archive = archive_of(dir.path(), "tar", &options, &["sparse.txt"]);
        let map = memchr::memmem::find(&archive, b"GNU.sparse.map=0,").unwrap();
        archive[map + 15] = b'x';
        let message = damage(read_archive(&archive).1);
        assert!(message.contains("GNU.sparse.map"), "{message}");
    }

    #[test]
    fn long_names_read_in_every_format_gnu_tar_writes() {
        let dir = tempfile::tempdir().unwrap();
        // Longer than the name field, short enough for ustar's prefix and name.
        let medium = format!(
            "{}/{}/{}.txt",
            "m".repeat(60),
            "n".repeat(60),
            "o".repeat(60)
        );
        // Longer than ustar's prefix and name together.
        let long = format!(
            "{}/{}/{}/secret.txt",
            "a".repeat(90),
            "b".repeat(90),
            "c".repeat(90)
        );
        assert!(medium.len() > 100 && long.len() > 255);
        write_file(dir.path(), &medium, b"medium\n");
        write_file(dir.path(), &long, b"long\n");
        let both = [medium.as_str(), long.as_str()];
        for (format, files) in [
            ("--format=gnu", &both[..]),
            ("--format=posix", &both[..]),
            ("--format=ustar", &both[..1]),
        ] {
            let archive = archive_of(dir.path(), "tar", &[format], files);
            let (read, result) = read_archive(&archive);
            assert_eq!(result, Ok(()), "{format}");
            assert_eq!(names(&read), files, "{format}");
            assert_eq!(gnu_tar_lists(&archive), files, "{format}");
            assert_eq!(read[0].1, b"medium\n");
            if format == "--format=posix" {
                let record = format!("path={long}\n");
                assert!(contains(&archive, record.as_bytes()), "a pax path record");
            }
        }
    }

    #[test]
    #[cfg(unix)] // symbolic links, FIFOs and the archivers that record them
    fn bsdtar_archives_read_in_every_format() {
        if !have_bsdtar() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let medium = format!(
            "{}/{}/{}.txt",
            "m".repeat(60),
            "n".repeat(60),
            "o".repeat(60)
        );
        let long = format!("{}/{}/secret.txt", "a".repeat(120), "b".repeat(120));
        write_file(dir.path(), &medium, b"medium\n");
        write_file(dir.path(), &long, b"long\n");
        std::os::unix::fs::symlink(&medium, dir.path().join("symbolic")).unwrap();
        fs::hard_link(dir.path().join(&medium), dir.path().join("hard")).unwrap();
        let all = [medium.as_str(), long.as_str(), "symbolic", "hard"];
        for (format, files) in [
            ("pax", &all[..]),
            ("gnutar", &all[..]),
            ("ustar", &[all[0], all[2], all[3]][..]),
        ] {
            let archive = archive_of(dir.path(), "bsdtar", &["--format", format], files);
            let (read, result) = read_archive(&archive);
            assert_eq!(result, Ok(()), "{format}");
            let regular: Vec<&str> = files.iter().copied().filter(|f| f.len() > 100).collect();
            assert_eq!(names(&read), regular, "{format}: the links are passed over");
            assert_eq!(read[0].1, b"medium\n", "{format}");
        }
    }

    #[test]
    #[cfg(unix)] // symbolic links, FIFOs and the archivers that record them
    fn directories_links_devices_and_fifos_are_passed_over() {
        let dir = tempfile::tempdir().unwrap();
        write_file(dir.path(), "tree/file.txt", b"content\n");
        fs::create_dir(dir.path().join("tree/empty")).unwrap();
        std::os::unix::fs::symlink("file.txt", dir.path().join("tree/symbolic")).unwrap();
        fs::hard_link(
            dir.path().join("tree/file.txt"),
            dir.path().join("tree/hard"),
        )
        .unwrap();
        run(dir.path(), "mkfifo", &["tree/fifo"]);
        // A target too long for the header: GNU tar writes it in a `K` header, or a pax record.
        std::os::unix::fs::symlink("t".repeat(150), dir.path().join("tree/long-link")).unwrap();
        // What ustar and v7 cannot hold is left out: a v7 header has no type for a FIFO.
        for (format, left_out) in [
            ("--format=gnu", &[][..]),
            ("--format=posix", &[]),
            ("--format=ustar", &["--exclude=tree/long-link"]),
            (
                "--format=v7",
                &["--exclude=tree/long-link", "--exclude=tree/fifo"],
            ),
        ] {
            let mut options = vec![format, "--sort=name"];
            options.extend(left_out);
            let archive = archive_of(dir.path(), "tar", &options, &["tree"]);
            let (read, result) = read_archive(&archive);
            assert_eq!(result, Ok(()), "{format}");
            assert_eq!(
                read,
                [("tree/file.txt".to_string(), b"content\n".to_vec())],
                "{format}"
            );
        }
    }

    #[test]
    fn gnu_dumpdirs_volume_labels_and_continued_files_are_passed_over() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..40_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        write_file(dir.path(), "tree/big.txt", &big);
        write_file(dir.path(), "tree/small.txt", b"small\n");

        let incremental = [
            "--format=gnu",
            "--sort=name",
            "--listed-incremental=snapshot",
        ];
        let archive = archive_of(dir.path(), "tar", &incremental, &["tree"]);
        assert_eq!(archive[TYPEFLAG], b'D', "a dumpdir first");
        let (read, result) = read_archive(&archive);
        assert_eq!(result, Ok(()));
        assert_eq!(names(&read), ["tree/big.txt", "tree/small.txt"]);
        assert_eq!(read[0].1, big);

        let labelled = archive_of(dir.path(), "tar", &["-V", "LABEL"], &["tree/small.txt"]);
        assert_eq!(labelled[TYPEFLAG], b'V');
        let (read, result) = read_archive(&labelled);
        assert_eq!(result, Ok(()));
        assert_eq!(read, [("tree/small.txt".to_string(), b"small\n".to_vec())]);

        // Three volumes of 20 KiB: the third starts with the tail of big.txt (`M`).
        let volumes = ["first.tar", "second.tar", "third.tar"].map(|v| dir.path().join(v));
        let mut args = vec!["-c", "-M", "-L", "20"];
        for volume in &volumes {
            args.extend(["-f", volume.to_str().unwrap()]);
        }
        args.extend(["tree/big.txt", "tree/small.txt"]);
        run(dir.path(), "tar", &args);
        let third = fs::read(&volumes[2]).unwrap();
        assert_eq!(third[TYPEFLAG], b'M');
        let (read, result) = read_archive(&third);
        assert_eq!(result, Ok(()));
        assert_eq!(read, [("tree/small.txt".to_string(), b"small\n".to_vec())]);
        // The first holds the start of big.txt and ends inside it.
        let (read, result) = read_archive(&fs::read(&volumes[0]).unwrap());
        assert_eq!(names(&read), ["tree/big.txt"]);
        assert!(big.starts_with(&read[0].1));
        assert!(damage(result).contains("ends inside"));
    }

    #[test]
    fn a_global_pax_header_names_no_entry() {
        let dir = tempfile::tempdir().unwrap();
        write_file(dir.path(), "one.txt", b"one\n");
        write_file(dir.path(), "two.txt", b"two\n");
        let options = ["--format=posix", "--pax-option=path=elsewhere"];
        let archive = archive_of(dir.path(), "tar", &options, &["one.txt", "two.txt"]);
        assert_eq!(archive[TYPEFLAG], PAX_GLOBAL);
        let (read, result) = read_archive(&archive);
        assert_eq!(result, Ok(()));
        assert_eq!(names(&read), ["one.txt", "two.txt"]);
    }

    #[test]
    fn a_pax_size_overrides_the_header_size() {
        let mut archive = [
            header("PaxHeaders/big", PAX_EXTENDED, &octal_field(10, 12)),
            padded(b"10 size=5\n"),
            header("big", b'0', &octal_field(0, 12)),
            padded(b"12345"),
            file("after", b"after\n"),
        ]
        .concat();
        archive.extend([0; 2 * BLOCK]);
        let (read, result) = read_archive(&archive);
        assert_eq!(result, Ok(()));
        assert_eq!(
            read,
            [
                ("big".to_string(), b"12345".to_vec()),
                ("after".to_string(), b"after\n".to_vec())
            ]
        );
    }

    #[test]
    fn a_solaris_extended_header_reads_as_a_pax_one() {
        let mut archive = [
            header("PaxHeaders/x", SOLARIS_EXTENDED, &octal_field(20, 12)),
            padded(b"20 path=real/name.a\n"),
            file("placeholder", b"data\n"),
        ]
        .concat();
        archive.extend([0; 2 * BLOCK]);
        let (read, result) = read_archive(&archive);
        assert_eq!(result, Ok(()));
        assert_eq!(read, [("real/name.a".to_string(), b"data\n".to_vec())]);
        assert_eq!(gnu_tar_lists(&archive), ["real/name.a"]);
    }

    #[test]
    fn entries_before_a_cut_are_read_and_the_cut_is_damage() {
        let dir = tempfile::tempdir().unwrap();
        write_file(dir.path(), "a.txt", b"first\n");
        write_file(dir.path(), "b.txt", &[b'b'; 5000]);
        write_file(dir.path(), "c.txt", b"third\n");
        let archive = archive_of(dir.path(), "tar", &[], &["a.txt", "b.txt", "c.txt"]);
        let b_header = BLOCK * 2;
        let c_header = b_header + BLOCK + 5000_usize.next_multiple_of(BLOCK);

        // Inside b.txt's data.
        let (read, result) = read_archive(&archive[..b_header + BLOCK + 3000]);
        assert_eq!(names(&read), ["a.txt", "b.txt"]);
        assert_eq!(read[0].1, b"first\n");
        assert_eq!(read[1].1.len(), 3000, "what there is of b.txt is read");
        assert!(damage(result).contains("ends inside an entry's data"));

        // Inside c.txt's header.
        let (read, result) = read_archive(&archive[..c_header + 100]);
        assert_eq!(names(&read), ["a.txt", "b.txt"]);
        assert!(damage(result).contains("ends inside a header"));

        // Where c.txt's header would start, and after one zero block: the end of an archive,
        // as GNU tar reads it.
        let end = c_header + 2 * BLOCK;
        for cut in [c_header, end, end + BLOCK] {
            let (read, result) = read_archive(&archive[..cut]);
            assert_eq!(result, Ok(()), "cut at {cut}");
            assert_eq!(read.len(), if cut == c_header { 2 } else { 3 });
        }
        // What follows a zero block is not read.
        let mut concatenated = archive[..end + BLOCK].to_vec();
        concatenated.extend(file("d.txt", b"after the end\n"));
        assert_eq!(
            names(&read_archive(&concatenated).0),
            ["a.txt", "b.txt", "c.txt"]
        );
    }

    #[test]
    fn a_header_whose_checksum_fails_is_damage() {
        let dir = tempfile::tempdir().unwrap();
        write_file(dir.path(), "a.txt", b"first\n");
        write_file(dir.path(), "b.txt", b"second\n");
        let mut archive = archive_of(dir.path(), "tar", &[], &["a.txt", "b.txt"]);
        archive[2 * BLOCK] = b'B';
        let (read, result) = read_archive(&archive);
        assert_eq!(names(&read), ["a.txt"]);
        assert!(damage(result).contains("checksum"));
    }

    #[test]
    fn a_size_that_does_not_parse_is_damage() {
        let mut archive = file("a.txt", b"first\n");
        archive[SIZE].copy_from_slice(b"0000000x006\0");
        seal(&mut archive[..BLOCK]);
        assert!(damage(read_archive(&archive).1).contains("size"));
    }

    #[test]
    fn extended_headers_claiming_gigabytes_are_refused_unread() {
        // Ten gigabytes, in all twelve bytes of the field, with no terminator.
        let ten_gigabytes = format!("{:012o}", 10_000_000_000u64);
        for typeflag in [PAX_EXTENDED, GNU_LONG_NAME, PAX_GLOBAL] {
            let mut archive = header("big", typeflag, ten_gigabytes.as_bytes());
            archive.extend(padded(b"30 path=a name never reached\n"));
            let message = damage(read_archive(&archive).1);
            assert!(
                message.contains("extended header claims 10000000000 bytes"),
                "{message}"
            );
        }
    }

    #[test]
    fn malformed_pax_records_are_damage() {
        for records in [&b"99 path=x\n"[..], b"7 path\n", b"path=x\n", b"0 \n"] {
            let mut archive = header(
                "PaxHeaders/x",
                PAX_EXTENDED,
                &octal_field(records.len() as u64, 12),
            );
            archive.extend(padded(records));
            archive.extend(file("a.txt", b"a\n"));
            let message = damage(read_archive(&archive).1);
            assert!(
                message.contains("malformed record"),
                "{records:?}: {message}"
            );
        }
    }

    #[test]
    fn a_reader_that_stops_early_leaves_the_archive_in_step() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..100_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        write_file(dir.path(), "1-big.txt", &big);
        write_sparse(&dir.path().join("2-sparse.txt"));
        write_file(dir.path(), "3-odd.txt", &big[..777]);
        write_file(dir.path(), "4-last.txt", b"the last one\n");
        let files = ["1-big.txt", "2-sparse.txt", "3-odd.txt", "4-last.txt"];
        for format in ["--format=gnu", "--format=posix"] {
            let options = [format, "--sparse", "--sparse-version=1.0"];
            let options = if format == "--format=gnu" {
                &options[..2]
            } else {
                &options[..]
            };
            let archive = archive_of(dir.path(), "tar", options, &files);
            let (read, result) = read_first(&archive, Some(4));
            assert_eq!(result, Ok(()), "{format}");
            assert_eq!(
                read,
                [
                    ("1-big.txt".to_string(), b"abcd".to_vec()),
                    ("2-sparse.txt".to_string(), b"line".to_vec()),
                    ("3-odd.txt".to_string(), b"abcd".to_vec()),
                    ("4-last.txt".to_string(), b"the ".to_vec()),
                ],
                "{format}"
            );
        }
    }

    #[test]
    fn sizes_in_base_256_are_read() {
        let mut size = [0u8; 12];
        size[0] = 0x80;
        size[11] = 5;
        let mut archive = header("a.txt", b'0', &size);
        archive.extend(padded(b"12345"));
        let (read, result) = read_archive(&archive);
        assert_eq!(result, Ok(()));
        assert_eq!(read, [("a.txt".to_string(), b"12345".to_vec())]);
    }

    #[test]
    fn numbers_read_as_gnu_tar_reads_them() {
        let cases: [(&[u8], Option<u64>); 10] = [
            (b"00000000644\0", Some(0o644)),
            (b"     644 \0\0\0", Some(0o644)),
            (b"777777777777", Some(0o777_777_777_777)),
            (b"\0\0\0\0\0\0\0\0\0\0\0\0", Some(0)),
            (b"            ", None),
            (b"0000x000644\0", None),
            (b"00000008\0\0\0\0", None),
            (&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00], Some(256)),
            (&[0xff; 12], None),
            (&[0x80, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], None),
        ];
        for (field, value) in cases {
            assert_eq!(number(field), value, "{field:?}");
        }
    }

    #[test]
    fn a_checksum_summed_signed_is_accepted() {
        let mut block = header("caf\u{e9}", b'0', &octal_field(0, 12));
        block[3] = 0xe9;
        let signed: i64 = block
            .iter()
            .enumerate()
            .map(|(at, &b)| {
                if CHECKSUM.contains(&at) {
                    32
                } else {
                    i64::from(b as i8)
                }
            })
            .sum();
        block[CHECKSUM].copy_from_slice(format!("{signed:06o}\0 ").as_bytes());
        let block: [u8; BLOCK] = block.try_into().unwrap();
        assert!(checksum_matches(&block));
        let mut unsigned = block;
        seal(&mut unsigned);
        assert!(checksum_matches(&unsigned));
    }
    #[test]
    fn typeflags_gnu_tar_extracts_as_files_are_read() {
        let mut archive = [
            header("old/", OLD_REGULAR, &octal_field(0, 12)),
            file("old/v7.txt", b"v7\n"),
            header("dir/", b'5', &octal_field(3, 12)),
            padded(b"dir"),
            header("contiguous.txt", b'7', &octal_field(11, 12)),
            padded(b"contiguous\n"),
            header("vendor.bin", b'A', &octal_field(7, 12)),
            padded(b"vendor\n"),
            vec![0; 2 * BLOCK],
        ]
        .concat();
        archive[BLOCK + TYPEFLAG] = OLD_REGULAR;
        seal(&mut archive[BLOCK..2 * BLOCK]);
        let (read, result) = read_archive(&archive);
        assert_eq!(result, Ok(()));
        assert_eq!(names(&read), ["old/v7.txt", "contiguous.txt", "vendor.bin"]);
        assert_eq!(read[2].1, b"vendor\n");
    }

    /// An archive of every kind of header, and where its headers are: a pax header and the
    /// file it names, a GNU long name and its file, an old GNU sparse file with an extension
    /// block, a pax 1.0 sparse file, a last file.
    fn every_kind_of_header() -> (Vec<u8>, Vec<usize>) {
        let records = b"30 path=named/by/a/record.txt\n";
        let long_name = format!("{}/long.txt\0", "l".repeat(150));
        let mut sparse_data = padded(b"2\n0\n3\n10\n4\n");
        sparse_data.extend(b"abcdefg");
        let sparse_records = b"22 GNU.sparse.major=1\n22 GNU.sparse.minor=0\n23 GNU.sparse.name=new\n26 GNU.sparse.realsize=20\n";
        let long_size = octal_field(long_name.len() as u64, 12);
        let parts = [
            header("PaxHeaders/a", PAX_EXTENDED, &octal_field(30, 12)),
            padded(records),
            file("a", b"named by a record\n"),
            header("././@LongLink", GNU_LONG_NAME, &long_size),
            padded(long_name.as_bytes()),
            file("short", b"long\n"),
            old_gnu_sparse(
                "old",
                40,
                &[(1, 2), (4, 2), (8, 2), (16, 2), (32, 2)],
                b"0123456789",
            ),
            header("PaxHeaders/s", PAX_EXTENDED, &octal_field(93, 12)),
            padded(sparse_records),
            file("GNUSparseFile.0/new", &sparse_data),
            file("last", b"last\n"),
        ];
        let mut archive = Vec::new();
        let mut headers = Vec::new();
        for part in parts {
            if part[257..262] == *b"ustar" {
                headers.push(archive.len());
            }
            archive.extend(part);
        }
        archive.extend([0; 2 * BLOCK]);
        (archive, headers)
    }

    #[test]
    fn every_kind_of_header_reads() {
        if !have_bsdtar() {
            return;
        }
        let (archive, _) = every_kind_of_header();
        let (read, result) = read_archive(&archive);
        assert_eq!(result, Ok(()));
        let long_name = format!("{}/long.txt", "l".repeat(150));
        assert_eq!(
            names(&read),
            ["named/by/a/record.txt", &long_name, "old", "new", "last"]
        );
        let mut old = vec![0u8; 40];
        for (i, at) in [1, 4, 8, 16, 32].into_iter().enumerate() {
            old[at..at + 2].copy_from_slice(&b"0123456789"[2 * i..2 * i + 2]);
        }
        assert_eq!(read[2].1, old);
        assert_eq!(read[3].1, b"abc\0\0\0\0\0\0\0defg\0\0\0\0\0\0");
        assert_eq!(read[4].1, b"last\n");
        assert_eq!(gnu_tar_lists(&archive), names(&read));
        let contents: Vec<&[u8]> = read.iter().map(|(_, content)| &content[..]).collect();
        assert_eq!(bsdtar_extracts(&archive), contents.concat());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Whatever bytes the headers hold, and wherever the archive ends, reading it ends,
        /// and never panics.
        #[test]
        fn damaged_archives_never_panic(
            changes in proptest::collection::vec((0usize..9000, proptest::num::u8::ANY), 1..6),
            cut in 0usize..9000,
        ) {
            let (mut archive, headers) = every_kind_of_header();
            for (at, byte) in changes {
                if let Some(old) = archive.get_mut(at) {
                    *old = byte;
                }
            }
            // Headers sealed again, so that what they say is read, not just their checksums.
            for at in headers {
                seal(&mut archive[at..at + BLOCK]);
            }
            archive.truncate(cut);
            let limits = Limits { max_depth: 3, max_bytes: 1 << 20 };
            let _ = read_within(&archive, None, &limits);
        }
    }
}
