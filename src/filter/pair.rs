//! Key pairs: an access key ID and its secret close together are one finding, the whole
//! credential, rather than two half-findings a reader has to put together.
//!
//! Which rules pair, how far apart and under which id is rule data (`[rules.pair]`).

use crate::finding::{fingerprint, Finding, PairedKey};
use crate::rules::{Confidence, PairSpec, RuleSet};

/// Replaces each (ID, secret) couple within `max_lines` of each other in the same input by one
/// pair finding. `findings` must be sorted by origin. Documentation examples stay single.
pub fn pair_up(findings: &mut Vec<Finding>, rules: &RuleSet) {
    for rule in rules.all().iter().filter(|r| r.enabled) {
        if let Some(spec) = &rule.pair {
            pair_rule(findings, &rule.id, spec);
        }
    }
}

fn pair_rule(findings: &mut Vec<Finding>, id_rule: &str, spec: &PairSpec) {
    let mut taken = vec![false; findings.len()];
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut group_start = 0;
    while group_start < findings.len() {
        let origin = &findings[group_start].origin;
        let group_end = findings[group_start..]
            .iter()
            .position(|f| &f.origin != origin)
            .map_or(findings.len(), |n| group_start + n);
        let pairable =
            |f: &Finding, rule: &str| f.rule_id == rule && f.confidence != Confidence::Example;
        for secret in group_start..group_end {
            if !pairable(&findings[secret], &spec.with) {
                continue;
            }
            let secret_line = findings[secret].location.line;
            // The closest unpaired ID; at equal distance, the one before the secret.
            let best = (group_start..group_end)
                .filter(|&i| !taken[i] && pairable(&findings[i], id_rule))
                .map(|i| {
                    (
                        findings[i].location.line.abs_diff(secret_line),
                        i > secret,
                        i,
                    )
                })
                .filter(|&(distance, _, _)| distance <= u64::from(spec.max_lines))
                .min();
            if let Some((_, _, id)) = best {
                taken[id] = true;
                taken[secret] = true;
                pairs.push((id, secret));
            }
        }
        group_start = group_end;
    }
    if pairs.is_empty() {
        return;
    }
    // Each paired secret becomes its pair finding where it stands, and its ID is dropped:
    // nothing is copied or moved but what changes (findings are large, and there can be
    // thousands). Order within an input is kept, which the next pair rule relies on.
    let mut joined_id = vec![false; findings.len()];
    for (id, secret) in pairs {
        let (id_finding, secret_finding) = two_mut(findings, id, secret);
        join(id_finding, secret_finding, spec);
        joined_id[id] = true;
    }
    let mut index = 0;
    findings.retain(|_| {
        index += 1;
        !joined_id[index - 1]
    });
}

/// Mutable references to two different elements of `items`.
fn two_mut<T>(items: &mut [T], a: usize, b: usize) -> (&mut T, &mut T) {
    assert_ne!(a, b, "an ID and its secret are two findings");
    if a < b {
        let (low, high) = items.split_at_mut(b);
        (&mut low[a], &mut high[0])
    } else {
        let (low, high) = items.split_at_mut(a);
        (&mut high[0], &mut low[b])
    }
}

/// Makes `secret` the pair finding: the secret's place and value, the ID's kind and account,
/// the ID itself. What it needs of `id` is taken from it: `id` is dropped next.
fn join(id: &mut Finding, secret: &mut Finding, spec: &PairSpec) {
    let both = format!("{}:{}", id.secret, secret.secret);
    secret.fingerprint = fingerprint(&spec.id, both.as_bytes(), &secret.origin.display_path());
    secret.rule_id = spec.id.clone();
    secret.rule_name = spec.name.clone();
    secret.severity = spec.severity;
    secret.confidence = Confidence::High;
    secret.pair = Some(PairedKey {
        line: id.location.line,
        column: id.location.column,
        offset: id.location.offset,
        key_id: std::mem::take(&mut id.secret),
    });
    secret.kind = id.kind.take();
    secret.aws_account = id.aws_account.take();
    // Its bits named allowlists of the secret's rule, not of the pair's.
    secret.content_allowed = 0;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::findings_in;
    use crate::source::Origin;

    fn paired(text: &str) -> Vec<Finding> {
        let rules = RuleSet::builtin().unwrap();
        let mut found = findings_in(&rules, text.as_bytes(), &Origin::Stdin, 1, 0);
        pair_up(&mut found, &rules);
        found
    }

    const ID: &str = "AKIAQYLPMN5HHHFPZAM2";
    const SECRET: &str = "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";

    #[test]
    fn an_id_and_its_secret_nearby_become_one_pair() {
        let found = paired(&format!(
            "[default]\naws_access_key_id = {ID}\naws_secret_access_key = {SECRET}\n"
        ));
        assert_eq!(found.len(), 1, "{found:#?}");
        let pair = &found[0];
        assert_eq!(pair.rule_id, "aws-access-key-pair");
        assert_eq!(pair.confidence, Confidence::High);
        assert_eq!(pair.secret, SECRET);
        assert_eq!(pair.pair.as_ref().unwrap().key_id, ID);
        assert_eq!(
            (pair.location.line, pair.pair.as_ref().unwrap().line),
            (3, 2)
        );
        assert_eq!(pair.kind.as_deref(), Some("long-term"));
    }

    #[test]
    fn too_far_apart_they_stay_single() {
        let filler = "x = 1\n".repeat(6);
        let found = paired(&format!(
            "aws_access_key_id = {ID}\n{filler}aws_secret_access_key = {SECRET}\n"
        ));
        let rules: Vec<&str> = found.iter().map(|f| f.rule_id.as_str()).collect();
        assert_eq!(rules, ["aws-access-key-id", "aws-secret-access-key"]);
    }

    #[test]
    fn each_secret_takes_its_nearest_id() {
        let other = "AKIAZT4HB6K7WLQX3N5D";
        let other_secret = "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";
        let found = paired(&format!(
            "[a]\naws_access_key_id = {ID}\naws_secret_access_key = {SECRET}\n\
             [b]\naws_access_key_id = {other}\naws_secret_access_key = {other_secret}\n"
        ));
        let pairs: Vec<(&str, &str)> = found
            .iter()
            .map(|f| (f.pair.as_ref().unwrap().key_id.as_str(), f.secret.as_str()))
            .collect();
        assert_eq!(pairs, [(ID, SECRET), (other, other_secret)]);
    }

    #[test]
    fn an_id_and_a_secret_in_different_files_stay_single() {
        let rules = RuleSet::builtin().unwrap();
        let mut found = Vec::new();
        for (path, text) in [
            ("a.env", format!("AWS_ACCESS_KEY_ID={ID}\n")),
            ("b.env", format!("AWS_SECRET_ACCESS_KEY={SECRET}\n")),
        ] {
            found.extend(findings_in(
                &rules,
                text.as_bytes(),
                &Origin::File(path.into()),
                1,
                0,
            ));
        }
        pair_up(&mut found, &rules);
        let rules: Vec<&str> = found.iter().map(|f| f.rule_id.as_str()).collect();
        assert_eq!(rules, ["aws-access-key-id", "aws-secret-access-key"]);
    }

    #[test]
    fn documentation_examples_are_not_paired() {
        let found = paired(
            "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
        );
        assert_eq!(found.len(), 2);
        assert!(found.iter().all(|f| f.pair.is_none()));
    }
}
