//! The access keys a keyhound report holds, one per key ID, with what the report says of each:
//! where it was found, the commit that introduced it, what verification said, and its secret
//! when the report shows secrets (`--show-secrets`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::aws;
use crate::finding::{CommitInfo, Finding, VerificationStatus};
use crate::rules::Confidence;
use crate::verify::sts::Credential;

/// The most places a card lists for one key.
const MAX_PLACES: usize = 10;

/// One access key of a report.
#[derive(Debug, Clone)]
pub struct LeakedKey {
    pub key_id: String,
    /// The key ID and its secret (and a temporary key's session token), when the report shows
    /// them: what lets `respond` check the key again after containing it.
    pub credential: Option<Credential>,
    /// The canary service whose account the key ID names: such a key is never touched.
    pub canary: Option<&'static str>,
    /// A documentation example (AWS's own example keys): nobody's key.
    pub example: bool,
    /// The account decoded from the key ID itself, offline.
    pub decoded_account: Option<String>,
    pub evidence: Evidence,
}

/// What the report says of a key.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Evidence {
    /// Where it was found (at most ten places), and how many places in all.
    pub found_in: Vec<String>,
    pub places: usize,
    /// The earliest commit that introduced it, when the report comes from history.
    pub introduced: Option<Introduced>,
    /// What verification said, when the report was made with `--verify`.
    pub verified: Option<String>,
    /// The identity verification saw, for a live key.
    pub verified_arn: Option<String>,
}

/// The commit that introduced a key.
#[derive(Debug, Clone, Serialize)]
pub struct Introduced {
    pub commit: String,
    pub author: String,
    pub date: String,
    #[serde(skip)]
    pub time: i64,
}

impl LeakedKey {
    /// Whether the key is temporary (`ASIA`): it has no status to change, only its role's
    /// sessions to revoke.
    pub fn is_temporary(&self) -> bool {
        self.key_id.starts_with("ASIA")
    }
}

/// The keys of the JSON reports at `paths`, and when the newest report was written (its file's
/// modification time, RFC 3339): every key in it existed by then.
pub fn read_reports(paths: &[std::path::PathBuf]) -> anyhow::Result<(Vec<LeakedKey>, String)> {
    use anyhow::Context;
    let mut findings = Vec::new();
    let mut written = 0;
    for path in paths {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let report = crate::report::json::read(&text).map_err(|why| {
            anyhow::anyhow!(
                "{} is not a keyhound JSON report (write one with `-f json`): {why}",
                path.display()
            )
        })?;
        findings.extend(report.findings);
        let modified = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64);
        written = written.max(modified);
    }
    Ok((keys(&findings), crate::source::git::rfc3339(written)))
}

/// The keys of `findings`, one per key ID, in key ID order.
pub fn keys(findings: &[Finding]) -> Vec<LeakedKey> {
    let mut keys: BTreeMap<String, LeakedKey> = BTreeMap::new();
    for finding in findings {
        let Some(key_id) = key_id_of(finding) else {
            continue;
        };
        let key = keys.entry(key_id.clone()).or_insert_with(|| {
            let decoded_account = aws::account_id(&key_id);
            LeakedKey {
                canary: decoded_account.as_deref().and_then(aws::canary_service),
                decoded_account,
                example: false,
                credential: None,
                evidence: Evidence::default(),
                key_id,
            }
        });
        key.example |= finding.confidence == Confidence::Example;
        if key.credential.is_none() {
            key.credential = credential_of(finding, findings);
        }
        let evidence = &mut key.evidence;
        evidence.places += 1;
        let place = finding.origin.display_path();
        if evidence.found_in.len() < MAX_PLACES && !evidence.found_in.contains(&place) {
            evidence.found_in.push(place);
        }
        if let Some(commit) = finding.git.as_ref().and_then(|g| g.commit.as_ref()) {
            if evidence
                .introduced
                .as_ref()
                .is_none_or(|i| commit.time < i.time)
            {
                evidence.introduced = Some(introduced(commit));
            }
        }
        if let Some(verification) = &finding.verification {
            // A live answer is the one that matters; any other only when there is none.
            let live = matches!(verification.status, VerificationStatus::Live { .. });
            if live || evidence.verified.is_none() {
                evidence.verified = Some(verification.status.as_str().to_string());
            }
            if let VerificationStatus::Live { arn, .. } = &verification.status {
                evidence.verified_arn = Some(arn.clone());
            }
        }
    }
    keys.into_values().collect()
}

/// The access key ID a finding is about: a pair's, or a lone ID's.
fn key_id_of(finding: &Finding) -> Option<String> {
    match &finding.pair {
        Some(pair) => Some(pair.key_id.clone()),
        None if !finding.redact && aws::is_access_key_id(&finding.secret) => {
            Some(finding.secret.clone())
        }
        None => None,
    }
}

/// The whole credential, when the report shows the pair's secret (and, for a temporary key,
/// a session token beside it).
fn credential_of(finding: &Finding, all: &[Finding]) -> Option<Credential> {
    let pair = finding.pair.as_ref()?;
    if finding.redact {
        return None;
    }
    let session_token = if pair.key_id.starts_with("ASIA") {
        let token = crate::verify::session_token_near(finding, all)?;
        Some((!token.redact).then(|| token.secret.clone())?)
    } else {
        None
    };
    Some(Credential {
        key_id: pair.key_id.clone(),
        secret: finding.secret.clone(),
        session_token,
    })
}

fn introduced(commit: &CommitInfo) -> Introduced {
    Introduced {
        commit: commit.id.clone(),
        author: format!("{} <{}>", commit.author_name, commit.author_email),
        date: commit.date.clone(),
        time: commit.time,
    }
}
