//! Finds rule matches in a buffer: prefilter → regex near keyword hits → validators.
//!
//! A [`Matcher`] is built once per scan from the enabled rules and shared read-only by all
//! threads; each thread owns a [`Scratch`] with the reusable buffers of the hot path. A buffer
//! with no keyword costs one Aho-Corasick pass. Each rule's regex runs only inside the windows
//! around its own keyword hits (merged when they overlap), and the validators run only on what
//! the regex captured. Nothing is allocated per byte; a [`RawMatch`] is pushed only after every
//! check has passed.
//!
//! Every region the matcher looks at is bounded by [`REACH`] bytes around a keyword hit or a
//! candidate, which is what lets the chunked reader guarantee that no match on a chunk boundary
//! is lost: a chunk that carries [`LEAD`] bytes before and [`TAIL`] bytes after the range it owns
//! sees everything a match in that range depends on.

pub mod examples;
mod prefilter;
mod validate;

use std::ops::Range;

use regex::bytes::CaptureLocations;

use crate::decode::{self, Encoding, View};
use crate::lines::{end_of_lines_after, start_of_lines_before};
use crate::rules::{Confidence, Rule, RuleSet, MAX_KEYWORD_LEN};

pub use prefilter::spellings;
use prefilter::Prefilter;

/// How far (in bytes) a search window or a context region may extend on each side of a keyword
/// hit or a candidate, whatever its line count says.
pub const REACH: usize = 4096;
/// Bytes before an owned position that a chunk must carry for the match there to be found.
pub const LEAD: usize = 2 * REACH + MAX_KEYWORD_LEN;
/// Bytes after an owned position that a chunk must carry for the match there to be found.
pub const TAIL: usize = 3 * REACH + MAX_KEYWORD_LEN;

/// A validated match of one rule in a buffer, or, from an explaining matcher, a candidate the
/// validators rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMatch {
    /// Index of the rule in the [`RuleSet`].
    pub rule: u32,
    /// Byte range of the secret in the buffer.
    pub secret: Range<usize>,
    pub confidence: Confidence,
    /// Why the validators rejected the candidate; only an explaining matcher reports these.
    pub rejection: Option<Rejection>,
    /// For a match in decoded text: the decoded value and how it was encoded. `secret` is then
    /// the encoded region in the buffer.
    pub decoded: Option<Box<DecodedMatch>>,
}

/// The decoded value of a match found in a decoded view, and the decodings that led to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedMatch {
    pub value: Vec<u8>,
    /// Outermost decoding first: `[Base64, Percent]` is the base64 of a percent-encoded value.
    pub chain: Vec<Encoding>,
}

/// How many layers of encoding the matcher decodes by default (`--max-decode-depth`).
pub const DEFAULT_DECODE_DEPTH: u8 = 2;

/// Prefilter owner of the base64 spellings of keywords, which open a region to decode rather
/// than a rule's window.
const DECODE_TRIGGER: u32 = u32::MAX;

/// Lines around a base64-spelled keyword that are decoded, so the key's context decodes too.
const TRIGGER_LINES: u32 = 4;

/// Why a candidate that a rule's regex matched is not a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// It touches a character of the rule's `boundary` set: part of a longer token.
    Boundary,
    /// It mixes fewer character classes than the rule's `charset.min_classes`.
    CharClasses { found: u8, min: u8 },
    /// Its Shannon entropy, in hundredths of a bit per character, is below the rule's minimum.
    Entropy { found: u16, min: u16 },
    /// It holds a long run of repeated or consecutive characters.
    Placeholder,
    /// The rule requires a context and none of its context entries applies.
    NoContext,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::Boundary => f.write_str("part of a longer token"),
            Rejection::CharClasses { found, min } => write!(
                f,
                "mixes {found} of upper case, lower case, digits and symbols; the rule needs {min}"
            ),
            Rejection::Entropy { found, min } => write!(
                f,
                "entropy {}.{:02} bits per character, below the rule's {}.{:02}",
                found / 100,
                found % 100,
                min / 100,
                min % 100
            ),
            Rejection::Placeholder => {
                f.write_str("a placeholder: a long run of repeated or consecutive characters")
            }
            Rejection::NoContext => f.write_str(
                "no required context nearby: none of the rule's context patterns applies",
            ),
        }
    }
}

