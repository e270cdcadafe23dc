//! GitHub-flavoured Markdown (`--format markdown`): a report for people, made for a CI job
//! summary (`$GITHUB_STEP_SUMMARY`) or a pull request comment. A heading gives the verdict; a
//! table lists the secrets that fail the scan, one row per secret at its first place (the first
//! [`ROWS_SHOWN`], then a count); an incomplete scan lists what could not be read and why; and
//! *What to do* gives each rule's remediation once.
//!
//! Everything taken from the scanned input (paths, author names, secrets) is escaped for a
//! table cell, so a hostile file name can neither end the table nor inject HTML, and secrets are
//! shown as every format shows them: redacted unless `--show-secrets`.

use std::io::{self, Write};

use super::text::{plural, sanitize, write_summary};
use super::{canary_message, Group, Report};
use crate::finding::{BaselineState, Finding};
use crate::rules::{Confidence, RuleSet};
use crate::source::{Origin, SkipReason, Stats};

/// How many rows a table lists before it only counts the rest: enough for any real leak, few
/// enough that the summary stays readable (and far below GitHub's 1 MiB per job summary).
const ROWS_SHOWN: usize = 50;

/// How many characters of a commit id the table shows.
const SHORT_COMMIT: usize = 12;

/// What to do about a secret of a rule that has no remediation text of its own.
pub(super) const DEFAULT_REMEDIATION: &str =
    "Rotate the credential, then remove it from the code and from its history.";

/// Writes the report.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let failing: Vec<&Group<'_>> = report.groups.iter().filter(|g| g.fails_scan()).collect();
    let incomplete = report.stats.incomplete();
    writeln!(
        out,
        "## keyhound: {}",
        verdict(report, failing.len(), incomplete)
    )?;
    writeln!(out)?;
    if incomplete {
        writeln!(
            out,
            "Some inputs could not be read, so this scan cannot vouch for them: see *Not scanned* below."
        )?;
        writeln!(out)?;
    }
    write_scope(report, out)?;
    if !failing.is_empty() {
        write_findings(&failing, report.show_secrets, out)?;
    }
    write_not_listed(report, out)?;
    if incomplete {
        write_not_scanned(report.stats, out)?;
    }
    write_accepted(report.stats, out)?;
    if !failing.is_empty() {
        write_remediation(&failing, report.rules, out)?;
    }
    Ok(())
}

/// The heading's verdict, worded as the text summary words it.
pub(super) fn verdict(report: &Report<'_>, failing: usize, incomplete: bool) -> String {
    let accepted = report
        .groups
        .iter()
        .any(|g| g.primary().baseline == Some(BaselineState::Unchanged));
    match (failing, incomplete) {
        (0, true) => "scan incomplete".to_string(),
        (0, false) if accepted => "no new secrets found".to_string(),
        (0, false) => "no secrets found".to_string(),
        (n, false) => format!("{} found", plural(n, "secret")),
        (n, true) => format!("{} found, scan incomplete", plural(n, "secret")),
    }
}

/// What was read, as the end-of-scan summary says it, in a fenced block.
fn write_scope(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut summary = Vec::new();
    write_summary(report, &mut summary)?;
    let summary = String::from_utf8_lossy(&summary);
    let fence = "`".repeat(longest_run(&summary, '`').max(2) + 1);
    writeln!(out, "{fence}text\n{}{fence}", summary)?;
    writeln!(out)
}

