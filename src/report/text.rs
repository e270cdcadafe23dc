//! The text format: `path:line:col  rule  confidence  secret` lines grouped by file, and the
//! summary that goes to stderr.

use std::io::{self, Write};

use super::{canary_message, Group, Report};
use crate::filter::Suppressed;
use crate::finding::{BaselineState, Finding, GitProvenance, VerificationStatus};
use crate::rules::{Confidence, Severity};
use crate::source::{SkipReason, Stats};

const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// How many other places of a secret the text format names before it just counts them.
const OTHERS_SHOWN: usize = 3;

/// Writes the findings, one per secret with the other places it occurs, a blank line between
/// files.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let paint = |code: &'static str| if report.color { code } else { "" };
    let mut previous = None;
    let groups = &report.groups;
    let shown = groups
        .iter()
        .filter(|g| g.primary().baseline != Some(BaselineState::Unchanged));
    for group in shown {
        let finding = group.primary();
        if previous.is_some_and(|p| p != &finding.origin) {
            writeln!(out)?;
        }
        previous = Some(&finding.origin);
        let level = match finding.confidence {
            Confidence::Example => paint(DIM),
            _ if finding.severity >= Severity::High => paint(RED),
            _ => paint(YELLOW),
        };
        let about: Vec<String> = finding
            .kind
            .iter()
            .cloned()
            .chain(
                finding
                    .aws_account
                    .iter()
                    .map(|a| format!("account {}", sanitize(&a.to_string()))),
            )
            .chain(finding.canary().map(|service| {
                let message = sanitize(&canary_message(service));
                format!("{}{message}{}", paint(BOLD), paint(RESET))
            }))
            .chain((!finding.decoded.is_empty()).then(|| {
                let chain: Vec<&str> = finding.decoded.iter().map(|e| e.as_str()).collect();
                format!("decoded from {}", chain.join(" → "))
            }))
            .collect();
        let kind = if about.is_empty() {
            String::new()
        } else {
            format!(" ({})", about.join(", "))
        };
        writeln!(
            out,
            "{bold}{path}:{line}:{col}{reset}  {level}{rule}{reset}{kind}  {confidence}  {secret}",
            bold = paint(BOLD),
            path = sanitize(&finding.origin.to_string()),
            line = finding.location.line,
            col = finding.location.column,
            reset = paint(RESET),
            rule = finding.rule_id,
            confidence = finding.confidence,
            secret = sanitize(&finding.shown_secret(report.show_secrets)),
        )?;
        writeln!(
            out,
            "    {dim}{}{reset}",
            sanitize(&finding.shown_snippet(report.show_secrets)),
            dim = paint(DIM),
            reset = paint(RESET)
        )?;
        if let Some(pair) = &finding.pair {
            writeln!(
                out,
                "    with key ID {} at line {}, column {}",
                sanitize(&pair.key_id),
                pair.line,
                pair.column
            )?;
        }
        if let Some(verification) = &finding.verification {
            let key_id = finding
                .pair
                .as_ref()
                .map_or(finding.secret.as_str(), |p| p.key_id.as_str());
            let loud = format!("{}{}", paint(BOLD), paint(RED));
            write_verification(&verification.status, key_id, &loud, paint(RESET), out)?;
            if let Some(access) = &verification.access {
                writeln!(
                    out,
                    "    {loud}what it may do: {}{}",
                    sanitize(&access.describe()),
                    paint(RESET)
                )?;
                if !access.not_visible.is_empty() {
                    writeln!(
                        out,
                        "    not visible to the key: {}",
                        sanitize(&access.not_visible.join(", "))
                    )?;
                }
                for disagreement in &access.disagreements {
                    writeln!(out, "    {}", sanitize(disagreement))?;
                }
            }
        }
        if let Some(git) = &finding.git {
            write_git(git, group.in_head(), paint(RED), paint(RESET), out)?;
        }
        if let Some(image) = &finding.image {
            let layer = &image.layer;
            let digest: String = layer.digest.chars().take(19).collect();
            let made_by = layer
                .created_by
                .as_deref()
                .map(|command| format!(", made by `{}`", sanitize(command.trim())))
                .unwrap_or_default();
            writeln!(
                out,
                "    in image layer {} ({}){made_by}",
                layer.index,
                sanitize(&digest)
            )?;
            if !image.in_final_image {
                writeln!(
                    out,
                    "    {}deleted by a later layer: not in the final image's files, but the layer \
                     still ships to everyone who pulls the image; rotate the key{}",
                    paint(RED),
                    paint(RESET)
                )?;
            }
        }
        let repos = group.repositories();
        if repos.len() > 1 {
            writeln!(
                out,
                "    in {} repositories: one key, to rotate once",
                repos.len()
            )?;
        }
        write_others(group.others(), out)?;
    }
    Ok(())
}

