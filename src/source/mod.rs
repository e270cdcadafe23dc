//! Inputs → chunks of bytes with provenance.
//!
//! A source never interprets the bytes it reads; it only says where they came from ([`Origin`])
//! and hands them on in bounded [`Chunk`]s, so memory stays flat however large an input is. The
//! chunks overlap by [`LEAD`] and [`TAIL`] bytes, which bound what a consumer of chunks may look
//! at around what it finds, and each chunk *owns* a disjoint range of the input: a match is reported only
//! by the chunk that owns its first byte, so nothing on a boundary is lost or reported twice.

pub mod archive;
pub mod files;
pub mod git;
pub mod image;
mod reader;
mod utf16;

use std::fmt;

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use reader::{
    is_plain_text, Chunk, ChunkReader, Mode, ReadOutcome, DEFAULT_CHUNK_SIZE, LEAD, TAIL,
};

/// Where a chunk's bytes came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// A file on disk, as the walker found it (relative to the scanned path when it was given
    /// relative).
    File(PathBuf),
    /// Standard input (`keyhound scan -`).
    Stdin,
    /// A git blob, shown at a path it has in the repository (the path where it was introduced
    /// for history scans, the changed path for staged and range scans). `repo` names the
    /// repository when a run covers several (`keyhound audit`), as its list gave it.
    Git {
        repo: Option<Arc<str>>,
        path: PathBuf,
        blob: String,
    },
    /// A file inside an archive (or the content of a compressed stream), shown as
    /// `outer!/entry`: `dist/app.war!/WEB-INF/lib/core.jar!/application.properties`.
    Inner { outer: Arc<Origin>, entry: String },
}

impl Origin {
    /// A file origin, without leading `./` components, so `./a.env` and `a.env` are one file.
    pub fn file(path: &std::path::Path) -> Origin {
        let mut path = path;
        while let Ok(rest) = path.strip_prefix(".") {
            if rest.as_os_str().is_empty() {
                break;
            }
            path = rest;
        }
        Origin::File(path.to_path_buf())
    }

    /// [`Origin::file`] for a path already owned, kept as it is when it has no `./` to drop.
    pub fn file_from(path: PathBuf) -> Origin {
        if path.starts_with(".") {
            Origin::file(&path)
        } else {
            Origin::File(path)
        }
    }

    /// A blob of the one repository a run covers.
    pub fn git(path: PathBuf, blob: String) -> Origin {
        Origin::Git {
            repo: None,
            path,
            blob,
        }
    }

    /// The repository a blob is in, when the run covers several.
    pub fn repo(&self) -> Option<&str> {
        match self.outermost() {
            Origin::Git { repo, .. } => repo.as_deref(),
            _ => None,
        }
    }

    /// The same place, in repository `repo`.
    pub fn in_repo(self, repo: &Arc<str>) -> Origin {
        self.with_outermost(|outermost| match outermost {
            Origin::Git { path, blob, .. } => Origin::Git {
                repo: Some(Arc::clone(repo)),
                path,
                blob,
            },
            other => other,
        })
    }

    /// The file `entry` inside the archive at this place.
    pub fn inside(&self, entry: &str) -> Origin {
        Origin::Inner {
            outer: Arc::new(self.clone()),
            entry: entry.to_string(),
        }
    }

    /// The name, inside the archive at `archive`, of the entry this place is (or is within).
    pub fn entry_in(&self, archive: &Origin) -> Option<&str> {
        match self {
            Origin::Inner { outer, entry } if **outer == *archive => Some(entry),
            Origin::Inner { outer, .. } => outer.entry_in(archive),
            _ => None,
        }
    }

    /// The input this place is in, outside every archive: the file, standard input or blob.
    pub fn outermost(&self) -> &Origin {
        match self {
            Origin::Inner { outer, .. } => outer.outermost(),
            other => other,
        }
    }

    /// The same place, its outermost input changed by `change` (the path of a blob once git
    /// history says where the blob is).
    pub fn with_outermost(self, change: impl FnOnce(Origin) -> Origin) -> Origin {
        match self {
            Origin::Inner { outer, entry } => Origin::Inner {
                outer: Arc::new(Arc::unwrap_or_clone(outer).with_outermost(change)),
                entry,
            },
            other => change(other),
        }
    }

