//! Rules are data: this module turns rule files (TOML) into a compiled, validated [`RuleSet`].
//!
//! The built-in AWS rules are embedded in the binary, so a scan needs no configuration. Rule files
//! given by the user are loaded after them; a user rule with the id of a built-in rule replaces it.
//! Everything that can be checked once is checked here (regex syntax and size, the `secret` group,
//! empty matches, confidence names), so the matcher's hot path never has to.

pub mod allow;
mod gitleaks;
mod span;
mod spec;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use regex::bytes::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use allow::RuleAllowlist;
pub use spec::{ContextSpec, Imported, PairSpec, RuleFile, RuleSpec};

/// The rule files compiled into the binary: (origin name, TOML text).
pub const BUILTIN_RULE_FILES: &[(&str, &str)] =
    &[("builtin:aws.toml", include_str!("../../rules/aws.toml"))];

/// How the origin of a built-in rule begins.
pub const BUILTIN: &str = "builtin:";

/// Longest keyword a rule may give; it bounds how far the matcher looks around a hit.
pub const MAX_KEYWORD_LEN: usize = 256;

/// Compiled-program size limit for one rule regex; a pathological pattern is refused, not run.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// How bad a leak of this kind of secret is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// All severities, most severe first (the order summaries list them in).
    pub const ALL_DESCENDING: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// The lowercase name used in rule files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure keyhound is that a match is a live credential.
///
/// `Example` marks the documented AWS example keys: they are reported so a reader sees why they
/// were not flagged, but they never fail a scan.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Example,
    Low,
    Medium,
    High,
}

impl Confidence {
    /// The lowercase name used in rule files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Example => "example",
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }

    /// Whether a finding at this confidence fails a scan (everything but documentation examples).
    pub fn fails_scan(self) -> bool {
        self != Confidence::Example
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a rule file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("cannot read rule file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: {error}")]
    Parse {
        origin: String,
        error: Box<toml::de::Error>,
    },
    #[error("{origin}: rule `{rule}`: {message}")]
    Invalid {
        origin: String,
        rule: String,
        message: String,
    },
    #[error("{origin}: {message}")]
    Config { origin: String, message: String },
    #[error("{origin}: rule id `{rule}` appears twice in the same file")]
    DuplicateId { origin: String, rule: String },
    /// The built-in rules do not compile (a defect of this build), with the first error.
    #[error("the built-in rules do not compile: {0}")]
    Builtin(String),
}

/// A set of bytes that may not touch a secret on either side (its token boundary).
#[derive(Clone)]
pub struct ByteSet([bool; 256]);

impl ByteSet {
    /// Whether the set holds `byte`.
    #[inline]
    pub fn contains(&self, byte: u8) -> bool {
        self.0[byte as usize]
    }

    /// Whether every byte of this set is in `other`.
    fn is_within(&self, other: &ByteSet) -> bool {
        (0..=255).all(|b| !self.contains(b) || other.contains(b))
    }

    /// A set from a class, for tests elsewhere in the crate.
    #[cfg(test)]
    pub(crate) fn for_test(class: &str) -> Self {
        Self::from_class(class).unwrap()
    }

    /// Builds the set of bytes a one-byte regex class such as `[A-Za-z0-9]` matches.
    fn from_class(class: &str) -> Result<Self, String> {
        let re = RegexBuilder::new(&format!("^(?-u:{class})$"))
            .unicode(false)
            .build()
            .map_err(|e| format!("invalid boundary class `{class}`: {e}"))?;
        let mut set = [false; 256];
        for (byte, slot) in set.iter_mut().enumerate() {
            *slot = re.is_match(&[byte as u8]);
        }
        Ok(ByteSet(set))
    }
}

/// Lines near a candidate that raise its confidence, or that it needs in order to be reported.
#[derive(Clone)]
pub struct Context {
    /// Matched against the lines around the candidate (multi-line mode, Unicode off).
    pub regex: LazyRegex,
    /// How many lines before the candidate's line the context may be on.
    pub lines_before: u32,
    /// How many lines after the candidate's line the context may be on.
    pub lines_after: u32,
    /// The confidence a candidate gets when this context is present.
    pub confidence: Confidence,
    /// Applies only when the candidate is not the value of a named key (`NAME = value`): a
    /// value assigned to some other name belongs to that name, not to a nearby key ID.
    pub unassigned_only: bool,
    /// Matched only against the name the candidate is assigned to on its line (`NAME = value`,
    /// `"name": "value"`, `--name value`): an explicit assignment, not a mention nearby.
    pub assigned_name: bool,
    /// With `assigned_name`: must also match within the lines around the candidate.
    pub near: Option<LazyRegex>,
}

