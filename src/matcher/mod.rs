//! Finds rule matches in a buffer: prefilter → regex near keyword hits → validators, and the
//! same again in decoded views of the text around keyword hits (see `decoded`).
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

mod decoded;
pub mod examples;
mod prefilter;
mod validate;

use std::ops::Range;

use regex::bytes::CaptureLocations;

use crate::decode::{self, Encoding, View};
use crate::lines::{count_newlines, end_of_lines_after, start_of_lines_before};
use crate::rules::allow::{ContentAllowed, MatchText, RuleAllowlist, TextVerdict};
use crate::rules::{Confidence, Rule, RuleSet, SecretGroup, BUILTIN, MAX_KEYWORD_LEN};
use crate::source::{LEAD, TAIL};

pub use prefilter::spellings;
use prefilter::{Prefilter, RuleKeywords};

/// Counts changes of what the matcher finds in the same input with the same rules. A history
/// cache keys its results on it (see `scan::cache_digest`): a build that matches differently
/// must not reuse what an earlier one found.
pub const REVISION: u32 = 5;

/// How far (in bytes) a search window or a context region may extend on each side of a keyword
/// hit or a candidate, whatever its line count says.
pub const REACH: usize = 4096;
// What the matcher may look at around a position must fit in the overlap the reader gives
// every chunk, or a match on a chunk boundary could be lost: a keyword hit's context reaches
// back two windows and a keyword, and forward three.
const _: () = assert!(2 * REACH + MAX_KEYWORD_LEN <= LEAD);
const _: () = assert!(3 * REACH + MAX_KEYWORD_LEN <= TAIL);

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
    /// Which of the rule's `AND` allowlists had their text conditions hold, leaving their path
    /// or commit conditions to be checked on the finding.
    pub content_allowed: ContentAllowed,
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
    /// It is a slice of a URL or file path (see [`validate::looks_like_path`]).
    Path,
    /// It is base64 of a DER structure, a certificate or a key (see
    /// [`validate::looks_like_der`]).
    Der,
    /// It reads as identifier words: a symbol name or path of generated documentation (see
    /// [`validate::looks_like_code`]).
    Code,
    /// The rule requires a context and none of its context entries applies.
    NoContext,
    /// An allowlist of the rule allows it by its text (regexes or stop words).
    Allowlisted,
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
            Rejection::Path => f.write_str("a slice of a URL or file path: words between slashes"),
            Rejection::Der => f.write_str("a certificate or key in base64 (DER, `MII…`)"),
            Rejection::Code => f.write_str("identifier words: a symbol name or path, not random"),
            Rejection::NoContext => f.write_str(
                "no required context nearby: none of the rule's context patterns applies",
            ),
            Rejection::Allowlisted => {
                f.write_str("allowed by an allowlist of its rule (its regexes or stop words)")
            }
        }
    }
}

/// The compiled matcher for one set of rules; shared by all scanning threads.
pub struct Matcher<'r> {
    rules: &'r RuleSet,
    /// Indices of the enabled rules.
    enabled: Vec<u32>,
    prefilter: Prefilter,
    /// Enabled rules whose regex runs over all input, not near keywords.
    everywhere: Vec<u32>,
    /// Per rule: the allowlists that apply to it (see [`RuleSet::allowlists_for`]).
    allowlists: Vec<Vec<std::sync::Arc<RuleAllowlist>>>,
    /// Also report rejected candidates, with the reason (`--explain`).
    explain: bool,
    /// How many layers of encoding to decode around keyword hits (0: none).
    decode_depth: u8,
    /// The enabled rules' `encoded_keywords`, looked for spelled in HTML character references
    /// when decoding (their base64 spellings are in the prefilter).
    encoded_keywords: Vec<Vec<u8>>,
}

