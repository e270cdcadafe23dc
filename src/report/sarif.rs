//! SARIF 2.1.0 output, shaped for GitHub code scanning and usable by any SARIF viewer.
//!
//! The log has one run. Its driver lists every enabled rule (with help text, a default level,
//! `security-severity` and `precision`), and each finding becomes one result that points at the
//! secret's region and carries the finding's fingerprint under [`FINGERPRINT_VERSION`], so code
//! scanning tracks an alert across commits even when the secret's line moves.
//!
//! Secrets appear only as [`Finding::shown_secret`] and [`Finding::shown_snippet`] show them:
//! redacted unless `--show-secrets` was given. The output holds no timestamps or other
//! per-invocation data, so the same findings always give the same bytes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Write};

use serde_json::Value;
use serde_sarif::sarif::{
    ArtifactContent, ArtifactLocation, Invocation, Location, Message, MultiformatMessageString,
    Notification, NotificationLevel, PhysicalLocation, PropertyBag, Region, ReportingConfiguration,
    ReportingConfigurationLevel, ReportingDescriptor, Result as SarifResult, ResultColumnKind,
    ResultLevel, Run, Sarif, Suppression, Tool, ToolComponent, Version, VersionControlDetails,
};
use sha2::{Digest, Sha256};

use super::{canary_message, Group, Report};
use crate::finding::{BaselineState, Finding, VerificationStatus, FINGERPRINT_VERSION};
use crate::rules::{Confidence, PairSpec, Rule, Severity};
use crate::source::{Origin, SkipReason};

/// The schema URL written to `$schema`.
pub const SCHEMA_URL: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Most results GitHub code scanning accepts in one run; further results are dropped (with a
/// warning and a notification in the log) rather than having the whole upload rejected.
pub const MAX_RESULTS: usize = 25_000;

/// Largest upload GitHub code scanning accepts, gzipped. A log over it keeps fewer results.
pub const MAX_GZIPPED_BYTES: usize = 10 * 1000 * 1000;

/// Artifact URI used for findings in standard input.
const STDIN_URI: &str = "stdin";

/// Tags on every rule: GitHub shows `security` rules as security alerts, and CWE-798 is "Use of
/// Hard-coded Credentials".
const RULE_TAGS: [&str; 3] = ["security", "secret", "external/cwe/cwe-798"];

/// Writes the SARIF log, within GitHub's limits on result count and compressed size.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let groups = &report.groups;
    let mut limit = MAX_RESULTS;
    loop {
        let mut bytes = serde_json::to_vec_pretty(&build_log(report, groups, limit))?;
        bytes.push(b'\n');
        // Compressing costs time only for logs that could be over the limit at all.
        let gzipped = if bytes.len() > MAX_GZIPPED_BYTES {
            gzipped_len(&bytes)?
        } else {
            0
        };
        let kept = groups.len().min(limit);
        if gzipped <= MAX_GZIPPED_BYTES || kept == 0 {
            return out.write_all(&bytes);
        }
        // Shrink in proportion, with a margin, so a few rounds at most are needed.
        limit = kept * MAX_GZIPPED_BYTES / gzipped * 9 / 10;
        tracing::debug!(
            gzipped,
            limit,
            "SARIF log over the size limit, keeping fewer results"
        );
    }
}

/// Size of `bytes` once gzipped.
fn gzipped_len(bytes: &[u8]) -> io::Result<usize> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?.len())
}

