//! Allowlists from the config file: paths, secret patterns and exact secrets (or their
//! SHA-256) that are not leaks, for every rule or for one.

use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use regex::Regex;
use sha2::{Digest, Sha256};

use super::{Suppressed, Suppression};
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

    /// The entry that allows `finding` (whose path is relative to `base`), described for a
    /// person (`[allowlist] paths glob \`vendor/**\``), or None.
    pub fn allowed_by(&self, finding: &Finding, base: &Path) -> Option<String> {
        if self.rule.as_ref().is_some_and(|r| *r != finding.rule_id) {
            return None;
        }
        let section = match &self.rule {
            Some(rule) => format!("[allowlist.rules.{rule}]"),
            None => "[allowlist]".to_string(),
        };
        let path: PathBuf = base.join(finding.origin.display_path());
        if !self.paths.is_empty() {
            if let ignore::Match::Ignore(glob) =
                self.paths.matched_path_or_any_parents(&path, false)
            {
                return Some(format!("{section} paths glob `{}`", glob.original()));
            }
        }
        // A key pair is allowed when either of its values is.
        let values =
            std::iter::once(&finding.secret).chain(finding.pair.as_ref().map(|p| &p.key_id));
        values
            .into_iter()
            .find_map(|value| self.value_entry(value))
            .map(|entry| format!("{section} {entry}"))
    }

    /// Whether this allowlist allows whole paths for every rule.
    pub fn allows_some_path(&self) -> bool {
        self.rule.is_none() && !self.paths.is_empty()
    }

    /// The entry that allows everything at `path` (relative to `base`), for every rule: a
    /// path glob of an allowlist not limited to one rule. Described as [`Allowlist::allowed_by`]
    /// describes it.
    pub fn allows_path(&self, path: &str, base: &Path) -> Option<String> {
        if !self.allows_some_path() {
            return None;
        }
        match self
            .paths
            .matched_path_or_any_parents(base.join(path), false)
        {
            ignore::Match::Ignore(glob) => {
                Some(format!("[allowlist] paths glob `{}`", glob.original()))
            }
            _ => None,
        }
    }

    /// Which entry allows `value`: never the value itself, so the description is safe to print.
    fn value_entry(&self, value: &str) -> Option<String> {
        if let Some(regex) = self.regexes.iter().find(|r| r.is_match(value)) {
            return Some(format!("regexes `{}`", regex.as_str()));
        }
        if self.secrets.iter().any(|s| s == value) {
            return Some("secrets (exact value)".to_string());
        }
        if self.digests.is_empty() {
            return None;
        }
        let digest = crate::hex::lower(&Sha256::digest(value.as_bytes()));
        self.digests
            .contains(&digest)
            .then(|| format!("secrets `sha256:{}…`", &digest[..12]))
    }
}

