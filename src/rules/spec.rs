//! The on-disk shape of a rule file, exactly as users write it (see "Writing rules" in the README).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::allow::RuleAllowlist;
use super::{Confidence, SecretGroup, Severity};

/// A rule file: a list of `[[rules]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
}

/// One `[[rules]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub name: String,
    pub description: String,
    pub severity: Severity,
    #[serde(default = "default_confidence")]
    pub confidence: Confidence,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub exact_keywords: Vec<String>,
    #[serde(default)]
    pub encoded_keywords: Vec<String>,
    #[serde(default)]
    pub window_lines: u32,
    pub pattern: String,
    pub boundary: Option<String>,
    pub min_entropy: Option<f32>,
    pub charset: Option<CharsetSpec>,
    pub example_pattern: Option<String>,
    #[serde(default)]
    pub reject_placeholders: bool,
    #[serde(default)]
    pub kinds: BTreeMap<String, String>,
    #[serde(default = "yes")]
    pub redact: bool,
    #[serde(default)]
    pub context_required: bool,
    #[serde(default)]
    pub context: Vec<ContextSpec>,
    pub pair: Option<PairSpec>,
    pub remediation: String,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
    /// What a rule imported from another tool's configuration carries beyond a keyhound rule;
    /// never read from a keyhound rule file.
    #[serde(skip)]
    pub imported: Option<Imported>,
}

/// The parts of an imported rule that keyhound's rule files do not spell (see `gitleaks`).
#[derive(Debug, Default)]
pub struct Imported {
    /// Which part of the match is the secret (the pattern has no `secret` group).
    pub secret: SecretGroup,
    /// The rule's regex runs over all input rather than near keywords: the rule gave none
    /// that the keyword search can use.
    pub search_everywhere: bool,
    /// Matches count only in files whose path this regex matches.
    pub path: Option<String>,
    pub tags: Vec<String>,
    pub allowlists: Vec<std::sync::Arc<RuleAllowlist>>,
}

/// `[rules.charset]`: character-class requirements on the secret.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CharsetSpec {
    /// How many of upper case, lower case, digits and other characters the secret must mix.
    pub min_classes: u8,
}

/// `[rules.pair]`: a finding of this rule and one of rule `with` close together become one
/// finding of a pair rule (an access key ID and its secret).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairSpec {
    /// The rule whose findings this rule's findings pair with.
    pub with: String,
    /// Id, name, description and severity of the pair finding.
    pub id: String,
    pub name: String,
    pub description: String,
    pub severity: Severity,
    /// How many lines apart the two may be.
    pub max_lines: u32,
}

/// One `[[rules.context]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextSpec {
    pub pattern: String,
    #[serde(default)]
    pub lines_before: u32,
    #[serde(default)]
    pub lines_after: u32,
    pub confidence: Confidence,
    #[serde(default)]
    pub unassigned_only: bool,
    #[serde(default)]
    pub assigned_name: bool,
    /// With `assigned_name`: a second pattern that must also match within `lines_before` and
    /// `lines_after` of the candidate (a generic name such as `SECRET` counts only near a key ID).
    #[serde(default)]
    pub near: Option<String>,
}

fn default_confidence() -> Confidence {
    Confidence::Medium
}

fn yes() -> bool {
    true
}