/// The SARIF log holding the first `limit` findings.
fn build_log(report: &Report<'_>, groups: &[Group<'_>], limit: usize) -> Sarif {
    let kept = &groups[..groups.len().min(limit)];
    let dropped = groups.len() - kept.len();

    let mut rules = RuleTable::new(report);
    let results: Vec<SarifResult> = kept
        .iter()
        .map(|g| {
            let index = rules.index_of(g.primary());
            result(g, index, report.show_secrets)
        })
        .collect();

    let mut notifications = skip_notifications(report);
    if dropped > 0 {
        tracing::warn!(
            "SARIF output holds the first {} of {} findings; {dropped} dropped (GitHub code scanning \
             accepts at most {MAX_RESULTS} results and {MAX_GZIPPED_BYTES} gzipped bytes per run)",
            kept.len(),
            groups.len()
        );
        notifications.push(
            Notification::builder()
                .level(NotificationLevel::Warning.to_string())
                .message(text_message(format!(
                    "{dropped} of {} findings were dropped: this log holds the first {}, to stay within what \
                     GitHub code scanning accepts in one run. Use the JSON output to see them all.",
                    groups.len(),
                    kept.len()
                )))
                .build(),
        );
    }
    let invocation = if notifications.is_empty() {
        Invocation::builder()
            .execution_successful(!report.stats.incomplete())
            .build()
    } else {
        Invocation::builder()
            .execution_successful(!report.stats.incomplete())
            .tool_execution_notifications(notifications)
            .build()
    };

    let driver = ToolComponent::builder()
        .name("keyhound")
        .version(env!("CARGO_PKG_VERSION"))
        .rules(rules.descriptors)
        .build();
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .column_kind(ResultColumnKind::UnicodeCodePoints.to_string())
        .invocations(vec![invocation])
        .results(results)
        .build();
    let repos = repositories(report, kept);
    if !repos.is_empty() {
        run.original_uri_base_ids = Some(
            repos
                .iter()
                .map(|repo| {
                    let root = format!("{}/", repository_uri(repo).trim_end_matches('/'));
                    (
                        uri_base_id(repo),
                        ArtifactLocation::builder().uri(root).build(),
                    )
                })
                .collect(),
        );
        run.version_control_provenance = Some(
            repos
                .iter()
                .map(|repo| {
                    VersionControlDetails::builder()
                        .repository_uri(repository_uri(repo))
                        .mapped_to(
                            ArtifactLocation::builder()
                                .uri_base_id(uri_base_id(repo))
                                .build(),
                        )
                        .build()
                })
                .collect(),
        );
    }
    Sarif::builder()
        .schema(SCHEMA_URL)
        .version(Version::V2_1_0.to_string())
        .runs(vec![run])
        .build()
}

/// The driver's rules and where each rule id is among them.
struct RuleTable<'a> {
    report: &'a Report<'a>,
    descriptors: Vec<ReportingDescriptor>,
    index: HashMap<String, usize>,
}

impl<'a> RuleTable<'a> {
    /// Every enabled rule, in rule-set order.
    fn new(report: &'a Report<'a>) -> Self {
        let mut table = RuleTable {
            report,
            descriptors: Vec::new(),
            index: HashMap::new(),
        };
        for rule in report.rules.all().iter().filter(|r| r.enabled) {
            table.push(rule.id.clone(), rule_descriptor(rule));
        }
        // Pair rules (an ID with its secret) are declared by the rules they join.
        for rule in report.rules.all().iter().filter(|r| r.enabled) {
            if let Some(pair) = &rule.pair {
                if !table.index.contains_key(&pair.id) {
                    let remediation = report.rules.remediation_of(&pair.id).unwrap_or("");
                    table.push(pair.id.clone(), pair_descriptor(pair, remediation));
                }
            }
        }
        table
    }

    /// The index of the finding's rule. A finding of a rule that is not enabled (or not in the
    /// rule set at all) gets its rule appended, so every `ruleIndex` points at a descriptor.
    fn index_of(&mut self, finding: &Finding) -> usize {
        if let Some(&index) = self.index.get(&finding.rule_id) {
            return index;
        }
        let descriptor = match self.report.rules.by_id(&finding.rule_id) {
            Some(rule) => rule_descriptor(rule),
            None => fallback_descriptor(finding),
        };
        self.push(finding.rule_id.clone(), descriptor)
    }

    fn push(&mut self, id: String, descriptor: ReportingDescriptor) -> usize {
        let index = self.descriptors.len();
        self.descriptors.push(descriptor);
        self.index.insert(id, index);
        index
    }
}

/// A rule as SARIF describes it.
fn rule_descriptor(rule: &Rule) -> ReportingDescriptor {
    descriptor(
        &rule.id,
        &rule.name,
        &rule.description,
        &rule.remediation,
        rule.severity,
        rule.confidence,
        &rule.tags,
    )
}

/// A full descriptor: help from the remediation text (the description when there is none).
fn descriptor(
    id: &str,
    name: &str,
    description: &str,
    remediation: &str,
    severity: Severity,
    confidence: Confidence,
    tags: &[String],
) -> ReportingDescriptor {
    let remediation = remediation.trim();
    let help = if remediation.is_empty() {
        description.trim()
    } else {
        remediation
    };
    ReportingDescriptor::builder()
        .id(id.to_string())
        .name(pascal_case(id))
        .short_description(
            MultiformatMessageString::builder()
                .text(name.to_string())
                .build(),
        )
        .full_description(
            MultiformatMessageString::builder()
                .text(description.trim())
                .build(),
        )
        .help(
            MultiformatMessageString::builder()
                .text(help)
                .markdown(format!("## Remediation\n\n{help}"))
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(default_level(severity))
                .build(),
        )
        .properties(rule_properties(severity, confidence, tags))
        .build()
}