/// The table of failing secrets, one row per secret.
fn write_findings(
    failing: &[&Group<'_>],
    show_secrets: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let shown = &failing[..failing.len().min(ROWS_SHOWN)];
    let from_git = shown.iter().any(|g| introduced_by(g.primary()).is_some());
    let mut header = vec!["Where", "Secret", "Rule", "Severity", "Confidence"];
    if from_git {
        header.push("Added in");
    }
    writeln!(out, "| {} |", header.join(" | "))?;
    writeln!(out, "|{}", "---|".repeat(header.len()))?;
    for group in shown {
        let finding = group.primary();
        let mut row = vec![
            place(group),
            secret(finding, show_secrets),
            code(&finding.rule_id),
            finding.severity.to_string(),
            finding.confidence.to_string(),
        ];
        if from_git {
            row.push(introduced_by(finding).unwrap_or_default());
        }
        writeln!(out, "| {} |", row.join(" | "))?;
    }
    writeln!(out)?;
    write_more(failing.len() - shown.len(), "secret", out)
}

/// The Where cell: the first place, how many others there are, and whether only history
/// holds the secret.
fn place(group: &Group<'_>) -> String {
    let finding = group.primary();
    let mut cell = code(&format!("{}:{}", finding.origin, finding.location.line));
    let others = group.others().len();
    if others > 0 {
        cell.push_str(&format!(" and {}", plural(others, "other place")));
    }
    if group.in_head() == Some(false) {
        cell.push_str(", only in history: rotate it even though HEAD no longer has it");
    }
    cell
}

/// The Secret cell: the secret as every format shows it, a pair's key ID, and what makes the
/// key special (a canary token, what verification found).
fn secret(finding: &Finding, show_secrets: bool) -> String {
    let mut cell = code(&finding.shown_secret(show_secrets));
    if let Some(pair) = &finding.pair {
        cell.push_str(&format!(" with key ID {}", code(&pair.key_id)));
    }
    if let Some(service) = finding.canary() {
        cell.push_str(&format!(", {}", text(&canary_message(service))));
    }
    if let Some(verification) = &finding.verification {
        cell.push_str(&format!(", verified {}", verification.status.as_str()));
        if let Some(access) = &verification.access {
            cell.push_str(&format!(": {}", text(&access.describe())));
        }
    }
    cell
}

/// The Added in cell: the commit that added the secret, its author and date.
fn introduced_by(finding: &Finding) -> Option<String> {
    let commit = finding.git.as_ref()?.commit.as_ref()?;
    let short: String = commit.id.chars().take(SHORT_COMMIT).collect();
    let day: String = commit.date.chars().take_while(|c| *c != 'T').collect();
    Some(format!(
        "{} by {} on {}",
        code(&short),
        text(&commit.author_name),
        text(&day)
    ))
}

/// The line under a capped table that counts what it left out.
fn write_more(left_out: usize, noun: &str, out: &mut dyn Write) -> io::Result<()> {
    if left_out == 0 {
        return Ok(());
    }
    writeln!(
        out,
        "…and {} (the JSON and SARIF reports list them all).",
        plural(left_out, &format!("more {noun}"))
    )?;
    writeln!(out)
}

/// What the table leaves out on purpose: documentation examples, findings a baseline accepts,
/// and findings allow markers or the allowlist suppressed.
fn write_not_listed(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let not_failing = || report.groups.iter().filter(|g| !g.fails_scan());
    let examples = not_failing()
        .filter(|g| g.primary().confidence == Confidence::Example)
        .count();
    let accepted = not_failing().count() - examples;
    let mut parts = Vec::new();
    if examples > 0 {
        parts.push(format!(
            "{} (not counted)",
            plural(examples, "documentation example key")
        ));
    }
    if accepted > 0 {
        parts.push(format!(
            "{} the baseline accepts",
            plural(accepted, "finding")
        ));
    }
    if report.suppressed > 0 {
        parts.push(format!(
            "{} allowed by `keyhound:allow` markers or the allowlist",
            plural(report.suppressed, "finding")
        ));
    }
    if parts.is_empty() {
        return Ok(());
    }
    writeln!(out, "Not listed: {}.", parts.join("; "))?;
    writeln!(out)
}

/// The inputs that could not be read, and why.
fn write_not_scanned(stats: &Stats, out: &mut dyn Write) -> io::Result<()> {
    let unread: Vec<&(_, SkipReason)> = stats
        .skipped
        .iter()
        .filter(|(_, reason)| reason.makes_scan_incomplete())
        .collect();
    writeln!(out, "### Not scanned")?;
    writeln!(out)?;
    writeln!(out, "| Input | Why |")?;
    writeln!(out, "|---|---|")?;
    for (origin, reason) in unread.iter().take(ROWS_SHOWN) {
        writeln!(
            out,
            "| {} | {} |",
            code(&origin.to_string()),
            text(&reason.to_string())
        )?;
    }
    writeln!(out)?;
    write_more(unread.len().saturating_sub(ROWS_SHOWN), "input", out)
}

/// The inputs not read that the configuration accepts as unread, and what accepts each.
fn write_accepted(stats: &Stats, out: &mut dyn Write) -> io::Result<()> {
    let accepted: Vec<(&Origin, &str, &str)> = stats
        .skipped
        .iter()
        .filter_map(|(origin, reason)| match reason {
            SkipReason::Accepted { why, by } => Some((origin, why.as_str(), by.as_str())),
            _ => None,
        })
        .collect();
    if accepted.is_empty() {
        return Ok(());
    }
    writeln!(out, "### Accepted as unread")?;
    writeln!(out)?;
    writeln!(out, "| Input | Why | Accepted by |")?;
    writeln!(out, "|---|---|---|")?;
    for (origin, why, by) in accepted.iter().take(ROWS_SHOWN) {
        writeln!(
            out,
            "| {} | {} | {} |",
            code(&origin.to_string()),
            text(why),
            text(by)
        )?;
    }
    writeln!(out)?;
    write_more(accepted.len().saturating_sub(ROWS_SHOWN), "input", out)
}

/// Each failing rule's remediation, once, in the order the table first names the rule.
fn write_remediation(
    failing: &[&Group<'_>],
    rules: &RuleSet,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "### What to do")?;
    writeln!(out)?;
    let mut named: Vec<&str> = Vec::new();
    for group in failing {
        let finding = group.primary();
        if named.contains(&finding.rule_id.as_str()) {
            continue;
        }
        named.push(&finding.rule_id);
        let remediation = rules
            .remediation_of(&finding.rule_id)
            .unwrap_or(DEFAULT_REMEDIATION);
        writeln!(
            out,
            "- **{}** ({}): {}",
            text(&finding.rule_name),
            code(&finding.rule_id),
            text(remediation)
        )?;
    }
    writeln!(out)
}

/// The characters that start Markdown or HTML inline: escapes, code, emphasis, links and
/// images, HTML and autolinks, entities, strikethrough, math, and a table's cell separator.
/// (What starts a block, such as `#` or `-`, never starts a cell or follows a list marker here.)
const INLINE_SYNTAX: &str = "\\`*_[]<>&~$|";

/// Plain text for Markdown: control characters shown as escapes (as the text format shows
/// them), line breaks included, and every character of [`INLINE_SYNTAX`] backslash-escaped, so
/// nothing in it is read as Markdown, HTML or a table's `|`.
pub(super) fn text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in sanitize(raw).chars() {
        if INLINE_SYNTAX.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A code span for Markdown: control characters shown as escapes, `|` escaped as tables
/// require even inside code, and fenced by more backticks than the text holds in a row.
pub(super) fn code(raw: &str) -> String {
    let inner = sanitize(raw).replace('|', "\\|");
    let fence = "`".repeat(longest_run(&inner, '`') + 1);
    // A code span drops one space at each end when both ends have one, and a backtick at an
    // end would join the fence: a space on each side keeps such text as it is.
    let pad = if inner.starts_with('`')
        || inner.ends_with('`')
        || (inner.starts_with(' ') && inner.ends_with(' '))
    {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{inner}{pad}{fence}")
}

/// The length of the longest run of `c` in `text`.
fn longest_run(text: &str, c: char) -> usize {
    text.split(|other| other != c)
        .map(str::len)
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::{self, pair_at, KEY_ID, SECRET};
    use crate::source::Origin;

    fn render(findings: &[Finding], rules: &RuleSet, stats: &Stats, show: bool) -> String {
        testing::render(write, findings, rules, stats, show)
    }

    /// The cells of a table row, split at the `|` that are not escaped.
    fn cells(row: &str) -> Vec<String> {
        let mut cells = vec![String::new()];
        let mut escaped = false;
        for c in row.trim().trim_matches('|').chars() {
            match c {
                '|' if !escaped => cells.push(String::new()),
                _ => cells.last_mut().unwrap().push(c),
            }
            escaped = c == '\\' && !escaped;
        }
        cells
    }

    #[test]
    fn text_escapes_markdown_html_pipes_and_line_breaks() {
        assert_eq!(text("a|b"), "a\\|b");
        assert_eq!(text("<img src=x>"), "\\<img src=x\\>");
        assert_eq!(
            text("`x` *y* _z_ [l](u) ![i](u) ~s~ $m$ &lt;"),
            "\\`x\\` \\*y\\* \\_z\\_ \\[l\\](u) !\\[i\\](u) \\~s\\~ \\$m\\$ \\&lt;"
        );
        assert_eq!(text("one\ntwo\r"), "one\\\\x0atwo\\\\x0d");
        assert_eq!(
            text("Dee Veloper, 2023-11-14: ok."),
            "Dee Veloper, 2023-11-14: ok."
        );
    }

    #[test]
    fn code_spans_outlast_backticks_and_escape_pipes() {
        assert_eq!(code("a.env:3"), "`a.env:3`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x``"), "``` `x`` ```");
        assert_eq!(code("a|b\\|c"), "`a\\|b\\\\|c`");
        assert_eq!(code("<b>\n"), "`<b>\\x0a`");
        assert_eq!(code(" x "), "`  x  `");
    }

    #[test]
    fn a_pair_is_one_row_redacted_with_its_rules_remediation_once() {
        let rules = RuleSet::builtin().unwrap();
        let mut findings = pair_at(&rules, "deploy/prod.env");
        findings.extend(pair_at(&rules, "old.env"));
        let out = render(&findings, &rules, &Stats::default(), false);
        assert!(out.starts_with("## keyhound: 1 secret found\n"), "{out}");
        assert!(!out.contains(SECRET), "{out}");
        let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("| `")).collect();
        assert_eq!(rows.len(), 1, "{out}");
        assert_eq!(
            cells(rows[0]),
            [
                " `deploy/prod.env:2` and 1 other place ",
                &format!(" `Zq3d…tKwE` with key ID `{KEY_ID}` "),
                " `aws-access-key-pair` ",
                " critical ",
                " high ",
            ],
            "{out}"
        );
        let remediation = &rules.by_id("aws-secret-access-key").unwrap().remediation;
        let first_words: String = remediation.chars().take(30).collect();
        assert_eq!(out.matches(&text(&first_words)).count(), 1, "{out}");
        assert!(out.contains("- **AWS access key pair** (`aws-access-key-pair`): "));
    }

    #[test]
    fn show_secrets_shows_the_secret() {
        let rules = RuleSet::builtin().unwrap();
        let out = render(&pair_at(&rules, "a.env"), &rules, &Stats::default(), true);
        assert!(out.contains(&format!("`{SECRET}`")), "{out}");
    }

    #[test]
    fn a_hostile_path_stays_in_its_cell() {
        let rules = RuleSet::builtin().unwrap();
        let path = "x|y`</table><script>\n| evil | row |.env";
        let out = render(&pair_at(&rules, path), &rules, &Stats::default(), false);
        let row = out.lines().find(|l| l.contains("key ID")).unwrap();
        assert_eq!(cells(row).len(), 5, "{out}");
        assert!(!out.contains("\n| evil"), "{out}");
    }

    #[test]
    fn the_table_is_capped_with_a_count_of_the_rest() {
        let rules = RuleSet::builtin().unwrap();
        let template = pair_at(&rules, "a.env").remove(0);
        let findings: Vec<Finding> = (0..ROWS_SHOWN + 7)
            .map(|i| Finding {
                secret: format!("{SECRET}{i:03}"),
                ..template.clone()
            })
            .collect();
        let out = render(&findings, &rules, &Stats::default(), false);
        assert!(out.starts_with("## keyhound: 57 secrets found\n"), "{out}");
        let rows = out.lines().filter(|l| l.starts_with("| `a.env:2`")).count();
        assert_eq!(rows, ROWS_SHOWN);
        assert!(out.contains("…and 7 more secrets (the JSON and SARIF reports list them all)."));
        // One rule, one remediation however many rows.
        assert_eq!(out.matches("- **").count(), 1, "{out}");
    }

    #[test]
    fn a_clean_scan_is_a_heading_and_its_summary() {
        let rules = RuleSet::builtin().unwrap();
        let out = render(&[], &rules, &Stats::default(), false);
        assert!(out.starts_with("## keyhound: no secrets found\n"), "{out}");
        assert!(out.contains("```text\nscanned 0 files"), "{out}");
        assert!(!out.contains("| "), "{out}");
        assert!(!out.contains("### "), "{out}");
    }

    #[test]
    fn an_incomplete_scan_says_what_was_not_read_and_why() {
        let rules = RuleSet::builtin().unwrap();
        let stats = Stats {
            skipped: vec![
                (
                    Origin::File("locked|<b>.env".into()),
                    SkipReason::Unreadable {
                        error: "Permission denied".into(),
                    },
                ),
                (Origin::File("logo.png".into()), SkipReason::Binary),
            ],
            ..Stats::default()
        };
        let out = render(&[], &rules, &stats, false);
        assert!(out.starts_with("## keyhound: scan incomplete\n"), "{out}");
        assert!(
            out.contains("| `locked\\|<b>.env` | cannot read: Permission denied |"),
            "{out}"
        );
        // Skipped by design: counted in the summary, not listed as unread.
        assert!(!out.contains("logo.png"), "{out}");
    }

    #[test]
    fn git_findings_say_which_commit_added_them() {
        let rules = RuleSet::builtin().unwrap();
        let mut findings = pair_at(&rules, "creds");
        findings[0].git = Some(crate::finding::GitProvenance {
            commit: Some(crate::finding::CommitInfo {
                id: "c4d39b2122f7aa0fe0c4d39b2122f7aa0fe0c4d3".into(),
                author_name: "Dee *Veloper*".into(),
                author_email: "dee@example.com".into(),
                time: 1_700_000_000,
                date: "2023-11-14T22:13:20Z".into(),
                path: "creds".into(),
            }),
            in_head: Some(false),
            ..Default::default()
        });
        let out = render(&findings, &rules, &Stats::default(), false);
        let row = out.lines().find(|l| l.contains("key ID")).unwrap();
        let cells = cells(row);
        assert_eq!(
            cells[5], " `c4d39b2122f7` by Dee \\*Veloper\\* on 2023-11-14 ",
            "{out}"
        );
        assert!(cells[0].contains("only in history"), "{out}");
    }
}
