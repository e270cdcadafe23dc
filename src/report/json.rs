//! The JSON and JSON Lines formats: a stable interface for scripts (documented field by field
//! in the README). The JSON document holds findings and a summary; JSON Lines holds one finding
//! per line and nothing else, so it can be streamed into line-oriented tools.

use std::io::{self, Write};

use serde::Serialize;

use super::{canary_message, Group, Report};
use crate::finding::{BaselineState, Finding, GitProvenance, PairedKey, Verification};

/// Version of the JSON shape; bumped on any incompatible change. Version 2: one finding per
/// secret, with every place it occurs in `locations`.
const SCHEMA_VERSION: u32 = 2;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    tool: Tool,
    findings: Vec<JsonFinding<'a>>,
    summary: Summary<'a>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

/// One finding as scripts see it: what the secret is, then where its first place is (the
/// fields of [`JsonLocation`]), then every place.
#[derive(Serialize)]
struct JsonFinding<'a> {
    rule_id: &'a str,
    rule_name: &'a str,
    severity: &'static str,
    confidence: &'static str,
    kind: Option<&'a str>,
    aws_account_id: Option<&'a str>,
    aws_account_name: Option<&'a str>,
    /// A canary token (see [`crate::aws::canary_service`]): present only then.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    canary: bool,
    /// What using a canary token does, and whose it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    canary_message: Option<String>,
    secret: String,
    redacted: bool,
    #[serde(flatten)]
    first: JsonLocation<'a>,
    /// For git findings: whether HEAD still holds the secret in any of its places.
    #[serde(skip_serializing_if = "Option::is_none")]
    in_head: Option<bool>,
    /// With `--verify`: what AWS said of the credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    verification: Option<&'a Verification>,
    /// How many places the secret occurs in.
    occurrences: usize,
    /// In an audit of several repositories: every repository the secret is in, sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    repositories: Vec<&'a str>,
    /// Every place, the first one first.
    locations: Vec<JsonLocation<'a>>,
}

/// One place a secret occurs.
#[derive(Serialize)]
struct JsonLocation<'a> {
    /// The repository, in a run over several (`keyhound audit`), as its list names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    repo: Option<&'a str>,
    path: String,
    line: u64,
    column: u64,
    end_line: u64,
    end_column: u64,
    offset: u64,
    snippet: String,
    fingerprint: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_state: Option<BaselineState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pair: Option<&'a PairedKey>,
    #[serde(skip_serializing_if = "Option::is_none")]
    git: Option<&'a GitProvenance>,
    /// How the secret was encoded here, outermost first (absent for a plain one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    decoded: Vec<&'static str>,
}

#[derive(Serialize)]
struct Summary<'a> {
    files_scanned: u64,
    bytes_scanned: u64,
    elapsed_ms: u128,
    /// Findings: distinct secrets.
    findings: usize,
    /// Places those secrets occur in.
    occurrences: usize,
    failing_findings: usize,
    suppressed: usize,
    stale_baseline_entries: usize,
    incomplete: bool,
    skipped: Vec<Skipped<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    git: Option<GitSummary>,
    /// For an audit of many repositories.
    #[serde(skip_serializing_if = "Option::is_none")]
    audit: Option<AuditSummary>,
}

#[derive(Serialize)]
struct AuditSummary {
    repositories: u64,
    failed: u64,
}

#[derive(Serialize)]
struct GitSummary {
    refs: u64,
    commits: u64,
    shallow: bool,
}

#[derive(Serialize)]
struct Skipped<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    repo: Option<&'a str>,
    path: String,
    category: &'static str,
    reason: String,
}

fn finding<'a>(group: &Group<'a>, show_secrets: bool) -> JsonFinding<'a> {
    let f = group.primary();
    JsonFinding {
        rule_id: &f.rule_id,
        rule_name: &f.rule_name,
        severity: f.severity.as_str(),
        confidence: f.confidence.as_str(),
        kind: f.kind.as_deref(),
        aws_account_id: f.aws_account.as_ref().map(|a| a.id.as_str()),
        aws_account_name: f.aws_account.as_ref().and_then(|a| a.name.as_deref()),
        canary: f.canary().is_some(),
        canary_message: f.canary().map(canary_message),
        secret: f.shown_secret(show_secrets),
        redacted: f.redact && !show_secrets,
        first: location(f, show_secrets),
        in_head: group.in_head(),
        verification: f.verification.as_ref(),
        occurrences: group.occurrences.len(),
        repositories: group.repositories(),
        locations: group
            .occurrences
            .iter()
            .map(|f| location(f, show_secrets))
            .collect(),
    }
}

fn location(f: &Finding, show_secrets: bool) -> JsonLocation<'_> {
    JsonLocation {
        repo: f.origin.repo(),
        path: f.origin.display_path(),
        line: f.location.line,
        column: f.location.column,
        end_line: f.location.end_line,
        end_column: f.location.end_column,
        offset: f.location.offset,
        snippet: f.shown_snippet(show_secrets),
        fingerprint: &f.fingerprint,
        baseline_state: f.baseline,
        pair: f.pair.as_ref(),
        git: f.git.as_ref(),
        decoded: f.decoded.iter().map(|e| e.as_str()).collect(),
    }
}

/// Writes one JSON document.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let stats = report.stats;
    let groups = &report.groups;
    let document = Document {
        version: SCHEMA_VERSION,
        tool: Tool {
            name: "keyhound",
            version: env!("CARGO_PKG_VERSION"),
        },
        findings: groups
            .iter()
            .map(|g| finding(g, report.show_secrets))
            .collect(),
        summary: Summary {
            files_scanned: stats.files_scanned,
            bytes_scanned: stats.bytes_scanned,
            elapsed_ms: stats.elapsed.as_millis(),
            findings: groups.len(),
            occurrences: groups.iter().map(|g| g.occurrences.len()).sum(),
            suppressed: report.suppressed,
            stale_baseline_entries: report.stale_baseline,
            failing_findings: groups.iter().filter(|g| g.fails_scan()).count(),
            incomplete: stats.incomplete(),
            git: stats.git.as_ref().map(|g| GitSummary {
                refs: g.refs,
                commits: g.commits,
                shallow: g.shallow,
            }),
            audit: stats.audit.map(|a| AuditSummary {
                repositories: a.repositories,
                failed: a.failed,
            }),
            skipped: stats
                .skipped
                .iter()
                .map(|(origin, reason)| Skipped {
                    repo: origin.repo(),
                    path: origin.display_path(),
                    category: reason.category(),
                    reason: reason.to_string(),
                })
                .collect(),
        },
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

/// Writes one finding per line.
pub fn write_lines(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    for group in &report.groups {
        serde_json::to_writer(&mut *out, &finding(group, report.show_secrets))?;
        writeln!(out)?;
    }
    Ok(())
}
