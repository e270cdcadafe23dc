//! gitleaks configurations (`gitleaks.toml`) read as keyhound rules, so a team that moves to
//! keyhound keeps the rules and allowlists it has.
//!
//! A gitleaks rule becomes a keyhound rule: its regex (Go's RE2 syntax, which keyhound's regex
//! engine reads with the same ASCII meaning of `\w`, `\d`, `\s` and `\b`), its keywords as the
//! prefilter, `secretGroup` (or gitleaks' choice of the first group that matched), `entropy`
//! (a secret at or below it is dropped, as gitleaks drops it), `path`, `tags` and its
//! allowlists. The file's own allowlists apply to every loaded rule, keyhound's built-in rules
//! included, or to their `targetRules`. `[extend] useDefault = true` keeps keyhound's built-in
//! rules (the configuration extends the default rules); without it only the file's rules run,
//! as with gitleaks. `[extend] path` loads another gitleaks file first, two levels deep, and a
//! rule of the same id there is extended field by field, as gitleaks does.
//!
//! What keyhound cannot honour is named in a note (rule and field), never dropped silently;
//! a regex that does not compile is an error naming its rule.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aho_corasick::AhoCorasick;
use regex::bytes::Regex;
use serde::Deserialize;

use super::allow::{RegexTarget, RuleAllowlist};
use super::span;
use super::spec::Imported;
use super::{compile_regex, Confidence, RuleError, RuleSpec, SecretGroup, Severity};

/// How many files an `[extend] path` chain may hold beyond the first, as in gitleaks.
const MAX_EXTEND_DEPTH: u8 = 2;

/// Top-level keys of a gitleaks file that describe it and change nothing a scan finds (the
/// title, and the gitleaks version it needs).
const DESCRIPTIVE_KEYS: [&str; 4] = ["title", "description", "minVersion", "minversion"];

/// Lines around a keyword that a rule whose regex can match a line break searches, when its
/// matches need not hold the keyword or can hold any number of line breaks: enough for any
/// match the search reach allows (the reach, not this, bounds the bytes searched).
const SPANNING_WINDOW_LINES: u32 = 64;

/// What an imported rule tells a reader to do: gitleaks rules carry no remediation.
const REMEDIATION: &str = "Revoke the secret with the service that issued it and issue a \
    new one, update every place that used it, then remove it from the file and from git history.";

/// Whether a TOML document is a gitleaks configuration rather than a keyhound rule file: it has
/// gitleaks' top-level tables, or rules written with `regex` or `path` rather than `pattern`.
pub fn is_gitleaks(text: &str) -> bool {
    let Ok(table) = toml::from_str::<toml::Table>(text) else {
        return false;
    };
    const GITLEAKS_KEYS: [&str; 5] = ["title", "extend", "allowlist", "allowlists", "minVersion"];
    if GITLEAKS_KEYS.iter().any(|k| table.contains_key(*k)) {
        return true;
    }
    let Some(toml::Value::Array(rules)) = table.get("rules") else {
        return false;
    };
    rules.iter().any(|rule| {
        rule.as_table().is_some_and(|r| {
            !r.contains_key("pattern") && (r.contains_key("regex") || r.contains_key("path"))
        })
    })
}

/// A gitleaks configuration, translated.
pub struct Translated {
    /// Rules to compile, each with its [`Imported`] part.
    pub rules: Vec<RuleSpec>,
    /// Rules with neither regex nor path: allowlists, keywords or tags for a rule of that id
    /// loaded before (a keyhound built-in rule, say).
    pub extensions: Vec<(String, Imported)>,
    /// The file's allowlists, for every rule or for their `targetRules`.
    pub allowlists: Vec<Arc<RuleAllowlist>>,
    /// `[extend] useDefault = true`: keyhound's built-in rules stay on.
    pub keep_builtin: bool,
    /// `[extend] disabledRules`.
    pub disabled: Vec<String>,
    /// What keyhound reads differently or cannot honour, each naming the rule and field.
    pub notes: Vec<String>,
    /// The text of every file read (the file and what it extends), for the rule set's digest.
    pub texts: Vec<String>,
}

