//! keyhound's GitHub Action: `action.yml` and the scripts under `action/` it runs.
//!
//! `action/scan.sh` is driven as the runner drives it, with a fake event payload, a clone of a
//! local bare "origin" as the workspace, and files standing in for the step's outputs and job
//! summary, for every kind of event it tells apart. `action/install.sh` is run against a fake
//! release served on 127.0.0.1 and a stand-in for cargo that records what it was asked. Nothing
//! here reaches the internet. `action.yml` is checked against the scripts: the inputs they read
//! are declared, the scripts it runs exist, and the SARIF upload waits on the scan's say-so.
//!
//! The tests need bash and python3 (as the action does); without either, each says so and passes.
#![cfg(unix)]

#[allow(dead_code)]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use serde_yaml::Value as Yaml;

use common::crate_root;
use common::repo::{git_in, isolate, Creds, Repo, ADA};

/// The repository the fake events come from.
const REPOSITORY: &str = "octo-org/payments";

/// The commit id push events give for "no commit".
const NO_COMMIT: &str = "0000000000000000000000000000000000000000";

/// Whether bash and python3 are here to run the scripts; says why not when they are not.
fn tools_present() -> bool {
    for tool in ["bash", "python3"] {
        if Command::new(tool).arg("--version").output().is_err() {
            eprintln!("skipped: {tool} is not installed, and the action's scripts need it");
            return false;
        }
    }
    true
}

/// A secret as every report shows it: its first and last four characters.
fn redacted(secret: &str) -> String {
    format!("{}…{}", &secret[..4], &secret[secret.len() - 4..])
}

// ---------------------------------------------------------------------------------------------
// Repositories: an author's repository, the "origin" it pushes to, and the runner's clone

/// An author's repository with a bare origin beside it, in a temporary directory.
struct Remote {
    dir: tempfile::TempDir,
    author: Repo,
}

impl Remote {
    fn new() -> Remote {
        let dir = tempfile::tempdir().unwrap();
        git_in(dir.path(), &["init", "-q", "--bare", "origin.git"]);
        let author = Repo::init(dir.path(), "author");
        author.git(&["remote", "add", "origin", &Self::url_in(dir.path())]);
        Remote { dir, author }
    }

    fn url_in(dir: &Path) -> String {
        format!("file://{}", dir.join("origin.git").display())
    }

    fn url(&self) -> String {
        Self::url_in(self.dir.path())
    }

    /// Commits `files` (path, content; empty content removes the file) as Ada.
    fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        for (path, content) in files {
            if content.is_empty() {
                self.author.remove(path);
            } else {
                self.author.write(path, content);
            }
        }
        self.author.commit_as(&ADA, message)
    }

    /// Pushes refspecs to origin, forced.
    fn push(&self, refspecs: &[&str]) {
        let mut args = vec!["push", "-q", "--force", "origin"];
        args.extend_from_slice(refspecs);
        self.author.git(&args);
    }

    /// The runner's workspace: a clone of origin (`clone_args` such as `--depth 1`), at `branch`.
    fn checkout(&self, branch: &str, clone_args: &[&str]) -> PathBuf {
        let mut args = vec!["clone", "-q", "--branch", branch];
        args.extend_from_slice(clone_args);
        let url = self.url();
        args.extend([url.as_str(), "workspace"]);
        git_in(self.dir.path(), &args);
        self.dir.path().join("workspace")
    }
}

// ---------------------------------------------------------------------------------------------
// Events

fn pull_request(base: &str, head: &str, head_repo: Value) -> Value {
    json!({
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "base": { "sha": base, "ref": "main", "repo": { "full_name": REPOSITORY, "fork": false } },
            "head": { "sha": head, "ref": "feature", "repo": head_repo },
        },
        "repository": { "full_name": REPOSITORY, "fork": false },
    })
}

/// The head repository of a pull request from a branch of the repository itself.
fn same_repository() -> Value {
    json!({ "full_name": REPOSITORY, "fork": false })
}

fn push(before: &str, after: &str) -> Value {
    json!({
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "created": before == NO_COMMIT,
        "deleted": false,
        "forced": false,
        "repository": { "full_name": REPOSITORY, "fork": false },
    })
}

// ---------------------------------------------------------------------------------------------
// Running action/scan.sh

/// What one run of `action/scan.sh` left behind.
struct Scan {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    outputs: BTreeMap<String, String>,
    summary: String,
    /// RUNNER_TEMP: where the reports were written.
    temp: PathBuf,
    /// The runner's files: the event, the outputs, the summary and RUNNER_TEMP.
    _runner: tempfile::TempDir,
}

