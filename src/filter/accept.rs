//! Inputs the configuration accepts as unread: a known bomb, a deliberately truncated test
//! archive, a fixture no reader opens. Such an input is still read as far as it can be and still
//! listed, with what accepts it, but it no longer makes the scan incomplete, so a CI gate on a
//! repository that holds one can pass while saying what it did not read.

use std::path::Path;

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::allowlist::Allowlist;
use crate::source::{Origin, SkipReason};

/// One `[[accept]]` entry of the configuration, compiled.
#[derive(Debug, Clone)]
pub struct Accept {
    /// The gitignore-style glob, as written.
    glob: String,
    /// Why it is accepted, as the configuration says.
    reason: String,
    matcher: Gitignore,
}

impl Accept {
    /// Compiles the entry for `glob`, rooted at `root` (the configuration's directory).
    pub fn new(root: &Path, glob: &str, reason: &str) -> Result<Accept, String> {
        let mut builder = GitignoreBuilder::new(root);
        builder
            .add_line(None, glob)
            .map_err(|e| format!("bad glob `{glob}`: {e}"))?;
        let matcher = builder.build().map_err(|e| format!("bad glob: {e}"))?;
        Ok(Accept {
            glob: glob.to_string(),
            reason: reason.to_string(),
            matcher,
        })
    }

    /// Whether the input at `path` (relative to `base`) is one this entry accepts.
    fn accepts(&self, path: &str, base: &Path) -> bool {
        self.matcher
            .matched_path_or_any_parents(base.join(path), false)
            .is_ignore()
    }
}

/// Marks as accepted each skipped input that made the scan incomplete and whose path (the
/// file, blob or repository path it is in or under) an `[[accept]]` entry, or a path glob of
/// an allowlist for every rule, covers.
pub fn apply(
    skipped: &mut [(Origin, SkipReason)],
    accepts: &[Accept],
    allowlists: &[Allowlist],
    base: &Path,
) {
    if accepts.is_empty() && allowlists.is_empty() {
        return;
    }
    for (origin, reason) in skipped.iter_mut() {
        if !reason.makes_scan_incomplete() {
            continue;
        }
        let path = origin.outermost().display_path();
        let by = accepts
            .iter()
            .find(|a| a.accepts(&path, base))
            .map(|a| format!("[[accept]] `{}`: {}", a.glob, a.reason))
            .or_else(|| allowlists.iter().find_map(|a| a.allows_path(&path, base)));
        if let Some(by) = by {
            let why = reason.to_string();
            *reason = SkipReason::Accepted { why, by };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accepted_path_no_longer_makes_the_scan_incomplete_and_says_why() {
        let root = Path::new("/repo");
        let accepts = [Accept::new(root, "t/t5000/*.tar", "truncated on purpose").unwrap()];
        let cut = Origin::file(Path::new("t/t5000/huge.tar"));
        let other = Origin::file(Path::new("src/data.tar"));
        let unreadable = SkipReason::Unreadable {
            error: "damaged tar".into(),
        };
        let mut skipped = vec![
            (cut.inside("a/b.txt"), unreadable.clone()),
            (cut.clone(), SkipReason::Binary),
            (other.clone(), unreadable.clone()),
        ];
        apply(&mut skipped, &accepts, &[], root);
        assert_eq!(
            skipped[0].1,
            SkipReason::Accepted {
                why: "cannot read: damaged tar".into(),
                by: "[[accept]] `t/t5000/*.tar`: truncated on purpose".into(),
            }
        );
        assert!(!skipped[0].1.makes_scan_incomplete());
        assert_eq!(skipped[1].1, SkipReason::Binary);
        assert_eq!(skipped[2].1, unreadable);
        // The text a report gives reads back as the same reason.
        let text = skipped[0].1.to_string();
        assert_eq!(
            SkipReason::from_report("accepted", &text),
            Some(skipped[0].1.clone())
        );
    }

    #[test]
    fn a_path_every_rule_allows_is_accepted_as_unread() {
        let root = Path::new("/repo");
        let allow = Allowlist::new(root, None, &["fixtures/".into()], &[], &[]).unwrap();
        let one_rule =
            Allowlist::new(root, Some("aws".into()), &["vendor/".into()], &[], &[]).unwrap();
        let unreadable = SkipReason::Unreadable { error: "no".into() };
        let mut skipped = vec![
            (
                Origin::file(Path::new("fixtures/bomb.zst")),
                unreadable.clone(),
            ),
            (Origin::file(Path::new("vendor/x.zip")), unreadable.clone()),
        ];
        apply(&mut skipped, &[], &[allow, one_rule], root);
        assert!(
            matches!(&skipped[0].1, SkipReason::Accepted { by, .. } if by.contains("fixtures/"))
        );
        assert_eq!(skipped[1].1, unreadable);
    }
}
