//! Live verification (`--verify`): which of the keys found still work.
//!
//! A stage after filtering, and the only code in keyhound that opens a socket; it runs only
//! when asked. Each distinct credential (key ID, secret, and session token for temporary keys)
//! is sent once, however often it occurs, as one signed STS `GetCallerIdentity` call
//! ([`sts`]); every finding of it then carries the outcome. Documentation examples, canary
//! tokens, accounts on the skip list and key IDs found without a secret are never sent.
//! With `--analyze`, each live key's own IAM policies are read with the key ([`iam`]) and
//! [`policy`] decides, offline, what they let it do ([`access`]).

pub mod access;
pub mod iam;
pub mod policy;
pub mod query;
pub mod sts;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::finding::{Access, Finding, Verification, VerificationStatus};
use crate::rules::Confidence;
use sts::Credential;

/// STS's global endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://sts.amazonaws.com";

/// How verification runs.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Where requests go (`--sts-endpoint`): STS's global endpoint unless told otherwise.
    pub endpoint: String,
    /// With `--analyze`, where IAM is asked what each live key may do.
    pub iam_endpoint: Option<String>,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Each request's time limit, retries included separately.
    pub timeout: Duration,
    /// Retries after throttling or a server error.
    pub retries: u32,
    /// The wait before the first retry; it doubles, with jitter.
    pub backoff: Duration,
    /// Accounts whose keys are never sent.
    pub skip_accounts: HashSet<String>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            endpoint: DEFAULT_ENDPOINT.to_string(),
            iam_endpoint: None,
            concurrency: 4,
            timeout: Duration::from_secs(10),
            retries: 2,
            backoff: Duration::from_millis(250),
            skip_accounts: HashSet::new(),
        }
    }
}

/// What one finding asks of verification.
enum Plan {
    /// Not an AWS access key: nothing to verify.
    NotAKey,
    /// Never sent, with why.
    Skip(String),
    Send(Credential),
}

/// Verifies the credentials `findings` hold and records an outcome on every finding that is an
/// access key ID or a key pair. `announce(count, endpoint)` is called once, before the first
/// request, when there is any to send. Returns how many credentials were sent.
pub fn verify(
    findings: &mut [Finding],
    options: &VerifyOptions,
    announce: impl FnOnce(usize, &str),
) -> usize {
    let plans: Vec<Plan> = findings
        .iter()
        .map(|finding| plan(finding, findings, options))
        .collect();
    let mut credentials: BTreeMap<&Credential, Vec<usize>> = BTreeMap::new();
    for (index, plan) in plans.iter().enumerate() {
        if let Plan::Send(credential) = plan {
            credentials.entry(credential).or_default().push(index);
        }
    }
    let distinct: Vec<&Credential> = credentials.keys().copied().collect();
    if !distinct.is_empty() {
        announce(distinct.len(), &options.endpoint);
    }
    let outcomes = identify_all(&distinct, options);
    let now = crate::source::git::rfc3339(unix_now());
    let mut verified: Vec<Option<&Outcome>> = vec![None; findings.len()];
    for (credential, outcome) in distinct.iter().zip(&outcomes) {
        for &index in &credentials[credential] {
            verified[index] = Some(outcome);
        }
    }
    for ((finding, plan), outcome) in findings.iter_mut().zip(&plans).zip(verified) {
        let (status, access) = match plan {
            Plan::NotAKey => continue,
            Plan::Skip(reason) => {
                let reason = reason.clone();
                (VerificationStatus::Skipped { reason }, None)
            }
            Plan::Send(_) => outcome
                .expect("every credential sent has an outcome")
                .clone(),
        };
        finding.verification = Some(Verification {
            status,
            checked_at: now.clone(),
            access,
        });
    }
    distinct.len()
}

/// What verification learned of one credential: its status and, for a live key with
/// `--analyze`, what it may do.
type Outcome = (VerificationStatus, Option<Access>);

/// Sends each credential once, `options.concurrency` at a time, and with `--analyze` reads what
/// each live one may do; outcomes in the same order.
fn identify_all(credentials: &[&Credential], options: &VerifyOptions) -> Vec<Outcome> {
    let client = sts::Client::new(
        &options.endpoint,
        options.timeout,
        options.retries,
        options.backoff,
    );
    let iam = query::Client::new(options.timeout, options.retries, options.backoff);
    let outcomes = Mutex::new(vec![None; credentials.len()]);
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..options.concurrency.max(1).min(credentials.len()) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(credential) = credentials.get(index) else {
                    break;
                };
                let status = client.identify(credential);
                let access = match (&status, &options.iam_endpoint) {
                    (VerificationStatus::Live { arn, .. }, Some(endpoint)) => {
                        Some(access::analyze(&iam, endpoint, credential, arn))
                    }
                    _ => None,
                };
                let outcome = (status, access);
                outcomes.lock().unwrap_or_else(|e| e.into_inner())[index] = Some(outcome);
            });
        }
    });
    outcomes
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|status| status.expect("every credential was sent"))
        .collect()
}

/// Whether and what to send for `finding`, given the other findings of the scan (a temporary
/// key's session token is found apart from its pair).
fn plan(finding: &Finding, all: &[Finding], options: &VerifyOptions) -> Plan {
    let key_id = match &finding.pair {
        Some(pair) => pair.key_id.as_str(),
        None if crate::aws::is_access_key_id(&finding.secret) => {
            return skip_reason(finding, options).map_or(
                Plan::Skip("a key ID found without its secret".into()),
                Plan::Skip,
            )
        }
        None => return Plan::NotAKey,
    };
    if let Some(reason) = skip_reason(finding, options) {
        return Plan::Skip(reason);
    }
    let session_token = if key_id.starts_with("ASIA") {
        match session_token_near(finding, all) {
            Some(token) => Some(token.secret.clone()),
            None => return Plan::Skip("a temporary key found without its session token".into()),
        }
    } else {
        None
    };
    Plan::Send(Credential {
        key_id: key_id.to_string(),
        secret: finding.secret.clone(),
        session_token,
    })
}

/// Why a key is never sent, if it is not.
fn skip_reason(finding: &Finding, options: &VerifyOptions) -> Option<String> {
    if finding.confidence == Confidence::Example {
        return Some("a documentation example".into());
    }
    if let Some(service) = finding.canary() {
        return Some(format!("{} ({service})", crate::aws::CANARY_WARNING));
    }
    let account = finding.aws_account.as_ref()?;
    options
        .skip_accounts
        .contains(&account.id)
        .then(|| format!("account {} is on the skip list", account.id))
}

/// The finding of the session token found in the same input as `finding`, the nearest by line.
pub(crate) fn session_token_near<'a>(finding: &Finding, all: &'a [Finding]) -> Option<&'a Finding> {
    all.iter()
        .filter(|other| other.origin == finding.origin && other.rule_id == SESSION_TOKEN_RULE)
        .min_by_key(|other| other.location.line.abs_diff(finding.location.line))
}

/// The built-in rule that finds STS session tokens.
const SESSION_TOKEN_RULE: &str = "aws-session-token";

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
