//! Shared pieces of the command-line tests: running the binary, reading its reports, the
//! expected findings of `fixtures/`, fake credentials and inputs with credentials planted at
//! known byte offsets.

pub mod http;
pub mod repo;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

/// The crate root: the tests run the binary from here and scan the relative path `fixtures`.
pub fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `keyhound` run from the crate root, with logging at its default level and a timeout so a
/// blocking read fails the test instead of hanging it.
pub fn keyhound() -> Command {
    let mut cmd = Command::cargo_bin("keyhound").expect("the keyhound binary is built");
    cmd.current_dir(crate_root())
        .env_remove("KEYHOUND_LOG")
        .env_remove("NO_COLOR")
        .timeout(Duration::from_secs(60));
    cmd
}

/// `keyhound` run from `dir`.
pub fn keyhound_in(dir: &Path) -> Command {
    let mut cmd = keyhound();
    cmd.current_dir(dir);
    cmd
}

/// What one run of the binary produced.
pub struct Run {
    /// Exit status; `None` when the process was killed (for example by the timeout).
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// The stdout as JSON Lines.
    pub fn jsonl(&self) -> Vec<Value> {
        parse_jsonl(&self.stdout)
    }

    /// The stdout as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout_text(),
                self.stderr
            )
        })
    }

    /// Panics with the whole run shown unless the exit status is `code`.
    #[track_caller]
    /// Every place a JSON report gives for the key pair whose key ID is `key_id`, sorted.
    pub fn places_of(&self, key_id: &str) -> Vec<String> {
        let mut found = Vec::new();
        for finding in self.json()["findings"].as_array().unwrap() {
            if finding["pair"]["key_id"] == key_id {
                for place in finding["locations"].as_array().unwrap() {
                    found.push(place["path"].as_str().unwrap().to_string());
                }
            }
        }
        found.sort();
        found
    }

    /// The inputs a JSON report lists as skipped, as (path, category).
    pub fn skipped(&self) -> Vec<(String, String)> {
        self.json()["summary"]["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let text = |k: &str| s[k].as_str().unwrap_or_default().to_string();
                (text("path"), text("category"))
            })
            .collect()
    }

    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit status\nstdout:\n{}\nstderr:\n{}",
            self.stdout_text(),
            self.stderr
        );
        self
    }
}

/// Runs `cmd` to completion (or its timeout).
pub fn run(cmd: &mut Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("keyhound runs");
    Run {
        code: status.code(),
        stdout,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Runs `keyhound scan ARGS --format jsonl` from the crate root.
pub fn scan_jsonl(args: &[&str]) -> Run {
    run(keyhound()
        .arg("scan")
        .args(args)
        .args(["--format", "jsonl"]))
}

pub fn parse_jsonl(bytes: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(bytes).expect("JSON Lines output is UTF-8");
    text.lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
        })
        .collect()
}

/// A finding reduced to what the expectations pin: path, line, column, rule and confidence.
/// Path, line, column, rule, confidence, and for a key pair the line and column of its key ID.
pub type Located = (String, u64, u64, String, String, Option<(u64, u64)>);

pub fn located(finding: &Value) -> Located {
    (
        str_field(finding, "path"),
        u64_field(finding, "line"),
        u64_field(finding, "column"),
        str_field(finding, "rule_id"),
        str_field(finding, "confidence"),
        finding["pair"]["line"]
            .as_u64()
            .zip(finding["pair"]["column"].as_u64()),
    )
}

/// Every value a list of findings reports: each finding's secret, and the key ID of each key
/// pair finding.
pub fn reported_values(findings: &[Value]) -> BTreeSet<String> {
    findings
        .iter()
        .flat_map(|f| {
            let key_id = f["pair"]["key_id"].as_str().map(str::to_string);
            std::iter::once(str_field(f, "secret")).chain(key_id)
        })
        .collect()
}

pub fn str_field(value: &Value, name: &str) -> String {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("`{name}` is not a string in {value}"))
        .to_string()
}

