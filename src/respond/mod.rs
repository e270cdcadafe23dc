//! `keyhound respond REPORT.json`: from the keys a report found to an incident card for each,
//! and, when asked (`--apply`), contained keys.
//!
//! Everything here runs with the operator's own credentials ([`operator`]), never the leaked
//! key's; the one exception is the check, after containment, that the leaked key no longer
//! works. Before anything else about a key, its account is asked of STS: a key of another
//! account is not the operator's to touch, and a canary is never touched at all. For an owned
//! key the card reads IAM ([`state`]) and CloudTrail ([`activity`]) and plans the containment
//! ([`contain`]); `--apply` carries the plan out and reads the state again.

pub mod activity;
pub mod calls;
pub mod contain;
pub mod leaked;
pub mod operator;
pub mod state;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, Result};
use serde::Serialize;

use crate::verify::query::{self, Reply};
use activity::{Activity, Lookup};
use calls::{Calls, Endpoints};
use contain::{Done, Step};
use leaked::{Evidence, LeakedKey};
use state::LastUsed;

/// What `respond` is asked to do.
#[derive(Debug, Clone)]
pub struct RespondOptions {
    /// The shared-config profile of the operator's credentials (`--profile`, else
    /// `AWS_PROFILE`, else the chain's default).
    pub profile: Option<String>,
    pub endpoints: Endpoints,
    /// CloudTrail's regions; None for the account's enabled regions.
    pub regions: Option<Vec<String>>,
    /// How far back CloudTrail is searched.
    pub days: u32,
    /// The most pages of 50 events read per region.
    pub max_pages: u32,
    /// Carry the plan out.
    pub apply: bool,
    /// Also attach AWS's quarantine policy to the key's user.
    pub quarantine: bool,
    /// Append every call to this file, as JSON lines.
    pub log: Option<PathBuf>,
    /// Each request's time limit.
    pub timeout: Duration,
    /// How long a contained key is checked again before `respond` says IAM has not caught up.
    pub settle: Duration,
}

/// Who the operator is.
#[derive(Debug, Clone, Serialize)]
pub struct OperatorIdentity {
    pub arn: String,
    pub account: String,
    pub region: String,
}

/// Everything `respond` learned and did.
#[derive(Debug, Clone, Serialize)]
pub struct Response {
    pub operator: OperatorIdentity,
    /// Whether `--apply` was given.
    pub applied: bool,
    pub keys: Vec<Card>,
}

/// The incident card of one key.
#[derive(Debug, Clone, Serialize)]
pub struct Card {
    pub key_id: String,
    /// `long-term` (AKIA) or `temporary` (ASIA).
    pub kind: &'static str,
    /// The key's account, as STS says (`GetAccessKeyInfo`), else as decoded from the ID.
    pub account: Option<String>,
    /// The account decoded from the key ID itself, offline.
    pub account_decoded: Option<String>,
    /// Whether the key belongs to the operator's account; None when that is unknown.
    pub owned: Option<bool>,
    /// The card's conclusion in one line.
    pub verdict: String,
    pub user: Option<String>,
    /// For a temporary key: the role whose session it is.
    pub role: Option<String>,
    pub created: Option<String>,
    /// `Active`, `Inactive` or `absent` for a long-term key; `Active`, `Revoked` or `Expired`
    /// for a temporary one.
    pub status_before: Option<String>,
    pub status_after: Option<String>,
    pub last_used: Option<LastUsed>,
    /// AWS's quarantine policy attached to the key's user, by name.
    pub quarantined: Option<String>,
    /// What the report says of the key.
    pub evidence: Evidence,
    pub activity: Option<Activity>,
    /// What containment takes, from the state read.
    pub plan: Vec<Step>,
    /// With `--apply`: what each step came to.
    pub actions: Vec<Done>,
    /// After containment: what STS says of the leaked key now.
    pub reverified: Option<String>,
    /// One line per read that was denied or failed, and per thing worth knowing.
    pub notes: Vec<String>,
}

