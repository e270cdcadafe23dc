//! Byte-level line arithmetic shared by the matcher (windows, context) and findings (locations).
//!
//! Everything here works on raw bytes with `memchr`, so invalid UTF-8 and giant lines cost no
//! more than valid text, and nothing is decoded or copied.

use memchr::{memchr, memrchr};

/// Start of the line `lines` lines above the one holding `pos`, never earlier than `floor`.
#[inline]
pub fn start_of_lines_before(buf: &[u8], pos: usize, lines: u32, floor: usize) -> usize {
    let mut cur = pos;
    for _ in 0..=lines {
        match memrchr(b'\n', &buf[floor..cur]) {
            Some(i) => cur = floor + i,
            None => return floor,
        }
    }
    cur + 1
}

/// End (exclusive, before the newline) of the line `lines` lines below the one holding
/// `pos`, never later than `ceiling`.
#[inline]
pub fn end_of_lines_after(buf: &[u8], pos: usize, lines: u32, ceiling: usize) -> usize {
    let mut cur = pos;
    for _ in 0..=lines {
        if cur >= ceiling {
            return ceiling;
        }
        match memchr(b'\n', &buf[cur..ceiling]) {
            Some(i) => cur += i + 1,
            None => return ceiling,
        }
    }
    cur - 1
}

/// Number of characters in `bytes` as a text viewer shows them: each UTF-8 character counts
/// once, and each invalid sequence counts once (it shows as one U+FFFD, as in
/// `String::from_utf8_lossy`). Callers split buffers only on character boundaries.
#[inline]
pub fn count_chars(bytes: &[u8]) -> usize {
    // Most text is ASCII (minified code is one long line of it): one byte, one character.
    if bytes.is_ascii() {
        return bytes.len();
    }
    // In valid UTF-8 every byte but a continuation byte (0b10xx_xxxx) starts a character: a
    // count that vectorises, where decoding goes character by character.
    if std::str::from_utf8(bytes).is_ok() {
        return bytes.iter().filter(|&&b| (b as i8) >= -0x40).count();
    }
    bytes
        .utf8_chunks()
        .map(|chunk| chunk.valid().chars().count() + usize::from(!chunk.invalid().is_empty()))
        .sum()
}

/// The largest character boundary at or before `pos` (at most 3 bytes back).
#[inline]
pub fn floor_char_boundary(bytes: &[u8], pos: usize) -> usize {
    let mut at = pos;
    while at > 0 && pos - at < 3 && at < bytes.len() && (bytes[at] & 0xC0) == 0x80 {
        at -= 1;
    }
    at
}

/// Number of newlines in `bytes`.
#[inline]
pub fn count_newlines(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes).count()
}

/// The smallest character boundary at or after `pos` (at most 3 bytes on).
#[inline]
pub fn ceil_char_boundary(bytes: &[u8], pos: usize) -> usize {
    let mut at = pos;
    while at < bytes.len() && at - pos < 3 && (bytes[at] & 0xC0) == 0x80 {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &[u8] = b"one\ntwo\nthree\nfour";

    #[test]
    fn lines_before_stop_at_floor() {
        let pos = 9; // inside "three"
        assert_eq!(start_of_lines_before(TEXT, pos, 0, 0), 8);
        assert_eq!(start_of_lines_before(TEXT, pos, 1, 0), 4);
        assert_eq!(start_of_lines_before(TEXT, pos, 5, 0), 0);
        assert_eq!(start_of_lines_before(TEXT, pos, 5, 6), 6);
    }

    #[test]
    fn lines_after_stop_at_ceiling() {
        let pos = 5; // inside "two"
        assert_eq!(end_of_lines_after(TEXT, pos, 0, TEXT.len()), 7);
        assert_eq!(end_of_lines_after(TEXT, pos, 1, TEXT.len()), 13);
        assert_eq!(end_of_lines_after(TEXT, pos, 9, TEXT.len()), TEXT.len());
        assert_eq!(end_of_lines_after(TEXT, pos, 9, 6), 6);
    }

    #[test]
    fn chars_count_utf8_sequences_once() {
        assert_eq!(count_chars("café".as_bytes()), 4);
        assert_eq!(count_chars(b"\xff\xfeab"), 4);
        assert_eq!(count_chars(b"\xa9 caf\xe9 x"), 8);
        assert_eq!(count_chars("日本".as_bytes()), 2);
        let long = "ключ=значение; ".repeat(1000) + "é\u{1F511}";
        assert_eq!(count_chars(long.as_bytes()), long.chars().count());
        let mut broken = long.clone().into_bytes();
        broken.push(0xE2);
        assert_eq!(count_chars(&broken), long.chars().count() + 1);
    }

    #[test]
    fn boundaries_step_back_over_continuation_bytes() {
        let text = "a日b".as_bytes();
        assert_eq!(floor_char_boundary(text, 2), 1);
        assert_eq!(floor_char_boundary(text, 4), 4);
        assert_eq!(floor_char_boundary(text, 0), 0);
        assert_eq!(ceil_char_boundary(text, 2), 4);
        assert_eq!(ceil_char_boundary(text, 1), 1);
    }
}