pub fn u64_field(value: &Value, name: &str) -> u64 {
    value[name]
        .as_u64()
        .unwrap_or_else(|| panic!("`{name}` is not a number in {value}"))
}

/// The entries of `fixtures/expected.jsonl`: a finding's place, rule and confidence, and for
/// a value found encoded, also its end, its decode chain and the decoded value.
pub fn expected_fixture_entries() -> Vec<Value> {
    let text = std::fs::read_to_string(crate_root().join("fixtures/expected.jsonl"))
        .expect("fixtures/expected.jsonl is readable");
    parse_jsonl(text.as_bytes())
}

/// The decoded value of an entry of `fixtures/expected.jsonl`, kept there in hex so that the
/// list itself holds no key.
pub fn decoded_value(entry: &Value) -> String {
    let hex = str_field(entry, "value_hex");
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("value_hex is hex"))
        .collect();
    String::from_utf8(bytes).expect("value_hex is UTF-8")
}

/// The findings listed in `fixtures/expected.jsonl`.
pub fn expected_fixture_findings() -> BTreeSet<Located> {
    expected_fixture_entries().iter().map(located).collect()
}

/// Rules whose values are secrets (redacted unless `--show-secrets`), with the characters their
/// values are made of.
const SECRET_RULES: &[(&str, &str)] = &[
    ("aws-secret-access-key", "/+"),
    ("aws-access-key-pair", "/+"),
    ("aws-session-token", "/+="),
    ("aws-bedrock-api-key", "/+="),
    ("aws-mws-auth-token", ".-"),
];

/// Every secret value planted in `fixtures/` (secret access keys, session tokens, Bedrock keys
/// and MWS tokens), read from the fixture files at the locations `expected.jsonl` gives, so the
/// list does not depend on what the scanner reports.
pub fn fixture_secrets() -> Vec<(String, String)> {
    let mut out = Vec::new();
    // Encoded values are listed with their decoding; the file holds only the encoded form.
    // (Key IDs are shown by design, encoded or not.)
    for entry in expected_fixture_entries() {
        let rule = str_field(&entry, "rule_id");
        if entry.get("value_hex").is_some() && SECRET_RULES.iter().any(|(id, _)| *id == rule) {
            out.push((rule, decoded_value(&entry)));
        }
    }
    let decoded: BTreeSet<Located> = expected_fixture_entries()
        .iter()
        .filter(|e| e.get("decoded").is_some())
        .map(located)
        .collect();
    for (path, line, column, rule, confidence, pair) in expected_fixture_findings() {
        if decoded.contains(&(path.clone(), line, column, rule.clone(), confidence, pair)) {
            continue;
        }
        let Some((_, extra)) = SECRET_RULES.iter().find(|(id, _)| *id == rule) else {
            continue;
        };
        let bytes = std::fs::read(crate_root().join(&path)).expect("fixture is readable");
        let text = String::from_utf8_lossy(&bytes);
        let line_text = text
            .split('\n')
            .nth(line as usize - 1)
            .unwrap_or_else(|| panic!("{path} has no line {line}"));
        let value: String = line_text
            .chars()
            .skip(column as usize - 1)
            .take_while(|c| c.is_ascii_alphanumeric() || extra.contains(*c))
            .collect();
        assert!(
            value.len() >= 40,
            "no secret at {path}:{line}:{column}: {value:?}"
        );
        if rule == "aws-secret-access-key" || rule == "aws-access-key-pair" {
            assert_eq!(value.len(), 40, "{path}:{line}:{column}: {value:?}");
        }
        out.push((rule, value));
    }
    out
}

/// Deterministic fake credentials: well-formed, random-looking, never real.
pub struct Fakes(u64);

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/// Substrings a fake must not contain by chance, so it cannot trip another rule's keyword.
const KEYWORDS: &[&str] = &[
    "akia",
    "asia",
    "abia",
    "acca",
    "a3t",
    "aida",
    "aroa",
    "agpa",
    "aipa",
    "anpa",
    "anva",
    "apka",
    "asca",
    "secret",
    "token",
    "iqojb3",
    "gzxivyxdz",
    "example",
    "bedrock",
    "amzn",
];

