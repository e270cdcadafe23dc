//! Findings: validated matches with their location, rule metadata and a stable fingerprint.
//!
//! A finding keeps the raw secret (reporters need it for `--show-secrets`), but every way of
//! showing it goes through [`Finding::shown_secret`] and [`Finding::shown_snippet`], which
//! redact unless asked not to.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::decode::Encoding;
use crate::lines::{count_chars, count_newlines};
use crate::matcher::{RawMatch, Rejection};
use crate::rules::{Confidence, RuleSet, Severity};
pub use crate::source::git::{CommitInfo, GitProvenance};
use crate::source::{Chunk, Origin};

/// How many characters of the line a snippet keeps on each side of the secret.
const SNIPPET_REACH: usize = 80;

/// Fingerprint scheme name, as used in SARIF `partialFingerprints`.
pub const FINGERPRINT_VERSION: &str = "keyhound/v1";

/// One reported secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule_id: String,
    pub rule_name: String,
    pub severity: Severity,
    pub confidence: Confidence,
    /// Kind of credential from its prefix (`long-term`, `temporary`, ...), where the rule knows.
    pub kind: Option<String>,
    /// The raw secret; shown only through [`Finding::shown_secret`].
    pub secret: String,
    /// Whether the rule's secrets are hidden by default.
    pub redact: bool,
    pub origin: Origin,
    /// Location of the secret's first and last character (1-based lines and columns, columns
    /// counted in Unicode characters; the end column is inclusive).
    pub location: Location,
    /// The text of the line around the secret.
    pub snippet: String,
    /// Where secrets are in the snippet (this one and any other on the line) that outputs hide
    /// unless asked to show them; `true` marks a secret cut off at the snippet's edge.
    pub snippet_hidden: Vec<(Range<usize>, bool)>,
    /// Hash of rule id, secret and path: stable when lines move, free of the secret.
    pub fingerprint: String,
    /// Where the secret sits in git history, for findings from git sources.
    pub git: Option<GitProvenance>,
    /// The AWS account an access key ID belongs to, decoded from the ID itself.
    pub aws_account: Option<AwsAccount>,
    /// The allow marker on the secret's line, if any (see [`ALLOW_MARKERS`]).
    pub allow_marker: Option<&'static str>,
    /// For a key pair: the access key ID that goes with this secret.
    pub pair: Option<PairedKey>,
    /// With `--baseline`: whether the finding is new or already in the baseline.
    pub baseline: Option<BaselineState>,
    /// For a candidate the matcher rejected (`--explain`): why. Such a finding is never reported.
    pub rejection: Option<Rejection>,
    /// For a secret found encoded: the decodings that revealed it, outermost first (empty for
    /// a plain one). `location` is then the encoded region.
    pub decoded: Vec<Encoding>,
    /// With `--verify`: what AWS said of the credential (see [`crate::verify`]).
    pub verification: Option<Verification>,
    /// For a finding read back from a JSON report (`keyhound merge`): `secret` and `snippet`
    /// hold what the report showed (redacted when `redact`), and this what stands for the
    /// secret. None for every finding a scan makes.
    pub restored: Option<Restored>,
    /// For a secret in a layer of a container image: the layer, and whether the final image
    /// still holds the file.
    pub image: Option<ImageProvenance>,
    /// Which `AND` allowlists of its rule had their text conditions hold in the matcher; their
    /// path and commit conditions are checked once the finding's paths and commit are known.
    pub content_allowed: crate::rules::allow::ContentAllowed,
}

/// Where in a container image a secret sits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageProvenance {
    #[serde(flatten)]
    pub layer: crate::source::image::Layer,
    /// `false` when a later layer deletes the file: the secret is not in the final image's file
    /// system but still ships in the layer below, to everyone who pulls the image.
    pub in_final_image: bool,
}

/// What a finding read back from a report keeps in place of its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The report's `secret_id`: see [`Finding::secret_id`].
    pub secret_id: String,
}

/// What live verification learned of one credential, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    #[serde(flatten)]
    pub status: VerificationStatus,
    /// When AWS answered (or keyhound gave up), RFC 3339 UTC.
    pub checked_at: String,
    /// What a live key may do, read from its own policies (`--analyze`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Access>,
}

