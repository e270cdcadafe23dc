//! GitHub Actions workflow commands (`--format github`): one `::error` (or `::warning`)
//! annotation per place a secret occurs, which GitHub shows on the line of the pull request's
//! diff. Annotations need no code scanning (no GitHub Advanced Security) and work with the
//! read-only token of a pull request from a fork.
//!
//! Values are escaped as the runner requires: `%`, `\r` and `\n` in the message, and also `:`
//! and `,` in the properties; secrets are shown as every format shows them.

use std::io::{self, Write};

use super::{Group, Report};
use crate::finding::Finding;
use crate::source::Origin;

/// Writes one workflow command per occurrence of every finding.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    for group in &report.groups {
        for finding in &group.occurrences {
            write_one(group, finding, report.show_secrets, out)?;
        }
    }
    Ok(())
}

fn write_one(
    group: &Group<'_>,
    finding: &Finding,
    show_secrets: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    // A secret that fails the run is an error; a documentation example or one a baseline
    // accepts is a warning, so the reviewer still sees it.
    let level = if finding.fails_scan() {
        "error"
    } else {
        "warning"
    };
    let location = &finding.location;
    // GitHub annotates files of the repository: a file inside an archive is shown on the
    // archive, and its path inside is in the message.
    let file = finding.origin.outermost().display_path();
    let mut message = format!(
        "{} ({} confidence): {}",
        finding.rule_name,
        finding.confidence,
        finding.shown_secret(show_secrets)
    );
    if let Some(pair) = &finding.pair {
        message.push_str(&format!(" with key ID {}", pair.key_id));
    }
    if let Origin::Inner { .. } = &finding.origin {
        message.push_str(&format!(", inside {}", finding.origin.display_path()));
    }
    if group.occurrences.len() > 1 {
        message.push_str(&format!(
            ". The same secret is in {} places",
            group.occurrences.len()
        ));
    }
    message.push_str(". Rotate the key, then remove it from the code and its history.");
    writeln!(
        out,
        "::{level} file={},line={},endLine={},col={},endColumn={},title={}::{}",
        property(&file),
        location.line,
        location.end_line,
        location.column,
        location.end_column,
        property(&format!("keyhound: {}", finding.rule_id)),
        data(&message),
    )
}

/// A workflow command's message, escaped.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value, escaped.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::findings_in;
    use crate::rules::RuleSet;
    use crate::source::Stats;

    #[test]
    fn values_are_escaped_as_the_runner_requires() {
        assert_eq!(data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn each_place_is_one_annotation_on_its_line_with_the_secret_redacted() {
        let rules = RuleSet::builtin().unwrap();
        let secret = "Zq3dWvT8kYpL2nR6sB0xHcJ4mF7gA9eU1iO5tKwE";
        let text =
            format!("aws_access_key_id = AKIAZT4HB6K7WLQX3N5D\naws_secret_access_key = {secret}\n");
        let origin = Origin::File("conf/a,b:c.ini".into());
        let mut findings = findings_in(&rules, text.as_bytes(), &origin, 1, 0);
        crate::filter::finalize(&mut findings, &rules);
        let stats = Stats::default();
        let report = Report::of(&findings, &stats, &rules, false);
        let mut out = Vec::new();
        write(&report, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 1, "{out}");
        assert!(
            lines[0].starts_with(
                "::error file=conf/a%2Cb%3Ac.ini,line=2,endLine=2,col=25,endColumn=64,\
                 title=keyhound%3A aws-access-key-pair::AWS access key pair"
            ),
            "{out}"
        );
        assert!(
            lines[0].contains("with key ID AKIAZT4HB6K7WLQX3N5D"),
            "{out}"
        );
        assert!(!out.contains(secret), "{out}");
    }
}
