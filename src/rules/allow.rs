//! Allowlists that travel with rules, as gitleaks configurations write them: a match is allowed
//! when its secret, its whole match or its line matches a regex, when its secret holds a stop
//! word, when its path matches, or when its commit is listed: any one of the conditions given
//! (`condition = "OR"`, the default) or all of them (`"AND"`).
//!
//! The conditions on the text are decided by the matcher, which has the match and its line in
//! hand; the conditions on where the match is (path, commit) are decided on the finding, after a
//! history scan has placed each blob at its paths and commits. An `AND` allowlist that has both
//! kinds leaves the matcher's half of the answer on the match (see [`ContentAllowed`]).

use aho_corasick::AhoCorasick;
use regex::bytes::Regex;

/// What an allowlist's regexes are matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegexTarget {
    /// The secret (the rule's secret group).
    Secret,
    /// The rule's whole match.
    Match,
    /// The lines the match is on.
    Line,
}

/// One compiled allowlist.
#[derive(Debug)]
pub struct RuleAllowlist {
    /// Where it was written (`gitleaks.toml: rule `x`, allowlist 2`), for `--explain`.
    pub source: String,
    /// All the conditions given must hold (`condition = "AND"`), rather than any one.
    pub require_all: bool,
    /// Commit ids, lower case.
    pub commits: Vec<String>,
    /// One regex that matches a path any of the `paths` regexes matches.
    pub paths: Option<Regex>,
    pub target: RegexTarget,
    /// One regex that matches what any of the `regexes` matches.
    pub regexes: Option<Regex>,
    /// Stop words, matched case-insensitively inside the secret.
    pub stopwords: Option<AhoCorasick>,
    /// For an allowlist of the whole file: the ids of the rules it applies to (empty: all).
    pub target_rules: Vec<String>,
}

/// The text around one match that an allowlist's text conditions look at.
pub struct MatchText<'a> {
    pub secret: &'a [u8],
    pub matched: &'a [u8],
    pub line: &'a [u8],
}

/// Bit `i` set: the text conditions of the `i`-th allowlist of a rule (in the order of
/// [`super::RuleSet::allowlists_for`]) hold, and its path or commit conditions remain to be
/// checked on the finding.
pub type ContentAllowed = u64;

/// What the matcher concludes from one allowlist about one match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextVerdict {
    /// The allowlist allows the match whatever its path or commit.
    Allowed,
    /// The text conditions hold; the path or commit conditions decide.
    Pending,
    /// The text says nothing that allows the match.
    NotAllowed,
}

impl RuleAllowlist {
    /// Whether it has conditions on the text (regexes or stop words).
    pub fn has_text_conditions(&self) -> bool {
        self.regexes.is_some() || self.stopwords.is_some()
    }

    /// Whether it has conditions on where the match is (paths or commits).
    pub fn has_place_conditions(&self) -> bool {
        self.paths.is_some() || !self.commits.is_empty()
    }

    /// Whether it applies to findings of the rule `id`.
    pub fn applies_to(&self, id: &str) -> bool {
        self.target_rules.is_empty() || self.target_rules.iter().any(|r| r == id)
    }

    /// Whether it needs the match's line (its regexes look at lines).
    pub fn needs_line(&self) -> bool {
        self.regexes.is_some() && self.target == RegexTarget::Line
    }

    /// The matcher's half of the decision for one match.
    pub fn judge_text(&self, text: &MatchText<'_>) -> TextVerdict {
        if !self.has_text_conditions() {
            return TextVerdict::NotAllowed;
        }
        let regex = self.regexes.as_ref().map(|regex| {
            let target = match self.target {
                RegexTarget::Secret => text.secret,
                RegexTarget::Match => text.matched,
                RegexTarget::Line => text.line,
            };
            !target.is_empty() && regex.is_match(target)
        });
        let stopword = self
            .stopwords
            .as_ref()
            .map(|words| words.is_match(text.secret));
        let holds = if self.require_all {
            regex.unwrap_or(true) && stopword.unwrap_or(true)
        } else {
            regex.unwrap_or(false) || stopword.unwrap_or(false)
        };
        match (holds, self.require_all && self.has_place_conditions()) {
            (false, _) => TextVerdict::NotAllowed,
            (true, false) => TextVerdict::Allowed,
            (true, true) => TextVerdict::Pending,
        }
    }