/// What live verification learned: a working key loudly, with the commands that stop it.
fn write_verification(
    status: &VerificationStatus,
    key_id: &str,
    loud: &str,
    reset: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    let key_id = sanitize(key_id);
    match status {
        VerificationStatus::Live { arn, account, .. } => {
            let arn = sanitize(arn);
            writeln!(
                out,
                "    {loud}LIVE: {arn}{reset} (account {})",
                sanitize(account)
            )?;
            match arn.split_once(":user/") {
                Some((_, user)) => {
                    let user = user.rsplit('/').next().unwrap_or(user);
                    writeln!(out, "    this key works: deactivate it now, then replace it:")?;
                    writeln!(
                        out,
                        "      aws iam update-access-key --status Inactive --access-key-id {key_id} --user-name {user}"
                    )?;
                    writeln!(
                        out,
                        "      aws iam create-access-key --user-name {user}   # the replacement"
                    )?;
                    writeln!(
                        out,
                        "      aws iam delete-access-key --access-key-id {key_id} --user-name {user}   # once nothing uses it"
                    )
                }
                None => writeln!(
                    out,
                    "    these credentials work: revoke the sessions of {arn} (IAM console: Revoke active sessions) \
                     and rotate the key that issued them"
                ),
            }
        }
        VerificationStatus::Invalid => writeln!(
            out,
            "    verified: invalid (AWS knows no such active key: deactivated or deleted)"
        ),
        VerificationStatus::WrongSecret => writeln!(
            out,
            "    verified: wrong secret (key ID {key_id} exists, but this is not its secret)"
        ),
        VerificationStatus::Expired => {
            writeln!(
                out,
                "    verified: expired (temporary credentials past their expiry)"
            )
        }
        VerificationStatus::Unknown { reason } => {
            writeln!(out, "    verified: unknown ({})", sanitize(reason))
        }
        VerificationStatus::Skipped { reason } => {
            writeln!(out, "    not verified: {}", sanitize(reason))
        }
    }
}

/// The line naming the other places a secret occurs: the first few, then a count.
fn write_others(others: &[&Finding], out: &mut dyn Write) -> io::Result<()> {
    if others.is_empty() {
        return Ok(());
    }
    let places: Vec<String> = others
        .iter()
        .take(OTHERS_SHOWN)
        .map(|f| {
            let mut place = format!(
                "{}:{}:{}",
                sanitize(&f.origin.to_string()),
                f.location.line,
                f.location.column
            );
            if let Some(commit) = f.git.as_ref().and_then(|g| g.commit.as_ref()) {
                place.push_str(&format!(
                    " (added in {})",
                    &commit.id[..commit.id.len().min(12)]
                ));
            }
            place
        })
        .collect();
    let more = others.len() - places.len();
    let tail = if more > 0 {
        format!(" and {more} more (the JSON and SARIF formats list them all)")
    } else {
        String::new()
    };
    writeln!(out, "    also at {}{tail}", places.join(", "))
}