/// Which part of a rule's match is the secret.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SecretGroup {
    /// The whole match: a pattern that is all `(?P<secret>…)`, so a match needs no capture
    /// groups resolved, or an imported pattern with no groups.
    #[default]
    WholeMatch,
    /// The capture group with this index.
    Group(usize),
    /// The first capture group that matched something, else the whole match (how gitleaks
    /// reads a pattern with groups and no `secretGroup`).
    FirstNonEmpty,
}

/// One compiled rule.
#[derive(Clone)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub description: String,
    pub severity: Severity,
    /// Confidence of a match that no context entry applies to.
    pub confidence: Confidence,
    /// Whether the rule runs without being enabled explicitly.
    pub enabled: bool,
    /// Prefilter literals, matched in lower, UPPER and Title case; the rule's regex runs only
    /// near them.
    pub keywords: Vec<String>,
    /// `keywords` match in any ASCII case, not only their lower, UPPER and Title spellings
    /// (imported gitleaks rules: gitleaks lowercases text and keywords alike).
    pub keywords_any_case: bool,
    /// Prefilter literals matched exactly as written (prefixes such as `AKIA`).
    pub exact_keywords: Vec<String>,
    /// Literals whose base64 spellings open a region to decode: for values that are often
    /// base64-encoded with no plain keyword near them (a key ID in a Kubernetes `Secret`).
    pub encoded_keywords: Vec<String>,
    /// Lines around a keyword hit that the regex searches.
    pub window_lines: u32,
    pub regex: LazyRegex,
    /// Which part of a match of `regex` is the secret.
    pub secret: SecretGroup,
    /// The regex runs over all input, not only near keywords (an imported rule with no
    /// keyword long enough to search for).
    pub search_everywhere: bool,
    pub boundary: Option<ByteSet>,
    /// A match holds only bytes of the boundary set and is the whole secret, so it lies inside
    /// one token, and a later match that starts in the same token cannot be at a boundary:
    /// the search goes on from the token's end.
    pub match_within_token: bool,
    pub min_entropy: Option<f32>,
    /// Minimum number of character classes (upper, lower, digit, other) in the secret.
    pub min_classes: Option<u8>,
    /// Drop values with a long run of one character or of consecutive characters
    /// (`AKIAABCDEFGHIJKLMNOP`, `wJalr…XXXXXX`): placeholders, not keys.
    pub reject_placeholders: bool,
    /// Secrets matching this are documentation examples.
    pub example: Option<LazyRegex>,
    /// Secret prefix → kind (e.g. `AKIA` → `long-term`).
    pub kinds: Vec<(String, String)>,
    /// Whether outputs hide this rule's secrets by default (identifiers such as key IDs are not).
    pub redact: bool,
    pub context_required: bool,
    pub contexts: Vec<Context>,
    /// Findings of this rule pair with findings of another (see [`PairSpec`]).
    pub pair: Option<PairSpec>,
    pub remediation: String,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
    /// Matches count only in files whose path this matches (an imported rule's `path`).
    pub path: Option<Regex>,
    /// Labels from an imported rule, shown in SARIF.
    pub tags: Vec<String>,
    /// Allowlists of this rule alone (imported with it).
    pub allowlists: Vec<Arc<RuleAllowlist>>,
    /// Where the rule came from (`builtin:aws.toml` or a file path).
    pub origin: String,
    /// SHA-256 of the text of the rule file it came from: what the rule set's
    /// [`RuleSet::digest`] is made of.
    pub source_digest: [u8; 32],
}

impl Rule {
    /// The kind of credential a secret is, from its prefix (`long-term` for `AKIA…`).
    pub fn kind_of(&self, secret: &[u8]) -> Option<&str> {
        self.kinds
            .iter()
            .find(|(prefix, _)| secret.starts_with(prefix.as_bytes()))
            .map(|(_, kind)| kind.as_str())
    }