impl Card {
    /// Whether an owned key is still usable after this run.
    fn still_active(&self) -> bool {
        self.owned == Some(true)
            && (self.status_after.as_deref() == Some(ACTIVE)
                || self
                    .reverified
                    .as_deref()
                    .is_some_and(|r| r.starts_with("still")))
    }
}

impl Response {
    /// 2 when an `--apply` step failed, 1 when an owned key is still active, else 0.
    pub fn exit_status(&self) -> u8 {
        if self
            .keys
            .iter()
            .any(|card| card.actions.iter().any(|done| done.failed))
        {
            2
        } else if self.keys.iter().any(Card::still_active) {
            1
        } else {
            0
        }
    }
}

const ACTIVE: &str = "Active";
const REVOKED: &str = "Revoked";

/// Builds the card of every key of `keys` and, with `--apply`, contains the owned ones.
/// `reported_at` (RFC 3339) is when the report was written: a temporary key was issued before
/// then, so revoking sessions issued before a later time covers it. Errors only when it cannot
/// start: no operator credentials, or STS does not know them.
pub fn respond(
    keys: &[LeakedKey],
    reported_at: &str,
    options: &RespondOptions,
) -> Result<Response> {
    let operator = operator::load(options.profile.as_deref())?;
    let calls = Calls::new(
        operator.credential.clone(),
        options.endpoints.clone(),
        options.timeout,
        options.log.as_deref(),
    )?;
    let identity = caller_identity(&calls, &operator.credential.key_id, &operator.region)?;
    calls.set_account(&identity.account);
    let mut regions: Option<(Vec<String>, Option<String>)> =
        options.regions.clone().map(|named| (named, None));
    let mut cards = Vec::with_capacity(keys.len());
    for key in keys {
        let mut card = first_look(&calls, key, &identity);
        if card.owned == Some(true) {
            let (regions, note) =
                regions.get_or_insert_with(|| enabled_regions(&calls, &identity.region));
            card.notes.extend(note.clone());
            look_closer(&calls, key, &mut card, regions, reported_at, options);
        }
        cards.push(card);
    }
    Ok(Response {
        operator: identity,
        applied: options.apply,
        keys: cards,
    })
}

/// The operator's identity, from STS.
fn caller_identity(calls: &Calls, key_id: &str, region: &str) -> Result<OperatorIdentity> {
    let body = match calls.sts("GetCallerIdentity", &[], key_id) {
        Reply::Ok(body) => body,
        Reply::Refused { code, .. } => {
            return Err(anyhow!(
                "STS refused the operator's credentials ({code}): are they expired?"
            ))
        }
        Reply::Failed(reason) => {
            return Err(anyhow!("STS did not say who the operator is: {reason}"))
        }
    };
    let document = roxmltree::Document::parse(&body)
        .map_err(|_| anyhow!("STS's answer to GetCallerIdentity is unreadable"))?;
    match (
        query::first_text(&document, "Arn"),
        query::first_text(&document, "Account"),
    ) {
        (Some(arn), Some(account)) => Ok(OperatorIdentity {
            arn,
            account,
            region: region.to_string(),
        }),
        _ => Err(anyhow!(
            "STS's answer to GetCallerIdentity names no identity"
        )),
    }
}