/// The descriptor of a pair rule, with the remediation of the secret it carries.
fn pair_descriptor(pair: &PairSpec, remediation: &str) -> ReportingDescriptor {
    descriptor(
        &pair.id,
        &pair.name,
        &pair.description,
        remediation,
        pair.severity,
        Confidence::High,
        &[],
    )
}

/// A descriptor for a finding whose rule is not in the rule set, built from the finding alone.
fn fallback_descriptor(finding: &Finding) -> ReportingDescriptor {
    ReportingDescriptor::builder()
        .id(finding.rule_id.clone())
        .name(pascal_case(&finding.rule_id))
        .short_description(
            MultiformatMessageString::builder()
                .text(finding.rule_name.clone())
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(default_level(finding.severity))
                .build(),
        )
        .properties(rule_properties(finding.severity, finding.confidence, &[]))
        .build()
}

/// `security-severity`, `precision` and tags (keyhound's, then the rule's own), as GitHub code
/// scanning reads them.
fn rule_properties(
    severity: Severity,
    confidence: Confidence,
    rule_tags: &[String],
) -> PropertyBag {
    let mut extra = BTreeMap::new();
    extra.insert(
        "security-severity".to_string(),
        Value::from(security_severity(severity)),
    );
    extra.insert("precision".to_string(), Value::from(precision(confidence)));
    PropertyBag::builder()
        .tags(
            RULE_TAGS
                .iter()
                .map(|t| t.to_string())
                .chain(
                    rule_tags
                        .iter()
                        .filter(|t| !RULE_TAGS.contains(&t.as_str()))
                        .cloned(),
                )
                .collect::<Vec<_>>(),
        )
        .additional_properties(extra)
        .build()
}

/// GitHub's score for a severity: over 9.0 is critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// How often a rule's plain matches (before context raises them) are real credentials.
fn precision(confidence: Confidence) -> &'static str {
    match confidence {
        Confidence::High => "very-high",
        Confidence::Medium => "high",
        Confidence::Low => "medium",
        Confidence::Example => "low",
    }
}

/// A rule's default level, from its severity alone.
fn default_level(severity: Severity) -> String {
    let level = match severity {
        Severity::Critical | Severity::High => ReportingConfigurationLevel::Error,
        Severity::Medium => ReportingConfigurationLevel::Warning,
        Severity::Low | Severity::Info => ReportingConfigurationLevel::Note,
    };
    level.to_string()
}

/// A finding's level: documentation examples are notes, likely leaks of severe credentials are
/// errors, and everything else is a warning.
fn result_level(finding: &Finding) -> ResultLevel {
    if finding.is_live() {
        return ResultLevel::Error;
    }
    match (finding.severity, finding.confidence) {
        (_, Confidence::Example) => ResultLevel::Note,
        (Severity::Critical | Severity::High, Confidence::Medium | Confidence::High) => {
            ResultLevel::Error
        }
        _ => ResultLevel::Warning,
    }
}

/// `aws-access-key-id` → `AwsAccessKeyId`.
fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .flat_map(|part| {
            let mut chars = part.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars)
        })
        .collect()
}

/// Most locations GitHub code scanning accepts on one result.
pub const MAX_LOCATIONS: usize = 1000;

/// Where a finding is, as a SARIF location with its snippet.
fn location(finding: &Finding, show_secrets: bool) -> Location {
    let loc = &finding.location;
    let region = Region::builder()
        .start_line(to_i64(loc.line))
        .start_column(to_i64(loc.column))
        .end_line(to_i64(loc.end_line))
        // SARIF's end column is the column after the region; ours is its last character.
        .end_column(to_i64(loc.end_column.saturating_add(1)))
        .snippet(
            ArtifactContent::builder()
                .text(finding.shown_snippet(show_secrets))
                .build(),
        )
        .build();
    let mut region = region;
    // The artifact is the file a viewer can open; where in it the archive holds the secret
    // is said here (the lines and columns are those of the file inside).
    if let Origin::Inner { .. } = &finding.origin {
        let mut properties = BTreeMap::new();
        properties.insert(
            "archivePath".to_string(),
            Value::from(finding.origin.display_path()),
        );
        region.properties = Some(
            PropertyBag::builder()
                .additional_properties(properties)
                .build(),
        );
    }
    Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(artifact_location(&finding.origin))
                .region(region)
                .build(),
        )
        .build()
}

