//! Escapes that stand for one character each: `%2F`, `\u002F`, `\x2F`, `\/`, `&#x2F;`.
//!
//! Each decoder looks at the escape starting at `text[i]`, appends what it stands for to `out`
//! and returns how many bytes it spans, or returns `None` and appends nothing.

use super::{Decoded, Encoding};

fn hex(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

/// The value of the hex digits `digits`, if they all are hex digits.
fn hex_value(digits: &[u8]) -> Option<u32> {
    digits
        .iter()
        .try_fold(0u32, |acc, &d| Some(acc * 16 + hex(d)?))
}

/// Appends the UTF-8 encoding of code point `c`; false for a value that is not a character.
fn push_char(c: u32, out: &mut Vec<u8>) -> bool {
    match char::from_u32(c) {
        Some(c) => {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            true
        }
        None => false,
    }
}

/// `%HH`: one byte.
pub fn percent(text: &[u8], i: usize, out: &mut Vec<u8>) -> Decoded {
    let byte = hex_value(text.get(i + 1..i + 3)?)?;
    out.push(byte as u8);
    Some((3, Encoding::Percent))
}

/// Backslash escapes: `\uXXXX` (with surrogate pairs), `\u{X…}`, `\xHH`, and the one-character
/// escapes of JSON and C-family strings. An unknown escape (`\d` in a regex) is not decoded.
pub fn backslash(text: &[u8], i: usize, out: &mut Vec<u8>) -> Decoded {
    let kind = *text.get(i + 1)?;
    let (consumed, ok) = match kind {
        b'/' | b'\\' | b'"' | b'\'' | b'+' | b'=' => {
            out.push(kind);
            (2, true)
        }
        b'n' => {
            out.push(b'\n');
            (2, true)
        }
        b'r' => {
            out.push(b'\r');
            (2, true)
        }
        b't' => {
            out.push(b'\t');
            (2, true)
        }
        b'x' => {
            let byte = hex_value(text.get(i + 2..i + 4)?)?;
            out.push(byte as u8);
            (4, true)
        }
        b'u' if text.get(i + 2) == Some(&b'{') => {
            let close = text[i + 3..].iter().take(7).position(|&b| b == b'}')?;
            let c = hex_value(&text[i + 3..i + 3 + close])?;
            (close + 4, push_char(c, out))
        }
        b'u' => {
            let unit = hex_value(text.get(i + 2..i + 6)?)?;
            if (0xD800..0xDC00).contains(&unit) {
                // A high surrogate: the low one must follow as `\uXXXX`.
                let low = text
                    .get(i + 6..i + 8)
                    .filter(|p| p == b"\\u")
                    .and_then(|_| hex_value(text.get(i + 8..i + 12)?))
                    .filter(|low| (0xDC00..0xE000).contains(low))?;
                let c = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                (12, push_char(c, out))
            } else {
                (6, push_char(unit, out))
            }
        }
        _ => return None,
    };
    ok.then_some((consumed, Encoding::Escape))
}

/// The named character references worth decoding: the characters keys and their
/// surroundings are made of.
const NAMED: [(&[u8], u8); 9] = [
    (b"amp", b'&'),
    (b"lt", b'<'),
    (b"gt", b'>'),
    (b"quot", b'"'),
    (b"apos", b'\''),
    (b"sol", b'/'),
    (b"plus", b'+'),
    (b"equals", b'='),
    (b"percnt", b'%'),
];

/// HTML and XML character references: `&#47;`, `&#x2F;`, `&sol;`.
pub fn html(text: &[u8], i: usize, out: &mut Vec<u8>) -> Decoded {
    let rest = &text[i + 1..];
    let semi = rest.iter().take(10).position(|&b| b == b';')?;
    let body = &rest[..semi];
    let ok = match body {
        [b'#', b'x' | b'X', digits @ ..] if !digits.is_empty() => {
            push_char(hex_value(digits)?, out)
        }
        [b'#', digits @ ..] if !digits.is_empty() => {
            let c = digits
                .iter()
                .try_fold(0u32, |acc, &d| Some(acc * 10 + (d as char).to_digit(10)?))?;
            push_char(c, out)
        }
        name => match NAMED.iter().find(|(n, _)| *n == name) {
            Some(&(_, c)) => {
                out.push(c);
                true
            }
            None => false,
        },
    };
    ok.then_some((semi + 2, Encoding::Html))
}

/// Calls `hit(start, end)` for each run of character references in `text` that spells one of
/// `keywords` (`&#x41;&#x4B;&#x49;&#x41;`, `&#65;&#75;&#73;&#65;`): a key ID written wholly
/// in references has no plain keyword for the prefilter to find, so its spelling has to be
/// looked for to decode it.
pub fn for_each_html_spelling(
    text: &[u8],
    keywords: &[Vec<u8>],
    mut hit: impl FnMut(usize, usize),
) {
    static REFERENCE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"&#"));
    let Some(longest) = keywords.iter().map(Vec::len).max() else {
        return;
    };
    // Allocated only once a reference is found.
    let mut spelled = Vec::new();
    for start in REFERENCE.find_iter(text) {
        spelled.clear();
        let mut at = start;
        while spelled.len() < longest && text[at..].starts_with(b"&#") {
            match html(text, at, &mut spelled) {
                Some((consumed, _)) => at += consumed,
                None => break,
            }
        }
        if keywords.iter().any(|k| spelled.starts_with(k)) {
            hit(start, at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(f: fn(&[u8], usize, &mut Vec<u8>) -> Decoded, text: &str) -> Option<(String, usize)> {
        let mut out = Vec::new();
        let (n, _) = f(text.as_bytes(), 0, &mut out)?;
        Some((String::from_utf8(out).unwrap(), n))
    }

    #[test]
    fn percent_needs_two_hex_digits() {
        assert_eq!(one(percent, "%2Fx"), Some(("/".into(), 3)));
        assert_eq!(one(percent, "%2b"), Some(("+".into(), 3)));
        assert_eq!(one(percent, "%d items"), None);
        assert_eq!(one(percent, "%2"), None);
    }

    #[test]
    fn backslash_escapes() {
        assert_eq!(one(backslash, r"\/"), Some(("/".into(), 2)));
        assert_eq!(one(backslash, r"\u002F"), Some(("/".into(), 6)));
        assert_eq!(one(backslash, r"\u{2b}"), Some(("+".into(), 6)));
        assert_eq!(one(backslash, r"\x3d"), Some(("=".into(), 4)));
        assert_eq!(one(backslash, r"\n"), Some(("\n".into(), 2)));
        assert_eq!(one(backslash, r"\uD83D\uDE00"), Some(("😀".into(), 12)));
        assert_eq!(one(backslash, r"\uD83D"), None);
        assert_eq!(one(backslash, r"\d+"), None);
        assert_eq!(one(backslash, r"\u00"), None);
    }

    #[test]
    fn character_references() {
        assert_eq!(one(html, "&#x2F;"), Some(("/".into(), 6)));
        assert_eq!(one(html, "&#43;"), Some(("+".into(), 5)));
        assert_eq!(one(html, "&sol;"), Some(("/".into(), 5)));
        assert_eq!(one(html, "&amp;"), Some(("&".into(), 5)));
        assert_eq!(one(html, "&nbsp;"), None);
        assert_eq!(one(html, "& b;"), None);
        assert_eq!(one(html, "&#xD800;"), None);
    }

    #[test]
    fn keywords_spelled_in_references_are_found() {
        let keywords = [b"AKIA".to_vec(), b"ASIA".to_vec()];
        let spots = |text: &str| {
            let mut found = Vec::new();
            for_each_html_spelling(text.as_bytes(), &keywords, |s, e| found.push((s, e)));
            found
        };
        let hex = "id: &#x41;&#x4B;&#x49;&#x41;&#x51;";
        assert_eq!(spots(hex), [(4, 28)]);
        assert_eq!(spots("&#65;&#83;&#73;&#65;"), [(0, 20)]);
        assert_eq!(spots("&#X41;&#x4b;&#0073;&#x041;"), [(0, 26)]);
        // Other references, a keyword cut short, a broken reference: nothing.
        assert!(
            spots("&#39;quoted&#39; &amp; &#x41;&#x4B;&#x49; &#x41;&#x4B;&#x49&#x41;").is_empty()
        );
        assert!(spots("AKIA in plain text").is_empty());
    }
}