/// Reads the gitleaks configuration `text` (from `origin`, a path or a name), following
/// `[extend] path` relative to the working directory or, failing that, to `dir`.
pub fn translate(text: &str, origin: &str, dir: Option<&Path>) -> Result<Translated, RuleError> {
    let mut notes = Vec::new();
    let mut texts = Vec::new();
    let file = read_chain(text, origin, dir, 0, &mut notes, &mut texts)?;
    let mut out = Translated {
        rules: Vec::new(),
        extensions: Vec::new(),
        allowlists: Vec::new(),
        keep_builtin: file.keep_builtin,
        disabled: file.disabled,
        notes,
        texts,
    };
    for rule in file.rules {
        let id = rule.id.clone();
        let invalid = |message: String| RuleError::Invalid {
            origin: origin.to_string(),
            rule: id.clone(),
            message,
        };
        if rule.skip_report == Some(true) {
            out.notes.push(format!(
                "{origin}: rule `{id}`: `skipReport` marks a rule that only serves `required`, \
                 which keyhound does not support: not loaded"
            ));
            continue;
        }
        if !rule.required.is_empty() {
            out.notes.push(format!(
                "{origin}: rule `{id}`: `required` (findings only next to other rules' \
                 findings) is not supported: the rule reports its matches on their own"
            ));
        }
        let allowlists = rule
            .allowlists
            .iter()
            .enumerate()
            .map(|(n, spec)| {
                allowlist(spec, &format!("{origin}: rule `{id}`, allowlist {}", n + 1))
                    .map(Arc::new)
            })
            .collect::<Result<Vec<_>, _>>()?;
        for spec in &rule.allowlists {
            if !spec.target_rules.is_empty() {
                out.notes.push(format!(
                    "{origin}: rule `{id}`: `targetRules` in a rule's own allowlist is ignored \
                     (it applies to its rule)"
                ));
            }
        }
        let Some(regex) = rule.regex.as_deref() else {
            if rule.path.is_some() {
                out.notes.push(format!(
                    "{origin}: rule `{id}`: a rule with only `path` reports files by name; \
                     keyhound reports secrets in what files hold: not loaded"
                ));
            } else {
                out.extensions.push((
                    id.clone(),
                    Imported {
                        tags: rule.tags,
                        allowlists,
                        ..Imported::default()
                    },
                ));
            }
            continue;
        };
        let pattern = go_pattern(regex).map_err(|e| invalid(format!("regex: {e}")))?;
        let groups = super::parse_pattern(&pattern)
            .map_or(0, |hir| hir.properties().explicit_captures_len());
        let secret = match rule.secret_group {
            Some(n) if n > 0 => {
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                if n > groups {
                    return Err(invalid(format!(
                        "secretGroup {n}: the regex has {groups} capture group(s)"
                    )));
                }
                SecretGroup::Group(n)
            }
            Some(n) if n < 0 => return Err(invalid(format!("secretGroup {n} is negative"))),
            _ if groups > 0 => SecretGroup::FirstNonEmpty,
            _ => SecretGroup::WholeMatch,
        };
        let entropy = match &rule.entropy {
            None => None,
            Some(value) => Some(
                number(value)
                    .ok_or_else(|| invalid(format!("entropy `{value}` is not a number")))?,
            ),
        };
        let keywords: Vec<String> = rule.keywords.iter().map(|k| k.to_lowercase()).collect();
        let searchable = !keywords.is_empty()
            && keywords
                .iter()
                .all(|k| (3..=super::MAX_KEYWORD_LEN).contains(&k.len()));
        if !searchable {
            let why = if keywords.is_empty() {
                "it has no keywords".to_string()
            } else {
                "one of its keywords is shorter than 3 bytes".to_string()
            };
            // Not a loss, only a cost: said with -v, not on every run.
            tracing::info!("{origin}: rule `{id}`: {why}, so its regex runs over all input");
        }
        let window_lines = window_lines(&pattern, &keywords);
        out.rules.push(RuleSpec {
            name: id.clone(),
            description: rule
                .description
                .clone()
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| format!("gitleaks rule {id}")),
            severity: Severity::High,
            confidence: Confidence::Medium,
            enabled: true,
            keywords: if searchable { keywords } else { Vec::new() },
            exact_keywords: Vec::new(),
            encoded_keywords: Vec::new(),
            window_lines,
            pattern,
            boundary: None,
            // gitleaks drops a secret whose entropy is at or below the rule's; keyhound drops
            // one below its minimum: the next value up is the same test.
            min_entropy: entropy.filter(|e| *e > 0.0).map(|e| (e as f32).next_up()),
            charset: None,
            example_pattern: None,
            reject_placeholders: false,
            kinds: BTreeMap::new(),
            redact: true,
            context_required: false,
            context: Vec::new(),
            pair: None,
            remediation: REMEDIATION.to_string(),
            examples: Vec::new(),
            negative_examples: Vec::new(),
            imported: Some(Imported {
                secret,
                search_everywhere: !searchable,
                path: rule.path.clone(),
                tags: rule.tags,
                allowlists,
            }),
            id,
        });
    }
    for (n, spec) in file.allowlists.iter().enumerate() {
        let source = if spec.legacy {
            format!("{origin}: [allowlist]")
        } else {
            format!("{origin}: [[allowlists]] {}", n + 1)
        };
        out.allowlists.push(Arc::new(allowlist(spec, &source)?));
    }
    Ok(out)
}

