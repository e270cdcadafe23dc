//! Containment: the steps that take a leaked key out of use, as AWS CLI commands and as data,
//! and carrying them out (`--apply`).
//!
//! A long-term key is deactivated, never deleted: deletion destroys the evidence (the key's
//! last use, its CloudTrail trail by key ID stays but IAM forgets it) and the way back if the
//! key turns out to run production. A temporary key cannot be deactivated: its role gets the
//! inline policy the IAM console writes to revoke older sessions, denying everything to tokens
//! issued before now. Each step is planned only when the state read says it is needed, so a
//! second run plans nothing and changes nothing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::calls::Calls;
use super::state::REVOKE_POLICY;
use crate::finding::VerificationStatus;
use crate::verify::query::Reply;
use crate::verify::sts::Credential;

/// The quarantine policy `--quarantine` attaches: AWS's own, the one AWS attaches to keys it
/// finds leaked.
pub const QUARANTINE_POLICY: &str = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3";

/// One step of a plan.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Step {
    /// The API action (`iam:UpdateAccessKey`).
    pub action: String,
    /// What it does, in words.
    pub what: String,
    /// The same step as an AWS CLI command, to run by hand or to review.
    pub command: String,
    /// The action's parameters.
    pub parameters: BTreeMap<String, String>,
}

/// What carrying out a step came to.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Done {
    pub action: String,
    /// `done`, or why it failed.
    pub result: String,
    #[serde(skip)]
    pub failed: bool,
}

/// The step that deactivates the long-term key `key_id` of `user`.
pub fn deactivate(user: &str, key_id: &str, profile: Option<&str>) -> Step {
    step(
        "UpdateAccessKey",
        "deactivate the key (not deleted: the evidence stays, and the way back)",
        &[
            ("UserName", user),
            ("AccessKeyId", key_id),
            ("Status", "Inactive"),
        ],
        profile,
    )
}

/// The step that attaches AWS's quarantine policy to `user`.
pub fn quarantine(user: &str, profile: Option<&str>) -> Step {
    step(
        "AttachUserPolicy",
        "attach AWS's quarantine policy to the user, denying what attackers do first",
        &[("UserName", user), ("PolicyArn", QUARANTINE_POLICY)],
        profile,
    )
}

/// The step that revokes every session of `role` issued before `now` (RFC 3339).
pub fn revoke_sessions(role: &str, now: &str, profile: Option<&str>) -> Step {
    let document = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Deny",
            "Action": ["*"],
            "Resource": ["*"],
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": now}},
        }],
    })
    .to_string();
    step(
        "PutRolePolicy",
        "revoke the role's sessions issued before now (new sessions are unaffected)",
        &[
            ("RoleName", role),
            ("PolicyName", REVOKE_POLICY),
            ("PolicyDocument", &document),
        ],
        profile,
    )
}

fn step(action: &str, what: &str, parameters: &[(&str, &str)], profile: Option<&str>) -> Step {
    let mut command = format!("aws iam {}", cli_name(action));
    for (name, value) in parameters {
        command.push_str(&format!(" --{} {}", cli_name(name), shell_quote(value)));
    }
    if let Some(profile) = profile {
        command.push_str(&format!(" --profile {}", shell_quote(profile)));
    }
    Step {
        action: format!("iam:{action}"),
        what: what.to_string(),
        command,
        parameters: parameters
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    }
}

/// The AWS CLI's name of an action or parameter: `UpdateAccessKey` → `update-access-key`.
fn cli_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// `value` as one word for a POSIX shell.
fn shell_quote(value: &str) -> String {
    let plain = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.:/=@+,".contains(&b));
    if plain && !value.is_empty() {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// Carries out `steps` in order for `key_id`, stopping at the first that fails.
pub fn apply(calls: &Calls, steps: &[Step], key_id: &str) -> Vec<Done> {
    let mut done = Vec::with_capacity(steps.len());
    for step in steps {
        let params: Vec<(&str, &str)> = step
            .parameters
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let action = step.action.trim_start_matches("iam:");
        let (result, failed) = match calls.iam(action, &params, key_id) {
            Reply::Ok(_) => ("done".to_string(), false),
            Reply::Refused { code, status } => (format!("refused: {code} (HTTP {status})"), true),
            Reply::Failed(reason) => (format!("failed: {reason}"), true),
        };
        done.push(Done {
            action: step.action.clone(),
            result,
            failed,
        });
        if failed {
            break;
        }
    }
    done
}

/// Checks `leaked` against STS until AWS refuses it or `settle` has passed (IAM's changes take
/// a few seconds to reach every endpoint), and says what came of it.
pub fn reverify(calls: &Calls, leaked: &Credential, settle: Duration) -> String {
    let started = Instant::now();
    let mut tries = 0;
    loop {
        tries += 1;
        let status = calls.identify_leaked(leaked);
        let waited = started.elapsed();
        match status {
            VerificationStatus::Live { .. } if waited + PAUSE <= settle => {
                std::thread::sleep(PAUSE);
            }
            VerificationStatus::Live { .. } => {
                return format!(
                    "still accepted after {tries} tries over {} s: IAM may not have caught up, \
                     check again with `keyhound respond` later",
                    waited.as_secs()
                )
            }
            VerificationStatus::Invalid => {
                return "refused by STS (InvalidClientTokenId): the key no longer works".into()
            }
            other => return format!("STS answered {}", other.as_str()),
        }
    }
}

/// The wait between checks of a key just deactivated.
const PAUSE: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_cli_commands_a_shell_reads_as_given() {
        let step = deactivate("deploy bot", "AKIAWCZC6M3UVHZKOTPE", Some("sec"));
        assert_eq!(
            step.command,
            "aws iam update-access-key --user-name 'deploy bot' --access-key-id \
             AKIAWCZC6M3UVHZKOTPE --status Inactive --profile sec"
        );
        assert_eq!(step.action, "iam:UpdateAccessKey");
        assert_eq!(step.parameters["Status"], "Inactive");
        let quarantined = quarantine("o'brien", None);
        assert!(
            quarantined
                .command
                .starts_with("aws iam attach-user-policy --user-name 'o'\\''brien' --policy-arn"),
            "{}",
            quarantined.command
        );
        assert!(quarantined.command.contains(QUARANTINE_POLICY));
    }

    #[test]
    fn revoking_denies_everything_to_tokens_issued_before_now() {
        let step = revoke_sessions("ci", "2026-12-07T10:00:00Z", None);
        assert_eq!(step.parameters["PolicyName"], REVOKE_POLICY);
        let document =
            crate::verify::policy::Policy::parse(&step.parameters["PolicyDocument"]).unwrap();
        let statement = &document.statements[0];
        assert_eq!(statement.effect, crate::verify::policy::Effect::Deny);
        assert_eq!(
            statement.condition["DateLessThan"]["aws:TokenIssueTime"],
            "2026-12-07T10:00:00Z"
        );
        assert!(step.command.starts_with(
            "aws iam put-role-policy --role-name ci --policy-name AWSRevokeOlderSessions \
             --policy-document '{"
        ));
    }
}
