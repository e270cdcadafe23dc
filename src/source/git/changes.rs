//! The diff sources: lines that staged changes, or the commits of a range, add.
//!
//! A changed file is scanned whole, from its new blob, and only findings on added lines are
//! kept: the matcher sees the context around an added line (the key name on the line above, a
//! key ID three lines up) while unchanged secrets stay out of a pull request's report.

use std::ops::Range;
use std::path::PathBuf;

use git2::{Delta, DiffOptions, Oid, Repository};

use super::{rfc3339, GitError, Repo};
use crate::finding::CommitInfo;
use crate::source::{Origin, SkipReason};

/// Every line of a file: what a new or binary file adds.
const WHOLE_FILE: Range<u64> = 1..u64::MAX;

/// One file version that a change adds lines to.
pub struct ChangedBlob {
    pub path: PathBuf,
    pub blob: Oid,
    /// Added lines, 1-based, as half-open ranges.
    pub added: Vec<Range<u64>>,
    /// The commit that adds them (range scans); `None` for staged changes.
    pub commit: Option<CommitInfo>,
}

impl ChangedBlob {
    /// Whether `line` is one of the added lines.
    pub fn adds_line(&self, line: u64) -> bool {
        self.added.iter().any(|r| r.contains(&line))
    }

    /// The origin findings in this blob carry.
    pub fn origin(&self) -> Origin {
        Origin::Git {
            path: self.path.clone(),
            blob: self.blob.to_string(),
        }
    }
}

/// What a diff source found to scan, and what it could not read.
#[derive(Default)]
pub struct Changes {
    pub blobs: Vec<ChangedBlob>,
    pub skipped: Vec<(Origin, SkipReason)>,
    /// Commits in the range (range scans).
    pub commits: u64,
}

/// The lines staged in the index, against HEAD (or against nothing before the first commit).
pub fn staged(repo: &Repo) -> Result<Changes, GitError> {
    let repository = &repo.repo;
    let head_tree = match repository.head() {
        Ok(head) => Some(head.peel_to_tree()?),
        Err(e)
            if e.code() == git2::ErrorCode::UnbornBranch
                || e.code() == git2::ErrorCode::NotFound =>
        {
            None
        }
        Err(e) => return Err(e.into()),
    };
    let index = repository.index()?;
    let diff = repository.diff_tree_to_index(
        head_tree.as_ref(),
        Some(&index),
        Some(&mut diff_options()),
    )?;
    let mut changes = Changes::default();
    collect(repository, &diff, None, &mut changes);
    Ok(changes)
}

/// The lines added by the commits reachable from the range's end and not from its start,
/// each commit against its first parent.
pub fn range(repo: &Repo, spec: &str) -> Result<Changes, GitError> {
    let repository = &repo.repo;
    let (base_name, head_name) = match spec.split_once("..") {
        Some((base, head)) if !base.is_empty() && !head.starts_with('.') => {
            (base, if head.is_empty() { "HEAD" } else { head })
        }
        _ => {
            return Err(GitError::Range(format!(
                "`{spec}` is not a range: give BASE..HEAD, e.g. origin/main..HEAD"
            )))
        }
    };
    let shallow_hint = if repository.is_shallow() {
        " This clone is shallow: fetch the base and enough history (actions/checkout with \
         `fetch-depth: 0`, or `git fetch --deepen=N origin BASE`)."
    } else {
        ""
    };
    let resolve = |name: &str| {
        repository
            .revparse_single(name)
            .and_then(|o| o.peel_to_commit())
            .map_err(|_| {
                GitError::Range(format!(
                    "cannot scan {spec}: `{name}` is not a commit in this repository.{shallow_hint}"
                ))
            })
    };
    let base = resolve(base_name)?;
    let head = resolve(head_name)?;
    if base.id() == head.id() {
        return Err(GitError::Range(format!(
            "cannot scan {spec}: it is empty because {base_name} and {head_name} are the same commit \
             ({}); in CI, check out the pull request's head and fetch its base.",
            base.id()
        )));
    }
    if repository.merge_base(base.id(), head.id()).is_err() {
        return Err(GitError::Range(format!(
            "cannot scan {spec}: {base_name} and {head_name} share no history here, so what the range \
             adds cannot be computed.{shallow_hint}"
        )));
    }
    let mut walk = repository.revwalk()?;
    walk.push(head.id())?;
    walk.hide(base.id())?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
    let mut changes = Changes::default();
    for id in walk {
        let commit = repository.find_commit(id?)?;
        changes.commits += 1;
        let parent_tree = match commit.parent(0) {
            Ok(parent) => Some(parent.tree()?),
            Err(_) => None,
        };
        let tree = commit.tree()?;
        let diff = repository.diff_tree_to_tree(
            parent_tree.as_ref(),
            Some(&tree),
            Some(&mut diff_options()),
        )?;
        let author = commit.author();
        let time = author.when().seconds();
        let info = CommitInfo {
            id: commit.id().to_string(),
            author_name: String::from_utf8_lossy(author.name_bytes()).into_owned(),
            author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
            time,
            date: rfc3339(time),
            path: String::new(),
        };
        collect(repository, &diff, Some(info), &mut changes);
    }
    if changes.commits == 0 {
        return Err(GitError::Range(format!(
            "cannot scan {spec}: no commit is reachable from {head_name} and not from {base_name}"
        )));
    }
    Ok(changes)
}

