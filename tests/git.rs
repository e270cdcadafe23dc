//! `keyhound git` end to end on real repositories built with the `git` executable: the history
//! audit (attribution, branches, tags, merges, renames, unreachable objects, submodules, shallow
//! clones, bare repositories, worktrees, corrupt objects), the pull-request range, the staged
//! changes and the pre-commit hook.

#[allow(dead_code)]
mod common;

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use tempfile::TempDir;

use common::repo::{git_in, isolate, keyhound_for_git, Creds, Repo, ADA, BOB};
use common::{run, Run};

/// `keyhound git ARGS -f json --show-secrets` run in `dir`.
fn keyhound_git(dir: &Path, args: &[&str]) -> Run {
    keyhound_git_format(dir, "json", args)
}

fn keyhound_git_format(dir: &Path, format: &str, args: &[&str]) -> Run {
    run(&mut keyhound_git_command(dir, format, args))
}

/// The command `keyhound git ARGS -f FORMAT --show-secrets` in `dir`, away from the user's git
/// configuration.
fn keyhound_git_command(dir: &Path, format: &str, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = keyhound_for_git(dir);
    cmd.args(["git", "--no-progress", "--show-secrets", "-f", format])
        .args(args);
    cmd
}

fn findings(run: &Run) -> Vec<Value> {
    run.json()["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings array:\n{}", run.stdout_text()))
        .clone()
}

/// The findings that report `value`: as their secret, or as the key ID of a key pair.
fn with_secret(findings: &[Value], value: &str) -> Vec<Value> {
    findings
        .iter()
        .filter(|f| f["secret"] == value || f["pair"]["key_id"] == value)
        .cloned()
        .collect()
}

/// The one finding of `value`; panics with the whole run unless there is exactly one.
#[track_caller]
fn only_finding(run: &Run, value: &str) -> Value {
    let found = with_secret(&findings(run), value);
    assert_eq!(
        found.len(),
        1,
        "expected one finding of {value}\nstdout:\n{}\nstderr:\n{}",
        run.stdout_text(),
        run.stderr
    );
    found.into_iter().next().unwrap()
}

/// Panics unless the output never shows `value`.
#[track_caller]
fn assert_absent(run: &Run, value: &str) {
    assert!(
        !run.stdout_text().contains(value),
        "{value} should not be reported\nstdout:\n{}\nstderr:\n{}",
        run.stdout_text(),
        run.stderr
    );
}

/// Panics unless `creds` is reported once, as one key pair finding (its ID on the line before
/// its secret); returns that finding as (the finding of the ID, the finding of the secret).
#[track_caller]
fn assert_reported(run: &Run, creds: &Creds) -> (Value, Value) {
    let id = only_finding(run, &creds.id);
    let secret = only_finding(run, &creds.secret);
    assert_eq!(
        id, secret,
        "the ID and the secret should be one key pair finding"
    );
    assert_eq!(secret["rule_id"], "aws-access-key-pair", "{secret}");
    assert_eq!(secret["pair"]["key_id"], creds.id.as_str(), "{secret}");
    assert_eq!(
        secret["pair"]["line"],
        secret["line"].as_u64().unwrap() - 1,
        "{secret}"
    );
    (id, secret)
}

#[track_caller]
fn assert_not_reported(run: &Run, creds: &Creds) {
    assert_absent(run, &creds.id);
    assert_absent(run, &creds.secret);
}

fn strs(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn sandbox() -> TempDir {
    tempfile::tempdir().unwrap()
}

// ---------------------------------------------------------------------------------------------
// History audit
// ---------------------------------------------------------------------------------------------

#[test]
fn deleted_secret_is_attributed_to_the_commit_that_added_it_and_only_in_history() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let creds = Creds::new(1);
    repo.write("README.md", "# service\n");
    repo.commit_as(&BOB, "Initial commit");
    repo.write("config/credentials.ini", &creds.ini());
    let added = repo.commit_as(&ADA, "Add deploy credentials");
    let added_time = repo.last_time();
    repo.remove("config/credentials.ini");
    repo.commit_as(&BOB, "Remove credentials");

    let run = keyhound_git(&repo.path, &[]);
    run.expect_code(1);
    let (id, secret) = assert_reported(&run, &creds);
    assert_eq!(secret["rule_id"], "aws-access-key-pair");
    assert_eq!(secret["path"], "config/credentials.ini");
    assert_eq!(secret["line"], 3);
    assert_eq!(id["pair"]["line"], 2);
    for finding in [&id, &secret] {
        let git = &finding["git"];
        assert_eq!(git["in_head"], false, "{finding}");
        assert_eq!(git["unreachable"], false, "{finding}");
        assert_eq!(git["commits"], 1, "{finding}");
        assert_eq!(strs(&git["paths"]), ["config/credentials.ini"]);
        assert_eq!(
            git["blob"],
            repo.rev(&format!("{added}:config/credentials.ini"))
        );
        let commit = &git["commit"];
        assert_eq!(commit["id"], added.as_str());
        assert_eq!(commit["author_name"], ADA.name);
        assert_eq!(commit["author_email"], ADA.email);
        assert_eq!(commit["time"], added_time);
        assert_eq!(commit["date"], "2023-11-14T22:14:20Z");
        assert_eq!(commit["path"], "config/credentials.ini");
    }
    let summary = &run.json()["summary"];
    assert_eq!(summary["git"]["commits"], 3);
    assert_eq!(summary["git"]["shallow"], false);
    assert_eq!(summary["incomplete"], false);

    let text = keyhound_git_format(&repo.path, "text", &[]);
    text.expect_code(1);
    let out = text.stdout_text();
    assert!(out.contains("only in history"), "{out}");
    assert!(out.contains(&format!("added in {}", &added[..12])), "{out}");
    assert!(out.contains("Ada Lovelace <ada@example.org>"), "{out}");

    let sarif = keyhound_git_format(&repo.path, "sarif", &[]);
    sarif.expect_code(1);
    let log = sarif.json();
    let result = &log["runs"][0]["results"][0];
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "config/credentials.ini"
    );
    assert_eq!(result["properties"]["git"]["commit"]["id"], added.as_str());
    assert_eq!(result["properties"]["git"]["in_head"], false);
}

#[test]
fn secret_still_in_head_is_marked_in_head() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let creds = Creds::new(2);
    repo.write(".env", &format!("DEBUG=false\n{}", creds.dotenv()));
    let added = repo.commit("Configure the app");
    repo.write("README.md", "# app\n");
    repo.commit("Document the app");

    let run = keyhound_git(&repo.path, &[]);
    run.expect_code(1);
    let (_, secret) = assert_reported(&run, &creds);
    assert_eq!(secret["path"], ".env");
    assert_eq!(secret["line"], 3);
    assert_eq!(secret["git"]["in_head"], true);
    assert_eq!(secret["git"]["commits"], 2);
    assert_eq!(secret["git"]["commit"]["id"], added.as_str());

    let text = keyhound_git_format(&repo.path, "text", &[]);
    text.expect_code(1);
    assert!(
        !text.stdout_text().contains("only in history"),
        "{}",
        text.stdout_text()
    );
}

