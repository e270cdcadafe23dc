//! Findings → output. One reporter per format, all fed the same sorted findings.
//!
//! Every reporter shows secrets through [`Finding::shown_secret`](crate::finding::Finding), so
//! redaction is decided in one place; `--show-secrets` is the only way to see a raw secret.

mod github;
mod gitlab;
mod group;
mod html;
pub mod incident;
pub mod json;
mod junit;
mod markdown;
mod parallel;
mod sarif;
mod text;

use std::io::{self, Write};

use crate::rules::RuleSet;
use crate::source::Stats;

pub use group::{group, Group};
pub use text::{sanitize, write_explanation, write_summary};

/// What every format says of a canary token of `service`.
fn canary_message(service: &str) -> String {
    format!("{} ({service})", crate::aws::CANARY_WARNING)
}

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable: one line per finding, grouped by file.
    Text,
    /// One JSON document with findings and summary.
    Json,
    /// One JSON object per finding, one per line.
    Jsonl,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions annotations: one `::error` workflow command per place.
    Github,
    /// GitLab's secret detection report (`gl-secret-detection-report.json`).
    Gitlab,
    /// JUnit XML: a test case per rule, a failed one per place a secret is.
    Junit,
    /// GitHub-flavoured Markdown for a CI job summary: the verdict, a table of the secrets,
    /// what could not be read, and what to do.
    Markdown,
    /// One self-contained HTML page for people: counts, charts (when secrets were introduced,
    /// per repository, by rule), and every secret in a table to sort, filter and expand. It
    /// loads nothing from the network.
    Html,
}

/// Everything a reporter may draw on.
pub struct Report<'a> {
    /// The findings grouped by secret, as every format reports them (see [`group()`]).
    pub groups: Vec<Group<'a>>,
    /// How many findings an allow marker suppressed.
    pub suppressed: usize,
    /// How many baseline entries no finding matched.
    pub stale_baseline: usize,
    pub stats: &'a Stats,
    pub rules: &'a RuleSet,
    pub show_secrets: bool,
    /// Colour the text format (only the text format uses it).
    pub color: bool,
    /// When the report was written, in seconds since the Unix epoch (see [`written_now`]).
    pub written_at: i64,
    /// What was scanned, in words (`the history of app`), for the formats that say so.
    pub subject: Option<&'a str>,
}

impl<'a> Report<'a> {
    /// A report of `findings` with nothing suppressed and no colour: what reporters' unit tests
    /// render.
    #[cfg(test)]
    pub(crate) fn of(
        findings: &'a [crate::finding::Finding],
        stats: &'a Stats,
        rules: &'a RuleSet,
        show_secrets: bool,
    ) -> Report<'a> {
        Report {
            groups: group(findings),
            suppressed: 0,
            stale_baseline: 0,
            stats,
            rules,
            show_secrets,
            color: false,
            written_at: 0,
            subject: None,
        }
    }
}

/// The time a report is written at: now, or `SOURCE_DATE_EPOCH` when it is set, so that a
/// build or a test can make a report's bytes reproducible.
pub fn written_now() -> i64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|seconds| seconds.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| since.as_secs() as i64)
        })
}

/// Writes `report` in `format` to `out`.
pub fn write(format: Format, report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => text::write(report, out),
        Format::Json => json::write(report, out),
        Format::Jsonl => json::write_lines(report, out),
        Format::Sarif => sarif::write(report, out),
        Format::Github => github::write(report, out),
        Format::Gitlab => gitlab::write(report, out),
        Format::Junit => junit::write(report, out),
        Format::Markdown => markdown::write(report, out),
        Format::Html => html::write(report, out),
    }
}

/// What reporters' unit tests render: a fake key pair's findings, and a format's text.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::finding::{findings_in, Finding};
    use crate::source::Origin;

    pub const KEY_ID: &str = "AKIAZT4HB6K7WLQX3N5D";
    pub const SECRET: &str = "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";

    /// The findings of a key pair in a credentials file at `path`.
    pub fn pair_at(rules: &RuleSet, path: &str) -> Vec<Finding> {
        let text = format!("aws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n");
        let mut findings = findings_in(rules, text.as_bytes(), &Origin::File(path.into()), 1, 0);
        crate::filter::finalize(&mut findings, rules);
        findings
    }

    /// What `write` makes of a report of `findings`.
    pub fn render(
        write: fn(&Report<'_>, &mut dyn Write) -> io::Result<()>,
        findings: &[Finding],
        rules: &RuleSet,
        stats: &Stats,
        show_secrets: bool,
    ) -> String {
        let report = Report::of(findings, stats, rules, show_secrets);
        let mut out = Vec::new();
        write(&report, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }
}