    /// The path as reports show it (`-` for standard input), without the repository: the
    /// path inside it that fingerprints, allowlists and SARIF artifacts use.
    pub fn display_path(&self) -> String {
        match self {
            Origin::File(path) => {
                let shown = path.to_string_lossy();
                shown.strip_prefix("./").unwrap_or(&shown).to_string()
            }
            Origin::Stdin => "-".to_string(),
            Origin::Git { path, blob, .. } if path.as_os_str().is_empty() => format!("blob:{blob}"),
            Origin::Git { path, .. } => path.to_string_lossy().into_owned(),
            Origin::Inner { outer, entry } => {
                format!("{}!/{}", outer.display_path(), archive::shown_name(entry))
            }
        }
    }
}

/// The place as people read it: `REPO:PATH` (git's own `REV:PATH` shape) when the run covers
/// several repositories, else the path.
impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(repo) = self.repo() {
            write!(f, "{repo}:")?;
        }
        f.write_str(&self.display_path())
    }
}

/// Why an input was not scanned (or not scanned to its end).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    /// A NUL byte in the first 8 KiB; `--scan-binary` scans such files.
    Binary,
    /// Larger than `--max-file-size`.
    TooLarge { size: u64, limit: u64 },
    /// A FIFO, socket or device found while walking a directory: reading one could block forever
    /// or never end.
    Special { kind: &'static str },
    /// A symbolic link, not followed without `--follow`.
    Symlink,
    /// The file disappeared between being listed and being read.
    Vanished,
    /// Opening or reading failed (permissions, I/O error, a symlink loop, ...).
    Unreadable { error: String },
    /// A repository of an audit that could not be opened, cloned or read.
    RepositoryFailed { error: String },
    /// An archive (or what remained of it) not read: a limit against archive bombs was
    /// reached.
    ArchiveLimit { limit: String },
    /// An archive entry not read: encrypted, or compressed by a method keyhound cannot inflate.
    ArchiveEntry { why: String },
    /// An encrypted archive entry: skipped by design, as binary files are, and counted.
    Encrypted,
    /// A damaged archive or compressed stream that was read as far as it goes: it ends early, or
    /// a checksum over what was read does not match. A note, not a gap: nothing that exists was
    /// left unread.
    Damaged { what: String },
    /// An input not read (for the reason `why` says), at a path the configuration accepts as
    /// unread (`[[accept]]`, or a path every rule's allowlist covers): listed, and not counted
    /// against the scan's completeness. `by` names what accepts it.
    Accepted { why: String, by: String },
}

impl SkipReason {
    /// Whether this skip means the scan did not see input it was asked to see (exit status 2).
    /// Binary, oversized, special and symlinked files and encrypted entries are skipped by
    /// design and are not; nor is a damaged input read as far as it goes.
    pub fn makes_scan_incomplete(&self) -> bool {
        matches!(
            self,
            SkipReason::Vanished
                | SkipReason::Unreadable { .. }
                | SkipReason::RepositoryFailed { .. }
                | SkipReason::ArchiveLimit { .. }
                | SkipReason::ArchiveEntry { .. }
        )
    }

    /// The reason a report gave as `category` and text (the [`SkipReason::category`] and the
    /// `Display` of a reason), as it was; None for a category keyhound does not write.
    pub fn from_report(category: &str, text: &str) -> Option<SkipReason> {
        let after = |prefix: &str| text.strip_prefix(prefix).unwrap_or(text).to_string();
        Some(match category {
            "binary" => SkipReason::Binary,
            "too large" => {
                let mut numbers = text
                    .split(|c: char| !c.is_ascii_digit())
                    .filter(|n| !n.is_empty())
                    .map(|n| n.parse::<u64>().ok());
                let (Some(Some(size)), Some(Some(limit))) = (numbers.next(), numbers.next()) else {
                    return None;
                };
                SkipReason::TooLarge { size, limit }
            }
            "special file" => {
                let kind = text.strip_suffix(", not a regular file").unwrap_or(text);
                let known = ["FIFO", "socket", "character device", "block device"];
                SkipReason::Special {
                    kind: known
                        .into_iter()
                        .find(|k| *k == kind)
                        .unwrap_or("special file"),
                }
            }
            "symlink not followed" => SkipReason::Symlink,
            "vanished" => SkipReason::Vanished,
            "unreadable" => SkipReason::Unreadable {
                error: after("cannot read: "),
            },
            "repository not audited" => SkipReason::RepositoryFailed {
                error: after("repository not audited: "),
            },
            "archive limit" => SkipReason::ArchiveLimit {
                limit: after("archive not read to its end: it reached "),
            },
            "archive entry not read" => SkipReason::ArchiveEntry {
                why: after("archive entry not read: "),
            },
            "encrypted" => SkipReason::Encrypted,
            "damaged" => SkipReason::Damaged {
                what: after(DAMAGED),
            },
            "accepted" => {
                let (why, by) = text.rsplit_once(ACCEPTED_BY)?;
                SkipReason::Accepted {
                    why: why.to_string(),
                    by: by.strip_suffix(')').unwrap_or(by).to_string(),
                }
            }
            _ => return None,
        })
    }

