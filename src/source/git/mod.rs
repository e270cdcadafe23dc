//! Git sources: the full-history audit, the pull-request range and the staged changes.
//!
//! `git2` (libgit2) handles what it is good at: opening repositories, resolving revisions,
//! walking commits and diffing trees and the index. Reading every blob of a history is done by
//! the `git` executable instead ([`catfile`]): `git cat-file` reads objects in pack order and
//! resolves each delta base once, which is several times faster than libgit2 on large
//! histories. Nothing here fetches: objects missing from a partial clone are reported as
//! skipped, never downloaded.

pub mod catfile;
pub mod changes;
mod delta;
pub mod history;
pub mod objects;
mod provenance;
pub mod salvage;

pub use provenance::{CommitInfo, GitProvenance};

use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a git source could not run.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{path} is not a git repository")]
    NotARepository {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },
    #[error("{0}")]
    Git(#[from] git2::Error),
    #[error("cannot run `git {args}` (keyhound needs a git executable on PATH for history scans)")]
    Spawn {
        args: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`git {args}` failed: {stderr}")]
    Command { args: String, stderr: String },
    #[error("{0}")]
    Range(String),
    #[error("libgit2 needs UTF-8 paths, and {} is not one", .0.display())]
    NotUtf8(PathBuf),
    #[error("reading git output: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Cache(#[from] crate::cache::CacheError),
}

/// An open repository.
pub struct Repo {
    pub repo: git2::Repository,
    /// The `.git` directory (the repository itself for a bare repository).
    pub git_dir: PathBuf,
    /// Object directories lent to git and libgit2 besides the repository's own: objects
    /// recovered from damaged packs.
    borrowed_objects: Vec<PathBuf>,
}

impl Repo {
    /// Opens the repository at `path` or one of its parents, as `git` would.
    pub fn open(path: &Path) -> Result<Repo, GitError> {
        let repo = git2::Repository::discover(path).map_err(|source| GitError::NotARepository {
            path: path.to_path_buf(),
            source,
        })?;
        let git_dir = repo.path().to_path_buf();
        Ok(Repo {
            repo,
            git_dir,
            borrowed_objects: Vec::new(),
        })
    }

    /// The same repository, also reading objects from `dirs` (object directories laid out as
    /// `objects/` is), as git does with alternates.
    pub fn with_borrowed_objects(&self, dirs: Vec<PathBuf>) -> Result<Repo, GitError> {
        let repo = git2::Repository::open(&self.git_dir)?;
        {
            let odb = repo.odb()?;
            for dir in &dirs {
                let path = dir.to_str().ok_or_else(|| GitError::NotUtf8(dir.clone()))?;
                odb.add_disk_alternate(path)?;
            }
        }
        Ok(Repo {
            repo,
            git_dir: self.git_dir.clone(),
            borrowed_objects: dirs,
        })
    }

    /// Whether objects are read from directories besides the repository's own (objects
    /// recovered from damaged packs).
    pub fn borrows_objects(&self) -> bool {
        !self.borrowed_objects.is_empty()
    }

    /// The repository's object directory (shared by all its worktrees).
    pub fn objects_dir(&self) -> PathBuf {
        self.repo.commondir().join("objects")
    }

    /// A `git` command that works on this repository whatever the current directory.
    pub fn git(&self) -> Command {
        let mut command = Command::new("git");
        command
            .arg("--git-dir")
            .arg(&self.git_dir)
            .env("GIT_NO_LAZY_FETCH", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE");
        if !self.borrowed_objects.is_empty() {
            const ALTERNATES: &str = "GIT_ALTERNATE_OBJECT_DIRECTORIES";
            let inherited = std::env::var_os(ALTERNATES).unwrap_or_default();
            let dirs = std::env::split_paths(&inherited)
                .filter(|p| !p.as_os_str().is_empty())
                .chain(self.borrowed_objects.iter().cloned());
            if let Ok(dirs) = std::env::join_paths(dirs) {
                command.env(ALTERNATES, dirs);
            }
        }
        command
    }

    /// Runs `git args…` and returns its standard output.
    pub fn git_output(&self, args: &[&str]) -> Result<Vec<u8>, GitError> {
        let output = self
            .git()
            .args(args)
            .output()
            .map_err(|source| GitError::Spawn {
                args: args.join(" "),
                source,
            })?;
        if !output.status.success() {
            return Err(GitError::Command {
                args: args.join(" "),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            });
        }
        Ok(output.stdout)
    }
}

/// A git child's standard error, read on a thread of its own while the child runs: a git that
/// writes a lot of it (one line per lookup in a damaged pack, say) would otherwise block on the
/// full pipe while keyhound waits for its standard output. Only the last few KiB are kept,
/// which is where git says why it stopped.
pub struct StderrTail(Option<std::thread::JoinHandle<String>>);

impl StderrTail {
    const KEPT: usize = 8 << 10;

    /// Starts draining `child`'s standard error (which must be piped).
    pub fn drain(child: &mut std::process::Child) -> StderrTail {
        StderrTail(child.stderr.take().map(|mut stderr| {
            std::thread::spawn(move || {
                let mut tail = Vec::new();
                let mut buffer = [0u8; 4096];
                loop {
                    match std::io::Read::read(&mut stderr, &mut buffer) {
                        Ok(0) => break,
                        Ok(n) => tail.extend_from_slice(&buffer[..n]),
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(_) => break,
                    }
                    if tail.len() > 2 * Self::KEPT {
                        tail.drain(..tail.len() - Self::KEPT);
                    }
                }
                let start = tail.len().saturating_sub(Self::KEPT);
                String::from_utf8_lossy(&tail[start..]).trim().to_string()
            })
        }))
    }

    /// What the child said last, once it has closed its standard error (it has exited, or
    /// been killed).
    pub fn finish(self) -> String {
        self.0
            .and_then(|thread| thread.join().ok())
            .unwrap_or_default()
    }
}

/// The last line of what git said: its `fatal:` reason, after any repeated `error:` lines.
pub fn last_line(stderr: &str) -> String {
    stderr.trim().lines().last().unwrap_or_default().to_string()
}

/// Formats seconds since the Unix epoch as an RFC 3339 UTC date (`2024-03-01T12:00:00Z`).
pub fn rfc3339(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm), valid for the proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_format_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_709_294_400), "2024-03-01T12:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-86_400), "1969-12-31T00:00:00Z");
    }
}
