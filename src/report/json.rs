//! The JSON and JSON Lines formats: a stable interface for scripts (documented field by field
//! in the README). The JSON document holds findings and a summary; JSON Lines holds one finding
//! per line and nothing else, so it can be streamed into line-oriented tools.

use std::borrow::Cow;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{canary_message, parallel, Group, Report};
use crate::aws;
use crate::decode::Encoding;
use crate::finding::{
    AwsAccount, BaselineState, Finding, GitProvenance, ImageProvenance, Location, PairedKey,
    Restored, Verification,
};
use crate::rules::{Confidence, Severity};
use crate::source::{AuditStats, CacheStats, GitStats, Origin, SkipReason, Stats};

/// Version of the JSON shape; bumped on any incompatible change. Version 2: one finding per
/// secret, with every place it occurs in `locations`.
const SCHEMA_VERSION: u32 = 2;

/// `tool.name` of keyhound's reports.
const TOOL_NAME: &str = "keyhound";

/// The document as read back. [`write`] writes the same fields in this order, its findings
/// rendered apart.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct Document<'a> {
    version: u32,
    tool: Tool<'a>,
    findings: Vec<JsonFinding<'a>>,
    summary: Summary<'a>,
}

#[derive(Serialize, Deserialize)]
struct Tool<'a> {
    name: Cow<'a, str>,
    version: Cow<'a, str>,
}

/// One finding as scripts see it: what the secret is, then where its first place is (the
/// fields of [`JsonLocation`]), then every place.
#[derive(Serialize, Deserialize)]
struct JsonFinding<'a> {
    rule_id: Cow<'a, str>,
    rule_name: Cow<'a, str>,
    severity: Severity,
    confidence: Confidence,
    kind: Option<Cow<'a, str>>,
    aws_account_id: Option<Cow<'a, str>>,
    aws_account_name: Option<Cow<'a, str>>,
    /// A canary token (see [`crate::aws::canary_service`]): present only then.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    canary: bool,
    /// What using a canary token does, and whose it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    canary_message: Option<String>,
    secret: Cow<'a, str>,
    redacted: bool,
    /// Stands for the secret (and a pair's key ID) without revealing it: the same secret has
    /// the same id in every report, so reports can be merged.
    secret_id: Cow<'a, str>,
    #[serde(flatten)]
    first: JsonLocation<'a>,
    /// For git findings: whether HEAD still holds the secret in any of its places.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    in_head: Option<bool>,
    /// With `--verify`: what AWS said of the credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    verification: Option<Cow<'a, Verification>>,
    /// How many places the secret occurs in.
    occurrences: usize,
    /// In an audit of several repositories: every repository the secret is in, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    repositories: Vec<Cow<'a, str>>,
    /// Every place, the first one first.
    locations: Vec<JsonLocation<'a>>,
}

/// One place a secret occurs.
#[derive(Clone, Serialize, Deserialize)]
struct JsonLocation<'a> {
    /// The repository, in a run over several (`keyhound audit`), as its list names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    repo: Option<Cow<'a, str>>,
    path: Cow<'a, str>,
    line: u64,
    column: u64,
    end_line: u64,
    end_column: u64,
    offset: u64,
    /// How sure keyhound is of this place, in `locations` (the finding's own `confidence` is
    /// its first place's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    confidence: Option<Confidence>,
    snippet: Cow<'a, str>,
    fingerprint: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    baseline_state: Option<BaselineState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pair: Option<Cow<'a, PairedKey>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    git: Option<Cow<'a, GitProvenance>>,
    /// For a secret in a container image's layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image: Option<Cow<'a, ImageProvenance>>,
    /// How the secret was encoded here, outermost first (absent for a plain one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    decoded: Vec<Cow<'a, str>>,
}

#[derive(Serialize, Deserialize)]
struct Summary<'a> {
    files_scanned: u64,
    bytes_scanned: u64,
    elapsed_ms: u64,
    /// Findings: distinct secrets.
    findings: usize,
    /// Places those secrets occur in.
    occurrences: usize,
    failing_findings: usize,
    suppressed: usize,
    stale_baseline_entries: usize,
    incomplete: bool,
    skipped: Vec<Skipped<'a>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    git: Option<GitStats>,
    /// For an audit of many repositories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    audit: Option<AuditStats>,
    /// For history scans with `--cache`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cache: Option<CacheStats>,
}

