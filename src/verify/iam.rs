//! What a live key may read of its own permissions, with read-only IAM calls signed by the key
//! itself: the policies attached to its user (directly and through groups) or to the role its
//! session assumed, and each managed policy's default version. Nothing here writes, ever. A
//! call the key may not make is recorded as not visible, never guessed around.

use std::collections::BTreeMap;

use super::query::{self, Protocol, Reply, Service};
use super::sts::Credential;

/// IAM's global endpoint signs for this region.
pub const REGION: &str = "us-east-1";
/// The signing name of IAM.
pub const SERVICE: &str = "iam";
/// The API version of IAM.
pub const VERSION: &str = "2010-05-08";
/// IAM's global endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://iam.amazonaws.com";

/// The most pages of one listing read: IAM lists 100 items a page by default, and no principal
/// has that many thousand policies or groups.
const MAX_PAGES: usize = 50;

/// Who a key acts as, from the ARN STS gave for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An IAM user, by name.
    User { name: String },
    /// The role an assumed-role session (`ASIA…` with a token) acts as, by name.
    Role { name: String },
    /// The account's root user: it may do everything.
    Root,
    /// Anything else (a federated user, a service): its policies cannot be listed.
    Other,
}

impl Principal {
    /// The principal an ARN from `GetCallerIdentity` names.
    pub fn of_arn(arn: &str) -> Principal {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let ["arn", _partition, service, _region, _account, resource] = parts[..] else {
            return Principal::Other;
        };
        // `user/path/to/name`: the name is the last part.
        let last = |rest: &str| rest.rsplit('/').next().unwrap_or_default().to_string();
        match (service, resource.split_once('/')) {
            ("iam", _) if resource == "root" => Principal::Root,
            ("iam", Some(("user", rest))) if !rest.is_empty() => {
                Principal::User { name: last(rest) }
            }
            // `assumed-role/ROLE/SESSION`
            ("sts", Some(("assumed-role", rest))) => match rest.split_once('/') {
                Some((role, _)) if !role.is_empty() => Principal::Role {
                    name: role.to_string(),
                },
                _ => Principal::Other,
            },
            _ => Principal::Other,
        }
    }
}

/// A policy read, with where it applies from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadPolicy {
    /// As reports name it: `deploy-s3 (inline, user deploy)`, `AmazonS3ReadOnlyAccess
    /// (managed, group readers)`.
    pub name: String,
    /// The policy document, percent-encoded as IAM returns it.
    pub document: String,
}

/// Everything the key could read of its principal's permissions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions {
    pub policies: Vec<ReadPolicy>,
    /// The ARNs of the managed policies attached, wherever from (a quarantine policy among
    /// them says AWS has quarantined the key).
    pub attached: Vec<String>,
    /// The calls the key was refused (`iam:ListAttachedUserPolicies`), or that failed: some
    /// policy may be missing, so what is not allowed is unknown rather than denied.
    pub not_visible: Vec<String>,
}

impl Permissions {
    /// Whether every policy of the principal was read.
    pub fn complete(&self) -> bool {
        self.not_visible.is_empty()
    }
}

/// Reads IAM with one credential.
pub struct Reader<'a> {
    client: &'a query::Client,
    iam: Service,
    credential: &'a Credential,
}

/// A call that gave no answer to use: refused (the action named), or failed.
struct NotVisible(String);

impl<'a> Reader<'a> {
    pub fn new(client: &'a query::Client, endpoint: &str, credential: &'a Credential) -> Self {
        Reader {
            client,
            iam: Service {
                name: SERVICE,
                region: REGION.to_string(),
                protocol: Protocol::Query { version: VERSION },
                endpoint: endpoint.to_string(),
            },
            credential,
        }
    }

    /// Reads the permissions of `principal`, as far as the key may.
    pub fn permissions(&self, principal: &Principal) -> Permissions {
        let mut found = Permissions::default();
        match principal {
            Principal::User { name } => {
                self.read_holder(&mut found, Holder::User, name);
                match self.list("ListGroupsForUser", &[("UserName", name)], "Groups") {
                    Ok(groups) => {
                        for group in groups {
                            if let Some(group) = group.field("GroupName") {
                                self.read_holder(&mut found, Holder::Group, &group);
                            }
                        }
                    }
                    Err(NotVisible(call)) => found.not_visible.push(call),
                }
            }
            Principal::Role { name } => self.read_holder(&mut found, Holder::Role, name),
            Principal::Root | Principal::Other => {}
        }
        found.not_visible.sort();
        found.not_visible.dedup();
        found
    }