/// What a live key may do, as far as it could read its own IAM policies with read-only calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// The ARN the key acts as.
    pub principal: String,
    /// A policy read grants every action on every resource (or the key is the root user's).
    pub administrator: bool,
    /// For each high-impact action checked, what the policies read say.
    pub actions: std::collections::BTreeMap<String, Decision>,
    /// The policies read, each with where it applies from.
    pub policies: Vec<String>,
    /// The calls the key was refused, or that failed: policies that may exist unseen.
    pub not_visible: Vec<String>,
    /// The AWS quarantine policy attached to the key's user, if AWS has quarantined it.
    pub quarantined: Option<String>,
    /// Where IAM's policy simulator, asked with the key, disagrees with the policies read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disagreements: Vec<String>,
    /// The short form reports show: "administrator", "can read S3 objects and create access
    /// keys".
    pub summary: String,
}

impl Access {
    /// What the key may do, in a line: the summary, and AWS's quarantine when it is there.
    pub fn describe(&self) -> String {
        match &self.quarantined {
            Some(policy) => format!(
                "{}; AWS has already quarantined it ({policy} is attached)",
                self.summary
            ),
            None => self.summary.clone(),
        }
    }
}

/// What a principal's policies say of one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Allowed on every resource, unconditionally.
    Allowed,
    /// Allowed only on some resources or under conditions, or allowed but possibly denied by a
    /// conditional or resource-limited `Deny`.
    Conditional,
    /// Explicitly denied, or allowed by no statement.
    Denied,
    /// Not every policy of the principal could be read, and those read do not deny it outright.
    Unknown,
}

impl Decision {
    /// The decision as reports name it (as in the JSON report).
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::Conditional => "conditional",
            Decision::Denied => "denied",
            Decision::Unknown => "unknown",
        }
    }
}

/// The outcome of verifying one credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum VerificationStatus {
    /// AWS accepted the credential and said whose it is.
    Live {
        arn: String,
        account: String,
        user_id: String,
    },
    /// No such key, or it was deactivated or deleted (`InvalidClientTokenId`).
    Invalid,
    /// The key ID exists, but the secret found is not its pair (`SignatureDoesNotMatch`).
    WrongSecret,
    /// Temporary credentials past their expiry (`ExpiredToken`).
    Expired,
    /// No answer keyhound can trust: a network error, a timeout, throttling or a server error
    /// after retries, or a reply it cannot read.
    Unknown { reason: String },
    /// Not sent, and why.
    Skipped { reason: String },
}

impl VerificationStatus {
    /// The status as reports name it.
    pub fn as_str(&self) -> &'static str {
        match self {
            VerificationStatus::Live { .. } => "live",
            VerificationStatus::Invalid => "invalid",
            VerificationStatus::WrongSecret => "wrong-secret",
            VerificationStatus::Expired => "expired",
            VerificationStatus::Unknown { .. } => "unknown",
            VerificationStatus::Skipped { .. } => "skipped",
        }
    }
}

/// Whether a finding was already in the baseline a scan was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineState {
    New,
    Unchanged,
}

impl Finding {
    /// Whether this finding fails a scan: not a documentation example, not accepted in a
    /// baseline.
    pub fn fails_scan(&self) -> bool {
        self.confidence.fails_scan() && self.baseline != Some(BaselineState::Unchanged)
    }
}

/// The key ID of a key pair finding, and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairedKey {
    pub key_id: String,
    pub line: u64,
    pub column: u64,
    /// Byte offset of the key ID's first byte.
    pub offset: u64,
}

/// Comments that mark a line's secret as not a leak. Besides keyhound's own, the markers of
/// gitleaks and detect-secrets are honoured, so annotations survive a move to keyhound.
pub const ALLOW_MARKERS: [&str; 3] = [
    "keyhound:allow",
    "gitleaks:allow",
    "pragma: allowlist secret",
];

/// The first allow marker on `line`.
fn allow_marker(line: &[u8]) -> Option<&'static str> {
    ALLOW_MARKERS
        .into_iter()
        .find(|marker| memchr::memmem::find(line, marker.as_bytes()).is_some())
}

