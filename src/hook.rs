//! `keyhound hook install`: writes the git pre-commit hook that runs `keyhound git --staged`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// A line every hook keyhound writes carries, so it can recognise (and update) its own hook.
const MARKER: &str = "# keyhound pre-commit hook";

/// What `install` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Installed {
    Created(PathBuf),
    Updated(PathBuf),
    Unchanged(PathBuf),
}

/// Installs the pre-commit hook of the repository at `repo`, in `core.hooksPath` when set.
/// An existing hook that keyhound did not write is replaced only with `force`.
pub fn install(repo: &Path, force: bool) -> Result<Installed> {
    let repository = git2::Repository::discover(repo)
        .with_context(|| format!("{} is not a git repository", repo.display()))?;
    let hooks = hooks_dir(&repository)?;
    fs::create_dir_all(&hooks).with_context(|| format!("cannot create {}", hooks.display()))?;
    let path = hooks.join("pre-commit");
    let script = script();
    let existing = match fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let outcome = match &existing {
        None => Installed::Created(path.clone()),
        Some(text) if *text == script => return Ok(Installed::Unchanged(path)),
        Some(text) if text.contains(MARKER) || force => Installed::Updated(path.clone()),
        Some(_) => bail!(
            "{} already exists and is not keyhound's hook; add `keyhound git --staged` to it yourself, \
             or replace it with `keyhound hook install --force`",
            path.display()
        ),
    };
    fs::write(&path, script).with_context(|| format!("cannot write {}", path.display()))?;
    make_executable(&path)?;
    Ok(outcome)
}

/// Where git looks for hooks: `core.hooksPath` (relative to the work tree) or the common
/// git directory's `hooks` (shared by all worktrees).
fn hooks_dir(repository: &git2::Repository) -> Result<PathBuf> {
    let configured = repository
        .config()
        .and_then(|c| c.get_path("core.hooksPath"))
        .ok();
    Ok(match configured {
        Some(path) if path.is_absolute() => path,
        Some(path) => repository
            .workdir()
            .unwrap_or_else(|| repository.commondir())
            .join(path),
        None => repository.commondir().join("hooks"),
    })
}

/// The hook: keyhound from PATH, or else the binary that installed it.
fn script() -> String {
    let fallback = std::env::current_exe()
        .map(|p| p.to_string_lossy().replace('\'', "'\\''"))
        .unwrap_or_else(|_| "keyhound".into());
    format!(
        "#!/bin/sh\n{MARKER}: blocks commits that add AWS credentials.\n\
         # Written by `keyhound hook install`; bypass once with `git commit --no-verify`.\n\
         if command -v keyhound >/dev/null 2>&1; then\n  exec keyhound git --staged\nfi\n\
         exec '{fallback}' git --staged\n"
    )
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        git2::Repository::init(dir.path()).unwrap();
        dir
    }

    #[test]
    fn installs_then_recognises_its_own_hook() {
        let dir = repo();
        let path = dir.path().join(".git/hooks/pre-commit");
        assert_eq!(
            install(dir.path(), false).unwrap(),
            Installed::Created(path.clone())
        );
        assert!(fs::read_to_string(&path).unwrap().contains("git --staged"));
        assert_eq!(
            install(dir.path(), false).unwrap(),
            Installed::Unchanged(path.clone())
        );
        fs::write(&path, format!("#!/bin/sh\n{MARKER} (old)\n")).unwrap();
        assert_eq!(
            install(dir.path(), false).unwrap(),
            Installed::Updated(path)
        );
    }

    #[test]
    fn refuses_to_replace_another_hook_without_force() {
        let dir = repo();
        let path = dir.path().join(".git/hooks/pre-commit");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, "#!/bin/sh\nmake lint\n").unwrap();
        let error = install(dir.path(), false).unwrap_err().to_string();
        assert!(error.contains("--force"), "{error}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "#!/bin/sh\nmake lint\n");
        assert_eq!(install(dir.path(), true).unwrap(), Installed::Updated(path));
    }

    #[test]
    fn honours_core_hooks_path() {
        let dir = repo();
        let repository = git2::Repository::open(dir.path()).unwrap();
        repository
            .config()
            .unwrap()
            .set_str("core.hooksPath", "githooks")
            .unwrap();
        let path = dir.path().join("githooks/pre-commit");
        assert_eq!(
            install(dir.path(), false).unwrap(),
            Installed::Created(path)
        );
    }
}
