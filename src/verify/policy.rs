//! What a live key's IAM policies let it do, decided offline.
//!
//! A responder holding a leaked key that still works first needs to know what whoever else holds
//! it can do. keyhound reads the key's own identity policies with read-only IAM calls; this
//! module is the part after that: it parses the policy documents IAM returns and decides, for
//! each action of a list ([`high_impact_actions`], kept as data in `rules/actions.toml`),
//! whether the policies allow it, following AWS's evaluation logic for identity-based policies
//! within one account. Nothing here touches the network.
//!
//! The answer errs towards caution where the policies alone cannot settle it: an `Allow` that
//! holds only on some resources or under a `Condition` is [`Decision::Conditional`], and so is
//! an `Allow` that a conditional or resource-limited `Deny` may take back. Service control
//! policies, permission boundaries, session policies and resource policies are not read: the
//! answer is what the identity's own policies say.

use std::collections::HashSet;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::finding::Decision;

/// The largest policy document keyhound reads, in bytes once decoded. IAM's own limits are far
/// lower (about 10 KB for a managed policy, 2 KB for a user's inline one), so anything bigger is
/// not a document IAM returned.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// The resource that stands for "any resource": asked with it, evaluation answers for the
/// action itself, without knowing which resources it would be used on.
pub const ANY_RESOURCE: &str = "*";

/// The high-impact actions, embedded in the binary.
const HIGH_IMPACT_ACTIONS: &str = include_str!("../../rules/actions.toml");

/// How many phrases a [`summary`] lists before it counts the rest.
const SUMMARY_LIST_LIMIT: usize = 6;

/// The elements a statement may have; any other makes the document an error, since keyhound
/// cannot tell what an element it does not know would restrict.
const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// One IAM policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The policy language version (`2012-10-17`), when the document names one.
    pub version: Option<String>,
    /// The statements, in the document's order.
    pub statements: Vec<Statement>,
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Whether the statement allows or denies.
    pub effect: Effect,
    /// The actions it covers: `Action`, or `NotAction`.
    pub actions: Patterns,
    /// The resources it covers: `Resource`, or `NotResource`; a statement without either
    /// covers every resource.
    pub resources: Patterns,
    /// The `Condition` block: empty when the statement holds unconditionally.
    pub condition: Map<String, Value>,
}

/// What a statement does to what it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `"Effect": "Allow"`.
    Allow,
    /// `"Effect": "Deny"`.
    Deny,
}

/// A list of action or resource patterns, with `*` and `?` wildcards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patterns {
    /// `Action` or `Resource`: what matches one of the patterns.
    AnyOf(Vec<String>),
    /// `NotAction` or `NotResource`: what matches none of the patterns.
    NoneOf(Vec<String>),
}

/// How far one statement reaches for the action and resource asked about. Ordered, so that the
/// furthest reach of several statements is their maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reach {
    /// The statement does not apply.
    Nowhere,
    /// It applies to some resources only, or under conditions.
    Partly,
    /// It applies unconditionally.
    Fully,
}

/// One high-impact action and how a summary says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSpec {
    /// The IAM action, `service:ActionName`.
    pub name: String,
    /// What the action lets a key do, completing "the key can …": `create access keys`.
    pub phrase: String,
}

/// The layout of `rules/actions.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionFile {
    /// The `[[action]]` entries, in order.
    action: Vec<ActionSpec>,
}

impl Policy {
    /// Parses a policy document in plain JSON. A document keyhound cannot read fully (not
    /// JSON, an element it does not know, a value of the wrong kind, over
    /// [`MAX_DOCUMENT_BYTES`]) is an error saying why.
    pub fn parse(json: &str) -> Result<Policy, String> {
        if json.len() > MAX_DOCUMENT_BYTES {
            return Err(format!(
                "the document is {} bytes, more than the {MAX_DOCUMENT_BYTES} keyhound reads",
                json.len()
            ));
        }
        let document: Value =
            serde_json::from_str(json).map_err(|error| format!("not JSON: {error}"))?;
        let Value::Object(fields) = document else {
            return Err("the document is not a JSON object".to_string());
        };
        if let Some(unknown) = fields
            .keys()
            .find(|key| !["Version", "Id", "Statement"].contains(&key.as_str()))
        {
            return Err(format!("unknown element {unknown:?}"));
        }
        let version = match fields.get("Version") {
            None => None,
            Some(Value::String(version)) => Some(version.clone()),
            Some(_) => return Err("Version is not a string".to_string()),
        };
        let statements = match fields.get("Statement") {
            Some(Value::Array(statements)) => statements
                .iter()
                .enumerate()
                .map(|(index, statement)| {
                    parse_statement(statement)
                        .map_err(|why| format!("statement {}: {why}", index + 1))
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(statement @ Value::Object(_)) => {
                vec![parse_statement(statement).map_err(|why| format!("statement: {why}"))?]
            }
            Some(_) => return Err("Statement is neither an object nor an array".to_string()),
            None => return Err("the document has no Statement".to_string()),
        };
        Ok(Policy {
            version,
            statements,
        })
    }
}

/// Parses one statement.
fn parse_statement(statement: &Value) -> Result<Statement, String> {
    let Value::Object(fields) = statement else {
        return Err("not a JSON object".to_string());
    };
    if let Some(unknown) = fields
        .keys()
        .find(|key| !STATEMENT_ELEMENTS.contains(&key.as_str()))
    {
        return Err(format!("unknown element {unknown:?}"));
    }
    let effect = match fields.get("Effect") {
        Some(Value::String(effect)) if effect == "Allow" => Effect::Allow,
        Some(Value::String(effect)) if effect == "Deny" => Effect::Deny,
        Some(Value::String(effect)) => {
            return Err(format!("Effect is {effect:?}, not \"Allow\" or \"Deny\""))
        }
        Some(_) => return Err("Effect is not a string".to_string()),
        None => return Err("no Effect".to_string()),
    };
    let actions = parse_patterns(fields, "Action")?.ok_or("neither Action nor NotAction")?;
    let resources = parse_patterns(fields, "Resource")?.unwrap_or(Patterns::NoneOf(Vec::new()));
    let condition = match fields.get("Condition") {
        None => Map::new(),
        Some(Value::Object(condition)) => condition.clone(),
        Some(_) => return Err("Condition is not an object".to_string()),
    };
    Ok(Statement {
        effect,
        actions,
        resources,
        condition,
    })
}

/// The patterns of element `name` (`Action`) or of its negation (`NotAction`), or None when the
/// statement has neither.
fn parse_patterns(fields: &Map<String, Value>, name: &str) -> Result<Option<Patterns>, String> {
    let negated = format!("Not{name}");
    match (fields.get(name), fields.get(&negated)) {
        (Some(_), Some(_)) => Err(format!("both {name} and {negated}")),
        (Some(value), None) => Ok(Some(Patterns::AnyOf(parse_strings(name, value)?))),
        (None, Some(value)) => Ok(Some(Patterns::NoneOf(parse_strings(&negated, value)?))),
        (None, None) => Ok(None),
    }
}

/// A string, or an array of strings, as a list.
fn parse_strings(name: &str, value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::String(one) => Ok(vec![one.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => Ok(text.clone()),
                _ => Err(format!("{name} holds something other than a string")),
            })
            .collect(),
        _ => Err(format!(
            "{name} is neither a string nor an array of strings"
        )),
    }
}

/// Parses a policy document as IAM returns it (`GetUserPolicy`, `GetPolicyVersion`):
/// percent-encoded per RFC 3986. Only `%XX` escapes are decoded; a `+` stays a `+` (IAM writes
/// a space as `%20`). A document that already starts with `{` has been decoded (some SDKs do
/// it) and is parsed as it is, so that a `%` in it is not decoded twice.
pub fn decode_document(encoded: &str) -> Result<Policy, String> {
    // Each decoded byte takes at most three encoded ones.
    if encoded.len() > 3 * MAX_DOCUMENT_BYTES {
        return Err(format!(
            "the encoded document is {} bytes, more than keyhound reads",
            encoded.len()
        ));
    }
    if encoded.trim_start().starts_with('{') {
        return Policy::parse(encoded);
    }
    Policy::parse(&percent_decode(encoded)?)
}

/// Decodes the `%XX` escapes of `encoded`; the result must be UTF-8.
fn percent_decode(encoded: &str) -> Result<String, String> {
    let bytes = encoded.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            let high = bytes.get(index + 1).and_then(|&digit| hex_digit(digit));
            let low = bytes.get(index + 2).and_then(|&digit| hex_digit(digit));
            let (Some(high), Some(low)) = (high, low) else {
                return Err(format!(
                    "the % at byte {index} is not followed by two hex digits"
                ));
            };
            decoded.push(high << 4 | low);
            index += 3;
        } else {
            decoded.push(byte);
            index += 1;
        }
    }
    String::from_utf8(decoded).map_err(|_| "the decoded document is not UTF-8".to_string())
}

