//! Findings → the findings to report: one per secret location, in a deterministic order.
//!
//! Walker threads finish files in any order, so the order of a report must come from the
//! findings themselves: path, then position, then rule.

pub mod accept;
pub mod allowlist;
pub mod baseline;
mod pair;
pub mod placed;

use std::fmt;

use crate::finding::Finding;
use crate::matcher::Rejection;
use crate::rules::{Confidence, RuleSet};

/// A candidate that is not reported, and why.
#[derive(Debug, Clone)]
pub struct Suppressed {
    pub finding: Finding,
    pub why: Suppression,
}

/// Why a candidate is not reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Suppression {
    /// The rule's validators rejected it (known only with `--explain`).
    Rejected(Rejection),
    /// An allow marker on its line.
    AllowMarker(&'static str),
    /// An allowlist entry of the config file, described.
    Allowlist(String),
    /// Its confidence is below `--min-confidence`.
    BelowMinConfidence(Confidence),
    /// Its rule applies only to paths that this regex matches, and none of its paths does.
    OutsideRulePath(String),
}

impl Suppression {
    /// Whether a person marked the candidate as not a leak (a marker or the allowlist), as
    /// opposed to keyhound judging it not to be one.
    pub fn is_allowed(&self) -> bool {
        matches!(
            self,
            Suppression::AllowMarker(_) | Suppression::Allowlist(_)
        )
    }
}

impl fmt::Display for Suppression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Suppression::Rejected(rejection) => rejection.fmt(f),
            Suppression::AllowMarker(marker) => write!(f, "`{marker}` on its line"),
            Suppression::Allowlist(entry) => write!(f, "allowed by {entry}"),
            Suppression::BelowMinConfidence(min) => {
                write!(f, "confidence below --min-confidence {min}")
            }
            Suppression::OutsideRulePath(path) => {
                write!(f, "its rule applies only to paths matching `{path}`")
            }
        }
    }
}

/// Sorts findings by path, line, column and rule, drops exact repeats (a path given twice on
/// the command line is scanned twice but reported once), and joins each access key ID and its
/// secret close together into one key pair finding (rule data `[rules.pair]`).
///
/// Returns what is not reported, in the same order: the candidates the matcher rejected (with
/// `--explain`) and the findings an allow marker on their line suppresses.
pub fn finalize(findings: &mut Vec<Finding>, rules: &RuleSet) -> Vec<Suppressed> {
    sort_unique(findings);
    let mut suppressed = Vec::new();
    suppress(findings, &mut suppressed, |f| {
        match (f.rejection, f.allow_marker) {
            (Some(rejection), _) => Some(Suppression::Rejected(rejection)),
            (None, Some(marker)) => Some(Suppression::AllowMarker(marker)),
            (None, None) => None,
        }
    });
    pair::pair_up(findings, rules);
    sort(findings);
    suppressed
}

/// Joins what [`finalize`] made of the parts of one scan (each worker's inputs; an input is
/// never split between parts), as `finalize` would have made of the whole: the findings and
/// the suppressed candidates in report order, and an input scanned in two parts (a path given
/// twice) reported once. The parts are sorted runs, so putting them in order is a merge.
pub fn merge_finalized(findings: &mut Vec<Finding>, suppressed: &mut Vec<Suppressed>) {
    sort_unique(findings);
    sort_by_finding(suppressed, |s| &s.finding);
    suppressed.dedup_by(|a, b| same_place(&a.finding, &b.finding) && a.why == b.why);
}

/// Puts findings in report order ([`sort`]) and drops repeats: the same rule at the same place.
pub fn sort_unique(findings: &mut Vec<Finding>) {
    sort(findings);
    findings.dedup_by(|a, b| same_place(a, b));
}

/// Whether two findings are the same rule's at the same place.
fn same_place(a: &Finding, b: &Finding) -> bool {
    a.origin == b.origin && a.location.offset == b.location.offset && a.rule_id == b.rule_id
}

/// Moves the findings that `why` has a reason to suppress from `findings` to `suppressed`.
pub fn suppress(
    findings: &mut Vec<Finding>,
    suppressed: &mut Vec<Suppressed>,
    mut why: impl FnMut(&Finding) -> Option<Suppression>,
) {
    // Taken out in place, so that a run that suppresses nothing moves nothing.
    let mut reasons = Vec::new();
    let taken: Vec<Finding> = findings
        .extract_if(.., |finding| match why(finding) {
            Some(reason) => {
                reasons.push(reason);
                true
            }
            None => false,
        })
        .collect();
    suppressed.extend(
        taken
            .into_iter()
            .zip(reasons)
            .map(|(finding, why)| Suppressed { finding, why }),
    );
}

