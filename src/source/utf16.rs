//! UTF-16 text (Windows and .NET configs, PowerShell output, registry exports): recognised by
//! its byte order mark or by the zero bytes of its ASCII characters, and transcoded to UTF-8 as
//! it is read, so it is scanned as text instead of being skipped as binary.

use std::io::{self, Read};

/// Byte order of UTF-16 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOrder {
    Little,
    Big,
}

/// The byte order of `start` (the first bytes of an input) if it is UTF-16 text: a byte order
/// mark, or mostly ASCII characters whose high bytes are zero.
pub fn detect(start: &[u8]) -> Option<ByteOrder> {
    match start {
        [0xFF, 0xFE, ..] => return Some(ByteOrder::Little),
        [0xFE, 0xFF, ..] => return Some(ByteOrder::Big),
        _ => {}
    }
    let units = start.len() / 2;
    if units < 8 {
        return None;
    }
    let zeros = |parity: usize| {
        start[..units * 2]
            .iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros(0), zeros(1));
    // Text that is at least half ASCII, with hardly any zero low bytes: binary formats have
    // zeros in both positions.
    let ascii = |high: usize, low: usize| high * 2 >= units && low * 20 <= units;
    if ascii(odd, even) {
        Some(ByteOrder::Little)
    } else if ascii(even, odd) {
        Some(ByteOrder::Big)
    } else {
        None
    }
}

/// Reads UTF-16 from `inner` and yields it as UTF-8; unpaired surrogates become U+FFFD.
pub struct Utf16Reader<R> {
    inner: R,
    order: ByteOrder,
    /// Input bytes read but not yet decoded (an odd byte, or a high surrogate awaiting its pair).
    pending: Vec<u8>,
    /// UTF-8 decoded but not yet handed out.
    ready: Vec<u8>,
    ready_at: usize,
    /// Whether the byte order mark, if any, has been dropped.
    started: bool,
    /// Input bytes consumed.
    pub consumed: u64,
}

impl<R: Read> Utf16Reader<R> {
    pub fn new(inner: R, order: ByteOrder) -> Self {
        Utf16Reader {
            inner,
            order,
            pending: Vec::new(),
            ready: Vec::new(),
            ready_at: 0,
            started: false,
            consumed: 0,
        }
    }

    /// Reads and decodes the next piece of input; returns false at its end.
    fn refill(&mut self) -> io::Result<bool> {
        let mut raw = [0u8; 16 * 1024];
        let n = loop {
            match self.inner.read(&mut raw) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        self.consumed += n as u64;
        self.ready.clear();
        self.ready_at = 0;
        self.pending.extend_from_slice(&raw[..n]);
        let eof = n == 0;
        if !self.started && (self.pending.len() >= 2 || eof) {
            self.started = true;
            let bom = match self.order {
                ByteOrder::Little => [0xFF, 0xFE],
                ByteOrder::Big => [0xFE, 0xFF],
            };
            if self.pending.starts_with(&bom) {
                self.pending.drain(..2);
            }
        }
        let order = self.order;
        let units = self.pending.chunks_exact(2).map(|pair| match order {
            ByteOrder::Little => u16::from_le_bytes([pair[0], pair[1]]),
            ByteOrder::Big => u16::from_be_bytes([pair[0], pair[1]]),
        });
        let mut used = 0;
        let total_units = self.pending.len() / 2;
        for item in char::decode_utf16(units) {
            let (c, len) = match item {
                Ok(c) => (c, c.len_utf16()),
                // A high surrogate at the end may pair with the next read's first unit.
                Err(e)
                    if !eof
                        && used + 1 == total_units
                        && (0xD800..0xDC00).contains(&e.unpaired_surrogate()) =>
                {
                    break
                }
                Err(_) => (char::REPLACEMENT_CHARACTER, 1),
            };
            used += len;
            let mut buf = [0; 4];
            self.ready
                .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        self.pending.drain(..used * 2);
        if eof && !self.pending.is_empty() {
            // An odd final byte.
            self.pending.clear();
            self.ready
                .extend_from_slice(char::REPLACEMENT_CHARACTER.to_string().as_bytes());
        }
        Ok(!eof || !self.ready.is_empty())
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.ready_at == self.ready.len() {
            if !self.refill()? {
                return Ok(0);
            }
        }
        let n = out.len().min(self.ready.len() - self.ready_at);
        out[..n].copy_from_slice(&self.ready[self.ready_at..self.ready_at + n]);
        self.ready_at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, order: ByteOrder, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for unit in (bom.then_some('\u{feff}').into_iter().chain(text.chars()))
            .collect::<String>()
            .encode_utf16()
        {
            out.extend(match order {
                ByteOrder::Little => unit.to_le_bytes(),
                ByteOrder::Big => unit.to_be_bytes(),
            });
        }
        out
    }

    fn transcode(bytes: &[u8], order: ByteOrder) -> String {
        let mut out = String::new();
        Utf16Reader::new(bytes, order)
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn utf16_is_recognised_with_or_without_a_byte_order_mark() {
        let text = "<add key=\"AWSSecretKey\" value=\"x\" /> café 😀\n";
        for order in [ByteOrder::Little, ByteOrder::Big] {
            for bom in [true, false] {
                let bytes = utf16(text, order, bom);
                assert_eq!(detect(&bytes), Some(order), "{order:?} {bom}");
                assert_eq!(transcode(&bytes, order), text);
            }
        }
        assert_eq!(detect(b"plain ascii text here"), None);
        assert_eq!(
            detect(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01"),
            None
        );
    }

    #[test]
    fn surrogate_pairs_survive_any_read_boundary() {
        let text = "a😀b".repeat(5000);
        let bytes = utf16(&text, ByteOrder::Little, false);
        assert_eq!(transcode(&bytes, ByteOrder::Little), text);
        // A lone high surrogate and an odd final byte become U+FFFD.
        let mut broken = utf16("ab", ByteOrder::Little, false);
        broken.extend([0x3D, 0xD8, b'c', 0, 0x41]);
        assert_eq!(transcode(&broken, ByteOrder::Little), "ab\u{FFFD}c\u{FFFD}");
    }
}