    /// Reads the inline and attached policies of one user, group or role.
    fn read_holder(&self, found: &mut Permissions, holder: Holder, name: &str) {
        let key = holder.name_parameter();
        let params = [(key, name)];
        let (list_inline, get_inline, list_attached) = holder.actions();
        match self.list(list_inline, &params, "PolicyNames") {
            Ok(names) => {
                for policy in names.iter().filter_map(Item::text) {
                    let params = [(key, name), ("PolicyName", policy.as_str())];
                    match self.get(get_inline, &params, "PolicyDocument") {
                        Ok(document) => found.policies.push(ReadPolicy {
                            name: format!("{policy} (inline, {} {name})", holder.word()),
                            document,
                        }),
                        Err(NotVisible(call)) => found.not_visible.push(call),
                    }
                }
            }
            Err(NotVisible(call)) => found.not_visible.push(call),
        }
        match self.list(list_attached, &params, "AttachedPolicies") {
            Ok(attached) => {
                for policy in attached {
                    let (Some(policy_name), Some(arn)) =
                        (policy.field("PolicyName"), policy.field("PolicyArn"))
                    else {
                        continue;
                    };
                    found.attached.push(arn.clone());
                    match self.managed_document(&arn) {
                        Ok(document) => found.policies.push(ReadPolicy {
                            name: format!("{policy_name} (managed, {} {name})", holder.word()),
                            document,
                        }),
                        Err(NotVisible(call)) => found.not_visible.push(call),
                    }
                }
            }
            Err(NotVisible(call)) => found.not_visible.push(call),
        }
    }

    /// The ARN IAM's policy simulator takes for `principal` (whose session or user ARN is
    /// `arn`): the user's ARN, or the role's, read with GetRole (a session's ARN does not give
    /// the role's path). None for the root user and for other principals.
    pub fn simulation_source(&self, principal: &Principal, arn: &str) -> Option<String> {
        match principal {
            Principal::User { .. } => Some(arn.to_string()),
            Principal::Role { name } => self.get("GetRole", &[("RoleName", name)], "Arn").ok(),
            Principal::Root | Principal::Other => None,
        }
    }

    /// IAM's policy simulator's answer (`allowed`, `explicitDeny`, `implicitDeny`) for each of
    /// `actions`, for the principal `source`, on every resource. Empty when the key may not
    /// ask: the simulator only checks what was read, it is no source of its own.
    pub fn simulate(&self, source: &str, actions: &[String]) -> BTreeMap<String, String> {
        let names: Vec<(String, &str)> = actions
            .iter()
            .enumerate()
            .map(|(i, action)| (format!("ActionNames.member.{}", i + 1), action.as_str()))
            .collect();
        let mut params: Vec<(&str, &str)> = vec![("PolicySourceArn", source)];
        params.extend(names.iter().map(|(name, action)| (name.as_str(), *action)));
        let Ok(results) = self.list("SimulatePrincipalPolicy", &params, "EvaluationResults") else {
            return BTreeMap::new();
        };
        results
            .iter()
            .filter_map(|result| {
                Some((
                    result.field("EvalActionName")?,
                    result.field("EvalDecision")?,
                ))
            })
            .collect()
    }

    /// The default version's document of the managed policy `arn`.
    fn managed_document(&self, arn: &str) -> Result<String, NotVisible> {
        let version = self.get("GetPolicy", &[("PolicyArn", arn)], "DefaultVersionId")?;
        let params = [("PolicyArn", arn), ("VersionId", version.as_str())];
        self.get("GetPolicyVersion", &params, "Document")
    }

    /// Calls `action` and returns the text of the reply's element `field`.
    fn get(
        &self,
        action: &str,
        params: &[(&str, &str)],
        field: &str,
    ) -> Result<String, NotVisible> {
        let body = self.call(action, params)?;
        let document = roxmltree::Document::parse(&body)
            .map_err(|_| NotVisible(format!("iam:{action} (unreadable reply)")))?;
        query::first_text(&document, field)
            .ok_or_else(|| NotVisible(format!("iam:{action} (no {field} in the reply)")))
    }

    /// Calls the listing `action` page by page and returns the members of its element
    /// `container`.
    fn list(
        &self,
        action: &str,
        params: &[(&str, &str)],
        container: &str,
    ) -> Result<Vec<Item>, NotVisible> {
        let mut items = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut paged: Vec<(&str, &str)> = params.to_vec();
            if let Some(marker) = &marker {
                paged.push(("Marker", marker.as_str()));
            }
            let body = self.call(action, &paged)?;
            let document = roxmltree::Document::parse(&body)
                .map_err(|_| NotVisible(format!("iam:{action} (unreadable reply)")))?;
            if let Some(list) = document.descendants().find(|n| n.has_tag_name(container)) {
                items.extend(
                    list.children()
                        .filter(|n| n.has_tag_name("member"))
                        .map(Item::of),
                );
            }
            let truncated = query::first_text(&document, "IsTruncated").as_deref() == Some("true");
            marker = query::first_text(&document, "Marker");
            if !truncated || marker.is_none() {
                return Ok(items);
            }
        }
        Err(NotVisible(format!(
            "iam:{action} (more than {MAX_PAGES} pages)"
        )))
    }

    fn call(&self, action: &str, params: &[(&str, &str)]) -> Result<String, NotVisible> {
        match self.client.call(&self.iam, self.credential, action, params) {
            Reply::Ok(body) => Ok(body),
            Reply::Refused { code, .. } if is_denial(&code) => {
                Err(NotVisible(format!("iam:{action}")))
            }
            Reply::Refused { code, .. } => Err(NotVisible(format!("iam:{action} ({code})"))),
            Reply::Failed(reason) => Err(NotVisible(format!("iam:{action} ({reason})"))),
        }
    }
}