/// One secret as a SARIF result: its primary occurrence first among the locations, then the
/// others (up to [`MAX_LOCATIONS`]).
fn result(group: &Group<'_>, rule_index: usize, show_secrets: bool) -> SarifResult {
    let finding = group.primary();
    let locations: Vec<Location> = group
        .occurrences
        .iter()
        .take(MAX_LOCATIONS)
        .map(|f| location(f, show_secrets))
        .collect();

    let mut text = format!(
        "{} found (confidence {}): {}.",
        finding.rule_name,
        finding.confidence,
        finding.shown_secret(show_secrets)
    );
    if let Some(kind) = &finding.kind {
        text.push_str(&format!(" Credential kind: {kind}."));
    }
    if let Origin::Inner { .. } = &finding.origin {
        text.push_str(&format!(
            " Inside an archive, at {}.",
            finding.origin.display_path()
        ));
    }
    if !finding.decoded.is_empty() {
        let chain: Vec<&str> = finding.decoded.iter().map(|e| e.as_str()).collect();
        text.push_str(&format!(
            " Found encoded: decoded from {}.",
            chain.join(" → ")
        ));
    }
    if group.occurrences.len() > 1 {
        text.push_str(&format!(
            " The same value occurs in {} places.",
            group.occurrences.len()
        ));
    }
    if finding.confidence == Confidence::Example {
        text.push_str(" The value is a documented example, so it does not fail the scan.");
    }
    if let Some(service) = finding.canary() {
        text.push_str(&format!(" This is {}.", canary_message(service)));
    }
    if let Some(verification) = &finding.verification {
        if let VerificationStatus::Live { arn, .. } = &verification.status {
            text.push_str(&format!(
                " Verified LIVE: the key works ({arn}); deactivate it now."
            ));
        }
        if let Some(access) = &verification.access {
            text.push_str(&format!(" What it may do: {}.", access.describe()));
        }
    }

    let mut fingerprints = BTreeMap::new();
    fingerprints.insert(FINGERPRINT_VERSION.to_string(), finding.fingerprint.clone());

    let mut extra = BTreeMap::new();
    extra.insert(
        "confidence".to_string(),
        Value::from(finding.confidence.as_str()),
    );
    extra.insert(
        "severity".to_string(),
        Value::from(finding.severity.as_str()),
    );
    if let Some(kind) = &finding.kind {
        extra.insert("kind".to_string(), Value::from(kind.as_str()));
    }
    extra.insert(
        "occurrences".to_string(),
        Value::from(group.occurrences.len()),
    );
    if !finding.decoded.is_empty() {
        let chain: Vec<Value> = finding
            .decoded
            .iter()
            .map(|e| Value::from(e.as_str()))
            .collect();
        extra.insert("decoded".to_string(), Value::from(chain));
    }
    if let Some(in_head) = group.in_head() {
        extra.insert("in_head".to_string(), Value::from(in_head));
    }
    if let Some(pair) = &finding.pair {
        extra.insert("key_id".to_string(), Value::from(pair.key_id.as_str()));
    }
    if let Some(account) = &finding.aws_account {
        extra.insert(
            "aws_account_id".to_string(),
            Value::from(account.id.as_str()),
        );
        if let Some(name) = &account.name {
            extra.insert("aws_account_name".to_string(), Value::from(name.as_str()));
        }
    }
    if let Some(verification) = &finding.verification {
        if let Ok(value) = serde_json::to_value(verification) {
            extra.insert("verification".to_string(), value);
        }
        if finding.is_live() {
            extra.insert("tags".to_string(), Value::from(vec!["verified"]));
        }
    }
    if let Some(service) = finding.canary() {
        extra.insert("canary".to_string(), Value::from(true));
        extra.insert(
            "canary_message".to_string(),
            Value::from(canary_message(service)),
        );
    }
    if let Some(git) = &finding.git {
        // The same object as in the JSON output: commit, occurrences, in_head.
        if let Ok(value) = serde_json::to_value(git) {
            extra.insert("git".to_string(), value);
        }
    }

    let mut result = SarifResult::builder()
        .rule_id(finding.rule_id.clone())
        .rule_index(to_i64(rule_index as u64))
        .level(result_level(finding))
        .message(text_message(text))
        .locations(locations)
        .partial_fingerprints(fingerprints)
        .properties(PropertyBag::builder().additional_properties(extra).build())
        .build();
    // Against a baseline, accepted findings stay in the log as externally suppressed results,
    // so code scanning keeps their alerts (closed) instead of closing and reopening them.
    if let Some(state) = finding.baseline {
        let unchanged = state == BaselineState::Unchanged;
        result.baseline_state = Some(Value::from(if unchanged { "unchanged" } else { "new" }));
        if unchanged {
            result.suppressions = Some(vec![Suppression::builder().kind("external").build()]);
        }
    }
    result
}

