//! Allowlists from the config file: paths, secret patterns and exact secrets (or their
//! SHA-256) that are not leaks, for every rule or for one.

use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use regex::Regex;
use sha2::{Digest, Sha256};

use crate::finding::Finding;

/// One compiled allowlist.
#[derive(Debug, Clone)]
pub struct Allowlist {
    /// Gitignore-style globs, rooted at the config file's directory.
    paths: Gitignore,
    /// Matched against the secret.
    regexes: Vec<Regex>,
    /// Exact secrets, and SHA-256 digests (`sha256:<hex>`) of secrets.
    secrets: Vec<String>,
    digests: Vec<String>,
    /// Only findings of this rule (None: every rule).
    rule: Option<String>,
}

impl Allowlist {
    /// Compiles an allowlist; `Err` names the glob or regex that does not compile.
    pub fn new(
        root: &Path,
        rule: Option<String>,
        paths: &[String],
        regexes: &[String],
        secrets: &[String],
    ) -> Result<Allowlist, String> {
        let mut builder = GitignoreBuilder::new(root);
        for glob in paths {
            builder
                .add_line(None, glob)
                .map_err(|e| format!("bad glob `{glob}`: {e}"))?;
        }
        let paths = builder.build().map_err(|e| format!("bad globs: {e}"))?;
        let regexes = regexes
            .iter()
            .map(|r| Regex::new(r).map_err(|e| format!("bad regex `{r}`: {e}")))
            .collect::<Result<_, _>>()?;
        let (digests, secrets): (Vec<String>, Vec<String>) = secrets
            .iter()
            .cloned()
            .partition(|s| s.starts_with("sha256:"));
        let digests = digests
            .into_iter()
            .map(|d| d["sha256:".len()..].to_ascii_lowercase())
            .collect();
        Ok(Allowlist {
            paths,
            regexes,
            secrets,
            digests,
            rule,
        })
    }

    /// Whether `finding` (whose path is relative to `base`) is allowed.
    pub fn allows(&self, finding: &Finding, base: &Path) -> bool {
        if self.rule.as_ref().is_some_and(|r| *r != finding.rule_id) {
            return false;
        }
        let path: PathBuf = base.join(finding.origin.display_path());
        if !self.paths.is_empty()
            && self
                .paths
                .matched_path_or_any_parents(&path, false)
                .is_ignore()
        {
            return true;
        }
        // A key pair is allowed when either of its values is.
        let values =
            std::iter::once(&finding.secret).chain(finding.pair.as_ref().map(|p| &p.key_id));
        values.into_iter().any(|value| self.allows_value(value))
    }

    fn allows_value(&self, value: &str) -> bool {
        if self.regexes.iter().any(|r| r.is_match(value)) || self.secrets.iter().any(|s| s == value)
        {
            return true;
        }
        !self.digests.is_empty() && {
            let digest: String = Sha256::digest(value.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            self.digests.contains(&digest)
        }
    }
}

/// Splits off the findings an allowlist allows; returns them.
pub fn apply(findings: &mut Vec<Finding>, allowlists: &[Allowlist], base: &Path) -> Vec<Finding> {
    if allowlists.is_empty() {
        return Vec::new();
    }
    let (allowed, kept): (Vec<Finding>, Vec<Finding>) = std::mem::take(findings)
        .into_iter()
        .partition(|f| allowlists.iter().any(|a| a.allows(f, base)));
    *findings = kept;
    allowed
}
