//! The full-history source: which blobs to read, and where the blobs with findings sit in
//! history.
//!
//! Every blob is read once, whatever the number of commits and paths that hold it, so the cost
//! of an audit is the cost of reading the object database once. Attribution (which commit
//! introduced a blob, how many commits hold it, whether HEAD still does) is computed afterwards
//! and only for the blobs that had findings, from one `git log --raw` pass over the commits.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::Stdio;

use super::catfile::{self, BlobRef};
use super::{last_line, rfc3339, GitError, Repo, StderrTail};
use super::{CommitInfo, GitProvenance};

/// What a history scan covers.
#[derive(Debug, Clone, Default)]
pub struct HistoryOptions {
    /// Refs (or revisions) whose history is scanned; empty means every ref.
    pub refs: Vec<String>,
    /// Also scan blobs no ref reaches (dangling commits, dropped stashes, old packs).
    pub all_objects: bool,
}

/// The blobs a history scan reads, and facts about the repository for the summary.
pub struct Plan {
    /// Blobs in pack order, when git lists them (see [`plan`]).
    pub blobs: Vec<BlobRef>,
    /// With refs given (and not every object asked for): the only objects to scan.
    pub reachable: Option<HashSet<gix_hash::ObjectId>>,
    /// Objects the object database lists but git cannot read (corrupt), by id.
    pub unreadable: Vec<String>,
    /// Objects of a partial clone's history that were never fetched (and are not fetched now).
    pub not_fetched: Vec<String>,
    /// With every ref in scope, in a repository that is not a partial clone: objects of the
    /// trees of HEAD and of the branch tips that the object database lacks (a damaged
    /// repository). Only the tips are checked: checking every tree of history costs as much as
    /// the audit itself, and `--branch` audits, which walk every tree, find the rest.
    pub missing_at_tips: Vec<String>,
    pub refs: usize,
    pub commits: u64,
    /// The repository is a shallow clone: history before its cut-off is not there to scan.
    pub shallow: bool,
    /// Refs that do not point at a readable object, with git's error: left out of the scan.
    pub broken_refs: Vec<(String, String)>,
    /// The revisions scanned and attributed: the ones asked for, or with every ref in scope
    /// and some broken, the others by name (empty: every ref).
    pub revisions: Vec<String>,
    /// What git said when it could not walk the history to its roots (commits or trees
    /// missing): the commit count and the blobs read are then of the part it could walk.
    pub broken_history: Option<String>,
}

/// Says which blobs to read, and gathers what the summary tells of the repository.
///
/// With every ref in scope, all blobs of the object database are read; findings in blobs that
/// no ref reaches are dropped after attribution unless `all_objects` is set. With `refs` given,
/// only the blobs those refs reach are read. With `list`, git lists the blobs (one listing, pack
/// order) for [`catfile::read_blobs`]; without, the in-process reader finds them itself and
/// only needs [`Plan::reachable`].
pub fn plan(repo: &Repo, options: &HistoryOptions, list: bool) -> Result<Plan, GitError> {
    let catfile::Listing {
        mut blobs,
        unreadable,
    } = if list {
        catfile::list_blobs(repo)?
    } else {
        catfile::Listing::default()
    };
    let mut reachable_ids = None;
    let (broken_refs, revisions_used) = if options.refs.is_empty() {
        sound_refs(repo)
    } else {
        (Vec::new(), options.refs.clone())
    };
    let mut broken_history = None;
    if !options.refs.is_empty() && !options.all_objects {
        let mut args = vec!["rev-list", "--objects", "--no-object-names"];
        args.extend(revisions(&options.refs));
        let (reachable, broken) = rev_list_past_gaps(repo, args)?;
        broken_history = broken_history.or(broken);
        let ids: HashSet<gix_hash::ObjectId> = reachable
            .split(|&b| b == b'\n')
            .filter_map(|id| gix_hash::ObjectId::from_hex(id).ok())
            .collect();
        blobs.retain(|b| {
            gix_hash::ObjectId::from_hex(b.oid.as_bytes()).is_ok_and(|id| ids.contains(&id))
        });
        reachable_ids = Some(ids);
    }
    let refs = if options.refs.is_empty() {
        repo.repo.references()?.count()
    } else {
        options.refs.len()
    };
    let (commits, broken) = count_commits(repo, &revisions_used)?;
    broken_history = broken_history.or(broken);
    let partial = is_partial_clone(repo);
    let not_fetched = if partial {
        missing_objects(repo, &revisions_used)?
    } else {
        Vec::new()
    };
    let missing_at_tips = if !partial && options.refs.is_empty() {
        missing_at_tips(repo, &revisions_used)?
    } else {
        Vec::new()
    };
    Ok(Plan {
        blobs,
        reachable: reachable_ids,
        unreadable,
        not_fetched,
        missing_at_tips,
        refs,
        commits,
        shallow: repo.repo.is_shallow(),
        broken_refs,
        revisions: revisions_used,
        broken_history,
    })
}