#[test]
fn secret_on_an_unmerged_branch_is_found_unless_the_scan_is_limited_to_other_branches() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let creds = Creds::new(3);
    repo.write("README.md", "# app\n");
    repo.commit("Initial commit");
    repo.git(&["switch", "-q", "-c", "side"]);
    repo.write(".env", &creds.dotenv());
    let side = repo.commit_as(&BOB, "Try the staging bucket");
    repo.git(&["switch", "-q", "main"]);

    let all = keyhound_git(&repo.path, &[]);
    all.expect_code(1);
    let (_, secret) = assert_reported(&all, &creds);
    assert_eq!(secret["git"]["commit"]["id"], side.as_str());
    assert_eq!(secret["git"]["commit"]["author_name"], BOB.name);
    assert_eq!(secret["git"]["in_head"], false);

    let main = keyhound_git(&repo.path, &["--branch", "main"]);
    main.expect_code(0);
    assert_not_reported(&main, &creds);
    assert!(findings(&main).is_empty(), "{}", main.stdout_text());
    assert_eq!(main.json()["summary"]["git"]["commits"], 1);

    let side_run = keyhound_git(&repo.path, &["--branch", "side"]);
    side_run.expect_code(1);
    let (_, secret) = assert_reported(&side_run, &creds);
    assert_eq!(secret["git"]["commit"]["id"], side.as_str());
    assert_eq!(side_run.json()["summary"]["git"]["commits"], 2);
}

#[test]
fn secret_reachable_only_from_an_annotated_tag_is_found() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let creds = Creds::new(4);
    repo.write("README.md", "# app\n");
    repo.commit("Initial commit");
    repo.git(&["switch", "-q", "-c", "release-prep"]);
    repo.write("deploy/credentials", &creds.ini());
    let tagged = repo.commit("Release build");
    repo.git(&["tag", "-a", "v1.0.0", "-m", "Release 1.0.0"]);
    repo.git(&["switch", "-q", "main"]);
    repo.git(&["branch", "-q", "-D", "release-prep"]);
    assert_eq!(repo.rev("v1.0.0^{commit}"), tagged);

    let run = keyhound_git(&repo.path, &[]);
    run.expect_code(1);
    let (_, secret) = assert_reported(&run, &creds);
    assert_eq!(secret["path"], "deploy/credentials");
    assert_eq!(secret["git"]["commit"]["id"], tagged.as_str());
    assert_eq!(secret["git"]["in_head"], false);
    assert_eq!(secret["git"]["unreachable"], false);

    let tag = keyhound_git(&repo.path, &["--branch", "v1.0.0"]);
    tag.expect_code(1);
    assert_reported(&tag, &creds);
}

#[test]
fn secret_written_while_resolving_a_merge_conflict_is_attributed_to_the_merge() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let creds = Creds::new(5);
    repo.write("settings.ini", "[app]\nregion = us-east-1\n");
    repo.commit("Initial settings");
    repo.git(&["switch", "-q", "-c", "feature"]);
    repo.write("settings.ini", "[app]\nregion = eu-west-1\n");
    repo.commit_as(&BOB, "Move to Europe");
    repo.git(&["switch", "-q", "main"]);
    repo.write("settings.ini", "[app]\nregion = ap-south-1\n");
    repo.commit("Move to Asia");
    let merge = repo.git_output(&["merge", "-q", "feature"]);
    assert!(!merge.status.success(), "the merge should conflict");
    repo.write(
        "settings.ini",
        &format!("[app]\nregion = eu-west-1\n\n{}", creds.ini()),
    );
    let merged = repo.commit_as(&BOB, "Merge feature");
    let parents = repo.git(&["rev-list", "--parents", "-n", "1", "HEAD"]);
    assert_eq!(parents.split(' ').count(), 3, "HEAD is a merge: {parents}");

    let run = keyhound_git(&repo.path, &[]);
    run.expect_code(1);
    let (_, secret) = assert_reported(&run, &creds);
    assert_eq!(secret["path"], "settings.ini");
    assert_eq!(secret["line"], 6);
    let git = &secret["git"];
    assert_eq!(git["commit"]["id"], merged.as_str());
    assert_eq!(git["commit"]["author_name"], BOB.name);
    assert_eq!(git["commit"]["path"], "settings.ini");
    assert_eq!(git["commits"], 1);
    assert_eq!(git["in_head"], true);
}

#[test]
fn file_added_in_a_merge_commit_is_attributed_to_the_merge() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let creds = Creds::new(6);
    repo.write("README.md", "# app\n");
    repo.commit("Initial commit");
    repo.git(&["switch", "-q", "-c", "feature"]);
    repo.write("src/lib.txt", "library\n");
    repo.commit("Add the library");
    repo.git(&["switch", "-q", "main"]);
    repo.git(&["merge", "-q", "--no-ff", "--no-commit", "feature"]);
    repo.write(".env", &creds.dotenv());
    let merged = repo.commit_as(&BOB, "Merge feature");
    let parents = repo.git(&["rev-list", "--parents", "-n", "1", "HEAD"]);
    assert_eq!(parents.split(' ').count(), 3, "HEAD is a merge: {parents}");

    let run = keyhound_git(&repo.path, &[]);
    run.expect_code(1);
    let (_, secret) = assert_reported(&run, &creds);
    assert_eq!(secret["path"], ".env");
    assert_eq!(secret["git"]["commit"]["id"], merged.as_str());
    assert_eq!(secret["git"]["commit"]["author_email"], BOB.email);
    assert_eq!(secret["git"]["commits"], 1);
    assert_eq!(secret["git"]["in_head"], true);
}

#[test]
fn renamed_file_is_one_finding_listing_every_path_of_its_blob() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let creds = Creds::new(7);
    repo.write("old/credentials.ini", &creds.ini());
    let added = repo.commit("Add credentials");
    repo.git(&["mv", "old/credentials.ini", "aws.ini"]);
    repo.commit("Move credentials");
    repo.write("README.md", "# app\n");
    repo.commit("Document");

    let run = keyhound_git(&repo.path, &[]);
    run.expect_code(1);
    let (id, secret) = assert_reported(&run, &creds);
    assert_eq!(findings(&run).len(), 1, "{}", run.stdout_text());
    for finding in [&id, &secret] {
        let git = &finding["git"];
        assert_eq!(finding["path"], "old/credentials.ini");
        assert_eq!(git["commit"]["id"], added.as_str());
        assert_eq!(git["commit"]["path"], "old/credentials.ini");
        assert_eq!(strs(&git["paths"]), ["aws.ini", "old/credentials.ini"]);
        assert_eq!(git["commits"], 3);
        assert_eq!(git["in_head"], true);
    }
}

#[test]
fn unchanged_secret_file_across_many_commits_is_read_and_reported_once() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let creds = Creds::new(8);
    repo.write("credentials.ini", &creds.ini());
    let added = repo.commit("Add credentials");
    for n in 2..=20 {
        repo.write("CHANGELOG.md", &format!("release {n}\n"));
        repo.commit(&format!("Release {n}"));
    }
    assert_eq!(repo.commit_count(), 20);

    let run = keyhound_git(&repo.path, &[]);
    run.expect_code(1);
    assert_eq!(findings(&run).len(), 1, "{}", run.stdout_text());
    let (_, secret) = assert_reported(&run, &creds);
    assert_eq!(secret["git"]["commits"], 20);
    assert_eq!(secret["git"]["commit"]["id"], added.as_str());
    assert_eq!(secret["git"]["in_head"], true);

    let listing = repo.git(&["cat-file", "--batch-all-objects", "--batch-check"]);
    let blobs = listing.lines().filter(|l| l.contains(" blob ")).count() as u64;
    assert_eq!(blobs, 20, "{listing}");
    let summary = &run.json()["summary"];
    assert_eq!(summary["files_scanned"], blobs, "{summary}");
    assert_eq!(summary["git"]["commits"], 20);
}