/// The compiled matcher for one set of rules; shared by all scanning threads.
pub struct Matcher<'r> {
    rules: &'r RuleSet,
    /// Indices of the enabled rules.
    enabled: Vec<u32>,
    prefilter: Prefilter,
    /// Also report rejected candidates, with the reason (`--explain`).
    explain: bool,
    /// How many layers of encoding to decode around keyword hits (0: none).
    decode_depth: u8,
}

/// Per-thread reusable state for [`Matcher::find`].
pub struct Scratch {
    /// Per rule: merged search windows for the current buffer.
    windows: Vec<Vec<Range<usize>>>,
    /// Rules that got at least one window in the current buffer.
    active: Vec<u32>,
    /// Per rule: capture slots for its regex.
    captures: Vec<CaptureLocations>,
    /// Per decoding depth: the regions to decode and their views.
    layers: Vec<Layer>,
    /// Bytes of decoded views matched so far (what decoding added to the matcher's work).
    pub decoded_bytes: u64,
}

/// The state of one decoding depth.
#[derive(Default)]
struct Layer {
    /// Regions of the buffer to decode: merged keyword windows.
    regions: Vec<Range<usize>>,
    view: View,
    /// Matches in the current view.
    found: Vec<RawMatch>,
}

impl<'r> Matcher<'r> {
    /// Builds the matcher for the enabled rules of `rules`.
    pub fn new(rules: &'r RuleSet) -> Matcher<'r> {
        Self::build(rules, |rule| rule.enabled)
    }

    /// Builds a matcher that runs every rule, enabled or not (for checking rule examples).
    pub fn with_every_rule(rules: &'r RuleSet) -> Matcher<'r> {
        Self::build(rules, |_| true)
    }

    fn build(rules: &'r RuleSet, wanted: impl Fn(&Rule) -> bool) -> Matcher<'r> {
        let enabled: Vec<u32> = (0..rules.all().len() as u32)
            .filter(|&i| wanted(rules.get(i as usize)))
            .collect();
        let prefilter = Self::prefilter(rules, &enabled, DEFAULT_DECODE_DEPTH > 0);
        Matcher {
            rules,
            enabled,
            prefilter,
            explain: false,
            decode_depth: DEFAULT_DECODE_DEPTH,
        }
    }

    /// The keyword automaton of the `enabled` rules; with `decoding`, it also looks for the
    /// base64 spellings of their `encoded_keywords`, whose hits open regions to decode. (Those
    /// are few on purpose: past 32 literals the SIMD search switches to a variant that takes
    /// about three times as long.)
    fn prefilter(rules: &RuleSet, enabled: &[u32], decoding: bool) -> Prefilter {
        let mut triggers: Vec<String> = Vec::new();
        if decoding {
            for &i in enabled {
                for literal in &rules.get(i as usize).encoded_keywords {
                    triggers.extend(decode::base64_spellings(literal.as_bytes()));
                }
            }
            triggers.sort();
            triggers.dedup();
        }
        let keywords = enabled.iter().map(|&i| {
            let rule = rules.get(i as usize);
            (i, rule.keywords.as_slice(), rule.exact_keywords.as_slice())
        });
        Prefilter::new(keywords.chain(std::iter::once((
            DECODE_TRIGGER,
            &[][..],
            triggers.as_slice(),
        ))))
    }

    /// Sets how many layers of encoding the matcher decodes around keyword hits (0: none).
    pub fn decoding(mut self, depth: u8) -> Self {
        if (depth > 0) != (self.decode_depth > 0) {
            self.prefilter = Self::prefilter(self.rules, &self.enabled, depth > 0);
        }
        self.decode_depth = depth;
        self
    }

    /// Makes the matcher also report the candidates its validators reject, each with its
    /// [`Rejection`], so a user can see why a value was not reported.
    pub fn explaining(mut self, explain: bool) -> Self {
        self.explain = explain;
        self
    }

    /// The rules this matcher was built from.
    pub fn rules(&self) -> &'r RuleSet {
        self.rules
    }

    /// Fresh per-thread state.
    pub fn scratch(&self) -> Scratch {
        Scratch {
            windows: vec![Vec::new(); self.rules.all().len()],
            active: Vec::new(),
            captures: self
                .rules
                .all()
                .iter()
                .map(|r| r.regex.capture_locations())
                .collect(),
            layers: Vec::new(),
            decoded_bytes: 0,
        }
    }

    /// Appends to `out` every match in `buf` whose secret starts inside `owned`, including
    /// those in decoded views of the text around keyword hits.
    ///
    /// `buf` may carry context before and after `owned` (see [`LEAD`] and [`TAIL`]); matches
    /// starting outside `owned` belong to a neighbouring chunk and are not reported here.
    pub fn find(
        &self,
        scratch: &mut Scratch,
        buf: &[u8],
        owned: Range<usize>,
        out: &mut Vec<RawMatch>,
    ) {
        self.find_at_depth(scratch, buf, owned, out, 0);
    }

    /// [`Matcher::find`] in a buffer that is `depth` decodings away from the input.
    fn find_at_depth(
        &self,
        scratch: &mut Scratch,
        buf: &[u8],
        owned: Range<usize>,
        out: &mut Vec<RawMatch>,
        depth: usize,
    ) {
        debug_assert!(scratch.active.is_empty());
        let decode = depth < usize::from(self.decode_depth);
        if decode && scratch.layers.len() <= depth {
            scratch.layers.resize_with(depth + 1, Layer::default);
        }
        let first = out.len();
        let rules = self.rules;
        let Scratch {
            windows,
            active,
            captures,
            layers,
            ..
        } = scratch;
        let mut regions = decode.then(|| &mut layers[depth].regions);
        self.prefilter.for_each_hit(buf, |start, end, owners| {
            for &r in owners {
                let lines = if r == DECODE_TRIGGER {
                    TRIGGER_LINES
                } else {
                    rules.get(r as usize).window_lines
                };
                let lo = start_of_lines_before(buf, start, lines, start.saturating_sub(REACH));
                let hi = end_of_lines_after(buf, end, lines, buf.len().min(end + REACH)).max(end);
                if let Some(regions) = regions.as_deref_mut() {
                    regions.push(lo..hi);
                }
                if r == DECODE_TRIGGER {
                    continue;
                }
                let list = &mut windows[r as usize];
                match list.last_mut() {
                    Some(last) if lo <= last.end => last.end = last.end.max(hi),
                    Some(_) => list.push(lo..hi),
                    None => {
                        active.push(r);
                        list.push(lo..hi);
                    }
                }
            }
        });
        for &r in active.iter() {
            let rule = rules.get(r as usize);
            let locs = &mut captures[r as usize];
            for window in windows[r as usize].drain(..) {
                search_window(rule, r, locs, buf, window, &owned, self.explain, out);
            }
        }
        active.clear();
        if decode {
            self.find_decoded(scratch, buf, &owned, out, first, depth);
        }
    }

    /// Decodes the regions around this buffer's keyword hits and matches the views, adding to
    /// `out` what they hold that the buffer itself (its matches from `first` on) did not.
    fn find_decoded(
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
                    decoded: Some(Box::new(DecodedMatch { value, chain })),
                });
            }
        }
        scratch.layers[depth] = layer;
    }

    /// Indices of the enabled rules.
    pub fn enabled(&self) -> &[u32] {
        &self.enabled
    }
}

