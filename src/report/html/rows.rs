//! The findings table: one row per secret, with the columns people sort and filter by, and
//! under it a row that expands to everything known of the secret: every place it is (path,
//! line, snippet, archive path or image layer, commit), its key ID, account, canary warning,
//! what verification and access analysis found, and where its rule's remediation is.
//!
//! Without JavaScript the detail rows are `<details>` elements a click opens; the script hides
//! them until their row is expanded. The attributes of a finding's row (`data-*`) give the
//! script what it sorts and filters by that its cells do not say as such, HTML-escaped like any
//! other text.
//!
//! A report can list tens of thousands of secrets, so the markup is lean: cells are styled by
//! their column rather than by classes or inner elements, attributes with their usual value are
//! left out, and what a row shows is not said again in its details (10,000 secrets of one place
//! each make a page of about 7.8 MB).

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::io;

use super::escape::Text;
use crate::finding::{CommitInfo, Finding, Verification, VerificationStatus};
use crate::report::markdown::DEFAULT_REMEDIATION;
use crate::report::{canary_message, Group, Report};
use crate::rules::RuleSet;

/// How many characters of a commit id a row shows.
const SHORT_COMMIT: usize = 12;

/// The columns of the findings table, as their headers name them.
const COLUMNS: [&str; 7] = [
    "Severity",
    "Confidence",
    "Rule",
    "Secret",
    "Where",
    "Introduced",
    "Verified",
];

/// How many findings a page of the table shows at first. Until the script has run, the style
/// sheet shows only the rows of the first page (see `page.css`), so the two must agree.
pub const PAGE_SIZE: usize = 100;

/// The rules of the reported secrets, in the order the table first names them: the "What to
/// do" section lists each rule's remediation once, and rows link to it.
pub struct Remedies {
    /// Each rule's id and name.
    order: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

impl Remedies {
    pub fn of(report: &Report<'_>) -> Remedies {
        let mut remedies = Remedies {
            order: Vec::new(),
            index: HashMap::new(),
        };
        for group in &report.groups {
            let finding = group.primary();
            let id = &finding.rule_id;
            if !remedies.index.contains_key(id) {
                remedies.index.insert(id.clone(), remedies.order.len());
                remedies.order.push((id.clone(), finding.rule_name.clone()));
            }
        }
        remedies
    }

    /// The anchor of `rule_id`'s remediation.
    fn anchor(&self, rule_id: &str) -> usize {
        self.index.get(rule_id).copied().unwrap_or(0)
    }

    /// The "What to do" section.
    pub fn write_section(&self, rules: &RuleSet, out: &mut String) -> fmt::Result {
        if self.order.is_empty() {
            return Ok(());
        }
        writeln!(out, "<section id=what-to-do><h2>What to do</h2><dl>")?;
        for (anchor, (id, name)) in self.order.iter().enumerate() {
            let remediation = rules.remediation_of(id).unwrap_or(DEFAULT_REMEDIATION);
            writeln!(
                out,
                "<dt id=fix-{anchor}>{} (<code>{}</code>)</dt><dd>{}</dd>",
                Text(name),
                Text(id),
                Text(remediation)
            )?;
        }
        writeln!(out, "</dl></section>")
    }
}

/// The commit that introduced the secret: the earliest of its places' introducing commits.
pub fn introduced<'a>(group: &Group<'a>) -> Option<&'a CommitInfo> {
    group
        .occurrences
        .iter()
        .filter_map(|f| f.git.as_ref()?.commit.as_ref())
        .min_by_key(|c| c.time)
}