/// A gitleaks file with what it extends merged in.
struct Chain {
    rules: Vec<RuleEntry>,
    allowlists: Vec<AllowlistEntry>,
    keep_builtin: bool,
    disabled: Vec<String>,
}

/// Parses one file and, first, the file its `[extend] path` names.
fn read_chain(
    text: &str,
    origin: &str,
    dir: Option<&Path>,
    depth: u8,
    notes: &mut Vec<String>,
    texts: &mut Vec<String>,
) -> Result<Chain, RuleError> {
    texts.push(text.to_string());
    let file: FileEntry = toml::from_str(text).map_err(|error| RuleError::Parse {
        origin: origin.to_string(),
        error: Box::new(error),
    })?;
    for key in file
        .other
        .keys()
        .filter(|k| !DESCRIPTIVE_KEYS.contains(&k.as_str()))
    {
        notes.push(format!(
            "{origin}: `{key}` is not a gitleaks setting keyhound knows: ignored"
        ));
    }
    let extend = file.extend.unwrap_or_default();
    for key in extend.other.keys() {
        notes.push(format!(
            "{origin}: [extend] `{key}` is not supported: ignored"
        ));
    }
    if extend.url.is_some() {
        notes.push(format!(
            "{origin}: [extend] `url` is not followed: keyhound fetches nothing from the network"
        ));
    }
    if extend.path.is_some() && extend.use_default {
        return Err(RuleError::Config {
            origin: origin.to_string(),
            message: "[extend] sets both `path` and `useDefault`; gitleaks allows one".into(),
        });
    }
    let mut chain = Chain {
        rules: Vec::new(),
        allowlists: Vec::new(),
        keep_builtin: extend.use_default,
        disabled: Vec::new(),
    };
    if let Some(base) = &extend.path {
        if depth >= MAX_EXTEND_DEPTH {
            notes.push(format!(
                "{origin}: [extend] path `{base}` is not followed: gitleaks follows {} levels",
                MAX_EXTEND_DEPTH
            ));
        } else {
            let path = resolve(base, dir);
            let base_text = crate::textfile::read(&path).map_err(|source| RuleError::Read {
                path: path.clone(),
                source,
            })?;
            let base_origin = path.display().to_string();
            let parent = path.parent().map(Path::to_path_buf);
            let base = read_chain(
                &base_text,
                &base_origin,
                parent.as_deref(),
                depth + 1,
                notes,
                texts,
            )?;
            chain.keep_builtin |= base.keep_builtin;
            chain.disabled = base.disabled;
            chain.allowlists = base.allowlists;
            for id in &extend.disabled_rules {
                if !base.rules.iter().any(|r| r.id == *id) {
                    notes.push(format!(
                        "{origin}: [extend] disabledRules: `{id}` is not a rule of {base_origin}"
                    ));
                }
            }
            chain.rules = base
                .rules
                .into_iter()
                .filter(|r| !extend.disabled_rules.contains(&r.id))
                .collect();
        }
    }
    if extend.path.is_none() {
        // With `useDefault`, disabled rules name keyhound's own (built-in) rules.
        chain.disabled.extend(extend.disabled_rules);
    }
    let mut seen = std::collections::HashSet::new();
    for mut rule in file.rules {
        if !seen.insert(rule.id.clone()) {
            return Err(RuleError::DuplicateId {
                origin: origin.to_string(),
                rule: rule.id,
            });
        }
        for key in rule.other.keys() {
            notes.push(format!(
                "{origin}: rule `{}`: `{key}` is not a gitleaks rule field keyhound knows: ignored",
                rule.id
            ));
        }
        if let Some(legacy) = rule.allowlist.take() {
            rule.allowlists.insert(0, legacy);
        }
        for spec in &rule.allowlists {
            for key in spec.other.keys() {
                notes.push(format!(
                    "{origin}: rule `{}`: allowlist field `{key}` is not supported: ignored",
                    rule.id
                ));
            }
        }
        match chain.rules.iter_mut().find(|r| r.id == rule.id) {
            Some(base) => base.extend_with(rule),
            None => chain.rules.push(rule),
        }
    }
    let mut allowlists: Vec<AllowlistEntry> = file.allowlist.into_iter().collect();
    if let Some(legacy) = allowlists.first_mut() {
        legacy.legacy = true;
    }
    allowlists.extend(file.allowlists);
    for spec in &allowlists {
        for key in spec.other.keys() {
            notes.push(format!(
                "{origin}: allowlist field `{key}` is not supported: ignored"
            ));
        }
    }
    chain.allowlists.extend(allowlists);
    Ok(chain)
}