/// The history lines under a git finding: who added it when, and whether HEAD still has the
/// secret (`in_head`: in any of its places).
fn write_git(
    git: &GitProvenance,
    in_head: Option<bool>,
    red: &str,
    reset: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    if let Some(commit) = &git.commit {
        let short = &commit.id[..commit.id.len().min(12)];
        writeln!(
            out,
            "    added in {short} by {} <{}> on {}",
            sanitize(&commit.author_name),
            sanitize(&commit.author_email),
            commit.date
        )?;
    }
    if let Some(commits) = git.commits {
        let paths = git
            .paths
            .iter()
            .map(|p| sanitize(p))
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(
            out,
            "    in {} at {paths}",
            plural(commits as usize, "commit")
        )?;
    }
    if git.unplaced {
        writeln!(out, "    {red}where it sits in history is unknown: git could not walk history to it (damaged repository){reset}")?;
    } else if git.unreachable {
        writeln!(out, "    {red}in an unreachable object: no ref holds it, but the object database does{reset}")?;
    } else if in_head == Some(false) {
        writeln!(
            out,
            "    {red}only in history (not in HEAD): still leaked to anyone with the repository; rotate the key{reset}"
        )?;
    }
    Ok(())
}

/// Writes the end-of-scan summary (for stderr): what was read, what was skipped and why,
/// findings by severity, time and throughput.
pub fn write_summary(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let stats: &Stats = report.stats;
    let secs = stats.elapsed.as_secs_f64();
    let mib = stats.bytes_scanned as f64 / (1024.0 * 1024.0);
    let rate = if secs > 0.0 { mib / secs } else { 0.0 };
    let inputs = match &stats.git {
        Some(git) if git.staged => plural(stats.files_scanned as usize, "staged file"),
        Some(git) if git.refs == 0 && git.commits > 0 => format!(
            "{} changed in {}",
            plural(stats.files_scanned as usize, "file"),
            plural(git.commits as usize, "commit")
        ),
        Some(git) => format!(
            "{} from {} and {}",
            plural(stats.files_scanned as usize, "blob"),
            plural(git.commits as usize, "commit"),
            plural(git.refs as usize, "ref")
        ),
        None => plural(stats.files_scanned as usize, "file"),
    };
    let repositories = match stats.audit {
        Some(audit) if audit.failed > 0 => format!(
            " of {} ({} not audited)",
            repositories(audit.repositories),
            audit.failed
        ),
        Some(audit) => format!(" of {}", repositories(audit.repositories)),
        None => String::new(),
    };
    let cached = match stats.cache {
        Some(cache) => format!(
            " ({} scanned, {} from the cache)",
            cache.blobs_scanned, cache.blobs_from_cache
        ),
        None => String::new(),
    };
    writeln!(
        out,
        "scanned {inputs}{repositories}{cached}, {mib:.1} MiB in {secs:.2}s ({rate:.0} MiB/s)"
    )?;
    let mut categories: Vec<(&str, usize)> = Vec::new();
    for (origin, reason) in &stats.skipped {
        if let SkipReason::Accepted { why, by } = reason {
            writeln!(out, "accepted as unread: {origin}: {why} ({by})")?;
            continue;
        }
        match categories.iter_mut().find(|(c, _)| *c == reason.category()) {
            Some((_, n)) => *n += 1,
            None => categories.push((reason.category(), 1)),
        }
    }
    if !categories.is_empty() {
        let parts: Vec<String> = categories.iter().map(|(c, n)| format!("{n} {c}")).collect();
        writeln!(out, "skipped {}", parts.join(", "))?;
    }
    let groups = &report.groups;
    let failing: Vec<&Group<'_>> = groups.iter().filter(|g| g.fails_scan()).collect();
    let examples = groups
        .iter()
        .filter(|g| g.primary().confidence == Confidence::Example)
        .count();
    let baselined = groups
        .iter()
        .filter(|g| g.primary().confidence != Confidence::Example && !g.fails_scan())
        .count();
    if failing.is_empty() && baselined > 0 {
        write!(out, "no new secrets found")?;
    } else if failing.is_empty() {
        write!(out, "no secrets found")?;
    } else {
        let parts: Vec<String> = Severity::ALL_DESCENDING
            .iter()
            .filter_map(|s| {
                let n = failing
                    .iter()
                    .filter(|g| g.primary().severity == *s)
                    .count();
                (n > 0).then(|| format!("{n} {s}"))
            })
            .collect();
        let places: usize = failing.iter().map(|g| g.occurrences.len()).sum();
        let spread = if places > failing.len() {
            format!(" in {}", plural(places, "place"))
        } else {
            String::new()
        };
        write!(
            out,
            "{}{spread}: {}",
            plural(failing.len(), "finding"),
            parts.join(", ")
        )?;
    }
    if baselined > 0 {
        write!(
            out,
            " ({} in the baseline, not shown)",
            plural(baselined, "finding")
        )?;
    }
    if report.suppressed > 0 {
        let marked = plural(report.suppressed, "finding");
        write!(
            out,
            " ({marked} allowed by keyhound:allow markers or the allowlist, not reported)"
        )?;
    }
    if examples > 0 {
        let keys = plural(examples, "documentation example key");
        write!(out, " ({keys}, not counted)")?;
    }
    writeln!(out)?;
    if report.stale_baseline > 0 {
        writeln!(
            out,
            "{} of the baseline no longer found (--prune-baseline drops {})",
            if report.stale_baseline == 1 {
                "1 entry".to_string()
            } else {
                format!("{} entries", report.stale_baseline)
            },
            if report.stale_baseline == 1 {
                "it"
            } else {
                "them"
            },
        )?;
    }
    if stats.incomplete() {
        writeln!(
            out,
            "the scan is incomplete: some inputs could not be read (see the warnings above)"
        )?;
    }
    Ok(())
}