/// A clone that borrows its origin's objects (`clone --shared`), holding three key pairs: one
/// in the origin's pack, one in two packs of the clone's own (the second a repack of the first,
/// both kept, under a multi-pack index), and one in a loose object.
fn scattered_clone(tmp: &TempDir) -> (Repo, [Creds; 3]) {
    let creds = [Creds::new(40), Creds::new(41), Creds::new(42)];
    let origin = Repo::init(tmp.path(), "origin");
    origin.write("one.ini", &creds[0].ini());
    origin.commit("Add one");
    origin.git(&["repack", "-q", "-d"]);
    git_in(tmp.path(), &["clone", "-q", "--shared", "origin", "clone"]);
    let clone = Repo::at(tmp.path().join("clone"));
    clone.write("two.env", &creds[1].dotenv());
    clone.commit("Add two");
    clone.git(&["repack", "-q", "-d"]);
    clone.write("README.md", "# app\n");
    clone.commit("Readme");
    clone.git(&["repack", "-q", "-a", "-l"]);
    clone.git(&["multi-pack-index", "write"]);
    clone.write("three.ini", &creds[2].ini());
    clone.commit("Add three");
    (clone, creds)
}

#[test]
fn history_spread_over_packs_loose_objects_and_an_alternate_is_read_in_process_once() {
    let tmp = sandbox();
    let (clone, creds) = scattered_clone(&tmp);
    let packs = std::fs::read_dir(clone.path.join(".git/objects/pack"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "pack")
        })
        .count();
    assert_eq!(packs, 2, "the clone keeps both of its packs");

    let run = keyhound_git(&clone.path, &["-v"]);
    run.expect_code(1);
    assert!(
        // The readme's objects stay loose too: `repack -a` without `-d` removes nothing.
        run.stderr
            .contains("reading 3 packs and 6 loose objects in process"),
        "{}",
        run.stderr
    );
    for pair in &creds {
        assert_reported(&run, pair);
    }
    let listing = clone.git(&["cat-file", "--batch-all-objects", "--batch-check"]);
    let blobs = listing.lines().filter(|l| l.contains(" blob ")).count() as u64;
    assert_eq!(blobs, 4, "{listing}");
    let summary = &run.json()["summary"];
    assert_eq!(summary["files_scanned"], blobs, "each blob once: {summary}");
    assert_eq!(summary["incomplete"], false, "{summary}");
}

#[test]
fn objects_the_in_process_reader_cannot_find_are_read_through_git_and_said_so() {
    let tmp = sandbox();
    let (clone, creds) = scattered_clone(&tmp);
    // git reads a quoted alternates entry; keyhound leaves such a database to git.
    let origin_objects = tmp.path().join("origin/.git/objects");
    let alternates = clone.path.join(".git/objects/info/alternates");
    std::fs::write(&alternates, format!("\"{}\"\n", origin_objects.display())).unwrap();

    let run = keyhound_git(&clone.path, &["-v"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("reading objects through git cat-file")
            && run.stderr.contains("quoted path"),
        "{}",
        run.stderr
    );
    for pair in &creds {
        assert_reported(&run, pair);
    }
    assert_eq!(run.json()["summary"]["files_scanned"], 4);
}

#[test]
fn dangling_commit_is_found_only_with_all_objects_as_unreachable() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let creds = Creds::new(9);
    repo.write("README.md", "# app\n");
    repo.commit("Initial commit");
    repo.write("credentials.ini", &creds.ini());
    let dropped = repo.commit("Oops");
    let blob = repo.rev(&format!("{dropped}:credentials.ini"));
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    repo.git(&["reflog", "expire", "--expire=now", "--all"]);
    assert_eq!(repo.git(&["cat-file", "-t", &blob]), "blob");

    let default = keyhound_git(&repo.path, &[]);
    default.expect_code(0);
    assert_not_reported(&default, &creds);
    assert!(findings(&default).is_empty(), "{}", default.stdout_text());

    let all = keyhound_git(&repo.path, &["--all-objects"]);
    all.expect_code(1);
    let (id, secret) = assert_reported(&all, &creds);
    for finding in [&id, &secret] {
        let git = &finding["git"];
        assert_eq!(git["unreachable"], true, "{finding}");
        assert_eq!(git["blob"], blob.as_str());
        assert_eq!(git["commit"], Value::Null, "{finding}");
        assert_ne!(git["in_head"], true, "{finding}");
        assert_eq!(finding["path"], format!("blob:{blob}"));
    }
    assert_eq!(secret["line"], 3);

    let text = keyhound_git_format(&repo.path, "text", &["--all-objects"]);
    text.expect_code(1);
    assert!(
        text.stdout_text().contains("unreachable"),
        "{}",
        text.stdout_text()
    );
}

#[test]
fn submodule_history_is_scanned_only_with_recurse_submodules() {
    let tmp = sandbox();
    let sub = Repo::init(tmp.path(), "library");
    let creds = Creds::new(10);
    sub.write("credentials.ini", &creds.ini());
    let added = sub.commit("Add credentials");
    sub.remove("credentials.ini");
    sub.write("lib.txt", "library\n");
    sub.commit("Replace credentials with a library");

    let sup = Repo::init(tmp.path(), "super");
    sup.write("README.md", "# super\n");
    sup.commit("Initial commit");
    let sub_path = sub.path.display().to_string();
    sup.git(&["submodule", "add", "-q", &sub_path, "sub"]);
    sup.commit("Add the library as a submodule");

    let plain = keyhound_git(&sup.path, &[]);
    plain.expect_code(0);
    assert_not_reported(&plain, &creds);

    let recursive = keyhound_git(&sup.path, &["--recurse-submodules"]);
    recursive.expect_code(1);
    let (id, secret) = assert_reported(&recursive, &creds);
    for finding in [&id, &secret] {
        assert_eq!(finding["path"], "sub/credentials.ini", "{finding}");
        assert_eq!(finding["git"]["commit"]["id"], added.as_str());
        assert_eq!(finding["git"]["in_head"], false);
    }
}

#[test]
fn shallow_clone_is_scanned_as_far_as_it_goes_with_a_warning() {
    let tmp = sandbox();
    let origin = Repo::init(tmp.path(), "origin");
    let old = Creds::new(11);
    let current = Creds::new(12);
    origin.write("old.ini", &old.ini());
    origin.commit("Add old credentials");
    origin.remove("old.ini");
    origin.write(".env", &current.dotenv());
    let tip = origin.commit("Rotate credentials");

    git_in(
        tmp.path(),
        &["clone", "-q", "--depth", "1", &origin.url(), "shallow"],
    );
    let clone = Repo::at(tmp.path().join("shallow"));
    assert_eq!(clone.git(&["rev-parse", "--is-shallow-repository"]), "true");

    let run = keyhound_git(&clone.path, &[]);
    run.expect_code(1);
    assert_not_reported(&run, &old);
    let (_, secret) = assert_reported(&run, &current);
    assert_eq!(secret["git"]["commit"]["id"], tip.as_str());
    assert_eq!(secret["git"]["in_head"], true);
    assert_eq!(run.json()["summary"]["git"]["shallow"], true);
    assert_eq!(run.json()["summary"]["git"]["commits"], 1);
    assert!(run.stderr.contains("shallow"), "{}", run.stderr);
}

#[test]
fn partial_clone_is_scanned_without_fetching_and_reported_incomplete() {
    let tmp = sandbox();
    let origin = Repo::init(tmp.path(), "origin");
    let creds = Creds::new(13);
    origin.write("credentials.ini", &creds.ini());
    origin.commit("Add credentials");
    origin.git(&["config", "uploadpack.allowFilter", "true"]);
    let blob = origin.rev("HEAD:credentials.ini");

    git_in(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--filter=blob:none",
            "--no-checkout",
            &origin.url(),
            "partial",
        ],
    );
    let clone = Repo::at(tmp.path().join("partial"));
    // Asking git whether the blob is here must not fetch it either.
    let present = |clone: &Repo| {
        let mut check = clone.command();
        check
            .env("GIT_NO_LAZY_FETCH", "1")
            .args(["cat-file", "-e", &blob]);
        check.output().expect("git runs").status.success()
    };
    assert!(
        !present(&clone),
        "the blob should be left on the promisor remote"
    );

    let run = keyhound_git(&clone.path, &[]);
    // Nothing could be scanned, so the scan is incomplete rather than clean.
    run.expect_code(2);
    assert!(run.stderr.contains("partial clone"), "{}", run.stderr);
    assert_eq!(run.json()["summary"]["incomplete"], true);
    assert!(!present(&clone), "keyhound must not fetch missing objects");
}

