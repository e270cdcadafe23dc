//! The diff sources: lines that staged changes, or the commits of a range, add.
//!
//! A changed file is scanned whole, from its new blob, and only findings on added lines are
//! kept: the matcher sees the context around an added line (the key name on the line above, a
//! key ID three lines up) while unchanged secrets stay out of a pull request's report.

use std::ops::Range;
use std::path::PathBuf;

use git2::{Delta, DiffOptions, Oid, Repository};

use super::CommitInfo;
use super::{rfc3339, GitError, Repo};
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
        Origin::git(self.path.clone(), self.blob.to_string())
    }
}

/// What a diff source found to scan, and what it could not read.
#[derive(Default)]
pub struct Changes {
    pub blobs: Vec<ChangedBlob>,
    pub skipped: Vec<(Origin, SkipReason)>,
    /// Commits in the range (range scans).
    pub commits: u64,
    /// The changes are the staged ones, not a range's.
    pub staged: bool,
}

/// The lines staged in the index, against HEAD (or against nothing before the first commit).
///
/// The list of staged files comes from `git diff-index --cached`: git reads its index with a
/// fast checksum, where libgit2 spends most of a 100,000-file repository's budget verifying
/// it; the blobs and line diffs come from git2.
pub fn staged(repo: &Repo) -> Result<Changes, GitError> {
    let repository = &repo.repo;
    let base = match repository.head().and_then(|h| h.peel_to_tree()) {
        Ok(tree) => tree.id().to_string(),
        Err(e)
            if e.code() == git2::ErrorCode::UnbornBranch
                || e.code() == git2::ErrorCode::NotFound =>
        {
            EMPTY_TREE.to_string()
        }
        Err(e) => return Err(e.into()),
    };
    let raw = repo.git_output(&[
        "diff-index",
        "--cached",
        "--raw",
        "-z",
        "-M",
        "--no-abbrev",
        &base,
        "--",
    ])?;
    let mut changes = Changes {
        staged: true,
        ..Changes::default()
    };
    let files = parse_raw_diff(&raw);
    collect(repository, files, None, &mut changes);
    Ok(changes)
}

/// The id of git's empty tree, the base of a repository's first commit.
const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/// Parses `--raw -z` output: `:<old mode> <new mode> <old id> <new id> <status>\0<path>\0`,
/// with a second path (the new one) after a rename or copy.
pub fn parse_raw_diff(raw: &[u8]) -> Vec<FileChange> {
    let mut files = Vec::new();
    let mut tokens = raw.split(|&b| b == 0);
    while let Some(header) = tokens.next() {
        let Some(mut path) = tokens.next() else { break };
        let renamed = header
            .iter()
            .rev()
            .find(|b| b.is_ascii_alphabetic())
            .is_some_and(|&s| s == b'R' || s == b'C');
        if renamed {
            let Some(new_path) = tokens.next() else { break };
            path = new_path;
        }
        let header = String::from_utf8_lossy(header);
        let fields: Vec<&str> = header.trim_start_matches(':').split(' ').collect();
        let [old_mode, new_mode, old_id, new_id, status] = fields.as_slice() else {
            continue;
        };
        let (Ok(old_id), Ok(new_id)) = (Oid::from_str(old_id), Oid::from_str(new_id)) else {
            continue;
        };
        files.push(FileChange {
            added_or_changed: !status.starts_with('D'),
            path: PathBuf::from(String::from_utf8_lossy(path).into_owned()),
            old: (!old_id.is_zero() && is_regular_file(old_mode)).then_some(old_id),
            new: is_regular_file(new_mode).then_some(new_id),
        });
    }
    files
}

/// Whether a git mode (`100644`) is a regular file (not a symlink or submodule commit).
fn is_regular_file(mode: &str) -> bool {
    mode == "100644" || mode == "100755"
}

/// One file in a diff, as far as scanning cares.
pub struct FileChange {
    added_or_changed: bool,
    path: PathBuf,
    /// The file's previous content, when it was a regular file.
    old: Option<Oid>,
    /// The new content, when it is a regular file.
    new: Option<Oid>,
}