/// The card's first part, for every key: canaries and examples stop here untouched; every other
/// key's account is asked of STS, and a key of another account stops here too.
fn first_look(calls: &Calls, key: &LeakedKey, operator: &OperatorIdentity) -> Card {
    let mut card = Card {
        key_id: key.key_id.clone(),
        kind: if key.is_temporary() {
            "temporary"
        } else {
            "long-term"
        },
        account: None,
        account_decoded: key.decoded_account.clone(),
        owned: None,
        verdict: String::new(),
        user: None,
        role: None,
        created: None,
        status_before: None,
        status_after: None,
        last_used: None,
        quarantined: None,
        evidence: key.evidence.clone(),
        activity: None,
        plan: Vec::new(),
        actions: Vec::new(),
        reverified: None,
        notes: Vec::new(),
    };
    if let Some(service) = key.canary {
        card.account = key.decoded_account.clone();
        card.verdict = format!("never touched: {} ({service})", crate::aws::CANARY_WARNING);
        return card;
    }
    if key.example {
        card.verdict = "never touched: a documentation example, nobody's key".into();
        return card;
    }
    let params = [("AccessKeyId", key.key_id.as_str())];
    card.account = match calls.sts("GetAccessKeyInfo", &params, &key.key_id) {
        Reply::Ok(body) => roxmltree::Document::parse(&body)
            .ok()
            .and_then(|d| query::first_text(&d, "Account")),
        other => {
            card.notes
                .push(state::unread("sts:GetAccessKeyInfo", &other));
            None
        }
    };
    if card.account.is_none() {
        card.account = key.decoded_account.clone();
    }
    match &card.account {
        None => {
            card.verdict =
                "account unknown: STS did not say, and the key ID does not encode it".into();
        }
        Some(account) if *account != operator.account => {
            card.owned = Some(false);
            card.verdict = format!(
                "not yours: the key is of account {account}, not {}; tell its owner or AWS",
                operator.account
            );
        }
        Some(_) => card.owned = Some(true),
    }
    card
}

/// The rest of an owned key's card: IAM's state, CloudTrail's record, the plan and, with
/// `--apply`, the containment.
fn look_closer(
    calls: &Calls,
    key: &LeakedKey,
    card: &mut Card,
    regions: &[String],
    reported_at: &str,
    options: &RespondOptions,
) {
    let now = crate::verify::unix_now();
    let lookup = Lookup {
        regions: regions.to_vec(),
        start: now - i64::from(options.days) * 86_400,
        end: now,
        max_pages: options.max_pages,
    };
    let activity = activity::look_up(calls, &key.key_id, &lookup);
    if key.is_temporary() {
        card.role = key
            .evidence
            .verified_arn
            .as_deref()
            .and_then(role_of_session)
            .or_else(|| activity.role.clone());
    }
    card.activity = Some(activity);
    read_state(calls, key, card, reported_at);
    card.status_before = card.status_after.clone();
    card.plan = plan(key, card, options);
    if options.apply && !card.plan.is_empty() {
        card.actions = contain::apply(calls, &card.plan, &key.key_id);
        read_state(calls, key, card, reported_at);
        let applied = card.actions.iter().all(|done| !done.failed);
        if applied {
            card.reverified = Some(match (&key.credential, key.is_temporary()) {
                (Some(credential), false) => contain::reverify(calls, credential, options.settle),
                (_, true) => "not checked: a revoked session still answers GetCallerIdentity, \
                              which no policy can deny; its other calls are denied"
                    .into(),
                (None, false) => "not checked: the report does not hold the secret (write it \
                                  with --show-secrets to have the key checked again)"
                    .into(),
            });
        }
    }
    card.verdict = verdict(card, options);
}

/// Reads the key's state into the card: status, user, last use, quarantine.
fn read_state(calls: &Calls, key: &LeakedKey, card: &mut Card, reported_at: &str) {
    if key.is_temporary() {
        if key.evidence.verified.as_deref() == Some("expired") {
            card.status_after = Some("Expired".into());
            return;
        }
        let Some(role) = card.role.clone() else {
            card.status_after = Some(ACTIVE.into());
            return;
        };
        match state::sessions_revoked(calls, &role, reported_at, &key.key_id) {
            Ok(true) => card.status_after = Some(REVOKED.into()),
            Ok(false) => card.status_after = Some(ACTIVE.into()),
            Err(why) => {
                card.status_after = None;
                push_once(&mut card.notes, why);
            }
        }
        return;
    }
    let found = state::user_key(calls, &key.key_id);
    card.user = found.user.or(card.user.take());
    card.status_after = found.status;
    card.created = found.created.or(card.created.take());
    card.last_used = found.last_used.or(card.last_used.take());
    card.quarantined = found.quarantined;
    for note in found.notes {
        push_once(&mut card.notes, note);
    }
}