#[test]
fn empty_repository_is_clean() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let run = keyhound_git(&repo.path, &[]);
    run.expect_code(0);
    assert!(findings(&run).is_empty(), "{}", run.stdout_text());
    assert!(!run.stderr.contains("error"), "{}", run.stderr);
    let summary = &run.json()["summary"];
    assert_eq!(summary["files_scanned"], 0);
    assert_eq!(summary["git"]["commits"], 0);
    assert_eq!(summary["incomplete"], false);
}

#[test]
fn bare_repository_is_scanned() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let creds = Creds::new(13);
    repo.write("credentials.ini", &creds.ini());
    let added = repo.commit("Add credentials");
    git_in(tmp.path(), &["clone", "-q", "--bare", "repo", "bare.git"]);

    let run = keyhound_git(tmp.path(), &["bare.git"]);
    run.expect_code(1);
    let (_, secret) = assert_reported(&run, &creds);
    assert_eq!(secret["path"], "credentials.ini");
    assert_eq!(secret["git"]["commit"]["id"], added.as_str());
    assert_eq!(secret["git"]["in_head"], true);
}

#[test]
fn worktree_is_scanned_from_its_directory_with_its_own_head() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let base = Creds::new(14);
    let topic = Creds::new(15);
    repo.write("credentials.ini", &base.ini());
    repo.commit("Add credentials");
    let wt_path = tmp.path().join("wt");
    let wt_arg = wt_path.display().to_string();
    repo.git(&["worktree", "add", "-q", "-b", "topic", &wt_arg]);
    let wt = Repo::at(wt_path);
    wt.follow_clock(&repo);
    wt.write("topic.env", &topic.dotenv());
    let topic_commit = wt.commit("Topic work");

    let from_wt = keyhound_git(&wt.path, &[]);
    from_wt.expect_code(1);
    let (_, base_secret) = assert_reported(&from_wt, &base);
    let (_, topic_secret) = assert_reported(&from_wt, &topic);
    assert_eq!(base_secret["git"]["in_head"], true);
    assert_eq!(topic_secret["git"]["in_head"], true);
    assert_eq!(topic_secret["git"]["commit"]["id"], topic_commit.as_str());

    let from_main = keyhound_git(&repo.path, &[]);
    from_main.expect_code(1);
    let (_, topic_secret) = assert_reported(&from_main, &topic);
    assert_eq!(topic_secret["git"]["in_head"], false);
}

#[test]
fn directory_outside_any_repository_is_an_error_naming_it() {
    let tmp = sandbox();
    let dir = tmp.path().join("plain");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "nothing here\n").unwrap();
    let shown = dir.display().to_string();

    let run = keyhound_git(tmp.path(), &[&shown]);
    run.expect_code(2);
    assert!(run.stdout.is_empty(), "{}", run.stdout_text());
    assert!(
        run.stderr.contains("not a git repository"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(&shown), "{}", run.stderr);

    let missing = tmp.path().join("does-not-exist");
    let shown = missing.display().to_string();
    let run = keyhound_git(tmp.path(), &[&shown]);
    run.expect_code(2);
    assert!(run.stderr.contains(&shown), "{}", run.stderr);
}

#[test]
fn corrupt_blob_is_warned_about_by_id_and_other_blobs_are_still_scanned() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let good = Creds::new(16);
    let lost = Creds::new(17);
    repo.write("good.ini", &good.ini());
    repo.write("lost.ini", &lost.ini());
    repo.commit("Add credentials");
    let bad = repo.rev("HEAD:lost.ini");
    let object = repo
        .path
        .join(".git/objects")
        .join(&bad[..2])
        .join(&bad[2..]);
    assert!(object.is_file(), "{} is a loose object", object.display());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&object, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::write(
        &object,
        b"this is not a zlib stream \x00\x01\x02\xff garbage",
    )
    .unwrap();

    let run = keyhound_git(&repo.path, &[]);
    assert!(
        matches!(run.code, Some(1 | 2)),
        "exit status {:?}\n{}",
        run.code,
        run.stderr
    );
    assert!(
        run.stderr.contains(&bad),
        "warning names {bad}:\n{}",
        run.stderr
    );
    assert_reported(&run, &good);
    assert_not_reported(&run, &lost);
    let summary = &run.json()["summary"];
    assert_eq!(summary["incomplete"], true, "{summary}");
    assert!(
        summary["skipped"].to_string().contains(&bad),
        "skipped lists {bad}: {summary}"
    );
}

#[test]
fn corrupt_blob_makes_an_otherwise_clean_scan_incomplete() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let lost = Creds::new(18);
    repo.write("README.md", "# app\n");
    repo.write("lost.ini", &lost.ini());
    repo.commit("Add credentials");
    let bad = repo.rev("HEAD:lost.ini");
    let object = repo
        .path
        .join(".git/objects")
        .join(&bad[..2])
        .join(&bad[2..]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&object, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::write(&object, b"\xde\xad\xbe\xef not an object").unwrap();

    let run = keyhound_git(&repo.path, &[]);
    run.expect_code(2);
    assert!(
        run.stderr.contains(&bad),
        "warning names {bad}:\n{}",
        run.stderr
    );
    assert_eq!(run.json()["summary"]["incomplete"], true);
}

#[test]
fn a_blob_missing_from_head_makes_an_audit_of_every_ref_incomplete() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    repo.write("README.md", "# app\n");
    repo.write("lost.ini", &Creds::new(19).ini());
    repo.commit("Add credentials");
    let lost = repo.rev("HEAD:lost.ini");
    std::fs::remove_file(
        repo.path
            .join(".git/objects")
            .join(&lost[..2])
            .join(&lost[2..]),
    )
    .unwrap();

    // Every ref (no --branch): the blob is not in the object database to be listed, and the
    // check of the tips' trees finds it missing.
    for args in [&[][..], &["--branch", "HEAD"]] {
        let run = keyhound_git(&repo.path, args);
        run.expect_code(2);
        assert!(run.stderr.contains(&lost), "{args:?}: {}", run.stderr);
        assert_eq!(run.json()["summary"]["incomplete"], true);
    }
}

// ---------------------------------------------------------------------------------------------
// Range mode
// ---------------------------------------------------------------------------------------------

/// main holds `old` in credentials.ini (among other settings); `pr` adds `new` in one commit and
/// `transient` in another, removed again by a third.
struct PullRequest {
    tmp: TempDir,
    repo: Repo,
    old: Creds,
    new: Creds,
    transient: Creds,
    adds_new: String,
    adds_transient: String,
    transient_time: i64,
}

fn pull_request() -> PullRequest {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let old = Creds::new(20);
    let new = Creds::new(21);
    let transient = Creds::new(22);
    repo.write(
        "credentials.ini",
        &format!(
            "[default]\nregion = us-east-1\naws_access_key_id = {}\naws_secret_access_key = {}\noutput = json\n",
            old.id, old.secret
        ),
    );
    repo.commit("Add credentials");
    repo.git(&["switch", "-q", "-c", "pr"]);
    repo.write("services/.env", &format!("PORT=8080\n{}", new.dotenv()));
    let adds_new = repo.commit_as(&ADA, "Configure the service");
    repo.write("scratch.ini", &transient.ini());
    let adds_transient = repo.commit_as(&BOB, "Debug the upload");
    let transient_time = repo.last_time();
    repo.remove("scratch.ini");
    repo.commit_as(&BOB, "Remove the debugging credentials");
    repo.git(&["switch", "-q", "main"]);
    PullRequest {
        tmp,
        repo,
        old,
        new,
        transient,
        adds_new,
        adds_transient,
        transient_time,
    }
}