/// An AWS account, and the name `--accounts` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AwsAccount {
    /// 12 digits.
    pub id: String,
    pub name: Option<String>,
    /// The canary-token service that owns the account: its keys exist to raise an alarm when
    /// used (see [`crate::aws::canary_service`]).
    pub canary: Option<&'static str>,
}

impl AwsAccount {
    /// The account with this 12-digit id, knowing whether it hands out canary tokens.
    pub fn new(id: String) -> AwsAccount {
        AwsAccount {
            canary: crate::aws::canary_service(&id),
            id,
            name: None,
        }
    }
}

impl std::fmt::Display for AwsAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} ({})", self.id),
            None => f.write_str(&self.id),
        }
    }
}

/// Where a secret is in its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    pub line: u64,
    pub column: u64,
    pub end_line: u64,
    pub end_column: u64,
    /// Byte offset of the secret's first byte.
    pub offset: u64,
}

impl Finding {
    /// Whether live verification found the credential working.
    pub fn is_live(&self) -> bool {
        matches!(
            self.verification.as_ref().map(|v| &v.status),
            Some(VerificationStatus::Live { .. })
        )
    }

    /// The canary-token service whose key this is: using it alerts whoever planted it.
    pub fn canary(&self) -> Option<&'static str> {
        self.aws_account.as_ref().and_then(|account| account.canary)
    }

    /// Stands for the secret, and a pair's key ID, without revealing them: a hash of the rule,
    /// the values, and nothing else, so the same secret has the same id wherever it is found
    /// and in every report. (The path-bound [`Finding::fingerprint`] reveals no less.)
    pub fn secret_id(&self) -> String {
        if let Some(restored) = &self.restored {
            return restored.secret_id.clone();
        }
        let key_id = self.pair.as_ref().map_or("", |p| p.key_id.as_str());
        digest(&[
            self.rule_id.as_bytes(),
            self.secret.as_bytes(),
            key_id.as_bytes(),
        ])
    }

    /// Whether outputs show the secret redacted.
    pub fn is_redacted(&self, show_secrets: bool) -> bool {
        match self.restored {
            Some(_) => self.redact,
            None => self.redact && !show_secrets,
        }
    }

    /// The secret as outputs show it: redacted unless `show_secrets` or the rule shows
    /// its values (identifiers such as access key IDs).
    pub fn shown_secret(&self, show_secrets: bool) -> String {
        if show_secrets || !self.redact || self.restored.is_some() {
            self.secret.clone()
        } else {
            redact(&self.secret)
        }
    }

    /// The snippet with every secret on it redacted unless `show_secrets`; a secret cut off
    /// at the snippet's edge is hidden whole.
    pub fn shown_snippet(&self, show_secrets: bool) -> String {
        if show_secrets || self.restored.is_some() {
            return self.snippet.clone();
        }
        let mut out = String::with_capacity(self.snippet.len());
        let mut cursor = 0;
        for (range, partial) in &self.snippet_hidden {
            out.push_str(&self.snippet[cursor..range.start]);
            if *partial {
                out.push('…');
            } else {
                redact_into(&self.snippet[range.clone()], &mut out);
            }
            cursor = range.end;
        }
        out.push_str(&self.snippet[cursor..]);
        out
    }
}

/// Keeps the first and last four characters of a long secret, fewer of a short one.
pub fn redact(secret: &str) -> String {
    let mut out = String::new();
    redact_into(secret, &mut out);
    out
}

/// [`redact`], appending to `out`.
fn redact_into(secret: &str, out: &mut String) {
    let keep = match secret.chars().count() {
        0..=7 => 0,
        8..=15 => 2,
        _ => 4,
    };
    let head_end = secret
        .char_indices()
        .nth(keep)
        .map_or(secret.len(), |(i, _)| i);
    let tail_start = match keep {
        0 => secret.len(),
        _ => secret
            .char_indices()
            .nth_back(keep - 1)
            .map_or(0, |(i, _)| i),
    };
    out.push_str(&secret[..head_end]);
    out.push('…');
    out.push_str(&secret[tail_start..]);
}

/// The fingerprint of a secret found by a rule at a path.
pub fn fingerprint(rule_id: &str, secret: &[u8], path: &str) -> String {
    digest(&[rule_id.as_bytes(), secret, path.as_bytes()])
}

