//! Decoded views of encoded text, so keys hidden by an encoding are matched like plain ones.
//!
//! A [`View`] is one layer of decoding over a region of a buffer: the region's bytes with every
//! encoded run replaced by what it stands for (base64, `%2F`, `\u002F`, `&#x2F;`), and the
//! separators of a string literal split across lines (`"wJal" +` / `"rXUt…"`) removed. Bytes
//! that are not encoded are copied as they are, so a decoded value keeps the key name and key
//! ID around it, and the rules' context checks work on the view as on plain text.
//!
//! Every decoded byte maps back to the encoded bytes it came from, so a finding in a view is
//! reported at the encoded region of the original input, with the chain of decodings.
//!
//! **Work bound.** No decoder makes text longer: base64 yields 3 bytes per 4, an escape or a
//! character reference yields at most as many bytes as it spans (`\uD83D\uDE00`, 12 bytes, is 4
//! bytes of UTF-8), and a split-literal separator yields none. The matcher decodes disjoint
//! regions of its buffer, so one layer of views holds at most as many bytes as the buffer, and
//! `--max-decode-depth N` bounds the matcher's work to `N + 1` times the input.

mod base64;

pub use base64::{encode as base64_encode, spellings_of as base64_spellings};
mod escapes;
pub use escapes::for_each_html_spelling;
mod split;

use std::ops::Range;

/// One kind of decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Encoding {
    /// A UTF-16 file, transcoded to UTF-8 as a whole.
    Utf16,
    /// Standard or URL-safe base64 whose decoding is text.
    Base64,
    /// `%2F` percent-encoding.
    Percent,
    /// Backslash escapes of JSON, JavaScript, C and Python strings: `\/`, `\u002F`, `\x2F`, `\n`.
    Escape,
    /// HTML and XML character references: `&#x2F;`, `&#47;`, `&sol;`, `&amp;`.
    Html,
    /// A string literal split over concatenations or continued lines, joined.
    Split,
}

impl Encoding {
    /// Every encoding, in declaration order.
    pub const ALL: [Encoding; 6] = [
        Encoding::Utf16,
        Encoding::Base64,
        Encoding::Percent,
        Encoding::Escape,
        Encoding::Html,
        Encoding::Split,
    ];

    /// The encoding reports call `name`.
    pub fn from_name(name: &str) -> Option<Encoding> {
        Encoding::ALL.into_iter().find(|e| e.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf16 => "utf-16",
            Encoding::Base64 => "base64",
            Encoding::Percent => "percent",
            Encoding::Escape => "escape",
            Encoding::Html => "html",
            Encoding::Split => "split",
        }
    }
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Decoded bytes `decoded` of a view that stand for the bytes `encoded` of its input.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    decoded: Range<usize>,
    encoded: Range<usize>,
    encoding: Encoding,
}

/// One layer of decoding over a region of an input (see the module documentation).
#[derive(Debug, Default)]
pub struct View {
    /// The decoded region.
    pub bytes: Vec<u8>,
    /// The decoded runs, in order; the bytes between them are copied from the input.
    segments: Vec<Segment>,
    /// Where the region starts in the input.
    start: usize,
}

/// What a decoder found at a position: how many input bytes it consumed (its output is
/// already appended to the view's bytes) and which encoding it was.
type Decoded = Option<(usize, Encoding)>;