/// The lines around `range` in `text` that a decoded run's matches may need: [`TRIGGER_LINES`]
/// each way, at most [`REACH`] bytes.
fn lines_around(text: &[u8], range: Range<usize>) -> Range<usize> {
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

/// Sorts `regions` and merges the ones that overlap or touch.
fn merge(regions: &mut Vec<Range<usize>>) {
    regions.sort_unstable_by_key(|r| r.start);
    let mut merged = 0;
    for i in 0..regions.len() {
        if merged > 0 && regions[i].start <= regions[merged - 1].end {
            regions[merged - 1].end = regions[merged - 1].end.max(regions[i].end);
        } else {
            regions[merged] = regions[i].clone();
            merged += 1;
        }
    }
    regions.truncate(merged);
}

/// Runs one rule's regex over one window and validates each capture; with `explain`, the
/// rejected captures are reported too.
#[allow(clippy::too_many_arguments)]
fn search_window(
    rule: &Rule,
    index: u32,
    locs: &mut CaptureLocations,
    buf: &[u8],
    window: Range<usize>,
    owned: &Range<usize>,
    explain: bool,
    out: &mut Vec<RawMatch>,
) {
    let haystack = &buf[..window.end];
    let mut at = window.start;
    while at < window.end {
        // When the secret is the whole match, a plain search finds it without the cost of
        // resolving capture groups.
        let found = if rule.secret_is_whole_match {
            rule.regex.find_at(haystack, at)
        } else {
            rule.regex.captures_read_at(locs, haystack, at)
        };
        let Some((m_start, m_end)) = found.map(|m| (m.start(), m.end())) else {
            break;
        };
        at = if m_end > m_start { m_end } else { m_end + 1 };
        let secret = if rule.secret_is_whole_match {
            Some((m_start, m_end))
        } else {
            locs.get(rule.secret_group)
        };
        let Some((start, end)) = secret else {
            continue;
        };
        if !owned.contains(&start) {
            continue;
        }
        let (confidence, rejection) = match validate_candidate(rule, buf, start, end) {
            Ok(confidence) => (confidence, None),
            Err(rejection) if explain => (rule.confidence, Some(rejection)),
            Err(_) => continue,
        };
        out.push(RawMatch {
            rule: index,
            secret: start..end,
            confidence,
            rejection,
            decoded: None,
        });
    }
}

/// Applies a rule's validators to the secret at `start..end`; returns its confidence if it
/// passes them all, or the first check it fails.
fn validate_candidate(
    rule: &Rule,
    buf: &[u8],
    start: usize,
    end: usize,
) -> Result<Confidence, Rejection> {
    let secret = &buf[start..end];
    if let Some(boundary) = &rule.boundary {
        if !validate::at_token_boundary(buf, start, end, boundary) {
            return Err(Rejection::Boundary);
        }
    }
    if let Some(min) = rule.min_classes {
        let found = validate::char_classes(secret);
        if found < min {
            return Err(Rejection::CharClasses { found, min });
        }
    }
    if let Some(min) = rule.min_entropy {
        let found = validate::entropy(secret);
        if found < min {
            let hundredths = |bits: f32| (bits * 100.0).floor() as u16;
            return Err(Rejection::Entropy {
                found: hundredths(found),
                min: hundredths(min),
            });
        }
    }
    if rule.reject_placeholders && validate::looks_like_placeholder(secret) {
        return Err(Rejection::Placeholder);
    }
    let mut confidence = if rule.context_required {
        None
    } else {
        Some(rule.confidence)
    };
    // The name the candidate is assigned to on its line, looked up once and only if a
    // context asks for it.
    let mut assignment: Option<Option<Range<usize>>> = None;
    for context in &rule.contexts {
        if confidence.is_some_and(|c| c >= context.confidence) {
            continue;
        }
        let name = if context.unassigned_only || context.assigned_name {
            assignment
                .get_or_insert_with(|| assigned_name(buf, start))
                .clone()
        } else {
            None
        };
        let present = if context.assigned_name {
            name.is_some_and(|name| context.regex.is_match(&buf[name]))
        } else if context.unassigned_only && name.is_some() {
            false
        } else {
            let lo = start_of_lines_before(
                buf,
                start,
                context.lines_before,
                start.saturating_sub(REACH),
            );
            let hi = end_of_lines_after(buf, end, context.lines_after, buf.len().min(end + REACH));
            context.regex.is_match_at(&buf[..hi], lo)
        };
        if present {
            confidence = Some(confidence.map_or(context.confidence, |c| c.max(context.confidence)));
        }
    }
    let confidence = confidence.ok_or(Rejection::NoContext)?;
    if rule.example.as_ref().is_some_and(|re| re.is_match(secret)) {
        return Ok(Confidence::Example);
    }
    Ok(confidence)
}

/// The name the candidate at `start` is assigned to on its line, if it is the value of one:
/// `NAME = value`, `"name": "value"`, `ENV['NAME'] = 'value'`, `name => 'value'`,
/// `NAME := value`, `--name value`, `--name=value`.
fn assigned_name(buf: &[u8], start: usize) -> Option<Range<usize>> {
    static ASSIGNMENT: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
        regex::bytes::RegexBuilder::new(
            r#"(?:(?P<name>[A-Za-z0-9_.\-]+)["'\]]{0,2}[ \t]{0,8}(?::=|=>|[:=])|(?:^|[ \t])--(?P<flag>[A-Za-z0-9_.\-]+)[ \t]+)[ \t]{0,8}["'`]?$"#,
        )
        .unicode(false)
        .build()
        .expect("valid assignment regex")
    });
    let lo = start_of_lines_before(buf, start, 0, start.saturating_sub(256));
    let captures = ASSIGNMENT.captures(&buf[lo..start])?;
    let name = captures.name("name").or_else(|| captures.name("flag"))?;
    Some(lo + name.start()..lo + name.end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(text: &str) -> Vec<(String, String, Confidence)> {
        let rules = RuleSet::builtin().unwrap();
        let matcher = Matcher::new(&rules);
        let mut scratch = matcher.scratch();
        let mut out = Vec::new();
        matcher.find(&mut scratch, text.as_bytes(), 0..text.len(), &mut out);
        out.iter()
            .map(|m| {
                (
                    rules.get(m.rule as usize).id.clone(),
                    text[m.secret.clone()].to_string(),
                    m.confidence,
                )
            })
            .collect()
    }

    #[test]
    fn buffer_without_keywords_has_no_matches() {
        assert!(matches("let x = 1;\nfn main() {}\n").is_empty());
    }

    #[test]
    fn credentials_file_gives_id_and_secret() {
        let found = matches(
            "[default]\naws_access_key_id = AKIAQYLPMN5HHHFPZAM2\naws_secret_access_key = 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\n",
        );
        assert_eq!(
            found,
            vec![
                (
                    "aws-access-key-id".into(),
                    "AKIAQYLPMN5HHHFPZAM2".into(),
                    Confidence::High
                ),
                (
                    "aws-secret-access-key".into(),
                    "r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD".into(),
                    Confidence::High
                ),
            ]
        );
    }

    #[test]
    fn secret_near_a_key_id_has_medium_confidence() {
        let found = matches(
            "creds(\"AKIAQYLPMN5HHHFPZAM2\",\n  \"r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD\")",
        );
        assert!(found.contains(&(
            "aws-secret-access-key".into(),
            "r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD".into(),
            Confidence::Medium
        )));
    }

    #[test]
    fn random_forty_without_aws_context_is_not_a_secret() {
        assert!(
            matches("SIGNING_SECRET = \"r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD\"").is_empty()
        );
    }

    #[test]
    fn a_value_assigned_to_another_name_is_not_claimed_by_a_nearby_key_id() {
        let text = "WEBHOOK_SIGNING_SECRET=r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD\nAWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2\n";
        let found = matches(text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "aws-access-key-id");
    }

    #[test]
    fn assignments_are_recognised_with_their_name() {
        for (text, name) in [
            ("KEY=", Some("KEY")),
            ("  \"name\": \"", Some("name")),
            ("'secret' => '", Some("secret")),
            ("x := `", Some("x")),
            ("ENV['AWS_ACCESS_KEY_ID'] = '", Some("AWS_ACCESS_KEY_ID")),
            ("aws s3 ls --aws-access-key-id ", Some("aws-access-key-id")),
            ("Credentials.new('AKIAQYLPMN5HHHFPZAM2', '", None),
            ("AKIAQYLPMN5HHHFPZAM2,", None),
            ("-- comment ", None),
        ] {
            let found = assigned_name(text.as_bytes(), text.len()).map(|r| &text[r]);
            assert_eq!(found, name, "{text}");
        }
    }

    #[test]
    fn an_explicit_aws_assignment_gives_high_confidence_and_a_mention_does_not() {
        let id = "AKIAQYLPMN5HHHFPZAM2";
        for (text, confidence) in [
            (format!("aws_access_key_id = {id}"), Confidence::High),
            (format!("\"AccessKeyId\": \"{id}\""), Confidence::High),
            (format!("export AWS_ACCESS_KEY_ID={id}"), Confidence::High),
            (format!("aws_access_key_id:\n  {id}"), Confidence::High),
            (
                format!("# rotate the access key below\nbuild_tag = {id}"),
                Confidence::Medium,
            ),
            (format!("rotated: {id}"), Confidence::Medium),
            (
                format!("log(\"key rotated for %s\", \"{id}\")"),
                Confidence::Medium,
            ),
            (format!("ids = [{id}]"), Confidence::Medium),
        ] {
            let found = matches(&text);
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            assert_eq!(found[0].2, confidence, "{text}");
        }
        let secret = "r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD";
        for (text, confidence) in [
            (
                format!("aws_secret_access_key = {secret}"),
                Confidence::High,
            ),
            (
                format!("<name>fs.s3a.secret.key</name>\n<value>{secret}</value>"),
                Confidence::High,
            ),
            (
                format!("aws configure set aws_secret_access_key {secret}"),
                Confidence::High,
            ),
            (
                format!("token = {secret}  # rotate with the aws secret"),
                Confidence::Medium,
            ),
        ] {
            let found = matches(&text);
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            assert_eq!(found[0].2, confidence, "{text}");
        }
    }

    #[test]
    fn placeholders_of_every_kind_are_dropped() {
        for value in [
            "AKIAXXXXXXXXXXXXXXXX",
            "AKIA${AWS_KEY_ID}",
            "<AKIA_YOUR_KEY_ID_HERE>",
            "AKIA-your-key-here",
            "AKIAQQQQQQQQQQQQQQQQ",
            "AKIAABCDEFGHIJKLMNOP",
            "AKIAQYLPMN5H23456777",
        ] {
            let text = format!("aws_access_key_id = {value}");
            assert_eq!(matches(&text), [], "{text}");
        }
        for value in [
            "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "${AWS_SECRET_ACCESS_KEY}",
            "<your-aws-secret-access-key-goes-here..>",
            "your-secret-access-key-here",
            "r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4m000000",
            "r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mlmnopq",
            "abcdefghijabcdefghijabcdefghijabcdefghij",
        ] {
            let text = format!("aws_secret_access_key = {value}");
            assert_eq!(matches(&text), [], "{text}");
        }
        // Ending in EXAMPLE marks a documentation example: shown, never failing a scan.
        let found = matches("aws_access_key_id = AKIAQYLPMN5HHEXAMPLE");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].2, Confidence::Example);
    }

    #[test]
    fn documentation_examples_are_marked() {
        let found = matches("aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        assert_eq!(found.len(), 2);
        assert!(found.iter().all(|(_, _, c)| *c == Confidence::Example));
    }

    #[test]
    fn matches_outside_the_owned_range_are_left_to_the_neighbour() {
        let rules = RuleSet::builtin().unwrap();
        let matcher = Matcher::new(&rules);
        let mut scratch = matcher.scratch();
        let text = b"id AKIAQYLPMN5HHHFPZAM2 and AKIAZT4HB6K7WLQX3N5D";
        let mut out = Vec::new();
        matcher.find(&mut scratch, text, 0..20, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].secret, 3..23);
    }
}

/// Property tests of decoding: keys planted under random chains of encodings in random text are
/// found, and decoding never adds more than `depth` times the input to the matcher's work.
#[cfg(test)]
mod decoding_properties {
    use super::*;
    use crate::decode::Encoding;

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