#[derive(Serialize, Deserialize)]
struct Skipped<'a> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    repo: Option<Cow<'a, str>>,
    path: Cow<'a, str>,
    /// The blob, for an object of history shown at its path: the object git could not read,
    /// or the archive that could not be read to its end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    blob: Option<Cow<'a, str>>,
    category: Cow<'a, str>,
    reason: Cow<'a, str>,
}

fn finding<'a>(group: &Group<'a>, show_secrets: bool) -> JsonFinding<'a> {
    let f = group.primary();
    let locations: Vec<JsonLocation<'a>> = group
        .occurrences
        .iter()
        .map(|f| location(f, show_secrets))
        .collect();
    JsonFinding {
        rule_id: Cow::Borrowed(&f.rule_id),
        rule_name: Cow::Borrowed(&f.rule_name),
        severity: f.severity,
        confidence: f.confidence,
        kind: f.kind.as_deref().map(Cow::Borrowed),
        aws_account_id: f.aws_account.as_ref().map(|a| Cow::Borrowed(a.id.as_str())),
        aws_account_name: f
            .aws_account
            .as_ref()
            .and_then(|a| a.name.as_deref())
            .map(Cow::Borrowed),
        canary: f.canary().is_some(),
        canary_message: f.canary().map(canary_message),
        secret: Cow::Owned(f.shown_secret(show_secrets)),
        redacted: f.is_redacted(show_secrets),
        secret_id: Cow::Owned(f.secret_id()),
        // The primary occurrence is the first place.
        first: JsonLocation {
            confidence: None,
            ..locations[0].clone()
        },
        in_head: group.in_head(),
        verification: f.verification.as_ref().map(Cow::Borrowed),
        occurrences: group.occurrences.len(),
        repositories: group
            .repositories()
            .into_iter()
            .map(Cow::Borrowed)
            .collect(),
        locations,
    }
}

fn location(f: &Finding, show_secrets: bool) -> JsonLocation<'_> {
    JsonLocation {
        repo: f.origin.repo().map(Cow::Borrowed),
        path: Cow::Owned(f.origin.display_path()),
        line: f.location.line,
        column: f.location.column,
        end_line: f.location.end_line,
        end_column: f.location.end_column,
        offset: f.location.offset,
        confidence: Some(f.confidence),
        snippet: Cow::Owned(f.shown_snippet(show_secrets)),
        fingerprint: Cow::Borrowed(&f.fingerprint),
        baseline_state: f.baseline,
        pair: f.pair.as_ref().map(Cow::Borrowed),
        git: f.git.as_ref().map(Cow::Borrowed),
        image: f.image.as_ref().map(Cow::Borrowed),
        decoded: f
            .decoded
            .iter()
            .map(|e| Cow::Borrowed(e.as_str()))
            .collect(),
    }
}

/// Writes one JSON document, laid out as `serde_json`'s pretty printer lays it out; the
/// findings are rendered on every core (see [`parallel`]).
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let findings = parallel::render(&report.groups, |index, group, text| {
        text.extend_from_slice(if index == 0 { b"\n    " } else { b",\n    " });
        write_at_depth(text, 2, &finding(group, report.show_secrets))
    })?;
    let mut out = buffered(out);
    out.write_all(b"{\n  \"version\": ")?;
    write_at_depth(&mut out, 1, &SCHEMA_VERSION)?;
    out.write_all(b",\n  \"tool\": ")?;
    write_at_depth(&mut out, 1, &tool())?;
    out.write_all(b",\n  \"findings\": [")?;
    for run in &findings {
        out.write_all(run)?;
    }
    out.write_all(if report.groups.is_empty() {
        b"]"
    } else {
        b"\n  ]"
    })?;
    out.write_all(b",\n  \"summary\": ")?;
    write_at_depth(&mut out, 1, &summary(report))?;
    out.write_all(b"\n}\n")?;
    out.flush()
}