    fn compile(mut spec: RuleSpec, origin: &str, when: Compile) -> Result<Rule, RuleError> {
        let invalid = |message: String| RuleError::Invalid {
            origin: origin.to_string(),
            rule: spec.id.clone(),
            message,
        };
        if spec.id.is_empty()
            || !spec
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            return Err(invalid(
                "the id must be non-empty and use only letters, digits, `-`, `_` and `.`".into(),
            ));
        }
        let regex = LazyRegex::new(&spec.pattern, false, when)
            .map_err(|e| invalid(format!("invalid pattern: {e}")))?;
        // Parsed once for what the rule needs to know of its pattern's shape; `None` only for
        // a pattern that does not compile either, which compiling it reports.
        let hir = parse_pattern(&spec.pattern);
        let is_imported = spec.imported.is_some();
        let imported = spec.imported.take().unwrap_or_default();
        let secret = if is_imported {
            imported.secret
        } else {
            let group = hir
                .as_ref()
                .and_then(secret_group)
                .ok_or_else(|| invalid("the pattern has no named group `secret`".into()))?;
            if hir.as_ref().is_some_and(secret_is_whole_match) {
                SecretGroup::WholeMatch
            } else {
                SecretGroup::Group(group)
            }
        };
        if hir.as_ref().is_some_and(matches_empty) {
            return Err(invalid("the pattern can match the empty string".into()));
        }
        let path = imported
            .path
            .as_deref()
            .map(|p| compile_regex(p, false))
            .transpose()
            .map_err(|e| invalid(format!("invalid path: {e}")))?;
        let keywords: Vec<String> = spec.keywords.iter().map(|k| k.trim().to_string()).collect();
        let exact_keywords: Vec<String> = spec
            .exact_keywords
            .iter()
            .map(|k| k.trim().to_string())
            .collect();
        let all_keywords = || keywords.iter().chain(&exact_keywords);
        if (all_keywords().next().is_none() && !imported.search_everywhere)
            || all_keywords().any(|k| k.len() < 3 || k.len() > MAX_KEYWORD_LEN)
        {
            return Err(invalid(format!(
                "`keywords` and `exact_keywords` need at least one literal between them, \
                 each of 3 to {MAX_KEYWORD_LEN} bytes"
            )));
        }
        if spec.encoded_keywords.iter().any(|k| k.len() < 3) {
            return Err(invalid(
                "`encoded_keywords` must each be at least 3 bytes long".into(),
            ));
        }
        let boundary = spec
            .boundary
            .as_deref()
            .map(ByteSet::from_class)
            .transpose()
            .map_err(invalid)?;
        let match_within_token = secret == SecretGroup::WholeMatch
            && boundary.as_ref().is_some_and(|boundary| {
                hir.as_ref()
                    .is_some_and(|hir| bytes_matched(hir).is_within(boundary))
            });
        let example = spec
            .example_pattern
            .as_deref()
            .map(|p| LazyRegex::new(p, false, when))
            .transpose()
            .map_err(|e| invalid(format!("invalid example_pattern: {e}")))?;
        let mut contexts = Vec::with_capacity(spec.context.len());
        for c in spec.context {
            let regex = LazyRegex::new(&c.pattern, true, when)
                .map_err(|e| invalid(format!("invalid context pattern: {e}")))?;
            let lines = c.lines_before > 0 || c.lines_after > 0;
            if c.assigned_name && (c.unassigned_only || (lines && c.near.is_none())) {
                return Err(invalid(
                    "a context with `assigned_name` looks at the candidate's own assignment: \
                     it cannot also set `unassigned_only`, nor `lines_before` or `lines_after` \
                     without `near`"
                        .into(),
                ));
            }
            if c.near.is_some() && !c.assigned_name {
                return Err(invalid(
                    "`near` qualifies an `assigned_name` context: set both, or use `pattern` \
                     with `lines_before` and `lines_after` alone"
                        .into(),
                ));
            }
            let near = c
                .near
                .as_deref()
                .map(|p| LazyRegex::new(p, true, when))
                .transpose()
                .map_err(|e| invalid(format!("invalid context `near` pattern: {e}")))?;
            contexts.push(Context {
                regex,
                near,
                lines_before: c.lines_before,
                lines_after: c.lines_after,
                confidence: c.confidence,
                unassigned_only: c.unassigned_only,
                assigned_name: c.assigned_name,
            });
        }
        if spec.context_required && contexts.is_empty() {
            return Err(invalid(
                "`context_required` is set but the rule has no `context` entries".into(),
            ));
        }
        if let Some(charset) = &spec.charset {
            if !(1..=4).contains(&charset.min_classes) {
                return Err(invalid("`charset.min_classes` must be from 1 to 4".into()));
            }
        }
        let mut kinds: Vec<(String, String)> = spec.kinds.into_iter().collect();
        // Longest prefix first, so `A3T` style overlaps resolve to the most specific kind.
        kinds.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        Ok(Rule {
            source_digest: [0; 32],
            id: spec.id,
            name: spec.name,
            description: spec.description,
            severity: spec.severity,
            confidence: spec.confidence,
            enabled: spec.enabled,
            keywords,
            keywords_any_case: is_imported,
            exact_keywords,
            encoded_keywords: spec.encoded_keywords,
            window_lines: spec.window_lines,
            regex,
            secret,
            search_everywhere: imported.search_everywhere,
            match_within_token,
            boundary,
            min_entropy: spec.min_entropy,
            min_classes: spec.charset.map(|c| c.min_classes),
            reject_placeholders: spec.reject_placeholders,
            example,
            kinds,
            redact: spec.redact,
            context_required: spec.context_required,
            contexts,
            pair: spec.pair,
            remediation: spec.remediation.trim().to_string(),
            examples: spec.examples,
            negative_examples: spec.negative_examples,
            path,
            tags: imported.tags,
            allowlists: imported.allowlists,
            origin: origin.to_string(),
        })
    }
}