#[test]
fn range_reports_what_the_commits_add_and_not_what_the_base_holds() {
    let pr = pull_request();
    let run = keyhound_git(&pr.repo.path, &["--range", "main..pr"]);
    run.expect_code(1);
    assert_not_reported(&run, &pr.old);
    // The new pair and the added-then-removed pair.
    assert_eq!(findings(&run).len(), 2, "{}", run.stdout_text());

    let (_, new) = assert_reported(&run, &pr.new);
    assert_eq!(new["path"], "services/.env");
    assert_eq!(new["line"], 3);
    assert_eq!(new["git"]["commit"]["id"], pr.adds_new.as_str());
    assert_eq!(new["git"]["commit"]["author_name"], ADA.name);

    let (id, transient) = assert_reported(&run, &pr.transient);
    for finding in [&id, &transient] {
        let commit = &finding["git"]["commit"];
        assert_eq!(finding["path"], "scratch.ini");
        assert_eq!(commit["id"], pr.adds_transient.as_str(), "{finding}");
        assert_eq!(commit["author_name"], BOB.name);
        assert_eq!(commit["author_email"], BOB.email);
        assert_eq!(commit["time"], pr.transient_time);
        assert_eq!(commit["path"], "scratch.ini");
    }
    assert_eq!(run.json()["summary"]["git"]["commits"], 3);
}

#[test]
fn range_touching_other_lines_of_a_file_with_a_secret_is_clean() {
    let pr = pull_request();
    let repo = &pr.repo;
    repo.git(&["switch", "-q", "-c", "tidy", "main"]);
    repo.write(
        "credentials.ini",
        &format!(
            "# managed by ops\n[default]\nregion = eu-west-1\naws_access_key_id = {}\naws_secret_access_key = {}\noutput = text\n",
            pr.old.id, pr.old.secret
        ),
    );
    repo.commit("Move to Europe");

    let run = keyhound_git(&repo.path, &["--range", "main..tidy"]);
    run.expect_code(0);
    assert!(findings(&run).is_empty(), "{}", run.stdout_text());
    assert_eq!(run.json()["summary"]["git"]["commits"], 1);
}

#[test]
fn since_is_the_range_from_a_revision_to_head() {
    let pr = pull_request();
    pr.repo.git(&["switch", "-q", "pr"]);
    let since = keyhound_git(&pr.repo.path, &["--since", "main"]);
    let to_head = keyhound_git(&pr.repo.path, &["--range", "main..HEAD"]);
    let named = keyhound_git(&pr.repo.path, &["--range", "main..pr"]);
    since.expect_code(1);
    to_head.expect_code(1);
    named.expect_code(1);
    assert_eq!(findings(&since), findings(&to_head));
    assert_eq!(findings(&since), findings(&named));
    assert_eq!(findings(&since).len(), 2, "{}", since.stdout_text());
}

#[test]
fn range_does_not_blame_a_branch_for_secrets_it_merges_in_from_the_base() {
    let pr = pull_request();
    let repo = &pr.repo;
    let later = Creds::new(23);
    repo.write("ops/later.ini", &later.ini());
    repo.commit_as(&BOB, "Add ops credentials on main");
    repo.git(&["switch", "-q", "pr"]);
    repo.git(&["merge", "-q", "--no-edit", "main"]);

    let run = keyhound_git(&repo.path, &["--range", "main..pr"]);
    run.expect_code(1);
    assert_not_reported(&run, &later);
    assert_not_reported(&run, &pr.old);
    assert_reported(&run, &pr.new);
    assert_reported(&run, &pr.transient);
}

#[test]
fn range_with_an_unknown_revision_fails_with_one_line_naming_it() {
    let pr = pull_request();
    let run = keyhound_git(&pr.repo.path, &["--range", "no-such-branch..HEAD"]);
    run.expect_code(2);
    assert!(run.stdout.is_empty(), "{}", run.stdout_text());
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(lines[0].contains("no-such-branch"), "{}", run.stderr);
}

#[test]
fn empty_range_fails_saying_so() {
    let pr = pull_request();
    let run = keyhound_git(&pr.repo.path, &["--range", "HEAD..HEAD"]);
    run.expect_code(2);
    assert!(run.stderr.contains("empty"), "{}", run.stderr);
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
}

#[test]
fn range_whose_base_a_shallow_clone_lacks_fails_pointing_at_fetch_depth() {
    let pr = pull_request();
    let tmp = pr.tmp.path();
    let url = pr.repo.url();
    git_in(
        tmp,
        &["clone", "-q", "--depth", "1", "--branch", "pr", &url, "ci"],
    );
    let ci = Repo::at(tmp.join("ci"));
    let base = pr.repo.rev("main");

    // The base is not in the clone at all.
    let missing = keyhound_git(&ci.path, &["--range", &format!("{base}..HEAD")]);
    missing.expect_code(2);
    assert!(missing.stderr.contains(&base), "{}", missing.stderr);
    assert!(
        missing.stderr.contains("fetch-depth") && missing.stderr.contains("shallow"),
        "{}",
        missing.stderr
    );

    // The base is fetched, but not the history joining it to HEAD.
    ci.git(&["fetch", "-q", "--depth", "1", "origin", "main:main"]);
    let cut = keyhound_git(&ci.path, &["--range", "main..HEAD"]);
    cut.expect_code(2);
    assert!(
        cut.stderr.contains("fetch-depth") && cut.stderr.contains("shallow"),
        "{}",
        cut.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Staged mode and the pre-commit hook
// ---------------------------------------------------------------------------------------------

/// A repository with one clean commit.
fn committed_repo(tmp: &TempDir) -> Repo {
    let repo = Repo::init(tmp.path(), "repo");
    repo.write("README.md", "# app\n");
    repo.commit("Initial commit");
    repo
}

#[test]
fn staged_secret_blocks_the_commit() {
    let tmp = sandbox();
    let repo = committed_repo(&tmp);
    let creds = Creds::new(30);
    repo.write("app.env", &format!("PORT=8080\n{}", creds.dotenv()));
    repo.git(&["add", "app.env"]);

    let run = keyhound_git(&repo.path, &["--staged"]);
    run.expect_code(1);
    assert!(run.stderr.contains("commit blocked"), "{}", run.stderr);
    let (id, secret) = assert_reported(&run, &creds);
    assert_eq!(secret["path"], "app.env");
    assert_eq!(secret["line"], 3);
    assert_eq!(secret["rule_id"], "aws-access-key-pair");
    assert_eq!(id["pair"]["line"], 2);
    assert_eq!(secret["git"]["commit"], Value::Null);
    assert_eq!(
        secret["git"]["blob"],
        repo.git(&["rev-parse", ":app.env"]).as_str()
    );

    let text = keyhound_git_format(&repo.path, "text", &["--staged"]);
    text.expect_code(1);
    let out = text.stdout_text();
    assert!(out.contains("app.env:3:"), "{out}");
    assert!(out.contains("aws-access-key-pair"), "{out}");
    assert!(text.stderr.contains("commit blocked"), "{}", text.stderr);
}

#[test]
fn secret_only_in_the_work_tree_does_not_block() {
    let tmp = sandbox();
    let repo = committed_repo(&tmp);
    let creds = Creds::new(31);
    repo.write("app.env", &creds.dotenv());
    repo.write("README.md", "# app\n\nNow with docs.\n");
    repo.git(&["add", "README.md"]);

    let run = keyhound_git(&repo.path, &["--staged"]);
    run.expect_code(0);
    assert!(findings(&run).is_empty(), "{}", run.stdout_text());
    assert!(!run.stderr.contains("commit blocked"), "{}", run.stderr);
}

#[test]
fn secret_staged_then_unstaged_does_not_block() {
    let tmp = sandbox();
    let repo = committed_repo(&tmp);
    let creds = Creds::new(32);
    repo.write("app.env", &creds.dotenv());
    repo.git(&["add", "app.env"]);
    repo.git(&["restore", "--staged", "app.env"]);

    let run = keyhound_git(&repo.path, &["--staged"]);
    run.expect_code(0);
    assert!(findings(&run).is_empty(), "{}", run.stdout_text());
}

#[test]
fn staged_scan_reads_the_index_not_the_work_tree() {
    let tmp = sandbox();
    let repo = committed_repo(&tmp);
    let creds = Creds::new(33);
    repo.write("app.env", &creds.dotenv());
    repo.git(&["add", "app.env"]);
    repo.write("app.env", "AWS_PROFILE=default\n");

    let run = keyhound_git(&repo.path, &["--staged"]);
    run.expect_code(1);
    assert_reported(&run, &creds);
    assert!(run.stderr.contains("commit blocked"), "{}", run.stderr);
}

#[test]
fn staged_secret_before_the_first_commit_is_found() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let creds = Creds::new(34);
    repo.write("credentials.ini", &creds.ini());
    repo.git(&["add", "credentials.ini"]);

    let run = keyhound_git(&repo.path, &["--staged"]);
    run.expect_code(1);
    let (_, secret) = assert_reported(&run, &creds);
    assert_eq!(secret["path"], "credentials.ini");
    assert_eq!(secret["line"], 3);
}

#[test]
fn staged_lines_around_a_committed_secret_do_not_block() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let creds = Creds::new(35);
    repo.write("credentials.ini", &creds.ini());
    repo.commit("Add credentials");
    repo.write(
        "credentials.ini",
        &format!(
            "# shared profile\n{}region = eu-west-1\n\n[other]\nregion = us-east-2\n",
            creds.ini()
        ),
    );
    repo.git(&["add", "credentials.ini"]);

    let run = keyhound_git(&repo.path, &["--staged"]);
    run.expect_code(0);
    assert!(findings(&run).is_empty(), "{}", run.stdout_text());
}

