//! Bulk blob reading through `git cat-file`, in pack order.
//!
//! Two passes: `--batch-all-objects --batch-check` lists every object with its type and size
//! in pack order (headers only, nothing inflated), then `--batch` reads the chosen blobs in
//! that order, so git walks each pack front to back and resolves each delta base once. A blob
//! that git cannot read (corrupt or missing object) is reported and skipped: the reader starts
//! a new `cat-file` after it and goes on.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

use super::{last_line, GitError, Repo, StderrTail};

/// A blob to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    /// Object id, hex.
    pub oid: String,
    pub size: u64,
}

/// The objects of a repository's database that a history scan reads.
#[derive(Debug, Default)]
pub struct Listing {
    /// Every blob, in pack order.
    pub blobs: Vec<BlobRef>,
    /// Objects git lists but cannot read (a corrupt loose object shows up as missing).
    pub unreadable: Vec<String>,
}

/// What git says of each object it lists or is asked about.
const CHECK: &str = "--batch-check=%(objectname) %(objecttype) %(objectsize)";

/// Every blob in the object database (reachable or not): in pack order, or in object id order
/// when the repository borrows objects recovered from a damaged pack. git lists in pack order by
/// reading each pack's entries directly, and stops at a damaged pack; in id order it looks each
/// object up and says which are missing.
pub fn list_blobs(repo: &Repo) -> Result<Listing, GitError> {
    let mut args = vec!["cat-file", "--batch-all-objects", CHECK];
    if !repo.borrows_objects() {
        args.push("--unordered");
    }
    Ok(parse_listing(&repo.git_output(&args)?))
}

/// The blobs among `ids` (objects of any kind), with their sizes, in the order given; the ids
/// git cannot read are listed as unreadable.
pub fn check_objects(repo: &Repo, ids: &[String]) -> Result<Listing, GitError> {
    if ids.is_empty() {
        return Ok(Listing::default());
    }
    let mut child = repo
        .git()
        .args(["cat-file", CHECK])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| GitError::Spawn {
            args: format!("cat-file {CHECK}"),
            source,
        })?;
    let stderr = StderrTail::drain(&mut child);
    let stdin = child.stdin.take().expect("piped stdin");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut out = Vec::new();
    std::thread::scope(|scope| {
        scope.spawn(move || feed(stdin, ids.iter().map(String::as_str)));
        stdout.read_to_end(&mut out)
    })?;
    let status = child.wait()?;
    if !status.success() {
        return Err(GitError::Command {
            args: format!("cat-file {CHECK}"),
            stderr: last_line(&stderr.finish()),
        });
    }
    Ok(parse_listing(&out))
}

/// Writes one object id a line to a `cat-file` batch's standard input, until git stops
/// reading, then closes it so that git ends its batch.
fn feed<'a>(stdin: ChildStdin, ids: impl Iterator<Item = &'a str>) {
    let mut writer = io::BufWriter::new(stdin);
    for id in ids {
        if writeln!(writer, "{id}").is_err() {
            return;
        }
    }
    let _ = writer.flush();
}

/// Parses `%(objectname) %(objecttype) %(objectsize)` lines, keeping blobs and missing objects.
fn parse_listing(out: &[u8]) -> Listing {
    let mut listing = Listing::default();
    for line in out.split(|&b| b == b'\n') {
        let mut fields = line.split(|&b| b == b' ');
        let (oid, kind, size) = (fields.next(), fields.next(), fields.next());
        if let (Some(oid), Some(b"missing"), None) = (oid, kind, size) {
            listing
                .unreadable
                .push(String::from_utf8_lossy(oid).into_owned());
            continue;
        }
        let (Some(oid), Some(kind), Some(size)) = (oid, kind, size) else {
            continue;
        };
        if kind != b"blob" {
            continue;
        }
        let size = std::str::from_utf8(size).ok().and_then(|s| s.parse().ok());
        if let (Ok(oid), Some(size)) = (std::str::from_utf8(oid), size) {
            listing.blobs.push(BlobRef {
                oid: oid.to_string(),
                size,
            });
        }
    }
    listing
}

/// Reads `blobs` in order. `on_blob` gets each blob's content as a reader limited to its
/// size (what it leaves unread is skipped); `on_unreadable` gets each blob git could not read,
/// with the reason.
pub fn read_blobs(
    repo: &Repo,
    blobs: &[BlobRef],
    mut on_blob: impl FnMut(&BlobRef, &mut dyn Read) -> io::Result<()>,
    mut on_unreadable: impl FnMut(&BlobRef, String),
) -> Result<(), GitError> {
    let mut next = 0;
    while next < blobs.len() {
        let mut child = spawn_batch(repo)?;
        let stderr = StderrTail::drain(&mut child);
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let pending = &blobs[next..];
        let outcome = std::thread::scope(|scope| {
            // If cat-file stops early, the reader reports where.
            scope.spawn(move || feed(stdin, pending.iter().map(|b| b.oid.as_str())));
            read_responses(stdout, pending, &mut on_blob, &mut on_unreadable)
        });
        let done = match outcome {
            Ok(done) => done,
            Err(error) => return Err(GitError::Io(error)),
        };
        next += done.read;
        match done.stopped {
            None => {
                let _ = child.wait();
            }
            Some(reason) => {
                let _ = child.kill();
                let _ = child.wait();
                let said = last_line(&stderr.finish());
                let said = if said.is_empty() {
                    said
                } else {
                    format!(": {said}")
                };
                on_unreadable(&blobs[next], format!("{reason}{said}"));
                next += 1;
            }
        }
    }
    Ok(())
}

/// How far one `cat-file` process got.
struct Progress {
    /// Blobs answered (read, or reported missing).
    read: usize,
    /// Why the process stopped answering before the end, if it did.
    stopped: Option<String>,
}

fn read_responses(
    stdout: ChildStdout,
    pending: &[BlobRef],
    on_blob: &mut impl FnMut(&BlobRef, &mut dyn Read) -> io::Result<()>,
    on_unreadable: &mut impl FnMut(&BlobRef, String),
) -> io::Result<Progress> {
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let mut header = String::new();
    for (read, blob) in pending.iter().enumerate() {
        header.clear();
        if reader.read_line(&mut header)? == 0 {
            return Ok(Progress {
                read,
                stopped: Some("git cat-file ended early".into()),
            });
        }
        let fields: Vec<&str> = header.trim_end().split(' ').collect();
        if fields.len() == 2 && fields[1] == "missing" {
            // Listed a moment ago but gone now (a concurrent gc), or absent from a partial
            // clone: cat-file says so and carries on.
            on_unreadable(blob, "object is missing".into());
            continue;
        }
        let size: u64 = match fields.as_slice() {
            [oid, "blob", size] if *oid == blob.oid => size.parse().unwrap_or(0),
            _ => {
                return Ok(Progress {
                    read,
                    stopped: Some(format!(
                        "unexpected reply from git cat-file: {:?}",
                        header.trim_end()
                    )),
                })
            }
        };
        let mut content = (&mut reader).take(size);
        on_blob(blob, &mut content)?;
        io::copy(&mut content, &mut io::sink())?;
        if content.limit() > 0 {
            return Ok(Progress {
                read,
                stopped: Some("git cat-file ended inside the object".into()),
            });
        }
        let mut newline = [0u8; 1];
        reader.read_exact(&mut newline)?;
    }
    Ok(Progress {
        read: pending.len(),
        stopped: None,
    })
}

fn spawn_batch(repo: &Repo) -> Result<Child, GitError> {
    repo.git()
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| GitError::Spawn {
            args: "cat-file --batch".into(),
            source,
        })
}