/// When a rule's patterns are compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compile {
    /// As the rule loads: patterns from rule files, so that a bad one is a load error.
    Now,
    /// When a scan first needs them: the built-in rules, whose patterns their tests and
    /// `keyhound rules check` compile. A scan then pays only for the rules its input triggers,
    /// and a scan with no keyword hit (an empty directory, a small staged change) compiles none.
    OnFirstUse,
}

/// A rule pattern, compiled now or on first use (see [`Compile`]); used as a [`Regex`].
#[derive(Clone)]
pub struct LazyRegex {
    pattern: std::sync::Arc<str>,
    multi_line: bool,
    compiled: std::sync::OnceLock<Regex>,
}

impl LazyRegex {
    fn new(pattern: &str, multi_line: bool, when: Compile) -> Result<LazyRegex, regex::Error> {
        let compiled = std::sync::OnceLock::new();
        if when == Compile::Now {
            let _ = compiled.set(compile_regex(pattern, multi_line)?);
        }
        Ok(LazyRegex {
            pattern: pattern.into(),
            multi_line,
            compiled,
        })
    }
}

impl std::ops::Deref for LazyRegex {
    type Target = Regex;

    fn deref(&self) -> &Regex {
        self.compiled.get_or_init(|| {
            compile_regex(&self.pattern, self.multi_line)
                .expect("a built-in rule pattern compiles (its tests compile every one)")
        })
    }
}

/// The index of a pattern's `secret` capture group, as the compiled regex numbers groups.
fn secret_group(hir: &regex_syntax::hir::Hir) -> Option<usize> {
    fn find(hir: &regex_syntax::hir::Hir) -> Option<usize> {
        use regex_syntax::hir::HirKind;
        match hir.kind() {
            HirKind::Capture(capture) if capture.name.as_deref() == Some("secret") => {
                usize::try_from(capture.index).ok()
            }
            HirKind::Capture(capture) => find(&capture.sub),
            HirKind::Repetition(repetition) => find(&repetition.sub),
            HirKind::Concat(parts) | HirKind::Alternation(parts) => parts.iter().find_map(find),
            _ => None,
        }
    }
    find(hir)
}

/// Which bytes a match of a pattern can hold. A class of characters beyond ASCII counts as
/// every non-ASCII byte.
fn bytes_matched(hir: &regex_syntax::hir::Hir) -> ByteSet {
    use regex_syntax::hir::{Class, Hir, HirKind};
    fn collect(hir: &Hir, bytes: &mut [bool; 256]) {
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => {}
            HirKind::Literal(literal) => literal.0.iter().for_each(|&b| bytes[b as usize] = true),
            HirKind::Class(Class::Bytes(class)) => {
                for range in class.iter() {
                    (range.start()..=range.end()).for_each(|b| bytes[b as usize] = true);
                }
            }
            HirKind::Class(Class::Unicode(class)) => {
                for range in class.iter() {
                    let ascii_end = u32::from(range.end()).min(0x7F);
                    (u32::from(range.start())..=ascii_end).for_each(|b| bytes[b as usize] = true);
                    if u32::from(range.end()) > 0x7F {
                        bytes[0x80..].iter_mut().for_each(|b| *b = true);
                    }
                }
            }
            HirKind::Repetition(repetition) => collect(&repetition.sub, bytes),
            HirKind::Capture(capture) => collect(&capture.sub, bytes),
            HirKind::Concat(parts) | HirKind::Alternation(parts) => {
                parts.iter().for_each(|part| collect(part, bytes))
            }
        }
    }
    let mut bytes = [false; 256];
    collect(hir, &mut bytes);
    ByteSet(bytes)
}