fn push_once(notes: &mut Vec<String>, note: String) {
    if !notes.contains(&note) {
        notes.push(note);
    }
}

/// The steps containment takes, from the state read.
fn plan(key: &LeakedKey, card: &mut Card, options: &RespondOptions) -> Vec<Step> {
    let profile = options.profile.as_deref();
    let mut steps = Vec::new();
    if key.is_temporary() {
        if card.status_after.as_deref() == Some(ACTIVE) {
            match &card.role {
                Some(role) => steps.push(contain::revoke_sessions(
                    role,
                    &crate::source::git::rfc3339(crate::verify::unix_now()),
                    profile,
                )),
                None => card.notes.push(
                    "the role that issued the session is unknown (neither verification nor \
                     CloudTrail named it): revoke its sessions in the IAM console"
                        .into(),
                ),
            }
        }
        return steps;
    }
    let Some(user) = card.user.clone() else {
        return steps;
    };
    if card.status_after.as_deref() == Some(ACTIVE) {
        steps.push(contain::deactivate(&user, &key.key_id, profile));
    }
    if options.quarantine
        && card.quarantined.is_none()
        && card.status_after.as_deref() != Some(state::ABSENT)
    {
        steps.push(contain::quarantine(&user, profile));
    }
    steps
}

/// The card's conclusion.
fn verdict(card: &Card, options: &RespondOptions) -> String {
    if card.actions.iter().any(|done| done.failed) {
        return "containment failed: see the actions".into();
    }
    match card.status_after.as_deref() {
        _ if card.still_active() && card.actions.is_empty() && !card.plan.is_empty() => {
            "active: run again with --apply to carry out the plan".into()
        }
        _ if card.still_active() && card.plan.is_empty() => {
            "active, and nothing keyhound can do: see the notes".into()
        }
        _ if card.still_active() => "still active after containment: see the re-check".into(),
        Some(status) if options.apply && !card.actions.is_empty() => {
            format!("contained: {status}")
        }
        Some(status) if !card.plan.is_empty() => {
            format!("{status}; the plan has steps left: run again with --apply")
        }
        Some(status) => format!("contained: {status}, nothing to change"),
        None => "state unknown: see the notes".into(),
    }
}

/// The role of an assumed-role session's ARN (`arn:aws:sts::1:assumed-role/ROLE/SESSION`).
fn role_of_session(arn: &str) -> Option<String> {
    let rest = arn.split(":assumed-role/").nth(1)?;
    let role = rest.split('/').next()?;
    (!role.is_empty()).then(|| role.to_string())
}