/// The value of one hex digit.
fn hex_digit(digit: u8) -> Option<u8> {
    (digit as char)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters (the empty one
/// too) and `?` exactly one; `fold_case` compares letters ASCII case-insensitively.
///
/// Greedy, with a backtrack to the last `*` only: a later `*` supersedes an earlier one, since
/// whatever the earlier one could still absorb the later one can too. Each backtrack moves the
/// text position the last `*` stands for one character on, so matching takes at most
/// O(pattern × text) steps, never exponentially many.
fn wildcard_match(pattern: &str, text: &str, fold_case: bool) -> bool {
    let same = |a: char, b: char| a == b || (fold_case && a.eq_ignore_ascii_case(&b));
    let (mut at_pattern, mut at_text) = (0, 0);
    // Where the pattern goes on after the last `*` seen, and where in the text that `*` ends.
    let mut last_star: Option<(usize, usize)> = None;
    while let Some(character) = text[at_text..].chars().next() {
        match pattern[at_pattern..].chars().next() {
            Some('*') => {
                at_pattern += 1;
                last_star = Some((at_pattern, at_text));
            }
            Some(wanted) if wanted == '?' || same(wanted, character) => {
                at_pattern += wanted.len_utf8();
                at_text += character.len_utf8();
            }
            _ => {
                let Some((after_star, star_end)) = last_star else {
                    return false;
                };
                let absorbed = text[star_end..].chars().next().map_or(1, char::len_utf8);
                at_pattern = after_star;
                at_text = star_end + absorbed;
                last_star = Some((after_star, at_text));
            }
        }
    }
    pattern[at_pattern..].chars().all(|c| c == '*')
}

/// Whether an IAM action name matches an action pattern: case-insensitively, with wildcards.
fn action_matches(pattern: &str, action: &str) -> bool {
    wildcard_match(pattern, action, true)
}

/// Whether a resource (an ARN) matches a resource pattern: case-sensitively, with wildcards,
/// over the whole ARN.
fn resource_matches(pattern: &str, resource: &str) -> bool {
    wildcard_match(pattern, resource, false)
}

/// Whether a pattern matches every string: it is made of `*` only.
fn matches_everything(pattern: &str) -> bool {
    !pattern.is_empty() && pattern.chars().all(|c| c == '*')
}

impl Patterns {
    /// Whether these action patterns cover `action`.
    fn cover_action(&self, action: &str) -> bool {
        match self {
            Patterns::AnyOf(patterns) => patterns.iter().any(|p| action_matches(p, action)),
            Patterns::NoneOf(patterns) => !patterns.iter().any(|p| action_matches(p, action)),
        }
    }

    /// How far these resource patterns reach for `resource`; [`ANY_RESOURCE`] asks whether they
    /// cover every resource (`Fully`), only some (`Partly`) or none.
    fn reach_resource(&self, resource: &str) -> Reach {
        if resource == ANY_RESOURCE {
            let everything = |patterns: &[String]| patterns.iter().any(|p| matches_everything(p));
            return match self {
                Patterns::AnyOf(patterns) if everything(patterns) => Reach::Fully,
                Patterns::AnyOf(patterns) if patterns.is_empty() => Reach::Nowhere,
                Patterns::NoneOf(patterns) if everything(patterns) => Reach::Nowhere,
                Patterns::NoneOf(patterns) if patterns.is_empty() => Reach::Fully,
                Patterns::AnyOf(_) | Patterns::NoneOf(_) => Reach::Partly,
            };
        }
        let matched = match self {
            Patterns::AnyOf(patterns) => patterns.iter().any(|p| resource_matches(p, resource)),
            Patterns::NoneOf(patterns) => !patterns.iter().any(|p| resource_matches(p, resource)),
        };
        if matched {
            Reach::Fully
        } else {
            Reach::Nowhere
        }
    }

    /// Whether these action patterns name every action: `*` or `*:*` in `Action`.
    fn name_every_action(&self) -> bool {
        match self {
            Patterns::AnyOf(patterns) => {
                patterns.iter().any(|p| matches_everything(p) || p == "*:*")
            }
            Patterns::NoneOf(patterns) => patterns.is_empty(),
        }
    }
}

impl Statement {
    /// Whether the statement has a `Condition`, so that it holds only sometimes.
    pub fn is_conditional(&self) -> bool {
        !self.condition.is_empty()
    }

    /// How far the statement reaches for `action` on `resource`.
    fn reach(&self, action: &str, resource: &str) -> Reach {
        if !self.actions.cover_action(action) {
            return Reach::Nowhere;
        }
        let reach = self.resources.reach_resource(resource);
        if self.is_conditional() {
            reach.min(Reach::Partly)
        } else {
            reach
        }
    }
}

/// Whether `policies`, all the identity policies of one principal, allow `action` on any
/// resource. `complete` is false when some policy of the principal could not be read: then
/// only an unconditional explicit `Deny` among those read settles the answer.
pub fn evaluate(policies: &[Policy], action: &str, complete: bool) -> Decision {
    evaluate_on_resource(policies, action, ANY_RESOURCE, complete)
}

/// Whether `policies` allow `action` on `resource` (an ARN, or [`ANY_RESOURCE`] when the
/// resource is not known), as [`evaluate`] decides.
///
/// An explicit `Deny` that applies wins; otherwise an `Allow` that applies allows; otherwise
/// the action is implicitly denied. A statement with a `Condition`, or one that covers only
/// some resources when asked about any, applies only partly: an `Allow` that applies partly
/// makes the answer `Conditional`, and so does a `Deny` that applies partly to an action
/// otherwise allowed.
pub fn evaluate_on_resource(
    policies: &[Policy],
    action: &str,
    resource: &str,
    complete: bool,
) -> Decision {
    let mut allow = Reach::Nowhere;
    let mut deny = Reach::Nowhere;
    for statement in policies.iter().flat_map(|policy| &policy.statements) {
        let reach = statement.reach(action, resource);
        match statement.effect {
            Effect::Allow => allow = allow.max(reach),
            Effect::Deny => deny = deny.max(reach),
        }
    }
    match (deny, allow) {
        (Reach::Fully, _) => Decision::Denied,
        _ if !complete => Decision::Unknown,
        (Reach::Nowhere, Reach::Fully) => Decision::Allowed,
        (_, Reach::Fully | Reach::Partly) => Decision::Conditional,
        (_, Reach::Nowhere) => Decision::Denied,
    }
}

/// Whether `policies` make their principal an administrator: some statement allows every
/// action (`*`) on every resource without a condition, and no unconditional `Deny` takes every
/// action (`*`), or every action but some (`NotAction`), back.
pub fn is_administrator(policies: &[Policy]) -> bool {
    let statements = || policies.iter().flat_map(|policy| &policy.statements);
    let granted = statements().any(|statement| {
        statement.effect == Effect::Allow
            && !statement.is_conditional()
            && statement.actions.name_every_action()
            && statement.resources.reach_resource(ANY_RESOURCE) == Reach::Fully
    });
    let taken_back = statements().any(|statement| {
        statement.effect == Effect::Deny
            && !statement.is_conditional()
            && (statement.actions.name_every_action()
                || matches!(statement.actions, Patterns::NoneOf(_)))
    });
    granted && !taken_back
}

/// The name of AWS's managed quarantine policy that `name_or_arn` names, if it names one:
/// `AWSCompromisedKeyQuarantine`, or a version of it (`AWSCompromisedKeyQuarantineV2`, `V3`, and
/// later ones), by name or by its ARN in any partition (`arn:aws:iam::aws:policy/…`,
/// `arn:aws-cn:…`, `arn:aws-us-gov:…`). AWS attaches one to a key it found leaked. An ARN of
/// a policy in a customer's account is not AWS's, whatever its name; a bare name cannot tell,
/// so callers pass the ARN where they have it.
pub fn is_quarantine_policy(name_or_arn: &str) -> Option<String> {
    let name = match name_or_arn.strip_prefix("arn:") {
        Some(arn) => {
            let (partition, rest) = arn.split_once(':')?;
            let is_partition = partition == "aws"
                || partition.strip_prefix("aws-").is_some_and(|region_group| {
                    !region_group.is_empty()
                        && region_group
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b == b'-')
                });
            if !is_partition {
                return None;
            }
            rest.strip_prefix("iam::aws:policy/")?
        }
        None => name_or_arn,
    };
    let version = name.strip_prefix("AWSCompromisedKeyQuarantine")?;
    let is_version = version.is_empty()
        || version
            .strip_prefix('V')
            .is_some_and(|number| !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()));
    is_version.then(|| name.to_string())
}