/// With every ref in scope: the refs that do not point at a readable object (each with what is
/// wrong), and, when there are any, the others by name, HEAD included, so that one bad ref does
/// not stop git from walking the rest. (`--all` makes git give up on the first bad ref.)
fn sound_refs(repo: &Repo) -> (Vec<(String, String)>, Vec<String>) {
    // git lists the refs it can parse and warns about each one it cannot.
    let Ok(output) = repo
        .git()
        .args(["for-each-ref", "--format=%(refname) %(objectname)"])
        .output()
    else {
        return (Vec::new(), Vec::new());
    };
    let mut broken: Vec<(String, String)> = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter_map(|line| line.strip_prefix("warning: ignoring broken ref "))
        .map(|name| (name.trim().to_string(), "not a valid ref".to_string()))
        .collect();
    let mut sound = Vec::new();
    let listed = String::from_utf8_lossy(&output.stdout).into_owned();
    let head = repo
        .repo
        .head()
        .ok()
        .and_then(|h| h.target())
        .map(|oid| format!("HEAD {oid}"));
    for line in listed.lines().map(str::to_string).chain(head) {
        let Some((name, id)) = line.split_once(' ') else {
            continue;
        };
        let readable = git2::Oid::from_str(id)
            .and_then(|oid| repo.repo.find_object(oid, None))
            .is_ok();
        if readable {
            sound.push(name.to_string());
        } else {
            broken.push((name.to_string(), format!("object {id} is missing")));
        }
    }
    if broken.is_empty() {
        sound.clear();
    }
    (broken, sound)
}

/// Whether the repository is a partial clone (objects may live only on a promisor remote).
fn is_partial_clone(repo: &Repo) -> bool {
    let Ok(config) = repo.repo.config() else {
        return false;
    };
    if config.get_string("extensions.partialclone").is_ok() {
        return true;
    }
    let Ok(mut promisors) = config.entries(Some(r"remote\..*\.promisor")) else {
        return false;
    };
    let mut any = false;
    while let Some(Ok(entry)) = promisors.next() {
        any |= entry.value().is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    }
    any
}

/// The revision arguments for `refs`: every ref when empty; then `--` so no ref is taken for a path.
fn revisions(refs: &[String]) -> impl Iterator<Item = &str> {
    let all = refs.is_empty().then_some("--all");
    all.into_iter()
        .chain(refs.iter().map(String::as_str))
        .chain(std::iter::once("--"))
}

/// Objects the history of `refs` needs that are not in the local object database.
fn missing_objects(repo: &Repo, refs: &[String]) -> Result<Vec<String>, GitError> {
    if repo.repo.is_empty()? {
        return Ok(Vec::new());
    }
    missing_in_walk(repo, &[], revisions(refs))
}

