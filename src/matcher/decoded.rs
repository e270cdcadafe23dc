//! Matching in decoded views: the regions around a buffer's keyword hits are decoded (see
//! [`crate::decode`]) and the lines around each decoded run are matched again, one layer of
//! encoding at a time, up to the matcher's decode depth. What a view yields is reported at the
//! encoded region of the buffer, with the decoded value and the chain of decodings.

use std::ops::Range;

use super::{merge, DecodedMatch, Layer, Matcher, RawMatch, Scratch, REACH, TRIGGER_LINES};
use crate::lines::{end_of_lines_after, start_of_lines_before};

impl Matcher<'_> {
    /// Decodes the regions around this buffer's keyword hits and matches the views, adding to
    /// `out` what they hold that the buffer itself (its matches from `first` on) did not.
    pub(super) fn find_decoded(
        &self,
        scratch: &mut Scratch,
        buf: &[u8],
        owned: &Range<usize>,
        out: &mut Vec<RawMatch>,
        first: usize,
        depth: usize,
    ) {
        let mut layer = std::mem::take(&mut scratch.layers[depth]);
        let Layer {
            regions,
            view,
            found,
        } = &mut layer;
        merge(regions);
        // The plain matches of this buffer, to tell what only a view holds; sorted once, when
        // a view first yields a match.
        let mut plain: Option<Vec<(u32, usize, usize)>> = None;
        for region in regions.drain(..) {
            if region.end <= owned.start || region.start >= owned.end {
                continue;
            }
            if !view.decode(buf, region) {
                continue;
            }
            found.clear();
            // Only the text near decoded runs can hold something new: match the lines around
            // each run, with the lines around those as context. Slices whose context overlaps
            // are merged, so one layer never matches a byte twice.
            let text = &view.bytes;
            let mut slices: Vec<(Range<usize>, Range<usize>)> = Vec::new();
            for run in view.decoded_runs() {
                let owned = lines_around(text, run);
                let slice = lines_around(text, owned.clone());
                match slices.last_mut() {
                    Some((last, last_owned)) if slice.start <= last.end => {
                        last.end = last.end.max(slice.end);
                        last_owned.end = last_owned.end.max(owned.end);
                    }
                    _ => slices.push((slice, owned)),
                }
            }
            for (slice, part) in slices {
                let (lo, hi) = (slice.start, slice.end);
                scratch.decoded_bytes += (hi - lo) as u64;
                let before = found.len();
                self.find_at_depth(
                    scratch,
                    &text[lo..hi],
                    part.start - lo..part.end - lo,
                    found,
                    depth + 1,
                );
                for m in &mut found[before..] {
                    m.secret = m.secret.start + lo..m.secret.end + lo;
                }
            }
            for m in found.drain(..) {
                let span = view.encoded_range(m.secret.clone());
                if !owned.contains(&span.start) {
                    continue;
                }
                let plain = plain.get_or_insert_with(|| {
                    let mut keys: Vec<_> = out[first..]
                        .iter()
                        .map(|p| (p.rule, p.secret.start, p.secret.end))
                        .collect();
                    keys.sort_unstable();
                    keys
                });
                if plain.binary_search(&(m.rule, span.start, span.end)).is_ok() {
                    continue;
                }
                let mut chain = Vec::new();
                view.encodings_of(m.secret.clone(), &mut chain);
                let value = match m.decoded {
                    Some(inner) => {
                        chain.extend(inner.chain);
                        inner.value
                    }
                    None => view.bytes[m.secret.clone()].to_vec(),
                };
                out.push(RawMatch {
                    rule: m.rule,
                    secret: span,
                    confidence: m.confidence,
                    rejection: m.rejection,
                    content_allowed: m.content_allowed,
                    decoded: Some(Box::new(DecodedMatch { value, chain })),
                });
            }
        }
        scratch.layers[depth] = layer;
    }
}

/// The lines around `range` in `text`, [`TRIGGER_LINES`] each way and at most [`REACH`] bytes:
/// the context a decoded run's matches may need, and the region decoded around a keyword
/// spelled in character references.
pub(super) fn lines_around(text: &[u8], range: Range<usize>) -> Range<usize> {
    let lo = start_of_lines_before(
        text,
        range.start,
        TRIGGER_LINES,
        range.start.saturating_sub(REACH),
    );
    let hi = end_of_lines_after(
        text,
        range.end,
        TRIGGER_LINES,
        text.len().min(range.end + REACH),
    );
    lo..hi.max(range.end)
}

/// Property tests of decoding: keys planted under random chains of encodings in random text are
/// found, and decoding never adds more than `depth` times the input to the matcher's work.
#[cfg(test)]
mod tests {
    use crate::decode::{self, Encoding};
    use crate::matcher::{validate, Matcher};
    use crate::rules::RuleSet;