/// Per-thread reusable state for [`Matcher::find`].
pub struct Scratch {
    /// Per rule: merged search windows for the current buffer.
    windows: Vec<Vec<Range<usize>>>,
    /// Rules that got at least one window in the current buffer.
    active: Vec<u32>,
    /// Per rule: capture slots for its regex, made when the rule first has a window (making
    /// them needs the regex compiled, and the built-in rules' regexes compile on first use).
    captures: Vec<Option<CaptureLocations>>,
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
        let encoded_keywords = Self::encoded_keywords(rules, &enabled);
        let prefilter =
            Self::prefilter(rules, &enabled, &encoded_keywords, DEFAULT_DECODE_DEPTH > 0);
        let everywhere = enabled
            .iter()
            .copied()
            .filter(|&i| rules.get(i as usize).search_everywhere)
            .collect();
        let allowlists = rules
            .all()
            .iter()
            .map(|rule| rules.allowlists_for(&rule.id).cloned().collect())
            .collect();
        Matcher {
            rules,
            enabled,
            prefilter,
            everywhere,
            allowlists,
            explain: false,
            decode_depth: DEFAULT_DECODE_DEPTH,
            encoded_keywords,
        }
    }

    /// The `encoded_keywords` of the `enabled` rules, each once.
    fn encoded_keywords(rules: &RuleSet, enabled: &[u32]) -> Vec<Vec<u8>> {
        let mut keywords: Vec<Vec<u8>> = enabled
            .iter()
            .flat_map(|&i| &rules.get(i as usize).encoded_keywords)
            .map(|k| k.as_bytes().to_vec())
            .collect();
        keywords.sort();
        keywords.dedup();
        keywords
    }

    /// The keyword automaton of the `enabled` rules; with `decoding`, it also looks for the
    /// base64 spellings of their `encoded_keywords`, whose hits open regions to decode. (Those
    /// are few on purpose: past 32 literals the SIMD search switches to a variant that takes
    /// about three times as long.)
    fn prefilter(
        rules: &RuleSet,
        enabled: &[u32],
        encoded_keywords: &[Vec<u8>],
        decoding: bool,
    ) -> Prefilter {
        let mut triggers: Vec<String> = Vec::new();
        if decoding {
            for literal in encoded_keywords {
                triggers.extend(decode::base64_spellings(literal));
            }
            triggers.sort();
            triggers.dedup();
        }
        let keywords = enabled.iter().map(|&i| {
            let rule = rules.get(i as usize);
            RuleKeywords {
                rule: i,
                keywords: &rule.keywords,
                exact: &rule.exact_keywords,
                any_case: rule.keywords_any_case,
            }
        });
        Prefilter::new(keywords.chain(std::iter::once(RuleKeywords {
            rule: DECODE_TRIGGER,
            keywords: &[],
            exact: triggers.as_slice(),
            any_case: false,
        })))
    }

    /// Sets how many layers of encoding the matcher decodes around keyword hits (0: none).
    pub fn decoding(mut self, depth: u8) -> Self {
        if (depth > 0) != (self.decode_depth > 0) {
            self.prefilter =
                Self::prefilter(self.rules, &self.enabled, &self.encoded_keywords, depth > 0);
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
            captures: vec![None; self.rules.all().len()],
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
        let mut hits = Hits::new(self.rules, scratch, buf, decode.then_some(depth));
        self.prefilter
            .for_each_hit(buf, |start, end, owners| hits.take(start, end, owners));
        if let Some(regions) = hits.regions {
            decode::for_each_html_spelling(buf, &self.encoded_keywords, |start, end| {
                regions.push(decoded::lines_around(buf, start..end));
            });
        }
        if !self.everywhere.is_empty() && !owned.is_empty() {
            // From the start of the owned range's line, so a match that begins before it is
            // found whole (and left to the chunk that owns it) rather than cut.
            let lo = start_of_lines_before(buf, owned.start, 0, owned.start.saturating_sub(REACH));
            let hi = buf.len().min(owned.end + REACH);
            for &r in &self.everywhere {
                scratch.windows[r as usize].push(lo..hi);
                scratch.active.push(r);
            }
        }
        self.search_windows(scratch, buf, &owned, out);
        if decode {
            self.find_decoded(scratch, buf, &owned, out, first, depth);
        }
    }

    /// Appends to `out` the matches in `buf` that its `changed` ranges (in order, not
    /// overlapping) can decide: the keyword search covers only the lines around the changes
    /// that [`Around`] says matter, and each hit's window is then searched as in
    /// [`Matcher::find`]. Every match whose deciding bytes include a changed byte is among them
    /// (and some others may be).
    pub fn find_around(
        &self,
        around: &Around,
        scratch: &mut Scratch,
        buf: &[u8],
        changed: &[Range<usize>],
        out: &mut Vec<RawMatch>,
    ) {
        debug_assert!(scratch.active.is_empty());
        let decode = self.decode_depth > 0;
        if decode && scratch.layers.is_empty() {
            scratch.layers.resize_with(1, Layer::default);
        }
        let first = out.len();
        let near = lines_around_all(buf, changed, around.near_lines);
        let far = match &around.far {
            Some(_) => lines_around_all(buf, changed, around.far_lines),
            None => Vec::new(),
        };
        let mut hits = Hits::new(self.rules, scratch, buf, decode.then_some(0));
        for region in &near {
            let at = region.start;
            around
                .near
                .for_each_hit(&buf[region.clone()], |start, end, owners| {
                    hits.take(at + start, at + end, owners)
                });
            if let Some(regions) = hits.regions.as_deref_mut() {
                let text = &buf[region.clone()];
                decode::for_each_html_spelling(text, &self.encoded_keywords, |start, end| {
                    regions.push(decoded::lines_around(buf, at + start..at + end));
                });
            }
        }
        if let Some(prefilter) = &around.far {
            for region in &far {
                let at = region.start;
                prefilter.for_each_hit(&buf[region.clone()], |start, end, owners| {
                    hits.take(at + start, at + end, owners)
                });
            }
        }
        for &r in &self.everywhere {
            let regions = if reaches_far(self.rules.get(r as usize)) {
                &far
            } else {
                &near
            };
            if !regions.is_empty() {
                scratch.windows[r as usize].extend(regions.iter().cloned());
                scratch.active.push(r);
            }
        }
        let owned = 0..buf.len();
        self.search_windows(scratch, buf, &owned, out);
        if decode {
            self.find_decoded(scratch, buf, &owned, out, first, 0);
        }
    }

    /// Runs each active rule's regex over its windows.
    fn search_windows(
        &self,
        scratch: &mut Scratch,
        buf: &[u8],
        owned: &Range<usize>,
        out: &mut Vec<RawMatch>,
    ) {
        let Scratch {
            windows,
            active,
            captures,
            ..
        } = scratch;
        for &r in active.iter() {
            let rule = self.rules.get(r as usize);
            let locs = captures[r as usize].get_or_insert_with(|| rule.regex.capture_locations());
            let search = Search {
                rule,
                index: r,
                allowlists: &self.allowlists[r as usize],
                explain: self.explain,
            };
            for window in windows[r as usize].drain(..) {
                search.window(locs, buf, window, owned, out);
            }
        }
        active.clear();
    }

    /// Whether matching costs little next to reading the input: the keyword search is one
    /// pass of the SIMD literal searcher and no rule's regex runs over all input (the built-in
    /// rules). Probing only the changes of a history's deltas ([`Matcher::find_around`]) then
    /// costs more than it saves: with the built-in rules a `git/git` audit took 2.64 s
    /// probing against 1.80 s matching every blob whole.
    pub fn is_cheap(&self) -> bool {
        self.everywhere.is_empty() && self.prefilter.is_literal_search()
    }

    /// The keyword searches for [`Matcher::find_around`], and how far around a change each
    /// must look.
    pub fn around(&self) -> Around {
        let (far, near): (Vec<u32>, Vec<u32>) = self
            .enabled
            .iter()
            .partition(|&&i| reaches_far(self.rules.get(i as usize)));
        let decoding = self.decode_depth > 0;
        let reach = |rules: &[u32], least_window: u32| {
            let rules = || rules.iter().map(|&i| self.rules.get(i as usize));
            let window = rules().map(|r| r.window_lines).fold(least_window, u32::max);
            let contexts = || {
                self.enabled
                    .iter()
                    .flat_map(|&i| &self.rules.get(i as usize).contexts)
            };
            let before = contexts().map(|c| c.lines_before).max().unwrap_or(0);
            let after = contexts().map(|c| c.lines_after).max().unwrap_or(0);
            2 * window + before + after + 1
        };
        let triggers = if decoding { TRIGGER_LINES } else { 0 };
        Around {
            near: Self::prefilter(self.rules, &near, &self.encoded_keywords, decoding),
            near_lines: reach(&near, triggers),
            far_lines: reach(&far, triggers),
            far: (!far.is_empty()).then(|| Self::prefilter(self.rules, &far, &[], false)),
        }
    }

    /// Indices of the enabled rules.
    pub fn enabled(&self) -> &[u32] {
        &self.enabled
    }
}

