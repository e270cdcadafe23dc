//! How faithfully keyhound runs gitleaks' own rules on gitleaks' own examples.
//!
//! gitleaks defines each rule of its default configuration in a Go function under
//! `cmd/generate/config/rules/`, with true positives (`tps`: each must give a finding of the
//! rule) and false positives (`fps`: none may), checked by `utils.Validate` (the example is the
//! whole text scanned, with no path) or `utils.ValidateWithPaths` (a map of file path to text,
//! the path being matched against the rule's `path`). This test reads those sources, keeps the
//! examples written as plain string literals (Go `"…"` with its escapes, or `` `…` ``), also
//! those of a list variable spread into them (`append(tps, global_keys...)`), and skips, with a
//! counted reason, every element built with `+`, a call or a variable. It scans each example
//! with keyhound running the default gitleaks configuration: one file per example (named
//! `example.txt`, or the path gitleaks gives it), all in one directory scanned once with
//! `-f json --max-decode-depth 0` (and `--scan-binary --max-archive-depth 0`, as gitleaks reads
//! an example as text), findings mapped back by file.
//!
//! It prints a table per rule (true positives found, false positives clean), every miss
//! (rule, source line, example redacted to its first 6 characters and length) and what was
//! skipped and why, and asserts floors the current code meets, so a regression fails.
//!
//! It needs a gitleaks checkout, which CI does not have, so it skips (saying why) unless
//! `KEYHOUND_GITLEAKS_RULES_DIR` names a directory holding the `*.go` files of
//! `cmd/generate/config/rules`. The configuration is `KEYHOUND_GITLEAKS_CONFIG`, by default
//! `../shared/compat/gitleaks-default.toml` from the crate root. From a clone of gitleaks:
//!
//! ```sh
//! mkdir -p /tmp/gitleaks-src
//! git -C gitleaks archive HEAD \
//!     cmd/generate/config/rules config/gitleaks.toml | tar -x -C /tmp/gitleaks-src
//! KEYHOUND_GITLEAKS_RULES_DIR=/tmp/gitleaks-src/cmd/generate/config/rules \
//! KEYHOUND_GITLEAKS_CONFIG=/tmp/gitleaks-src/config/gitleaks.toml \
//!     cargo test --test gitleaks_examples -- --nocapture
//! ```
//!
//! `KEYHOUND_GITLEAKS_SHOW_EXAMPLES=1` prints missed examples in full (they are gitleaks' public
//! test data, but redacted by default so a log carries no key-shaped text).

#[allow(dead_code)]
mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

/// The share of literal true positives keyhound must find. Measured with gitleaks b58d3f1
/// (v8.25 configuration): 288/288.
const MIN_TPS_FOUND: f64 = 1.0;
/// The share of literal false positives that must stay clean. Measured: 336/336.
const MIN_FPS_CLEAN: f64 = 1.0;
/// Fewer literal true positives than this means the Go reader broke, not that gitleaks has few
/// (288 at gitleaks b58d3f1).
const MIN_LITERAL_TPS: usize = 200;