/// The first 16 bytes of the SHA-256 of `parts`, each prefixed with its length so that no two
/// lists of parts hash alike, in hex.
fn digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    crate::hex::lower(&hasher.finalize()[..16])
}

/// Turns the raw matches of one chunk into findings, counting lines only up to each match.
pub fn locate(
    chunk: &Chunk<'_>,
    origin: &Origin,
    rules: &RuleSet,
    matches: &mut [RawMatch],
    out: &mut Vec<Finding>,
) {
    matches.sort_by_key(|m| (m.secret.start, m.rule));
    let data = chunk.data;
    let path = origin.display_path();
    // Cursor: everything before `pos` is counted; `line_start` is the start of the line at
    // `pos` within `data`, or None when that line began before the chunk.
    let mut pos = 0;
    let mut line = chunk.line;
    let mut line_start: Option<usize> = None;
    // Characters on the line before position `.0`: matches on one long line are counted from
    // the one before, not each from the line's start.
    let mut counted = (0, chunk.column);
    for m in matches.iter() {
        let (start, end) = (m.secret.start, m.secret.end);
        let skipped = &data[pos..start];
        if let Some(last) = memchr::memrchr(b'\n', skipped) {
            line += count_newlines(skipped) as u64;
            line_start = Some(pos + last + 1);
            counted = (pos + last + 1, 0);
        }
        pos = start;
        counted = (
            start,
            counted.1 + count_chars(&data[counted.0..start]) as u64,
        );
        let column = counted.1 + 1;
        let secret = &data[start..end];
        let (end_line, end_column) = match memchr::memrchr(b'\n', secret) {
            Some(last) => (
                line + count_newlines(secret) as u64,
                count_chars(&secret[last + 1..]) as u64,
            ),
            None => (line, column + count_chars(secret) as u64 - 1),
        };
        let rule = rules.get(m.rule as usize);
        // A decoded match reports the value it decoded to, at the encoded region.
        let value: &[u8] = m.decoded.as_ref().map_or(secret, |d| &d.value);
        let hidden = matches
            .iter()
            .filter(|other| rules.get(other.rule as usize).redact)
            .map(|other| other.secret.clone());
        let (snippet, snippet_hidden) = snippet(data, start, end, line_start.unwrap_or(0), hidden);
        let line_bytes = {
            let floor = line_start.unwrap_or(0);
            let lo = memchr::memrchr(b'\n', &data[floor..start]).map_or(floor, |i| floor + i + 1);
            let hi = memchr::memchr(b'\n', &data[end..]).map_or(data.len(), |i| end + i);
            &data[lo..hi]
        };
        out.push(Finding {
            rule_id: rule.id.clone(),
            rule_name: rule.name.clone(),
            severity: rule.severity,
            confidence: m.confidence,
            kind: rule.kind_of(value).map(str::to_string),
            secret: String::from_utf8_lossy(value).into_owned(),
            redact: rule.redact,
            origin: origin.clone(),
            location: Location {
                line,
                column,
                end_line,
                end_column,
                offset: chunk.offset + start as u64,
            },
            snippet,
            snippet_hidden,
            fingerprint: fingerprint(&rule.id, value, &path),
            git: None,
            aws_account: std::str::from_utf8(value)
                .ok()
                .and_then(crate::aws::account_id)
                .map(AwsAccount::new),
            allow_marker: allow_marker(line_bytes),
            pair: None,
            baseline: None,
            rejection: m.rejection,
            verification: None,
            restored: None,
            image: None,
            content_allowed: m.content_allowed,
            decoded: chunk
                .transcoded
                .into_iter()
                .chain(m.decoded.iter().flat_map(|d| d.chain.iter().copied()))
                .collect(),
        });
    }
}

