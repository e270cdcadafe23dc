//! JUnit XML (`--format junit`), for Jenkins, Azure DevOps, GitLab's test reports and anything
//! else that shows test results: each enabled rule is a test case that passes when it found
//! nothing that fails the run, and each place a failing secret occurs is a failed test case of
//! its rule. Secrets are shown as every format shows them.

use std::io::{self, Write};

use super::Report;
use crate::finding::Finding;
use crate::source::SkipReason;

/// Writes one test suite.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let failing: Vec<&Finding> = report
        .groups
        .iter()
        .flat_map(|g| g.occurrences.iter().copied())
        .filter(|f| f.fails_scan())
        .collect();
    let mut cases = Vec::new();
    for rule in report.rules.all().iter().filter(|r| r.enabled) {
        let mine: Vec<&&Finding> = failing
            .iter()
            .filter(|f| {
                f.rule_id == rule.id || rule.pair.as_ref().is_some_and(|p| p.id == f.rule_id)
            })
            .collect();
        if mine.is_empty() {
            cases.push(format!(
                "    <testcase classname=\"keyhound.{id}\" name=\"{id}\"/>\n",
                id = escape(&rule.id)
            ));
        }
    }
    for finding in &failing {
        let place = format!(
            "{}:{}:{}",
            finding.origin, finding.location.line, finding.location.column
        );
        let message = format!(
            "{} ({} confidence) at {place}: {}",
            finding.rule_name,
            finding.confidence,
            finding.shown_secret(report.show_secrets)
        );
        cases.push(format!(
            "    <testcase classname=\"keyhound.{rule}\" name=\"{rule}: {place}\" file=\"{file}\" line=\"{line}\">\n      <failure type=\"{rule}\" message=\"{message}\">{snippet}</failure>\n    </testcase>\n",
            rule = escape(&finding.rule_id),
            place = escape(&place),
            file = escape(&finding.origin.outermost().display_path()),
            line = finding.location.line,
            message = escape(&message),
            snippet = escape(&finding.shown_snippet(report.show_secrets)),
        ));
    }
    let seconds = report.stats.elapsed.as_secs_f64();
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        out,
        "<testsuites name=\"keyhound\" tests=\"{}\" failures=\"{}\" time=\"{seconds:.3}\">",
        cases.len(),
        failing.len()
    )?;
    writeln!(
        out,
        "  <testsuite name=\"keyhound\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{seconds:.3}\">",
        cases.len(),
        failing.len(),
        u8::from(report.stats.incomplete())
    )?;
    for case in &cases {
        out.write_all(case.as_bytes())?;
    }
    if report.stats.incomplete() {
        let skipped = report
            .stats
            .skipped
            .iter()
            .filter(|(_, reason)| reason.makes_scan_incomplete())
            .map(|(origin, reason)| format!("{origin}: {reason}"))
            .collect::<Vec<_>>()
            .join("\n");
        writeln!(
            out,
            "    <testcase classname=\"keyhound\" name=\"every input read\">\n      <error message=\"some inputs could not be read\">{}</error>\n    </testcase>",
            escape(&skipped)
        )?;
    }
    let accepted = report
        .stats
        .skipped
        .iter()
        .filter(|(_, reason)| matches!(reason, SkipReason::Accepted { .. }))
        .map(|(origin, reason)| format!("{origin}: {reason}"))
        .collect::<Vec<_>>();
    if !accepted.is_empty() {
        writeln!(
            out,
            "    <testcase classname=\"keyhound\" name=\"inputs accepted as unread\">\n      <skipped message=\"{}\"/>\n    </testcase>",
            escape(&accepted.join("\n"))
        )?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

/// Text made safe for an XML attribute or element: markup escaped, and characters XML 1.0
/// cannot hold at all replaced.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_characters_xml_cannot_hold_are_escaped() {
        assert_eq!(
            escape("a<b>&\"c'\u{1b}"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}"
        );
    }
}
