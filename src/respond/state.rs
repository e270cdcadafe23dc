//! What IAM says of a key now, read with the operator's credentials: for a long-term key its
//! user, status, creation and last use and whether AWS's quarantine policy is attached; for a
//! temporary key whether its role's older sessions are revoked.

use serde::Serialize;

use super::calls::Calls;
use crate::verify::policy;
use crate::verify::query::{self, Reply};

/// The inline policy the IAM console puts on a role to revoke its active sessions, and that
/// `respond` puts there too, so that either finds the other's.
pub const REVOKE_POLICY: &str = "AWSRevokeOlderSessions";

/// A key's last use, as IAM records it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LastUsed {
    pub date: String,
    pub service: String,
    pub region: String,
}

/// What IAM says of a long-term key.
#[derive(Debug, Clone, Default)]
pub struct UserKey {
    pub user: Option<String>,
    /// `Active` or `Inactive`, or `absent` when IAM no longer has the key.
    pub status: Option<String>,
    pub created: Option<String>,
    pub last_used: Option<LastUsed>,
    pub quarantined: Option<String>,
    /// One line per read that was denied or failed.
    pub notes: Vec<String>,
}

/// A key IAM no longer has: deleted, and so contained.
pub const ABSENT: &str = "absent";

/// Reads what IAM says of the long-term key `key_id`.
pub fn user_key(calls: &Calls, key_id: &str) -> UserKey {
    let mut key = UserKey::default();
    match calls.iam("GetAccessKeyLastUsed", &[("AccessKeyId", key_id)], key_id) {
        Reply::Ok(body) => {
            if let Ok(document) = roxmltree::Document::parse(&body) {
                key.user = query::first_text(&document, "UserName");
                key.last_used = query::first_text(&document, "LastUsedDate").map(|date| LastUsed {
                    date,
                    service: query::first_text(&document, "ServiceName").unwrap_or_default(),
                    region: query::first_text(&document, "Region").unwrap_or_default(),
                });
            }
        }
        Reply::Refused { code, .. } if code == "NoSuchEntity" => {
            key.status = Some(ABSENT.into());
            return key;
        }
        other => key.notes.push(unread("iam:GetAccessKeyLastUsed", &other)),
    }
    let Some(user) = key.user.clone() else {
        key.notes
            .push("the key's user is unknown: its status could not be read".into());
        return key;
    };
    match calls.iam("ListAccessKeys", &[("UserName", &user)], key_id) {
        Reply::Ok(body) => {
            let listed = roxmltree::Document::parse(&body).ok().and_then(|document| {
                members(&document, "AccessKeyMetadata")
                    .into_iter()
                    .find(|m| field(*m, "AccessKeyId").as_deref() == Some(key_id))
                    .map(|m| (field(m, "Status"), field(m, "CreateDate")))
            });
            match listed {
                Some((status, created)) => {
                    key.status = status;
                    key.created = created;
                }
                None => key.status = Some(ABSENT.into()),
            }
        }
        other => key.notes.push(unread("iam:ListAccessKeys", &other)),
    }
    match calls.iam("ListAttachedUserPolicies", &[("UserName", &user)], key_id) {
        Reply::Ok(body) => {
            if let Ok(document) = roxmltree::Document::parse(&body) {
                key.quarantined =
                    members(&document, "AttachedPolicies")
                        .into_iter()
                        .find_map(|m| {
                            field(m, "PolicyArn").and_then(|a| policy::is_quarantine_policy(&a))
                        });
            }
        }
        other => key
            .notes
            .push(unread("iam:ListAttachedUserPolicies", &other)),
    }
    key
}

/// Whether the role `role` has a revocation of sessions issued before `time` (RFC 3339): its
/// [`REVOKE_POLICY`] denies everything to tokens issued before a time at or after `time`.
/// `Err` says why it could not be read.
pub fn sessions_revoked(
    calls: &Calls,
    role: &str,
    time: &str,
    key_id: &str,
) -> Result<bool, String> {
    let params = [("RoleName", role), ("PolicyName", REVOKE_POLICY)];
    let body = match calls.iam("GetRolePolicy", &params, key_id) {
        Reply::Ok(body) => body,
        Reply::Refused { code, .. } if code == "NoSuchEntity" => return Ok(false),
        other => return Err(unread("iam:GetRolePolicy", &other)),
    };
    let document = roxmltree::Document::parse(&body)
        .ok()
        .and_then(|d| query::first_text(&d, "PolicyDocument"))
        .ok_or("iam:GetRolePolicy: no policy document in the reply")?;
    let revoked_before = policy::decode_document(&document)
        .map_err(|why| format!("{REVOKE_POLICY} of role {role} cannot be read: {why}"))?
        .statements
        .iter()
        .filter(|s| s.effect == policy::Effect::Deny)
        .filter_map(|s| {
            s.condition
                .get("DateLessThan")?
                .get("aws:TokenIssueTime")?
                .as_str()
                .map(str::to_string)
        })
        .max();
    // RFC 3339 times in UTC compare as text to the second.
    Ok(revoked_before.is_some_and(|before| second_of(&before) >= second_of(time)))
}

/// `YYYY-MM-DDTHH:MM:SS` of an RFC 3339 time in UTC, whatever fraction or zone mark follows.
fn second_of(time: &str) -> &str {
    time.get(..19).unwrap_or(time)
}

/// A read that gave no answer, in one line.
pub fn unread(action: &str, reply: &Reply) -> String {
    match reply {
        Reply::Ok(_) => format!("{action}: unreadable reply"),
        Reply::Refused { code, .. } => format!("{action}: refused ({code})"),
        Reply::Failed(reason) => format!("{action}: {reason}"),
    }
}

/// The `member`s of the list element `name`.
fn members<'a, 'input>(
    document: &'a roxmltree::Document<'input>,
    name: &str,
) -> Vec<roxmltree::Node<'a, 'input>> {
    document
        .descendants()
        .find(|n| n.has_tag_name(name))
        .map(|list| {
            list.children()
                .filter(|n| n.has_tag_name("member"))
                .collect()
        })
        .unwrap_or_default()
}

/// The trimmed text of the child element `name` of `node`.
fn field(node: roxmltree::Node<'_, '_>, name: &str) -> Option<String> {
    node.children()
        .find(|n| n.has_tag_name(name))
        .and_then(|n| n.text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_compare_to_the_second_whatever_their_fraction() {
        assert!(second_of("2026-12-07T10:00:00.000Z") >= second_of("2026-12-07T10:00:00Z"));
        assert!(second_of("2026-12-07T09:59:59Z") < second_of("2026-12-07T10:00:00Z"));
        assert_eq!(second_of("short"), "short");
    }

    #[test]
    fn listed_members_are_read_by_field() {
        let xml = "<ListAccessKeysResponse><ListAccessKeysResult><AccessKeyMetadata>\
            <member><AccessKeyId>AKIA1</AccessKeyId><Status>Active</Status></member>\
            <member><AccessKeyId>AKIA2</AccessKeyId><Status> Inactive </Status></member>\
            </AccessKeyMetadata></ListAccessKeysResult></ListAccessKeysResponse>";
        let document = roxmltree::Document::parse(xml).unwrap();
        let listed = members(&document, "AccessKeyMetadata");
        assert_eq!(listed.len(), 2);
        assert_eq!(field(listed[1], "Status").as_deref(), Some("Inactive"));
        assert_eq!(field(listed[0], "CreateDate"), None);
        assert!(members(&document, "Nothing").is_empty());
    }
}