impl Scan {
    fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no output {name}:\n{}", self.shown()))
    }

    fn shown(&self) -> String {
        format!(
            "exit status {:?}\noutputs {:?}\nstdout:\n{}\nstderr:\n{}\nsummary:\n{}",
            self.code, self.outputs, self.stdout, self.stderr, self.summary
        )
    }

    #[track_caller]
    fn expect(&self, code: i32, verdict: &str, findings: &str) -> &Self {
        assert_eq!(self.code, Some(code), "{}", self.shown());
        assert_eq!(self.output("verdict"), verdict, "{}", self.shown());
        assert_eq!(self.output("findings"), findings, "{}", self.shown());
        self
    }

    /// Panics if `secret` appears raw in anything the run wrote: its output, its outputs, the
    /// summary, and every report under RUNNER_TEMP.
    #[track_caller]
    fn expect_never_shows(&self, secret: &str) {
        for (what, text) in [
            ("stdout", &self.stdout),
            ("stderr", &self.stderr),
            ("summary", &self.summary),
            ("outputs", &format!("{:?}", self.outputs)),
        ] {
            assert!(!text.contains(secret), "the secret is in {what}:\n{text}");
        }
        for file in files_under(&self.temp) {
            let bytes = std::fs::read(&file).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(secret),
                "the secret is in {}",
                file.display()
            );
        }
    }

    /// The annotations (workflow commands) on stdout.
    fn annotations(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with("::error file=") || l.starts_with("::warning file="))
            .collect()
    }

    /// The SARIF log the run wrote.
    fn sarif(&self) -> Value {
        let path = self.output("sarif-file");
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("sarif-file {path}: {e}\n{}", self.shown()));
        serde_json::from_str(&text).unwrap()
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// Every variable the scripts read: the tests set what they mean to, and nothing leaks in from
/// the environment the tests run in (a CI runner sets many of them).
const SCRIPT_VARIABLES: &[&str] = &[
    "KEYHOUND",
    "KEYHOUND_MODE",
    "KEYHOUND_ARGS",
    "KEYHOUND_SARIF",
    "KEYHOUND_FAIL",
    "KEYHOUND_VERSION",
    "KEYHOUND_ACTION_REPOSITORY",
    "KEYHOUND_ACTION_REF",
    "KEYHOUND_RELEASE_BASE_URL",
    "KEYHOUND_LOG",
    "GITHUB_EVENT_NAME",
    "GITHUB_EVENT_PATH",
    "GITHUB_WORKSPACE",
    "GITHUB_OUTPUT",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_PATH",
    "GITHUB_ACTION_PATH",
    "RUNNER_TEMP",
    "RUNNER_OS",
    "RUNNER_ARCH",
];

/// `bash SCRIPT` from the crate root, isolated from the user's git configuration and from the
/// variables the scripts read.
fn script(name: &str) -> Command {
    let mut cmd = Command::new("bash");
    isolate(&mut cmd);
    for var in SCRIPT_VARIABLES {
        cmd.env_remove(var);
    }
    cmd.arg(crate_root().join("action").join(name))
        .current_dir(crate_root());
    cmd
}

