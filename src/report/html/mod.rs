//! The HTML report (`--format html`): one page for the people who act on a scan, such as a
//! security lead or a team's owner, who open a report rather than a terminal.
//!
//! The page is one file that works offline: its style and script are inline, and a
//! Content-Security-Policy forbids every network load (the only sources allowed are the page's
//! own style and script, by their hashes). Everything is in the HTML itself, so the page reads
//! and prints without JavaScript; the script only sorts, filters, pages and expands the rows. At
//! the top it says what was scanned and what was found (counts by severity and confidence, what
//! verification and access analysis learned, what could not be read); then charts drawn here as
//! SVG, each with its numbers in a table (when secrets were introduced, split into those HEAD
//! still holds and those only history does; per repository for audits; by rule and kind); then
//! one row per secret, which expands to every place it is, and each rule's remediation once.
//!
//! Everything taken from the scanned input or from rules goes through [`escape::Text`], and
//! secrets are shown as every format shows them: redacted unless `--show-secrets`. Rows are
//! rendered on every core (see [`parallel`]) in report order, so the same findings make the same
//! bytes; only the report's time and the scan's duration differ between runs.

mod chart;
mod escape;
mod rows;

pub(super) use escape::Text;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use sha2::{Digest, Sha256};

use self::chart::Series;
use self::rows::Remedies;
use super::markdown::verdict;
use super::text::plural;
use super::{parallel, write_summary, Group, Report};
use crate::rules::{Confidence, Severity};
use crate::source::SkipReason;

/// The page's style sheet and script, inlined in every report.
const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");
/// Marks the page as scripted before the body is parsed, so that its first layout already
/// hides what the script will page away (a long report would otherwise be laid out whole).
const EARLY_SCRIPT: &str = "document.documentElement.className='js'";

/// Verification outcomes in the order the page counts them.
const VERIFICATION_ORDER: [&str; 6] = [
    "live",
    "invalid",
    "wrong-secret",
    "expired",
    "unknown",
    "skipped",
];

/// Writes the page.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let remedies = Remedies::of(report);
    let rows = parallel::render(&report.groups, |_, group, text| {
        rows::write(group, report, &remedies, text)
    })?;
    let mut top = String::new();
    let mut bottom = String::new();
    render_top(report, &mut top).map_err(io::Error::other)?;
    render_bottom(report, &remedies, &mut bottom).map_err(io::Error::other)?;
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    out.write_all(top.as_bytes())?;
    for run in &rows {
        out.write_all(run)?;
    }
    out.write_all(bottom.as_bytes())?;
    out.flush()
}

/// The page from its head to the rows of the findings table.
fn render_top(report: &Report<'_>, out: &mut String) -> std::fmt::Result {
    let failing = report.groups.iter().filter(|g| g.fails_scan()).count();
    let incomplete = report.stats.incomplete();
    let verdict = verdict(report, failing, incomplete);
    let state = match (failing, incomplete) {
        (0, false) => "clean",
        (0, true) => "incomplete",
        _ => "found",
    };
    write_page_head(out, &verdict, state)?;
    if let Some(subject) = report.subject {
        writeln!(out, "<p class=meta>Scanned: {}.</p>", Text(subject))?;
    }
    writeln!(
        out,
        "<p class=meta>Written by keyhound {} on <time>{}</time>. Secrets are {}.</p>",
        env!("CARGO_PKG_VERSION"),
        crate::source::git::rfc3339(report.written_at),
        secrets_shown(report)
    )?;
    let mut summary = Vec::new();
    write_summary(report, &mut summary).map_err(|_| std::fmt::Error)?;
    out.push_str("<pre class=summary>");
    for line in String::from_utf8_lossy(&summary).lines() {
        writeln!(out, "{}", Text(line))?;
    }
    writeln!(out, "</pre>\n</header>\n<main>")?;
    if incomplete {
        write_not_scanned(report, out)?;
    }
    write_glance(report, out)?;
    write_charts(report, out)?;
    rows::write_table_head(report, out)
}

