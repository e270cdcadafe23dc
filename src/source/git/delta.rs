//! What a pack delta says about the blob it builds: which of its bytes are new.
//!
//! A delta rebuilds an object from a base with two kinds of instruction: *copy* a range of the
//! base, and *insert* literal bytes. Everything a copy brings sits in the base, in the same
//! order and with the same neighbours, except where two instructions meet: there the bytes on
//! either side came from different places. So the bytes of the result whose surroundings the
//! base does not have are the inserted ones and the seams between instructions that are not
//! one run of the base. A history audit that has scanned the base needs to look at the result
//! only around those (see `scan::history_changes`).

use std::ops::Range;

/// Why a delta cannot be read.
#[derive(Debug, PartialEq, Eq)]
pub struct BadDelta(pub &'static str);

/// Appends to `changed` the ranges of the result of `delta` that its base does not hold as
/// they are: inserted bytes, and two bytes around each seam where the result's neighbouring
/// bytes are not neighbours in the base (the start and end of the result count as seams unless
/// the base starts or ends the same way). Ranges are in order and do not overlap. Returns the
/// size of the result.
pub fn changed_ranges(delta: &[u8], changed: &mut Vec<Range<usize>>) -> Result<usize, BadDelta> {
    let mut at = 0;
    let base_size = varint(delta, &mut at)?;
    let result_size = varint(delta, &mut at)?;
    let first = changed.len();
    let mut out = 0usize;
    // Where the previous copy ended in the base; None after an insert or at the start.
    let mut base_end: Option<usize> = None;
    let mark = |range: Range<usize>, changed: &mut Vec<Range<usize>>| {
        let extends = changed.len() > first && changed.last().is_some_and(|l| range.start <= l.end);
        match changed.last_mut() {
            Some(last) if extends => last.end = last.end.max(range.end),
            _ => changed.push(range),
        }
    };
    while at < delta.len() {
        let op = delta[at];
        at += 1;
        if op & 0x80 != 0 {
            let mut offset = 0usize;
            for (bit, shift) in [(0x01, 0), (0x02, 8), (0x04, 16), (0x08, 24)] {
                if op & bit != 0 {
                    offset |=
                        usize::from(*delta.get(at).ok_or(BadDelta("truncated copy"))?) << shift;
                    at += 1;
                }
            }
            let mut size = 0usize;
            for (bit, shift) in [(0x10, 0), (0x20, 8), (0x40, 16)] {
                if op & bit != 0 {
                    size |= usize::from(*delta.get(at).ok_or(BadDelta("truncated copy"))?) << shift;
                    at += 1;
                }
            }
            if size == 0 {
                size = 0x10000;
            }
            let end = offset
                .checked_add(size)
                .filter(|&end| end <= base_size)
                .ok_or(BadDelta("copy beyond the base"))?;
            // The previous byte of the result is not the base's previous byte: a seam.
            let continues = match base_end {
                Some(previous) => previous == offset,
                None => out > 0 || offset == 0,
            };
            if !continues {
                mark(out.saturating_sub(1)..out + 1, changed);
            }
            base_end = Some(end);
            out += size;
        } else if op != 0 {
            let size = usize::from(op);
            if at + size > delta.len() {
                return Err(BadDelta("truncated insert"));
            }
            at += size;
            mark(out..out + size, changed);
            base_end = None;
            out += size;
        } else {
            return Err(BadDelta("reserved instruction"));
        }
        if out > result_size {
            return Err(BadDelta("longer than announced"));
        }
    }
    if out != result_size {
        return Err(BadDelta("shorter than announced"));
    }
    // A result that ends where its base does not: its last byte's surroundings are new.
    if base_end.is_some_and(|end| end != base_size) && out > 0 {
        mark(out - 1..out, changed);
    }
    for range in &mut changed[first..] {
        range.end = range.end.min(out);
    }
    Ok(out)
}

/// A size in a delta's header: seven bits a byte, least significant first.
fn varint(delta: &[u8], at: &mut usize) -> Result<usize, BadDelta> {
    let mut value = 0usize;
    let mut shift = 0;
    loop {
        let byte = *delta.get(*at).ok_or(BadDelta("truncated header"))?;
        *at += 1;
        if shift > 56 {
            return Err(BadDelta("size too large"));
        }
        value |= usize::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(base: usize, result: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for mut value in [base, result] {
            loop {
                let byte = (value & 0x7f) as u8;
                value >>= 7;
                if value == 0 {
                    out.push(byte);
                    break;
                }
                out.push(byte | 0x80);
            }
        }
        out
    }

    fn copy(offset: u32, size: u32) -> Vec<u8> {
        let mut op = 0x80u8;
        let mut args = Vec::new();
        for (i, byte) in offset.to_le_bytes().iter().enumerate() {
            if *byte != 0 {
                op |= 1 << i;
                args.push(*byte);
            }
        }
        for (i, byte) in size.to_le_bytes()[..3].iter().enumerate() {
            if *byte != 0 {
                op |= 0x10 << i;
                args.push(*byte);
            }
        }
        let mut out = vec![op];
        out.extend(args);
        out
    }

    fn insert(bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![bytes.len() as u8];
        out.extend_from_slice(bytes);
        out
    }

    fn changed(delta: &[u8]) -> Result<Vec<Range<usize>>, BadDelta> {
        let mut out = Vec::new();
        changed_ranges(delta, &mut out).map(|_| out)
    }

    #[test]
    fn inserts_are_changed_and_a_contiguous_copy_is_not() {
        // base: 100 bytes; result: base[0..40] + "new!" + base[40..100]
        let mut delta = header(100, 104);
        delta.extend(copy(0, 40));
        delta.extend(insert(b"new!"));
        delta.extend(copy(40, 60));
        assert_eq!(changed(&delta), Ok(vec![Range { start: 40, end: 44 }]));
    }

    #[test]
    fn copies_from_different_places_meet_at_a_seam() {
        // result: base[50..100] + base[0..50]: the middle and both ends are new neighbours
        let mut delta = header(100, 100);
        delta.extend(copy(50, 50));
        delta.extend(copy(0, 50));
        assert_eq!(changed(&delta), Ok(vec![0..1, 49..51, 99..100]));
    }

    #[test]
    fn a_copy_of_the_whole_base_changes_nothing() {
        let mut delta = header(70_000, 70_000);
        delta.extend(copy(0, 0x10000));
        delta.extend(copy(0x10000, 70_000 - 0x10000));
        assert_eq!(changed(&delta), Ok(vec![]));
    }

    #[test]
    fn a_result_cut_short_of_its_base_has_a_new_end() {
        let mut delta = header(100, 60);
        delta.extend(copy(0, 60));
        assert_eq!(changed(&delta), Ok(vec![Range { start: 59, end: 60 }]));
    }

    #[test]
    fn damaged_deltas_are_errors_not_panics() {
        let mut beyond = header(10, 20);
        beyond.extend(copy(5, 20));
        assert_eq!(changed(&beyond), Err(BadDelta("copy beyond the base")));
        let mut short = header(10, 20);
        short.extend(copy(0, 10));
        assert_eq!(changed(&short), Err(BadDelta("shorter than announced")));
        let mut truncated = header(10, 5);
        truncated.extend([3, b'a']);
        assert_eq!(changed(&truncated), Err(BadDelta("truncated insert")));
        let mut reserved = header(10, 5);
        reserved.push(0);
        assert_eq!(changed(&reserved), Err(BadDelta("reserved instruction")));
        assert_eq!(changed(&[0x80]), Err(BadDelta("truncated header")));
        assert!(changed(&[0xff; 12]).is_err());
    }
}
