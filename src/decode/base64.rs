//! Base64 runs (standard or URL-safe alphabet, padded or not) whose decoding is text.
//!
//! Only a decoding that is text replaces its run: valid UTF-8 without control characters other
//! than tabs and line breaks. Random base64 (images, hashes, certificates) decodes to binary and
//! is left alone, and so are plain keys, which are valid base64 too but decode to noise.

use super::{Decoded, Encoding};

/// Shortest run worth decoding: the base64 of a 20-character access key ID is 28 characters,
/// and anything shorter than 15 decoded bytes cannot hold a key.
const MIN_RUN: usize = 20;

/// Sextet value of each byte of either alphabet, or 255.
const VALUES: [u8; 256] = {
    let mut table = [255u8; 256];
    let mut i = 0;
    while i < 26 {
        table[b'A' as usize + i] = i as u8;
        table[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        table[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    table[b'+' as usize] = 62;
    table[b'-' as usize] = 62;
    table[b'/' as usize] = 63;
    table[b'_' as usize] = 63;
    table
};

#[inline]
fn in_alphabet(b: u8) -> bool {
    VALUES[b as usize] != 255
}

/// The base64 spellings of `literal` at each of the three alignments it can have in a longer
/// encoded text: the characters that depend on the literal alone, when there are at least four,
/// in the standard and the URL-safe alphabet.
pub fn spellings_of(literal: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for align in 0..3 {
        let mut bytes = vec![0u8; align];
        bytes.extend_from_slice(literal);
        let encoded = encode(&bytes);
        // Sextet k covers bits 6k..6k+6; the literal covers bits 8·align..8·(align+len).
        let first = (8 * align).div_ceil(6);
        let last = (8 * (align + literal.len())) / 6;
        if last >= first + 4 {
            let standard = encoded[first..last].to_string();
            let url_safe = standard.replace('+', "-").replace('/', "_");
            if url_safe != standard {
                out.push(url_safe);
            }
            out.push(standard);
        }
    }
    out
}

/// Standard base64 of `bytes`, padded.
pub fn encode(bytes: &[u8]) -> String {
    const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let byte = |i: usize| u32::from(group.get(i).copied().unwrap_or(0));
        let n = byte(0) << 16 | byte(1) << 8 | byte(2);
        for (k, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            out.push(if k <= group.len() {
                STANDARD[(n >> shift & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

/// Whether a run of base64 characters starts at `text[i]`.
#[inline]
pub fn starts_run(text: &[u8], i: usize) -> bool {
    in_alphabet(text[i]) && (i == 0 || !in_alphabet(text[i - 1]))
}

/// Decodes the run at `text[i]` into `out` if it is long enough and decodes to text. `Err`
/// carries the run's length, for the caller to skip it (the caller discards what `out` got).
pub fn run(text: &[u8], i: usize, out: &mut Vec<u8>) -> Result<Decoded, usize> {
    let chars = text[i..].iter().take_while(|&&b| in_alphabet(b)).count();
    let padding = text[i + chars..]
        .iter()
        .take(2)
        .take_while(|&&b| b == b'=')
        .count();
    let span = chars + padding;
    if chars < MIN_RUN {
        return Err(span);
    }
    // A final lone character carries no whole byte.
    let usable = chars - chars % 4 + if chars % 4 >= 2 { chars % 4 } else { 0 };
    let start = out.len();
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut text_so_far = TextCheck::default();
    for &b in &text[i..i + usable] {
        acc = (acc << 6) | u32::from(VALUES[b as usize]);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            let byte = (acc >> bits) as u8;
            // Random base64 decodes to a control byte or broken UTF-8 within a few bytes:
            // stop there rather than decode the whole run.
            if !text_so_far.accepts(byte) {
                return Err(span);
            }
            out.push(byte);
        }
    }
    if is_text(&out[start..]) {
        Ok(Some((span, Encoding::Base64)))
    } else {
        Err(span)
    }
}

/// A byte-at-a-time check that decoded bytes can still be text: no ASCII control byte but tab
/// and line breaks, and UTF-8 lead and continuation bytes where they belong. [`is_text`] has the
/// last word.
#[derive(Default)]
struct TextCheck {
    /// Continuation bytes the current character still needs.
    pending: u8,
}

impl TextCheck {
    #[inline]
    fn accepts(&mut self, byte: u8) -> bool {
        if self.pending > 0 {
            self.pending -= 1;
            return byte & 0xC0 == 0x80;
        }
        match byte {
            b'\t' | b'\n' | b'\r' | 0x20..=0x7E => true,
            0xC2..=0xDF => {
                self.pending = 1;
                true
            }
            0xE0..=0xEF => {
                self.pending = 2;
                true
            }
            0xF0..=0xF4 => {
                self.pending = 3;
                true
            }
            _ => false,
        }
    }
}

/// Valid UTF-8 with no control characters but tab, line feed and carriage return.
fn is_text(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(text) => !text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(text: &str) -> Result<(String, usize), usize> {
        let mut out = Vec::new();
        let (n, _) = run(text.as_bytes(), 0, &mut out)?.unwrap();
        Ok((String::from_utf8(out).unwrap(), n))
    }

    #[test]
    fn text_runs_decode_in_both_alphabets_with_or_without_padding() {
        assert_eq!(
            decode("QUtJQVFZTFBNTjVISEhGUFpBTTI= x"),
            Ok(("AKIAQYLPMN5HHHFPZAM2".into(), 28))
        );
        assert_eq!(
            decode("QUtJQVFZTFBNTjVISEhGUFpBTTI"),
            Ok(("AKIAQYLPMN5HHHFPZAM2".into(), 27))
        );
        // "key=a/b+c?d>>" in the URL-safe alphabet.
        assert_eq!(
            decode("a2V5PWEvYitjP2Q-PiB0ZXh0").map(|(s, _)| s),
            Ok("key=a/b+c?d>> text".into())
        );
    }

    #[test]
    fn literals_have_a_spelling_for_each_alignment() {
        assert_eq!(spellings_of(b"AKIA"), ["QUtJQ", "FLSU", "BS0lB"]);
        for prefix in ["", "x", "xy"] {
            let encoded = encode(format!("{prefix}AKIAQYLPMN5HHHFPZAM2").as_bytes());
            assert!(
                spellings_of(b"AKIA")
                    .iter()
                    .any(|s| encoded.contains(s.as_str())),
                "{prefix:?}: {encoded}"
            );
        }
        assert_eq!(encode(b"key"), "a2V5");
        assert_eq!(encode(b"ke"), "a2U=");
        assert_eq!(encode(b"k"), "aw==");
    }

    #[test]
    fn keys_hashes_and_binary_are_not_text() {
        for run in [
            "AKIAQYLPMN5HHHFPZAM2",
            "r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD",
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk",
            "sha512-Qm9kX2vT7Lp4Rz8Yw1Nc6Hd3Jf5Gs0BaEuVtIo",
        ] {
            assert!(decode(run).is_err(), "{run}");
        }
        assert_eq!(decode("shortQUtJ"), Err(9));
    }
}
