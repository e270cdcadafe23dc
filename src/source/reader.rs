//! Reads any byte stream into overlapping, bounded chunks in one reusable buffer.

use std::io::{self, Read};
use std::ops::Range;

use super::archive::Kind;
use super::utf16::{self, Utf16Reader};
use crate::decode::Encoding;
use crate::lines::{ceil_char_boundary, count_chars, count_newlines, floor_char_boundary};

/// Bytes every chunk carries before the range it owns, when the input has them: the context a
/// match starting in that range may look back on. This is the reader's promise to whatever
/// consumes chunks; the matcher checks, where it is built, that its reach fits within it.
pub const LEAD: usize = 8448;
/// Bytes every chunk carries after the range it owns, when the input has them (see [`LEAD`]).
pub const TAIL: usize = 12544;

/// Bytes each chunk owns by default; the buffer also holds the [`LEAD`] and [`TAIL`] overlap.
pub const DEFAULT_CHUNK_SIZE: usize = 1 << 20;

/// How many leading bytes are checked for NUL to tell binary files.
const BINARY_PROBE: usize = 8192;

/// A window of an input handed to the matcher.
pub struct Chunk<'a> {
    /// The bytes, including the overlap with neighbouring chunks.
    pub data: &'a [u8],
    /// The range of `data` whose matches this chunk reports.
    pub owned: Range<usize>,
    /// Offset of `data[0]` in the input.
    pub offset: u64,
    /// 1-based line number of `data[0]`.
    pub line: u64,
    /// Characters between the start of that line and `data[0]`.
    pub column: u64,
    /// How the whole input was decoded before chunking (UTF-16 text is transcoded to UTF-8;
    /// offsets then count bytes of the transcoding, lines and columns characters of the input).
    pub transcoded: Option<Encoding>,
}

/// How a read ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// Read to the end: this many bytes.
    Complete(u64),
    /// Not scanned: the first bytes hold a NUL.
    Binary,
    /// Not scanned: the input is an archive or compressed stream of this kind, to be opened.
    /// Its first bytes are [`ChunkReader::head`] (for a stream; the rest is still to read).
    Archive(Kind),
}

/// What a read looks for before it chunks an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    /// Skip inputs with a NUL in their first bytes.
    pub skip_binary: bool,
    /// Report archives and compressed streams instead of chunking them.
    pub archives: bool,
}

/// Splits inputs into chunks; one per thread, its buffer reused for every input.
pub struct ChunkReader {
    buf: Vec<u8>,
    chunk_size: usize,
    /// How many bytes of `buf` a read that found an archive had read.
    head: usize,
}

impl ChunkReader {
    /// A reader whose chunks each own `chunk_size` bytes (at least 1).
    pub fn new(chunk_size: usize) -> ChunkReader {
        ChunkReader {
            buf: Vec::new(),
            chunk_size: chunk_size.max(1),
            head: 0,
        }
    }

    /// The bytes a read that ended in [`ReadOutcome::Archive`] took from its input.
    pub fn head(&self) -> &[u8] {
        &self.buf[..self.head]
    }

