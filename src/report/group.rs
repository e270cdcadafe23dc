//! One secret, one reported finding: the occurrences of the same secret in many files, blobs or
//! places of a file are grouped, so a key copied into twenty configs or kept through fifty
//! commits is one thing to rotate, listed with every place it is.
//!
//! Filters, baselines and the exit status work on single occurrences; grouping is only how
//! reports present them.

use std::collections::HashMap;

use crate::finding::{BaselineState, Finding};

/// The occurrences of one secret that are reported as one finding.
#[derive(Debug)]
pub struct Group<'a> {
    /// Every occurrence, the representative one first (see [`group`]), the rest in report order.
    pub occurrences: Vec<&'a Finding>,
}

impl<'a> Group<'a> {
    /// The occurrence that stands for the group: where a report points first.
    pub fn primary(&self) -> &'a Finding {
        self.occurrences[0]
    }

    /// The occurrences after the primary one.
    pub fn others(&self) -> &[&'a Finding] {
        &self.occurrences[1..]
    }

    /// For git findings: whether HEAD still holds the secret in any of its places (None when
    /// no occurrence knows, as outside history scans).
    pub fn in_head(&self) -> Option<bool> {
        self.occurrences
            .iter()
            .filter_map(|f| f.git.as_ref().and_then(|g| g.in_head))
            .reduce(|a, b| a || b)
    }

    /// The repositories the secret occurs in, in an audit of several (sorted; empty otherwise).
    pub fn repositories(&self) -> Vec<&'a str> {
        let mut repos: Vec<&str> = self
            .occurrences
            .iter()
            .filter_map(|f| f.origin.repo())
            .collect();
        repos.sort_unstable();
        repos.dedup();
        repos
    }

    /// Whether any occurrence fails the scan.
    pub fn fails_scan(&self) -> bool {
        self.occurrences.iter().any(|f| f.fails_scan())
    }
}

/// What makes two findings the same secret: the rule, the secret, and whether a baseline
/// accepted it (an accepted and a new copy are reported apart, as a baseline sees them).
type Key<'a> = (&'a str, Secret<'a>, Option<BaselineState>);

/// The secret of a finding: its value and a pair's key ID, or, for a finding read back from a
/// report, the id that stands for them (one run never holds both kinds).
#[derive(PartialEq, Eq, Hash)]
enum Secret<'a> {
    Value(&'a str, Option<&'a str>),
    Id(&'a str),
}

/// Groups `findings` (in report order) by secret. A group's primary occurrence is its most
/// confident one, then the one introduced earliest in git history, then the first in report
/// order; groups come in the report order of their primary occurrences.
pub fn group(findings: &[Finding]) -> Vec<Group<'_>> {
    let mut index: HashMap<Key<'_>, usize> = HashMap::with_capacity(findings.len());
    let mut groups: Vec<Vec<(usize, &Finding)>> = Vec::new();
    for (position, finding) in findings.iter().enumerate() {
        let secret = match &finding.restored {
            Some(restored) => Secret::Id(&restored.secret_id),
            None => Secret::Value(
                &finding.secret,
                finding.pair.as_ref().map(|p| p.key_id.as_str()),
            ),
        };
        let key = (finding.rule_id.as_str(), secret, finding.baseline);
        let slot = *index.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[slot].push((position, finding));
    }
    let mut ordered: Vec<(usize, Group<'_>)> = groups
        .into_iter()
        .map(|mut members| {
            let best = members
                .iter()
                .enumerate()
                .min_by_key(|(_, (position, f))| {
                    let introduced = f
                        .git
                        .as_ref()
                        .and_then(|g| g.commit.as_ref())
                        .map_or(i64::MAX, |c| c.time);
                    (std::cmp::Reverse(f.confidence), introduced, *position)
                })
                .map_or(0, |(i, _)| i);
            let primary = members.remove(best);
            let occurrences = std::iter::once(primary.1)
                .chain(members.into_iter().map(|(_, f)| f))
                .collect();
            (primary.0, Group { occurrences })
        })
        .collect();
    ordered.sort_by_key(|(position, _)| *position);
    ordered.into_iter().map(|(_, group)| group).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{findings_in, CommitInfo, GitProvenance};
    use crate::rules::{Confidence, RuleSet};
    use crate::source::Origin;

    const ID: &str = "AKIAQYLPMN5HHHFPZAM2";
    const OTHER: &str = "AKIAZT4HB6K7WLQX3N5D";

    fn at(path: &str, text: &str) -> Vec<Finding> {
        let rules = RuleSet::builtin().unwrap();
        findings_in(&rules, text.as_bytes(), &Origin::File(path.into()), 1, 0)
    }

    fn paths(group: &Group<'_>) -> Vec<String> {
        group
            .occurrences
            .iter()
            .map(|f| format!("{}:{}", f.origin, f.location.line))
            .collect()
    }

    #[test]
    fn the_same_secret_in_many_places_is_one_group_in_report_order() {
        let mut findings = at("a.env", &format!("x = {ID}\ny = {OTHER}\nz = {ID}\n"));
        findings.extend(at("b.env", &format!("AWS_ACCESS_KEY_ID={ID}\n")));
        let groups = group(&findings);
        assert_eq!(groups.len(), 2);
        // Groups come in the order of their primary occurrences: the explicit assignment in
        // b.env is the most confident occurrence of the first ID, so that group comes last.
        assert_eq!(paths(&groups[0]), ["a.env:2"]);
        assert!(groups[0].others().is_empty());
        assert_eq!(groups[1].primary().confidence, Confidence::High);
        assert_eq!(paths(&groups[1]), ["b.env:1", "a.env:1", "a.env:3"]);
    }

    #[test]
    fn the_earliest_commit_is_the_primary_occurrence() {
        let mut findings = Vec::new();
        for (path, time) in [("new.env", 2_000), ("old.env", 1_000), ("none.env", 0)] {
            let mut found = at(path, &format!("id = {ID}\n"));
            if time > 0 {
                found[0].git = Some(GitProvenance {
                    commit: Some(CommitInfo {
                        id: "c".repeat(40),
                        author_name: "a".into(),
                        author_email: "a@example.com".into(),
                        time,
                        date: String::new(),
                        path: path.into(),
                    }),
                    ..GitProvenance::default()
                });
            }
            findings.extend(found);
        }
        let groups = group(&findings);
        assert_eq!(groups.len(), 1);
        assert_eq!(paths(&groups[0]), ["old.env:1", "new.env:1", "none.env:1"]);
    }

    #[test]
    fn accepted_and_new_copies_stay_apart() {
        let mut findings = at("a.env", &format!("id = {ID}\nid = {ID}\n"));
        findings[0].baseline = Some(BaselineState::Unchanged);
        findings[1].baseline = Some(BaselineState::New);
        let groups = group(&findings);
        assert_eq!(groups.len(), 2);
        assert!(!groups[0].fails_scan());
        assert!(groups[1].fails_scan());
    }
}
