//! Audits of many repositories (`keyhound audit`): the list, the clones, the shards, and one
//! result across them all, in which a key found in seven repositories is one finding.
//!
//! Each repository's history is scanned on its own ([`scan_history`]), a bounded number at once;
//! their findings and skips are tagged with the repository ([`Origin::in_repo`]) and joined.
//! A repository that cannot be opened, cloned or read is a skipped input that makes the audit
//! incomplete; the others are audited all the same.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::cache::Cache;
use crate::filter;
use crate::rules::RuleSet;
use crate::scan::{scan_history, Progress, ReadOptions, ScanResult};
use crate::source::git::history::HistoryOptions;
use crate::source::git::{last_line, Repo};
use crate::source::{AuditStats, CacheStats, GitStats, Origin, SkipReason};

/// One repository of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoEntry {
    /// The line as written (without comment and surrounding blanks): what shards hash, so a
    /// shard holds the same repositories however the list is ordered.
    pub spec: String,
    /// Where the repository is.
    pub location: RepoLocation,
    /// The repository as reports name it: the absolute path of a local one, the URL of a
    /// remote one without any user name or password it holds.
    pub name: String,
}

/// Where a listed repository is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RepoLocation {
    /// A repository on this machine (any directory inside it, or a bare repository).
    Path(PathBuf),
    /// A clone URL (`https://…`, `ssh://…`, `file://…`, or scp-like `user@host:path`).
    Url(String),
}

impl RepoLocation {
    /// See [`RepoEntry::name`].
    fn name(&self) -> String {
        match self {
            RepoLocation::Path(path) => std::fs::canonicalize(path)
                .unwrap_or_else(|_| path.clone())
                .to_string_lossy()
                .into_owned(),
            RepoLocation::Url(url) => without_credentials(url),
        }
    }
}

/// Reads a repository list: one repository a line, `#` starting a comment. Relative paths are
/// relative to `base` (the list's directory). A repository listed twice is audited once.
pub fn parse_list(text: &str, base: &Path) -> Vec<RepoEntry> {
    let mut seen = HashSet::new();
    let mut entries = Vec::new();
    for line in text.lines() {
        let spec = line
            .split_once('#')
            .map_or(line, |(before, _)| before)
            .trim();
        if spec.is_empty() {
            continue;
        }
        let location = if is_url(spec) {
            RepoLocation::Url(spec.to_string())
        } else {
            RepoLocation::Path(base.join(spec))
        };
        if seen.insert(location.clone()) {
            entries.push(RepoEntry {
                spec: spec.to_string(),
                name: location.name(),
                location,
            });
        } else {
            tracing::warn!("{spec} is listed more than once; it is audited once");
        }
    }
    entries
}

/// Whether a list entry is a clone URL rather than a path: a scheme (`https://`), or git's
/// scp-like `user@host:path` (a `:` before any `/`, after a host name).
fn is_url(spec: &str) -> bool {
    if spec.contains("://") {
        return true;
    }
    match spec.split_once(':') {
        Some((host, _)) => !host.contains('/') && host.contains('@'),
        None => false,
    }
}

/// `url` without the user name and password of its authority, which must not reach a report.
fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// One of N disjoint parts of a repository list (`--shard K/N`): N processes, each given
/// another K, audit every repository exactly once between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Whether this shard audits `entry`: decided by a hash of the entry as written, so it
    /// does not depend on the list's order or on the machine.
    pub fn holds(&self, entry: &RepoEntry) -> bool {
        let digest = Sha256::digest(entry.spec.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first) % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not K/N (such as 0/4)"))?;
        let parse = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("`{text}` is not K/N (such as 0/4)"))
        };
        let (index, count) = (parse(k)?, parse(n)?);
        if count == 0 || index >= count {
            return Err(format!(
                "shard `{text}`: K must be at least 0 and below N (shards 0/{count} to {}/{count})",
                count.saturating_sub(1)
            ));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// How an audit runs.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    pub history: HistoryOptions,
    pub read: ReadOptions,
    /// Scanning threads for each repository (0: one per core).
    pub threads: usize,
    /// Repositories audited at once.
    pub at_once: usize,
    /// Where clones of URL entries are kept between audits (None: a temporary directory,
    /// deleted after each repository).
    pub keep_clones: Option<PathBuf>,
    /// The cache file, and the digest of the rule set its records are for.
    pub cache: Option<(PathBuf, String)>,
}

/// Live counters of an audit, for a progress display.
#[derive(Debug, Default)]
pub struct AuditProgress {
    pub repos_total: AtomicU64,
    pub repos_done: AtomicU64,
    /// Objects and bytes of every repository together.
    pub scan: Progress,
}