/// PATH with the directory of the built binary first, so a hook finds `keyhound`.
fn path_with_keyhound() -> std::ffi::OsString {
    let bin = assert_cmd::cargo::cargo_bin("keyhound");
    let dir = bin.parent().unwrap().to_path_buf();
    let mut dirs = vec![dir];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap()
}

/// `git commit ARGS` with hooks enabled; returns its output.
fn commit_with_hooks(repo: &Repo, args: &[&str]) -> Output {
    let mut cmd = std::process::Command::new("git");
    isolate(&mut cmd);
    cmd.current_dir(&repo.path)
        .env("PATH", path_with_keyhound())
        .env("GIT_AUTHOR_DATE", "@1700000600 +0000")
        .env("GIT_COMMITTER_DATE", "@1700000600 +0000")
        .args(["-c", "commit.gpgsign=false", "commit", "-q"])
        .args(args)
        .output()
        .expect("git runs")
}

fn install_hook(dir: &Path, args: &[&str]) -> Run {
    run(keyhound_for_git(dir).args(["hook", "install"]).args(args))
}

#[test]
fn installed_hook_blocks_a_commit_of_a_secret_and_lets_a_clean_one_through() {
    let tmp = sandbox();
    let repo = committed_repo(&tmp);
    let install = install_hook(&repo.path, &[]);
    install.expect_code(0);
    let hook = repo.path.join(".git/hooks/pre-commit");
    let script = std::fs::read_to_string(&hook).expect("the hook is written");
    assert!(script.contains("keyhound git --staged"), "{script}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&hook).unwrap().permissions().mode();
        assert_ne!(mode & 0o111, 0, "the hook is executable: {mode:o}");
    }

    let creds = Creds::new(40);
    repo.write("app.env", &creds.dotenv());
    repo.git(&["add", "app.env"]);
    let before = repo.commit_count();
    let blocked = commit_with_hooks(&repo, &["-m", "Add config"]);
    let stderr = String::from_utf8_lossy(&blocked.stderr);
    assert!(
        !blocked.status.success(),
        "the commit went through: {stderr}"
    );
    assert!(stderr.contains("commit blocked"), "{stderr}");
    assert_eq!(repo.commit_count(), before);

    repo.git(&["rm", "-q", "--cached", "app.env"]);
    repo.remove("app.env");
    repo.write("app.env", "AWS_PROFILE=default\n");
    repo.git(&["add", "app.env"]);
    let clean = commit_with_hooks(&repo, &["-m", "Add config"]);
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
    assert_eq!(repo.commit_count(), before + 1);
}

#[test]
fn installed_hook_blocks_commit_all_of_a_tracked_file_gaining_a_secret() {
    let tmp = sandbox();
    let repo = committed_repo(&tmp);
    repo.write("app.env", "PORT=8080\n");
    repo.commit("Add config");
    install_hook(&repo.path, &[]).expect_code(0);

    let creds = Creds::new(41);
    repo.write("app.env", &format!("PORT=8080\n{}", creds.dotenv()));
    let before = repo.commit_count();
    let blocked = commit_with_hooks(&repo, &["-a", "-m", "Configure AWS"]);
    let stderr = String::from_utf8_lossy(&blocked.stderr);
    assert!(
        !blocked.status.success(),
        "the commit went through: {stderr}"
    );
    assert_eq!(repo.commit_count(), before);
}

#[test]
fn hook_install_replaces_a_foreign_hook_only_with_force() {
    let tmp = sandbox();
    let repo = committed_repo(&tmp);
    let hook = repo.path.join(".git/hooks/pre-commit");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    let foreign = "#!/bin/sh\nmake lint\n";
    std::fs::write(&hook, foreign).unwrap();

    let refused = install_hook(&repo.path, &[]);
    refused.expect_code(2);
    assert!(refused.stderr.contains("--force"), "{}", refused.stderr);
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), foreign);

    let forced = install_hook(&repo.path, &["--force"]);
    forced.expect_code(0);
    let script = std::fs::read_to_string(&hook).unwrap();
    assert!(script.contains("keyhound git --staged"), "{script}");
}

#[test]
fn a_secret_kept_through_many_revisions_is_one_finding_attributed_to_its_first_commit() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let creds = Creds::new(61);
    repo.write(
        "deploy.env",
        &format!("REGION=eu-west-1\n{}", creds.dotenv()),
    );
    let added = repo.commit_as(&ADA, "Add deploy settings");
    for (i, region) in ["us-east-1", "eu-central-1", "ap-south-1", "sa-east-1"]
        .iter()
        .enumerate()
    {
        repo.write(
            "deploy.env",
            &format!("REGION={region}\n{}", creds.dotenv()),
        );
        repo.commit_as(&BOB, &format!("Move to {region} ({i})"));
    }
    repo.write("copy/deploy.env", &creds.dotenv());
    repo.commit_as(&BOB, "Keep a copy");

    let run = keyhound_git(&repo.path, &[]);
    run.expect_code(1);
    let finding = only_finding(&run, &creds.secret);
    assert_eq!(finding["rule_id"], "aws-access-key-pair");
    // Five revisions of deploy.env and the copy: six blobs, one secret.
    assert_eq!(finding["occurrences"], 6);
    let locations = finding["locations"].as_array().unwrap();
    assert_eq!(locations.len(), 6);
    assert_eq!(finding["git"]["commit"]["id"], added.as_str());
    assert_eq!(locations[0]["git"]["commit"]["id"], added.as_str());
    let blobs: std::collections::BTreeSet<&str> = locations
        .iter()
        .map(|l| l["git"]["blob"].as_str().unwrap())
        .collect();
    assert_eq!(blobs.len(), 6);
    // The first revision's blob is gone from HEAD, but the secret is not.
    assert_eq!(finding["git"]["in_head"], false);
    assert_eq!(finding["in_head"], true);
    assert_eq!(run.json()["summary"]["findings"], 1);
    assert_eq!(run.json()["summary"]["occurrences"], 6);

    let text = keyhound_git_format(&repo.path, "text", &[]);
    text.expect_code(1);
    let out = text.stdout_text();
    assert_eq!(out.matches("aws-access-key-pair").count(), 1, "{out}");
    assert!(out.contains("also at "), "{out}");
    assert!(!out.contains("only in history"), "{out}");
    assert!(
        out.contains(" and 2 more (the JSON and SARIF formats list them all)"),
        "{out}"
    );
    assert!(
        text.stderr.contains("1 finding in 6 places: 1 critical"),
        "{}",
        text.stderr
    );

    let sarif = keyhound_git_format(&repo.path, "sarif", &[]);
    let log = sarif.json();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["locations"].as_array().unwrap().len(), 6);
    assert_eq!(results[0]["properties"]["in_head"], true);
}