/// The table's opening: its heading, the script's controls (hidden until the script shows
/// them), and the header row.
pub fn write_table_head(report: &Report<'_>, out: &mut String) -> fmt::Result {
    writeln!(
        out,
        "<section id=findings><h2>Findings: {}</h2>",
        crate::report::text::plural(report.groups.len(), "secret")
    )?;
    if report.groups.is_empty() {
        return writeln!(out, "<p>Nothing to list.</p>");
    }
    writeln!(
        out,
        "<form id=controls hidden role=search>\
         <label>Text <input type=search id=q placeholder=\"path, author, key ID…\"></label> \
         <label>Severity <select id=f-s data-attr=s><option value=\"\">any</option>\
         <option>critical</option><option>high</option><option>medium</option>\
         <option>low</option><option>info</option></select></label> \
         <label>Confidence <select id=f-c data-attr=c><option value=\"\">any</option>\
         <option>high</option><option>medium</option><option>low</option>\
         <option>example</option></select></label> \
         <label>Rule <select id=f-r data-attr=r><option value=\"\">any</option></select></label> \
         <label>Where <select id=f-h data-attr=h><option value=\"\">any</option>\
         <option value=head>still in HEAD</option><option value=history>only in history</option>\
         </select></label> \
         <label>Verified <select id=f-v data-attr=v><option value=\"\">any</option></select></label> \
         <label>Fails the scan <select id=f-x data-attr=x><option value=\"\">any</option>\
         <option value=1>yes</option><option value=0>no (example, baseline)</option>\
         </select></label> \
         <button type=button id=expand>Expand shown</button> \
         <button type=button id=collapse>Collapse all</button></form>\n\
         <p id=status aria-live=polite></p>\n<table id=table><thead><tr>"
    )?;
    for (column, name) in COLUMNS.iter().enumerate() {
        write!(out, "<th scope=col data-col={column}>{name}</th>")?;
    }
    writeln!(out, "</tr></thead>\n<tbody id=rows>")
}

/// The table's end and the pager the script drives.
pub fn write_table_foot(report: &Report<'_>, out: &mut String) -> fmt::Result {
    if !report.groups.is_empty() {
        writeln!(
            out,
            "</tbody></table>\n<nav id=pager hidden aria-label=Pages>\
             <button type=button id=prev>Previous</button> <span id=page></span> \
             <button type=button id=next>Next</button> <label>Rows per page <select id=size>\
             <option>50</option><option selected>{PAGE_SIZE}</option><option>500</option>\
             <option value=0>all</option></select></label></nav>"
        )?;
    }
    writeln!(out, "</section>")
}