/// Report order: path (repository first), then position, then rule; at one position, a
/// finding before a rejected candidate (a value rejected as it stands may be found once
/// decoded), so deduplication keeps the finding.
///
/// The keys are sorted apart from the findings, and each finding is moved once: findings are
/// large.
pub fn sort(findings: &mut [Finding]) {
    sort_by_finding(findings, |f| f);
}

/// [`sort`] for items that each hold a finding.
fn sort_by_finding<T>(items: &mut [T], finding: impl Fn(&T) -> &Finding) {
    let mut keyed: Vec<_> = items
        .iter()
        .map(finding)
        .enumerate()
        .map(|(i, f)| {
            let key = (
                &f.origin,
                f.location.line,
                f.location.column,
                f.rule_id.as_str(),
                f.location.offset,
                f.rejection.is_some(),
            );
            (key, i)
        })
        .collect();
    // The index breaks ties, so the order is the one a stable sort gives; a stable sort also
    // merges runs that are already in order (the parts of [`merge_finalized`]) in one pass.
    keyed.sort();
    let order: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
    permute(items, order);
}

/// Reorders `items` so that position `k` holds what position `order[k]` held, in place: one
/// swap per item, and no second copy of the findings (a large, cold allocation).
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..items.len() {
        // Each cycle of the permutation is walked once; a walked position points at itself.
        let mut at = start;
        while order[at] != at {
            let from = order[at];
            order[at] = at;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::findings_in;
    use crate::source::Origin;

    /// The findings of a few files, found one file at a time as workers find them.
    fn found_in(paths: &[&str], rules: &RuleSet) -> Vec<Finding> {
        let text = "aws_access_key_id = AKIAQYLPMN5HHHFPZAM2\n\
                    aws_secret_access_key = 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\n\
                    backup = AKIAZT4HB6K7WLQX3N5D  # keyhound:allow\n\
                    id = ASIAY34FZKBOKMUTVV7A\n";
        paths
            .iter()
            .flat_map(|path| {
                let origin = Origin::File(path.into());
                findings_in(rules, text.as_bytes(), &origin, 1, 0)
            })
            .collect()
    }

    fn places(findings: &[Finding]) -> Vec<String> {
        findings
            .iter()
            .map(|f| format!("{}:{}:{}", f.origin, f.location.line, f.rule_id))
            .collect()
    }

    #[test]
    fn merging_finalized_parts_gives_what_finalizing_the_whole_gives() {
        let rules = RuleSet::builtin().unwrap();
        // Two workers; `b.env` was given twice, so both scanned it.
        let parts = [
            vec!["c.env", "b.env", "a/z.env"],
            vec!["b.env", "a.env", "a-b.env"],
        ];
        let mut whole = Vec::new();
        let mut merged = Vec::new();
        let mut merged_suppressed = Vec::new();
        for part in &parts {
            whole.extend(found_in(part, &rules));
            for path in part {
                let mut found = found_in(&[path], &rules);
                merged_suppressed.extend(finalize(&mut found, &rules));
                merged.extend(found);
            }
        }
        let whole_suppressed = finalize(&mut whole, &rules);
        merge_finalized(&mut merged, &mut merged_suppressed);
        assert_eq!(places(&merged), places(&whole));
        let suppressed = |s: &[Suppressed]| {
            s.iter()
                .map(|s| format!("{}:{}", s.finding.origin, s.why))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            suppressed(&merged_suppressed),
            suppressed(&whole_suppressed)
        );
        // One pair, one allowed ID and one lone ID a file, each file once, in path order:
        // by components, so `a/z.env` comes before `a-b.env`.
        assert_eq!(whole.len(), 2 * 5);
        assert_eq!(whole_suppressed.len(), 5);
        let files: Vec<String> = whole
            .iter()
            .step_by(2)
            .map(|f| f.origin.to_string())
            .collect();
        assert_eq!(files, ["a/z.env", "a-b.env", "a.env", "b.env", "c.env"]);
    }

    #[test]
    fn permute_moves_each_item_to_its_place() {
        for order in [
            vec![2, 0, 1, 4, 3],
            vec![0, 1, 2],
            vec![3, 2, 1, 0],
            vec![1, 2, 3, 0],
            vec![],
        ] {
            let mut items: Vec<usize> = (0..order.len()).map(|i| i * 10).collect();
            permute(&mut items, order.clone());
            let expected: Vec<usize> = order.iter().map(|&i| i * 10).collect();
            assert_eq!(items, expected, "{order:?}");
        }
    }
}