/// Moves the findings an allowlist allows to `suppressed`, each with the entry that allows it.
pub fn apply(
    findings: &mut Vec<Finding>,
    suppressed: &mut Vec<Suppressed>,
    allowlists: &[Allowlist],
    base: &Path,
) {
    if allowlists.is_empty() {
        return;
    }
    super::suppress(findings, suppressed, |f| {
        allowlists
            .iter()
            .find_map(|a| a.allowed_by(f, base))
            .map(Suppression::Allowlist)
    });
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::filter::finalize;
    use crate::finding::findings_in;
    use crate::rules::RuleSet;
    use crate::source::Origin;

    const ID: &str = "AKIAQYLPMN5HHHFPZAM2";
    const SECRET: &str = "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";

    /// The findings of `text` as if read from `path`, key pairs joined.
    fn found(path: &str, text: &str) -> Vec<Finding> {
        let rules = RuleSet::builtin().unwrap();
        let mut findings = findings_in(&rules, text.as_bytes(), &Origin::File(path.into()), 1, 0);
        finalize(&mut findings, &rules);
        findings
    }

    fn list(rule: Option<&str>, paths: &[&str], regexes: &[&str], secrets: &[&str]) -> Allowlist {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Allowlist::new(
            Path::new("repo"),
            rule.map(str::to_string),
            &owned(paths),
            &owned(regexes),
            &owned(secrets),
        )
        .unwrap()
    }

    fn allowed(list: &Allowlist, path: &str, text: &str) -> Option<String> {
        let findings = found(path, text);
        assert_eq!(findings.len(), 1, "{findings:?}");
        list.allowed_by(&findings[0], Path::new("repo"))
    }

    #[test]
    fn path_globs_are_gitignore_style_and_rooted_at_the_config() {
        let globs = list(None, &["tests/**", "*.sample"], &[], &[]);
        let text = format!("aws_access_key_id = {ID}");
        assert_eq!(
            allowed(&globs, "tests/unit/creds.env", &text).as_deref(),
            Some("[allowlist] paths glob `tests/**`")
        );
        assert!(allowed(&globs, "deep/app.env.sample", &text).is_some());
        assert_eq!(allowed(&globs, "src/tests.env", &text), None);
        assert_eq!(allowed(&globs, "src/app.env", &text), None);
    }

    #[test]
    fn regexes_match_the_value_not_the_line() {
        let value = list(None, &[], &["^AKIAQYLP"], &[]);
        assert_eq!(
            allowed(&value, "a.env", &format!("aws_access_key_id = {ID}")).as_deref(),
            Some("[allowlist] regexes `^AKIAQYLP`")
        );
        let other = list(None, &[], &["aws_access_key_id"], &[]);
        assert_eq!(
            allowed(&other, "a.env", &format!("aws_access_key_id = {ID}")),
            None
        );
    }

    #[test]
    fn secrets_match_exactly_or_by_sha256_and_are_never_echoed() {
        let exact = list(None, &[], &[], &[ID]);
        let text = format!("aws_access_key_id = {ID}");
        assert_eq!(
            allowed(&exact, "a.env", &text).as_deref(),
            Some("[allowlist] secrets (exact value)")
        );
        let prefix = list(None, &[], &[], &[&ID[..16]]);
        assert_eq!(allowed(&prefix, "a.env", &text), None);

        let digest = crate::hex::lower(&Sha256::digest(ID.as_bytes()));
        let hashed = list(
            None,
            &[],
            &[],
            &[&format!("sha256:{}", digest.to_uppercase())],
        );
        let why = allowed(&hashed, "a.env", &text).unwrap();
        assert!(why.starts_with("[allowlist] secrets `sha256:"), "{why}");
        assert!(!why.contains(ID));
    }

    #[test]
    fn rule_allowlists_apply_to_their_rule_only() {
        let secrets_only = list(Some("aws-secret-access-key"), &["**"], &[], &[]);
        assert_eq!(
            allowed(&secrets_only, "a.env", &format!("aws_access_key_id = {ID}")),
            None
        );
        assert_eq!(
            allowed(
                &secrets_only,
                "a.env",
                &format!("aws_secret_access_key = {SECRET}")
            )
            .as_deref(),
            Some("[allowlist.rules.aws-secret-access-key] paths glob `**`")
        );
    }

    #[test]
    fn a_key_pair_is_allowed_when_either_value_is() {
        let text = format!("aws_access_key_id = {ID}\naws_secret_access_key = {SECRET}");
        let findings = found("a.env", &text);
        assert_eq!(findings[0].rule_id, "aws-access-key-pair");
        assert!(list(None, &[], &[], &[ID])
            .allowed_by(&findings[0], Path::new("repo"))
            .is_some());
        assert!(list(None, &[], &["^r4ij"], &[])
            .allowed_by(&findings[0], Path::new("repo"))
            .is_some());
    }

    #[test]
    fn bad_globs_and_regexes_are_refused_by_name() {
        let err =
            Allowlist::new(Path::new("."), None, &[], &["(unclosed".into()], &[]).unwrap_err();
        assert!(err.contains("(unclosed"), "{err}");
        let err = Allowlist::new(Path::new("."), None, &["a/{b".into()], &[], &[]).unwrap_err();
        assert!(err.contains("a/{b"), "{err}");
    }

    #[test]
    fn apply_moves_allowed_findings_with_their_reason() {
        let mut findings = found("a.env", &format!("aws_access_key_id = {ID}"));
        let mut suppressed = Vec::new();
        apply(
            &mut findings,
            &mut suppressed,
            &[list(None, &[], &[], &[ID])],
            Path::new("repo"),
        );
        assert!(findings.is_empty());
        assert_eq!(suppressed.len(), 1);
        assert_eq!(
            suppressed[0].why,
            Suppression::Allowlist("[allowlist] secrets (exact value)".into())
        );
    }
}