// ---------------------------------------------------------------------------------------------
// Go tokens
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// A string literal's value; `None` when an escape in it is not valid Go.
    Str(Option<Vec<u8>>),
    Punct(&'static str),
    /// A number or a rune literal: nothing this test reads.
    Other,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

impl Token {
    fn is_ident(&self, name: &str) -> bool {
        matches!(&self.tok, Tok::Ident(n) if n == name)
    }

    fn is(&self, punct: &str) -> bool {
        matches!(&self.tok, Tok::Punct(p) if *p == punct)
    }

    fn ident(&self) -> Option<&str> {
        match &self.tok {
            Tok::Ident(n) => Some(n),
            _ => None,
        }
    }

    /// Whether a newline after this token ends a statement (Go's semicolon insertion).
    fn ends_statement(&self) -> bool {
        match &self.tok {
            Tok::Ident(_) | Tok::Str(_) | Tok::Other => true,
            Tok::Punct(p) => matches!(*p, ")" | "]" | "}" | "++" | "--"),
        }
    }
}

const PUNCTS: [&str; 24] = [
    "...", "<<=", ">>=", ":=", "==", "!=", "<=", ">=", "&&", "||", "<-", "++", "--", "+=", "-=",
    "*=", "/=", "|=", "&=", "%=", "^=", "<<", ">>", "&^",
];

/// Splits Go source into tokens, dropping comments.
fn tokenize(src: &[u8]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < src.len() {
        let c = src[i];
        let start_line = line;
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'/' if src.get(i + 1) == Some(&b'/') => {
                while i < src.len() && src[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if src.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < src.len() && !(src[i] == b'*' && src.get(i + 1) == Some(&b'/')) {
                    if src[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i += 2;
            }
            b'`' => {
                // A raw string: no escapes; carriage returns are dropped from its value.
                let mut value = Vec::new();
                i += 1;
                while i < src.len() && src[i] != b'`' {
                    if src[i] == b'\n' {
                        line += 1;
                    }
                    if src[i] != b'\r' {
                        value.push(src[i]);
                    }
                    i += 1;
                }
                i += 1;
                out.push(Token {
                    tok: Tok::Str(Some(value)),
                    line: start_line,
                });
            }
            b'"' => {
                let (value, end) = interpreted_string(src, i + 1);
                i = end;
                out.push(Token {
                    tok: Tok::Str(value),
                    line: start_line,
                });
            }
            b'\'' => {
                i += 1;
                while i < src.len() && src[i] != b'\'' && src[i] != b'\n' {
                    i += if src[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                out.push(Token {
                    tok: Tok::Other,
                    line: start_line,
                });
            }
            c if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 => {
                let start = i;
                while i < src.len()
                    && (src[i] == b'_' || src[i].is_ascii_alphanumeric() || src[i] >= 0x80)
                {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Ident(String::from_utf8_lossy(&src[start..i]).into_owned()),
                    line: start_line,
                });
            }
            c if c.is_ascii_digit() => {
                while i < src.len() && (src[i].is_ascii_alphanumeric() || src[i] == b'_') {
                    i += 1;
                }
                // A fraction, but not the `...` of a spread.
                while i < src.len()
                    && src[i] == b'.'
                    && src.get(i + 1) != Some(&b'.')
                    && src.get(i + 1).is_some_and(u8::is_ascii_alphanumeric)
                {
                    i += 1;
                    while i < src.len() && (src[i].is_ascii_alphanumeric() || src[i] == b'_') {
                        i += 1;
                    }
                }
                out.push(Token {
                    tok: Tok::Other,
                    line: start_line,
                });
            }
            _ => {
                let punct = PUNCTS
                    .iter()
                    .find(|p| src[i..].starts_with(p.as_bytes()))
                    .copied()
                    .unwrap_or_else(|| single_punct(c));
                i += punct.len().max(1);
                out.push(Token {
                    tok: Tok::Punct(punct),
                    line: start_line,
                });
            }
        }
    }
    out
}

fn single_punct(c: u8) -> &'static str {
    const SINGLE: &str = "+-*/%&|^<>=!()[]{},;.:~?@#$\\";
    match SINGLE.find(c as char) {
        Some(at) => &SINGLE[at..at + 1],
        None => "?",
    }
}

/// Reads a Go interpreted string from `start` (just after its opening quote): its value
/// (`None` if an escape is not valid Go) and the index just past its closing quote.
fn interpreted_string(src: &[u8], start: usize) -> (Option<Vec<u8>>, usize) {
    let mut value = Vec::new();
    let mut valid = true;
    let mut i = start;
    let hex = |from: usize, n: usize| -> Option<u32> {
        let digits = src.get(from..from + n)?;
        let text = std::str::from_utf8(digits).ok()?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(text, 16).ok()
    };
    while i < src.len() && src[i] != b'"' && src[i] != b'\n' {
        if src[i] != b'\\' {
            value.push(src[i]);
            i += 1;
            continue;
        }
        let Some(&e) = src.get(i + 1) else {
            valid = false;
            break;
        };
        i += 2;
        let simple = match e {
            b'a' => Some(0x07),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(0x0b),
            b'\\' => Some(b'\\'),
            b'"' => Some(b'"'),
            _ => None,
        };
        if let Some(byte) = simple {
            value.push(byte);
            continue;
        }
        match e {
            b'x' => match hex(i, 2) {
                Some(b) => {
                    value.push(b as u8);
                    i += 2;
                }
                None => valid = false,
            },
            b'u' | b'U' => {
                let n = if e == b'u' { 4 } else { 8 };
                match hex(i, n).and_then(char::from_u32) {
                    Some(ch) => {
                        let mut buf = [0u8; 4];
                        value.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        i += n;
                    }
                    None => valid = false,
                }
            }
            b'0'..=b'7' => {
                let digits = &src[i - 1..(i + 2).min(src.len())];
                match std::str::from_utf8(digits)
                    .ok()
                    .filter(|d| d.len() == 3 && d.bytes().all(|b| (b'0'..=b'7').contains(&b)))
                    .and_then(|d| u8::from_str_radix(d, 8).ok())
                {
                    Some(b) => {
                        value.push(b);
                        i += 2;
                    }
                    None => valid = false,
                }
            }
            _ => valid = false,
        }
    }
    (valid.then_some(value), i + 1)
}

// ---------------------------------------------------------------------------------------------
// Rule functions and their examples
// ---------------------------------------------------------------------------------------------

/// Index of the bracket that closes the one at `open`.
fn closing(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        match &t.tok {
            Tok::Punct("(" | "[" | "{") => depth += 1,
            Tok::Punct(")" | "]" | "}") => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits a token list at the commas (or `sep`) outside brackets.
fn split_at<'t>(tokens: &'t [Token], sep: &str) -> Vec<&'t [Token]> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        match &t.tok {
            Tok::Punct("(" | "[" | "{") => depth += 1,
            Tok::Punct(")" | "]" | "}") => depth -= 1,
            Tok::Punct(p) if depth == 0 && *p == sep => {
                parts.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < tokens.len() {
        parts.push(&tokens[start..]);
    }
    parts
}

/// Every `name = expr`, `name := expr` and `var name [type] = expr` in `tokens`: the name and
/// the expression's tokens (to the end of its statement).
fn assignments(tokens: &[Token]) -> Vec<(String, &[Token])> {
    let mut out = Vec::new();
    for i in 1..tokens.len() {
        if !(tokens[i].is("=") || tokens[i].is(":=")) {
            continue;
        }
        // The name: right before the operator, or after `var` (`var x []string = …`).
        let name_at = (0..i)
            .rev()
            .take_while(|&k| tokens[k].line == tokens[i].line)
            .find(|&k| {
                tokens[k].ident().is_some()
                    && (k + 1 == i || (k > 0 && tokens[k - 1].is_ident("var")))
            });
        let Some(k) = name_at else { continue };
        if k > 0 && tokens[k - 1].is(".") {
            continue; // a field: `r.Keywords = …`
        }
        let name = tokens[k].ident().expect("an identifier").to_string();
        let start = i + 1;
        let mut end = start;
        let mut depth = 0i32;
        while end < tokens.len() {
            match &tokens[end].tok {
                Tok::Punct("(" | "[" | "{") => depth += 1,
                Tok::Punct(")" | "]" | "}") => {
                    if depth == 0 {
                        break; // the end of an enclosing block
                    }
                    depth -= 1;
                }
                Tok::Punct(";") if depth == 0 => break,
                _ => {}
            }
            end += 1;
            if depth == 0
                && end < tokens.len()
                && tokens[end].line > tokens[end - 1].line
                && tokens[end - 1].ends_statement()
            {
                break;
            }
        }
        out.push((name, &tokens[start..end]));
    }
    out
}

/// One example as gitleaks wrote it.
#[derive(Debug, Clone)]
enum Elem {
    /// A string literal (the text scanned), at a source line.
    Literal(Vec<u8>, usize),
    /// A `path: text` entry of a `map[string]string`.
    WithPath(String, Vec<u8>, usize),
    /// Not a literal: why.
    Skipped(&'static str),
}

/// Where names resolve: the rule function's body, then the package (every file's top level).
struct Scope<'a> {
    local: Vec<(String, &'a [Token])>,
    package: &'a HashMap<String, Vec<Vec<Token>>>,
}

const SKIP_CONCAT_LITERALS: &str = "built with + from literals only";
const SKIP_CONCAT: &str = "built with + from a call or variable";
const SKIP_CALL: &str = "a function call";
const SKIP_VARIABLE: &str = "a variable";
const SKIP_OTHER: &str = "another expression";
const SKIP_GENERATED: &str = "a list built by a function (e.g. utils.GenerateSampleSecrets), \
                              counted once per list";
const SKIP_UNRESOLVED: &str = "a list variable not found";
const SKIP_BAD_ESCAPE: &str = "a literal with an escape that is not valid Go";
const SKIP_BAD_PATH: &str = "a path that is absolute, empty or leaves the directory";

/// One element of a list: a literal, or why it is not one.
fn element(tokens: &[Token]) -> Elem {
    let line = tokens.first().map_or(0, |t| t.line);
    match tokens {
        [Token {
            tok: Tok::Str(Some(v)),
            ..
        }] => Elem::Literal(v.clone(), line),
        [Token {
            tok: Tok::Str(None),
            ..
        }] => Elem::Skipped(SKIP_BAD_ESCAPE),
        _ if tokens.iter().any(|t| t.is("+")) => {
            if tokens
                .iter()
                .all(|t| t.is("+") || matches!(t.tok, Tok::Str(_)))
            {
                Elem::Skipped(SKIP_CONCAT_LITERALS)
            } else {
                Elem::Skipped(SKIP_CONCAT)
            }
        }
        _ if tokens.iter().any(|t| t.is("(")) => Elem::Skipped(SKIP_CALL),
        [t] if t.ident().is_some() => Elem::Skipped(SKIP_VARIABLE),
        _ => Elem::Skipped(SKIP_OTHER),
    }
}

/// The elements of a list expression: a `[]string{…}` or `map[string]string{…}` literal, an
/// `append(…)`, `nil`, or a variable holding one of those; `this` is the variable being
/// resolved (`append(tps, …)` does not read `tps` again).
fn elements(expr: &[Token], scope: &Scope, this: Option<&str>, depth: u8) -> Vec<Elem> {
    if expr.is_empty() || depth > 8 {
        return Vec::new();
    }
    if let [t] = expr {
        let Some(name) = t.ident() else {
            return vec![element(expr)];
        };
        if name == "nil" || Some(name) == this {
            return Vec::new();
        }
        let local: Vec<&[Token]> = scope
            .local
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, rhs)| *rhs)
            .collect();
        if !local.is_empty() {
            return local
                .into_iter()
                .flat_map(|rhs| elements(rhs, scope, Some(name), depth + 1))
                .collect();
        }
        return match scope.package.get(name) {
            Some(defs) => defs
                .iter()
                .flat_map(|rhs| elements(rhs, scope, Some(name), depth + 1))
                .collect(),
            None => vec![Elem::Skipped(SKIP_UNRESOLVED)],
        };
    }
    let last = expr.len() - 1;
    // `[]string{…}` / `map[string]string{…}`: a type, then braces closing at the end.
    let is_composite = expr[last].is("}")
        && (expr[0].is("[") || expr[0].is_ident("map"))
        && expr
            .iter()
            .position(|t| t.is("{"))
            .and_then(|o| closing(expr, o))
            == Some(last);
    if is_composite {
        let open = expr.iter().position(|t| t.is("{")).expect("a brace");
        let inner = &expr[open + 1..last];
        let is_map = expr[0].is_ident("map");
        return split_at(inner, ",")
            .into_iter()
            .filter(|e| !e.is_empty())
            .map(|e| {
                if !is_map {
                    return element(e);
                }
                let parts = split_at(e, ":");
                match (parts.first().map(|k| element(k)), parts.get(1)) {
                    (Some(Elem::Literal(path, _)), Some(v)) if parts.len() == 2 => {
                        match element(v) {
                            Elem::Literal(value, l) => {
                                Elem::WithPath(String::from_utf8_lossy(&path).into(), value, l)
                            }
                            skipped => skipped,
                        }
                    }
                    (Some(Elem::Skipped(why)), _) => Elem::Skipped(why),
                    _ => Elem::Skipped(SKIP_OTHER),
                }
            })
            .collect();
    }
    if expr[0].is_ident("append")
        && expr.get(1).is_some_and(|t| t.is("("))
        && closing(expr, 1) == Some(last)
    {
        let args = split_at(&expr[2..last], ",");
        let mut out = Vec::new();
        for (n, arg) in args.into_iter().enumerate() {
            let spread = arg.last().is_some_and(|t| t.is("..."));
            if n == 0 || spread {
                let list = if spread { &arg[..arg.len() - 1] } else { arg };
                out.extend(elements(list, scope, this, depth + 1));
            } else {
                out.push(element(arg));
            }
        }
        return out;
    }
    if expr.iter().any(|t| t.is("(")) {
        return vec![Elem::Skipped(SKIP_GENERATED)];
    }
    vec![Elem::Skipped(SKIP_OTHER)]
}

/// What one rule function of gitleaks' sources gives.
#[derive(Debug)]
struct RuleSource {
    file: String,
    rule_ids: Vec<String>,
    tps: Vec<Elem>,
    fps: Vec<Elem>,
}

/// Reads every rule function of the `*.go` files in `dir`.
fn read_rule_sources(dir: &Path) -> Vec<RuleSource> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{} is not readable: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "go"))
        .filter(|p| !p.to_string_lossy().ends_with("_test.go"))
        .collect();
    files.sort();
    let parsed: Vec<(String, Vec<Token>)> = files
        .iter()
        .map(|p| {
            let src = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let name = p
                .file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned();
            (name, tokenize(&src))
        })
        .collect();
    // Each file: its function bodies (token ranges), and its top level outside them.
    let mut bodies: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
    let mut package: HashMap<String, Vec<Vec<Token>>> = HashMap::new();
    for (f, (_, tokens)) in parsed.iter().enumerate() {
        let mut top: Vec<Token> = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            if tokens[i].is_ident("func") {
                // The body opens at the first `{` outside the signature's parentheses.
                let mut parens = 0i32;
                let mut j = i + 1;
                while j < tokens.len() {
                    match &tokens[j].tok {
                        Tok::Punct("(") => parens += 1,
                        Tok::Punct(")") => parens -= 1,
                        Tok::Punct("{") if parens == 0 => break,
                        _ => {}
                    }
                    j += 1;
                }
                let Some(end) = closing(tokens, j) else { break };
                bodies.push((f, j + 1..end));
                i = end + 1;
                continue;
            }
            top.push(tokens[i].clone());
            i += 1;
        }
        for (name, rhs) in assignments(&top) {
            package.entry(name).or_default().push(rhs.to_vec());
        }
    }
    let mut out = Vec::new();
    for (f, range) in bodies {
        let (file, tokens) = &parsed[f];
        let body = &tokens[range];
        let rule_ids: Vec<String> = (0..body.len().saturating_sub(2))
            .filter(|&i| body[i].is_ident("RuleID") && body[i + 1].is(":"))
            .filter_map(|i| match &body[i + 2].tok {
                Tok::Str(Some(v)) => Some(String::from_utf8_lossy(v).into_owned()),
                _ => None,
            })
            .collect();
        let scope = Scope {
            local: assignments(body),
            package: &package,
        };
        let mut tps = Vec::new();
        let mut fps = Vec::new();
        for i in 0..body.len().saturating_sub(3) {
            let validate = body[i].is_ident("utils")
                && body[i + 1].is(".")
                && (body[i + 2].is_ident("Validate") || body[i + 2].is_ident("ValidateWithPaths"))
                && body[i + 3].is("(");
            if !validate {
                continue;
            }
            let Some(close) = closing(body, i + 3) else {
                continue;
            };
            let args = split_at(&body[i + 4..close], ",");
            if let Some(arg) = args.get(1) {
                tps.extend(elements(arg, &scope, None, 0));
            }
            if let Some(arg) = args.get(2) {
                fps.extend(elements(arg, &scope, None, 0));
            }
        }
        if rule_ids.is_empty() && tps.is_empty() && fps.is_empty() {
            continue;
        }
        out.push(RuleSource {
            file: file.clone(),
            rule_ids,
            tps,
            fps,
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The configuration
// ---------------------------------------------------------------------------------------------

/// A rule of the gitleaks configuration: whether it has a regex and a path.
struct ConfigRule {
    regex: bool,
    path: bool,
}

fn read_config(path: &Path) -> BTreeMap<String, ConfigRule> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let table: toml::Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rules = table
        .get("rules")
        .and_then(toml::Value::as_array)
        .cloned()
        .unwrap_or_default();
    rules
        .iter()
        .filter_map(|rule| {
            let rule = rule.as_table()?;
            let id = rule.get("id")?.as_str()?.to_string();
            Some((
                id,
                ConfigRule {
                    regex: rule.contains_key("regex"),
                    path: rule.contains_key("path"),
                },
            ))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Tp,
    Fp,
}

/// An example to scan.
struct Example {
    rule: String,
    kind: Kind,
    /// The file name gitleaks gives it (`ValidateWithPaths`), else `example.txt`.
    path: Option<String>,
    value: Vec<u8>,
    /// `file.go:line`.
    origin: String,
}

#[derive(Default)]
struct Tally {
    tps: usize,
    tps_found: usize,
    fps: usize,
    fps_clean: usize,
}

fn redacted(value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value);
    let head: String = text.chars().take(6).collect();
    format!("{:?}… ({} bytes)", head, value.len())
}

fn full(value: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(value))
}

/// A path gitleaks gives an example, if it stays inside the example's directory.
fn safe_relative(path: &str) -> Option<&Path> {
    let p = Path::new(path);
    let ok = !path.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)));
    ok.then_some(p)
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