    /// Reads `input` to its end, calling `on_chunk` for each chunk in order.
    ///
    /// With `mode.archives`, an input that starts as an archive does is not read further (see
    /// [`ReadOutcome::Archive`]). UTF-16 text is transcoded to UTF-8 first. Otherwise, with
    /// `mode.skip_binary`, an input with a NUL byte in its first 8 KiB is not scanned. Memory is bounded by the chunk size plus the
    /// overlap, whatever the input's size or line lengths. The byte count of the outcome is of
    /// the input as read.
    pub fn read<R: Read>(
        &mut self,
        input: R,
        mode: Mode,
        on_chunk: impl FnMut(Chunk<'_>),
    ) -> io::Result<ReadOutcome> {
        // A read error ends the input where it happens: what came before is still scanned,
        // then the error is returned.
        let mut input = Held {
            inner: input,
            error: None,
        };
        let outcome = self.read_held(&mut input, mode, on_chunk);
        match input.error {
            Some(error) if !matches!(outcome, Ok(ReadOutcome::Archive(_))) => Err(error),
            _ => outcome,
        }
    }

    fn read_held<R: Read>(
        &mut self,
        mut input: R,
        mode: Mode,
        on_chunk: impl FnMut(Chunk<'_>),
    ) -> io::Result<ReadOutcome> {
        let capacity = self.chunk_size + LEAD + TAIL;
        if self.buf.len() != capacity {
            self.buf = vec![0; capacity];
        }
        let mut filled = 0;
        let whole = fill(&mut input, &mut self.buf, &mut filled)?;
        if mode.archives {
            let head = &self.buf[..filled];
            let kind = if whole {
                Kind::sniff_whole(head)
            } else {
                Kind::sniff(head)
            };
            if let Some(kind) = kind {
                self.head = filled;
                return Ok(ReadOutcome::Archive(kind));
            }
        }
        let probe = &self.buf[..filled.min(BINARY_PROBE)];
        // UTF-16 text has a byte order mark or zero bytes; most inputs have neither, and the
        // NUL search is what the binary check needs anyway.
        let has_nul = memchr::memchr(0, probe).is_some();
        let utf16 =
            if has_nul || probe.starts_with(&[0xFF, 0xFE]) || probe.starts_with(&[0xFE, 0xFF]) {
                utf16::detect(probe)
            } else {
                None
            };
        if let Some(order) = utf16 {
            let start = io::Cursor::new(self.buf[..filled].to_vec());
            let mut text = Utf16Reader::new(start.chain(input), order);
            self.chunks(&mut text, 0, Some(Encoding::Utf16), on_chunk)?;
            return Ok(ReadOutcome::Complete(text.consumed));
        }
        if mode.skip_binary && has_nul {
            return Ok(ReadOutcome::Binary);
        }
        self.chunks(&mut input, filled, None, on_chunk)
    }

    /// [`ChunkReader::read`] for an input already in memory: one that fits in a chunk is
    /// handed to `on_chunk` where it lies, without a copy; a larger or UTF-16 one is read as
    /// a stream. Either way the chunks are the ones `read` would make.
    pub fn read_bytes(
        &mut self,
        input: &[u8],
        mode: Mode,
        mut on_chunk: impl FnMut(Chunk<'_>),
    ) -> io::Result<ReadOutcome> {
        if mode.archives {
            if let Some(kind) = Kind::sniff_whole(input) {
                return Ok(ReadOutcome::Archive(kind));
            }
        }
        // `read` makes a single chunk of an input that leaves room in its buffer.
        if input.len() >= self.chunk_size + LEAD + TAIL {
            return self.read(input, mode, on_chunk);
        }
        if may_be_binary_or_utf16(input) {
            return self.read(input, mode, on_chunk);
        }
        if !input.is_empty() {
            on_chunk(Chunk {
                data: input,
                owned: 0..input.len(),
                offset: 0,
                line: 1,
                column: 0,
                transcoded: None,
            });
        }
        Ok(ReadOutcome::Complete(input.len() as u64))
    }

    /// Chunks `input`, whose first `filled` bytes are already in the buffer.
    fn chunks<R: Read>(
        &mut self,
        input: &mut R,
        mut filled: usize,
        transcoded: Option<Encoding>,
        mut on_chunk: impl FnMut(Chunk<'_>),
    ) -> io::Result<ReadOutcome> {
        let buf = &mut self.buf;
        let mut offset = 0u64;
        let mut line = 1u64;
        let mut column = 0u64;
        let mut first = true;
        loop {
            let eof = fill(input, buf, &mut filled)?;
            let owned_start = if first { 0 } else { LEAD };
            let owned_end = if eof { filled } else { filled - TAIL };
            if owned_start < owned_end {
                on_chunk(Chunk {
                    data: &buf[..filled],
                    owned: owned_start..owned_end,
                    offset,
                    line,
                    column,
                    transcoded,
                });
            }
            if eof {
                return Ok(ReadOutcome::Complete(offset + filled as u64));
            }
            // Keep a split character whole in the next chunk, so columns count it once. Only
            // chunks of under 4 bytes can have no boundary behind them; they step forward
            // instead, into the slack that LEAD keeps beyond what any match needs.
            let nominal = owned_end - LEAD;
            let drop = match floor_char_boundary(buf, nominal) {
                0 => ceil_char_boundary(buf, nominal),
                at => at,
            };
            let dropped = &buf[..drop];
            match memchr::memrchr(b'\n', dropped) {
                Some(last) => {
                    line += count_newlines(dropped) as u64;
                    column = count_chars(&dropped[last + 1..]) as u64;
                }
                None => column += count_chars(dropped) as u64,
            }
            buf.copy_within(drop..filled, 0);
            filled -= drop;
            offset += drop as u64;
            first = false;
        }
    }
}

/// Whether a read matches `input` as the bytes it holds, where they lie: it is not an archive
/// (when those are looked for) and its first bytes hold no NUL or byte order mark, which make
/// it a binary file, or UTF-16 text that is transcoded before it is matched.
pub fn is_plain_text(input: &[u8], mode: Mode) -> bool {
    !(may_be_binary_or_utf16(input) || mode.archives && Kind::sniff_whole(input).is_some())
}

/// Whether the first bytes of `input` hold a NUL or start with a UTF-16 byte order mark.
fn may_be_binary_or_utf16(input: &[u8]) -> bool {
    let probe = &input[..input.len().min(BINARY_PROBE)];
    memchr::memchr(0, probe).is_some()
        || probe.starts_with(&[0xFF, 0xFE])
        || probe.starts_with(&[0xFE, 0xFF])
}

/// A reader whose first error ends it, kept to be returned once what came before it is used.
struct Held<R> {
    inner: R,
    error: Option<io::Error>,
}

impl<R: Read> Read for Held<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.error.is_some() {
            return Ok(0);
        }
        match self.inner.read(buf) {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => {
                self.error = Some(e);
                Ok(0)
            }
            other => other,
        }
    }
}

/// Reads until `buf` is full or the input ends; returns whether it ended.
fn fill<R: Read>(input: &mut R, buf: &mut [u8], filled: &mut usize) -> io::Result<bool> {
    while *filled < buf.len() {
        match input.read(&mut buf[*filled..]) {
            Ok(0) => return Ok(true),
            Ok(n) => *filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Skip binary inputs, open no archives.
    const SCAN_TEXT: Mode = Mode {
        skip_binary: true,
        archives: false,
    };

    /// Collects (offset, owned bytes, line, column) per chunk.
    fn chunks(input: &[u8], chunk_size: usize) -> Vec<(u64, Vec<u8>, u64, u64)> {
        let mut reader = ChunkReader::new(chunk_size);
        let mut out = Vec::new();
        let outcome = reader
            .read(input, SCAN_TEXT, |c| {
                out.push((c.offset, c.data[c.owned.clone()].to_vec(), c.line, c.column))
            })
            .unwrap();
        assert_eq!(outcome, ReadOutcome::Complete(input.len() as u64));
        out
    }

    #[test]
    fn owned_ranges_tile_the_input_exactly() {
        let input: Vec<u8> = (0..100_000u32)
            .map(|i| {
                if i % 37 == 0 {
                    b'\n'
                } else {
                    b'a' + (i % 26) as u8
                }
            })
            .collect();
        for size in [1, 7, 1000, 4096, 50_000, 1 << 20] {
            let parts = chunks(&input, size);
            let joined: Vec<u8> = parts.iter().flat_map(|p| p.1.clone()).collect();
            assert_eq!(joined, input, "chunk size {size}");
        }
    }

    #[test]
    fn line_and_column_follow_dropped_bytes() {
        let mut input = b"ab\ncd\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 3 * (LEAD + TAIL)));
        let parts = chunks(&input, 100);
        for (offset, _, line, column) in &parts[1..] {
            // every later chunk starts inside the third line
            assert_eq!(*line, 3);
            assert_eq!(*column, offset - 6);
        }
    }

    #[test]
    fn nul_in_the_first_bytes_means_binary() {
        let mut reader = ChunkReader::new(64);
        let input = &b"PK\x03\x04\0\0 AKIA"[..];
        let mode = |skip_binary, archives| Mode {
            skip_binary,
            archives,
        };
        let outcome = reader
            .read(input, mode(true, false), |_| panic!("scanned"))
            .unwrap();
        assert_eq!(outcome, ReadOutcome::Binary);
        let mut seen = 0;
        reader
            .read(input, mode(false, false), |_| seen += 1)
            .unwrap();
        assert_eq!(seen, 1);
        // Looked at as a possible archive, the same bytes are a zip's first.
        for skip_binary in [true, false] {
            let outcome = reader.read(input, mode(skip_binary, true), |_| panic!("scanned"));
            assert_eq!(outcome.unwrap(), ReadOutcome::Archive(Kind::Zip));
            assert_eq!(reader.head(), input);
            let outcome = reader.read_bytes(input, mode(skip_binary, true), |_| panic!("scanned"));
            assert_eq!(outcome.unwrap(), ReadOutcome::Archive(Kind::Zip));
        }
    }

    #[test]
    fn bytes_in_memory_give_the_chunks_a_stream_gives() {
        let mut input: Vec<u8> = b"line one\nAKIA two\n".repeat(300);
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend("key = AKIA\n".encode_utf16().flat_map(u16::to_le_bytes));
        let binary = b"PK\x03\x04\0\0 AKIA".to_vec();
        input.truncate(5000);
        for case in [input, utf16, binary, Vec::new()] {
            for size in [16, 1000, 4096, 1 << 20] {
                for skip_binary in [true, false] {
                    let skip_binary = Mode {
                        skip_binary,
                        archives: false,
                    };
                    let mut reader = ChunkReader::new(size);
                    let mut streamed = Vec::new();
                    let outcome = reader.read(&case[..], skip_binary, |c| {
                        streamed.push((c.offset, c.data[c.owned.clone()].to_vec(), c.line))
                    });
                    let mut in_memory = Vec::new();
                    let same = reader.read_bytes(&case, skip_binary, |c| {
                        in_memory.push((c.offset, c.data[c.owned.clone()].to_vec(), c.line))
                    });
                    assert_eq!(outcome.unwrap(), same.unwrap(), "size {size}");
                    assert_eq!(streamed, in_memory, "size {size}");
                }
            }
        }
    }

    #[test]
    fn empty_input_gives_no_chunk() {
        assert!(chunks(b"", 10).is_empty());
    }
}