/// Compiles a rule regex over bytes with Unicode off (ASCII classes, any byte matchable).
fn compile_regex(pattern: &str, multi_line: bool) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .multi_line(multi_line)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(4 * REGEX_SIZE_LIMIT)
        .build()
}

/// Whether a pattern can match the empty string (such a rule would match everywhere).
fn matches_empty(hir: &regex_syntax::hir::Hir) -> bool {
    hir.properties().minimum_len() == Some(0)
}

/// Whether a pattern is exactly `(?P<secret>...)`.
fn secret_is_whole_match(hir: &regex_syntax::hir::Hir) -> bool {
    matches!(hir.kind(), regex_syntax::hir::HirKind::Capture(capture)
        if capture.name.as_deref() == Some("secret"))
}

/// The syntax tree of a pattern (`None` if it does not parse: compiling it says why).
fn parse_pattern(pattern: &str) -> Option<regex_syntax::hir::Hir> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()
}

/// The compiled rules of one scan: built-ins first, then user files in the order given.
#[derive(Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// Allowlists of imported configurations that apply across rules.
    allowlists: Vec<Arc<RuleAllowlist>>,
    /// What loading read differently from how it was written, or could not honour.
    notes: Vec<String>,
    /// Digests of imported files that changed rules loaded before them (allowlists, disabled
    /// rules), which the rules' own digests do not show.
    amendments: Vec<[u8; 32]>,
}