    /// The finding's half: whether the allowlist allows a match at `paths` (every one of them:
    /// a blob at an allowed path and at another is still reported) and `commit`, given whether
    /// its text conditions held (`text_held`).
    pub fn allows_place(&self, paths: &[&str], commit: Option<&str>, text_held: bool) -> bool {
        if !self.has_place_conditions() {
            return false;
        }
        let path = self
            .paths
            .as_ref()
            .map(|regex| !paths.is_empty() && paths.iter().all(|p| regex.is_match(p.as_bytes())));
        let commit = (!self.commits.is_empty()).then(|| {
            commit.is_some_and(|c| {
                let c = c.to_ascii_lowercase();
                self.commits.contains(&c)
            })
        });
        if self.require_all {
            (text_held || !self.has_text_conditions())
                && path.unwrap_or(true)
                && commit.unwrap_or(true)
        } else {
            path.unwrap_or(false) || commit.unwrap_or(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowlist(require_all: bool) -> RuleAllowlist {
        RuleAllowlist {
            source: "t".into(),
            require_all,
            commits: Vec::new(),
            paths: None,
            target: RegexTarget::Secret,
            regexes: None,
            stopwords: None,
            target_rules: Vec::new(),
        }
    }

    fn text<'a>(secret: &'a str, matched: &'a str, line: &'a str) -> MatchText<'a> {
        MatchText {
            secret: secret.as_bytes(),
            matched: matched.as_bytes(),
            line: line.as_bytes(),
        }
    }

    #[test]
    fn any_condition_allows_by_default() {
        let mut a = allowlist(false);
        a.regexes = Some(Regex::new("^dummy").unwrap());
        a.stopwords = Some(
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(["example"])
                .unwrap(),
        );
        assert_eq!(
            a.judge_text(&text("dummy123", "", "")),
            TextVerdict::Allowed
        );
        assert_eq!(
            a.judge_text(&text("xxEXAMPLExx", "", "")),
            TextVerdict::Allowed
        );
        assert_eq!(
            a.judge_text(&text("s3cr3t", "", "")),
            TextVerdict::NotAllowed
        );
    }

    #[test]
    fn the_target_chooses_what_regexes_see() {
        let mut a = allowlist(false);
        a.regexes = Some(Regex::new("mount=type=secret").unwrap());
        a.target = RegexTarget::Line;
        let t = text("s3cr3t", "key=s3cr3t", "RUN --mount=type=secret key=s3cr3t");
        assert_eq!(a.judge_text(&t), TextVerdict::Allowed);
        a.target = RegexTarget::Match;
        assert_eq!(a.judge_text(&t), TextVerdict::NotAllowed);
    }

    #[test]
    fn all_conditions_leave_the_place_to_the_finding() {
        let mut a = allowlist(true);
        a.regexes = Some(Regex::new("^SRC").unwrap());
        a.target = RegexTarget::Line;
        a.paths = Some(Regex::new(r"\.bb$").unwrap());
        let matching = text("abc", "abc", "SRC = abc");
        assert_eq!(a.judge_text(&matching), TextVerdict::Pending);
        assert_eq!(
            a.judge_text(&text("abc", "abc", "x = abc")),
            TextVerdict::NotAllowed
        );
        assert!(a.allows_place(&["meta/x.bb"], None, true));
        assert!(!a.allows_place(&["meta/x.bb"], None, false));
        assert!(!a.allows_place(&["meta/x.py"], None, true));
    }

    #[test]
    fn a_place_allows_only_when_every_path_is_allowed() {
        let mut a = allowlist(false);
        a.paths = Some(Regex::new("^vendor/").unwrap());
        assert!(a.allows_place(&["vendor/a"], None, false));
        assert!(!a.allows_place(&["vendor/a", "src/a"], None, false));
        assert!(!a.allows_place(&[], None, false));
    }

    #[test]
    fn commits_compare_without_case() {
        let mut a = allowlist(false);
        a.commits = vec!["abcdef0123".into()];
        assert!(a.allows_place(&["x"], Some("ABCDEF0123"), false));
        assert!(!a.allows_place(&["x"], Some("abcdef0124"), false));
        assert!(!a.allows_place(&["x"], None, false));
        assert_eq!(a.judge_text(&text("s", "s", "s")), TextVerdict::NotAllowed);
    }
}