    /// xorshift64*, seeded: the cases are random but the same on every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn string(&mut self, alphabet: &[u8], len: usize) -> String {
            (0..len)
                .map(|_| alphabet[self.below(alphabet.len())] as char)
                .collect()
        }
    }

    const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    /// A fake secret access key: mixed classes, with `/` and `+`, no placeholder runs.
    fn secret(rng: &mut Rng) -> String {
        loop {
            let s = rng.string(BASE64, 40);
            let lower = s.to_ascii_lowercase();
            if s.contains('/')
                && s.contains('+')
                && s.bytes().any(|b| b.is_ascii_digit())
                && !validate::looks_like_placeholder(s.as_bytes())
                && validate::entropy(s.as_bytes()) >= 4.3
                && !["akia", "asia", "secret", "example", "token"]
                    .iter()
                    .any(|k| lower.contains(k))
            {
                return s;
            }
        }
    }

    /// Encodes `text` one layer: the characters a layer must escape are the ones outside
    /// `[A-Za-z0-9]` (a key's `/` and `+`, base64 padding).
    fn encode(text: &str, encoding: Encoding, rng: &mut Rng) -> String {
        let escape_each = |f: &dyn Fn(char) -> String| {
            text.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_string()
                    } else {
                        f(c)
                    }
                })
                .collect::<String>()
        };
        match encoding {
            Encoding::Base64 => decode::base64_encode(text.as_bytes()),
            Encoding::Percent => escape_each(&|c| format!("%{:02X}", c as u32)),
            Encoding::Escape => escape_each(&|c| format!("\\u{:04X}", c as u32)),
            Encoding::Html => escape_each(&|c| format!("&#x{:X};", c as u32)),
            Encoding::Split => {
                // Cut between characters, never inside an escape.
                let units = regex::Regex::new(r"\\u[0-9A-F]{4}|%[0-9A-F]{2}|&#x[0-9A-F]+;|.")
                    .unwrap()
                    .find_iter(text)
                    .map(|m| m.end())
                    .collect::<Vec<_>>();
                let cut = units[2 + rng.below(units.len() - 4)];
                let glue = [" + ", "\n    + ", " ", "\n    "][rng.below(4)];
                format!("{}\"{glue}\"{}", &text[..cut], &text[cut..])
            }
            Encoding::Utf16 => unreachable!("a whole-file encoding"),
        }
    }

    /// Lines of random text with no keyword in them: words, numbers, base64 noise.
    fn noise(rng: &mut Rng, lines: usize) -> String {
        let words = [
            "let", "value", "count", "path", "name", "=", ":", "{", "}", "//", "#",
        ];
        let mut out = String::new();
        for _ in 0..lines {
            for _ in 0..rng.below(8) {
                match rng.below(4) {
                    0 => {
                        let len = 1 + rng.below(9);
                        out.push_str(&rng.string(b"abcdefghijklmnopqrstuvwxyz_", len))
                    }
                    1 => out.push_str(&rng.below(100_000).to_string()),
                    2 => {
                        let len = 8 + rng.below(60);
                        out.push_str(&rng.string(BASE64, len))
                    }
                    _ => out.push_str(words[rng.below(words.len())]),
                }
                out.push(' ');
            }
            out.push('\n');
        }
        out.replace("akia", "akka")
            .replace("AKIA", "AKKA")
            .replace("secret", "secrat")
            .replace("token", "tokan")
    }

    #[test]
    fn keys_under_random_chains_of_two_encodings_are_found() {
        let rules = RuleSet::builtin().unwrap();
        let matcher = Matcher::new(&rules);
        let mut scratch = matcher.scratch();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let kinds = [
            Encoding::Base64,
            Encoding::Percent,
            Encoding::Escape,
            Encoding::Html,
            Encoding::Split,
        ];
        for case in 0..500 {
            let key = secret(&mut rng);
            let depth = 1 + rng.below(2);
            let mut chain: Vec<Encoding> =
                (0..depth).map(|_| kinds[rng.below(kinds.len())]).collect();
            // A literal split twice is still one split literal.
            chain.dedup_by(|a, b| *a == Encoding::Split && *b == Encoding::Split);
            // Encode innermost first: the chain is outermost first, as findings report it.
            let mut encoded = key.clone();
            for &encoding in chain.iter().rev() {
                encoded = encode(&encoded, encoding, &mut rng);
            }
            let (before, after) = (rng.below(6), rng.below(6));
            let text = format!(
                "{}aws_secret_access_key = \"{encoded}\"\n{}",
                noise(&mut rng, before),
                noise(&mut rng, after)
            );
            let mut out = Vec::new();
            matcher.find(&mut scratch, text.as_bytes(), 0..text.len(), &mut out);
            let found = out.iter().find(|m| {
                let value = m
                    .decoded
                    .as_ref()
                    .map_or(&text.as_bytes()[m.secret.clone()], |d| &d.value[..]);
                value == key.as_bytes()
            });
            let Some(found) = found else {
                panic!("case {case}: {chain:?} of {key} not found in:\n{text}\n{out:?}");
            };
            if let Some(decoded) = &found.decoded {
                assert!(
                    decoded.chain.iter().all(|e| chain.contains(e)),
                    "case {case}: reported {:?} for {chain:?}",
                    decoded.chain
                );
            }
        }
    }

    #[test]
    fn decoding_adds_at_most_depth_times_the_input() {
        let rules = RuleSet::builtin().unwrap();
        let mut rng = Rng(42);
        for depth in [1u8, 2, 3] {
            let matcher = Matcher::new(&rules).decoding(depth);
            for _ in 0..50 {
                // Hostile text: keywords everywhere, every line encoded in layers.
                let mut text = String::new();
                for _ in 0..rng.below(40) {
                    let mut line = format!("secret = {} ", noise(&mut rng, 1).trim_end());
                    for _ in 0..rng.below(4) {
                        line = decode::base64_encode(line.as_bytes());
                    }
                    text.push_str(&format!("AKIA {line} %41%42 \\u0041 &#65; \"a\" + \"b\"\n"));
                }
                let mut scratch = matcher.scratch();
                let mut out = Vec::new();
                matcher.find(&mut scratch, text.as_bytes(), 0..text.len(), &mut out);
                assert!(
                    scratch.decoded_bytes <= u64::from(depth) * text.len() as u64,
                    "depth {depth}: decoded {} bytes of a {}-byte input",
                    scratch.decoded_bytes,
                    text.len()
                );
            }
        }
    }
}