/// Writes one finding per line.
pub fn write_lines(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let findings = parallel::render(&report.groups, |_, group, text| {
        serde_json::to_writer(&mut *text, &finding(group, report.show_secrets))?;
        text.push(b'\n');
        Ok(())
    })?;
    for run in &findings {
        out.write_all(run)?;
    }
    out.flush()
}

fn tool() -> Tool<'static> {
    Tool {
        name: Cow::Borrowed(TOOL_NAME),
        version: Cow::Borrowed(env!("CARGO_PKG_VERSION")),
    }
}

fn summary<'a>(report: &Report<'a>) -> Summary<'a> {
    let stats = report.stats;
    let groups = &report.groups;
    Summary {
        files_scanned: stats.files_scanned,
        bytes_scanned: stats.bytes_scanned,
        elapsed_ms: u64::try_from(stats.elapsed.as_millis()).unwrap_or(u64::MAX),
        findings: groups.len(),
        occurrences: groups.iter().map(|g| g.occurrences.len()).sum(),
        suppressed: report.suppressed,
        stale_baseline_entries: report.stale_baseline,
        failing_findings: groups.iter().filter(|g| g.fails_scan()).count(),
        incomplete: stats.incomplete(),
        git: stats.git.clone(),
        audit: stats.audit,
        cache: stats.cache,
        skipped: stats
            .skipped
            .iter()
            .map(|(origin, reason)| Skipped {
                repo: origin.repo().map(Cow::Borrowed),
                path: Cow::Owned(origin.display_path()),
                blob: match origin.outermost() {
                    Origin::Git { path, blob, .. }
                        if !path.as_os_str().is_empty() && !blob.is_empty() =>
                    {
                        Some(Cow::Borrowed(blob.as_str()))
                    }
                    _ => None,
                },
                category: Cow::Borrowed(reason.category()),
                reason: Cow::Owned(reason.to_string()),
            })
            .collect(),
    }
}

/// Writes `value` pretty-printed as it is where it sits `depth` levels deep in a document:
/// its inner lines indented to match.
fn write_at_depth(out: &mut impl Write, depth: usize, value: &impl Serialize) -> io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(out, PrettyAt::new(depth));
    value.serialize(&mut serializer).map_err(io::Error::from)
}

/// `serde_json`'s pretty layout (two spaces a level) for a value that starts `depth` levels
/// deep, so that the parts of one document can be rendered apart and written one after another.
struct PrettyAt {
    depth: usize,
    /// Whether the array or object being written has a value yet.
    has_value: bool,
}

impl PrettyAt {
    fn new(depth: usize) -> PrettyAt {
        PrettyAt {
            depth,
            has_value: false,
        }
    }

    fn open<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        out.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.new_line(out, b"\n")?;
        }
        out.write_all(bracket)
    }

    fn new_line<W: ?Sized + Write>(&self, out: &mut W, line_break: &[u8]) -> io::Result<()> {
        out.write_all(line_break)?;
        (0..self.depth).try_for_each(|_| out.write_all(b"  "))
    }

    fn item<W: ?Sized + Write>(&self, out: &mut W, first: bool) -> io::Result<()> {
        self.new_line(out, if first { b"\n" } else { b",\n" })
    }
}