/// The high-impact actions keyhound checks a live key for, from `rules/actions.toml`, in the
/// file's order. Parsed once per process.
pub fn high_impact_actions() -> &'static [ActionSpec] {
    static ACTIONS: OnceLock<Vec<ActionSpec>> = OnceLock::new();
    ACTIONS.get_or_init(|| {
        parse_action_list(HIGH_IMPACT_ACTIONS)
            .unwrap_or_else(|why| panic!("the built-in rules/actions.toml is invalid: {why}"))
    })
}

/// Parses and checks a list of actions in the layout of `rules/actions.toml`: each name is one
/// action, `service:ActionName` without wildcards, listed once (IAM's action names are
/// case-insensitive, so the check is too), with a phrase.
fn parse_action_list(text: &str) -> Result<Vec<ActionSpec>, String> {
    let file: ActionFile = toml::from_str(text).map_err(|error| error.to_string())?;
    let mut seen = HashSet::new();
    for spec in &file.action {
        let well_formed = spec.name.split_once(':').is_some_and(|(service, action)| {
            !service.is_empty()
                && service
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !action.is_empty()
                && action.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if !well_formed {
            return Err(format!(
                "{:?} is not one action, service:ActionName",
                spec.name
            ));
        }
        if !seen.insert(spec.name.to_ascii_lowercase()) {
            return Err(format!("{:?} is listed twice", spec.name));
        }
        if spec.phrase.trim().is_empty() {
            return Err(format!("{:?} has no phrase", spec.name));
        }
    }
    Ok(file.action)
}

/// A short English phrase of what a key can do, from the decisions on a list of actions: "can
/// read S3 objects and create access keys; may launch EC2 instances (conditions apply)".
pub fn summary(decisions: &[(ActionSpec, Decision)]) -> String {
    let phrases = |wanted: Decision| -> Vec<&str> {
        decisions
            .iter()
            .filter(|(_, decision)| *decision == wanted)
            .map(|(spec, _)| spec.phrase.as_str())
            .collect()
    };
    let allowed = phrases(Decision::Allowed);
    if allowed.len() == decisions.len() && allowed.len() > SUMMARY_LIST_LIMIT {
        return format!("can do all {} high-impact actions checked", allowed.len());
    }
    let conditional = phrases(Decision::Conditional);
    let unknown = phrases(Decision::Unknown).len();
    let mut parts = Vec::new();
    if !allowed.is_empty() {
        parts.push(format!("can {}", listing(&allowed)));
    }
    if !conditional.is_empty() {
        parts.push(format!("may {} (conditions apply)", listing(&conditional)));
    }
    if unknown > 0 {
        let actions = if unknown == 1 { "action" } else { "actions" };
        parts.push(format!(
            "unknown for {unknown} {actions}: not all its policies could be read"
        ));
    }
    if parts.is_empty() {
        "cannot do any of the high-impact actions checked".to_string()
    } else {
        parts.join("; ")
    }
}

/// Phrases joined with commas and a final "and"; past [`SUMMARY_LIST_LIMIT`], the rest counted.
fn listing(phrases: &[&str]) -> String {
    if phrases.len() > SUMMARY_LIST_LIMIT {
        let shown = phrases[..SUMMARY_LIST_LIMIT].join(", ");
        return format!("{shown} and {} more", phrases.len() - SUMMARY_LIST_LIMIT);
    }
    match phrases.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// A policy from a JSON document the test wrote.
    fn policy(json: &str) -> Policy {
        Policy::parse(json).unwrap_or_else(|why| panic!("{why}: {json}"))
    }

    /// A policy with the given statements.
    fn statements(statements: Value) -> Policy {
        policy(&json!({"Version": "2012-10-17", "Statement": statements}).to_string())
    }

    /// What one policy of the given statements says of `action` on any resource.
    fn decide(statements_json: Value, action: &str) -> Decision {
        evaluate(&[statements(statements_json)], action, true)
    }

    const ADMINISTRATOR_ACCESS: &str = r#"{
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    }"#;

    const S3_READ_ONLY_ACCESS: &str = r#"{
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "s3:Get*",
                    "s3:List*",
                    "s3:Describe*",
                    "s3-object-lambda:Get*",
                    "s3-object-lambda:List*"
                ],
                "Resource": "*"
            }
        ]
    }"#;

    #[test]
    fn an_explicit_deny_wins_over_an_allow() {
        let both = json!([
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:CreateAccessKey", "Resource": "*"},
        ]);
        assert_eq!(
            decide(both.clone(), "iam:CreateAccessKey"),
            Decision::Denied
        );
        assert_eq!(decide(both, "iam:CreateUser"), Decision::Allowed);
        // The deny may come from another policy of the principal.
        let policies = [
            policy(ADMINISTRATOR_ACCESS),
            statements(json!({"Effect": "Deny", "Action": "s3:*"})),
        ];
        assert_eq!(evaluate(&policies, "s3:GetObject", true), Decision::Denied);
        assert_eq!(
            evaluate(&policies, "ec2:RunInstances", true),
            Decision::Allowed
        );
    }

    #[test]
    fn what_no_statement_allows_is_implicitly_denied() {
        assert_eq!(evaluate(&[], "s3:GetObject", true), Decision::Denied);
        assert_eq!(decide(json!([]), "s3:GetObject"), Decision::Denied);
        let other = json!({"Effect": "Allow", "Action": "ec2:*", "Resource": "*"});
        assert_eq!(decide(other, "s3:GetObject"), Decision::Denied);
    }

    #[test]
    fn not_action_allows_everything_but_what_it_names() {
        let power_user =
            json!({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"});
        assert_eq!(
            decide(power_user.clone(), "s3:GetObject"),
            Decision::Allowed
        );
        assert_eq!(
            decide(power_user.clone(), "iam:CreateAccessKey"),
            Decision::Denied
        );
        assert_eq!(
            decide(power_user, "organizations:LeaveOrganization"),
            Decision::Denied
        );
        // A deny of everything but reading.
        let deny_all_but_reads = json!([
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "NotAction": ["s3:Get*", "s3:List*"], "Resource": "*"},
        ]);
        assert_eq!(
            decide(deny_all_but_reads.clone(), "s3:GetObject"),
            Decision::Allowed
        );
        assert_eq!(decide(deny_all_but_reads, "s3:PutObject"), Decision::Denied);
    }

    #[test]
    fn not_resource_covers_every_resource_but_those_it_names() {
        let secret = "arn:aws:s3:::secrets/key.pem";
        let public = "arn:aws:s3:::public/index.html";
        let allow = [statements(json!({
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "NotResource": "arn:aws:s3:::secrets/*",
        }))];
        assert_eq!(
            evaluate_on_resource(&allow, "s3:GetObject", public, true),
            Decision::Allowed
        );
        assert_eq!(
            evaluate_on_resource(&allow, "s3:GetObject", secret, true),
            Decision::Denied
        );
        // Not on every resource: allowed only on some.
        assert_eq!(
            evaluate(&allow, "s3:GetObject", true),
            Decision::Conditional
        );

        let deny = [statements(json!([
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::public/*"},
        ]))];
        assert_eq!(
            evaluate_on_resource(&deny, "s3:GetObject", public, true),
            Decision::Allowed
        );
        assert_eq!(
            evaluate_on_resource(&deny, "s3:GetObject", secret, true),
            Decision::Denied
        );
        assert_eq!(evaluate(&deny, "s3:GetObject", true), Decision::Conditional);

        // NotResource "*" leaves nothing.
        let nothing = json!({"Effect": "Allow", "Action": "s3:*", "NotResource": "*"});
        assert_eq!(decide(nothing, "s3:GetObject"), Decision::Denied);
    }

    #[test]
    fn action_wildcards_match_as_iam_matches_them() {
        let allows = |pattern: &str, action: &str| {
            decide(
                json!({"Effect": "Allow", "Action": pattern, "Resource": "*"}),
                action,
            ) == Decision::Allowed
        };
        assert!(allows("s3:Get*", "s3:GetObject"));
        assert!(allows("s3:Get*", "s3:Get"));
        assert!(!allows("s3:Get*", "s3:PutObject"));
        assert!(!allows("s3:Get*", "s3-object-lambda:GetObject"));
        assert!(allows("s3:*", "s3:PutBucketPolicy"));
        assert!(!allows("s3:*", "iam:CreateUser"));
        assert!(allows("*", "organizations:LeaveOrganization"));
        assert!(allows("*:*", "kms:Decrypt"));
        assert!(allows("iam:?reate*", "iam:CreateAccessKey"));
        assert!(allows("iam:?reate*", "iam:CreateLoginProfile"));
        assert!(!allows("iam:?reate*", "iam:reateUser"));
        assert!(!allows("iam:?reate*", "iam:UpdateUser"));
        assert!(allows("*:Describe*", "ec2:DescribeInstances"));
        assert!(!allows("s3:GetObject", "s3:GetObjectAcl"));
    }

    #[test]
    fn actions_match_case_insensitively() {
        let lower = json!({"Effect": "Allow", "Action": "S3:getobject", "Resource": "*"});
        assert_eq!(decide(lower.clone(), "s3:GetObject"), Decision::Allowed);
        assert_eq!(decide(lower, "S3:GETOBJECT"), Decision::Allowed);
        let deny = json!([
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "IAM:CREATE*", "Resource": "*"},
        ]);
        assert_eq!(decide(deny, "iam:CreateAccessKey"), Decision::Denied);
    }

    #[test]
    fn resources_match_case_sensitively() {
        let policies = [statements(json!({
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::Reports/*",
        }))];
        let get = |resource| evaluate_on_resource(&policies, "s3:GetObject", resource, true);
        assert_eq!(get("arn:aws:s3:::Reports/2024.csv"), Decision::Allowed);
        assert_eq!(get("arn:aws:s3:::reports/2024.csv"), Decision::Denied);
        assert_eq!(get("arn:aws:s3:::Reports"), Decision::Denied);
    }

    #[test]
    fn an_allow_with_a_condition_is_conditional() {
        let mfa_only = json!({
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        });
        assert_eq!(decide(mfa_only, "s3:GetObject"), Decision::Conditional);
        // An empty Condition is no condition.
        let empty = json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {}});
        assert_eq!(decide(empty, "s3:GetObject"), Decision::Allowed);
        // An unconditional allow elsewhere still allows.
        let both = json!([
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
             "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        ]);
        assert_eq!(decide(both.clone(), "s3:GetObject"), Decision::Allowed);
        assert_eq!(decide(both, "s3:PutObject"), Decision::Conditional);
    }

    #[test]
    fn a_deny_with_a_condition_makes_an_allow_conditional_not_denied() {
        let outside_network = json!([
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}},
        ]);
        assert_eq!(
            decide(outside_network.clone(), "s3:GetObject"),
            Decision::Conditional
        );
        // The deny holds only sometimes: the principal is still an administrator from inside.
        assert!(is_administrator(&[statements(outside_network)]));
        // With nothing allowed, a conditional deny leaves it denied.
        let deny_only = json!({"Effect": "Deny", "Action": "*", "Resource": "*",
                               "Condition": {"Bool": {"aws:SecureTransport": "false"}}});
        assert_eq!(decide(deny_only, "s3:GetObject"), Decision::Denied);
    }

    #[test]
    fn an_allow_on_some_resources_is_conditional() {
        let one_bucket = json!({
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": ["arn:aws:s3:::backups", "arn:aws:s3:::backups/*"],
        });
        assert_eq!(
            decide(one_bucket.clone(), "s3:GetObject"),
            Decision::Conditional
        );
        assert_eq!(decide(one_bucket, "s3:DeleteObject"), Decision::Denied);
        // A pattern of stars only covers every resource.
        let stars = json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::x", "**"]});
        assert_eq!(decide(stars, "s3:GetObject"), Decision::Allowed);
        // A statement without Resource covers every resource.
        let unbounded = json!({"Effect": "Allow", "Action": "s3:GetObject"});
        assert_eq!(decide(unbounded, "s3:GetObject"), Decision::Allowed);
    }

    #[test]
    fn a_deny_on_some_resources_does_not_deny_the_action_outright() {
        let all_but_one_bucket = json!([
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::audit-logs/*"},
        ]);
        assert_eq!(
            decide(all_but_one_bucket.clone(), "s3:GetObject"),
            Decision::Conditional
        );
        let policies = [statements(all_but_one_bucket)];
        let on = |resource| evaluate_on_resource(&policies, "s3:GetObject", resource, true);
        assert_eq!(on("arn:aws:s3:::audit-logs/2024/01.gz"), Decision::Denied);
        assert_eq!(on("arn:aws:s3:::website/index.html"), Decision::Allowed);
    }

    #[test]
    fn a_statement_may_be_one_object_or_an_array_and_an_action_a_string_or_an_array() {
        let object = policy(
            r#"{"Version": "2012-10-17",
                "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}"#,
        );
        let array = policy(
            r#"{"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["*"]}]}"#,
        );
        assert_eq!(object, array);
        assert_eq!(object.version.as_deref(), Some("2012-10-17"));
        assert_eq!(
            object.statements[0].actions,
            Patterns::AnyOf(vec!["s3:GetObject".to_string()])
        );
        assert_eq!(evaluate(&[object], "s3:GetObject", true), Decision::Allowed);
        // Sid, Id, Principal and NotPrincipal are read past.
        let tolerated = policy(
            r#"{"Id": "keyhound-test", "Statement": [{"Sid": "One", "Effect": "Allow",
                "Principal": {"AWS": "*"}, "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "s3:GetObject"}]}"#,
        );
        assert_eq!(tolerated.version, None);
        assert_eq!(
            evaluate(&[tolerated], "s3:GetObject", true),
            Decision::Allowed
        );
    }

    #[test]
    fn administrator_access_makes_an_administrator() {
        let admin = policy(ADMINISTRATOR_ACCESS);
        assert!(is_administrator(std::slice::from_ref(&admin)));
        for spec in high_impact_actions() {
            assert_eq!(
                evaluate(std::slice::from_ref(&admin), &spec.name, true),
                Decision::Allowed
            );
        }
        assert!(is_administrator(&[statements(
            json!({"Effect": "Allow", "Action": "*:*"})
        )]));
        assert!(is_administrator(&[
            admin.clone(),
            statements(json!({"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"})),
        ]));
        assert!(!is_administrator(&[
            admin.clone(),
            statements(json!({"Effect": "Deny", "Action": "*", "Resource": "*"})),
        ]));
        assert!(!is_administrator(&[
            admin,
            statements(
                json!({"Effect": "Deny", "NotAction": "iam:ChangePassword", "Resource": "*"})
            ),
        ]));
        assert!(!is_administrator(&[statements(json!({
            "Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::*",
        }))]));
        assert!(!is_administrator(&[statements(json!({
            "Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        }))]));
        assert!(!is_administrator(&[policy(S3_READ_ONLY_ACCESS)]));
        assert!(!is_administrator(&[]));
    }

    #[test]
    fn s3_read_only_access_reads_objects_and_nothing_else() {
        let policies = [policy(S3_READ_ONLY_ACCESS)];
        let decisions: Vec<(ActionSpec, Decision)> = high_impact_actions()
            .iter()
            .map(|spec| (spec.clone(), evaluate(&policies, &spec.name, true)))
            .collect();
        let allowed: Vec<&str> = decisions
            .iter()
            .filter(|(_, decision)| *decision == Decision::Allowed)
            .map(|(spec, _)| spec.name.as_str())
            .collect();
        assert_eq!(allowed, ["s3:GetObject", "s3:ListAllMyBuckets"]);
        assert_eq!(
            evaluate(&policies, "iam:CreateAccessKey", true),
            Decision::Denied
        );
        assert_eq!(
            evaluate(&policies, "s3-object-lambda:GetObject", true),
            Decision::Allowed
        );
        assert_eq!(
            summary(&decisions),
            "can read S3 objects and list S3 buckets"
        );
    }

    #[test]
    fn incomplete_policies_leave_all_but_an_unconditional_deny_unknown() {
        let admin = [policy(ADMINISTRATOR_ACCESS)];
        assert_eq!(evaluate(&admin, "s3:GetObject", false), Decision::Unknown);
        assert_eq!(evaluate(&[], "s3:GetObject", false), Decision::Unknown);
        let quarantined = [statements(json!([
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:CreateAccessKey", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Effect": "Deny", "Action": "ec2:*", "Resource": "arn:aws:ec2:*:*:instance/*"},
        ]))];
        assert_eq!(
            evaluate(&quarantined, "iam:CreateAccessKey", false),
            Decision::Denied
        );
        assert_eq!(
            evaluate(&quarantined, "s3:GetObject", false),
            Decision::Unknown
        );
        assert_eq!(
            evaluate(&quarantined, "ec2:RunInstances", false),
            Decision::Unknown
        );
        assert_eq!(
            evaluate(&quarantined, "iam:CreateUser", false),
            Decision::Unknown
        );
    }

    #[test]
    fn documents_as_iam_returns_them_are_percent_decoded() {
        // {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action":
        // "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}]}, encoded as IAM encodes it.
        let encoded = "%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%7B\
                       %22Effect%22%3A%20%22Allow%22%2C%20%22Action%22%3A%20%22s3%3AGetObject\
                       %22%2C%20%22Resource%22%3A%20%22arn%3Aaws%3As3%3A%3A%3Areports%2F%2A%22\
                       %7D%5D%7D";
        let decoded = decode_document(encoded).unwrap();
        assert_eq!(
            decoded,
            policy(
                r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}]}"#
            )
        );
        assert_eq!(
            evaluate(&[decoded], "s3:GetObject", true),
            Decision::Conditional
        );

        // Newlines, lower-case escapes, a "+" that stays one and a "%" encoded as %25.
        let condition = "%7B%0A%20%20%22Statement%22%3A%20%7B%22Effect%22%3A%22Deny%22%2C\
                         %22Action%22%3A%22*%22%2C%22Condition%22%3A%7B%22StringLike%22%3A\
                         %7B%22aws%3AUserAgent%22%3A%22a+b%2550%25%22%7D%7D%7d%0A%7D";
        let decoded = decode_document(condition).unwrap();
        assert_eq!(
            decoded.statements[0].condition["StringLike"]["aws:UserAgent"],
            "a+b%50%"
        );

        // A document already decoded is read as it is, its "%" left alone.
        let plain = r#"  {"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::100%41"}}"#;
        assert_eq!(
            decode_document(plain).unwrap().statements[0].resources,
            Patterns::AnyOf(vec!["arn:aws:s3:::100%41".to_string()])
        );

        for (broken, why) in [
            ("%7B%2", "not followed by two hex digits"),
            ("%7B%zz%7D", "not followed by two hex digits"),
            ("%7B%+1%7D", "not followed by two hex digits"),
            ("%7B%22a%22%3A%FF%7D", "not UTF-8"),
            ("%5B%5D", "not a JSON object"),
            ("", "not JSON"),
        ] {
            let error = decode_document(broken).unwrap_err();
            assert!(error.contains(why), "{broken}: {error}");
        }
    }

    #[test]
    fn a_document_keyhound_cannot_read_fully_is_an_error_saying_why() {
        for (document, why) in [
            ("{", "not JSON"),
            ("[]", "not a JSON object"),
            (r#"{"Version": "2012-10-17"}"#, "no Statement"),
            (
                r#"{"Statement": "Allow"}"#,
                "neither an object nor an array",
            ),
            (
                r#"{"Version": 2012, "Statement": []}"#,
                "Version is not a string",
            ),
            (
                r#"{"Statement": [], "Extra": 1}"#,
                "unknown element \"Extra\"",
            ),
            (r#"{"Statement": [7]}"#, "statement 1: not a JSON object"),
            (
                r#"{"Statement": [{"Action": "*"}]}"#,
                "statement 1: no Effect",
            ),
            (
                r#"{"Statement": {"Effect": "allow", "Action": "*"}}"#,
                "Effect is \"allow\"",
            ),
            (
                r#"{"Statement": {"Effect": true, "Action": "*"}}"#,
                "Effect is not a string",
            ),
            (
                r#"{"Statement": [{"Effect": "Allow", "Action": "*"}, {"Effect": "Deny"}]}"#,
                "statement 2: neither Action nor NotAction",
            ),
            (
                r#"{"Statement": {"Effect": "Allow", "Action": "*", "NotAction": "iam:*"}}"#,
                "both Action and NotAction",
            ),
            (
                r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "NotResource": "*"}}"#,
                "both Resource and NotResource",
            ),
            (
                r#"{"Statement": {"Effect": "Allow", "Action": ["s3:*", 3]}}"#,
                "Action holds something other than a string",
            ),
            (
                r#"{"Statement": {"Effect": "Allow", "Action": {"s3": "*"}}}"#,
                "Action is neither a string nor an array",
            ),
            (
                r#"{"Statement": {"Effect": "Allow", "Action": "*", "Condition": "yes"}}"#,
                "Condition is not an object",
            ),
            (
                r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resources": "*"}}"#,
                "unknown element \"Resources\"",
            ),
        ] {
            let error = Policy::parse(document).unwrap_err();
            assert!(error.contains(why), "{document}: {error}");
        }
        let huge = format!(
            r#"{{"Statement": [], "Id": "{}"}}"#,
            "x".repeat(MAX_DOCUMENT_BYTES)
        );
        assert!(Policy::parse(&huge).unwrap_err().contains("more than"));
        assert!(decode_document(&"%20".repeat(MAX_DOCUMENT_BYTES + 1))
            .unwrap_err()
            .contains("more than"));
    }

    #[test]
    fn decisions_serialize_as_lower_case_words() {
        let all = [
            Decision::Allowed,
            Decision::Conditional,
            Decision::Denied,
            Decision::Unknown,
        ];
        assert_eq!(
            serde_json::to_string(&all).unwrap(),
            r#"["allowed","conditional","denied","unknown"]"#
        );
    }

    #[test]
    fn aws_quarantine_policies_are_known_by_name_and_by_arn() {
        for (given, name) in [
            ("AWSCompromisedKeyQuarantine", "AWSCompromisedKeyQuarantine"),
            (
                "AWSCompromisedKeyQuarantineV2",
                "AWSCompromisedKeyQuarantineV2",
            ),
            (
                "AWSCompromisedKeyQuarantineV3",
                "AWSCompromisedKeyQuarantineV3",
            ),
            (
                "AWSCompromisedKeyQuarantineV12",
                "AWSCompromisedKeyQuarantineV12",
            ),
            (
                "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2",
                "AWSCompromisedKeyQuarantineV2",
            ),
            (
                "arn:aws-cn:iam::aws:policy/AWSCompromisedKeyQuarantineV3",
                "AWSCompromisedKeyQuarantineV3",
            ),
            (
                "arn:aws-us-gov:iam::aws:policy/AWSCompromisedKeyQuarantine",
                "AWSCompromisedKeyQuarantine",
            ),
        ] {
            assert_eq!(
                is_quarantine_policy(given).as_deref(),
                Some(name),
                "{given}"
            );
        }
        for other in [
            "AdministratorAccess",
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "AWSCompromisedKeyQuarantineV",
            "AWSCompromisedKeyQuarantineV2x",
            "AWSCompromisedKeyQuarantine2",
            "awscompromisedkeyquarantinev2",
            "arn:aws:iam::123456789012:policy/AWSCompromisedKeyQuarantineV2",
            "arn:aws:iam::aws:policy/service-role/AWSCompromisedKeyQuarantineV2",
            "arn:gcp:iam::aws:policy/AWSCompromisedKeyQuarantineV2",
            "arn:aws-:iam::aws:policy/AWSCompromisedKeyQuarantineV2",
            "arn:aws",
            "",
        ] {
            assert_eq!(is_quarantine_policy(other), None, "{other}");
        }
    }

    #[test]
    fn the_built_in_action_list_loads_and_is_valid() {
        let actions = high_impact_actions();
        assert_eq!(
            parse_action_list(HIGH_IMPACT_ACTIONS).as_deref(),
            Ok(actions)
        );
        for name in [
            "iam:CreateAccessKey",
            "iam:CreateUser",
            "iam:AttachUserPolicy",
            "iam:PutUserPolicy",
            "iam:CreateLoginProfile",
            "iam:UpdateAssumeRolePolicy",
            "iam:PassRole",
            "sts:AssumeRole",
            "s3:ListAllMyBuckets",
            "s3:GetObject",
            "s3:PutObject",
            "s3:PutBucketPolicy",
            "s3:DeleteObject",
            "ec2:RunInstances",
            "ec2:DescribeInstances",
            "lambda:CreateFunction",
            "lambda:UpdateFunctionCode",
            "secretsmanager:GetSecretValue",
            "ssm:GetParameter",
            "kms:Decrypt",
            "dynamodb:Scan",
            "rds:DescribeDBInstances",
            "cloudtrail:StopLogging",
            "cloudtrail:DeleteTrail",
            "guardduty:DeleteDetector",
            "organizations:LeaveOrganization",
            "iam:SimulatePrincipalPolicy",
        ] {
            assert!(
                actions.iter().any(|spec| spec.name == name),
                "{name} is missing"
            );
        }
    }

    #[test]
    fn a_bad_action_list_is_an_error_saying_why() {
        let entry = |name: &str, phrase: &str| {
            format!("[[action]]\nname = {name:?}\nphrase = {phrase:?}\n")
        };
        for (list, why) in [
            (entry("s3:Get*", "read"), "not one action"),
            (entry("s3:Get?bject", "read"), "not one action"),
            (entry("GetObject", "read"), "not one action"),
            (entry("s3:", "read"), "not one action"),
            (entry(":GetObject", "read"), "not one action"),
            (entry("S3:GetObject", "read"), "not one action"),
            (entry("s3:GetObject", " "), "has no phrase"),
            (
                entry("s3:GetObject", "read") + &entry("s3:getobject", "read"),
                "listed twice",
            ),
            (
                "[[action]]\nname = \"s3:GetObject\"\n".to_string(),
                "phrase",
            ),
            (entry("s3:GetObject", "read") + "extra = 1\n", "extra"),
        ] {
            let error = parse_action_list(&list).unwrap_err();
            assert!(error.contains(why), "{list}: {error}");
        }
        assert_eq!(parse_action_list("action = []"), Ok(Vec::new()));
    }

    #[test]
    fn summaries_say_in_a_few_words_what_a_key_can_do() {
        let spec = |name: &str, phrase: &str| ActionSpec {
            name: name.to_string(),
            phrase: phrase.to_string(),
        };
        let read = spec("s3:GetObject", "read S3 objects");
        let keys = spec("iam:CreateAccessKey", "create access keys");
        let launch = spec("ec2:RunInstances", "launch EC2 instances");
        let list = spec("s3:ListAllMyBuckets", "list S3 buckets");
        use Decision::*;
        assert_eq!(
            summary(&[
                (read.clone(), Allowed),
                (launch.clone(), Denied),
                (keys.clone(), Allowed)
            ]),
            "can read S3 objects and create access keys"
        );
        assert_eq!(
            summary(&[
                (read.clone(), Allowed),
                (keys.clone(), Allowed),
                (list.clone(), Allowed)
            ]),
            "can read S3 objects, create access keys and list S3 buckets"
        );
        assert_eq!(
            summary(&[
                (read.clone(), Allowed),
                (launch.clone(), Conditional),
                (keys.clone(), Denied)
            ]),
            "can read S3 objects; may launch EC2 instances (conditions apply)"
        );
        assert_eq!(
            summary(&[(launch.clone(), Conditional), (list.clone(), Conditional)]),
            "may launch EC2 instances and list S3 buckets (conditions apply)"
        );
        assert_eq!(
            summary(&[(read.clone(), Denied), (keys.clone(), Denied)]),
            "cannot do any of the high-impact actions checked"
        );
        assert_eq!(
            summary(&[]),
            "cannot do any of the high-impact actions checked"
        );
        assert_eq!(
            summary(&[
                (read.clone(), Unknown),
                (keys.clone(), Denied),
                (list, Unknown)
            ]),
            "unknown for 2 actions: not all its policies could be read"
        );
        assert_eq!(
            summary(&[(read, Unknown)]),
            "unknown for 1 action: not all its policies could be read"
        );

        // Long lists are cut short.
        let every: Vec<(ActionSpec, Decision)> = high_impact_actions()
            .iter()
            .map(|spec| (spec.clone(), Allowed))
            .collect();
        assert_eq!(
            summary(&every),
            format!("can do all {} high-impact actions checked", every.len())
        );
        let mut most = every.clone();
        most[0].1 = Denied;
        let text = summary(&most);
        assert!(
            text.ends_with(&format!(
                " and {} more",
                most.len() - 1 - SUMMARY_LIST_LIMIT
            )),
            "{text}"
        );
        assert_eq!(text.matches(", ").count(), SUMMARY_LIST_LIMIT - 1, "{text}");
    }

    #[test]
    fn the_matcher_handles_empty_patterns_texts_and_characters_beyond_ascii() {
        assert!(wildcard_match("", "", false));
        assert!(wildcard_match("*", "", false));
        assert!(!wildcard_match("?", "", false));
        assert!(!wildcard_match("", "a", false));
        assert!(wildcard_match(
            "arn:aws:s3:::bücher/?.txt",
            "arn:aws:s3:::bücher/ä.txt",
            false
        ));
        assert!(wildcard_match("*é*", "café", false));
        assert!(!wildcard_match("caf?", "café!", false));
        assert!(resource_matches("arn:aws:s3:::*/*", "arn:aws:s3:::b/k"));
        assert!(!resource_matches("arn:aws:s3:::*/*", "arn:aws:s3:::b"));
    }

    #[test]
    fn patterns_that_would_backtrack_exponentially_finish_quickly() {
        let long_run = "a".repeat(200_000);
        assert!(!wildcard_match("*a*a*a*a*b", &long_run, false));
        assert!(wildcard_match("*a*a*a*a*a", &long_run, false));
        let many_stars = "*a".repeat(40) + "b";
        assert!(!wildcard_match(&many_stars, &"a".repeat(20_000), true));
        let many_questions = "?".repeat(1000) + "*b";
        assert!(!wildcard_match(&many_questions, &long_run, true));
        // Through a policy too.
        let policies = [statements(
            json!({"Effect": "Allow", "Action": "*a*a*a*a*b"}),
        )];
        let action = format!("s3:{}", "a".repeat(50_000));
        assert_eq!(evaluate(&policies, &action, true), Decision::Denied);
    }

    /// A statement of random effect, actions, resources and condition, as JSON.
    fn any_statement() -> impl Strategy<Value = Value> {
        let actions = prop::collection::vec(
            prop::sample::select(vec![
                "*",
                "s3:*",
                "s3:Get*",
                "iam:?reate*",
                "IAM:CreateAccessKey",
                "ec2:RunInstances",
                "sts:*",
                "*:Describe*",
            ]),
            0..4,
        );
        let resources = prop::collection::vec(
            prop::sample::select(vec!["*", "arn:aws:s3:::bucket/*", "arn:aws:iam::*:user/*"]),
            0..3,
        );
        (
            any::<bool>(),
            any::<bool>(),
            actions,
            0..3u8,
            resources,
            any::<bool>(),
        )
            .prop_map(
                |(allow, negated, actions, resource_kind, resources, conditional)| {
                    let mut statement = Map::new();
                    statement.insert("Effect".into(), json!(if allow { "Allow" } else { "Deny" }));
                    let action_key = if negated { "NotAction" } else { "Action" };
                    statement.insert(action_key.into(), json!(actions));
                    let resource_key = match resource_kind {
                        0 => None,
                        1 => Some("Resource"),
                        _ => Some("NotResource"),
                    };
                    if let Some(key) = resource_key {
                        statement.insert(key.into(), json!(resources));
                    }
                    if conditional {
                        statement.insert(
                            "Condition".into(),
                            json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
                        );
                    }
                    Value::Object(statement)
                },
            )
    }

    /// The reference for the wildcard matcher: a regex of the pattern, anchored.
    fn reference_match(pattern: &str, text: &str, fold_case: bool) -> bool {
        let mut expression = String::from(if fold_case { "(?is)^" } else { "(?s)^" });
        for c in pattern.chars() {
            match c {
                '*' => expression.push_str(".*"),
                '?' => expression.push('.'),
                _ => expression.push_str(&regex::escape(&c.to_string())),
            }
        }
        expression.push('$');
        regex::Regex::new(&expression).unwrap().is_match(text)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn an_unconditional_deny_of_everything_denies_every_action(
            policies in prop::collection::vec(prop::collection::vec(any_statement(), 0..4), 0..3),
            into_existing in any::<bool>(),
            complete in any::<bool>(),
            action in "[a-z0-9]{1,8}:[A-Za-z]{0,10}",
        ) {
            let mut policies: Vec<Policy> = policies
                .into_iter()
                .map(|list| Policy::parse(&json!({"Statement": list}).to_string()))
                .collect::<Result<_, _>>()
                .map_err(TestCaseError::fail)?;
            let deny = json!({"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}});
            let deny = Policy::parse(&deny.to_string()).map_err(TestCaseError::fail)?;
            match policies.first_mut() {
                Some(first) if into_existing => first.statements.extend(deny.statements),
                _ => policies.push(deny),
            }
            prop_assert!(!is_administrator(&policies));
            let checked = high_impact_actions().iter().map(|spec| spec.name.as_str());
            for name in checked.chain([action.as_str()]) {
                prop_assert_eq!(evaluate(&policies, name, complete), Decision::Denied, "{}", name);
            }
        }

        #[test]
        fn the_matcher_agrees_with_a_regex(
            pattern in "[abAB*?:]{0,8}",
            text in "[abAB*?:]{0,12}",
        ) {
            prop_assert_eq!(
                wildcard_match(&pattern, &text, true),
                reference_match(&pattern, &text, true),
                "case-insensitive"
            );
            prop_assert_eq!(
                wildcard_match(&pattern, &text, false),
                reference_match(&pattern, &text, false),
                "case-sensitive"
            );
        }

        #[test]
        fn the_matcher_agrees_with_a_regex_on_text_made_to_match(
            pieces in prop::collection::vec(("[ab:]{0,3}", "[*?]?"), 0..5),
            filler in "[abAB:]{0,4}",
        ) {
            // Patterns and texts built together, so that many match: random pairs mostly don't.
            let pattern: String = pieces.iter().map(|(literal, wild)| format!("{literal}{wild}")).collect();
            let text: String = pieces
                .iter()
                .map(|(literal, wild)| match wild.as_str() {
                    "*" => format!("{}{filler}", literal.to_uppercase()),
                    "?" => format!("{literal}b"),
                    _ => literal.clone(),
                })
                .collect();
            prop_assert_eq!(
                wildcard_match(&pattern, &text, true),
                reference_match(&pattern, &text, true)
            );
            prop_assert_eq!(
                wildcard_match(&pattern, &text, false),
                reference_match(&pattern, &text, false)
            );
        }
    }
}