/// What a rule's window may span and still count as near a change: rules whose regex reaches
/// further from its keyword (a private key's dozens of lines) are searched for around changes
/// on their own, so that they do not widen the search for all the others.
const NEAR_WINDOW_LINES: u32 = 9;

/// The keyword searches of a matcher split by how far its rules reach from a keyword, for
/// [`Matcher::find_around`]: each finds its rules' keywords within its own number of lines of
/// a change, as many as can hold everything that decides a match with a changed byte among its
/// deciding bytes (a keyword's window both ways, the lines a context looks at beyond it, and
/// one more).
pub struct Around {
    near: Prefilter,
    near_lines: u32,
    /// The rules whose windows span more than [`NEAR_WINDOW_LINES`], if any.
    far: Option<Prefilter>,
    far_lines: u32,
}

/// Whether a rule's window spans more than [`NEAR_WINDOW_LINES`]: its keywords are searched
/// over wider lines around changes, by [`Around::far`].
fn reaches_far(rule: &Rule) -> bool {
    rule.window_lines > NEAR_WINDOW_LINES
}

/// The hits of a keyword search turned into each rule's windows (merged as they come, in
/// order) and, when decoding, into regions to decode.
struct Hits<'s> {
    rules: &'s RuleSet,
    buf: &'s [u8],
    windows: &'s mut [Vec<Range<usize>>],
    active: &'s mut Vec<u32>,
    regions: Option<&'s mut Vec<Range<usize>>>,
}