/// What `git rev-list --objects` over `revisions` (with `options`) finds missing.
fn missing_in_walk<'a>(
    repo: &Repo,
    options: &[&'a str],
    revisions: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, GitError> {
    let mut args = vec![
        "rev-list",
        "--objects",
        "--no-object-names",
        "--missing=print",
    ];
    args.extend(options);
    args.extend(revisions);
    let out = repo.git_output(&args)?;
    Ok(out
        .split(|&b| b == b'\n')
        .filter_map(|line| line.strip_prefix(b"?"))
        .map(|oid| String::from_utf8_lossy(oid).into_owned())
        .collect())
}

/// Objects of the trees of HEAD and the branch tips among `sound` (every ref when empty) that
/// the object database lacks: git lists each tree once, so this costs milliseconds where a walk
/// of every tree in history costs seconds.
fn missing_at_tips(repo: &Repo, sound: &[String]) -> Result<Vec<String>, GitError> {
    if repo.repo.is_empty()? {
        return Ok(Vec::new());
    }
    let head_resolves = repo.repo.head().ok().and_then(|h| h.target()).is_some();
    let mut tips: Vec<&str> = Vec::new();
    if sound.is_empty() {
        tips.push("--branches");
        if head_resolves {
            tips.push("HEAD");
        }
    } else {
        tips.extend(
            sound
                .iter()
                .map(String::as_str)
                .filter(|r| r.starts_with("refs/heads/") || (*r == "HEAD" && head_resolves)),
        );
    }
    if tips.is_empty() {
        return Ok(Vec::new());
    }
    tips.push("--");
    missing_in_walk(repo, &["--no-walk"], tips)
}

/// How many commits `refs` reach, and what git said if some of them could not be read.
fn count_commits(repo: &Repo, refs: &[String]) -> Result<(u64, Option<String>), GitError> {
    if repo.repo.is_empty()? {
        return Ok((0, None));
    }
    let mut args = vec!["rev-list", "--count"];
    args.extend(revisions(refs));
    let (out, broken) = rev_list_past_gaps(repo, args)?;
    Ok((
        String::from_utf8_lossy(&out).trim().parse().unwrap_or(0),
        broken,
    ))
}

/// Runs `git rev-list …`; when git stops at a missing commit or tree, runs it again stepping
/// over what is missing, and returns git's complaint with that partial answer.
fn rev_list_past_gaps(
    repo: &Repo,
    mut args: Vec<&str>,
) -> Result<(Vec<u8>, Option<String>), GitError> {
    match repo.git_output(&args) {
        Ok(out) => Ok((out, None)),
        Err(GitError::Command { stderr, .. }) => {
            args.insert(1, "--missing=allow-any");
            let out = repo.git_output(&args).unwrap_or_default();
            Ok((out, Some(last_line(&stderr))))
        }
        Err(error) => Err(error),
    }
}

/// Where blobs sit in history, as far as git could walk it.
#[derive(Default)]
pub struct Attribution {
    /// Each wanted blob that a walked commit holds.
    pub provenance: HashMap<String, GitProvenance>,
    /// What git said if it stopped before the end of history (a missing commit or tree): a
    /// wanted blob absent from `provenance` may then still be in history, unplaced.
    pub stopped: Option<String>,
}

/// Where each of `wanted` (blob ids) sits in the history of `refs` (every ref when empty).
/// Blobs that no walked commit holds are absent from the result.
pub fn attribute(
    repo: &Repo,
    wanted: &HashSet<String>,
    refs: &[String],
) -> Result<Attribution, GitError> {
    let mut attribution = Attribution::default();
    if wanted.is_empty() || repo.repo.is_empty()? {
        return Ok(attribution);
    }
    let mut args: Vec<&str> = vec![
        "log",
        "--topo-order",
        "--reverse",
        "--raw",
        "-z",
        "--no-renames",
        "--no-abbrev",
        "--diff-merges=first-parent",
        "--root",
        "--format=%x1e%H %P%x1f%an%x1f%ae%x1f%at",
    ];
    args.extend(revisions(refs));
    let mut child = repo
        .git()
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| GitError::Spawn {
            args: args.join(" "),
            source,
        })?;
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = StderrTail::drain(&mut child);
    let mut walk = Walk::new(wanted);
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let mut token = Vec::new();
    let mut pending_change: Option<Change> = None;
    loop {
        token.clear();
        if reader.read_until(0, &mut token)? == 0 {
            break;
        }
        if token.last() == Some(&0) {
            token.pop();
        }
        let text = trim_newlines(&token);
        if let Some(change) = pending_change.take() {
            walk.apply(change, text);
        } else if let Some(header) = text.strip_prefix(b"\x1e") {
            walk.start_commit(header);
        } else if text.starts_with(b":") {
            pending_change = Change::parse(text);
        }
    }
    walk.finish_commit();
    let status = child.wait()?;
    let said = stderr.finish();
    if !status.success() {
        attribution.stopped = Some(last_line(&said));
    }
    // Whether HEAD holds a blob is known only if the walk got to HEAD.
    let head_state = repo
        .repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .and_then(|c| walk.states.get(&c.id().to_string()).cloned());
    let walked_to_head = attribution.stopped.is_none();
    for (blob, mut found) in walk.found {
        found.paths_sorted = found.paths.into_iter().collect();
        let in_head = walked_to_head.then(|| {
            head_state
                .as_ref()
                .is_some_and(|state| state.iter().any(|(_, b)| *b == blob))
        });
        attribution.provenance.insert(
            blob.clone(),
            GitProvenance {
                blob,
                commit: found.introduced,
                commits: Some(found.commits),
                paths: found.paths_sorted,
                in_head,
                ..GitProvenance::default()
            },
        );
    }
    Ok(attribution)
}

