//! Baselines: the fingerprints of findings a team has accepted for now, so a CI gate fails only
//! on new ones.
//!
//! A baseline file holds no secret: each entry is a fingerprint (a hash of rule id, secret and
//! path) with the rule, path and line for a reviewer. Fingerprints ignore line numbers, so moving
//! or reformatting code does not make an old finding new.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::finding::{BaselineState, Finding};

/// Version of the baseline file format.
const VERSION: u32 = 1;

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub fingerprint: String,
    pub rule_id: String,
    /// In an audit of many repositories: the repository (for review; the fingerprint, which
    /// matches the secret at this path in any repository, is what matches).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    pub path: String,
    /// Where it was when the baseline was written (for review; not used for matching).
    pub line: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    findings: Vec<Entry>,
}

/// A loaded baseline.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    entries: BTreeMap<String, Entry>,
}

/// Why a baseline file could not be used. A bad baseline is never taken as empty.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read baseline {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("baseline {path} is not a keyhound baseline: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write baseline {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Baseline {
    /// Loads a baseline file.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = crate::textfile::read(path).map_err(|source| BaselineError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Baseline::parse(&text, path)
    }

    /// Reads a baseline from its text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Baseline, BaselineError> {
        let invalid = |message: String| BaselineError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let file: File = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if file.version != VERSION {
            return Err(invalid(format!(
                "version {} (this keyhound reads version {VERSION})",
                file.version
            )));
        }
        let mut entries = BTreeMap::new();
        for entry in file.findings {
            if entry.fingerprint.len() != 32
                || !entry.fingerprint.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(invalid(format!(
                    "`{}` is not a fingerprint",
                    entry.fingerprint
                )));
            }
            entries.insert(entry.fingerprint.clone(), entry);
        }
        Ok(Baseline { entries })
    }

    /// The baseline of `findings`; of the places that share a fingerprint, the first in report
    /// order is the one a reviewer sees.
    pub fn of(findings: &[Finding]) -> Baseline {
        let mut entries = BTreeMap::new();
        for f in findings {
            entries
                .entry(f.fingerprint.clone())
                .or_insert_with(|| Entry {
                    fingerprint: f.fingerprint.clone(),
                    rule_id: f.rule_id.clone(),
                    repo: f.origin.repo().map(str::to_string),
                    path: f.origin.display_path(),
                    line: f.location.line,
                });
        }
        Baseline { entries }
    }

    /// Marks each finding new or unchanged; returns the entries no finding matched (stale).
    pub fn apply(&self, findings: &mut [Finding]) -> Vec<Entry> {
        let mut seen = std::collections::BTreeSet::new();
        for finding in findings.iter_mut() {
            let known = self.entries.contains_key(&finding.fingerprint);
            if known {
                seen.insert(finding.fingerprint.clone());
            }
            finding.baseline = Some(if known {
                BaselineState::Unchanged
            } else {
                BaselineState::New
            });
        }
        self.entries
            .values()
            .filter(|e| !seen.contains(&e.fingerprint))
            .cloned()
            .collect()
    }

    /// The baseline without `stale` entries.
    pub fn without(&self, stale: &[Entry]) -> Baseline {
        let mut entries = self.entries.clone();
        for entry in stale {
            entries.remove(&entry.fingerprint);
        }
        Baseline { entries }
    }

    /// Writes the baseline, sorted by path, rule and fingerprint, one entry per line group.
    pub fn write(&self, path: &Path) -> Result<(), BaselineError> {
        let mut findings: Vec<Entry> = self.entries.values().cloned().collect();
        findings.sort_by(|a, b| {
            (&a.path, &a.rule_id, &a.fingerprint).cmp(&(&b.path, &b.rule_id, &b.fingerprint))
        });
        let file = File {
            version: VERSION,
            findings,
        };
        let mut text = serde_json::to_string_pretty(&file).expect("a baseline serialises");
        text.push('\n');
        crate::output_file::write_whole(path, false, |out| out.write_all(text.as_bytes())).map_err(
            |source| BaselineError::Write {
                path: path.to_path_buf(),
                source,
            },
        )
    }

    /// How many findings the baseline accepts.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the baseline accepts nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::findings_in;
    use crate::rules::RuleSet;
    use crate::source::Origin;
    use std::path::PathBuf;

    fn scan(text: &str) -> Vec<Finding> {
        let rules = RuleSet::builtin().unwrap();
        let origin = Origin::File(PathBuf::from("app/.env"));
        let mut found = findings_in(&rules, text.as_bytes(), &origin, 1, 0);
        crate::filter::finalize(&mut found, &rules);
        found
    }

    const CREDS: &str = "aws_access_key_id = AKIAQYLPMN5HHHFPZAM2\naws_secret_access_key = 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\n";

    #[test]
    fn round_trip_moved_lines_stay_known_and_a_new_secret_is_new() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline.json");
        Baseline::of(&scan(CREDS)).write(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("r4ij3usc"),
            "a baseline must not hold the secret:\n{text}"
        );
        let baseline = Baseline::load(&path).unwrap();

        // Lines move: nothing new, nothing stale.
        let mut moved = scan(&format!("# header\n\n\n{CREDS}"));
        assert!(baseline.apply(&mut moved).is_empty());
        assert!(moved
            .iter()
            .all(|f| f.baseline == Some(BaselineState::Unchanged)));

        // A secret is added: exactly one new finding.
        let mut added = scan(&format!("{CREDS}\n\n\n\n\n\n\naws_session_token = x\nmws = amzn.mws.4ea38b7b-f563-7709-4bae-87aeaadc1e26\n"));
        baseline.apply(&mut added);
        let new: Vec<_> = added
            .iter()
            .filter(|f| f.baseline == Some(BaselineState::New))
            .collect();
        assert_eq!(new.len(), 1, "{new:#?}");
        assert_eq!(new[0].rule_id, "aws-mws-auth-token");

        // The secret is removed: its entry is stale.
        let mut removed = scan("nothing here\n");
        assert_eq!(baseline.apply(&mut removed).len(), baseline.len());
    }

    #[test]
    fn malformed_baselines_are_errors_not_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline.json");
        for text in [
            "",
            "[]",
            "{\"version\": 1}",
            "{\"version\": 2, \"findings\": []}",
            "{\"version\": 1, \"findings\": [{\"fingerprint\": \"xyz\", \"rule_id\": \"r\", \"path\": \"p\", \"line\": 1}]}",
        ] {
            std::fs::write(&path, text).unwrap();
            let error = Baseline::load(&path).unwrap_err().to_string();
            assert!(error.contains("baseline.json"), "{error}");
        }
    }
}
