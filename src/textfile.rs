//! Reading the small text files keyhound is configured with: rule files, the config file,
//! baselines and account names.
//!
//! A config file can come from the repository being scanned, so it is untrusted: it may name
//! `/dev/zero`, a FIFO or a huge file as a rule file. Only regular files are read, and only up
//! to [`MAX_LEN`], so no setting can hang keyhound or exhaust its memory.

use std::io::{self, Read};
use std::path::Path;

/// Largest settings file keyhound reads.
pub const MAX_LEN: u64 = 16 << 20;

/// Reads the regular file at `path` as UTF-8 text of at most [`MAX_LEN`] bytes.
pub fn read(path: &Path) -> io::Result<String> {
    // Looked at before opening: opening a FIFO would wait for a writer.
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let too_large = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {} MiB", MAX_LEN >> 20),
        )
    };
    if metadata.len() > MAX_LEN {
        return Err(too_large());
    }
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_LEN + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_LEN {
        return Err(too_large());
    }
    Ok(text)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn devices_directories_and_fifos_are_refused_without_blocking() {
        for path in ["/dev/zero", "/dev/null", "/"] {
            let err = read(Path::new(path)).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{path}");
        }
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(read(&fifo).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        let file = dir.path().join("rules.toml");
        std::fs::write(&file, "x = 1\n").unwrap();
        assert_eq!(read(&file).unwrap(), "x = 1\n");
    }
}
