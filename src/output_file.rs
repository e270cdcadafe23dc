//! Report and baseline files written whole or not at all.
//!
//! A run killed while it writes (`SIGKILL`, a full disk, a CI job's timeout) must not leave a
//! half report that `keyhound merge` or a baseline reader would take for a whole one. So a file
//! is written beside its target under a temporary name, flushed to disk, and renamed over the
//! target only once complete; a rename within one directory is atomic. A target that is not a
//! regular file (`/dev/stdout`, a FIFO) is written in place: it cannot be replaced.

use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Writes the file `path` with what `write` produces, whole or not at all. `holds_secrets`
/// (a report with `--show-secrets`) makes it readable by its owner alone (Unix mode 0600).
pub fn write_whole(
    path: &Path,
    holds_secrets: bool,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        let mut out = BufWriter::new(std::fs::OpenOptions::new().write(true).open(path)?);
        write(&mut out)?;
        return out.flush();
    }
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    // Created readable by its owner alone; widened below only for a file without secrets.
    let temporary = tempfile::Builder::new()
        .prefix(".keyhound-")
        .suffix(".partial")
        .tempfile_in(dir)?;
    let mut out = BufWriter::new(temporary);
    write(&mut out)?;
    let temporary = out.into_inner().map_err(io::IntoInnerError::into_error)?;
    temporary.as_file().sync_all()?;
    #[cfg(unix)]
    if !holds_secrets {
        use std::os::unix::fs::PermissionsExt;
        temporary
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = holds_secrets;
    temporary.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_partial_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        std::fs::write(&path, "old\n").unwrap();
        let failed = write_whole(&path, false, |out| {
            out.write_all(b"{\"half\": ")?;
            Err(io::Error::other("killed"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["report.json"]);
        write_whole(&path, false, |out| out.write_all(b"new\n")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
    }

    #[cfg(unix)]
    #[test]
    fn a_file_with_secrets_is_its_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        write_whole(&path, true, |out| out.write_all(b"secret\n")).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        write_whole(&path, false, |out| out.write_all(b"plain\n")).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }

    #[cfg(unix)]
    #[test]
    fn a_target_that_is_not_a_file_is_written_in_place() {
        let dir = tempfile::tempdir().unwrap();
        write_whole(Path::new("/dev/null"), false, |out| out.write_all(b"x")).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