#[test]
fn a_base64_encoded_secret_in_history_and_in_the_index_is_found_decoded() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let creds = Creds::new(71);
    let b64 = |text: &str| keyhound::decode::base64_encode(text.as_bytes());
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\ndata:\n  AWS_ACCESS_KEY_ID: {}\n  AWS_SECRET_ACCESS_KEY: {}\n",
        b64(&creds.id),
        b64(&creds.secret)
    );
    repo.write("deploy/secret.yaml", &manifest);
    let added = repo.commit("Add the uploader secret");
    repo.remove("deploy/secret.yaml");
    repo.commit("Use the external secret store");

    let run = keyhound_git(&repo.path, &[]);
    run.expect_code(1);
    let finding = only_finding(&run, &creds.secret);
    assert_eq!(finding["rule_id"], "aws-access-key-pair");
    assert_eq!(finding["pair"]["key_id"], creds.id.as_str());
    assert_eq!(strs(&finding["decoded"]), ["base64"]);
    assert_eq!(finding["line"], 5);
    assert_eq!(finding["column"], 26);
    assert_eq!(finding["git"]["commit"]["id"], added.as_str());
    assert_eq!(finding["in_head"], false);

    repo.write("deploy/secret.yaml", &manifest);
    repo.git(&["add", "deploy/secret.yaml"]);
    let staged = keyhound_git(&repo.path, &["--staged"]);
    staged.expect_code(1);
    let finding = only_finding(&staged, &creds.secret);
    assert_eq!(strs(&finding["decoded"]), ["base64"]);
}

#[test]
fn broken_refs_are_named_in_warnings_and_the_rest_of_history_is_scanned() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let creds = Creds::new(81);
    repo.write("config/credentials.ini", &creds.ini());
    repo.commit("Add credentials");
    let git_dir = repo.path.join(".git");
    std::fs::write(git_dir.join("refs/heads/garbled"), "not an object id\n").unwrap();
    std::fs::write(
        git_dir.join("refs/heads/ghost"),
        format!("{}\n", "1".repeat(40)),
    )
    .unwrap();

    let run = keyhound_git(&repo.path, &[]);
    run.expect_code(1);
    assert_reported(&run, &creds);
    assert!(
        run.stderr.contains("skipped ref refs/heads/garbled"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("skipped ref refs/heads/ghost"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("object {} is missing", "1".repeat(40))),
        "{}",
        run.stderr
    );
    let summary = &run.json()["summary"];
    assert_eq!(summary["incomplete"], true);

    // With nothing to report, the broken refs make the audit's exit status 2 (incomplete).
    let clean = Repo::init(tmp.path(), "clean");
    clean.write("README.md", "# nothing here\n");
    clean.commit("Start");
    std::fs::write(clean.path.join(".git/refs/heads/garbled"), "zzz\n").unwrap();
    keyhound_git(&clean.path, &[]).expect_code(2);
}

#[test]
fn a_git_file_pointing_nowhere_is_an_error_naming_both_paths() {
    let tmp = sandbox();
    let dir = tmp.path().join("worktree");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".git"), "gitdir: /nonexistent/keyhound/repo.git\n").unwrap();
    let run = keyhound_git(&dir, &[]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("is not a git repository"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("/nonexistent/keyhound/repo.git"),
        "{}",
        run.stderr
    );
}

#[test]
fn findings_past_a_missing_tree_or_commit_are_reported_unplaced() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let (early, late) = (Creds::new(93), Creds::new(94));
    repo.write("early.ini", &early.ini());
    let first = repo.commit("Add the first credentials");
    repo.write("late.ini", &late.ini());
    repo.commit("Add the second credentials");
    repo.write("notes.txt", "nothing secret\n");
    repo.commit("Add notes");
    let loose = |id: &str| repo.path.join(".git/objects").join(&id[..2]).join(&id[2..]);
    std::fs::remove_file(loose(&repo.rev("HEAD~1^{tree}"))).unwrap();

    // git walks history oldest first and stops at the second commit, whose tree is gone.
    let run = keyhound_git(&repo.path, &[]);
    run.expect_code(1);
    let (_, placed) = assert_reported(&run, &early);
    assert_eq!(placed["git"]["commit"]["id"], first.as_str());
    assert_eq!(placed["git"]["unplaced"], false);
    assert_eq!(
        placed["in_head"],
        Value::Null,
        "not known: the walk never got to HEAD"
    );
    let (_, unplaced) = assert_reported(&run, &late);
    assert_eq!(unplaced["git"]["unplaced"], true);
    assert_eq!(unplaced["git"]["commit"], Value::Null);
    assert_eq!(unplaced["git"]["blob"], repo.rev("HEAD:late.ini").as_str());
    assert!(
        run.stderr.contains("git stopped walking history")
            && run
                .stderr
                .contains("findings in 1 blob that the walk of history did not reach"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json()["summary"]["incomplete"], true);
    let text = keyhound_git_format(&repo.path, "text", &[]);
    assert!(
        text.stdout_text()
            .contains("where it sits in history is unknown"),
        "{}",
        text.stdout_text()
    );

    // With the first commit gone too, git cannot even list the commits in full.
    std::fs::remove_file(loose(&first)).unwrap();
    let run = keyhound_git(&repo.path, &[]);
    run.expect_code(1);
    for creds in [&early, &late] {
        let (_, finding) = assert_reported(&run, creds);
        assert_eq!(finding["git"]["unplaced"], true, "{finding}");
    }
    assert!(run.stderr.contains("history is broken"), "{}", run.stderr);
    assert_eq!(run.json()["summary"]["git"]["commits"], 2);
}

#[test]
fn a_damaged_pack_of_thousands_of_blobs_is_read_without_hanging() {
    // git complains about the damaged pack on every object it looks up: thousands of lines on
    // its standard error, which keyhound must drain while it reads the blobs.
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let notes = tmp.path().join("notes");
    std::fs::create_dir(&notes).unwrap();
    let paths: String = (0..3000)
        .map(|i| {
            let path = notes.join(format!("{i}.txt"));
            std::fs::write(&path, format!("note {i}: nothing secret\n")).unwrap();
            format!("{}\n", path.display())
        })
        .collect();
    let ids = git_with_input(&repo, &["hash-object", "-w", "--stdin-paths"], &paths);
    let name = git_with_input(
        &repo,
        &["pack-objects", "-q", ".git/objects/pack/pack"],
        &ids,
    );
    repo.git(&["prune-packed"]);
    let pack = repo
        .path
        .join(format!(".git/objects/pack/pack-{}.pack", name.trim()));
    let len = std::fs::metadata(&pack).unwrap().len();
    cut_file(&pack, len / 2);

    let run = keyhound_git(&repo.path, &["--all-objects"]);
    run.expect_code(2);
    let recovered: u64 = run
        .stderr
        .split(" objects of the 3000 it lists read from it")
        .next()
        .and_then(|before| before.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of recovered objects:\n{}", run.stderr));
    assert!((500..3000).contains(&recovered), "{recovered}");
    let summary = &run.json()["summary"];
    assert_eq!(summary["files_scanned"], recovered, "{summary}");
    assert!(
        run.stderr
            .contains(&format!("skipped {} more objects", 3000 - recovered - 20)),
        "{}",
        run.stderr
    );
}

/// Runs `git args…` in `repo` with `input` on its standard input; returns its standard output.
fn git_with_input(repo: &Repo, args: &[&str], input: &str) -> String {
    let mut child = repo
        .command()
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, input.as_bytes()).unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "git {}", args.join(" "));
    String::from_utf8(output.stdout).unwrap()
}