/// Notifications for inputs that should have been scanned but were not (warnings: the reasons
/// that make `executionSuccessful` false) and for those the configuration accepts as unread
/// (notes), in the order the stats list them.
fn skip_notifications(report: &Report<'_>) -> Vec<Notification> {
    report
        .stats
        .skipped
        .iter()
        .filter(|(_, reason)| {
            reason.makes_scan_incomplete() || matches!(reason, SkipReason::Accepted { .. })
        })
        .map(|(origin, reason)| {
            let (level, text) = match reason {
                SkipReason::Accepted { .. } => (
                    NotificationLevel::Note,
                    format!("Accepted as unread: {origin}: {reason}."),
                ),
                _ => (
                    NotificationLevel::Warning,
                    format!("Not scanned: {origin}: {reason}."),
                ),
            };
            Notification::builder()
                .level(level.to_string())
                .message(text_message(text))
                .locations(vec![Location::builder()
                    .physical_location(
                        PhysicalLocation::builder()
                            .artifact_location(artifact_location(origin))
                            .build(),
                    )
                    .build()])
                .build()
        })
        .collect()
}

fn text_message(text: String) -> Message {
    Message::builder().text(text).build()
}

/// Where an input is: its path, relative to its repository's base id in a run over several.
fn artifact_location(origin: &Origin) -> ArtifactLocation {
    let mut location = ArtifactLocation::builder()
        .uri(artifact_uri(origin))
        .build();
    location.uri_base_id = origin.repo().map(uri_base_id);
    location
}