impl RuleSet {
    /// The built-in rules only. They are compiled once per process (a copy shares the compiled
    /// regexes), so tools that load settings many times pay for it once.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        static BUILTIN: std::sync::OnceLock<Result<RuleSet, String>> = std::sync::OnceLock::new();
        let compiled = BUILTIN.get_or_init(|| {
            let mut set = RuleSet::empty();
            for (origin, text) in BUILTIN_RULE_FILES {
                set.add_rules(text, origin, Compile::OnFirstUse)
                    .map_err(|e| e.to_string())?;
            }
            Ok(set)
        });
        compiled.clone().map_err(RuleError::Builtin)
    }

    /// An empty set, for checking a rule file on its own.
    pub fn empty() -> RuleSet {
        RuleSet {
            rules: Vec::new(),
            allowlists: Vec::new(),
            notes: Vec::new(),
            amendments: Vec::new(),
        }
    }

    /// Adds the rules of one TOML document, a keyhound rule file or a gitleaks configuration
    /// (told apart by content); a rule whose id is already loaded replaces it. Its patterns are
    /// compiled now, so that a bad one is an error here.
    pub fn add_toml(&mut self, text: &str, origin: &str) -> Result<(), RuleError> {
        self.add_document(text, origin, None)
    }

    fn add_document(
        &mut self,
        text: &str,
        origin: &str,
        dir: Option<&Path>,
    ) -> Result<(), RuleError> {
        if gitleaks::is_gitleaks(text) {
            self.add_gitleaks(text, origin, dir)
        } else {
            self.add_rules(text, origin, Compile::Now)
        }
    }

    fn add_rules(&mut self, text: &str, origin: &str, when: Compile) -> Result<(), RuleError> {
        let file: RuleFile = toml::from_str(text).map_err(|error| RuleError::Parse {
            origin: origin.to_string(),
            error: Box::new(error),
        })?;
        let source_digest: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        let mut seen = std::collections::HashSet::new();
        for spec in file.rules {
            if !seen.insert(spec.id.clone()) {
                return Err(RuleError::DuplicateId {
                    origin: origin.to_string(),
                    rule: spec.id,
                });
            }
            self.insert(Rule {
                source_digest,
                ..Rule::compile(spec, origin, when)?
            });
        }
        Ok(())
    }

    /// Adds a rule, replacing a loaded one of the same id.
    fn insert(&mut self, rule: Rule) {
        match self.rules.iter_mut().find(|r| r.id == rule.id) {
            Some(existing) => *existing = rule,
            None => self.rules.push(rule),
        }
    }

    /// Adds the rules and allowlists of a gitleaks configuration (see `gitleaks`).
    fn add_gitleaks(
        &mut self,
        text: &str,
        origin: &str,
        dir: Option<&Path>,
    ) -> Result<(), RuleError> {
        let imported = gitleaks::translate(text, origin, dir)?;
        let mut hasher = Sha256::new();
        for text in &imported.texts {
            hasher.update((text.len() as u64).to_le_bytes());
            hasher.update(text.as_bytes());
        }
        let source_digest: [u8; 32] = hasher.finalize().into();
        self.notes.extend(imported.notes);
        let builtin = |rule: &Rule| rule.origin.starts_with(BUILTIN);
        if !imported.keep_builtin && self.rules.iter().any(|r| builtin(r) && r.enabled) {
            for rule in self.rules.iter_mut().filter(|r| builtin(r)) {
                rule.enabled = false;
            }
            self.notes.push(format!(
                "{origin}: keyhound's built-in rules are off, as gitleaks runs only a \
                 configuration's own rules; add `[extend] useDefault = true` to keep them"
            ));
        }
        for id in &imported.disabled {
            match self.rules.iter_mut().find(|r| r.id == *id) {
                Some(rule) => rule.enabled = false,
                None => self.notes.push(format!(
                    "{origin}: [extend] disabledRules: no loaded rule has the id `{id}`"
                )),
            }
        }
        for spec in imported.rules {
            self.insert(Rule {
                source_digest,
                ..Rule::compile(spec, origin, Compile::Now)?
            });
        }
        for (id, extension) in imported.extensions {
            match self.rules.iter_mut().find(|r| r.id == id) {
                Some(rule) => {
                    rule.allowlists.extend(extension.allowlists);
                    rule.tags.extend(extension.tags);
                }
                None => self.notes.push(format!(
                    "{origin}: rule `{id}` has neither `regex` nor `path`, and no loaded rule \
                     has its id to extend: ignored"
                )),
            }
        }
        for allowlist in &imported.allowlists {
            for id in &allowlist.target_rules {
                if self.by_id(id).is_none() {
                    self.notes.push(format!(
                        "{}: targetRules: no loaded rule has the id `{id}`",
                        allowlist.source
                    ));
                }
            }
        }
        self.allowlists.extend(imported.allowlists);
        self.amendments.push(source_digest);
        Ok(())
    }

    /// What loading read differently from how it was written, or could not honour (features
    /// of imported configurations that keyhound does not have), one sentence each.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The allowlists that apply to findings of rule `id`: the rule's own, then the ones of
    /// the whole configuration that target it (findings of a pair rule, which has no rule of
    /// its own, get only these). Bit `i` of an [`allow::ContentAllowed`] refers to the `i`-th.
    pub fn allowlists_for<'s>(
        &'s self,
        id: &'s str,
    ) -> impl Iterator<Item = &'s Arc<RuleAllowlist>> {
        let own = self.by_id(id).map(|rule| rule.allowlists.as_slice());
        own.unwrap_or_default()
            .iter()
            .chain(self.allowlists.iter().filter(move |a| a.applies_to(id)))
    }

    /// Adds a rule file, or every `*.toml` file of a directory in name order.
    pub fn add_path(&mut self, path: &Path) -> Result<(), RuleError> {
        let read_err = |source| RuleError::Read {
            path: path.to_path_buf(),
            source,
        };
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(read_err)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
                .collect();
            files.sort();
            for file in files {
                self.add_path(&file)?;
            }
            return Ok(());
        }
        let text = crate::textfile::read(path).map_err(read_err)?;
        self.add_document(&text, &path.display().to_string(), path.parent())
    }

    /// Turns on rules that are off by default (for example `aws-principal-id`).
    pub fn enable(&mut self, ids: &[String]) -> Result<(), RuleError> {
        for id in ids {
            match self.rules.iter_mut().find(|r| &r.id == id) {
                Some(rule) => rule.enabled = true,
                None => {
                    return Err(RuleError::Invalid {
                        origin: "--enable-rule".into(),
                        rule: id.clone(),
                        message: "no loaded rule has this id (see `keyhound rules list`)".into(),
                    })
                }
            }
        }
        Ok(())
    }

    /// Turns rules off.
    pub fn disable(&mut self, ids: &[String]) -> Result<(), RuleError> {
        for id in ids {
            match self.rules.iter_mut().find(|r| &r.id == id) {
                Some(rule) => rule.enabled = false,
                None => {
                    return Err(RuleError::Invalid {
                        origin: "--disable-rule".into(),
                        rule: id.clone(),
                        message: "no loaded rule has this id (see `keyhound rules list`)".into(),
                    })
                }
            }
        }
        Ok(())
    }

    /// Stands for what the enabled rules find: the id and the rule file text of each, in order,
    /// hashed with keyhound's version. Equal digests find the same things in the same bytes.
    pub fn digest(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
        for rule in self.rules.iter().filter(|r| r.enabled) {
            hasher.update((rule.id.len() as u64).to_le_bytes());
            hasher.update(rule.id.as_bytes());
            hasher.update(rule.source_digest);
        }
        for amendment in &self.amendments {
            hasher.update(amendment);
        }
        crate::hex::lower(&hasher.finalize())
    }

    /// Every loaded rule, enabled or not.
    pub fn all(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule at `index` (indices are those of [`RuleSet::all`]).
    pub fn get(&self, index: usize) -> &Rule {
        &self.rules[index]
    }

    /// What to do about a secret of rule `id`: its remediation, or for a pair rule (which has
    /// none of its own) that of the secret it pairs with. None when there is no text.
    pub fn remediation_of(&self, id: &str) -> Option<&str> {
        let own = self.by_id(id).map(|rule| rule.remediation.as_str());
        let paired = || {
            let pair = self
                .rules
                .iter()
                .find_map(|rule| rule.pair.as_ref().filter(|pair| pair.id == id))?;
            self.by_id(&pair.with).map(|rule| rule.remediation.as_str())
        };
        own.or_else(paired).filter(|text| !text.trim().is_empty())
    }

    /// Looks a rule up by id.
    pub fn by_id(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_rule(body: &str) -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::empty();
        set.add_toml(&format!("[[rules]]\n{body}"), "test.toml")?;
        Ok(set)
    }

    const BASE: &str = "id = \"t\"\nname = \"T\"\ndescription = \"d\"\nseverity = \"high\"\nkeywords = [\"tok\"]\nremediation = \"r\"\n";

    #[test]
    fn builtin_rules_load() {
        let set = RuleSet::builtin().unwrap();
        assert!(set.by_id("aws-access-key-id").is_some());
        assert!(set.by_id("aws-secret-access-key").is_some());
        assert!(!set.by_id("aws-principal-id").unwrap().enabled);
    }

    #[test]
    fn every_built_in_pattern_compiles_and_numbers_its_secret_group_as_the_regex_does() {
        let set = RuleSet::builtin().unwrap();
        for rule in set.all() {
            let compiled: &Regex = &rule.regex;
            let position = compiled
                .capture_names()
                .position(|name| name == Some("secret"));
            let secret = match rule.secret {
                SecretGroup::Group(group) => group,
                SecretGroup::WholeMatch => 1,
                SecretGroup::FirstNonEmpty => unreachable!("built-in rules name their group"),
            };
            assert_eq!(position, Some(secret), "{}", rule.id);
            if let Some(example) = &rule.example {
                let _: &Regex = example;
            }
            for context in &rule.contexts {
                let _: &Regex = &context.regex;
                if let Some(near) = &context.near {
                    let _: &Regex = near;
                }
            }
        }
    }

    #[test]
    fn pattern_without_secret_group_is_refused() {
        let err = one_rule(&format!("{BASE}pattern = 'tok[0-9]+'"))
            .err()
            .unwrap();
        assert!(err.to_string().contains("no named group `secret`"), "{err}");
    }

    #[test]
    fn empty_matching_pattern_is_refused() {
        let err = one_rule(&format!("{BASE}pattern = '(?P<secret>x*)'"))
            .err()
            .unwrap();
        assert!(err.to_string().contains("empty string"), "{err}");
    }

    #[test]
    fn oversized_pattern_is_refused() {
        let err = one_rule(&format!(
            "{BASE}pattern = '(?P<secret>(\\w{{100}}){{100}}){{50}}'"
        ))
        .err()
        .unwrap();
        assert!(err.to_string().contains("invalid pattern"), "{err}");
    }

    #[test]
    fn assigned_name_context_with_a_line_range_is_refused() {
        let err = one_rule(&format!(
            "{BASE}pattern = '(?P<secret>tok)'\n[[rules.context]]\npattern = 'x'\nassigned_name = true\nlines_before = 1\nconfidence = \"high\""
        ))
        .err()
        .unwrap();
        assert!(err.to_string().contains("assigned_name"), "{err}");
    }

    #[test]
    fn near_qualifies_only_an_assigned_name_and_takes_its_lines() {
        let context = |extra: &str| {
            format!(
                "{BASE}pattern = '(?P<secret>tok)'\n[[rules.context]]\npattern = 'x'\n{extra}\nconfidence = \"high\""
            )
        };
        let ok = one_rule(&context(
            "assigned_name = true\nnear = 'AKIA'\nlines_before = 2\nlines_after = 2",
        ));
        let set = ok.unwrap();
        assert!(set.all()[0].contexts[0].near.is_some());
        let err = one_rule(&context("near = 'AKIA'\nlines_before = 2"))
            .err()
            .unwrap();
        assert!(err.to_string().contains("`near` qualifies"), "{err}");
        let err = one_rule(&context("assigned_name = true\nnear = '('"))
            .err()
            .unwrap();
        assert!(err.to_string().contains("`near` pattern"), "{err}");
    }

    #[test]
    fn a_match_lies_within_one_token_only_if_all_its_bytes_are_in_the_boundary_set() {
        let builtin = RuleSet::builtin().unwrap();
        for id in ["aws-access-key-id", "aws-secret-access-key"] {
            assert!(builtin.by_id(id).unwrap().match_within_token, "{id}");
        }
        let within = |pattern: &str, boundary: &str| {
            let body = format!("{BASE}pattern = '{pattern}'\nboundary = \"{boundary}\"");
            one_rule(&body).unwrap().all()[0].match_within_token
        };
        assert!(within("(?P<secret>tok[a-f0-9]{8})", "[a-z0-9]"));
        assert!(within("(?P<secret>(?i)tok[a-f]{8})", "[A-Za-z]"));
        // A byte outside the set (`-`), a case-folded letter outside it, or a secret that is
        // only part of the match.
        assert!(!within("(?P<secret>tok-[a-f0-9]{8})", "[a-z0-9]"));
        assert!(!within("(?P<secret>(?i)tok[a-f]{8})", "[a-z]"));
        assert!(!within("id=(?P<secret>tok[a-f0-9]{8})", "[a-z0-9=]"));
        let unbounded = one_rule(&format!("{BASE}pattern = '(?P<secret>tok[a-f0-9]{{8}})'"));
        assert!(!unbounded.unwrap().all()[0].match_within_token);
    }

    #[test]
    fn unknown_key_names_its_line() {
        let err = one_rule(&format!(
            "{BASE}pattern = '(?P<secret>tok)'\nsevrity = \"low\""
        ))
        .err()
        .unwrap();
        let msg = err.to_string();
        assert!(
            msg.contains("test.toml") && msg.contains("sevrity") && msg.contains("line 9"),
            "{msg}"
        );
    }

    #[test]
    fn user_rule_replaces_builtin_with_same_id() {
        let mut set = RuleSet::builtin().unwrap();
        let before = set.all().len();
        set.add_toml(
            &format!(
                "[[rules]]\n{}pattern = '(?P<secret>tok)'",
                BASE.replace("\"t\"", "\"aws-mws-auth-token\"")
            ),
            "mine.toml",
        )
        .unwrap();
        assert_eq!(set.all().len(), before);
        assert_eq!(set.by_id("aws-mws-auth-token").unwrap().origin, "mine.toml");
    }

    #[test]
    fn a_pattern_that_is_all_secret_needs_no_captures() {
        let whole = |pattern: &str| secret_is_whole_match(&parse_pattern(pattern).unwrap());
        assert!(whole("(?P<secret>AKIA[A-Z2-7]{16})"));
        assert!(!whole("key=(?P<secret>[0-9]+)"));
        assert!(!whole("(?P<secret>a)|b"));
    }

    #[test]
    fn boundary_class_becomes_byte_set() {
        let set = ByteSet::from_class("[A-Za-z0-9]").unwrap();
        assert!(set.contains(b'a') && set.contains(b'Z') && set.contains(b'5'));
        assert!(!set.contains(b'_') && !set.contains(b'"') && !set.contains(0xff));
    }
}