impl View {
    /// Decodes `input[region]` into this view. Returns whether anything in it was encoded; when
    /// nothing was, the view holds no bytes.
    pub fn decode(&mut self, input: &[u8], region: Range<usize>) -> bool {
        self.bytes.clear();
        self.segments.clear();
        self.start = region.start;
        let text = &input[region.clone()];
        let mut blocks = split::YamlBlocks::default();
        let mut verbatim_from = 0;
        // Where the last split-literal separator ended.
        let mut joined_at = usize::MAX;
        let mut i = 0;
        while i < text.len() {
            let b = text[i];
            // Fast path: most bytes start nothing.
            if !may_start_encoding(b, text, i) {
                i += 1;
                continue;
            }
            self.bytes.extend_from_slice(&text[verbatim_from..i]);
            let out_start = self.bytes.len();
            // `Err(n)`: nothing to decode in the next `n` bytes; copy them as they are.
            let decoded: Result<Decoded, usize> = match b {
                b'%' => Ok(escapes::percent(text, i, &mut self.bytes)),
                b'\\' => Ok(split::continuation(text, i)
                    .or_else(|| escapes::backslash(text, i, &mut self.bytes))),
                b'&' => Ok(escapes::html(text, i, &mut self.bytes)),
                b'"' | b'\'' => Ok(split::separator(text, i)),
                b'\n' | b'\r' => Ok(blocks.join(text, i)),
                // A base64 run that is not text is skipped whole, never looked inside; a piece
                // of a split literal is decoded once the next layer has joined it.
                _ => match base64::run(text, i, &mut self.bytes) {
                    Ok(Some((len, _))) if i == joined_at || split::follows(text, i + len) => {
                        Err(len)
                    }
                    other => other,
                },
            };
            match decoded {
                Ok(Some((consumed, encoding))) => {
                    if encoding == Encoding::Split {
                        joined_at = i + consumed;
                    }
                    self.segments.push(Segment {
                        decoded: out_start..self.bytes.len(),
                        encoded: region.start + i..region.start + i + consumed,
                        encoding,
                    });
                    i += consumed;
                }
                Ok(None) | Err(_) => {
                    self.bytes.truncate(out_start);
                    verbatim_from = i;
                    i += decoded.err().unwrap_or(1);
                    continue;
                }
            }
            verbatim_from = i;
        }
        if self.segments.is_empty() {
            self.bytes.clear();
            return false;
        }
        self.bytes.extend_from_slice(&text[verbatim_from..]);
        true
    }

    /// The range of the input that the decoded bytes `range` come from: a match that starts or
    /// ends inside an escape or a separator covers all of it; inside a base64 run, the
    /// characters that encode its bytes.
    pub fn encoded_range(&self, range: Range<usize>) -> Range<usize> {
        let start = self.input_position(range.start, false);
        let end = self.input_position(range.end, true);
        start..end.max(start)
    }

    /// The input position of view position `pos`; inside a decoded run, its encoded start, or
    /// with `end`, its encoded end.
    fn input_position(&self, pos: usize, end: bool) -> usize {
        // The last segment that starts at or before `pos` (for an end position, before it).
        let after = self.segments.partition_point(|s| {
            if end {
                s.decoded.start < pos
            } else {
                s.decoded.start <= pos
            }
        });
        let Some(segment) = after.checked_sub(1).map(|i| &self.segments[i]) else {
            return self.start + pos;
        };
        let inside = if end {
            pos <= segment.decoded.end
        } else {
            pos < segment.decoded.end
        };
        if !inside {
            return segment.encoded.end + (pos - segment.decoded.end);
        }
        if segment.encoding == Encoding::Base64 {
            // Every 3 decoded bytes are 4 encoded characters: a value inside a decoded run
            // maps to the characters that encode it.
            let into = pos - segment.decoded.start;
            let chars = if end {
                (into * 4).div_ceil(3)
            } else {
                into * 4 / 3
            };
            return (segment.encoded.start + chars).min(segment.encoded.end);
        }
        if end {
            segment.encoded.end
        } else {
            segment.encoded.start
        }
    }

    /// The decoded runs of the view, in order.
    pub fn decoded_runs(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.segments.iter().map(|s| s.decoded.clone())
    }