    /// A short stable name for summaries (`binary`, `unreadable`, ...).
    pub fn category(&self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::TooLarge { .. } => "too large",
            SkipReason::Special { .. } => "special file",
            SkipReason::Symlink => "symlink not followed",
            SkipReason::Vanished => "vanished",
            SkipReason::Unreadable { .. } => "unreadable",
            SkipReason::RepositoryFailed { .. } => "repository not audited",
            SkipReason::ArchiveLimit { .. } => "archive limit",
            SkipReason::ArchiveEntry { .. } => "archive entry not read",
            SkipReason::Encrypted => "encrypted",
            SkipReason::Damaged { .. } => "damaged",
            SkipReason::Accepted { .. } => "accepted",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Binary => {
                f.write_str("binary file (NUL byte in the first 8 KiB); --scan-binary scans it")
            }
            SkipReason::TooLarge { size, limit } => {
                write!(f, "{size} bytes is over --max-file-size {limit}")
            }
            SkipReason::Special { kind } => write!(f, "{kind}, not a regular file"),
            SkipReason::Symlink => f.write_str("symbolic link; --follow follows it"),
            SkipReason::Vanished => f.write_str("disappeared before it could be read"),
            SkipReason::Unreadable { error } => write!(f, "cannot read: {error}"),
            SkipReason::RepositoryFailed { error } => write!(f, "repository not audited: {error}"),
            SkipReason::ArchiveLimit { limit } => {
                write!(f, "archive not read to its end: it reached {limit}")
            }
            SkipReason::ArchiveEntry { why } => write!(f, "archive entry not read: {why}"),
            SkipReason::Encrypted => f.write_str("an encrypted archive entry, not read by design"),
            SkipReason::Damaged { what } => write!(f, "{DAMAGED}{what}"),
            SkipReason::Accepted { why, by } => write!(f, "{why}{ACCEPTED_BY}{by})"),
        }
    }
}

/// How a damaged input's note begins.
const DAMAGED: &str = "read as far as it goes, damaged: ";

/// What joins an accepted input's reason to what accepts it.
const ACCEPTED_BY: &str = " (accepted by ";

/// What the sources read and skipped, for the summary.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Files (or, for git sources, blobs) read to their end.
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    /// Inputs not scanned (or not to their end), sorted by path.
    pub skipped: Vec<(Origin, SkipReason)>,
    pub elapsed: Duration,
    /// Facts about the repository, for git sources (summed over an audit's repositories).
    pub git: Option<GitStats>,
    /// For an audit of many repositories: how many were audited, and how many failed.
    pub audit: Option<AuditStats>,
    /// For history scans with `--cache`: how many blobs were scanned and how many recalled.
    pub cache: Option<CacheStats>,
}

/// What a history scan with a cache read, and what it took from the cache. Blobs of either
/// kind count in `files_scanned` (or as binary skips) as a scan without a cache counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheStats {
    /// Blobs read and scanned by this run.
    pub blobs_scanned: u64,
    /// Blobs whose findings came from the cache.
    pub blobs_from_cache: u64,
}

/// What an audit of many repositories covered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditStats {
    /// Repositories whose history was scanned.
    pub repositories: u64,
    /// Repositories that could not be opened, cloned or read.
    pub failed: u64,
}

/// What a git source covered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitStats {
    /// Refs whose history was scanned.
    pub refs: u64,
    /// Commits in the scanned history or range.
    pub commits: u64,
    /// The repository is a shallow clone, so history before its cut-off was not there.
    pub shallow: bool,
    /// What was scanned is the staged changes, not history or a range.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub staged: bool,
}

impl Stats {
    /// Whether some input that should have been read was not (the scan is not clean).
    pub fn incomplete(&self) -> bool {
        self.skipped
            .iter()
            .any(|(_, reason)| reason.makes_scan_incomplete())
    }
}