fn diff_options() -> DiffOptions {
    let mut options = DiffOptions::new();
    options
        .context_lines(0)
        .include_typechange(true)
        .ignore_submodules(true);
    options
}

/// Adds the added lines of each file in `diff` to `changes`.
fn collect(
    repository: &Repository,
    diff: &git2::Diff<'_>,
    commit: Option<CommitInfo>,
    changes: &mut Changes,
) {
    for delta in diff.deltas() {
        if !matches!(
            delta.status(),
            Delta::Added | Delta::Modified | Delta::Copied | Delta::Renamed | Delta::Typechange
        ) {
            continue;
        }
        let new = delta.new_file();
        // Submodule commits (mode 160000) and symlinks carry no file content to scan.
        if !matches!(
            new.mode(),
            git2::FileMode::Blob | git2::FileMode::BlobExecutable
        ) {
            continue;
        }
        let path = new.path().map(PathBuf::from).unwrap_or_default();
        let origin = Origin::Git {
            path: path.clone(),
            blob: new.id().to_string(),
        };
        let new_blob = match repository.find_blob(new.id()) {
            Ok(blob) => blob,
            Err(e) => {
                changes.skipped.push((origin, missing_object(&e)));
                continue;
            }
        };
        let old = delta.old_file();
        let old_blob = if old.id().is_zero()
            || !matches!(
                old.mode(),
                git2::FileMode::Blob | git2::FileMode::BlobExecutable
            ) {
            None
        } else {
            match repository.find_blob(old.id()) {
                Ok(blob) => Some(blob),
                Err(e) => {
                    changes.skipped.push((origin, missing_object(&e)));
                    continue;
                }
            }
        };
        let added = match &old_blob {
            // A new file, or a binary one (no line hunks): all of it counts as added.
            None => Vec::from([WHOLE_FILE]),
            Some(_) if new_blob.is_binary() => Vec::from([WHOLE_FILE]),
            Some(old_blob) => match added_lines(old_blob, &new_blob) {
                Ok(added) => added,
                Err(e) => {
                    let error = format!("cannot diff: {}", e.message());
                    changes
                        .skipped
                        .push((origin, SkipReason::Unreadable { error }));
                    continue;
                }
            },
        };
        if added.is_empty() {
            continue;
        }
        let commit = commit.clone().map(|c| CommitInfo {
            path: path.to_string_lossy().into_owned(),
            ..c
        });
        changes.blobs.push(ChangedBlob {
            path,
            blob: new.id(),
            added,
            commit,
        });
    }
}

/// The 1-based line ranges of `new` that are not in `old`.
fn added_lines(old: &git2::Blob<'_>, new: &git2::Blob<'_>) -> Result<Vec<Range<u64>>, git2::Error> {
    let patch = git2::Patch::from_blobs(old, None, new, None, Some(&mut diff_options()))?;
    let mut added = Vec::new();
    for h in 0..patch.num_hunks() {
        let (hunk, _) = patch.hunk(h)?;
        let start = u64::from(hunk.new_start());
        let lines = u64::from(hunk.new_lines());
        if lines > 0 {
            added.push(start..start + lines);
        }
    }
    Ok(added)
}

/// The skip reason for an object git2 could not load: never fetched, only reported.
fn missing_object(error: &git2::Error) -> SkipReason {
    SkipReason::Unreadable {
        error: format!(
            "object not present locally (a partial clone does not fetch it): {}",
            error.message()
        ),
    }
}
