//! The file source: walks paths in parallel with `ignore` and classifies what it finds.
//!
//! By default everything under the given paths is scanned, hidden and git-ignored files included
//! (a key in an ignored `.env` is still a leak on that disk), and only `.git` directories are
//! skipped. The walker decides *what* to read; reading is the visitor's job, done on the walker's
//! own threads so each file is read and matched by the thread that found it.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use ignore::overrides::OverrideBuilder;
use ignore::{WalkBuilder, WalkState};

use super::{Origin, SkipReason};

/// What to walk and how.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    pub paths: Vec<PathBuf>,
    /// Walker threads (0: one per core).
    pub threads: usize,
    /// Honour `.gitignore`, `.ignore` and git's exclude files.
    pub gitignore: bool,
    /// Globs (gitignore syntax) of paths to skip.
    pub excludes: Vec<String>,
    /// Follow symbolic links (loops are detected and reported).
    pub follow: bool,
    /// Skip files larger than this many bytes.
    pub max_file_size: Option<u64>,
    /// Paths not to read at all, because nothing found there would be reported (an allowlist
    /// for every rule covers them). Paths named on the command line are read all the same.
    pub not_read: Option<PathFilter>,
}

/// Whether a path, as the walker found it, is one to pass over.
#[derive(Clone)]
pub struct PathFilter(pub std::sync::Arc<dyn Fn(&Path) -> bool + Send + Sync>);

impl std::fmt::Debug for PathFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PathFilter")
    }
}

/// One thing the walker found.
pub enum Entry {
    /// A file to read, if it is at most `max_size` bytes when opened ([`open`] checks).
    File {
        origin: Origin,
        max_size: Option<u64>,
    },
    /// Something not read, and why.
    Skipped { origin: Origin, reason: SkipReason },
}

/// Why a walk could not start.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("invalid --exclude glob `{glob}`: {source}")]
    Exclude {
        glob: String,
        #[source]
        source: ignore::Error,
    },
    #[error("no paths to scan")]
    NoPaths,
}

