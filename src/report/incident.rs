//! The incident cards of `keyhound respond`, as text, JSON, Markdown or an HTML page. No card
//! holds a secret: key IDs, accounts, users and what AWS recorded, nothing a key could sign with.
//! What a card says may come from an attacker (the paths of the report, the user agents
//! CloudTrail recorded), so Markdown and HTML escape all of it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use super::html::{write_page_foot, write_page_head, Text};
use super::markdown::{code, text as escape};
use super::text::plural;
use crate::cli::CardFormat;
use crate::respond::activity::Activity;
use crate::respond::{Card, Response};

/// The version of the JSON document's layout.
const SCHEMA_VERSION: u32 = 1;
/// The most entries a count lists in text and Markdown (JSON has them all).
const TOP: usize = 5;

/// Writes `response` in `format`.
pub fn write(response: &Response, format: CardFormat, out: &mut dyn Write) -> io::Result<()> {
    match format {
        CardFormat::Json => write_json(response, out),
        CardFormat::Text => write_text(response, out),
        CardFormat::Markdown => write_markdown(response, out),
        CardFormat::Html => write_html(response, out),
    }
}

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    keyhound: &'static str,
    #[serde(flatten)]
    response: &'a Response,
}

fn write_json(response: &Response, out: &mut dyn Write) -> io::Result<()> {
    let document = Document {
        version: SCHEMA_VERSION,
        keyhound: env!("CARGO_PKG_VERSION"),
        response,
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

fn write_text(response: &Response, out: &mut dyn Write) -> io::Result<()> {
    let operator = &response.operator;
    writeln!(
        out,
        "operator: {} (account {}, region {})",
        operator.arn, operator.account, operator.region
    )?;
    if response.keys.is_empty() {
        writeln!(out, "the report holds no access key")?;
    }
    for card in &response.keys {
        writeln!(out)?;
        writeln!(
            out,
            "{}  {}  {}",
            card.key_id,
            card.kind,
            account_line(card)
        )?;
        writeln!(out, "  verdict: {}", card.verdict)?;
        for line in facts(card) {
            writeln!(out, "  {line}")?;
        }
        if let Some(activity) = &card.activity {
            writeln!(out, "  {}", activity_headline(activity))?;
            for change in &activity.changes {
                writeln!(out, "    change: {}", event_line(change))?;
            }
            for (label, counts) in counts_of(activity) {
                writeln!(out, "    {label}: {}", top(counts))?;
            }
            if activity.denied > 0 {
                writeln!(out, "    {}", probing(activity.denied))?;
            }
            for problem in &activity.problems {
                writeln!(out, "    not searched in full: {problem}")?;
            }
        }
        if !card.plan.is_empty() {
            writeln!(out, "  plan:")?;
            for (number, step) in card.plan.iter().enumerate() {
                writeln!(out, "    {}. {}", number + 1, step.what)?;
                writeln!(out, "       {}", step.command)?;
            }
        }
        for line in outcomes(card) {
            writeln!(out, "  {line}")?;
        }
    }
    Ok(())
}

fn write_markdown(response: &Response, out: &mut dyn Write) -> io::Result<()> {
    let operator = &response.operator;
    writeln!(out, "## keyhound respond")?;
    writeln!(out)?;
    writeln!(
        out,
        "Operator {} (account {}){}.",
        code(&operator.arn),
        code(&operator.account),
        if response.applied {
            ", with `--apply`"
        } else {
            ", read-only"
        }
    )?;
    if response.keys.is_empty() {
        writeln!(out, "\nThe report holds no access key.")?;
    }
    for card in &response.keys {
        writeln!(out)?;
        writeln!(out, "### {} ({})", code(&card.key_id), card.kind)?;
        writeln!(out)?;
        writeln!(out, "**{}**", escape(&card.verdict))?;
        writeln!(out)?;
        writeln!(out, "- {}", escape(&account_line(card)))?;
        for line in facts(card) {
            writeln!(out, "- {}", escape(&line))?;
        }
        if let Some(activity) = &card.activity {
            writeln!(out, "- {}", escape(&activity_headline(activity)))?;
            for (label, counts) in counts_of(activity) {
                writeln!(out, "  - {label}: {}", escape(&top(counts)))?;
            }
            if activity.denied > 0 {
                writeln!(out, "  - {}", probing(activity.denied))?;
            }
            for problem in &activity.problems {
                writeln!(out, "  - not searched in full: {}", escape(problem))?;
            }
            if !activity.changes.is_empty() {
                writeln!(out)?;
                writeln!(
                    out,
                    "| time | call | service | region | source IP | error |"
                )?;
                writeln!(out, "|---|---|---|---|---|---|")?;
                for change in &activity.changes {
                    writeln!(
                        out,
                        "| {} | {} | {} | {} | {} | {} |",
                        change.time,
                        escape(&change.event),
                        escape(&change.source),
                        escape(change.region.as_deref().unwrap_or("")),
                        escape(change.source_ip.as_deref().unwrap_or("")),
                        escape(change.error_code.as_deref().unwrap_or("")),
                    )?;
                }
            }
        }
        if !card.plan.is_empty() {
            writeln!(out)?;
            writeln!(out, "Plan:")?;
            writeln!(out)?;
            for (number, step) in card.plan.iter().enumerate() {
                writeln!(out, "{}. {}", number + 1, escape(&step.what))?;
                writeln!(out, "   ```sh\n   {}\n   ```", step.command)?;
            }
        }
        let outcomes = outcomes(card);
        if !outcomes.is_empty() {
            writeln!(out)?;
        }
        for line in outcomes {
            writeln!(out, "- {}", escape(&line))?;
        }
    }
    Ok(())
}

fn write_html(response: &Response, out: &mut dyn Write) -> io::Result<()> {
    let mut page = String::new();
    render_html(response, &mut page).map_err(io::Error::other)?;
    out.write_all(page.as_bytes())?;
    out.flush()
}

/// The page: a section per card, with what the other formats say, escaped.
fn render_html(response: &Response, out: &mut String) -> std::fmt::Result {
    let state = if response.exit_status() == 0 {
        "clean"
    } else {
        "found"
    };
    let title = format!("incident cards of {}", plural(response.keys.len(), "key"));
    write_page_head(out, &title, state)?;
    let operator = &response.operator;
    writeln!(
        out,
        "<p class=meta>Operator <code>{}</code> (account {}){}; written by keyhound {}.</p>\n\
         </header>\n<main>",
        Text(&operator.arn),
        Text(&operator.account),
        if response.applied {
            ", with --apply"
        } else {
            ", read-only"
        },
        env!("CARGO_PKG_VERSION")
    )?;
    if response.keys.is_empty() {
        writeln!(out, "<p>The report holds no access key.</p>")?;
    }
    for card in &response.keys {
        writeln!(
            out,
            "<section class=card><h2><code>{}</code> ({})</h2>\n<p><strong>{}</strong></p>",
            Text(&card.key_id),
            card.kind,
            Text(&card.verdict)
        )?;
        out.push_str("<ul>");
        for line in std::iter::once(account_line(card)).chain(facts(card)) {
            write!(out, "<li>{}</li>", Text(&line))?;
        }
        writeln!(out, "</ul>")?;
        if let Some(activity) = &card.activity {
            write_activity_html(activity, out)?;
        }
        if !card.plan.is_empty() {
            out.push_str("<h3>Plan</h3><ol>");
            for step in &card.plan {
                write!(
                    out,
                    "<li>{}<pre>{}</pre></li>",
                    Text(&step.what),
                    Text(&step.command)
                )?;
            }
            writeln!(out, "</ol>")?;
        }
        out.push_str("<ul>");
        for line in outcomes(card) {
            write!(out, "<li>{}</li>", Text(&line))?;
        }
        writeln!(out, "</ul></section>")?;
    }
    write_page_foot(out)
}

/// What CloudTrail recorded of a key: the counts, and each call that changed something.
fn write_activity_html(activity: &Activity, out: &mut String) -> std::fmt::Result {
    write!(
        out,
        "<h3>Activity</h3><p>{}</p><ul>",
        Text(&activity_headline(activity))
    )?;
    for (label, counts) in counts_of(activity) {
        write!(out, "<li>{label}: {}</li>", Text(&top(counts)))?;
    }
    if activity.denied > 0 {
        write!(out, "<li class=warn>{}</li>", probing(activity.denied))?;
    }
    for problem in &activity.problems {
        write!(out, "<li>not searched in full: {}</li>", Text(problem))?;
    }
    writeln!(out, "</ul>")?;
    if activity.changes.is_empty() {
        return Ok(());
    }
    out.push_str(
        "<table><thead><tr><th scope=col>Time</th><th scope=col>Call</th>\
         <th scope=col>Service</th><th scope=col>Region</th><th scope=col>Source IP</th>\
         <th scope=col>Error</th></tr></thead><tbody>",
    );
    for change in &activity.changes {
        out.push_str("<tr>");
        for cell in [
            change.time.as_str(),
            &change.event,
            &change.source,
            change.region.as_deref().unwrap_or(""),
            change.source_ip.as_deref().unwrap_or(""),
            change.error_code.as_deref().unwrap_or(""),
        ] {
            write!(out, "<td>{}</td>", Text(cell))?;
        }
        out.push_str("</tr>");
    }
    writeln!(out, "</tbody></table>")
}

/// What came of the card, one line each: each step `--apply` carried out, what STS said of the
/// key afterwards, and the notes.
fn outcomes(card: &Card) -> Vec<String> {
    let applied = card
        .actions
        .iter()
        .map(|done| format!("applied {}: {}", done.action, done.result));
    let reverified = card
        .reverified
        .iter()
        .map(|reverified| format!("checked again: {reverified}"));
    let notes = card.notes.iter().map(|note| format!("note: {note}"));
    applied.chain(reverified).chain(notes).collect()
}

/// Whose the key is, in words.
fn account_line(card: &Card) -> String {
    let mut line = match &card.account {
        Some(account) => format!("account {account}"),
        None => "account unknown".to_string(),
    };
    if let Some(decoded) = &card.account_decoded {
        line.push_str(&format!(" (decoded from the key ID: {decoded})"));
    }
    match card.owned {
        Some(true) => line.push_str(", yours"),
        Some(false) => line.push_str(", not yours"),
        None => {}
    }
    line
}

/// The card's facts, one line each, in the order a responder asks for them.
fn facts(card: &Card) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(user) = &card.user {
        let mut line = format!("user {user}");
        if let Some(created) = &card.created {
            line.push_str(&format!(", key created {created}"));
        }
        lines.push(line);
    }
    if let Some(role) = &card.role {
        lines.push(format!("a session of role {role}"));
    }
    match (&card.status_before, &card.status_after) {
        (Some(before), Some(after)) if before != after => {
            lines.push(format!("status {before} → {after}"))
        }
        (_, Some(after)) => lines.push(format!("status {after}")),
        (Some(before), None) => lines.push(format!("status {before}, now unknown")),
        (None, None) => {}
    }
    if let Some(used) = &card.last_used {
        lines.push(format!(
            "last used {} ({} in {})",
            used.date, used.service, used.region
        ));
    } else if card.user.is_some() {
        lines.push("never used, as IAM records it".to_string());
    }
    if let Some(policy) = &card.quarantined {
        lines.push(format!(
            "quarantined by AWS: {policy} is attached to the user"
        ));
    }
    let evidence = &card.evidence;
    if !evidence.found_in.is_empty() {
        let more = evidence.places.saturating_sub(evidence.found_in.len());
        let mut line = format!("found in {}", evidence.found_in.join(", "));
        if more > 0 {
            line.push_str(&format!(" and {more} more places"));
        }
        lines.push(line);
    }
    if let Some(introduced) = &evidence.introduced {
        lines.push(format!(
            "introduced {} in commit {} by {}",
            introduced.date,
            &introduced.commit[..introduced.commit.len().min(12)],
            introduced.author
        ));
    }
    if let Some(verified) = &evidence.verified {
        lines.push(format!("the report's verification: {verified}"));
    }
    lines
}

fn activity_headline(activity: &Activity) -> String {
    let mut line = format!(
        "CloudTrail since {} in {} region{}: {} event{}",
        activity.since,
        activity.regions.len(),
        if activity.regions.len() == 1 { "" } else { "s" },
        activity.events,
        if activity.events == 1 { "" } else { "s" },
    );
    if let (Some(first), Some(last)) = (&activity.first, &activity.last) {
        line.push_str(&format!(", first {first}, last {last}"));
    }
    if !activity.complete {
        line.push_str(" (incomplete)");
    }
    line
}

fn counts_of(activity: &Activity) -> Vec<(&'static str, &BTreeMap<String, usize>)> {
    [
        ("services", &activity.by_service),
        ("calls", &activity.by_event),
        ("source IPs", &activity.source_ips),
        ("user agents", &activity.user_agents),
        ("regions", &activity.by_region),
        ("errors", &activity.error_codes),
    ]
    .into_iter()
    .filter(|(_, counts)| !counts.is_empty())
    .collect()
}

/// The largest counts first, ties by name, at most [`TOP`], and how many more.
fn top(counts: &BTreeMap<String, usize>) -> String {
    let mut sorted: Vec<(&String, &usize)> = counts.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let mut line = sorted
        .iter()
        .take(TOP)
        .map(|(name, count)| format!("{name} ({count})"))
        .collect::<Vec<_>>()
        .join(", ");
    if sorted.len() > TOP {
        line.push_str(&format!(" and {} more", sorted.len() - TOP));
    }
    line
}

fn probing(denied: usize) -> String {
    format!(
        "{denied} call{} denied: someone may be probing what the key may do",
        if denied == 1 { " was" } else { "s were" }
    )
}

fn event_line(event: &crate::respond::activity::Event) -> String {
    let mut line = format!("{} {} ({})", event.time, event.event, event.source);
    if let Some(region) = &event.region {
        line.push_str(&format!(" in {region}"));
    }
    if let Some(ip) = &event.source_ip {
        line.push_str(&format!(" from {ip}"));
    }
    if let Some(code) = &event.error_code {
        line.push_str(&format!(", {code}"));
    }
    line
}
