//! Findings → the findings to report: one per secret location, in a deterministic order.
//!
//! Walker threads finish files in any order, so the order of a report must come from the
//! findings themselves: path, then position, then rule.

pub mod allowlist;
pub mod baseline;
mod pair;

use crate::finding::Finding;
use crate::rules::RuleSet;

/// Sorts findings by path, line, column and rule, drops exact repeats (a path given twice on
/// the command line is scanned twice but reported once), and joins each access key ID and its
/// secret close together into one key pair finding (rule data `[rules.pair]`).
///
/// Returns the findings that an allow marker on their line suppresses, in the same order.
pub fn finalize(findings: &mut Vec<Finding>, rules: &RuleSet) -> Vec<Finding> {
    sort(findings);
    findings.dedup_by(|a, b| {
        a.origin == b.origin && a.location.offset == b.location.offset && a.rule_id == b.rule_id
    });
    let (allowed, kept): (Vec<Finding>, Vec<Finding>) = std::mem::take(findings)
        .into_iter()
        .partition(|f| f.allow_marker.is_some());
    *findings = kept;
    pair::pair_up(findings, rules);
    sort(findings);
    allowed
}

/// Path, then position, then rule.
fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (
            &a.origin,
            a.location.line,
            a.location.column,
            &a.rule_id,
            a.location.offset,
        )
            .cmp(&(
                &b.origin,
                b.location.line,
                b.location.column,
                &b.rule_id,
                b.location.offset,
            ))
    });
}
