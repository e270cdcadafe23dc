//! The conditions of imported rules on where a match is: a rule's `path` (its matches count
//! only in files whose path matches), and the paths and commits of allowlists. They are
//! decided here, on findings, because a history scan reads each blob once and learns its paths
//! and commit only afterwards; the conditions on a match's text were decided by the matcher.

use super::{Suppressed, Suppression};
use crate::finding::Finding;
use crate::rules::allow::ContentAllowed;
use crate::rules::RuleSet;

/// Moves to `suppressed` the findings outside their rule's `path`, and those an allowlist
/// allows by path or commit.
pub fn apply(findings: &mut Vec<Finding>, suppressed: &mut Vec<Suppressed>, rules: &RuleSet) {
    let any_conditions = rules.all().iter().any(|r| r.path.is_some())
        || findings
            .iter()
            .any(|f| rules.allowlists_for(&f.rule_id).next().is_some());
    if !any_conditions {
        return;
    }
    super::suppress(findings, suppressed, |finding| why(finding, rules));
}

/// Why the place of `finding` keeps it from being reported, if it does.
fn why(finding: &Finding, rules: &RuleSet) -> Option<Suppression> {
    let display_path;
    let paths: Vec<&str> = match &finding.git {
        Some(git) if !git.paths.is_empty() => git.paths.iter().map(String::as_str).collect(),
        _ => {
            display_path = finding.origin.display_path();
            vec![display_path.as_str()]
        }
    };
    if let Some(only) = rules.by_id(&finding.rule_id).and_then(|r| r.path.as_ref()) {
        if !paths.iter().any(|p| only.is_match(p.as_bytes())) {
            return Some(Suppression::OutsideRulePath(only.as_str().to_string()));
        }
    }
    let commit = finding
        .git
        .as_ref()
        .and_then(|g| g.commit.as_ref())
        .map(|c| c.id.as_str());
    rules
        .allowlists_for(&finding.rule_id)
        .enumerate()
        .find(|(i, allowlist)| {
            let text_held =
                *i < ContentAllowed::BITS as usize && finding.content_allowed & (1 << i) != 0;
            allowlist.allows_place(&paths, commit, text_held)
        })
        .map(|(_, allowlist)| Suppression::Allowlist(allowlist.source.clone()))
}