/// Appends the two rows of `group` to `out`.
pub fn write(
    group: &Group<'_>,
    report: &Report<'_>,
    remedies: &Remedies,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    let mut text = String::with_capacity(1024);
    write_rows(group, report, remedies, &mut text).map_err(io::Error::other)?;
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

fn write_rows(
    group: &Group<'_>,
    report: &Report<'_>,
    remedies: &Remedies,
    out: &mut String,
) -> fmt::Result {
    let finding = group.primary();
    let introduced = introduced(group);
    let verified = finding.verification.as_ref().map(|v| v.status.as_str());
    let place = match group.in_head() {
        Some(true) => "head",
        Some(false) => "history",
        None => "",
    };
    // Attributes are left out when usual: not verified, failing the scan, no commit.
    write!(out, "<tr class=f data-s={}", finding.severity)?;
    if !place.is_empty() {
        write!(out, " data-h={place}")?;
    }
    if let Some(status) = verified {
        write!(out, " data-v={status}")?;
    }
    if !group.fails_scan() {
        out.push_str(" data-x=0");
    }
    if let Some(commit) = introduced {
        write!(out, " data-t={}", commit.time)?;
    }
    write!(
        out,
        "><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}:{}",
        finding.severity,
        finding.confidence,
        Text(&finding.rule_id),
        Text(&finding.shown_secret(report.show_secrets)),
        Text(&finding.origin.to_string()),
        finding.location.line,
    )?;
    if !group.others().is_empty() {
        write!(out, " <small>+{} more</small>", group.others().len())?;
    }
    if place == "history" {
        out.push_str(" <small>only in history</small>");
    }
    if !finding.fails_scan() {
        out.push_str(" <small>not counted</small>");
    }
    out.push_str("</td><td>");
    if let Some(commit) = introduced {
        write!(
            out,
            "{} {} {}",
            Text(day(&commit.date)),
            Text(&commit.author_name),
            Text(short(&commit.id))
        )?;
    }
    writeln!(out, "</td><td>{}</td></tr>", verified.unwrap_or(""))?;
    write!(
        out,
        "<tr class=d><td colspan={}><details><summary>{}</summary><dl>",
        COLUMNS.len(),
        crate::report::text::plural(group.occurrences.len(), "place")
    )?;
    write_facts(group, out)?;
    write!(
        out,
        "<dt>What to do</dt><dd><a href=#fix-{}>the rule's remediation</a></dd></dl><ol>",
        remedies.anchor(&finding.rule_id),
    )?;
    for place in &group.occurrences {
        write_place(place, finding.confidence, report.show_secrets, out)?;
    }
    writeln!(out, "</ol></details></td></tr>")
}

/// What is known of the secret itself, as a description list's entries (what its row shows
/// is not said again).
fn write_facts(group: &Group<'_>, out: &mut String) -> fmt::Result {
    let finding = group.primary();
    write!(out, "<dt>Rule</dt><dd>{}", Text(&finding.rule_name))?;
    if let Some(kind) = &finding.kind {
        write!(out, ", {}", Text(kind))?;
    }
    // The id that stands for the secret in every report, to find it in the others.
    write!(
        out,
        "</dd><dt>Secret ID</dt><dd>{}</dd>",
        Text(&finding.secret_id())
    )?;
    if let Some(pair) = &finding.pair {
        write!(out, "<dt>Key ID</dt><dd>{}</dd>", Text(&pair.key_id))?;
    }
    if let Some(account) = &finding.aws_account {
        write!(
            out,
            "<dt>Account</dt><dd>{}</dd>",
            Text(&account.to_string())
        )?;
    }
    if let Some(service) = finding.canary() {
        write!(
            out,
            "<dt>Canary</dt><dd class=warn>{}</dd>",
            Text(&canary_message(service))
        )?;
    }
    let repositories = group.repositories();
    if !repositories.is_empty() {
        write!(out, "<dt>Repositories</dt><dd>")?;
        write_list(out, ", ", repositories.iter().copied())?;
        out.push_str("</dd>");
    }
    if let Some(verification) = &finding.verification {
        write_verification(verification, out)?;
    }
    Ok(())
}

/// `items`, escaped, separated by `separator`.
fn write_list<'a>(
    out: &mut String,
    separator: &str,
    items: impl Iterator<Item = &'a str>,
) -> fmt::Result {
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        write!(out, "{}", Text(item))?;
    }
    Ok(())
}

/// What AWS said of the credential, and what a live key may do.
fn write_verification(verification: &Verification, out: &mut String) -> fmt::Result {
    write!(
        out,
        "<dt>Verified</dt><dd><span class=\"v {0}\">{0}</span> at {1}",
        verification.status.as_str(),
        Text(&verification.checked_at)
    )?;
    match &verification.status {
        VerificationStatus::Live { arn, account, .. } => write!(
            out,
            ": acts as <code>{}</code> of account {}",
            Text(arn),
            Text(account)
        )?,
        VerificationStatus::Unknown { reason } | VerificationStatus::Skipped { reason } => {
            write!(out, ": {}", Text(reason))?
        }
        _ => {}
    }
    out.push_str("</dd>");
    let Some(access) = &verification.access else {
        return Ok(());
    };
    write!(
        out,
        "<dt>May</dt><dd{}>{}",
        if access.administrator {
            " class=warn"
        } else {
            ""
        },
        Text(&access.describe())
    )?;
    if !access.actions.is_empty() {
        out.push_str("<ul class=actions>");
        for (action, decision) in &access.actions {
            write!(
                out,
                "<li class={0}><code>{1}</code>: {0}</li>",
                decision.as_str(),
                Text(action)
            )?;
        }
        out.push_str("</ul>");
    }
    for (label, items) in [
        ("policies read", &access.policies),
        ("not visible to the key", &access.not_visible),
        ("IAM's policy simulator disagrees", &access.disagreements),
    ] {
        if !items.is_empty() {
            write!(out, "<p>{label}: ")?;
            write_list(out, "; ", items.iter().map(String::as_str))?;
            out.push_str("</p>");
        }
    }
    out.push_str("</dd>");
    Ok(())
}