/// Walks `options.paths`; `make_visitor` is called once per walker thread and its visitor gets
/// every entry that thread finds.
pub fn walk<'s, V>(
    options: &WalkOptions,
    mut make_visitor: impl FnMut() -> V,
) -> Result<(), WalkError>
where
    V: FnMut(Entry) + Send + 's,
{
    let (first, rest) = options.paths.split_first().ok_or(WalkError::NoPaths)?;
    let mut builder = WalkBuilder::new(first);
    for path in rest {
        builder.add(path);
    }
    let mut overrides =
        OverrideBuilder::new(std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")));
    for glob in &options.excludes {
        overrides
            .add(&format!("!{glob}"))
            .map_err(|source| WalkError::Exclude {
                glob: glob.clone(),
                source,
            })?;
    }
    let overrides = overrides.build().map_err(|source| WalkError::Exclude {
        glob: options.excludes.join(" "),
        source,
    })?;
    builder
        .threads(options.threads)
        .hidden(false)
        .parents(options.gitignore)
        .ignore(options.gitignore)
        .git_ignore(options.gitignore)
        .git_global(options.gitignore)
        .git_exclude(options.gitignore)
        .require_git(false)
        .follow_links(options.follow)
        .overrides(overrides)
        .filter_entry({
            let not_read = options.not_read.clone();
            move |entry| {
                let git_dir =
                    entry.file_name() == ".git" && entry.file_type().is_some_and(|t| t.is_dir());
                !git_dir && !not_read.as_ref().is_some_and(|skip| (skip.0)(entry.path()))
            }
        });
    let max_file_size = options.max_file_size;
    builder.build_parallel().run(|| {
        let mut visit = make_visitor();
        Box::new(move |result| {
            if let Some(entry) = classify(result, max_file_size) {
                visit(entry);
            }
            WalkState::Continue
        })
    });
    Ok(())
}

/// Turns one walker result into an entry; `None` for directories.
fn classify(
    result: Result<ignore::DirEntry, ignore::Error>,
    max_file_size: Option<u64>,
) -> Option<Entry> {
    let entry = match result {
        Ok(entry) => entry,
        Err(error) => {
            // A path that cannot be listed (missing, no permission, a link loop) is not
            // "vanished": the user asked for it and it was never readable.
            let origin = Origin::file(&error_path(&error).unwrap_or_default());
            let reason = SkipReason::Unreadable {
                error: error_message(&error),
            };
            return Some(Entry::Skipped { origin, reason });
        }
    };
    let Some(file_type) = entry.file_type() else {
        // Only standard input has no file type, and it is never walked.
        return None;
    };
    if file_type.is_dir() {
        return None;
    }
    let named_explicitly = entry.depth() == 0;
    let path = entry.into_path();
    if file_type.is_symlink() {
        if !named_explicitly {
            return Some(Entry::Skipped {
                origin: Origin::file_from(path),
                reason: SkipReason::Symlink,
            });
        }
        // A path the user named is read through its link, like any command-line tool does.
        let target = std::fs::metadata(&path);
        let origin = Origin::file_from(path);
        return Some(match target {
            Ok(meta) if meta.is_file() => Entry::File {
                origin,
                max_size: max_file_size,
            },
            Ok(meta) => Entry::Skipped {
                origin,
                reason: SkipReason::Special {
                    kind: special_kind(&meta.file_type()),
                },
            },
            Err(error) => Entry::Skipped {
                origin,
                reason: io_reason(&error),
            },
        });
    }
    let origin = Origin::file_from(path);
    if !file_type.is_file() {
        // A FIFO named on the command line is read as a stream (`keyhound scan <(cmd)`); inside a
        // tree, special files are skipped because reading them can block or never end.
        if named_explicitly && is_fifo(&file_type) {
            return Some(Entry::File {
                origin,
                max_size: None,
            });
        }
        return Some(Entry::Skipped {
            origin,
            reason: SkipReason::Special {
                kind: special_kind(&file_type),
            },
        });
    }
    // The size is checked once the file is open (one `fstat`, no second walk of its path).
    Some(Entry::File {
        origin,
        max_size: max_file_size,
    })
}

/// Opens a file the walker listed, mapping failures (and, with `max_size`, a size over it) to
/// the reason the file is skipped.
pub fn open(path: &Path, max_size: Option<u64>) -> Result<OpenFile, SkipReason> {
    let file = File::open(path).map_err(|e| io_reason(&e))?;
    let mut open = OpenFile { file, size: None };
    if let Some(limit) = max_size {
        if let Some(size) = open.stat() {
            if size > limit {
                return Err(SkipReason::TooLarge { size, limit });
            }
        }
    }
    Ok(open)
}

/// A file being read, which learns its size (one `fstat`) only once a read fills the whole
/// buffer it was given: a file that fits in one read is read whole by that read and cannot
/// shrink part way, and most files do, so most files cost no `fstat`.
pub struct OpenFile {
    file: File,
    size: Option<u64>,
}

impl OpenFile {
    /// The size the file had when it was first found larger than one read (`None` for a
    /// special file, or before that).
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// The file itself, for readers that seek.
    pub fn inner(&mut self) -> &mut File {
        &mut self.file
    }

    fn stat(&mut self) -> Option<u64> {
        if self.size.is_none() {
            self.size = self
                .file
                .metadata()
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len());
        }
        self.size
    }
}

impl io::Read for OpenFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.file.read(buf)?;
        if read == buf.len() && read > 0 {
            self.stat();
        }
        Ok(read)
    }
}

/// The skip reason for an I/O error on an input.
pub fn io_reason(error: &io::Error) -> SkipReason {
    match error.kind() {
        io::ErrorKind::NotFound => SkipReason::Vanished,
        _ => SkipReason::Unreadable {
            error: error.to_string(),
        },
    }
}

fn error_path(error: &ignore::Error) -> Option<PathBuf> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Partial(errors) => errors.iter().find_map(error_path),
        _ => None,
    }
}

/// The error's message without the path prefix that `ignore` adds (the path is shown anyway).
fn error_message(error: &ignore::Error) -> String {
    match error {
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => {
            error_message(err)
        }
        ignore::Error::Loop { ancestor, .. } => {
            format!("symbolic link loop back to {}", ancestor.display())
        }
        other => other.to_string(),
    }
}

#[cfg(unix)]
fn is_fifo(file_type: &std::fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    file_type.is_fifo()
}

#[cfg(not(unix))]
fn is_fifo(_: &std::fs::FileType) -> bool {
    false
}

#[cfg(unix)]
fn special_kind(file_type: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_fifo() {
        "FIFO"
    } else if file_type.is_socket() {
        "socket"
    } else if file_type.is_char_device() {
        "character device"
    } else if file_type.is_block_device() {
        "block device"
    } else {
        "special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "special file"
}
