//! Names the git commit keyhound is built from, when it is built from a checkout, so that
//! `keyhound --version` says exactly which code a report came from.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    let commit = commit();
    let full = match &commit {
        Some(commit) => format!("{version} ({commit})"),
        None => version.to_string(),
    };
    println!("cargo:rustc-env=KEYHOUND_VERSION={full}");
    // Build again when HEAD moves: a new commit, a checkout, or a ref HEAD points at.
    for path in watched(Path::new(".git")) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// The files whose change moves HEAD. Only paths that exist are named: cargo reruns a build
/// script on every build while a path it watches is missing, and that would rebuild keyhound
/// each time in a checkout without `packed-refs`, or whose branch lives only there.
fn watched(git: &Path) -> Vec<PathBuf> {
    if !git.is_dir() {
        return Vec::new();
    }
    let mut paths = vec![git.join("HEAD")];
    if let Ok(head) = std::fs::read_to_string(git.join("HEAD")) {
        if let Some(reference) = head.trim().strip_prefix("ref: ") {
            // The branch's own file, or, while it has none (its ref is packed), the nearest
            // directory that holds it: a commit writes the file there.
            let loose = git.join(reference);
            let nearest = loose
                .ancestors()
                .find(|p| p.exists())
                .map(Path::to_path_buf);
            paths.extend(nearest.filter(|p| p.starts_with(git) && p != git));
        }
    }
    paths.push(git.join("packed-refs"));
    paths.retain(|p| p.exists());
    paths
}

/// The short id of HEAD; None outside a checkout or without git. (Changes not committed are
/// not noted: cargo reruns this script when HEAD moves, not when any file does.)
fn commit() -> Option<String> {
    if !Path::new(".git").exists() {
        return None;
    }
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()?;
    if !head.status.success() {
        return None;
    }
    Some(String::from_utf8(head.stdout).ok()?.trim().to_string())
}
