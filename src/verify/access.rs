//! `--analyze`: what a live key may do, from its own policies. The policies the key can read
//! of itself ([`iam`](super::iam)) are evaluated here ([`policy`](super::policy)) for the
//! high-impact actions of `rules/actions.toml`; where the key may ask IAM's policy simulator,
//! the simulator is asked the same questions and any disagreement is reported, not hidden.

use std::collections::BTreeMap;

use super::iam::{Principal, Reader};
use super::policy::{self, Policy};
use super::query;
use super::sts::Credential;
use crate::finding::{Access, Decision};

/// What the key acting as `arn` may do, read with `credential` from IAM at `endpoint`.
pub fn analyze(
    client: &query::Client,
    endpoint: &str,
    credential: &Credential,
    arn: &str,
) -> Access {
    let principal = Principal::of_arn(arn);
    let reader = Reader::new(client, endpoint, credential);
    let permissions = reader.permissions(&principal);
    let mut not_visible = permissions.not_visible.clone();
    let mut policies = Vec::new();
    let mut names = Vec::new();
    for read in &permissions.policies {
        match policy::decode_document(&read.document) {
            Ok(document) => {
                policies.push(document);
                names.push(read.name.clone());
            }
            Err(why) => not_visible.push(format!("{} (unreadable document: {why})", read.name)),
        }
    }
    let complete = not_visible.is_empty() && !matches!(principal, Principal::Other);
    if matches!(principal, Principal::Other) {
        not_visible.push(format!(
            "the policies of {arn} (not a user or an assumed role)"
        ));
    }
    let root = principal == Principal::Root;
    let actions = decide(&policies, complete, root);
    let administrator = root || policy::is_administrator(&policies);
    let quarantined = permissions
        .attached
        .iter()
        .find_map(|arn| policy::is_quarantine_policy(arn));
    // The simulator is asked only where the policies read let the key ask it: a call it may
    // not make would only add a denial to the account's trail.
    let may_simulate = matches!(
        actions.get(SIMULATE),
        Some(Decision::Allowed | Decision::Conditional)
    );
    let source = may_simulate
        .then(|| reader.simulation_source(&principal, arn))
        .flatten();
    let disagreements = match source {
        Some(source) => disagreements(&actions, &reader.simulate(&source, &action_names())),
        None => Vec::new(),
    };
    let summary = if administrator {
        "administrator".to_string()
    } else {
        let decided: Vec<_> = policy::high_impact_actions()
            .iter()
            .map(|spec| (spec.clone(), actions[&spec.name]))
            .collect();
        policy::summary(&decided)
    };
    Access {
        principal: arn.to_string(),
        administrator,
        actions,
        policies: names,
        not_visible,
        quarantined,
        disagreements,
        summary,
    }
}

/// The action that asks IAM's policy simulator.
const SIMULATE: &str = "iam:SimulatePrincipalPolicy";

/// The names of the high-impact actions.
fn action_names() -> Vec<String> {
    policy::high_impact_actions()
        .iter()
        .map(|spec| spec.name.clone())
        .collect()
}

/// What `policies` say of each high-impact action; the root user may do everything.
fn decide(policies: &[Policy], complete: bool, root: bool) -> BTreeMap<String, Decision> {
    policy::high_impact_actions()
        .iter()
        .map(|spec| {
            let decision = if root {
                Decision::Allowed
            } else {
                policy::evaluate(policies, &spec.name, complete)
            };
            (spec.name.clone(), decision)
        })
        .collect()
}

/// Where the simulator's answers (`allowed`, `explicitDeny`, `implicitDeny`) contradict a
/// definite local decision; conditional and unknown local answers contradict nothing.
fn disagreements(
    local: &BTreeMap<String, Decision>,
    simulated: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut found = Vec::new();
    for (action, answer) in simulated {
        let Some(decision) = local.get(action) else {
            continue;
        };
        let simulator_allows = answer == "allowed";
        let contradicts = match decision {
            Decision::Allowed => !simulator_allows,
            Decision::Denied => simulator_allows,
            Decision::Conditional | Decision::Unknown => false,
        };
        if contradicts {
            let word = match decision {
                Decision::Allowed => "allowed",
                _ => "denied",
            };
            found.push(format!(
                "{action}: the policies read say {word}, IAM's policy simulator says {answer}"
            ));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_definite_local_answers_can_disagree_with_the_simulator() {
        let local: BTreeMap<String, Decision> = [
            ("s3:GetObject", Decision::Allowed),
            ("iam:CreateAccessKey", Decision::Denied),
            ("kms:Decrypt", Decision::Conditional),
            ("ec2:RunInstances", Decision::Allowed),
        ]
        .into_iter()
        .map(|(a, d)| (a.to_string(), d))
        .collect();
        let simulated: BTreeMap<String, String> = [
            ("s3:GetObject", "allowed"),
            ("iam:CreateAccessKey", "allowed"),
            ("kms:Decrypt", "implicitDeny"),
            ("ec2:RunInstances", "explicitDeny"),
        ]
        .into_iter()
        .map(|(a, d)| (a.to_string(), d.to_string()))
        .collect();
        assert_eq!(
            disagreements(&local, &simulated),
            [
                "ec2:RunInstances: the policies read say allowed, IAM's policy simulator says explicitDeny",
                "iam:CreateAccessKey: the policies read say denied, IAM's policy simulator says allowed",
            ]
        );
    }
}