#[test]
fn gitleaks_rules_find_their_own_examples() {
    let Some(rules_dir) = env_path("KEYHOUND_GITLEAKS_RULES_DIR") else {
        eprintln!(
            "SKIPPED gitleaks_examples: KEYHOUND_GITLEAKS_RULES_DIR is not set (it names a \
             directory holding gitleaks' cmd/generate/config/rules/*.go; see the comment at \
             the top of tests/gitleaks_examples.rs for how to get one)"
        );
        return;
    };
    if !rules_dir.is_dir() {
        eprintln!(
            "SKIPPED gitleaks_examples: KEYHOUND_GITLEAKS_RULES_DIR={} is not a directory",
            rules_dir.display()
        );
        return;
    }
    let config = env_path("KEYHOUND_GITLEAKS_CONFIG")
        .unwrap_or_else(|| common::crate_root().join("../shared/compat/gitleaks-default.toml"));
    if !config.is_file() {
        eprintln!(
            "SKIPPED gitleaks_examples: no gitleaks configuration at {} (set \
             KEYHOUND_GITLEAKS_CONFIG to gitleaks' config/gitleaks.toml)",
            config.display()
        );
        return;
    }
    let show = std::env::var_os("KEYHOUND_GITLEAKS_SHOW_EXAMPLES").is_some_and(|v| v != "0");
    let config_rules = read_config(&config);
    let sources = read_rule_sources(&rules_dir);

    // Examples to scan, and what was left aside (reason → count).
    let mut examples: Vec<Example> = Vec::new();
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    let mut skip = |why: &str, n: usize| *skipped.entry(why.to_string()).or_default() += n;
    for source in &sources {
        let rule = match source.rule_ids.as_slice() {
            [one] => one.clone(),
            ids => {
                let why = if ids.is_empty() {
                    "function without a RuleID"
                } else {
                    "function with several RuleIDs"
                };
                skip(why, source.tps.len() + source.fps.len());
                continue;
            }
        };
        for (kind, elems) in [(Kind::Tp, &source.tps), (Kind::Fp, &source.fps)] {
            for elem in elems {
                let (path, value, line) = match elem {
                    Elem::Literal(v, l) => (None, v.clone(), *l),
                    Elem::WithPath(p, v, l) => (Some(p.clone()), v.clone(), *l),
                    Elem::Skipped(why) => {
                        skip(why, 1);
                        continue;
                    }
                };
                let Some(in_config) = config_rules.get(&rule) else {
                    skip("rule not in the configuration", 1);
                    continue;
                };
                if !in_config.regex {
                    skip(
                        "path-only rule (reports file names; keyhound does not load these)",
                        1,
                    );
                    continue;
                }
                if path.as_deref().is_some_and(|p| safe_relative(p).is_none()) {
                    skip(SKIP_BAD_PATH, 1);
                    continue;
                }
                if in_config.path && path.is_none() {
                    // gitleaks' Validate gives no path, so a path-scoped rule finds nothing.
                    skip("path-scoped rule checked without a path", 1);
                    continue;
                }
                examples.push(Example {
                    rule: rule.clone(),
                    kind,
                    path,
                    value,
                    origin: format!("{}:{line}", source.file),
                });
            }
        }
    }
    let literal_tps = examples.iter().filter(|e| e.kind == Kind::Tp).count();
    assert!(
        literal_tps >= MIN_LITERAL_TPS,
        "only {literal_tps} literal true positives read from {}: the Go reader is broken",
        rules_dir.display()
    );

    // One directory per example, scanned at once.
    let dir = tempfile::Builder::new()
        .prefix("gitleaks-examples-")
        .tempdir()
        .expect("a temporary directory");
    let root = dir.path().canonicalize().expect("the temporary directory");
    let slot = |i: usize| format!("ex{i:05}");
    for (i, example) in examples.iter().enumerate() {
        let name = example.path.as_deref().unwrap_or("example.txt");
        let file = root.join(slot(i)).join(name);
        std::fs::create_dir_all(file.parent().expect("a parent")).expect("a directory");
        std::fs::write(&file, &example.value).expect("the example is written");
    }
    let run = common::run(
        common::keyhound()
            .timeout(Duration::from_secs(300))
            .arg("scan")
            .arg("--rules")
            .arg(&config)
            .args(["-f", "json", "--max-decode-depth", "0"])
            // As gitleaks' Validate reads the example: as text, whatever its bytes.
            .args(["--scan-binary", "--max-archive-depth", "0"])
            .arg(&root),
    );
    assert!(
        matches!(run.code, Some(0 | 1)),
        "keyhound failed (status {:?}):\n{}",
        run.code,
        run.stderr
    );
    let report = run.json();
    let scanned = report["summary"]["files_scanned"].as_u64().unwrap_or(0);
    assert_eq!(
        scanned,
        examples.len() as u64,
        "every example file is scanned; skipped: {}\nstderr:\n{}",
        report["summary"]["skipped"],
        run.stderr
    );

    // Example index → the rules that reported something in its file.
    let mut found: HashMap<usize, BTreeSet<String>> = HashMap::new();
    let index_of = |path: &str| -> Option<usize> {
        let rel = Path::new(path).strip_prefix(&root).ok()?;
        let first = rel.components().next()?.as_os_str().to_str()?;
        first.strip_prefix("ex")?.parse().ok()
    };
    for finding in report["findings"].as_array().expect("a findings array") {
        let rule = finding["rule_id"].as_str().expect("a rule id").to_string();
        let paths = std::iter::once(&finding["path"]).chain(
            finding["locations"]
                .as_array()
                .map(|l| l.iter().map(|loc| &loc["path"]).collect::<Vec<_>>())
                .unwrap_or_default(),
        );
        for path in paths.filter_map(Value::as_str) {
            let i =
                index_of(path).unwrap_or_else(|| panic!("a finding outside the examples: {path}"));
            found.entry(i).or_default().insert(rule.clone());
        }
    }

    // Tally per rule, and the misses.
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut misses: Vec<String> = Vec::new();
    for (i, example) in examples.iter().enumerate() {
        let hit = found
            .get(&i)
            .is_some_and(|rules| rules.contains(&example.rule));
        let tally = tallies.entry(&example.rule).or_default();
        let file = example.path.as_deref().unwrap_or("example.txt");
        let shown = if show {
            full(&example.value)
        } else {
            redacted(&example.value)
        };
        match example.kind {
            Kind::Tp => {
                tally.tps += 1;
                if hit {
                    tally.tps_found += 1;
                } else {
                    misses.push(format!(
                        "  tp not found  {:<36} {:<26} {file}: {shown}",
                        example.rule, example.origin
                    ));
                }
            }
            Kind::Fp => {
                tally.fps += 1;
                if hit {
                    misses.push(format!(
                        "  fp reported   {:<36} {:<26} {file}: {shown}",
                        example.rule, example.origin
                    ));
                } else {
                    tally.fps_clean += 1;
                }
            }
        }
    }

    let sum = |f: fn(&Tally) -> usize| tallies.values().map(f).sum::<usize>();
    let (tps, tps_found, fps, fps_clean) = (
        sum(|t| t.tps),
        sum(|t| t.tps_found),
        sum(|t| t.fps),
        sum(|t| t.fps_clean),
    );
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    let mut table = String::new();
    table.push_str(&format!(
        "\ngitleaks examples: {} rules of {} in {}; sources {}\n\n",
        tallies.len(),
        config_rules.len(),
        config.display(),
        rules_dir.display()
    ));
    table.push_str(&format!(
        "{:<40} {:>12} {:>12}\n",
        "rule", "tps found", "fps clean"
    ));
    let cell = |a: usize, b: usize| {
        if b == 0 {
            "-".to_string()
        } else {
            format!("{a}/{b}")
        }
    };
    for (rule, t) in &tallies {
        let flag = if t.tps_found < t.tps || t.fps_clean < t.fps {
            "  <-"
        } else {
            ""
        };
        table.push_str(&format!(
            "{rule:<40} {:>12} {:>12}{flag}\n",
            cell(t.tps_found, t.tps),
            cell(t.fps_clean, t.fps)
        ));
    }
    table.push_str(&format!(
        "{:<40} {:>12} {:>12}\n",
        "TOTAL",
        cell(tps_found, tps),
        cell(fps_clean, fps)
    ));
    table.push_str(&format!(
        "\ntrue positives found: {tps_found}/{tps} ({:.1}%, floor {:.0}%)\n\
         false positives clean: {fps_clean}/{fps} ({:.1}%, floor {:.0}%)\n\
         rules with literal true positives checked: {}; with literal examples checked: {}\n",
        100.0 * ratio(tps_found, tps),
        100.0 * MIN_TPS_FOUND,
        100.0 * ratio(fps_clean, fps),
        100.0 * MIN_FPS_CLEAN,
        tallies.values().filter(|t| t.tps > 0).count(),
        tallies.len(),
    ));
    table.push_str(&format!("\nmisses ({}):\n", misses.len()));
    for miss in &misses {
        table.push_str(miss);
        table.push('\n');
    }
    table.push_str("\nexamples not checked, by reason:\n");
    for (why, n) in &skipped {
        table.push_str(&format!("  {n:>5}  {why}\n"));
    }
    let without: Vec<&str> = config_rules
        .keys()
        .filter(|id| !tallies.contains_key(id.as_str()))
        .map(String::as_str)
        .collect();
    table.push_str(&format!(
        "\nrules of the configuration with no literal example ({}): {}\n",
        without.len(),
        without.join(", ")
    ));
    eprintln!("{table}");

    // Every rule of the configuration with a literal true positive in the sources had one
    // checked: only path-only rules, which keyhound does not load, are exempt.
    let with_literal_tps: BTreeSet<&str> = sources
        .iter()
        .filter(|s| {
            s.tps
                .iter()
                .any(|e| matches!(e, Elem::Literal(..) | Elem::WithPath(..)))
        })
        .flat_map(|s| s.rule_ids.iter().map(String::as_str))
        .filter(|id| config_rules.get(*id).is_some_and(|r| r.regex))
        .collect();
    let unchecked: Vec<&str> = with_literal_tps
        .iter()
        .copied()
        .filter(|rule| tallies.get(rule).is_none_or(|t| t.tps == 0))
        .collect();
    assert!(
        unchecked.is_empty(),
        "rules with literal true positives of which none was checked: {unchecked:?}"
    );
    for (what, measured, floor) in [
        ("true positives found", ratio(tps_found, tps), MIN_TPS_FOUND),
        (
            "false positives clean",
            ratio(fps_clean, fps),
            MIN_FPS_CLEAN,
        ),
    ] {
        if measured > floor + 0.03 {
            eprintln!(
                "note: {what} is {:.1}%, well above its floor of {:.0}%: raise the floor",
                100.0 * measured,
                100.0 * floor
            );
        }
    }
    assert!(
        ratio(tps_found, tps) >= MIN_TPS_FOUND,
        "true positives found fell to {tps_found}/{tps}, below {:.0}%: see the misses above",
        100.0 * MIN_TPS_FOUND
    );
    assert!(
        ratio(fps_clean, fps) >= MIN_FPS_CLEAN,
        "false positives clean fell to {fps_clean}/{fps}, below {:.0}%: see the misses above",
        100.0 * MIN_FPS_CLEAN
    );
}