impl<'s> Hits<'s> {
    fn new(
        rules: &'s RuleSet,
        scratch: &'s mut Scratch,
        buf: &'s [u8],
        decode_depth: Option<usize>,
    ) -> Self {
        let Scratch {
            windows,
            active,
            layers,
            ..
        } = scratch;
        Hits {
            rules,
            buf,
            windows,
            active,
            regions: decode_depth.map(|depth| &mut layers[depth].regions),
        }
    }

    /// A keyword of `owners` at `start..end`.
    #[inline]
    fn take(&mut self, start: usize, end: usize, owners: &[u32]) {
        let buf = self.buf;
        for &r in owners {
            let lines = if r == DECODE_TRIGGER {
                TRIGGER_LINES
            } else {
                self.rules.get(r as usize).window_lines
            };
            let lo = start_of_lines_before(buf, start, lines, start.saturating_sub(REACH));
            let hi = end_of_lines_after(buf, end, lines, buf.len().min(end + REACH)).max(end);
            if let Some(regions) = self.regions.as_deref_mut() {
                regions.push(lo..hi);
            }
            if r == DECODE_TRIGGER {
                continue;
            }
            let list = &mut self.windows[r as usize];
            match list.last_mut() {
                Some(last) if lo <= last.end => last.end = last.end.max(hi),
                Some(_) => list.push(lo..hi),
                None => {
                    self.active.push(r);
                    list.push(lo..hi);
                }
            }
        }
    }
}

/// The lines within `lines` of each of `changed` (in order), merged where they overlap.
/// Linear in the bytes covered, however many changes there are: a change inside the region
/// being built moves its end on by the lines between, counted once.
fn lines_around_all(buf: &[u8], changed: &[Range<usize>], lines: u32) -> Vec<Range<usize>> {
    let mut regions: Vec<Range<usize>> = Vec::new();
    let mut changes = changed.iter().peekable();
    while let Some(first) = changes.next() {
        let floor = regions.last().map_or(0, |last| last.end);
        let lo = start_of_lines_before(buf, first.start.max(floor), lines, floor);
        let mut end = first.end;
        let mut hi = end_of_lines_after(buf, end, lines, buf.len()).max(end);
        while let Some(next) = changes.next_if(|next| next.start <= hi) {
            if next.end > end {
                let between = count_newlines(&buf[end..next.end]) as u32;
                hi = end_of_lines_after(buf, hi, between, buf.len()).max(next.end);
                end = next.end;
            }
        }
        match regions.last_mut() {
            Some(last) if lo <= last.end => last.end = hi,
            _ => regions.push(lo..hi),
        }
    }
    regions
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

/// One rule's search of the windows of a buffer.
struct Search<'a> {
    rule: &'a Rule,
    /// The rule's index in the rule set.
    index: u32,
    allowlists: &'a [std::sync::Arc<RuleAllowlist>],
    /// Report rejected candidates too.
    explain: bool,
}

