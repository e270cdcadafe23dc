//! Names the git commit keyhound is built from, when it is built from a checkout, so that
//! `keyhound --version` says exactly which code a report came from.

use std::path::Path;
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
    let git = Path::new(".git");
    if git.is_dir() {
        println!("cargo:rerun-if-changed=.git/HEAD");
        if let Ok(head) = std::fs::read_to_string(git.join("HEAD")) {
            if let Some(reference) = head.trim().strip_prefix("ref: ") {
                println!("cargo:rerun-if-changed=.git/{reference}");
            }
        }
        println!("cargo:rerun-if-changed=.git/packed-refs");
    }
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