/// One place of the secret: where, the line around it, how it was encoded, and its git or
/// image provenance. Its confidence is said when it differs from the secret's (`confidence`).
fn write_place(
    place: &Finding,
    confidence: crate::rules::Confidence,
    show_secrets: bool,
    out: &mut String,
) -> fmt::Result {
    let location = &place.location;
    write!(
        out,
        "<li>{}:{}:{}",
        Text(&place.origin.to_string()),
        location.line,
        location.column,
    )?;
    if place.confidence != confidence {
        write!(out, ", {} confidence", place.confidence)?;
    }
    if let Some(state) = place.baseline {
        out.push_str(match state {
            crate::finding::BaselineState::New => ", new since the baseline",
            crate::finding::BaselineState::Unchanged => ", in the baseline",
        });
    }
    write!(
        out,
        "<pre>{}</pre>",
        Text(&place.shown_snippet(show_secrets))
    )?;
    if !place.decoded.is_empty() {
        let chain: Vec<&str> = place.decoded.iter().map(|e| e.as_str()).collect();
        write!(out, "<p>Decoded from {}.</p>", Text(&chain.join(" → ")))?;
    }
    if let Some(git) = &place.git {
        out.push_str("<p>");
        match &git.commit {
            Some(commit) => {
                write!(
                    out,
                    "Added in {} by {} &lt;{}&gt; on {}",
                    Text(short(&commit.id)),
                    Text(&commit.author_name),
                    Text(&commit.author_email),
                    Text(&commit.date),
                )?;
                if commit.path != place.origin.display_path() {
                    write!(out, " as {}", Text(&commit.path))?;
                }
            }
            None => write!(out, "Blob {}", Text(short(&git.blob)))?,
        }
        if let Some(commits) = git.commits {
            write!(
                out,
                "; in {}",
                crate::report::text::plural(commits as usize, "commit")
            )?;
        }
        match git.in_head {
            Some(true) => out.push_str("; still in HEAD"),
            Some(false) => out.push_str("; only in history"),
            None => {}
        }
        if git.unreachable {
            out.push_str("; reachable from no ref");
        }
        if git.unplaced {
            out.push_str("; the history walk stopped before it reached this blob");
        }
        out.push_str(".</p>");
        if git.paths.len() > 1 {
            out.push_str("<p>Also at ");
            write_list(out, ", ", git.paths.iter().map(String::as_str))?;
            out.push_str(".</p>");
        }
    }
    if let Some(image) = &place.image {
        write!(
            out,
            "<p>Image layer {} ({})",
            image.layer.index,
            Text(&image.layer.digest)
        )?;
        if let Some(created_by) = &image.layer.created_by {
            write!(out, ", made by <code>{}</code>", Text(created_by))?;
        }
        out.push_str(if image.in_final_image {
            "; in the final image.</p>"
        } else {
            "; deleted by a later layer, but still shipped in this one.</p>"
        });
    }
    out.push_str("</li>");
    Ok(())
}

/// The date of an RFC 3339 time.
fn day(date: &str) -> &str {
    date.split('T').next().unwrap_or(date)
}

/// The short form of a commit or blob id.
fn short(id: &str) -> &str {
    id.get(..SHORT_COMMIT).unwrap_or(id)
}