/// The secret's line, cut to [`SNIPPET_REACH`] bytes on each side, as text; and where in that
/// text each of the `hidden` byte ranges of `data` falls (see [`Finding::snippet_hidden`]).
fn snippet(
    data: &[u8],
    start: usize,
    end: usize,
    floor: usize,
    hidden: impl Iterator<Item = Range<usize>>,
) -> (String, Vec<(Range<usize>, bool)>) {
    let line_start = memchr::memrchr(b'\n', &data[floor..start]).map_or(floor, |i| floor + i + 1);
    let line_end = memchr::memchr(b'\n', &data[end..]).map_or(data.len(), |i| end + i);
    let mut lo = start - clip_start(&data[line_start..start], SNIPPET_REACH).len();
    while lo < start && data[lo].is_ascii_whitespace() {
        lo += 1;
    }
    let mut hi = end + clip_end(&data[end..line_end], SNIPPET_REACH).len();
    if hi > end && data[hi - 1] == b'\r' {
        hi -= 1;
    }
    let mut spans: Vec<Range<usize>> = hidden
        .filter(|r| r.start < hi && r.end > lo)
        .map(|r| r.start.max(lo)..r.end.min(hi))
        .collect();
    spans.sort_by_key(|r| r.start);
    let mut text = String::with_capacity(hi - lo + 8);
    let mut ranges: Vec<(Range<usize>, bool)> = Vec::with_capacity(spans.len());
    let mut cursor = lo;
    for span in spans {
        if span.end <= cursor {
            continue;
        }
        let span = span.start.max(cursor)..span.end;
        text.push_str(&String::from_utf8_lossy(&data[cursor..span.start]));
        let at = text.len();
        text.push_str(&String::from_utf8_lossy(&data[span.clone()]));
        let cut =
            span.start == lo && span.start > line_start || span.end == hi && span.end < line_end;
        ranges.push((at..text.len(), cut));
        cursor = span.end;
    }
    text.push_str(&String::from_utf8_lossy(&data[cursor..hi]));
    (text, ranges)
}

/// The last `max` characters of `bytes` (cut on a character boundary).
fn clip_start(bytes: &[u8], max: usize) -> &[u8] {
    if bytes.len() <= max {
        return bytes;
    }
    let mut cut = bytes.len() - max;
    while cut < bytes.len() && (bytes[cut] & 0xC0) == 0x80 {
        cut += 1;
    }
    &bytes[cut..]
}

/// The first `max` characters of `bytes` (cut on a character boundary).
fn clip_end(bytes: &[u8], max: usize) -> &[u8] {
    if bytes.len() <= max {
        return bytes;
    }
    let mut cut = max;
    while cut > 0 && (bytes[cut] & 0xC0) == 0x80 {
        cut -= 1;
    }
    &bytes[..cut]
}