fn run_script(cmd: Command) -> (Option<i32>, String, String) {
    let mut cmd = assert_cmd::Command::from_std(cmd);
    cmd.timeout(Duration::from_secs(120));
    let output = cmd.output().expect("bash runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs `action/scan.sh` in `workspace` for event `name` with payload `event` and the inputs
/// (as action.yml passes them) `inputs`, with the built keyhound.
fn scan(workspace: &Path, name: &str, event: &Value, inputs: &[(&str, &str)]) -> Scan {
    let runner_dir = tempfile::tempdir().unwrap();
    let runner = runner_dir.path();
    let temp = runner.join("temp");
    std::fs::create_dir(&temp).unwrap();
    let event_path = runner.join("event.json");
    std::fs::write(&event_path, serde_json::to_vec_pretty(event).unwrap()).unwrap();
    let outputs = runner.join("outputs");
    let summary = runner.join("summary.md");
    let mut cmd = script("scan.sh");
    cmd.env("KEYHOUND", assert_cmd::cargo::cargo_bin("keyhound"))
        .env("GITHUB_EVENT_NAME", name)
        .env("GITHUB_EVENT_PATH", &event_path)
        .env("GITHUB_WORKSPACE", workspace)
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("RUNNER_TEMP", &temp);
    for (input, value) in inputs {
        cmd.env(format!("KEYHOUND_{}", input.to_uppercase()), value);
    }
    let (code, stdout, stderr) = run_script(cmd);
    let outputs = std::fs::read_to_string(&outputs).unwrap_or_default();
    Scan {
        code,
        stdout,
        stderr,
        outputs: outputs
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        temp,
        _runner: runner_dir,
    }
}

// ---------------------------------------------------------------------------------------------
// Pull requests

/// A repository whose main branch has a clean commit, and a feature branch off it adding
/// `files`; the workspace is a full clone at the feature branch. Returns the remote, the
/// workspace, and the base and head commits.
fn pull_request_repo(files: &[(&str, &str)]) -> (Remote, PathBuf, String, String) {
    let remote = Remote::new();
    let base = remote.commit(&[("README.md", "# payments\n")], "start");
    remote.author.git(&["checkout", "-q", "-b", "feature"]);
    let head = remote.commit(files, "the feature");
    remote.push(&["main", "feature"]);
    let workspace = remote.checkout("feature", &[]);
    (remote, workspace, base, head)
}

#[test]
fn a_pull_request_adding_a_secret_fails_with_sarif_and_a_redacted_summary() {
    if !tools_present() {
        return;
    }
    let creds = Creds::new(301);
    let (_remote, workspace, base, head) =
        pull_request_repo(&[("deploy/prod.env", &creds.dotenv())]);
    let event = pull_request(&base, &head, same_repository());
    let run = scan(&workspace, "pull_request", &event, &[]);
    run.expect(0, "secrets", "1");
    assert_eq!(run.output("upload-sarif"), "true");
    assert_eq!(run.output("fail-job"), "true");
    // Code scanning shows the alerts: no annotations as well.
    assert!(run.annotations().is_empty(), "{}", run.shown());
    let sarif = run.sarif();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{sarif}");
    assert_eq!(results[0]["ruleId"], "aws-access-key-pair");
    assert!(
        run.summary.starts_with("## keyhound: 1 secret found\n"),
        "{}",
        run.shown()
    );
    assert!(run.summary.contains(&format!(
        "| `deploy/prod.env:2` | `{}` with key ID `{}` |",
        redacted(&creds.secret),
        creds.id
    )));
    assert!(run.summary.contains(&format!(
        "Scanned: the commits pull request #7 adds ({base}..{head})."
    )));
    // The page for people, of the same findings as the JSON report beside it.
    let page = std::fs::read_to_string(run.output("html-file")).unwrap();
    assert_eq!(page.matches("<tr class=f ").count(), 1, "{page}");
    assert!(page.contains(&creds.id));
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(run.output("json-file")).unwrap()).unwrap();
    assert_eq!(json["summary"]["failing_findings"], 1);
    run.expect_never_shows(&creds.secret);
}

#[test]
fn a_pull_request_that_adds_no_secret_passes_though_its_base_has_one() {
    if !tools_present() {
        return;
    }
    let creds = Creds::new(302);
    let remote = Remote::new();
    remote.commit(&[("old.env", &creds.dotenv())], "a leak from long ago");
    let base = remote.commit(&[("old.env", "")], "remove it");
    remote.author.git(&["checkout", "-q", "-b", "feature"]);
    let head = remote.commit(&[("docs/usage.md", "Run it.\n")], "docs");
    remote.push(&["main", "feature"]);
    let workspace = remote.checkout("feature", &[]);
    let run = scan(
        &workspace,
        "pull_request",
        &pull_request(&base, &head, same_repository()),
        &[],
    );
    run.expect(0, "clean", "0");
    assert_eq!(run.output("fail-job"), "false");
    assert!(run.summary.starts_with("## keyhound: no secrets found\n"));
    assert!(run.annotations().is_empty());
}

#[test]
fn a_pull_request_from_a_fork_gets_annotations_instead_of_sarif() {
    if !tools_present() {
        return;
    }
    let creds = Creds::new(303);
    let (_remote, workspace, base, head) =
        pull_request_repo(&[("deploy/prod.env", &creds.dotenv())]);
    let fork = json!({ "full_name": "mallory/payments", "fork": true });
    for (head_repo, why) in [(fork.clone(), "a fork"), (Value::Null, "a deleted fork")] {
        let run = scan(
            &workspace,
            "pull_request",
            &pull_request(&base, &head, head_repo),
            &[],
        );
        run.expect(0, "secrets", "1");
        assert_eq!(run.output("upload-sarif"), "false", "{why}");
        let annotations = run.annotations();
        assert_eq!(annotations.len(), 1, "{why}: {}", run.shown());
        assert!(annotations[0].starts_with("::error file=deploy/prod.env,line=2,"));
        // The SARIF log is written all the same, for an artifact or an upload of one's own.
        assert_eq!(
            run.sarif()["runs"][0]["results"].as_array().unwrap().len(),
            1
        );
        run.expect_never_shows(&creds.secret);
    }
    // sarif: true uploads whatever the pull request's origin.
    let run = scan(
        &workspace,
        "pull_request",
        &pull_request(&base, &head, fork),
        &[("sarif", "true")],
    );
    assert_eq!(run.output("upload-sarif"), "true", "{}", run.shown());
    assert!(run.annotations().is_empty());
    // A branch of a repository that is itself a fork is no fork pull request.
    let own_branch = json!({ "full_name": REPOSITORY.to_uppercase(), "fork": true });
    let run = scan(
        &workspace,
        "pull_request",
        &pull_request(&base, &head, own_branch),
        &[],
    );
    assert_eq!(run.output("upload-sarif"), "true", "{}", run.shown());
    // pull_request_target runs carry the base branch's ref: SARIF would be filed under it.
    let run = scan(
        &workspace,
        "pull_request_target",
        &pull_request(&base, &head, same_repository()),
        &[],
    );
    run.expect(0, "secrets", "1");
    assert_eq!(run.output("upload-sarif"), "false", "{}", run.shown());
    assert_eq!(run.annotations().len(), 1);
    // sarif: false never uploads.
    let run = scan(
        &workspace,
        "pull_request",
        &pull_request(&base, &head, same_repository()),
        &[("sarif", "false")],
    );
    assert_eq!(run.output("upload-sarif"), "false", "{}", run.shown());
    assert_eq!(run.annotations().len(), 1);
}

#[test]
fn a_shallow_clone_without_the_base_is_a_clear_error() {
    if !tools_present() {
        return;
    }
    let creds = Creds::new(304);
    let (remote, _, base, head) = pull_request_repo(&[("deploy/prod.env", &creds.dotenv())]);
    std::fs::remove_dir_all(remote.dir.path().join("workspace")).unwrap();
    let workspace = remote.checkout("feature", &["--depth", "1"]);
    // The base can be fetched, but the shallow clone cut off the history it shares with head.
    let run = scan(
        &workspace,
        "pull_request",
        &pull_request(&base, &head, same_repository()),
        &[],
    );
    run.expect(2, "error", "0");
    assert!(
        run.stdout.contains("::error title=keyhound::"),
        "{}",
        run.shown()
    );
    assert!(run.stdout.contains("fetch-depth: 0"), "{}", run.shown());
    assert!(run.summary.starts_with("## keyhound: scan failed\n"));
    assert_eq!(run.output("upload-sarif"), "false");
    // A base that origin does not have either.
    let gone = "1234567890abcdef1234567890abcdef12345678";
    let run = scan(
        &workspace,
        "pull_request",
        &pull_request(gone, &head, same_repository()),
        &[],
    );
    run.expect(2, "error", "0");
    assert!(
        run.stdout.contains(&format!(
            "the pull request's base commit {gone} is not in the clone and could not be fetched from origin"
        )),
        "{}",
        run.shown()
    );
    assert!(run.stdout.contains("fetch-depth: 0"), "{}", run.shown());
}

#[test]
fn fail_false_reports_secrets_without_failing_the_job() {
    if !tools_present() {
        return;
    }
    let creds = Creds::new(305);
    let (_remote, workspace, base, head) =
        pull_request_repo(&[("deploy/prod.env", &creds.dotenv())]);
    let run = scan(
        &workspace,
        "pull_request",
        &pull_request(&base, &head, same_repository()),
        &[("fail", "false")],
    );
    run.expect(0, "secrets", "1");
    assert_eq!(run.output("fail-job"), "false");
    assert!(run
        .summary
        .contains("Reporting only (`fail: false`): these secrets do not fail the job."));
    run.expect_never_shows(&creds.secret);
}

#[test]
fn args_reach_keyhound_split_as_a_shell_splits_them() {
    if !tools_present() {
        return;
    }
    let creds = Creds::new(306);
    let (_remote, workspace, base, head) =
        pull_request_repo(&[("deploy/prod.env", &creds.dotenv())]);
    // The findings as they are, accepted in a baseline whose name has a space in it.
    let mut accept = common::repo::keyhound_for_git(&workspace);
    accept.args(["git", "--range", &format!("{base}..{head}")]);
    accept.args(["--write-baseline", "accepted findings.json", "-q"]);
    common::run(&mut accept).expect_code(0);
    let run = scan(
        &workspace,
        "pull_request",
        &pull_request(&base, &head, same_repository()),
        &[("args", "--baseline 'accepted findings.json'")],
    );
    run.expect(0, "clean", "0");
    assert!(
        run.summary
            .starts_with("## keyhound: no new secrets found\n"),
        "{}",
        run.shown()
    );
    assert!(run.summary.contains("1 finding the baseline accepts"));
    run.expect_never_shows(&creds.secret);
}

// ---------------------------------------------------------------------------------------------
// Pushes

#[test]
fn a_push_scans_only_the_commits_it_adds() {
    if !tools_present() {
        return;
    }
    let old = Creds::new(307);
    let new = Creds::new(308);
    let remote = Remote::new();
    remote.commit(&[("old.env", &old.dotenv())], "a leak from long ago");
    let before = remote.commit(&[("old.env", "")], "remove it");
    let after = remote.commit(&[("new.env", &new.dotenv())], "a new leak");
    remote.push(&["main"]);
    let workspace = remote.checkout("main", &[]);
    let run = scan(&workspace, "push", &push(&before, &after), &[]);
    run.expect(0, "secrets", "1");
    assert!(
        run.summary.contains(&redacted(&new.secret)),
        "{}",
        run.shown()
    );
    assert!(
        !run.summary.contains(&redacted(&old.secret)),
        "{}",
        run.shown()
    );
    assert!(run.summary.contains(&format!(
        "Scanned: the commits the push adds ({before}..{after})."
    )));
    assert_eq!(run.output("upload-sarif"), "true");
    run.expect_never_shows(&new.secret);
    run.expect_never_shows(&old.secret);
}

#[test]
fn a_new_branch_and_a_first_push_are_scanned_whole() {
    if !tools_present() {
        return;
    }
    // A new branch whose history has a secret main had before it.
    let creds = Creds::new(309);
    let remote = Remote::new();
    remote.commit(&[("old.env", &creds.dotenv())], "a leak from long ago");
    remote.commit(&[("old.env", "")], "remove it");
    remote.author.git(&["checkout", "-q", "-b", "feature"]);
    let after = remote.commit(&[("docs.md", "docs\n")], "docs");
    remote.push(&["main", "feature"]);
    let workspace = remote.checkout("feature", &[]);
    let run = scan(&workspace, "push", &push(NO_COMMIT, &after), &[]);
    run.expect(0, "secrets", "1");
    assert!(run.summary.contains("only in history"), "{}", run.shown());
    assert!(run
        .summary
        .contains(&format!("Scanned: the whole history of {after}")));
    run.expect_never_shows(&creds.secret);

    // The first push of a repository: one commit.
    let creds = Creds::new(310);
    let remote = Remote::new();
    let first = remote.commit(&[("settings.ini", &creds.ini())], "first");
    remote.push(&["main"]);
    let workspace = remote.checkout("main", &[]);
    let run = scan(&workspace, "push", &push(NO_COMMIT, &first), &[]);
    run.expect(0, "secrets", "1");
    assert!(
        run.summary.contains("| `settings.ini:3` |"),
        "{}",
        run.shown()
    );
    run.expect_never_shows(&creds.secret);
}

#[test]
fn a_force_push_whose_old_tip_is_gone_scans_the_whole_history() {
    if !tools_present() {
        return;
    }
    let creds = Creds::new(311);
    let remote = Remote::new();
    remote.commit(&[("old.env", &creds.dotenv())], "a leak from long ago");
    let kept = remote.commit(&[("old.env", "")], "remove it");
    // The old tip: a commit the force push dropped, never seen by the clone.
    let dropped = remote.commit(&[("notes.md", "draft\n")], "dropped");
    remote.author.git(&["reset", "-q", "--hard", &kept]);
    let after = remote.commit(&[("notes.md", "final\n")], "rewritten");
    remote.push(&["main"]);
    let workspace = remote.checkout("main", &[]);
    let run = scan(&workspace, "push", &push(&dropped, &after), &[]);
    run.expect(0, "secrets", "1");
    assert!(
        run.summary.contains(&format!(
            "Scanned: the whole history of {after} (a force push whose old tip {dropped} is gone)."
        )),
        "{}",
        run.shown()
    );
    run.expect_never_shows(&creds.secret);
}

#[test]
fn a_force_push_onto_another_line_scans_what_is_new_to_the_branch() {
    if !tools_present() {
        return;
    }
    let shared = Creds::new(312);
    let abandoned = Creds::new(313);
    let added = Creds::new(314);
    let remote = Remote::new();
    remote.commit(
        &[("shared.env", &shared.dotenv())],
        "a leak both lines have",
    );
    let fork_point = remote.commit(&[("shared.env", "")], "remove it");
    let before = remote.commit(&[("a.env", &abandoned.dotenv())], "the old line");
    remote.author.git(&["reset", "-q", "--hard", &fork_point]);
    let after = remote.commit(&[("b.env", &added.dotenv())], "the new line");
    // The clone still has the old tip (another ref holds it): it is no ancestor of the new one.
    remote.push(&[&format!("{before}:refs/heads/old-line"), "main"]);
    let workspace = remote.checkout("main", &[]);
    let run = scan(&workspace, "push", &push(&before, &after), &[]);
    run.expect(0, "secrets", "1");
    assert!(run.summary.contains("| `b.env:2` |"), "{}", run.shown());
    assert!(!run.summary.contains(&redacted(&abandoned.secret)));
    assert!(!run.summary.contains(&redacted(&shared.secret)));
    for creds in [&shared, &abandoned, &added] {
        run.expect_never_shows(&creds.secret);
    }
}

#[test]
fn a_push_that_adds_nothing_is_clean_and_says_so() {
    if !tools_present() {
        return;
    }
    let remote = Remote::new();
    let tip = remote.commit(&[("README.md", "hello\n")], "start");
    remote.push(&["main"]);
    let workspace = remote.checkout("main", &[]);
    let run = scan(&workspace, "push", &push(&tip, &tip), &[]);
    run.expect(0, "clean", "0");
    assert_eq!(run.output("fail-job"), "false");
    assert!(
        run.summary.starts_with("## keyhound: nothing to scan\n"),
        "{}",
        run.shown()
    );
    assert!(run.summary.contains("the push moved no commits"));
    assert!(files_under(&run.temp)
        .iter()
        .all(|f| !f.ends_with("keyhound.json")));
    // Nothing to keep: no artifact.
    assert_eq!(run.output("html-file"), "");

    let mut deleted = push(&tip, NO_COMMIT);
    deleted["deleted"] = json!(true);
    deleted["ref"] = json!("refs/heads/old-feature");
    let run = scan(&workspace, "push", &deleted, &[]);
    run.expect(0, "clean", "0");
    assert!(run
        .summary
        .contains("the push deleted refs/heads/old-feature."));
}

#[test]
fn an_incomplete_scan_fails_and_is_not_uploaded() {
    if !tools_present() {
        return;
    }
    let remote = Remote::new();
    remote.commit(&[("README.md", "hello\n")], "start");
    remote.push(&["main"]);
    let workspace = remote.checkout("main", &[]);
    // A commit of the clone whose blob is then lost: its history cannot be read whole.
    let clone = Repo::at(workspace.clone());
    clone.write("lost.txt", "gone\n");
    let after = clone.commit("a blob that goes missing");
    let blob = clone.rev("HEAD:lost.txt");
    std::fs::remove_file(
        workspace
            .join(".git/objects")
            .join(&blob[..2])
            .join(&blob[2..]),
    )
    .unwrap();
    let run = scan(&workspace, "push", &push(NO_COMMIT, &after), &[]);
    run.expect(2, "incomplete", "0");
    assert_eq!(run.output("upload-sarif"), "false");
    assert_eq!(run.output("fail-job"), "false");
    // The page is kept all the same: it says what could not be read.
    let page = std::fs::read_to_string(run.output("html-file")).unwrap();
    assert!(
        page.contains("<h1>keyhound: scan incomplete</h1>"),
        "{page}"
    );
    assert!(
        run.summary.starts_with("## keyhound: scan incomplete\n"),
        "{}",
        run.shown()
    );
    assert!(run.summary.contains("### Not scanned"), "{}", run.shown());
    assert!(run
        .stdout
        .contains("::error title=keyhound::the scan is incomplete"));
    // The SARIF log is written all the same.
    assert!(run.sarif()["runs"].is_array());
}

// ---------------------------------------------------------------------------------------------
// Other events and modes

#[test]
fn workflow_dispatch_audits_the_whole_history() {
    if !tools_present() {
        return;
    }
    let creds = Creds::new(315);
    let remote = Remote::new();
    remote.commit(&[("ci/.env", &creds.dotenv())], "a leak");
    remote.commit(&[("ci/.env", "")], "removed since");
    remote.push(&["main"]);
    let workspace = remote.checkout("main", &[]);
    let run = scan(&workspace, "workflow_dispatch", &json!({}), &[]);
    run.expect(0, "secrets", "1");
    assert!(run.summary.contains("only in history"), "{}", run.shown());
    assert!(run
        .summary
        .contains("Scanned: the whole history of every ref."));
    assert_eq!(run.output("upload-sarif"), "true");
    run.expect_never_shows(&creds.secret);

    // A shallow clone cannot be audited: what it cut off would go unread.
    std::fs::remove_dir_all(&workspace).unwrap();
    let workspace = remote.checkout("main", &["--depth", "1"]);
    let run = scan(&workspace, "schedule", &json!({}), &[]);
    run.expect(2, "error", "0");
    assert!(run.stdout.contains("fetch-depth: 0"), "{}", run.shown());
}

#[test]
fn mode_full_audits_a_pull_request_and_mode_diff_needs_a_range() {
    if !tools_present() {
        return;
    }
    let creds = Creds::new(316);
    let remote = Remote::new();
    remote.commit(&[("ci/.env", &creds.dotenv())], "a leak");
    let base = remote.commit(&[("ci/.env", "")], "removed since");
    remote.author.git(&["checkout", "-q", "-b", "feature"]);
    let head = remote.commit(&[("docs.md", "docs\n")], "docs");
    remote.push(&["main", "feature"]);
    let workspace = remote.checkout("feature", &[]);
    let event = pull_request(&base, &head, same_repository());
    let run = scan(&workspace, "pull_request", &event, &[("mode", "full")]);
    run.expect(0, "secrets", "1");
    let run = scan(&workspace, "pull_request", &event, &[("mode", "diff")]);
    run.expect(0, "clean", "0");
    let run = scan(&workspace, "schedule", &json!({}), &[("mode", "diff")]);
    run.expect(2, "error", "0");
    assert!(
        run.stdout.contains("a schedule event has no range"),
        "{}",
        run.shown()
    );
    // keyhound refusing its arguments is an error, not a clean scan.
    let run = scan(
        &workspace,
        "pull_request",
        &event,
        &[("args", "--no-such-flag")],
    );
    run.expect(2, "error", "0");
    assert!(
        run.stdout.contains("keyhound could not scan"),
        "{}",
        run.shown()
    );
    for (input, value) in [("mode", "sideways"), ("sarif", "yes"), ("fail", "no")] {
        let run = scan(&workspace, "pull_request", &event, &[(input, value)]);
        run.expect(2, "error", "0");
        assert!(
            run.stdout.contains(&format!("not '{value}'")),
            "{}",
            run.shown()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// action/install.sh against a fake release

/// The target install.sh picks for RUNNER_OS=Linux, RUNNER_ARCH=X64.
const LINUX_X64: &str = "x86_64-unknown-linux-musl";

/// `python3 -m http.server` on 127.0.0.1, serving a directory; stopped when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn serve(dir: &Path) -> Server {
        let mut child = Command::new("python3")
            .args([
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        let port = line
            .split_whitespace()
            .skip_while(|w| *w != "port")
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        Server { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A release `version` for `target` under `releases`, its archive holding a stand-in keyhound
/// that prints `says`; with `checksum`, a .sha256 file beside it (Some(None): the right one).
fn publish(releases: &Path, version: &str, says: &str, checksum: Option<Option<&str>>) {
    let build = releases.join("build");
    std::fs::create_dir_all(&build).unwrap();
    let binary = build.join("keyhound");
    std::fs::write(&binary, format!("#!/bin/sh\necho '{says}'\n")).unwrap();
    make_executable(&binary);
    let dir = releases.join(version);
    std::fs::create_dir_all(&dir).unwrap();
    let name = format!("keyhound-{LINUX_X64}.tar.gz");
    let status = Command::new("tar")
        .arg("-czf")
        .arg(dir.join(&name))
        .arg("-C")
        .arg(&build)
        .arg("keyhound")
        .status()
        .expect("tar runs");
    assert!(status.success());
    if let Some(checksum) = checksum {
        use sha2::Digest;
        let actual: String = sha2::Sha256::digest(std::fs::read(dir.join(&name)).unwrap())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let sum = checksum.map_or(actual, str::to_string);
        std::fs::write(
            dir.join(format!("{name}.sha256")),
            format!("{sum}  {name}\n"),
        )
        .unwrap();
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// What one run of `action/install.sh` did.
struct Install {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// The lines it added to GITHUB_PATH.
    path: Vec<String>,
    /// The arguments the stand-in cargo was called with, if it was.
    cargo: Option<Vec<String>>,
    /// The runner's files: the stand-in cargo, RUNNER_TEMP (where keyhound is installed).
    _runner: tempfile::TempDir,
}

impl Install {
    fn shown(&self) -> String {
        format!(
            "exit status {:?}\nstdout:\n{}\nstderr:\n{}\ncargo: {:?}",
            self.code, self.stdout, self.stderr, self.cargo
        )
    }

    /// What the keyhound it put on the path prints.
    fn installed_says(&self) -> String {
        assert_eq!(self.path.len(), 1, "{}", self.shown());
        let output = Command::new(Path::new(&self.path[0]).join("keyhound"))
            .output()
            .expect("the installed keyhound runs");
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }
}

/// Runs `action/install.sh` on a Linux x64 runner with `env` (KEYHOUND_* variables and the
/// like), a stand-in cargo first on PATH, and the action's files at the crate root.
fn install(env: &[(&str, &str)]) -> Install {
    let runner_dir = tempfile::tempdir().unwrap();
    let runner = runner_dir.path();
    let bin = runner.join("bin");
    std::fs::create_dir(&bin).unwrap();
    let cargo_log = runner.join("cargo-args");
    // Records its arguments, one a line, and "builds" a keyhound into --root.
    let cargo = bin.join("cargo");
    std::fs::write(
        &cargo,
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$CARGO_LOG\"\nroot=\nprevious=\n\
         for arg in \"$@\"; do [ \"$previous\" = --root ] && root=$arg; previous=$arg; done\n\
         mkdir -p \"$root/bin\"\nprintf '#!/bin/sh\\necho built by cargo\\n' > \"$root/bin/keyhound\"\n\
         chmod +x \"$root/bin/keyhound\"\n",
    )
    .unwrap();
    make_executable(&cargo);
    let temp = runner.join("temp");
    std::fs::create_dir(&temp).unwrap();
    let github_path = runner.join("github-path");
    let mut cmd = script("install.sh");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin];
    dirs.extend(std::env::split_paths(&path));
    cmd.env("PATH", std::env::join_paths(dirs).unwrap())
        .env("CARGO_LOG", &cargo_log)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("RUNNER_TEMP", &temp)
        .env("GITHUB_PATH", &github_path)
        .env("GITHUB_ACTION_PATH", crate_root())
        .env("KEYHOUND_ACTION_REPOSITORY", "octo-org/keyhound");
    for (name, value) in env {
        cmd.env(name, value);
    }
    let (code, stdout, stderr) = run_script(cmd);
    Install {
        code,
        stdout,
        stderr,
        path: std::fs::read_to_string(&github_path)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect(),
        cargo: std::fs::read_to_string(&cargo_log)
            .ok()
            .map(|args| args.lines().map(str::to_string).collect()),
        _runner: runner_dir,
    }
}

#[test]
fn install_downloads_the_release_build_and_checks_its_checksum() {
    if !tools_present() {
        return;
    }
    let releases = tempfile::tempdir().unwrap();
    publish(releases.path(), "v1.2.3", "keyhound 1.2.3", Some(None));
    publish(releases.path(), "v1.2.4", "keyhound 1.2.4", None);
    publish(
        releases.path(),
        "v1.2.5",
        "keyhound 1.2.5",
        Some(Some(&"0".repeat(64))),
    );
    let server = Server::serve(releases.path());
    let url = server.url();
    let base = ("KEYHOUND_RELEASE_BASE_URL", url.as_str());

    // The action's own ref is a release with a checksum.
    let run = install(&[base, ("KEYHOUND_ACTION_REF", "v1.2.3")]);
    assert_eq!(run.code, Some(0), "{}", run.shown());
    assert!(
        run.stdout.contains("matches its published SHA-256"),
        "{}",
        run.shown()
    );
    assert_eq!(run.installed_says(), "keyhound 1.2.3");
    assert_eq!(run.cargo, None, "{}", run.shown());

    // The version input wins over the action's ref; a release without a checksum is used
    // unchecked, and says so.
    let run = install(&[
        base,
        ("KEYHOUND_ACTION_REF", "v1.2.3"),
        ("KEYHOUND_VERSION", "v1.2.4"),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.shown());
    assert!(
        run.stdout.contains("the download is not checked"),
        "{}",
        run.shown()
    );
    assert_eq!(run.installed_says(), "keyhound 1.2.4");
    assert_eq!(run.cargo, None);

    // A checksum that does not match installs nothing, and builds nothing instead.
    let run = install(&[base, ("KEYHOUND_ACTION_REF", "v1.2.5")]);
    assert_eq!(run.code, Some(1), "{}", run.shown());
    assert!(
        run.stdout.contains("does not match its published checksum"),
        "{}",
        run.shown()
    );
    assert!(run.path.is_empty(), "{}", run.shown());
    assert_eq!(run.cargo, None);
}

#[test]
fn install_builds_with_cargo_only_when_there_is_no_release_build() {
    if !tools_present() {
        return;
    }
    let releases = tempfile::tempdir().unwrap();
    let server = Server::serve(releases.path());
    let url = server.url();
    let base = ("KEYHOUND_RELEASE_BASE_URL", url.as_str());
    let root = crate_root().display().to_string();

    // A ref that is no release (a branch): the action's own source is built.
    let run = install(&[base, ("KEYHOUND_ACTION_REF", "main")]);
    assert_eq!(run.code, Some(0), "{}", run.shown());
    assert!(
        run.stdout.contains("no release build at"),
        "{}",
        run.shown()
    );
    let args = run.cargo.clone().expect("cargo was called");
    assert_eq!(args[..3], ["install", "--locked", "--root"], "{args:?}");
    assert_eq!(args[4..], ["--path", root.as_str()], "{args:?}");
    assert_eq!(run.installed_says(), "built by cargo");
    assert_eq!(Path::new(&run.path[0]), Path::new(&args[3]).join("bin"));

    // A version asked for that has no release build: that tag (or commit) of the repository.
    let run = install(&[base, ("KEYHOUND_VERSION", "v9.9.9")]);
    assert_eq!(run.code, Some(0), "{}", run.shown());
    let args = run.cargo.expect("cargo was called");
    let expected = [
        "--git",
        "https://github.com/octo-org/keyhound",
        "--tag",
        "v9.9.9",
        "keyhound",
    ];
    assert_eq!(args[4..], expected, "{args:?}");
    let run = install(&[base, ("KEYHOUND_VERSION", "0123abc")]);
    let args = run.cargo.expect("cargo was called");
    assert_eq!(args[6..8], ["--rev", "0123abc"], "{args:?}");

    // A runner the releases have no build for goes straight to cargo.
    let run = install(&[
        base,
        ("KEYHOUND_ACTION_REF", "v1.2.3"),
        ("RUNNER_OS", "Windows"),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.shown());
    assert!(run
        .stdout
        .contains("releases have no build for this runner"));
    assert!(run.cargo.is_some());
}

#[test]
fn install_fails_when_the_release_server_does_not_answer() {
    if !tools_present() {
        return;
    }
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let run = install(&[
        ("KEYHOUND_RELEASE_BASE_URL", url.as_str()),
        ("KEYHOUND_ACTION_REF", "v1.2.3"),
    ]);
    assert_eq!(run.code, Some(1), "{}", run.shown());
    assert!(run.stdout.contains("cannot download"), "{}", run.shown());
    assert_eq!(
        run.cargo, None,
        "a network error must not turn into a build"
    );
    assert!(run.path.is_empty());
}

// ---------------------------------------------------------------------------------------------
// action.yml

fn action() -> Yaml {
    let text = std::fs::read_to_string(crate_root().join("action.yml")).unwrap();
    serde_yaml::from_str(&text).expect("action.yml is YAML")
}

#[track_caller]
fn text<'a>(value: &'a Yaml, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {value:?}"))
}

/// Every name after `prefix` in `text` (names of letters, digits, `_`, `-` and `.`).
fn names_after(text: &str, prefix: &str) -> BTreeSet<String> {
    text.match_indices(prefix)
        .map(|(at, _)| {
            text[at + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "_-.".contains(*c))
                .collect()
        })
        .collect()
}

/// The KEYHOUND_* variables a script reads.
fn variables_read(script: &str) -> BTreeSet<String> {
    names_after(script, "${KEYHOUND_")
        .into_iter()
        .chain(names_after(script, "$KEYHOUND_"))
        .map(|name| format!("KEYHOUND_{name}"))
        .collect()
}

/// Panics unless the step uses `action` (`owner/name@`) pinned to a commit, never a moving tag.
#[track_caller]
fn assert_pinned(step: &Yaml, action: &str) {
    let uses = text(&step["uses"], "uses");
    let pinned = uses
        .strip_prefix(action)
        .unwrap_or_else(|| panic!("{uses} is not {action}"));
    assert!(
        pinned.len() == 40 && pinned.bytes().all(|b| b.is_ascii_hexdigit()),
        "{pinned}"
    );
}

#[test]
fn action_yml_declares_what_the_scripts_read_and_runs_scripts_that_exist() {
    let action = action();
    let file = std::fs::read_to_string(crate_root().join("action.yml")).unwrap();
    assert_eq!(text(&action["runs"]["using"], "runs.using"), "composite");

    let inputs: BTreeMap<String, String> = action["inputs"]
        .as_mapping()
        .expect("inputs")
        .iter()
        .map(|(name, input)| {
            let name = text(name, "an input's name").to_string();
            let default = text(&input["default"], &name).to_string();
            (name, default)
        })
        .collect();
    let expected: BTreeMap<String, String> = [
        ("args", ""),
        ("artifact", "keyhound-report"),
        ("fail", "true"),
        ("mode", "auto"),
        ("sarif", "auto"),
        ("version", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(inputs, expected);
    // Every input used is declared, and every declared input is used.
    let used = names_after(&file, "inputs.");
    assert_eq!(used, inputs.keys().cloned().collect::<BTreeSet<_>>());

    let steps = action["runs"]["steps"].as_sequence().expect("runs.steps");
    let scan_script = std::fs::read_to_string(crate_root().join("action/scan.sh")).unwrap();
    let mut scripts_run = BTreeSet::new();
    for (index, step) in steps.iter().enumerate() {
        let Some(run) = step["run"].as_str() else {
            continue;
        };
        assert_eq!(text(&step["shell"], "shell"), "bash", "step {index}");
        // Inputs reach scripts through env, never spliced into the script text.
        assert!(
            !run.contains("${{"),
            "step {index} splices an expression: {run}"
        );
        let env: BTreeSet<String> = step["env"]
            .as_mapping()
            .map(|env| {
                env.keys()
                    .map(|k| text(k, "env name").to_string())
                    .collect()
            })
            .unwrap_or_default();
        for script in names_after(run, "$GITHUB_ACTION_PATH/action/") {
            let path = crate_root().join("action").join(&script);
            let source = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("step {index} runs {}: {e}", path.display()));
            let status = Command::new("bash").arg("-n").arg(&path).status();
            if let Ok(status) = status {
                assert!(status.success(), "{script} is not valid bash");
            }
            // What the step sets is what the script reads, less the variables only tests set.
            let read: BTreeSet<String> = variables_read(&source)
                .into_iter()
                .filter(|v| v != "KEYHOUND_RELEASE_BASE_URL")
                .collect();
            let set: BTreeSet<String> = env
                .iter()
                .filter(|v| v.starts_with("KEYHOUND_"))
                .cloned()
                .collect();
            assert_eq!(read, set, "{script}: variables read and set differ");
            scripts_run.insert(script);
        }
    }
    assert_eq!(
        scripts_run,
        ["install.sh", "scan.sh"].map(String::from).into()
    );

    let position =
        |wanted: &dyn Fn(&Yaml) -> bool| steps.iter().position(wanted).expect("the step is there");
    let scan = position(&|s| s["id"].as_str() == Some("scan"));
    let install = position(&|s| s["run"].as_str().is_some_and(|r| r.contains("install.sh")));
    assert!(install < scan);
    // The outputs the action and its steps read are ones scan.sh writes.
    for output in names_after(&file, "steps.scan.outputs.") {
        assert!(
            scan_script.contains(&format!("echo \"{output}=")),
            "scan.sh never writes the output {output}"
        );
    }
    for output in [
        "findings",
        "verdict",
        "sarif-file",
        "json-file",
        "html-file",
    ] {
        assert_eq!(
            text(&action["outputs"][output]["value"], output),
            format!("${{{{ steps.scan.outputs.{output} }}}}")
        );
    }

    let upload = position(&|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
    });
    let step = &steps[upload];
    assert_pinned(step, "github/codeql-action/upload-sarif@");
    assert_eq!(
        text(&step["if"], "if"),
        "steps.scan.outputs.upload-sarif == 'true'"
    );
    assert_eq!(
        text(&step["continue-on-error"], "continue-on-error"),
        "${{ inputs.sarif == 'auto' }}"
    );
    assert_eq!(
        text(&step["with"]["sarif_file"], "sarif_file"),
        "${{ steps.scan.outputs.sarif-file }}"
    );
    assert_eq!(text(&step["with"]["category"], "category"), "keyhound");

    // The page and the JSON report are kept as an artifact, also after an incomplete scan.
    let keep = position(&|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("actions/upload-artifact@"))
    });
    assert_pinned(&steps[keep], "actions/upload-artifact@");
    assert_eq!(
        text(&steps[keep]["if"], "if"),
        "${{ !cancelled() && steps.scan.outputs.html-file != '' && inputs.artifact != '' }}"
    );
    assert_eq!(
        text(&steps[keep]["with"]["name"], "name"),
        "${{ inputs.artifact }}"
    );
    let kept: Vec<&str> = text(&steps[keep]["with"]["path"], "path").lines().collect();
    assert_eq!(
        kept,
        [
            "${{ steps.scan.outputs.html-file }}",
            "${{ steps.scan.outputs.json-file }}"
        ]
    );

    // The job fails last, so the alerts are filed and the page kept first.
    let fail = position(&|s| {
        s["if"]
            .as_str()
            .is_some_and(|c| c.contains("steps.scan.outputs.fail-job"))
    });
    assert_eq!(
        text(&steps[fail]["if"], "if"),
        "steps.scan.outputs.fail-job == 'true'"
    );
    assert!(scan < upload && upload < keep && keep < fail && fail == steps.len() - 1);
}