impl serde_json::ser::Formatter for PrettyAt {
    fn begin_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.open(out, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.close(out, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        self.item(out, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.open(out, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.close(out, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        self.item(out, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        out.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// A buffer in front of `out`: serde writes a document in many small pieces, each of which
/// would otherwise be a dynamic call.
fn buffered(out: &mut dyn Write) -> io::BufWriter<&mut dyn Write> {
    io::BufWriter::with_capacity(64 * 1024, out)
}

/// A JSON report read back (`keyhound merge`): its findings, one per place, as the report
/// shows them, and its summary's counts.
#[derive(Debug, Default)]
pub struct ReadReport {
    pub findings: Vec<Finding>,
    pub stats: Stats,
    /// Findings allow markers or allowlists suppressed.
    pub allowed: usize,
    pub stale_baseline: usize,
}

/// Reads a JSON report keyhound wrote; the error says what is wrong with it.
pub fn read(text: &str) -> Result<ReadReport, String> {
    let document: Document<'_> = serde_json::from_str(text)
        .map_err(|e| format!("not a keyhound JSON report (written with `-f json`): {e}"))?;
    if document.tool.name != TOOL_NAME {
        return Err(format!(
            "a report of {}, not of keyhound",
            document.tool.name
        ));
    }
    if document.version != SCHEMA_VERSION {
        return Err(format!(
            "a version {} report; this keyhound reads version {SCHEMA_VERSION}",
            document.version
        ));
    }
    let mut findings = Vec::new();
    for finding in document.findings {
        for place in &finding.locations {
            findings.push(restore(&finding, place)?);
        }
    }
    let summary = document.summary;
    let skipped = summary
        .skipped
        .iter()
        .map(|s| {
            let reason = SkipReason::from_report(&s.category, &s.reason)
                .ok_or_else(|| format!("skipped entry of unknown category `{}`", s.category))?;
            let origin = if summary.git.is_some() {
                git_origin(
                    s.repo.as_deref(),
                    &s.path,
                    s.blob.as_deref().map(str::to_string),
                )
            } else {
                file_origin(&s.path)
            };
            Ok((origin, reason))
        })
        .collect::<Result<_, String>>()?;
    Ok(ReadReport {
        findings,
        stats: Stats {
            files_scanned: summary.files_scanned,
            bytes_scanned: summary.bytes_scanned,
            skipped,
            elapsed: Duration::from_millis(summary.elapsed_ms),
            git: summary.git,
            audit: summary.audit,
            cache: summary.cache,
        },
        allowed: summary.suppressed,
        stale_baseline: summary.stale_baseline_entries,
    })
}

/// One place of a finding, as a finding again.
fn restore(finding: &JsonFinding<'_>, place: &JsonLocation<'_>) -> Result<Finding, String> {
    let decoded = place
        .decoded
        .iter()
        .map(|name| Encoding::from_name(name).ok_or_else(|| format!("unknown encoding `{name}`")))
        .collect::<Result<_, _>>()?;
    let git = place.git.as_deref().cloned();
    let origin = match &git {
        Some(git) => git_origin(place.repo.as_deref(), &place.path, Some(git.blob.clone())),
        None => file_origin(&place.path),
    };
    Ok(Finding {
        rule_id: finding.rule_id.to_string(),
        rule_name: finding.rule_name.to_string(),
        severity: finding.severity,
        confidence: place.confidence.unwrap_or(finding.confidence),
        kind: finding.kind.as_deref().map(str::to_string),
        secret: finding.secret.to_string(),
        redact: finding.redacted,
        origin,
        location: Location {
            line: place.line,
            column: place.column,
            end_line: place.end_line,
            end_column: place.end_column,
            offset: place.offset,
        },
        snippet: place.snippet.to_string(),
        snippet_hidden: Vec::new(),
        fingerprint: place.fingerprint.to_string(),
        git,
        aws_account: finding.aws_account_id.as_deref().map(|id| AwsAccount {
            name: finding.aws_account_name.as_deref().map(str::to_string),
            canary: aws::canary_service(id),
            id: id.to_string(),
        }),
        allow_marker: None,
        pair: place.pair.as_deref().cloned(),
        baseline: place.baseline_state,
        rejection: None,
        // A report holds reviewed findings: allowlists have had their say.
        content_allowed: 0,
        decoded,
        verification: finding.verification.as_deref().cloned(),
        restored: Some(Restored {
            secret_id: finding.secret_id.to_string(),
        }),
        image: place.image.as_deref().cloned(),
    })
}

/// The origin of a git place from the path a report shows (`blob:<id>` for a blob no commit
/// placed) and, when the report gives it, the blob.
fn git_origin(repo: Option<&str>, shown: &str, blob: Option<String>) -> Origin {
    let (path, blob) = match shown.strip_prefix("blob:") {
        Some(id) => (PathBuf::new(), blob.unwrap_or_else(|| id.to_string())),
        None => (PathBuf::from(shown), blob.unwrap_or_default()),
    };
    Origin::Git {
        repo: repo.map(Arc::from),
        path,
        blob,
    }
}

fn file_origin(shown: &str) -> Origin {
    if shown == "-" {
        Origin::Stdin
    } else {
        Origin::File(PathBuf::from(shown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::findings_in;
    use crate::rules::RuleSet;

    /// What `serde_json` makes of the whole document in one piece.
    fn pretty_in_one_piece(report: &Report<'_>) -> String {
        let document = Document {
            version: SCHEMA_VERSION,
            tool: tool(),
            findings: report
                .groups
                .iter()
                .map(|g| finding(g, report.show_secrets))
                .collect(),
            summary: summary(report),
        };
        serde_json::to_string_pretty(&document).unwrap() + "\n"
    }

    fn written(report: &Report<'_>) -> String {
        let mut out = Vec::new();
        write(report, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_document_is_laid_out_as_serde_lays_it_out_in_one_piece() {
        let rules = RuleSet::builtin().unwrap();
        let text = "aws_access_key_id = AKIAQYLPMN5HHHFPZAM2\n\
                    aws_secret_access_key = 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\n\
                    other = AKIAZT4HB6K7WLQX3N5D\n";
        // Enough places for the findings to be rendered on several threads, with nested
        // objects (git provenance, pairs) and arrays (paths, locations).
        let mut findings = Vec::new();
        for i in 0..300 {
            let origin = Origin::File(PathBuf::from(format!("dir/{i:03}.env")));
            let mut found = findings_in(&rules, text.as_bytes(), &origin, 1, 0);
            if i % 2 == 0 {
                for f in &mut found {
                    f.git = Some(GitProvenance {
                        blob: format!("{i:040}"),
                        paths: vec![format!("dir/{i:03}.env"), "old.env".to_string()],
                        in_head: Some(i % 4 == 0),
                        ..GitProvenance::default()
                    });
                }
            }
            findings.extend(found);
        }
        crate::filter::finalize(&mut findings, &rules);
        // Each finding its own secret but every tenth, so that most groups hold one place and
        // some several.
        for (i, f) in findings.iter_mut().enumerate() {
            if i % 10 != 0 {
                f.secret = format!("{}{i:06}", &f.secret[..f.secret.len() - 6]);
            }
        }
        let mut stats = Stats::default();
        stats.skipped.push((
            Origin::File(PathBuf::from("dir/blob.bin")),
            SkipReason::Binary,
        ));
        for show_secrets in [false, true] {
            let report = Report::of(&findings, &stats, &rules, show_secrets);
            assert!(report.groups.len() > 2 * parallel::MIN_RUN);
            assert_eq!(written(&report), pretty_in_one_piece(&report));
        }
        let nothing = Report::of(&[], &stats, &rules, false);
        assert_eq!(written(&nothing), pretty_in_one_piece(&nothing));
        let empty_stats = Stats::default();
        let bare = Report::of(&[], &empty_stats, &rules, false);
        assert!(written(&bare).contains("\"findings\": [],\n"));
        assert_eq!(written(&bare), pretty_in_one_piece(&bare));
    }

    #[test]
    fn json_lines_hold_one_compact_finding_a_line_in_report_order() {
        let rules = RuleSet::builtin().unwrap();
        let mut findings = Vec::new();
        for i in 0..200 {
            let origin = Origin::File(PathBuf::from(format!("{i:03}.env")));
            let text = "aws_access_key_id = AKIAQYLPMN5HHHFPZAM2\n";
            findings.extend(findings_in(&rules, text.as_bytes(), &origin, 1, 0));
        }
        let stats = Stats::default();
        // Each finding its own secret, so that none are grouped.
        for (i, f) in findings.iter_mut().enumerate() {
            f.secret = format!("AKIAQYLPMN5HHH{i:06}");
        }
        let report = Report::of(&findings, &stats, &rules, false);
        let mut out = Vec::new();
        write_lines(&report, &mut out).unwrap();
        let lines: Vec<&str> = std::str::from_utf8(&out).unwrap().lines().collect();
        assert_eq!(lines.len(), 200);
        for (i, line) in lines.iter().enumerate() {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(value["path"], format!("{i:03}.env"));
            assert_eq!(
                *line,
                serde_json::to_string(&finding(&report.groups[i], false)).unwrap()
            );
        }
    }
}