/// The repositories the kept results and the skipped inputs are in, sorted.
fn repositories<'a>(report: &'a Report<'_>, kept: &'a [Group<'_>]) -> BTreeSet<&'a str> {
    let found = kept
        .iter()
        .flat_map(|g| g.occurrences.iter().map(|f| &f.origin));
    let skipped = report.stats.skipped.iter().map(|(origin, _)| origin);
    found.chain(skipped).filter_map(Origin::repo).collect()
}

/// The base id artifact locations in `repo` are relative to: derived from the repository's
/// name alone, so it is the same in every log that names the repository.
fn uri_base_id(repo: &str) -> String {
    let digest = Sha256::digest(repo.as_bytes());
    format!("REPO_{}", crate::hex::lower(&digest[..6]))
}

/// The repository as an absolute URI: a clone URL as it is, a local path as a `file:` URI.
fn repository_uri(repo: &str) -> String {
    if repo.contains("://") {
        repo.to_string()
    } else if repo.starts_with('/') {
        format!("file://{}", encode_path(repo, true))
    } else {
        encode_path(repo, false)
    }
}

/// The URI of an input: its path as a relative URI reference (`/` separators, anything a URI
/// path may not hold percent-encoded), a `file:` URI for an absolute path, `stdin` for
/// standard input.
fn artifact_uri(origin: &Origin) -> String {
    let origin = origin.outermost();
    if let Origin::Stdin = origin {
        return STDIN_URI.to_string();
    }
    let mut path = origin.display_path();
    if cfg!(windows) {
        path = path.replace('\\', "/");
    }
    let bytes = path.as_bytes();
    if path.starts_with("//") {
        // A UNC path: `//server/share/...` → `file://server/share/...`.
        format!("file:{}", encode_path(&path, true))
    } else if path.starts_with('/') {
        format!("file://{}", encode_path(&path, true))
    } else if bytes.len() >= 2
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && (bytes.len() == 2 || bytes[2] == b'/')
    {
        // A Windows drive path: `C:/dir/file` → `file:///C:/dir/file`.
        format!("file:///{}", encode_path(&path, true))
    } else {
        // In a relative reference a `:` in the first segment would read as a scheme, so it is
        // always encoded there.
        encode_path(&path, false)
    }
}

/// Percent-encodes every byte a URI path may not hold as it is (RFC 3986 `pchar` and `/`),
/// and `:` unless `keep_colon`.
fn encode_path(path: &str, keep_colon: bool) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        let plain = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'/'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'@'
            )
            || (b == b':' && keep_colon);
        if plain {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::rules::RuleSet;
    use crate::source::{SkipReason, Stats};

    const SECRET: &str = "r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD";

    fn text() -> String {
        format!(
            "# café settings\naws_access_key_id = AKIAQYLPMN5HHHFPZAM2\naws_secret_access_key = {SECRET}\n\
             docs = AKIAIOSFODNN7EXAMPLE\n"
        )
    }

    fn find(rules: &RuleSet, text: &[u8], origin: &Origin) -> Vec<Finding> {
        crate::finding::findings_in(rules, text, origin, 1, 0)
    }

    fn origin() -> Origin {
        Origin::File(PathBuf::from("./config dir/creds#1.env"))
    }

    fn sarif(
        findings: &[Finding],
        rules: &RuleSet,
        stats: &Stats,
        show_secrets: bool,
    ) -> (String, Value) {
        let report = Report::of(findings, stats, rules, show_secrets);
        let mut out = Vec::new();
        write(&report, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let value = serde_json::from_str(&text).unwrap();
        (text, value)
    }

    /// The `language` pattern of the published schema, with a stray `]` that a strict
    /// ECMA-262 check rejects as a regex (so the schema itself would fail meta-validation).
    const BROKEN_LANGUAGE_PATTERN: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";

    fn schema_errors(log: &Value) -> Vec<String> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/sarif-schema-2.1.0.json"
        );
        let text = std::fs::read_to_string(path).unwrap();
        assert_eq!(text.matches(BROKEN_LANGUAGE_PATTERN).count(), 2);
        let text = text.replace(BROKEN_LANGUAGE_PATTERN, "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
        let schema: Value = serde_json::from_str(&text).unwrap();
        let validator = jsonschema::draft7::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap();
        validator
            .iter_errors(log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    fn assert_valid(log: &Value) {
        let errors = schema_errors(log);
        assert!(
            errors.is_empty(),
            "SARIF log does not match the schema: {errors:#?}"
        );
    }

    #[test]
    fn log_matches_the_sarif_schema() {
        let rules = RuleSet::builtin().unwrap();
        let findings = find(&rules, text().as_bytes(), &origin());
        assert_eq!(findings.len(), 3, "{findings:#?}");
        let mut stdin_finding = findings[0].clone();
        stdin_finding.origin = Origin::Stdin;
        let mut all = findings.clone();
        all.push(stdin_finding);
        let mut stats = Stats::default();
        stats.skipped.push((
            Origin::File(PathBuf::from("locked [1].txt")),
            SkipReason::Unreadable {
                error: "permission denied".into(),
            },
        ));
        for show in [false, true] {
            let (text, log) = sarif(&all, &rules, &stats, show);
            assert_valid(&log);
            assert!(text.ends_with("}\n"));
            assert_eq!(
                log["runs"][0]["invocations"][0]["executionSuccessful"],
                false
            );
            let notes = &log["runs"][0]["invocations"][0]["toolExecutionNotifications"];
            assert_eq!(
                notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                "locked%20%5B1%5D.txt"
            );
        }
        // The check has teeth: a raw space in a URI or a zero column is refused.
        let (_, log) = sarif(&findings, &rules, &Stats::default(), false);
        let mut bad = log.clone();
        bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
            ["uri"] = Value::from("config dir/creds#1.env");
        assert!(!schema_errors(&bad).is_empty());
        let mut bad = log.clone();
        bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["endColumn"] =
            Value::from(0);
        assert!(!schema_errors(&bad).is_empty());

        let (_, log) = sarif(&[], &rules, &Stats::default(), false);
        assert_valid(&log);
        assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 0);
        assert_eq!(
            log["runs"][0]["invocations"][0]["executionSuccessful"],
            true
        );
        assert!(log["runs"][0]["invocations"][0]
            .get("toolExecutionNotifications")
            .is_none());
    }

    #[test]
    fn secrets_are_redacted_unless_shown() {
        let rules = RuleSet::builtin().unwrap();
        let findings = find(&rules, text().as_bytes(), &origin());
        let (hidden, log) = sarif(&findings, &rules, &Stats::default(), false);
        assert!(!hidden.contains(SECRET));
        let secret = log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["ruleId"] == "aws-secret-access-key")
            .unwrap();
        assert_eq!(
            secret["message"]["text"],
            "AWS secret access key found (confidence high): r4ij…NkWD."
        );
        assert_eq!(
            secret["locations"][0]["physicalLocation"]["region"]["snippet"]["text"],
            "aws_secret_access_key = r4ij…NkWD"
        );

        let (shown, _) = sarif(&findings, &rules, &Stats::default(), true);
        assert!(shown.contains(&format!("found (confidence high): {SECRET}.")));
        assert!(shown.contains(&format!("\"aws_secret_access_key = {SECRET}\"")));
    }

    #[test]
    fn results_point_at_rules_regions_and_fingerprints() {
        let rules = RuleSet::builtin().unwrap();
        let findings = find(&rules, text().as_bytes(), &origin());
        let (_, log) = sarif(&findings, &rules, &Stats::default(), false);
        let run = &log["runs"][0];
        assert_eq!(log["version"], "2.1.0");
        assert_eq!(log["$schema"], SCHEMA_URL);
        assert_eq!(run["columnKind"], "unicodeCodePoints");
        assert_eq!(run["tool"]["driver"]["name"], "keyhound");
        assert_eq!(run["tool"]["driver"]["version"], env!("CARGO_PKG_VERSION"));

        let descriptors = run["tool"]["driver"]["rules"].as_array().unwrap();
        // Every enabled rule, then the pair rule they declare.
        let mut enabled: Vec<&str> = rules
            .all()
            .iter()
            .filter(|r| r.enabled)
            .map(|r| r.id.as_str())
            .collect();
        enabled.push("aws-access-key-pair");
        let listed: Vec<&str> = descriptors
            .iter()
            .map(|d| d["id"].as_str().unwrap())
            .collect();
        assert_eq!(listed, enabled);
        assert!(!listed.contains(&"aws-principal-id"));
        for d in descriptors {
            let name = d["name"].as_str().unwrap();
            assert!(!name.is_empty() && !name.contains(|c: char| !c.is_ascii_alphanumeric()));
            for tag in ["security", "secret"] {
                assert!(d["properties"]["tags"]
                    .as_array()
                    .unwrap()
                    .contains(&Value::from(tag)));
            }
            let score: f64 = d["properties"]["security-severity"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((0.1..=10.0).contains(&score));
            assert!(!d["help"]["text"].as_str().unwrap().is_empty());
            assert!(d["help"]["markdown"]
                .as_str()
                .unwrap()
                .starts_with("## Remediation\n\n"));
        }
        let key = &descriptors[listed
            .iter()
            .position(|&id| id == "aws-secret-access-key")
            .unwrap()];
        assert_eq!(key["name"], "AwsSecretAccessKey");
        assert_eq!(key["shortDescription"]["text"], "AWS secret access key");
        assert_eq!(key["defaultConfiguration"]["level"], "error");
        assert_eq!(key["properties"]["security-severity"], "9.5");
        assert_eq!(key["properties"]["precision"], "medium");

        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), findings.len());
        for (r, f) in results.iter().zip(&findings) {
            assert_eq!(r["ruleId"], f.rule_id.as_str());
            let index = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(descriptors[index]["id"], f.rule_id.as_str());
            let location = &r["locations"][0]["physicalLocation"];
            assert_eq!(
                location["artifactLocation"]["uri"],
                "config%20dir/creds%231.env"
            );
            assert_eq!(
                r["partialFingerprints"][FINGERPRINT_VERSION],
                f.fingerprint.as_str()
            );
            assert_eq!(r["properties"]["confidence"], f.confidence.as_str());
            assert_eq!(r["properties"]["severity"], f.severity.as_str());
        }

        let id = &results[0];
        assert_eq!(id["ruleId"], "aws-access-key-id");
        assert_eq!(id["level"], "error");
        assert_eq!(id["properties"]["kind"], "long-term");
        // This key ID decodes to an account of Thinkst Canarytokens.
        assert_eq!(
            id["message"]["text"],
            "AWS access key ID found (confidence high): AKIAQYLPMN5HHHFPZAM2. Credential kind: \
             long-term. This is a canary token: using it alerts whoever planted it (Thinkst \
             Canarytokens (canarytokens.org))."
        );
        assert_eq!(id["properties"]["canary"], true);
        assert_eq!(
            id["properties"]["canary_message"],
            "a canary token: using it alerts whoever planted it (Thinkst Canarytokens (canarytokens.org))"
        );
        let region = &id["locations"][0]["physicalLocation"]["region"];
        assert_eq!(
            (
                &region["startLine"],
                &region["startColumn"],
                &region["endLine"],
                &region["endColumn"]
            ),
            (
                &Value::from(2),
                &Value::from(21),
                &Value::from(2),
                &Value::from(41)
            )
        );

        let secret = &results[1];
        assert_eq!(secret["ruleId"], "aws-secret-access-key");
        assert!(secret["properties"].get("kind").is_none());
        let region = &secret["locations"][0]["physicalLocation"]["region"];
        assert_eq!(
            (&region["startLine"], &region["startColumn"]),
            (&Value::from(3), &Value::from(25))
        );
        assert_eq!(region["endColumn"], 25 + SECRET.len() as u64);

        let example = &results[2];
        assert_eq!(example["level"], "note");
        assert_eq!(example["properties"]["confidence"], "example");
    }

    #[test]
    fn a_finding_of_a_rule_not_enabled_still_gets_a_descriptor() {
        let mut rules = RuleSet::builtin().unwrap();
        rules.enable(&["aws-principal-id".to_string()]).unwrap();
        let findings = find(
            &rules,
            b"\"RoleId\": \"AROAQYLPMN5HHHFPZAM2\"\n",
            &Origin::Stdin,
        );
        assert_eq!(findings.len(), 1, "{findings:#?}");
        rules.disable(&["aws-principal-id".to_string()]).unwrap();
        let (_, log) = sarif(&findings, &rules, &Stats::default(), false);
        assert_valid(&log);
        let run = &log["runs"][0];
        let index = run["results"][0]["ruleIndex"].as_u64().unwrap() as usize;
        let descriptors = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(index, descriptors.len() - 1);
        assert_eq!(descriptors[index]["id"], "aws-principal-id");
        assert_eq!(
            run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "stdin"
        );
    }

    #[test]
    fn one_value_in_many_places_is_one_result_with_every_location() {
        let rules = RuleSet::builtin().unwrap();
        let mut findings = find(&rules, text().as_bytes(), &origin());
        findings.extend(find(
            &rules,
            text().as_bytes(),
            &Origin::File(PathBuf::from("copy.env")),
        ));
        let single = findings.len() / 2;
        let (_, log) = sarif(&findings, &rules, &Stats::default(), false);
        let results = log["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), single);
        for result in results {
            let uris: Vec<&str> = result["locations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    l["physicalLocation"]["artifactLocation"]["uri"]
                        .as_str()
                        .unwrap()
                })
                .collect();
            assert_eq!(uris, ["config%20dir/creds%231.env", "copy.env"]);
            assert_eq!(result["properties"]["occurrences"], 2);
        }
    }

    #[test]
    fn results_are_capped_for_github() {
        let rules = RuleSet::builtin().unwrap();
        let findings = find(&rules, text().as_bytes(), &origin());
        // Distinct values: copies of one value would be one result with many locations.
        let many: Vec<Finding> = (0..MAX_RESULTS + 7)
            .map(|i| {
                let mut f = findings[1].clone();
                f.secret = format!("{}{i}", f.secret);
                f
            })
            .collect();
        let (text, log) = sarif(&many, &rules, &Stats::default(), false);
        assert!(!text.contains(SECRET));
        let run = &log["runs"][0];
        assert_eq!(run["results"].as_array().unwrap().len(), MAX_RESULTS);
        let invocation = &run["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], true);
        let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0]["level"], "warning");
        assert!(notes[0]["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("7 of 25007 findings were dropped"));

        let (_, log) = sarif(&many[..MAX_RESULTS], &rules, &Stats::default(), false);
        assert!(log["runs"][0]["invocations"][0]
            .get("toolExecutionNotifications")
            .is_none());
    }

    #[test]
    fn logs_are_kept_under_the_gzipped_size_limit() {
        let rules = RuleSet::builtin().unwrap();
        let findings = find(&rules, text().as_bytes(), &origin());
        // Incompressible secrets, shown in full, make each result a few KB of entropy.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let many: Vec<Finding> = (0..8000)
            .map(|_| {
                let mut f = findings[1].clone();
                f.secret = (0..2000)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        char::from(b'!' + (state % 90) as u8)
                    })
                    .collect();
                f.snippet = f.secret.clone();
                f.snippet_hidden = vec![(0..f.snippet.len(), false)];
                f
            })
            .collect();
        let (text, log) = sarif(&many, &rules, &Stats::default(), true);
        let gzipped = gzipped_len(text.as_bytes()).unwrap();
        assert!(gzipped <= MAX_GZIPPED_BYTES, "{gzipped}");
        let kept = log["runs"][0]["results"].as_array().unwrap().len();
        assert!(kept > 1000 && kept < many.len(), "{kept}");
        let notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .unwrap();
        let note = notes[0]["message"]["text"].as_str().unwrap();
        assert!(
            note.starts_with(&format!("{} of 8000 findings were dropped", 8000 - kept)),
            "{note}"
        );
    }

    #[test]
    fn output_is_deterministic() {
        let rules = RuleSet::builtin().unwrap();
        let findings = find(&rules, text().as_bytes(), &origin());
        let (a, _) = sarif(&findings, &rules, &Stats::default(), false);
        let (b, _) = sarif(&findings, &rules, &Stats::default(), false);
        assert_eq!(a, b);
    }

    #[test]
    fn uris_are_encoded_references() {
        let file = |p: &str| artifact_uri(&Origin::File(PathBuf::from(p)));
        assert_eq!(file("src/main.rs"), "src/main.rs");
        assert_eq!(file("./a b/ü?.txt"), "a%20b/%C3%BC%3F.txt");
        assert_eq!(file("a:b/c%d"), "a%3Ab/c%25d");
        assert_eq!(file("/tmp/x y"), "file:///tmp/x%20y");
        assert_eq!(artifact_uri(&Origin::Stdin), "stdin");
    }

    #[test]
    fn names_and_levels() {
        assert_eq!(pascal_case("aws-access-key-id"), "AwsAccessKeyId");
        assert_eq!(pascal_case("my_rule.v2"), "MyRuleV2");
        assert_eq!(security_severity(Severity::Critical), "9.5");
        assert_eq!(default_level(Severity::Medium), "warning");
        assert_eq!(default_level(Severity::Info), "note");
    }
}