/// How the page shows secrets, in words: a merged report shows them as the reports it merges
/// did, which it cannot tell apart from what rules show whole (key IDs).
fn secrets_shown(report: &Report<'_>) -> &'static str {
    let merged = report.groups.iter().any(|g| g.primary().restored.is_some());
    match (report.show_secrets, merged) {
        (true, _) => "shown in full (--show-secrets): keep this page as safe as the keys",
        (false, true) => {
            "shown as the merged reports showed them: redacted, unless those were written with \
             --show-secrets"
        }
        (false, false) => "redacted",
    }
}

/// The page after the rows: each rule's remediation, what was accepted as unread, and the
/// script.
fn render_bottom(report: &Report<'_>, remedies: &Remedies, out: &mut String) -> std::fmt::Result {
    rows::write_table_foot(report, out)?;
    remedies.write_section(report.rules, out)?;
    write_accepted(report, out)?;
    write_page_foot(out)
}

/// A page's head, with its policy, style and title, and the start of its header: the heading
/// `keyhound: {title}`, coloured by `state` (`clean`, `incomplete` or `found`).
pub(super) fn write_page_head(out: &mut String, title: &str, state: &str) -> std::fmt::Result {
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n\
         <meta http-equiv=Content-Security-Policy content=\"{}\">\n\
         <meta name=referrer content=no-referrer>\n\
         <meta name=viewport content=\"width=device-width, initial-scale=1\">\n\
         <meta name=generator content=\"keyhound {}\">\n\
         <title>keyhound: {}</title>\n<script>{EARLY_SCRIPT}</script>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<header class={state}><h1>keyhound: {}</h1>",
        content_security_policy(),
        env!("CARGO_PKG_VERSION"),
        Text(title),
        Text(title)
    )
}