/// Truncates `path` to `len` bytes (git writes packs read-only).
fn cut_file(path: &Path, len: u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.set_len(len).unwrap();
}

#[test]
fn a_truncated_pack_is_read_up_to_the_cut_and_the_objects_past_it_are_named() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let (one, two) = (Creds::new(91), Creds::new(92));
    repo.write("one.ini", &one.ini());
    repo.write("two.ini", &two.ini());
    repo.write("notes.txt", "nothing secret\n");
    let added = repo.commit("Add credentials");
    let blobs = [repo.rev("HEAD:one.ini"), repo.rev("HEAD:two.ini")];

    // Move the two credential blobs into a pack of their own; the rest stays loose.
    let objects = repo.path.join(".git/objects");
    let list = format!("{}\n{}\n", blobs[0], blobs[1]);
    let name = git_with_input(
        &repo,
        &["pack-objects", "-q", ".git/objects/pack/pack"],
        &list,
    );
    let pack = objects.join(format!("pack/pack-{}.pack", name.trim()));
    repo.git(&["prune-packed"]);
    // Cut the pack three bytes into whichever blob it holds second.
    let listing = repo.git(&[
        "verify-pack",
        "-v",
        pack.with_extension("idx").to_str().unwrap(),
    ]);
    let offset = |blob: &str| -> u64 {
        let line = listing.lines().find(|l| l.starts_with(blob)).unwrap();
        line.split_whitespace().nth(4).unwrap().parse().unwrap()
    };
    let (kept, lost) = if offset(&blobs[0]) < offset(&blobs[1]) {
        ((&one, &blobs[0]), (&two, &blobs[1]))
    } else {
        ((&two, &blobs[1]), (&one, &blobs[0]))
    };
    cut_file(&pack, offset(lost.1) + 3);

    // Recovered objects go to a temporary directory, which is gone when keyhound ends.
    let scratch = tmp.path().join("scratch");
    std::fs::create_dir(&scratch).unwrap();
    let run = run(keyhound_git_command(&repo.path, "json", &[]).env("TMPDIR", &scratch));
    run.expect_code(1);
    let (_, finding) = assert_reported(&run, kept.0);
    assert_eq!(finding["git"]["blob"], kept.1.as_str());
    assert_eq!(finding["git"]["commit"]["id"], added.as_str());
    assert_eq!(finding["in_head"], true);
    assert_not_reported(&run, lost.0);
    let pack_name = pack.file_name().unwrap().to_string_lossy();
    assert!(
        run.stderr.contains(&format!(
            "{pack_name}: damaged pack: it does not match its index (cut short or overwritten); \
             1 object of the 2 it lists read from it"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("skipped object {}", lost.1)),
        "{}",
        run.stderr
    );
    let summary = &run.json()["summary"];
    assert_eq!(summary["incomplete"], true);
    let skipped = summary["skipped"].to_string();
    assert!(skipped.contains(lost.1.as_str()), "{skipped}");
    assert!(skipped.contains(pack_name.as_ref()), "{skipped}");
    assert_eq!(std::fs::read_dir(&scratch).unwrap().count(), 0);
    assert!(!objects.join(&kept.1[..2]).join(&kept.1[2..]).exists());

    // Cut inside the first blob too: nothing is left to report, and the damage alone makes the
    // exit status 2.
    cut_file(&pack, offset(kept.1) + 3);
    let run = keyhound_git(&repo.path, &[]);
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("0 objects of the 2 it lists read from it"),
        "{}",
        run.stderr
    );
}

/// A file edited over many commits, repacked so that git stores most versions as deltas of
/// others: the audit matches a delta only around its changes, yet every version that holds
/// the key is reported, and the one that added it is named.
#[test]
fn a_key_in_the_unchanged_part_of_delta_stored_versions_is_found_in_every_version() {
    let tmp = sandbox();
    let repo = Repo::init(tmp.path(), "repo");
    let creds = Creds::new(41);
    let filler = |version: usize| -> Vec<String> {
        (0..400)
            .map(|n| {
                if n % 37 == version % 37 {
                    format!("setting_{n} = {version}  # tuned\n")
                } else {
                    format!("setting_{n} = {n}\n")
                }
            })
            .collect()
    };
    let file = |version: usize, with_key: bool| {
        let mut lines = filler(version);
        if with_key {
            lines.insert(200, creds.dotenv());
        }
        lines.concat()
    };
    repo.write("app/settings.env", &file(0, false));
    repo.commit("settings");
    repo.write("app/settings.env", &file(1, true));
    let added = repo.commit_as(&BOB, "tune settings");
    let mut holding = vec![added.clone()];
    for version in 2..10 {
        repo.write("app/settings.env", &file(version, true));
        holding.push(repo.commit(&format!("tune settings {version}")));
    }
    repo.write("app/settings.env", &file(10, false));
    repo.commit("drop the key");
    repo.git(&[
        "repack",
        "-q",
        "-a",
        "-d",
        "-f",
        "--depth=50",
        "--window=50",
    ]);
    let blobs: Vec<String> = holding
        .iter()
        .map(|c| repo.rev(&format!("{c}:app/settings.env")))
        .collect();
    let pack = repo.git(&["rev-parse", "--git-path", "objects/pack"]);
    let index = std::fs::read_dir(repo.path.join(&pack))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "idx"))
        .unwrap();
    let listing = repo.git(&["verify-pack", "-v", index.to_str().unwrap()]);
    let stored_as_deltas = blobs
        .iter()
        .filter(|b| {
            listing
                .lines()
                .any(|l| l.starts_with(b.as_str()) && l.split_whitespace().count() >= 7)
        })
        .count();
    assert!(stored_as_deltas >= 7, "{listing}");

    // The built-in rules match every blob whole; with imported rules, whose keyword search
    // costs more, the deltas are matched around their changes: the findings are the same.
    let imported = tmp.path().join("gitleaks.toml");
    std::fs::write(
        &imported,
        "[extend]\nuseDefault = true\n[[rules]]\nid = \"generic-token\"\n\
         regex = '''(?i)token[\\s=:]{1,3}([a-z0-9]{24,})'''\nkeywords = [\"token\"]\n",
    )
    .unwrap();
    let mut expected = blobs.clone();
    expected.sort();
    for args in [vec![], vec!["--rules", imported.to_str().unwrap()]] {
        let run = keyhound_git(&repo.path, &args);
        run.expect_code(1);
        let (_, secret) = assert_reported(&run, &creds);
        assert_eq!(secret["git"]["commit"]["id"], added.as_str(), "{secret}");
        assert_eq!(secret["git"]["commit"]["author_name"], BOB.name);
        assert_eq!(secret["occurrences"], 9, "{secret}");
        assert_eq!(secret["git"]["in_head"], false, "{secret}");
        let mut reported: Vec<String> = secret["locations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["git"]["blob"].as_str().unwrap().to_string())
            .collect();
        reported.sort();
        reported.dedup();
        assert_eq!(reported, expected, "{args:?}: {secret}");
    }
}
