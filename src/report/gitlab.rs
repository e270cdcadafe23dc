//! GitLab's secret detection report (`--format gitlab`, the `gl-secret-detection-report.json`
//! artifact): merge request widgets, the security dashboard and approval rules read it.
//!
//! One vulnerability per place a secret occurs, with a stable id (from the finding's
//! fingerprint, so GitLab tracks it across pipelines), GitLab's capitalised severities, the
//! file and lines, the commit for findings from git, and the rule as identifier. Secrets appear
//! only redacted, in the description: the report never holds a raw secret or source line.

use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::Report;
use crate::finding::Finding;
use crate::rules::Severity;
use crate::source::git::rfc3339;

/// The version of GitLab's report schema this report follows.
pub const SCHEMA_VERSION: &str = "15.2.1";

/// The commit GitLab's own secret detection names for what is not from git history.
const NO_COMMIT: &str = "0000000";

/// Writes the report.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let vulnerabilities: Vec<Value> = report
        .groups
        .iter()
        .flat_map(|g| g.occurrences.iter())
        .map(|f| vulnerability(f, report.show_secrets))
        .collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let elapsed = report.stats.elapsed.as_secs();
    let tool = json!({
        "id": "keyhound",
        "name": "keyhound",
        "version": env!("CARGO_PKG_VERSION"),
        "vendor": { "name": "keyhound" },
    });
    let document = json!({
        "version": SCHEMA_VERSION,
        "vulnerabilities": vulnerabilities,
        "scan": {
            "analyzer": tool,
            "scanner": tool,
            "type": "secret_detection",
            "start_time": gitlab_time(now.saturating_sub(elapsed)),
            "end_time": gitlab_time(now),
            "status": if report.stats.incomplete() { "failure" } else { "success" },
        },
    });
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

fn vulnerability(finding: &Finding, show_secrets: bool) -> Value {
    let location = &finding.location;
    let commit = finding.git.as_ref().and_then(|g| g.commit.as_ref());
    let commit = match commit {
        Some(commit) => json!({
            "sha": commit.id,
            "author": format!("{} <{}>", commit.author_name, commit.author_email),
            "date": commit.date,
        }),
        None => json!({ "sha": NO_COMMIT }),
    };
    let mut description = format!(
        "{} ({} confidence): {} at {}:{}.",
        finding.rule_name,
        finding.confidence,
        finding.shown_secret(show_secrets),
        finding.origin,
        location.line
    );
    if let Some(pair) = &finding.pair {
        description.push_str(&format!(" Its key ID is {}.", pair.key_id));
    }
    description.push_str(" Rotate the key, then remove it from the code and its history.");
    json!({
        "id": id_of(&finding.fingerprint),
        "category": "secret_detection",
        "name": finding.rule_name,
        "message": format!("{} in {}", finding.rule_name, finding.origin),
        "description": description,
        "severity": severity(finding.severity),
        "confidence": capitalised(finding.confidence.as_str()),
        "scanner": { "id": "keyhound", "name": "keyhound" },
        "location": {
            "file": finding.origin.outermost().display_path(),
            "start_line": location.line,
            "end_line": location.end_line,
            "commit": commit,
        },
        "identifiers": [{
            "type": "keyhound_rule_id",
            "name": format!("keyhound rule {}", finding.rule_id),
            "value": finding.rule_id,
        }],
    })
}

/// GitLab's severities are capitalised, and it has no "info" but "Info".
fn severity(severity: Severity) -> String {
    capitalised(severity.as_str())
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// A UUID-shaped id from a 32-hex-digit fingerprint: stable for the same secret at the same path.
fn id_of(fingerprint: &str) -> String {
    let hex: String = fingerprint
        .chars()
        .chain(std::iter::repeat('0'))
        .take(32)
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The time format GitLab's schema asks for: `YYYY-MM-DDTHH:MM:SS`, UTC, without a zone.
fn gitlab_time(seconds: u64) -> String {
    let stamp = rfc3339(i64::try_from(seconds).unwrap_or(i64::MAX));
    stamp.trim_end_matches('Z').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_severities_and_times_have_gitlabs_shapes() {
        assert_eq!(
            id_of("0123456789abcdef0123456789abcdef"),
            "01234567-89ab-cdef-0123-456789abcdef"
        );
        assert_eq!(severity(Severity::Critical), "Critical");
        assert_eq!(severity(Severity::Info), "Info");
        assert_eq!(gitlab_time(1_700_000_000), "2023-11-14T22:13:20");
    }
}