fn trim_newlines(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| b != b'\n')
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// One line of `--raw` output, waiting for its path.
struct Change {
    new_blob: String,
    deleted: bool,
}

impl Change {
    /// Parses `:100644 100644 <old> <new> M`.
    fn parse(line: &[u8]) -> Option<Change> {
        let line = std::str::from_utf8(line).ok()?;
        let fields: Vec<&str> = line.split(' ').collect();
        let [_, _, _, new, status] = fields.as_slice() else {
            return None;
        };
        Some(Change {
            new_blob: new.to_string(),
            deleted: status.starts_with('D'),
        })
    }
}

/// What is known so far of one wanted blob.
#[derive(Default)]
struct Found {
    introduced: Option<CommitInfo>,
    commits: u64,
    paths: BTreeSet<String>,
    paths_sorted: Vec<String>,
}

/// Replays history oldest first, tracking for each commit which wanted blobs its tree holds
/// and at which paths (only those: the state stays tiny whatever the repository's size).
struct Walk<'a> {
    wanted: &'a HashSet<String>,
    /// Commit → (path, blob) pairs of wanted blobs in its tree; empty states are not stored.
    states: HashMap<String, Vec<(String, String)>>,
    found: HashMap<String, Found>,
    current: Option<Current>,
}

struct Current {
    meta: CommitInfo,
    state: Vec<(String, String)>,
}

impl<'a> Walk<'a> {
    fn new(wanted: &'a HashSet<String>) -> Self {
        Walk {
            wanted,
            states: HashMap::new(),
            found: HashMap::new(),
            current: None,
        }
    }

    /// `<id> <parents…>\x1f<author>\x1f<email>\x1f<time>`.
    fn start_commit(&mut self, header: &[u8]) {
        self.finish_commit();
        let header = String::from_utf8_lossy(header);
        let mut parts = header.split('\x1f');
        let ids = parts.next().unwrap_or_default();
        let author_name = parts.next().unwrap_or_default().to_string();
        let author_email = parts.next().unwrap_or_default().to_string();
        let time: i64 = parts.next().unwrap_or_default().trim().parse().unwrap_or(0);
        let mut ids = ids.split(' ');
        let id = ids.next().unwrap_or_default().to_string();
        let state = ids
            .next()
            .and_then(|first_parent| self.states.get(first_parent))
            .cloned()
            .unwrap_or_default();
        self.current = Some(Current {
            meta: CommitInfo {
                id,
                author_name,
                author_email,
                time,
                date: rfc3339(time),
                path: String::new(),
            },
            state,
        });
    }

    fn apply(&mut self, change: Change, path: &[u8]) {
        let Some(current) = self.current.as_mut() else {
            return;
        };
        let path = String::from_utf8_lossy(path).into_owned();
        current.state.retain(|(p, _)| *p != path);
        if change.deleted || !self.wanted.contains(&change.new_blob) {
            return;
        }
        let found = self.found.entry(change.new_blob.clone()).or_default();
        if found.introduced.is_none() {
            found.introduced = Some(CommitInfo {
                path: path.clone(),
                ..current.meta.clone()
            });
        }
        current.state.push((path, change.new_blob));
    }

    fn finish_commit(&mut self) {
        let Some(current) = self.current.take() else {
            return;
        };
        let mut counted: Vec<&str> = Vec::with_capacity(current.state.len());
        for (path, blob) in &current.state {
            let found = self.found.entry(blob.clone()).or_default();
            found.paths.insert(path.clone());
            if !counted.contains(&blob.as_str()) {
                counted.push(blob);
                found.commits += 1;
            }
        }
        if !current.state.is_empty() {
            self.states.insert(current.meta.id, current.state);
        }
    }
}