/// Runs the matcher over `text` as one chunk starting at `line` and `column`, and locates the
/// matches: the whole pipeline short of a source, for unit tests of findings and reporters.
#[cfg(test)]
pub(crate) fn findings_in(
    rules: &RuleSet,
    text: &[u8],
    origin: &Origin,
    line: u64,
    column: u64,
) -> Vec<Finding> {
    let matcher = crate::matcher::Matcher::new(rules);
    let mut scratch = matcher.scratch();
    let mut raw = Vec::new();
    matcher.find(&mut scratch, text, 0..text.len(), &mut raw);
    let chunk = Chunk {
        data: text,
        owned: 0..text.len(),
        offset: 0,
        line,
        column,
        transcoded: None,
    };
    let mut out = Vec::new();
    locate(&chunk, origin, rules, &mut raw, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(text: &[u8], chunk_line: u64, chunk_column: u64) -> Vec<Finding> {
        let rules = RuleSet::builtin().unwrap();
        findings_in(&rules, text, &Origin::Stdin, chunk_line, chunk_column)
    }

    #[test]
    fn lines_and_columns_are_one_based_and_count_characters() {
        let text = "x\ncafé = \"AKIAQYLPMN5HHHFPZAM2\"\n\nk AKIAZT4HB6K7WLQX3N5D\n".as_bytes();
        let found = find(text, 1, 0);
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].location.line, found[0].location.column), (2, 9));
        assert_eq!(found[0].location.end_column, 28);
        assert_eq!((found[1].location.line, found[1].location.column), (4, 3));
        assert_eq!(found[1].kind.as_deref(), Some("long-term"));
    }

    #[test]
    fn a_line_begun_in_an_earlier_chunk_continues_its_column() {
        let found = find(b"zz AKIAQYLPMN5HHHFPZAM2", 7, 100);
        assert_eq!((found[0].location.line, found[0].location.column), (7, 104));
        // Several on that line, and on the next.
        let found = find(
            "é AKIAQYLPMN5HHHFPZAM2 ü AKIAZT4HB6K7WLQX3N5D
ñ AKIAQYLPMN5HHHFPZAM2"
                .as_bytes(),
            7,
            100,
        );
        let places: Vec<(u64, u64)> = found
            .iter()
            .map(|f| (f.location.line, f.location.column))
            .collect();
        assert_eq!(places, [(7, 103), (7, 126), (8, 3)]);
    }

    #[test]
    fn secrets_are_redacted_unless_shown() {
        let found = find(
            b"aws_secret_access_key = r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD\n",
            1,
            0,
        );
        let f = &found[0];
        assert_eq!(f.shown_secret(false), "r4ij…mNkWD".replace("mNkWD", "NkWD"));
        assert_eq!(f.shown_snippet(false), "aws_secret_access_key = r4ij…NkWD");
        assert!(f.shown_snippet(true).contains(&f.secret));
        assert!(!f.fingerprint.contains(&f.secret) && f.fingerprint.len() == 32);
    }

    #[test]
    fn every_secret_on_the_line_is_redacted_in_a_snippet() {
        let text = b"AKIAQYLPMN5HHHFPZAM2,r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD\n";
        let found = find(text, 1, 0);
        assert_eq!(found.len(), 2);
        for f in &found {
            assert_eq!(f.shown_snippet(false), "AKIAQYLPMN5HHHFPZAM2,r4ij…NkWD");
            assert_eq!(f.shown_snippet(true).as_bytes(), &text[..text.len() - 1]);
        }
    }

    #[test]
    fn a_secret_cut_by_the_snippet_edge_is_hidden_whole() {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let body: String = (0..240)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                alphabet[(state % 64) as usize] as char
            })
            .collect();
        let token = format!("IQoJb3JpZ2luX2VjE{body}");
        let text = format!(
            "id AKIAQYLPMN5HHHFPZAM2 {} aws_session_token = {token}\n",
            "x".repeat(40)
        );
        let found = find(text.as_bytes(), 1, 0);
        assert_eq!(found.len(), 2);
        // The key ID's snippet ends inside the token: the visible part is hidden whole.
        let id_snippet = found[0].shown_snippet(false);
        assert!(
            id_snippet.ends_with("aws_session_token = …"),
            "{id_snippet}"
        );
        // The token's own snippet keeps only its ends.
        let token_snippet = found[1].shown_snippet(false);
        assert!(
            token_snippet.ends_with(&format!("IQoJ…{}", &body[236..])),
            "{token_snippet}"
        );
        assert!(!token_snippet.contains(&body[100..140]));
    }

    #[test]
    fn allow_markers_are_found_in_any_comment_syntax() {
        for line in [
            "aws_access_key_id = AKIAQYLPMN5HHHFPZAM2  # keyhound:allow",
            "const id = \"AKIAQYLPMN5HHHFPZAM2\"; // gitleaks:allow",
            "<!-- keyhound:allow --> AKIAQYLPMN5HHHFPZAM2",
            "key: AKIAQYLPMN5HHHFPZAM2 # pragma: allowlist secret",
            "-- keyhound:allow\nAKIAQYLPMN5HHHFPZAM2",
        ] {
            let found = find(line.as_bytes(), 1, 0);
            let expected = !line.contains('\n');
            assert_eq!(found[0].allow_marker.is_some(), expected, "{line}");
        }
    }

    #[test]
    fn fingerprint_ignores_line_but_not_path() {
        let a = fingerprint("r", b"s", "a.txt");
        assert_eq!(a, fingerprint("r", b"s", "a.txt"));
        assert_ne!(a, fingerprint("r", b"s", "b.txt"));
        assert_ne!(fingerprint("r", b"sa", "b"), fingerprint("r", b"s", "ab"));
    }

    #[test]
    fn redaction_keeps_little_of_short_values() {
        assert_eq!(redact("abc"), "…");
        assert_eq!(redact("abcdefghij"), "ab…ij");
        assert_eq!(
            redact("r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD"),
            "r4ij…NkWD"
        );
        assert_eq!(redact("ключ-секрет-ключ"), "ключ…ключ");
        assert_eq!(redact("é1234567"), "é1…67");
    }
}