/// Whether an error code says the caller may not make the call.
fn is_denial(code: &str) -> bool {
    matches!(
        code,
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation"
    )
}

/// Who policies are attached to.
#[derive(Debug, Clone, Copy)]
enum Holder {
    User,
    Group,
    Role,
}

impl Holder {
    fn word(self) -> &'static str {
        match self {
            Holder::User => "user",
            Holder::Group => "group",
            Holder::Role => "role",
        }
    }

    /// The parameter that names the holder.
    fn name_parameter(self) -> &'static str {
        match self {
            Holder::User => "UserName",
            Holder::Group => "GroupName",
            Holder::Role => "RoleName",
        }
    }

    /// The calls that list inline policies, get one, and list attached ones.
    fn actions(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Holder::User => (
                "ListUserPolicies",
                "GetUserPolicy",
                "ListAttachedUserPolicies",
            ),
            Holder::Group => (
                "ListGroupPolicies",
                "GetGroupPolicy",
                "ListAttachedGroupPolicies",
            ),
            Holder::Role => (
                "ListRolePolicies",
                "GetRolePolicy",
                "ListAttachedRolePolicies",
            ),
        }
    }
}

/// One `member` of a listing: a string, or a structure of named fields.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    text: Option<String>,
    fields: Vec<(String, String)>,
}

impl Item {
    fn of(member: roxmltree::Node<'_, '_>) -> Item {
        let fields = member
            .children()
            .filter(|n| n.is_element())
            .filter_map(|n| {
                let value = n.text()?.trim();
                (!value.is_empty()).then(|| (n.tag_name().name().to_string(), value.to_string()))
            })
            .collect();
        let text = member
            .text()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        Item { text, fields }
    }

    fn text(&self) -> Option<String> {
        self.text.clone()
    }

    fn field(&self, name: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_principal_is_told_by_its_arn() {
        let cases = [
            (
                "arn:aws:iam::418295736041:user/deploy",
                Principal::User {
                    name: "deploy".into(),
                },
            ),
            (
                "arn:aws:iam::418295736041:user/ci/bots/deploy",
                Principal::User {
                    name: "deploy".into(),
                },
            ),
            (
                "arn:aws:sts::418295736041:assumed-role/ops-admin/session-1",
                Principal::Role {
                    name: "ops-admin".into(),
                },
            ),
            ("arn:aws-us-gov:iam::418295736041:root", Principal::Root),
            (
                "arn:aws:sts::418295736041:federated-user/bob",
                Principal::Other,
            ),
            ("not an arn", Principal::Other),
            ("arn:aws:iam::418295736041:user/", Principal::Other),
        ];
        for (arn, principal) in cases {
            assert_eq!(Principal::of_arn(arn), principal, "{arn}");
        }
    }

    #[test]
    fn members_of_a_listing_are_read_as_text_or_fields() {
        // As botocore's model shapes them: `PolicyNames` holds strings, `AttachedPolicies`
        // structures.
        let body = r#"<ListAttachedUserPoliciesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <ListAttachedUserPoliciesResult>
    <AttachedPolicies>
      <member><PolicyName>AmazonS3ReadOnlyAccess</PolicyName>
        <PolicyArn>arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess</PolicyArn></member>
    </AttachedPolicies>
    <IsTruncated>false</IsTruncated>
  </ListAttachedUserPoliciesResult>
</ListAttachedUserPoliciesResponse>"#;
        let document = roxmltree::Document::parse(body).unwrap();
        let list = document
            .descendants()
            .find(|n| n.has_tag_name("AttachedPolicies"))
            .unwrap();
        let items: Vec<Item> = list
            .children()
            .filter(|n| n.has_tag_name("member"))
            .map(Item::of)
            .collect();
        assert_eq!(items.len(), 1);
        assert_eq!(
            items[0].field("PolicyArn").as_deref(),
            Some("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        );
        let names = roxmltree::Document::parse(
            "<r><PolicyNames><member>deploy-s3</member><member> x </member></PolicyNames></r>",
        )
        .unwrap();
        let list = names
            .descendants()
            .find(|n| n.has_tag_name("PolicyNames"))
            .unwrap();
        let texts: Vec<String> = list
            .children()
            .filter(|n| n.has_tag_name("member"))
            .filter_map(|n| Item::of(n).text())
            .collect();
        assert_eq!(texts, ["deploy-s3", "x"]);
    }
}