/// Writes, for `--explain`, every candidate that was not reported and why, in path order.
pub fn write_explanation(
    suppressed: &[Suppressed],
    show_secrets: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    if suppressed.is_empty() {
        return writeln!(out, "explain: every candidate was reported");
    }
    let mut sorted: Vec<&Suppressed> = suppressed.iter().collect();
    sorted.sort_by(|a, b| {
        let (a, b) = (&a.finding, &b.finding);
        (&a.origin, a.location.offset, &a.rule_id).cmp(&(&b.origin, b.location.offset, &b.rule_id))
    });
    writeln!(
        out,
        "explain: {} not reported:",
        plural(sorted.len(), "candidate")
    )?;
    for s in sorted {
        let f = &s.finding;
        writeln!(
            out,
            "  {}:{}:{}  {}  {}  {}",
            sanitize(&f.origin.to_string()),
            f.location.line,
            f.location.column,
            f.rule_id,
            sanitize(&f.shown_secret(show_secrets)),
            sanitize(&s.why.to_string()),
        )?;
    }
    Ok(())
}

/// `1 file`, `2 files`.
fn repositories(n: u64) -> String {
    if n == 1 {
        "1 repository".to_string()
    } else {
        format!("{n} repositories")
    }
}

/// `1 noun` or `N nouns`.
pub(super) fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Makes attacker-controlled text (paths, matched lines) safe for a terminal: control
/// characters and escape sequences are shown as `\xNN` instead of being interpreted.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\t' {
            out.push(c);
        } else if c.is_control() {
            let code = c as u32;
            if code <= 0xff {
                out.push_str(&format!("\\x{code:02x}"));
            } else {
                out.push_str(&format!("\\u{{{code:x}}}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_neutralised() {
        assert_eq!(sanitize("a\x1b[2Jb\rc\td"), "a\\x1b[2Jb\\x0dc\td");
        assert_eq!(sanitize("\u{9b}x"), "\\x9bx");
    }
}