/// Audits the history of every repository of `entries`, `options.at_once` at a time, and joins
/// the results in one, its findings in report order.
pub fn audit(
    rules: &RuleSet,
    entries: &[RepoEntry],
    options: &AuditOptions,
    progress: &AuditProgress,
) -> ScanResult {
    let started = Instant::now();
    progress
        .repos_total
        .store(entries.len() as u64, Ordering::Relaxed);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<ScanResult, String>>>> =
        Mutex::new((0..entries.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..options.at_once.clamp(1, entries.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(entry) = entries.get(i) else { break };
                let audited = audit_one(rules, entry, options, &progress.scan);
                if let Err(error) = &audited {
                    tracing::warn!("{}: not audited: {error}", entry.name);
                }
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(audited);
                progress.repos_done.fetch_add(1, Ordering::Relaxed);
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut joined = ScanResult::default();
    let mut audit = AuditStats::default();
    for (entry, audited) in entries.iter().zip(results) {
        let repo: Arc<str> = Arc::from(entry.name.as_str());
        match audited.expect("every entry is audited") {
            Ok(result) => {
                audit.repositories += 1;
                add_repository(&mut joined, result, &repo);
            }
            Err(error) => {
                audit.failed += 1;
                let origin = Origin::git(PathBuf::new(), String::new()).in_repo(&repo);
                let reason = SkipReason::RepositoryFailed { error };
                joined.stats.skipped.push((origin, reason));
            }
        }
    }
    filter::sort(&mut joined.findings);
    joined.stats.skipped.sort();
    joined.stats.audit = Some(audit);
    joined.stats.elapsed = started.elapsed();
    joined
}

/// Adds one repository's result to the audit's, every place tagged with the repository.
fn add_repository(joined: &mut ScanResult, result: ScanResult, repo: &Arc<str>) {
    let ScanResult {
        findings,
        suppressed,
        stats,
        ..
    } = result;
    joined.findings.extend(findings.into_iter().map(|mut f| {
        f.origin = f.origin.in_repo(repo);
        f
    }));
    joined
        .suppressed
        .extend(suppressed.into_iter().map(|mut s| {
            s.finding.origin = s.finding.origin.in_repo(repo);
            s
        }));
    let total = &mut joined.stats;
    total.files_scanned += stats.files_scanned;
    total.bytes_scanned += stats.bytes_scanned;
    total.skipped.extend(
        stats
            .skipped
            .into_iter()
            .map(|(origin, reason)| (origin.in_repo(repo), reason)),
    );
    if let Some(cache) = stats.cache {
        let sum = total.cache.get_or_insert_with(CacheStats::default);
        sum.blobs_scanned += cache.blobs_scanned;
        sum.blobs_from_cache += cache.blobs_from_cache;
    }
    if let Some(git) = stats.git {
        let sum = total.git.get_or_insert_with(GitStats::default);
        sum.refs += git.refs;
        sum.commits += git.commits;
        sum.shallow |= git.shallow;
    }
}

/// Opens or clones one repository and scans its history.
fn audit_one(
    rules: &RuleSet,
    entry: &RepoEntry,
    options: &AuditOptions,
    progress: &Progress,
) -> Result<ScanResult, String> {
    let scan = |git_dir: &Path| {
        let repo = Repo::open(git_dir).map_err(|e| e.to_string())?;
        // A connection of its own: repositories audited at once write the cache in turn.
        let cache = match &options.cache {
            Some((path, digest)) => Some(Cache::open(path, digest).map_err(|e| e.to_string())?),
            None => None,
        };
        scan_history(
            rules,
            &repo,
            &options.history,
            &options.read,
            options.threads,
            progress,
            cache.as_ref(),
        )
        .map_err(|e| e.to_string())
    };
    match &entry.location {
        RepoLocation::Path(path) => scan(path),
        RepoLocation::Url(url) => match &options.keep_clones {
            Some(dir) => {
                let clone = dir.join(clone_dir_name(url));
                if clone.join("HEAD").is_file() {
                    fetch(url, &clone)?;
                } else {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                    mirror_clone(url, &clone)?;
                }
                scan(&clone)
            }
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("keyhound-clone-")
                    .tempdir()
                    .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
                let clone = temp.path().join("repo.git");
                mirror_clone(url, &clone)?;
                scan(&clone)
            }
        },
    }
}

/// The directory a kept clone of `url` lives in: readable, and unique to the URL.
fn clone_dir_name(url: &str) -> String {
    let shown = without_credentials(url);
    let readable: String = shown
        .rsplit(['/', ':'])
        .find(|part| !part.is_empty())
        .unwrap_or("repo")
        .trim_end_matches(".git")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let digest = Sha256::digest(url.as_bytes());
    format!("{readable}-{}.git", crate::hex::lower(&digest[..6]))
}

/// Clones every ref of `url` into a new bare repository at `dest`.
fn mirror_clone(url: &str, dest: &Path) -> Result<(), String> {
    let mut command = git_command();
    command
        .args(["clone", "--mirror", "--quiet", "--"])
        .arg(url)
        .arg(dest);
    run_git(command, url, "clone")
}

/// Brings a kept clone up to date with `url` (every ref, deleted ones pruned).
fn fetch(url: &str, clone: &Path) -> Result<(), String> {
    let mut command = git_command();
    command
        .arg("--git-dir")
        .arg(clone)
        .args(["fetch", "--prune", "--quiet", "--"])
        .arg(url)
        .arg("+refs/*:refs/*");
    run_git(command, url, "fetch")
}

/// `git`, never asking for a password or a passphrase: an audit runs unattended, and a
/// prompt would stop it (ssh asks on the terminal itself, whatever git's standard input is).
fn git_command() -> Command {
    let mut command = Command::new("git");
    command
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GCM_INTERACTIVE", "never")
        .stdin(std::process::Stdio::null());
    if std::env::var_os("GIT_SSH_COMMAND").is_none() && std::env::var_os("GIT_SSH").is_none() {
        command.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
    }
    command
}

/// Runs a clone or fetch; its error names what failed, with git's last line of complaint and
/// no credentials from the URL.
fn run_git(mut command: Command, url: &str, what: &str) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run `git {what}` (keyhound needs git on PATH): {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr).replace(url, &without_credentials(url));
    Err(format!("git {what} failed: {}", last_line(&stderr)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_hold_paths_urls_and_comments() {
        let list = "# the team's repositories\n\
                    services/api   # relative to the list\n\
                    /srv/git/legacy.git\n\
                    \n\
                    https://user:token@git.example.com/org/app.git\n\
                    git@git.example.com:org/tools.git\n\
                    file:///srv/mirror/old.git\n\
                    services/api\n";
        let entries = parse_list(list, Path::new("/lists"));
        let locations: Vec<&RepoLocation> = entries.iter().map(|e| &e.location).collect();
        assert_eq!(
            locations,
            [
                &RepoLocation::Path("/lists/services/api".into()),
                &RepoLocation::Path("/srv/git/legacy.git".into()),
                &RepoLocation::Url("https://user:token@git.example.com/org/app.git".into()),
                &RepoLocation::Url("git@git.example.com:org/tools.git".into()),
                &RepoLocation::Url("file:///srv/mirror/old.git".into()),
            ]
        );
        assert_eq!(entries[2].name, "https://git.example.com/org/app.git");
        assert_eq!(entries[3].name, "git@git.example.com:org/tools.git");
        assert_eq!(entries[0].spec, "services/api");
    }

    #[test]
    fn shards_split_a_list_exactly_once_whatever_its_order() {
        let list: String = (0..200).map(|i| format!("repos/r{i}\n")).collect();
        let entries = parse_list(&list, Path::new("/"));
        let mut reversed = entries.clone();
        reversed.reverse();
        for count in [1, 2, 3, 7] {
            let shards: Vec<Shard> = (0..count).map(|index| Shard { index, count }).collect();
            for entry in &entries {
                let holders = shards.iter().filter(|s| s.holds(entry)).count();
                assert_eq!(holders, 1, "{} in {count} shards", entry.spec);
            }
            for shard in &shards {
                let forward: Vec<&str> = entries
                    .iter()
                    .filter(|e| shard.holds(e))
                    .map(|e| e.spec.as_str())
                    .collect();
                let mut backward: Vec<&str> = reversed
                    .iter()
                    .filter(|e| shard.holds(e))
                    .map(|e| e.spec.as_str())
                    .collect();
                backward.reverse();
                assert_eq!(forward, backward);
                if count > 1 {
                    assert!(!forward.is_empty() && forward.len() < entries.len());
                }
            }
        }
    }

    #[test]
    fn shard_syntax_is_checked() {
        assert_eq!("1/3".parse(), Ok(Shard { index: 1, count: 3 }));
        for bad in ["3/3", "0/0", "1", "a/b", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn kept_clones_have_distinct_readable_names() {
        let a = clone_dir_name("https://git.example.com/org/app.git");
        let b = clone_dir_name("https://git.example.com/other/app.git");
        assert!(a.starts_with("app-") && a.ends_with(".git"), "{a}");
        assert_ne!(a, b);
        assert!(clone_dir_name("git@h:x/../../etc").starts_with("etc-"));
    }
}