/// An `[extend] path`: as given when it exists from the working directory (as gitleaks reads
/// it), else relative to the directory of the file that names it.
fn resolve(path: &str, dir: Option<&Path>) -> PathBuf {
    let given = PathBuf::from(path);
    match dir {
        Some(dir) if !given.is_absolute() && !given.exists() => dir.join(given),
        _ => given,
    }
}

/// The rule pattern for a gitleaks regex: its Go spelling made Rust's ([`from_go_syntax`]),
/// with Unicode off (ASCII classes, as Go reads them), else with Unicode on for the classes
/// that need it (`\p{Greek}`). Only parsed here: the rule or allowlist that uses the pattern
/// compiles it, once.
fn go_pattern(regex: &str) -> Result<String, String> {
    let pattern = from_go_syntax(regex);
    if super::parse_pattern(&pattern).is_some() {
        return Ok(pattern);
    }
    let unicode = format!("(?u){pattern}");
    if super::parse_pattern(&unicode).is_some() {
        return Ok(unicode);
    }
    Err(compile_regex(&pattern, false)
        .err()
        .map_or_else(|| "the regex does not parse".to_string(), |e| e.to_string()))
}

/// Rewrites what Go's regex syntax reads differently from Rust's, keeping the meaning Go gives
/// it: a `{` that does not open a repetition is a literal brace; inside a class, `[` (but for
/// `[:alpha:]`), `&&`, `--` and `~~` are literal characters, not nested classes or set
/// operations; `\Q…\E` quotes literal text.
fn from_go_syntax(regex: &str) -> String {
    let chars: Vec<char> = regex.chars().collect();
    let mut out = String::with_capacity(regex.len() + 8);
    let mut i = 0;
    // Inside a class: where its members start (a `]` there is a member, not the end).
    let mut class: Option<usize> = None;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if chars.get(i + 1) == Some(&'Q') => {
                let end = (i + 2..chars.len().saturating_sub(1))
                    .find(|&j| chars[j] == '\\' && chars[j + 1] == 'E');
                let quoted: String = chars[i + 2..end.unwrap_or(chars.len())].iter().collect();
                out.push_str(&regex::escape(&quoted));
                i = end.map_or(chars.len(), |j| j + 2);
                continue;
            }
            '\\' => {
                out.push(c);
                if let Some(&next) = chars.get(i + 1) {
                    out.push(next);
                    i += 1;
                    // `\p{Greek}`, `\x{1F}`: the braces belong to the escape.
                    if matches!(next, 'p' | 'P' | 'x') && chars.get(i + 1) == Some(&'{') {
                        while i + 1 < chars.len() {
                            i += 1;
                            out.push(chars[i]);
                            if chars[i] == '}' {
                                break;
                            }
                        }
                    }
                }
            }
            _ if class.is_some() => {
                let start = class.expect("inside a class");
                match c {
                    ']' if i > start => {
                        class = None;
                        out.push(c);
                    }
                    '[' if chars.get(i + 1) == Some(&':') => {
                        let close = (i + 2..chars.len().saturating_sub(1))
                            .find(|&j| chars[j] == ':' && chars[j + 1] == ']');
                        match close {
                            Some(j) => {
                                out.extend(&chars[i..=j + 1]);
                                i = j + 1;
                            }
                            None => out.push_str("\\["),
                        }
                    }
                    '[' => out.push_str("\\["),
                    '&' | '~' | '-' if chars.get(i + 1) == Some(&c) => {
                        out.push('\\');
                        out.push(c);
                    }
                    _ => out.push(c),
                }
            }
            '[' => {
                out.push(c);
                let mut start = i + 1;
                if chars.get(start) == Some(&'^') {
                    out.push('^');
                    start += 1;
                    i += 1;
                }
                class = Some(start);
            }
            '{' if !opens_repetition(&chars[i..]) => out.push_str("\\{"),
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// Whether `text` (starting at a `{`) is a repetition as Go reads one: `{n}`, `{n,}` or
/// `{n,m}` with decimal counts.
fn opens_repetition(text: &[char]) -> bool {
    let digits = |from: usize| {
        text[from..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let first = digits(1);
    if first == 0 {
        return false;
    }
    match text.get(1 + first) {
        Some('}') => true,
        Some(',') => {
            let second = digits(2 + first);
            text.get(2 + first + second) == Some(&'}')
        }
        _ => false,
    }
}

/// Lines around a keyword hit that a rule's regex searches: none when the regex cannot match
/// a line break; when every match holds one of the rule's `keywords`, as many as a match can
/// hold line breaks (a generic `key = value` rule's `\s{0,3}` makes three); else
/// [`SPANNING_WINDOW_LINES`].
fn window_lines(pattern: &str, keywords: &[String]) -> u32 {
    let Some(hir) = super::parse_pattern(pattern) else {
        return SPANNING_WINDOW_LINES;
    };
    match span::max_line_breaks(&hir) {
        Some(0) => 0,
        Some(breaks) if span::holds_a_keyword(&hir, keywords) => breaks.min(SPANNING_WINDOW_LINES),
        _ => SPANNING_WINDOW_LINES,
    }
}

/// A TOML number as a float (gitleaks files write `entropy = 3` as often as `3.5`).
fn number(value: &toml::Value) -> Option<f64> {
    match value {
        toml::Value::Float(f) => Some(*f),
        toml::Value::Integer(i) => Some(*i as f64),
        _ => None,
    }
}

/// Compiles one gitleaks allowlist.
fn allowlist(spec: &AllowlistEntry, source: &str) -> Result<RuleAllowlist, RuleError> {
    let invalid = |message: String| RuleError::Config {
        origin: source.to_string(),
        message,
    };
    if spec.commits.is_empty()
        && spec.paths.is_empty()
        && spec.regexes.is_empty()
        && spec.stopwords.is_empty()
    {
        return Err(invalid(
            "an allowlist needs at least one of `commits`, `paths`, `regexes`, `stopwords`".into(),
        ));
    }
    let require_all = match spec.condition.as_deref().map(str::to_ascii_uppercase) {
        None => false,
        Some(c) if c == "OR" => false,
        Some(c) if c == "AND" => true,
        Some(other) => {
            return Err(invalid(format!(
                "condition `{other}`: gitleaks knows `OR` and `AND`"
            )))
        }
    };
    let target = match spec.regex_target.as_deref() {
        None | Some("") | Some("secret") => RegexTarget::Secret,
        Some("match") => RegexTarget::Match,
        Some("line") => RegexTarget::Line,
        Some(other) => {
            return Err(invalid(format!(
                "regexTarget `{other}`: gitleaks knows `secret`, `match` and `line`"
            )))
        }
    };
    let any_of = |field: &str, patterns: &[String]| -> Result<Option<Regex>, RuleError> {
        if patterns.is_empty() {
            return Ok(None);
        }
        let mut joined = Vec::with_capacity(patterns.len());
        for p in patterns {
            let p = go_pattern(p).map_err(|e| invalid(format!("{field} `{p}`: {e}")))?;
            joined.push(format!("(?:{p})"));
        }
        compile_regex(&joined.join("|"), false)
            .map(Some)
            .map_err(|e| invalid(format!("{field}: {e}")))
    };
    let stopwords = if spec.stopwords.is_empty() {
        None
    } else {
        Some(
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(spec.stopwords.iter().map(|w| w.to_lowercase()))
                .map_err(|e| invalid(format!("stopwords: {e}")))?,
        )
    };
    Ok(RuleAllowlist {
        source: match &spec.description {
            Some(d) if !d.trim().is_empty() => format!("{source} ({})", d.trim()),
            _ => source.to_string(),
        },
        require_all,
        commits: spec
            .commits
            .iter()
            .map(|c| c.trim().to_ascii_lowercase())
            .collect(),
        paths: any_of("paths", &spec.paths)?,
        target,
        regexes: any_of("regexes", &spec.regexes)?,
        stopwords,
        target_rules: spec.target_rules.clone(),
    })
}

/// A gitleaks file, as written. Other keys are kept to be named in notes, but for the few that
/// mean nothing to a scan ([`DESCRIPTIVE_KEYS`]).
#[derive(Debug, Deserialize)]
struct FileEntry {
    #[serde(default)]
    extend: Option<ExtendEntry>,
    #[serde(default)]
    rules: Vec<RuleEntry>,
    #[serde(default)]
    allowlist: Option<AllowlistEntry>,
    #[serde(default)]
    allowlists: Vec<AllowlistEntry>,
    #[serde(flatten)]
    other: BTreeMap<String, toml::Value>,
}

/// `[extend]`.
#[derive(Debug, Default, Deserialize)]
struct ExtendEntry {
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default, rename = "useDefault", alias = "usedefault")]
    use_default: bool,
    #[serde(default, rename = "disabledRules", alias = "disabledrules")]
    disabled_rules: Vec<String>,
    #[serde(flatten)]
    other: BTreeMap<String, toml::Value>,
}

/// One `[[rules]]` table.
#[derive(Debug, Deserialize)]
struct RuleEntry {
    id: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default, rename = "secretGroup", alias = "secretgroup")]
    secret_group: Option<i64>,
    #[serde(default)]
    entropy: Option<toml::Value>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    allowlist: Option<AllowlistEntry>,
    #[serde(default)]
    allowlists: Vec<AllowlistEntry>,
    #[serde(default)]
    required: Vec<toml::Value>,
    #[serde(default, rename = "skipReport", alias = "skipreport")]
    skip_report: Option<bool>,
    #[serde(flatten)]
    other: BTreeMap<String, toml::Value>,
}