/// The files of a git2 diff.
fn file_changes(diff: &git2::Diff<'_>) -> Vec<FileChange> {
    let regular = |mode| matches!(mode, git2::FileMode::Blob | git2::FileMode::BlobExecutable);
    diff.deltas()
        .map(|delta| {
            let (old, new) = (delta.old_file(), delta.new_file());
            FileChange {
                added_or_changed: matches!(
                    delta.status(),
                    Delta::Added
                        | Delta::Modified
                        | Delta::Copied
                        | Delta::Renamed
                        | Delta::Typechange
                ),
                path: new.path().map(PathBuf::from).unwrap_or_default(),
                old: (!old.id().is_zero() && regular(old.mode())).then_some(old.id()),
                new: regular(new.mode()).then_some(new.id()),
            }
        })
        .collect()
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
            .map_err(|error| {
                GitError::Range(format!(
                    "cannot scan {spec}: `{name}` is not a readable commit in this repository \
                     ({}).{shallow_hint}",
                    error.message()
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
        let mut diff = repository.diff_tree_to_tree(
            parent_tree.as_ref(),
            Some(&tree),
            Some(&mut diff_options()),
        )?;
        // A moved file adds only what changed in it.
        diff.find_similar(Some(git2::DiffFindOptions::new().renames(true)))?;
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
        let first_new = changes.blobs.len();
        collect(repository, file_changes(&diff), Some(info), &mut changes);
        for parent in commit.parents().skip(1) {
            keep_lines_new_to(repository, &parent.tree()?, &mut changes.blobs[first_new..]);
        }
        retain_nonempty(&mut changes.blobs, first_new);
    }
    if changes.commits == 0 {
        return Err(GitError::Range(format!(
            "cannot scan {spec}: no commit is reachable from {head_name} and not from {base_name}"
        )));
    }
    Ok(changes)
}

/// For a merge: keeps only the lines that `other_parent` did not have either. A line the merge
/// takes from another parent (say, the base branch merged into a pull request) was added by
/// that parent's history, not by the merge.
fn keep_lines_new_to(
    repository: &Repository,
    other_parent: &git2::Tree<'_>,
    blobs: &mut [ChangedBlob],
) {
    for changed in blobs {
        let Ok(entry) = other_parent.get_path(&changed.path) else {
            continue; // the other parent lacks the file: everything stays added
        };
        if entry.id() == changed.blob {
            changed.added.clear();
            continue;
        }
        let (Ok(old), Ok(new)) = (
            repository.find_blob(entry.id()),
            repository.find_blob(changed.blob),
        ) else {
            continue;
        };
        if let Ok(added) = added_lines(old.content(), new.content()) {
            changed.added = intersect(&changed.added, &added);
        }
    }
}

/// Drops the blobs from `start` on whose added lines have all been taken away.
fn retain_nonempty(blobs: &mut Vec<ChangedBlob>, start: usize) {
    let mut index = start;
    while index < blobs.len() {
        if blobs[index].added.is_empty() {
            blobs.remove(index);
        } else {
            index += 1;
        }
    }
}

/// The line ranges in both `a` and `b` (each sorted and disjoint).
fn intersect(a: &[Range<u64>], b: &[Range<u64>]) -> Vec<Range<u64>> {
    let mut out = Vec::new();
    for x in a {
        for y in b {
            let (start, end) = (x.start.max(y.start), x.end.min(y.end));
            if start < end {
                out.push(start..end);
            }
        }
    }
    out
}

fn diff_options() -> DiffOptions {
    let mut options = DiffOptions::new();
    options
        .context_lines(0)
        .include_typechange(true)
        .ignore_submodules(true);
    options
}

/// Adds the added lines of each changed regular file to `changes`.
fn collect(
    repository: &Repository,
    files: Vec<FileChange>,
    commit: Option<CommitInfo>,
    changes: &mut Changes,
) {
    for file in files {
        // Deletions add nothing; symlinks and submodule commits carry no content to scan.
        let (true, Some(new_id)) = (file.added_or_changed, file.new) else {
            continue;
        };
        let path = file.path;
        let origin = Origin::git(path.clone(), new_id.to_string());
        let new_blob = match repository.find_blob(new_id) {
            Ok(blob) => blob,
            Err(e) => {
                changes.skipped.push((origin, missing_object(&e)));
                continue;
            }
        };
        let old_blob = match file.old.map(|id| repository.find_blob(id)).transpose() {
            Ok(blob) => blob,
            Err(e) => {
                changes.skipped.push((origin, missing_object(&e)));
                continue;
            }
        };
        let added = match &old_blob {
            // A new file, or a binary one (no line hunks): all of it counts as added.
            None => Vec::from([WHOLE_FILE]),
            Some(_) if new_blob.is_binary() => Vec::from([WHOLE_FILE]),
            Some(old_blob) => match added_lines(old_blob.content(), new_blob.content()) {
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
            blob: new_id,
            added,
            commit,
        });
    }
}

/// The 1-based line ranges of `new` that are not in `old`.
///
/// Diffed as plain buffers: diffing blobs would make libgit2 look up diff drivers in
/// gitattributes, which loads (and checksums) the whole index, the largest cost of a staged
/// scan in a big repository.
pub fn added_lines(old: &[u8], new: &[u8]) -> Result<Vec<Range<u64>>, git2::Error> {
    let patch = git2::Patch::from_buffers(old, None, new, None, Some(&mut diff_options()))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_diffs_parse_with_renames_and_odd_paths() {
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let z = "0".repeat(40);
        let raw = format!(
            ":000000 100644 {z} {a} A\0new file.txt\0:100644 100644 {a} {b} R087\0old.env\0moved.env\0\
             :100644 000000 {a} {z} D\0gone\0:160000 160000 {a} {b} M\0vendor/sub\0"
        );
        let files = parse_raw_diff(raw.as_bytes());
        assert_eq!(files.len(), 4);
        assert_eq!(files[0].path, PathBuf::from("new file.txt"));
        assert!(files[0].old.is_none() && files[0].new.is_some());
        assert_eq!(files[1].path, PathBuf::from("moved.env"));
        assert_eq!(files[1].old.unwrap().to_string(), a);
        assert!(!files[2].added_or_changed);
        assert!(
            files[3].new.is_none(),
            "a submodule commit has no content to scan"
        );
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)] // one-range lists are the point here
    fn line_ranges_intersect() {
        assert_eq!(intersect(&[1..10, 20..30], &[5..25]), vec![5..10, 20..25]);
        assert!(intersect(&[1..3], &[3..5]).is_empty());
    }
}