impl Fakes {
    pub fn new(seed: u64) -> Fakes {
        Fakes(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// xorshift64*.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// `len` characters drawn from `alphabet`.
    pub fn string(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| alphabet[self.below(alphabet.len())] as char)
            .collect()
    }

    /// An access key ID (or principal ID) with the given four-letter prefix.
    pub fn key_id(&mut self, prefix: &str) -> String {
        loop {
            let tail = self.string(BASE32, 16);
            let id = format!("{prefix}{tail}");
            if clean(&tail) && entropy(id.as_bytes()) >= 3.3 {
                return id;
            }
        }
    }

    /// An access key ID with the given prefix that encodes `account` (the bits AWS uses:
    /// see `aws::account_id`).
    pub fn key_id_of_account(&mut self, prefix: &str, account: u64) -> String {
        loop {
            let z = (1u64 << 47) | (account << 7) | (self.next_u64() & 0x7f);
            let value = (u128::from(z) << 32) | u128::from(self.next_u64() as u32);
            let tail: String = (0..16)
                .rev()
                .map(|i| BASE32[((value >> (5 * i)) & 31) as usize] as char)
                .collect();
            let id = format!("{prefix}{tail}");
            if clean(&tail) && entropy(id.as_bytes()) >= 3.3 {
                return id;
            }
        }
    }

    /// A 40-character secret access key mixing upper case, lower case and digits.
    pub fn secret_key(&mut self) -> String {
        loop {
            let s = self.string(BASE64, 40);
            let has = |f: fn(&char) -> bool| s.chars().any(|c| f(&c));
            if has(char::is_ascii_uppercase)
                && has(char::is_ascii_lowercase)
                && has(char::is_ascii_digit)
                && clean(&s)
                && entropy(s.as_bytes()) >= 4.4
            {
                return s;
            }
        }
    }

    /// An STS session token.
    pub fn session_token(&mut self) -> String {
        loop {
            let tail = self.string(BASE64, 300);
            if clean(&tail) {
                return format!("IQoJb3JpZ2luX2Vj{tail}");
            }
        }
    }
}

fn clean(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    !KEYWORDS.iter().any(|k| lower.contains(k))
}

/// Shannon entropy in bits per byte.
pub fn entropy(bytes: &[u8]) -> f64 {
    let mut counts = [0usize; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// One credential planted in a generated input.
#[derive(Debug, Clone)]
pub struct Plant {
    pub rule: &'static str,
    pub confidence: &'static str,
    pub value: String,
    /// Byte offset of the value's first byte.
    pub offset: usize,
    /// Whether the value is a finding of its own; a key ID next to its secret is reported
    /// inside the key pair finding instead.
    pub own_finding: bool,
}

/// What a finding is compared on when the same input is scanned in different ways:
/// rule, line, column, end line, end column, byte offset, value and confidence.
pub type Exact = (String, u64, u64, u64, u64, u64, String, String);

pub fn exact(finding: &Value) -> Exact {
    (
        str_field(finding, "rule_id"),
        u64_field(finding, "line"),
        u64_field(finding, "column"),
        u64_field(finding, "end_line"),
        u64_field(finding, "end_column"),
        u64_field(finding, "offset"),
        str_field(finding, "secret"),
        str_field(finding, "confidence"),
    )
}

/// Builds a text input of filler log lines with credentials planted where asked: a profile in
/// INI form (key ID, secret and session token on consecutive lines) or a key ID in the middle of
/// a line of several kilobytes. Filler holds non-ASCII characters, so columns and byte offsets
/// differ.
pub struct Planter {
    pub buf: Vec<u8>,
    pub plants: Vec<Plant>,
    fakes: Fakes,
    counter: u64,
}

/// Which value of a planted profile should cover a given offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    KeyId,
    Secret,
    Token,
}

impl Planter {
    pub fn new(seed: u64) -> Planter {
        Planter {
            buf: Vec::new(),
            plants: Vec::new(),
            fakes: Fakes::new(seed),
            counter: 0,
        }
    }

    fn filler_line(&mut self) -> String {
        self.counter += 1;
        let n = self.counter;
        format!(
            "2024-04-02T09:{:02}:{:02}Z INFO worker-{} handled GET /items/{} in {}ms (café naïve ☕)\n",
            n % 60,
            (n / 60) % 60,
            n % 16,
            n * 7,
            n % 997
        )
    }

    /// Appends filler so the next byte lands exactly at `target` (which must not be behind).
    pub fn fill_to(&mut self, target: usize) {
        assert!(target >= self.buf.len(), "cannot fill backwards");
        while target - self.buf.len() > 120 {
            let line = self.filler_line();
            self.buf.extend_from_slice(line.as_bytes());
        }
        let rest = target - self.buf.len();
        if rest > 0 {
            self.buf.extend(std::iter::repeat_n(b'#', rest - 1));
            self.buf.push(b'\n');
        }
    }

    /// Appends filler lines up to about `len` bytes.
    pub fn fill_lines(&mut self, len: usize) {
        while self.buf.len() < len {
            let line = self.filler_line();
            self.buf.extend_from_slice(line.as_bytes());
        }
    }

    /// Plants an INI profile with a key ID, a secret and a session token; with `straddle`, the
    /// chosen value covers that byte offset. Returns false (planting nothing) when the offset is
    /// already behind.
    pub fn profile(&mut self, straddle: Option<(usize, Part)>) -> bool {
        let id = self.fakes.key_id("ASIA");
        let secret = self.fakes.secret_key();
        let token = self.fakes.session_token();
        let head = format!("[profile-{}]\naws_access_key_id = ", self.counter);
        let secret_name = "\naws_secret_access_key = ";
        let token_name = "\naws_session_token = ";
        let id_at = head.len();
        let secret_at = id_at + id.len() + secret_name.len();
        let token_at = secret_at + secret.len() + token_name.len();
        if let Some((target, part)) = straddle {
            let rel = match part {
                Part::KeyId => id_at + id.len() / 2,
                Part::Secret => secret_at + secret.len() / 2,
                Part::Token => token_at + token.len() / 2,
            };
            if target < self.buf.len() + rel {
                return false;
            }
            self.fill_to(target - rel);
        }
        let start = self.buf.len();
        self.buf.extend_from_slice(
            format!("{head}{id}{secret_name}{secret}{token_name}{token}\n").as_bytes(),
        );
        // The ID and the secret on consecutive lines are one key pair finding, at the secret.
        for (rule, value, at, own_finding) in [
            ("aws-access-key-id", id, id_at, false),
            ("aws-access-key-pair", secret, secret_at, true),
            ("aws-session-token", token, token_at, true),
        ] {
            self.plants.push(Plant {
                rule,
                confidence: "high",
                value,
                offset: start + at,
                own_finding,
            });
        }
        true
    }

    /// Plants a key ID in the middle of a line of `len` bytes; with `straddle`, the ID covers
    /// that byte offset. Returns false (planting nothing) when the offset is already behind.
    pub fn long_line(&mut self, len: usize, straddle: Option<usize>) -> bool {
        // A plain line first, so no key name on the line before raises the ID's confidence.
        let line = self.filler_line();
        self.buf.extend_from_slice(line.as_bytes());
        let id = self.fakes.key_id("AKIA");
        let mut before = String::from("trace=");
        let mut i = 0;
        while before.len() < len / 2 {
            before.push_str(&format!("span{i}=ok dur={}ms café ", i % 13));
            i += 1;
        }
        let mut after = String::from(" ");
        while before.len() + id.len() + after.len() < len {
            after.push_str(&format!("step{i} naïve ok; "));
            i += 1;
        }
        let rel = before.len();
        if let Some(target) = straddle {
            if target < self.buf.len() + rel + id.len() / 2 {
                return false;
            }
            self.fill_to(target - rel - id.len() / 2);
        }
        let start = self.buf.len();
        self.buf
            .extend_from_slice(format!("{before}{id}{after}\n").as_bytes());
        self.plants.push(Plant {
            rule: "aws-access-key-id",
            confidence: "medium",
            value: id,
            offset: start + rel,
            own_finding: true,
        });
        true
    }

    /// The expected findings: each plant with its line, column, end and offset.
    pub fn expected(&self) -> Vec<Exact> {
        let mut plants: Vec<Plant> = self
            .plants
            .iter()
            .filter(|p| p.own_finding)
            .cloned()
            .collect();
        plants.sort_by_key(|p| p.offset);
        let mut out = Vec::new();
        let (mut pos, mut line, mut line_start) = (0usize, 1u64, 0usize);
        for plant in plants {
            for (i, &b) in self.buf[pos..plant.offset].iter().enumerate() {
                if b == b'\n' {
                    line += 1;
                    line_start = pos + i + 1;
                }
            }
            pos = plant.offset;
            let column = String::from_utf8_lossy(&self.buf[line_start..plant.offset])
                .chars()
                .count() as u64
                + 1;
            let end_column = column + plant.value.chars().count() as u64 - 1;
            out.push((
                plant.rule.to_string(),
                line,
                column,
                line,
                end_column,
                plant.offset as u64,
                plant.value.clone(),
                plant.confidence.to_string(),
            ));
        }
        out.sort();
        out
    }

    /// Whether some planted value covers a byte offset `b` with `b > offset` (so a chunk
    /// boundary there splits it).
    pub fn splits_at(&self, b: usize) -> bool {
        self.plants
            .iter()
            .any(|p| p.offset < b && b < p.offset + p.value.len())
    }
}

/// The system calls that open or use a network socket, as strace names them.
const NETWORK_CALLS: &str = "socket,socketpair,connect,sendto,sendmsg,bind,listen";

/// Runs `keyhound ARGS` under strace, expecting exit status `code`, and returns the network
/// calls it made (`None` where strace is missing and not required).
pub fn network_calls(dir: &std::path::Path, args: &[&str], code: i32) -> Option<String> {
    if std::process::Command::new("strace")
        .arg("-V")
        .output()
        .is_err()
    {
        // CI installs strace and sets this, so the check cannot be skipped there.
        assert!(
            std::env::var_os("KEYHOUND_REQUIRE_STRACE").is_none(),
            "strace is needed for the no-network test"
        );
        eprintln!("strace is not installed: the no-network check did not run");
        return None;
    }
    let trace = dir.join("trace.txt");
    let status = std::process::Command::new("strace")
        .args(["-f", "-qq", "-e", "signal=none", "-e"])
        .arg(format!("trace={NETWORK_CALLS}"))
        .arg("-o")
        .arg(&trace)
        .arg(assert_cmd::cargo::cargo_bin("keyhound"))
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("strace runs");
    assert_eq!(status.code(), Some(code), "keyhound {args:?} under strace");
    Some(std::fs::read_to_string(trace).expect("strace wrote its trace"))
}

/// Whether the archiver `tool` (`zip`, `jar`, `bsdtar`, …) is on the PATH. Where CI asks for
/// every archiver (`KEYHOUND_REQUIRE_ARCHIVERS`) a missing one fails the test; elsewhere the
/// test says it did not run that part.
pub fn archiver_installed(tool: &str) -> bool {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("KEYHOUND_REQUIRE_ARCHIVERS").is_none(),
            "{tool} is not installed (Debian: zip, fastjar, libarchive-tools, a JDK for jar)"
        );
        eprintln!("skipped: {tool} is not installed");
    }
    found
}