/// The Go reader on a file written to exercise it: runs everywhere (no gitleaks checkout).
#[test]
fn go_reader_keeps_literals_of_each_rule_function() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let go = r#"package rules

var shared = []string{`shared one`, "shared\ttwo"}

func A() *config.Rule {
	r := config.Rule{
		RuleID: "rule-a",
		Regex:  regexp.MustCompile(`a{3}`),
	}
	tps := utils.GenerateSampleSecrets("a", "aaa")
	tps = append(tps,
		"esc\n\t\"\\\x41\u00e9\101", // a comment, "not a literal"
		`raw
with "quotes" and \n`,
		"con" + `cat`,
		"x" + secrets.NewSecret("[a-z]{3}"),
		fmt.Sprintf("%s", "y"),
		someVar,
	)
	fps := append(shared, []string{"fp one"}...)
	return utils.Validate(r, tps, fps)
}

/* a block comment: func C() { RuleID: "not-a-rule" } */
func B() *config.Rule {
	r := config.Rule{RuleID: "rule-b", Path: regexp.MustCompile(`\.tf$`)}
	tps := map[string]string{
		"dir/file.tf": "b = 1",
	}
	return utils.ValidateWithPaths(r, tps, nil)
}
"#;
    std::fs::write(dir.path().join("x.go"), go).expect("the Go file is written");
    let sources = read_rule_sources(dir.path());
    assert_eq!(sources.len(), 2, "{sources:#?}");
    let literals = |elems: &[Elem]| -> Vec<String> {
        elems
            .iter()
            .filter_map(|e| match e {
                Elem::Literal(v, _) => Some(String::from_utf8_lossy(v).into_owned()),
                Elem::WithPath(p, v, _) => Some(format!("{p}: {}", String::from_utf8_lossy(v))),
                Elem::Skipped(..) => None,
            })
            .collect()
    };
    let skipped = |elems: &[Elem]| -> Vec<&'static str> {
        elems
            .iter()
            .filter_map(|e| match e {
                Elem::Skipped(why) => Some(*why),
                _ => None,
            })
            .collect()
    };
    let a = &sources[0];
    assert_eq!(a.rule_ids, ["rule-a"]);
    assert_eq!(
        literals(&a.tps),
        ["esc\n\t\"\\A\u{e9}A", "raw\nwith \"quotes\" and \\n"]
    );
    assert_eq!(
        skipped(&a.tps),
        [
            SKIP_GENERATED,
            SKIP_CONCAT_LITERALS,
            SKIP_CONCAT,
            SKIP_CALL,
            SKIP_VARIABLE
        ]
    );
    assert_eq!(literals(&a.fps), ["shared one", "shared\ttwo", "fp one"]);
    assert!(matches!(a.tps[1], Elem::Literal(_, 12)), "{:?}", a.tps[1]);
    let b = &sources[1];
    assert_eq!(b.rule_ids, ["rule-b"]);
    assert_eq!(literals(&b.tps), ["dir/file.tf: b = 1"]);
    assert!(b.fps.is_empty());

    // Raw strings drop carriage returns; a bad escape is reported, not guessed.
    let tokens = tokenize(b"`a\r\nb` \"bad \\q\"");
    assert_eq!(tokens[0].tok, Tok::Str(Some(b"a\nb".to_vec())));
    assert_eq!(tokens[1].tok, Tok::Str(None));
}