/// The regions enabled for the operator's account (EC2's `DescribeRegions` lists only those),
/// else the operator's own region, and why.
fn enabled_regions(calls: &Calls, home: &str) -> (Vec<String>, Option<String>) {
    let regions = match calls.ec2(home, "DescribeRegions", &[]) {
        Reply::Ok(body) => roxmltree::Document::parse(&body)
            .map(|document| {
                let mut names: Vec<String> = document
                    .descendants()
                    .filter(|n| n.has_tag_name("regionName"))
                    .filter_map(|n| n.text())
                    .map(|t| t.trim().to_string())
                    .collect();
                names.sort();
                names.dedup();
                names
            })
            .unwrap_or_default(),
        other => {
            let why = format!(
                "{}: CloudTrail was searched in {home} alone (name regions with --regions)",
                state::unread("ec2:DescribeRegions", &other)
            );
            return (vec![home.to_string()], Some(why));
        }
    };
    if regions.is_empty() {
        let why = format!(
            "ec2:DescribeRegions listed no region: CloudTrail was searched in {home} alone"
        );
        (vec![home.to_string()], Some(why))
    } else {
        (regions, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(owned: Option<bool>, status: Option<&str>) -> Card {
        Card {
            key_id: "AKIAWCZC6M3UVHZKOTPE".into(),
            kind: "long-term",
            account: None,
            account_decoded: None,
            owned,
            verdict: String::new(),
            user: None,
            role: None,
            created: None,
            status_before: status.map(str::to_string),
            status_after: status.map(str::to_string),
            last_used: None,
            quarantined: None,
            evidence: Evidence::default(),
            activity: None,
            plan: Vec::new(),
            actions: Vec::new(),
            reverified: None,
            notes: Vec::new(),
        }
    }

    fn response(keys: Vec<Card>) -> Response {
        Response {
            operator: OperatorIdentity {
                arn: "arn:aws:iam::1:user/r".into(),
                account: "1".into(),
                region: "us-east-1".into(),
            },
            applied: true,
            keys,
        }
    }

    #[test]
    fn the_exit_status_says_whether_every_owned_key_is_contained() {
        // Nothing owned, or everything owned out of use: 0.
        assert_eq!(
            response(vec![card(Some(false), Some(ACTIVE))]).exit_status(),
            0
        );
        assert_eq!(
            response(vec![card(Some(true), Some("Inactive"))]).exit_status(),
            0
        );
        assert_eq!(
            response(vec![card(Some(true), Some(REVOKED))]).exit_status(),
            0
        );
        assert_eq!(response(vec![card(None, None)]).exit_status(), 0);
        // An owned key still active, or still accepted by STS after deactivation: 1.
        assert_eq!(
            response(vec![card(Some(true), Some(ACTIVE))]).exit_status(),
            1
        );
        let mut late = card(Some(true), Some("Inactive"));
        late.reverified = Some("still accepted after 3 tries over 4 s: …".into());
        assert_eq!(response(vec![late]).exit_status(), 1);
        // A step that failed: 2, whatever else holds.
        let mut failed = card(Some(true), Some(ACTIVE));
        failed.actions.push(Done {
            action: "iam:UpdateAccessKey".into(),
            result: "refused: AccessDenied (HTTP 403)".into(),
            failed: true,
        });
        assert_eq!(
            response(vec![card(Some(true), Some("Inactive")), failed]).exit_status(),
            2
        );
    }

    #[test]
    fn the_verdict_says_what_is_left_to_do() {
        let options = RespondOptions {
            profile: None,
            endpoints: Endpoints {
                sts: String::new(),
                iam: String::new(),
                ec2: None,
                cloudtrail: None,
            },
            regions: None,
            days: 90,
            max_pages: 10,
            apply: false,
            quarantine: false,
            log: None,
            timeout: Duration::from_secs(1),
            settle: Duration::ZERO,
        };
        let mut active = card(Some(true), Some(ACTIVE));
        active
            .plan
            .push(contain::deactivate("deploy", &active.key_id, None));
        assert_eq!(
            verdict(&active, &options),
            "active: run again with --apply to carry out the plan"
        );
        assert_eq!(
            verdict(&card(Some(true), Some("Inactive")), &options),
            "contained: Inactive, nothing to change"
        );
        let mut unknown_role = card(Some(true), Some(ACTIVE));
        unknown_role.kind = "temporary";
        assert_eq!(
            verdict(&unknown_role, &options),
            "active, and nothing keyhound can do: see the notes"
        );
        let applied = RespondOptions {
            apply: true,
            ..options.clone()
        };
        let mut done = card(Some(true), Some("Inactive"));
        done.status_before = Some(ACTIVE.into());
        done.actions.push(Done {
            action: "iam:UpdateAccessKey".into(),
            result: "done".into(),
            failed: false,
        });
        assert_eq!(verdict(&done, &applied), "contained: Inactive");
    }

    #[test]
    fn a_session_arn_names_its_role() {
        assert_eq!(
            role_of_session("arn:aws:sts::418295736041:assumed-role/ci/build").as_deref(),
            Some("ci")
        );
        assert_eq!(
            role_of_session("arn:aws:iam::418295736041:user/deploy"),
            None
        );
        assert_eq!(role_of_session("arn:aws:sts::1:assumed-role//x"), None);
    }
}
