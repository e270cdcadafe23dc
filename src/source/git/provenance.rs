//! Where a secret found in git sits in history: what the git sources tell of each blob and
//! commit, for findings to carry.

use serde::{Deserialize, Serialize};

/// Where a secret found in git sits in the repository's history.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GitProvenance {
    /// The blob the secret was found in.
    pub blob: String,
    /// The commit that introduced the secret: the first commit (oldest first) whose diff
    /// against its first parent adds the blob; for range scans, the commit whose diff adds the line.
    pub commit: Option<CommitInfo>,
    /// How many commits hold the blob in their tree (history scans).
    pub commits: Option<u64>,
    /// Every path the blob has had in those commits, sorted.
    pub paths: Vec<String>,
    /// Whether HEAD still holds the blob; `false` means the secret lives only in history,
    /// which still needs the key rotated.
    pub in_head: Option<bool>,
    /// The blob is reachable from no ref (found with `--all-objects`).
    pub unreachable: bool,
    /// The history walk stopped (a commit or tree is missing) before it reached the blob:
    /// which commits hold it, and whether HEAD does, is unknown.
    pub unplaced: bool,
}

/// A commit, as findings cite it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    pub id: String,
    pub author_name: String,
    pub author_email: String,
    /// Author time, seconds since the Unix epoch.
    pub time: i64,
    /// The author date in UTC, RFC 3339.
    pub date: String,
    /// The path of the file in this commit.
    pub path: String,
}