impl RuleEntry {
    /// Extends a rule of an extended file with the same rule of the extending file, as gitleaks
    /// does: fields it sets replace the base's; keywords, tags and allowlists add to them.
    fn extend_with(&mut self, over: RuleEntry) {
        if over.description.is_some() {
            self.description = over.description;
        }
        if over
            .entropy
            .as_ref()
            .and_then(number)
            .is_some_and(|e| e != 0.0)
        {
            self.entropy = over.entropy;
        }
        if over.secret_group.is_some_and(|g| g != 0) {
            self.secret_group = over.secret_group;
        }
        if over.regex.is_some() {
            self.regex = over.regex;
        }
        if over.path.is_some() {
            self.path = over.path;
        }
        self.keywords.extend(over.keywords);
        self.tags.extend(over.tags);
        self.allowlists.extend(over.allowlists);
        self.required.extend(over.required);
        self.skip_report = over.skip_report.or(self.skip_report);
        self.other.extend(over.other);
    }
}

/// One allowlist table: `[allowlist]`, `[[allowlists]]`, `[[rules.allowlists]]` or
/// `[rules.allowlist]`.
#[derive(Debug, Deserialize)]
struct AllowlistEntry {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    commits: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default, rename = "regexTarget", alias = "regextarget")]
    regex_target: Option<String>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default, rename = "targetRules", alias = "targetrules")]
    target_rules: Vec<String>,
    /// Written as the single `[allowlist]` table of older files.
    #[serde(skip)]
    legacy: bool,
    #[serde(flatten)]
    other: BTreeMap<String, toml::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(body: &str) -> String {
        format!("[[rules]]\nid = \"t\"\ndescription = \"d\"\n{body}\n")
    }

    fn one(text: &str) -> (RuleSpec, Translated) {
        let mut translated = translate(text, "t.toml", None).unwrap();
        let spec = translated.rules.remove(0);
        (spec, translated)
    }

    #[test]
    fn gitleaks_files_are_told_from_keyhound_rule_files_by_content() {
        assert!(is_gitleaks("title = \"x\"\n"));
        assert!(is_gitleaks(&rule("regex = '''a'''")));
        assert!(is_gitleaks("[[rules]]\nid = \"p\"\npath = '''\\.p12$'''\n"));
        assert!(is_gitleaks("[extend]\nuseDefault = true\n"));
        assert!(!is_gitleaks(
            "[[rules]]\nid = \"k\"\npattern = '(?P<secret>x)'\nregex = 'y'\n"
        ));
        assert!(!is_gitleaks("[[rules]]\nid = \"k\"\npattern = 'x'\n"));
        assert!(!is_gitleaks("not toml ["));
    }

    #[test]
    fn go_syntax_keeps_go_meaning() {
        // A brace that opens no repetition is a literal in Go.
        assert_eq!(from_go_syntax("{{[^}]+}}"), r"\{\{[^}]+}}");
        assert_eq!(from_go_syntax("a{2}b{1,}c{3,4}"), "a{2}b{1,}c{3,4}");
        assert_eq!(from_go_syntax("a{,3}"), r"a\{,3}");
        // Escapes with braces are left whole.
        assert_eq!(from_go_syntax(r"\p{Greek}\x{41}"), r"\p{Greek}\x{41}");
        // In a class, `[` and doubled `&`, `-`, `~` are literal characters in Go.
        assert_eq!(from_go_syntax("[a[b]"), r"[a\[b]");
        assert_eq!(from_go_syntax("[[:alpha:]&&]"), r"[[:alpha:]\&&]");
        assert_eq!(from_go_syntax("[]a]{1}"), "[]a]{1}");
        assert_eq!(from_go_syntax("[^]a]"), "[^]a]");
        assert_eq!(from_go_syntax(r"\Qa.b{\E+"), r"a\.b\{+");
        for pattern in ["{{[^}]+}}", "[a[b]", "[[:alpha:]&&]", r"\Qa.b{\E+"] {
            assert!(go_pattern(pattern).is_ok(), "{pattern}");
        }
    }

    #[test]
    fn unicode_classes_compile_with_unicode_on() {
        assert_eq!(go_pattern(r"\p{Greek}+").unwrap(), r"(?u)\p{Greek}+");
        assert_eq!(go_pattern(r"\w+").unwrap(), r"\w+");
        assert!(go_pattern("(").is_err());
    }

    #[test]
    fn the_secret_group_follows_gitleaks() {
        let (spec, _) = one(&rule("regex = '''k=([a-z]+)'''\nsecretGroup = 1"));
        assert_eq!(spec.imported.unwrap().secret, SecretGroup::Group(1));
        let (spec, _) = one(&rule("regex = '''k=([a-z]+)|j=([0-9]+)'''"));
        assert_eq!(spec.imported.unwrap().secret, SecretGroup::FirstNonEmpty);
        let (spec, _) = one(&rule("regex = '''tok_[a-z]+'''"));
        assert_eq!(spec.imported.unwrap().secret, SecretGroup::WholeMatch);
        let error = translate(
            &rule("regex = '''k=([a-z]+)'''\nsecretGroup = 2"),
            "t.toml",
            None,
        )
        .err()
        .unwrap();
        assert!(error.to_string().contains("rule `t`"), "{error}");
        assert!(error.to_string().contains("secretGroup 2"), "{error}");
    }

    #[test]
    fn entropy_at_the_threshold_is_dropped_as_gitleaks_drops_it() {
        let (spec, _) = one(&rule("regex = '''x'''\nentropy = 3"));
        let min = spec.min_entropy.unwrap();
        assert!(min > 3.0 && min < 3.0001, "{min}");
        let (spec, _) = one(&rule("regex = '''x'''\nentropy = 0"));
        assert_eq!(spec.min_entropy, None);
        let error = translate(&rule("regex = '''x'''\nentropy = \"high\""), "t.toml", None)
            .err()
            .unwrap();
        assert!(error.to_string().contains("entropy"), "{error}");
    }

    #[test]
    fn keywords_drive_the_prefilter_unless_one_is_too_short() {
        let (spec, _) = one(&rule("regex = '''x'''\nkeywords = [\"Acme_\"]"));
        assert_eq!(spec.keywords, ["acme_"]);
        assert!(!spec.imported.unwrap().search_everywhere);
        let (spec, _) = one(&rule("regex = '''x'''\nkeywords = [\"acme\", \"ey\"]"));
        assert!(spec.keywords.is_empty());
        assert!(spec.imported.unwrap().search_everywhere);
        let (spec, _) = one(&rule("regex = '''x'''"));
        assert!(spec.imported.unwrap().search_everywhere);
    }

    #[test]
    fn a_regex_that_can_span_lines_searches_lines_around_its_keywords() {
        let (spec, _) = one(&rule("regex = '''key[\\s=]+([a-z]+)'''"));
        assert_eq!(spec.window_lines, SPANNING_WINDOW_LINES);
        let (spec, _) = one(&rule("regex = '''key[ =]+([a-z]+)'''"));
        assert_eq!(spec.window_lines, 0);
        let (spec, _) = one(&rule("regex = '''(?s)a.b'''"));
        assert_eq!(spec.window_lines, SPANNING_WINDOW_LINES);
        // Every match holds the keyword and at most four line breaks: four lines each way.
        let (spec, _) = one(&rule(
            "keywords = [\"key\"]\nregex = '''key[\\s=]{1,4}([a-z]+)'''",
        ));
        assert_eq!(spec.window_lines, 4);
    }

    #[test]
    fn what_keyhound_cannot_honour_is_named() {
        let text = format!(
            "{}severity = \"low\"\n[[rules.required]]\nid = \"other\"\n\
             [[rules]]\nid = \"only-path\"\npath = '''\\.p12$'''\n\
             [[rules]]\nid = \"helper\"\nregex = '''y'''\nskipReport = true\n\
             [extend]\nurl = \"https://example.com/x.toml\"\n",
            rule("regex = '''x'''")
        );
        let translated = translate(&text, "t.toml", None).unwrap();
        let notes = translated.notes.join("\n");
        for expected in [
            "rule `t`: `severity`",
            "rule `t`: `required`",
            "rule `only-path`: a rule with only `path`",
            "rule `helper`: `skipReport`",
            "`url` is not followed",
        ] {
            assert!(
                notes.contains(expected),
                "{expected} missing from:\n{notes}"
            );
        }
        assert_eq!(translated.rules.len(), 1);
        assert!(!translated.keep_builtin);
    }

    #[test]
    fn a_rule_without_regex_or_path_extends_a_loaded_rule() {
        let text = "[[rules]]\nid = \"aws-access-key-id\"\n[[rules.allowlists]]\npaths = ['''^sandbox/''']\n";
        let translated = translate(text, "t.toml", None).unwrap();
        assert!(translated.rules.is_empty());
        let (id, extension) = &translated.extensions[0];
        assert_eq!(id, "aws-access-key-id");
        assert!(extension.allowlists[0].paths.is_some());
    }

    #[test]
    fn bad_allowlists_are_errors_naming_where_they_are() {
        for (allowlist, expected) in [
            ("description = \"empty\"", "at least one of"),
            ("condition = \"XOR\"\npaths = ['''a''']", "condition `XOR`"),
            (
                "regexTarget = \"file\"\nregexes = ['''a''']",
                "regexTarget `file`",
            ),
            ("regexes = ['''(''']", "regexes `(`"),
        ] {
            let text = format!(
                "{}[[rules.allowlists]]\n{allowlist}\n",
                rule("regex = '''x'''")
            );
            let error = translate(&text, "t.toml", None).err().unwrap().to_string();
            assert!(error.contains("rule `t`, allowlist 1"), "{error}");
            assert!(error.contains(expected), "{expected}: {error}");
        }
        let error = translate(&rule("regex = '''(x'''"), "t.toml", None)
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("t.toml: rule `t`: regex"), "{error}");
    }

    #[test]
    fn legacy_and_current_allowlists_are_both_read() {
        let text = format!(
            "{}[rules.allowlist]\nregexes = ['''^a''']\n[[rules.allowlists]]\nstopwords = [\"b\"]\n\
             [allowlist]\npaths = ['''vendor''']\n[[allowlists]]\ntargetRules = [\"t\"]\ncommits = [\"ABC\"]\n",
            rule("regex = '''x'''")
        );
        let (spec, translated) = one(&text);
        assert_eq!(spec.imported.unwrap().allowlists.len(), 2);
        let sources: Vec<&str> = translated
            .allowlists
            .iter()
            .map(|a| a.source.as_str())
            .collect();
        assert_eq!(sources, ["t.toml: [allowlist]", "t.toml: [[allowlists]] 2"]);
        assert_eq!(translated.allowlists[1].commits, ["abc"]);
        assert_eq!(translated.allowlists[1].target_rules, ["t"]);
    }

    #[test]
    fn an_extended_file_is_read_first_and_its_rules_extended_field_by_field() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("base.toml"),
            "[extend]\nuseDefault = true\n\
             [[rules]]\nid = \"t\"\ndescription = \"base\"\nregex = '''tok_[a-z]{8}'''\n\
             entropy = 2\nkeywords = [\"tok_\"]\ntags = [\"a\"]\n\
             [[rules]]\nid = \"gone\"\nregex = '''gone_[a-z]{8}'''\nkeywords = [\"gone_\"]\n\
             [allowlist]\npaths = ['''vendor''']\n",
        )
        .unwrap();
        let text = "[extend]\npath = \"base.toml\"\ndisabledRules = [\"gone\", \"never\"]\n\
                    [[rules]]\nid = \"t\"\nentropy = 3\nkeywords = [\"tok2_\"]\ntags = [\"b\"]\n";
        let translated = translate(text, "team.toml", Some(dir.path())).unwrap();
        assert!(translated.keep_builtin);
        assert_eq!(translated.rules.len(), 1, "the disabled rule is dropped");
        let spec = &translated.rules[0];
        assert_eq!(spec.description, "base");
        assert_eq!(spec.pattern, "tok_[a-z]{8}");
        assert!(spec.min_entropy.unwrap() > 3.0);
        assert_eq!(spec.keywords, ["tok_", "tok2_"]);
        assert_eq!(spec.imported.as_ref().unwrap().tags, ["a", "b"]);
        assert_eq!(translated.allowlists.len(), 1);
        assert_eq!(translated.texts.len(), 2);
        assert!(
            translated.notes.iter().any(|n| n.contains("`never`")),
            "{:?}",
            translated.notes
        );
    }

    #[test]
    fn extend_chains_stop_at_gitleaks_depth_and_refuse_path_with_use_default() {
        let dir = tempfile::tempdir().unwrap();
        for (name, next) in [
            ("a.toml", "b.toml"),
            ("b.toml", "c.toml"),
            ("c.toml", "d.toml"),
        ] {
            std::fs::write(
                dir.path().join(name),
                format!(
                    "[extend]\npath = \"{next}\"\n[[rules]]\nid = \"{name}\"\nregex = '''x'''\n"
                ),
            )
            .unwrap();
        }
        let text = "[extend]\npath = \"a.toml\"\n";
        let translated = translate(text, "top.toml", Some(dir.path())).unwrap();
        assert_eq!(translated.rules.len(), 2, "a and b, not c");
        assert!(translated
            .notes
            .iter()
            .any(|n| n.contains("c.toml") && n.contains("not followed")));
        let error = translate(
            "[extend]\npath = \"a.toml\"\nuseDefault = true\n",
            "top.toml",
            Some(dir.path()),
        )
        .err()
        .unwrap();
        assert!(
            error.to_string().contains("both `path` and `useDefault`"),
            "{error}"
        );
        let error = translate(
            "[extend]\npath = \"missing.toml\"\n",
            "top.toml",
            Some(dir.path()),
        )
        .err()
        .unwrap();
        assert!(error.to_string().contains("missing.toml"), "{error}");
    }
}