impl Search<'_> {
    /// Runs the rule's regex over one window and validates each capture; with `explain`, the
    /// rejected captures are reported too.
    fn window(
        &self,
        locs: &mut CaptureLocations,
        buf: &[u8],
        window: Range<usize>,
        owned: &Range<usize>,
        out: &mut Vec<RawMatch>,
    ) {
        let rule = self.rule;
        let haystack = &buf[..window.end];
        let mut at = window.start;
        while at < window.end {
            // When the secret is the whole match, a plain search finds it without the cost of
            // resolving capture groups.
            let found = if rule.secret == SecretGroup::WholeMatch {
                rule.regex.find_at(haystack, at)
            } else {
                rule.regex.captures_read_at(locs, haystack, at)
            };
            let Some((m_start, m_end)) = found.map(|m| (m.start(), m.end())) else {
                break;
            };
            at = if m_end > m_start { m_end } else { m_end + 1 };
            if let (true, Some(boundary), Some(rest)) = (
                rule.match_within_token,
                &rule.boundary,
                buf.get(at..window.end),
            ) {
                // In a long run of key characters (a base64 blob, a hash), only the run's
                // first match could be at a boundary, and it has been seen.
                at += rest
                    .iter()
                    .position(|&b| !boundary.contains(b))
                    .unwrap_or(rest.len());
            }
            let secret = match rule.secret {
                SecretGroup::WholeMatch => Some((m_start, m_end)),
                SecretGroup::Group(group) => locs.get(group),
                SecretGroup::FirstNonEmpty => (1..locs.len())
                    .find_map(|group| locs.get(group).filter(|(s, e)| e > s))
                    .or(Some((m_start, m_end))),
            };
            let Some((start, end)) = secret else {
                continue;
            };
            if !owned.contains(&start) {
                continue;
            }
            let mut content_allowed = 0;
            let verdict = validate_candidate(rule, buf, start, end).and_then(|confidence| {
                let matched = m_start..m_end;
                content_allowed = self.judge_allowlists(buf, start..end, matched)?;
                Ok(confidence)
            });
            let (confidence, rejection) = match verdict {
                Ok(confidence) => (confidence, None),
                Err(rejection) if self.explain => (rule.confidence, Some(rejection)),
                Err(_) => continue,
            };
            out.push(RawMatch {
                rule: self.index,
                secret: start..end,
                confidence,
                rejection,
                content_allowed,
                decoded: None,
            });
        }
    }

    /// The text half of the rule's allowlists: `Err` when one allows the match outright, else
    /// the `AND` allowlists whose text conditions hold (see [`RawMatch::content_allowed`]).
    fn judge_allowlists(
        &self,
        buf: &[u8],
        secret: Range<usize>,
        matched: Range<usize>,
    ) -> Result<ContentAllowed, Rejection> {
        if self.allowlists.is_empty() {
            return Ok(0);
        }
        let line = if self.allowlists.iter().any(|a| a.needs_line()) {
            let lo = memchr::memrchr(b'\n', &buf[..matched.start]).map_or(0, |i| i + 1);
            let hi =
                memchr::memchr(b'\n', &buf[matched.end..]).map_or(buf.len(), |i| matched.end + i);
            lo..hi
        } else {
            0..0
        };
        let text = MatchText {
            secret: &buf[secret],
            matched: &buf[matched],
            line: &buf[line],
        };
        let mut pending: ContentAllowed = 0;
        for (i, allowlist) in self.allowlists.iter().enumerate() {
            match allowlist.judge_text(&text) {
                TextVerdict::Allowed => return Err(Rejection::Allowlisted),
                TextVerdict::Pending if i < ContentAllowed::BITS as usize => pending |= 1 << i,
                TextVerdict::Pending | TextVerdict::NotAllowed => {}
            }
        }
        Ok(pending)
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
        if !validate::at_token_boundary(buf, start, end, boundary)
            || validate::starts_inside_percent_escape(buf, start)
        {
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
    if rule.reject_placeholders && validate::looks_like_path(secret) {
        return Err(Rejection::Path);
    }
    // keyhound's own rules look for AWS credentials, never for certificates; a rule of yours
    // may want a key in base64, so it is left to judge.
    if rule.origin.starts_with(BUILTIN) && validate::looks_like_der(secret) {
        return Err(Rejection::Der);
    }
    // AWS keys are random base64; a rule of yours may look for words.
    if rule.origin.starts_with(BUILTIN) && validate::looks_like_code(secret) {
        return Err(Rejection::Code);
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
        let in_lines = |regex: &regex::bytes::Regex| {
            let lo = start_of_lines_before(
                buf,
                start,
                context.lines_before,
                start.saturating_sub(REACH),
            );
            let hi = end_of_lines_after(buf, end, context.lines_after, buf.len().min(end + REACH));
            regex.is_match_at(&buf[..hi], lo)
        };
        let present = if context.assigned_name {
            name.is_some_and(|name| context.regex.is_match(&buf[name]))
                && context.near.as_ref().is_none_or(|near| in_lines(near))
        } else if context.unassigned_only && name.is_some() {
            false
        } else {
            in_lines(&context.regex)
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
    fn a_slice_of_a_percent_encoded_token_is_not_a_secret() {
        // An SQS receipt handle in a signed query string: the 40 characters after `%2B`
        // are a slice of it, not a secret, whatever key ID signs the request.
        let text = "Action=DeleteMessage&ReceiptHandle=MbZj%2BQm9kX2vT7Lp4Rz8Yw1Nc6Hd3Jf5Gs0BaEuVtIo%2BHd2Lq7Vx9Nm4Wp9Kc3Bs6Jy1Tf8Gr5Ea0Zu5OiPkWq3\nSbkJ0=&AWSAccessKeyId=AKIAQYLPMN5HHHFPZAM2&Signature=abc";
        let found = matches(text);
        assert!(
            found.iter().all(|(rule, _, _)| rule == "aws-access-key-id"),
            "{found:?}"
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
        let secret = "r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD";
        let secret_cases = [
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
        ];
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
        ]
        .into_iter()
        .chain(secret_cases)
        {
            let found = matches(&text);
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            assert_eq!(found[0].2, confidence, "{text}");
        }
    }

    #[test]
    fn placeholders_of_every_kind_are_dropped() {
        let ids = [
            "AKIAXXXXXXXXXXXXXXXX",
            "AKIA${AWS_KEY_ID}",
            "<AKIA_YOUR_KEY_ID_HERE>",
            "AKIA-your-key-here",
            "AKIAQQQQQQQQQQQQQQQQ",
            "AKIAABCDEFGHIJKLMNOP",
            "AKIAQYLPMN5H23456777",
        ];
        let secrets = [
            "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "${AWS_SECRET_ACCESS_KEY}",
            "<your-aws-secret-access-key-goes-here..>",
            "your-secret-access-key-here",
            "r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4m000000",
            "r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mlmnopq",
            "abcdefghijabcdefghijabcdefghijabcdefghij",
        ];
        for (name, values) in [
            ("aws_access_key_id", ids),
            ("aws_secret_access_key", secrets),
        ] {
            for value in values {
                let text = format!("{name} = {value}");
                assert_eq!(matches(&text), [], "{text}");
            }
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
    fn a_long_token_is_one_candidate_and_a_key_after_it_is_still_found() {
        let rules = RuleSet::builtin().unwrap();
        let matcher = Matcher::new(&rules).explaining(true);
        let mut scratch = matcher.scratch();
        // A 200-character base64 token, then a key on the same line and on the next.
        let token = "Qm9+kX2vT7Lp4Rz8Yw1Nc6Hd3Jf5Gs0Ba/EuVtIo".repeat(5);
        let text = format!(
            "aws_secret_access_key = {token} aws_secret_access_key=r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD\n\
             secret: AKIA{token}\n"
        );
        let mut out = Vec::new();
        matcher.find(&mut scratch, text.as_bytes(), 0..text.len(), &mut out);
        let found: Vec<(&str, Option<Rejection>)> = out
            .iter()
            .filter(|m| rules.get(m.rule as usize).id == "aws-secret-access-key")
            .map(|m| (&text[m.secret.clone()], m.rejection))
            .collect();
        // Each token's first 40 characters are its one rejected candidate.
        assert_eq!(
            found,
            [
                (&token[..40], Some(Rejection::Boundary)),
                ("r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD", None),
                (&format!("AKIA{token}")[..40], Some(Rejection::Boundary)),
            ]
        );
    }

    /// Random lines of text with fake credentials for both rule sets below, and now and then
    /// a base64-encoded key line.
    fn credential_text(seed: u64, lines: usize) -> String {
        let mut x = seed;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let word = |n: usize, next: &mut dyn FnMut() -> u64| -> String {
            (0..n)
                .map(|_| CHARS[(next() % CHARS.len() as u64) as usize] as char)
                .collect()
        };
        let mut text = String::new();
        for _ in 0..lines {
            let line = match next() % 9 {
                0 => format!(
                    "aws_access_key_id = AKIA{}",
                    word(16, &mut next).to_uppercase()
                ),
                1 => format!(
                    "aws_secret_access_key = {}/{}+q",
                    word(20, &mut next),
                    word(17, &mut next)
                ),
                2 => format!("api_key = \"{}\"", word(32, &mut next)),
                3 => format!("token:\n  {}", word(30, &mut next)),
                4 => "-----BEGIN PRIVATE KEY-----".to_string(),
                5 => "-----END PRIVATE KEY-----".to_string(),
                6 => {
                    let id = format!("AKIA{}", word(16, &mut next).to_uppercase());
                    crate::decode::base64_encode(format!("aws_access_key_id={id}").as_bytes())
                }
                _ => format!("let {} = {};", word(6, &mut next), word(12, &mut next)),
            };
            text.push_str(&line);
            text.push('\n');
        }
        text
    }

    #[test]
    fn matches_a_change_decides_are_found_around_it() {
        let gitleaks = r#"
[[rules]]
id = "generic"
regex = '''(?i)[\w.-]{0,20}?(?:api_key|token)[\s'"]{0,3}[:=][\s'"]{0,3}([\w]{20,})'''
keywords = ["api_key", "token"]
[[rules]]
id = "pem"
regex = '''-----BEGIN PRIVATE KEY-----[\s\S]{10,}?-----END PRIVATE KEY-----'''
keywords = ["-----begin"]
"#;
        let mut imported = RuleSet::empty();
        imported.add_toml(gitleaks, "test.toml").unwrap();
        let builtin = RuleSet::builtin().unwrap();
        for rules in [&builtin, &imported] {
            let matcher = Matcher::new(rules);
            let around = matcher.around();
            let mut scratch = matcher.scratch();
            let mut touched = 0;
            for seed in 1..40u64 {
                let text = credential_text(seed * 7919, 800);
                let buf = text.as_bytes();
                let mut all = Vec::new();
                matcher.find(&mut scratch, buf, 0..buf.len(), &mut all);
                assert!(!all.is_empty());
                // Changes of random lengths at random places, in order.
                let mut changed = Vec::new();
                let mut at = (seed as usize * 37) % 200;
                while at < buf.len() {
                    let len = 1 + (at * 31 + seed as usize) % 40;
                    changed.push(at..(at + len).min(buf.len()));
                    at += len + 2500 + (at * 17) % 3000;
                }
                let mut near = Vec::new();
                matcher.find_around(&around, &mut scratch, buf, &changed, &mut near);
                for m in &all {
                    if !changed
                        .iter()
                        .any(|c| c.start < m.secret.end && m.secret.start < c.end)
                    {
                        continue;
                    }
                    touched += 1;
                    assert!(
                        near.contains(m),
                        "seed {seed}: {:?} of rule {} at {:?} is not found around {changed:?}",
                        &text[m.secret.clone()],
                        rules.get(m.rule as usize).id,
                        m.secret
                    );
                }
                // Far from every change, nothing is matched.
                assert!(
                    near.len() < all.len(),
                    "seed {seed}: everything was matched"
                );
            }
            assert!(touched > 20, "changes touched {touched} matches");
        }
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