/// A page's end: its footer and script.
pub(super) fn write_page_foot(out: &mut String) -> std::fmt::Result {
    writeln!(
        out,
        "</main>\n<footer>keyhound {} · this page loads nothing from the network; its script \
         only sorts, filters, pages and expands what is on it.</footer>\n\
         <script>{SCRIPT}</script>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    )
}

/// The policy that keeps the page offline: nothing may be loaded, and only the page's own
/// style and scripts (named by their hashes) run; images only from `data:` URLs.
fn content_security_policy() -> String {
    let hash = |text: &str| crate::decode::base64_encode(&Sha256::digest(text.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}' 'sha256-{}'; \
         img-src data:; base-uri 'none'; form-action 'none'",
        hash(STYLE),
        hash(EARLY_SCRIPT),
        hash(SCRIPT)
    )
}

/// Counts of the secrets listed, by severity, confidence and verification; what live keys may
/// do; what an audit or a history scan covered.
fn write_glance(report: &Report<'_>, out: &mut String) -> std::fmt::Result {
    let groups = &report.groups;
    writeln!(out, "<section id=glance aria-label=\"At a glance\">")?;
    let failing = groups.iter().filter(|g| g.fails_scan()).count();
    let places: usize = groups.iter().map(|g| g.occurrences.len()).sum();
    let mut totals = vec![
        ("secrets that fail the scan".to_string(), failing, "total"),
        ("secrets listed".to_string(), groups.len(), "total"),
        ("places they are in".to_string(), places, "total"),
    ];
    if let Some(audit) = report.stats.audit {
        totals.push((
            "repositories audited".to_string(),
            audit.repositories as usize,
            "total",
        ));
        totals.push((
            "repositories that could not be audited".to_string(),
            audit.failed as usize,
            if audit.failed > 0 { "bad" } else { "total" },
        ));
    }
    write_tiles(out, "Found", &totals)?;
    let by_severity = Severity::ALL_DESCENDING
        .iter()
        .map(|s| {
            let n = groups.iter().filter(|g| g.primary().severity == *s).count();
            (s.as_str().to_string(), n, s.as_str())
        })
        .collect::<Vec<_>>();
    write_tiles(out, "By severity", &by_severity)?;
    let by_confidence = [
        Confidence::High,
        Confidence::Medium,
        Confidence::Low,
        Confidence::Example,
    ]
    .iter()
    .map(|c| {
        let n = groups
            .iter()
            .filter(|g| g.primary().confidence == *c)
            .count();
        (c.as_str().to_string(), n, "total")
    })
    .collect::<Vec<_>>();
    write_tiles(out, "By confidence", &by_confidence)?;
    let verified: Vec<&str> = groups
        .iter()
        .filter_map(|g| g.primary().verification.as_ref())
        .map(|v| v.status.as_str())
        .collect();
    if !verified.is_empty() {
        let mut by_status: Vec<(String, usize, &str)> = VERIFICATION_ORDER
            .iter()
            .map(|status| {
                let n = verified.iter().filter(|v| *v == status).count();
                let class = if *status == "live" && n > 0 {
                    "bad"
                } else {
                    "total"
                };
                (status.to_string(), n, class)
            })
            .collect();
        by_status.push((
            "not verified".to_string(),
            groups.len() - verified.len(),
            "total",
        ));
        write_tiles(out, "Verified with AWS", &by_status)?;
    }
    write_access(report, out)?;
    writeln!(out, "</section>")
}

/// A row of count tiles under a heading: (what is counted, how many, CSS class).
fn write_tiles(
    out: &mut String,
    heading: &str,
    tiles: &[(String, usize, &str)],
) -> std::fmt::Result {
    writeln!(out, "<div class=tiles><h2>{heading}</h2><ul>")?;
    for (name, count, class) in tiles {
        writeln!(
            out,
            "<li class={class}><strong>{count}</strong> {}</li>",
            Text(name)
        )?;
    }
    writeln!(out, "</ul></div>")
}

/// What each live key may do (`--analyze`): administrators first.
fn write_access(report: &Report<'_>, out: &mut String) -> std::fmt::Result {
    let mut analysed: Vec<(&Group<'_>, &crate::finding::Access)> = report
        .groups
        .iter()
        .filter_map(|g| {
            let access = g.primary().verification.as_ref()?.access.as_ref()?;
            Some((g, access))
        })
        .collect();
    if analysed.is_empty() {
        return Ok(());
    }
    analysed.sort_by_key(|(_, access)| !access.administrator);
    let administrators = analysed.iter().filter(|(_, a)| a.administrator).count();
    writeln!(
        out,
        "<div class=access><h2>What the live keys may do</h2>\n<p>{} of {} analysed {} an \
         administrator.</p>\n<table><thead><tr><th scope=col>Key</th><th scope=col>Account</th>\
         <th scope=col>Acts as</th><th scope=col>May</th></tr></thead><tbody>",
        administrators,
        plural(analysed.len(), "live key"),
        if administrators == 1 { "is" } else { "are" }
    )?;
    for (group, access) in analysed {
        let finding = group.primary();
        let key = match &finding.pair {
            Some(pair) => pair.key_id.clone(),
            None => finding.shown_secret(report.show_secrets),
        };
        let account = finding
            .aws_account
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        writeln!(
            out,
            "<tr{}><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            if access.administrator {
                " class=admin"
            } else {
                ""
            },
            Text(&key),
            Text(&account),
            Text(&access.principal),
            Text(&access.describe())
        )?;
    }
    writeln!(out, "</tbody></table></div>")
}

/// The inputs that could not be read, and why: the reason the scan is incomplete.
fn write_not_scanned(report: &Report<'_>, out: &mut String) -> std::fmt::Result {
    let unread: Vec<_> = report
        .stats
        .skipped
        .iter()
        .filter(|(_, reason)| reason.makes_scan_incomplete())
        .collect();
    writeln!(
        out,
        "<section id=not-scanned class=warning><h2>Not scanned: {}</h2>\n<p>This scan cannot \
         vouch for these inputs: they could not be read (to their end).</p>",
        plural(unread.len(), "input")
    )?;
    write_inputs(
        out,
        &["Input", "Why"],
        unread.iter().map(|(o, r)| (o, r, None)),
    )?;
    writeln!(out, "</section>")
}

/// The inputs not read that the configuration accepts as unread, and what accepts each.
fn write_accepted(report: &Report<'_>, out: &mut String) -> std::fmt::Result {
    let accepted: Vec<_> = report
        .stats
        .skipped
        .iter()
        .filter_map(|(origin, reason)| match reason {
            SkipReason::Accepted { by, .. } => Some((origin, reason, Some(by.as_str()))),
            _ => None,
        })
        .collect();
    if accepted.is_empty() {
        return Ok(());
    }
    writeln!(out, "<section id=accepted><h2>Accepted as unread</h2>")?;
    write_inputs(out, &["Input", "Why", "Accepted by"], accepted.into_iter())?;
    writeln!(out, "</section>")
}

/// A table of inputs, each with the reason and (for accepted ones) what accepts it.
fn write_inputs<'a>(
    out: &mut String,
    header: &[&str],
    inputs: impl Iterator<Item = (&'a crate::source::Origin, &'a SkipReason, Option<&'a str>)>,
) -> std::fmt::Result {
    out.push_str("<table class=inputs><thead><tr>");
    for name in header {
        write!(out, "<th scope=col>{name}</th>")?;
    }
    writeln!(out, "</tr></thead><tbody>")?;
    for (origin, reason, by) in inputs {
        let why = match reason {
            SkipReason::Accepted { why, .. } => why.clone(),
            other => other.to_string(),
        };
        write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td>",
            Text(&origin.to_string()),
            Text(&why)
        )?;
        if let Some(by) = by {
            write!(out, "<td>{}</td>", Text(by))?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody></table>")
}

/// The charts: the leak timeline for history scans, secrets per repository for audits, and
/// secrets by rule and kind.
fn write_charts(report: &Report<'_>, out: &mut String) -> std::fmt::Result {
    if report.groups.is_empty() {
        return Ok(());
    }
    writeln!(out, "<section id=charts aria-label=Charts>")?;
    write_timeline(report, out)?;
    let mut per_repository: BTreeMap<&str, u64> = BTreeMap::new();
    for group in &report.groups {
        for repo in group.repositories() {
            *per_repository.entry(repo).or_default() += 1;
        }
    }
    if !per_repository.is_empty() {
        let rows = largest_first(
            per_repository
                .into_iter()
                .map(|(repo, n)| (vec![repo.to_string()], n)),
        );
        chart::bars(
            out,
            "Secrets per repository",
            &["Repository", "Secrets"],
            &rows,
        )?;
    }
    let mut per_rule: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for group in &report.groups {
        let finding = group.primary();
        let kind = finding.kind.as_deref().unwrap_or("");
        *per_rule.entry((&finding.rule_name, kind)).or_default() += 1;
    }
    let rows = largest_first(
        per_rule
            .into_iter()
            .map(|((rule, kind), n)| (vec![rule.to_string(), kind.to_string()], n)),
    );
    chart::bars(
        out,
        "Secrets by rule and kind",
        &["Rule", "Kind", "Secrets"],
        &rows,
    )?;
    writeln!(out, "</section>")
}

/// `rows` sorted by count, largest first (ties keep their order).
fn largest_first(rows: impl Iterator<Item = (Vec<String>, u64)>) -> Vec<(Vec<String>, u64)> {
    let mut rows: Vec<_> = rows.collect();
    rows.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    rows
}

/// When the secrets of a history scan were introduced, month by month from the first to the
/// last, split into those HEAD still holds and those only history does.
fn write_timeline(report: &Report<'_>, out: &mut String) -> std::fmt::Result {
    // Per month: [in HEAD, only in history, not known].
    let mut months: BTreeMap<(i64, i64), [u64; 3]> = BTreeMap::new();
    for group in &report.groups {
        let Some(commit) = rows::introduced(group) else {
            continue;
        };
        let Some(month) = year_month(&commit.date) else {
            continue;
        };
        let column = match group.in_head() {
            Some(true) => 0,
            Some(false) => 1,
            None => 2,
        };
        months.entry(month).or_default()[column] += 1;
    }
    let (Some(first), Some(last)) = (months.keys().next().copied(), months.keys().last().copied())
    else {
        return Ok(());
    };
    let unknown = months.values().any(|m| m[2] > 0);
    let mut labels = Vec::new();
    let mut values = Vec::new();
    let mut month = first;
    while month <= last {
        let counts = months.get(&month).copied().unwrap_or_default();
        labels.push(format!("{:04}-{:02}", month.0, month.1));
        values.push(if unknown {
            counts.to_vec()
        } else {
            counts[..2].to_vec()
        });
        month = if month.1 == 12 {
            (month.0 + 1, 1)
        } else {
            (month.0, month.1 + 1)
        };
    }
    let mut series = vec![
        Series {
            name: "still in HEAD",
            class: "head",
        },
        Series {
            name: "only in history",
            class: "past",
        },
    ];
    if unknown {
        series.push(Series {
            name: "not known",
            class: "unknown",
        });
    }
    chart::columns(
        out,
        "When the secrets were introduced, by month",
        &labels,
        &series,
        &values,
    )
}

/// The year and month of an RFC 3339 date.
fn year_month(date: &str) -> Option<(i64, i64)> {
    let year = date.get(..4)?.parse().ok()?;
    let month = date.get(5..7)?.parse().ok()?;
    (1..=12).contains(&month).then_some((year, month))
}

#[cfg(test)]
mod tests;