    /// The encodings of the decoded runs that `range` overlaps, in order, each once; the
    /// nearest run's when it overlaps none (a value found thanks to its decoded surroundings).
    pub fn encodings_of(&self, range: Range<usize>, out: &mut Vec<Encoding>) {
        // Runs that end before the range cannot overlap it; an empty run (a separator) counts
        // as one byte wide.
        let first = self
            .segments
            .partition_point(|s| s.decoded.end.max(s.decoded.start + 1) <= range.start);
        let before = out.len();
        for segment in self.segments[first..]
            .iter()
            .take_while(|s| s.decoded.start < range.end.max(range.start + 1))
        {
            if !out[before..].contains(&segment.encoding) {
                out.push(segment.encoding);
            }
        }
        if out.len() == before {
            // The nearest run, before or after: what made the difference.
            let nearest = self
                .segments
                .get(first)
                .or_else(|| first.checked_sub(1).map(|i| &self.segments[i]));
            out.extend(nearest.map(|s| s.encoding));
        }
    }
}

/// Whether byte `b` at `text[i]` could start an encoded run.
#[inline]
fn may_start_encoding(b: u8, text: &[u8], i: usize) -> bool {
    match b {
        b'%' | b'\\' | b'&' | b'"' | b'\'' | b'\n' | b'\r' => true,
        _ => base64::starts_run(text, i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(text: &str) -> Option<String> {
        let mut view = View::default();
        view.decode(text.as_bytes(), 0..text.len())
            .then(|| String::from_utf8_lossy(&view.bytes).into_owned())
    }

    #[test]
    fn plain_text_has_no_view() {
        assert_eq!(
            decoded("let key = compute(a, b); // no encodings here"),
            None
        );
        assert_eq!(
            decoded("AKIAQYLPMN5HHHFPZAM2 r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD"),
            None
        );
    }

    #[test]
    fn each_encoding_decodes_in_place() {
        assert_eq!(decoded("s=ab%2Fcd%2Bef").as_deref(), Some("s=ab/cd+ef"));
        assert_eq!(
            decoded(r#"{"k":"ab\/cd\u002Bef\x3D"}"#).as_deref(),
            Some(r#"{"k":"ab/cd+ef="}"#)
        );
        assert_eq!(
            decoded("<a href=\"?s=ab&#x2F;cd&#43;ef&amp;\">").as_deref(),
            Some("<a href=\"?s=ab/cd+ef&\">")
        );
        assert_eq!(
            decoded("secret: YXdzX3NlY3JldF9hY2Nlc3Nfa2V5ID0gYWJj").as_deref(),
            Some("secret: aws_secret_access_key = abc")
        );
        assert_eq!(
            decoded("k = \"ab\" +\n    \"cd\"").as_deref(),
            Some("k = \"abcd\"")
        );
    }

    #[test]
    fn positions_map_back_to_the_encoded_bytes() {
        let text = "x ab%2Fcd y";
        let mut view = View::default();
        assert!(view.decode(text.as_bytes(), 2..text.len()));
        assert_eq!(view.bytes, b"ab/cd y");
        // "ab/cd" in the view is "ab%2Fcd" in the input.
        assert_eq!(view.encoded_range(0..5), 2..9);
        assert_eq!(view.encoded_range(3..5), 7..9);
        assert_eq!(view.encoded_range(2..3), 4..7);
        assert_eq!(view.encoded_range(6..7), 10..11);
        let mut chain = Vec::new();
        view.encodings_of(0..5, &mut chain);
        assert_eq!(chain, [Encoding::Percent]);

        // Two IDs in one base64 run map to the characters that encode each.
        let ids = "AKIAQYLPMN5HHHFPZAM2 AKIAZT4HB6K7WLQX3N5D";
        let text = format!("creds: {}", base64_encode(ids.as_bytes()));
        assert!(view.decode(text.as_bytes(), 0..text.len()));
        let first = view.encoded_range(7..27);
        let second = view.encoded_range(28..48);
        assert_eq!(first, 7..34);
        assert_eq!(second, 35..62);
    }
}
