//! `--format html` and `--report FORMAT:PATH` end to end: the page of a git history with fake
//! keys planted (one under a hostile file name) lists every finding of the JSON report of the
//! same history, escaped and redacted, with its timeline; one run writes SARIF, JSON and HTML
//! exactly as three runs with `-f FORMAT -o PATH` do; and bad report arguments are errors before
//! any work is done.

#[allow(dead_code)]
mod common;

use std::path::Path;

use regex::Regex;
use tempfile::TempDir;

use common::repo::{keyhound_for_git, Creds, Repo, BOB};
use common::{run, Run};

/// A file name that is markup if a page does not escape it.
const HOSTILE: &str = "<img src=x onerror=alert(1)>.env";

/// The fixed time reports are written at here (`SOURCE_DATE_EPOCH`), so runs can be compared.
const WRITTEN_AT: &str = "1700000000";

/// A repository whose history holds four fake key pairs: one still in HEAD under a hostile
/// name, one committed and deleted again (only in history), one in two files, and one added
/// by a hostile author name.
struct Planted {
    dir: TempDir,
    keys: Vec<Creds>,
}

impl Planted {
    fn new() -> Planted {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo::init(dir.path(), "planted");
        let keys: Vec<Creds> = (0..4).map(|i| Creds::new(600 + i)).collect();
        repo.write("README.md", "# planted\n");
        repo.commit("start");
        repo.write(HOSTILE, &keys[0].dotenv());
        repo.commit("add <b>settings</b>");
        repo.write("deploy/old.ini", &keys[1].ini());
        repo.commit("deploy");
        repo.remove("deploy/old.ini");
        repo.commit("remove the old deploy key");
        repo.write("a/one.env", &keys[2].dotenv());
        repo.write("b/two.env", &keys[2].dotenv());
        repo.commit("two services");
        repo.write("ci.ini", &keys[3].ini());
        repo.commit_as(&BOB, "ci");
        Planted { dir, keys }
    }

    /// `keyhound git planted ARGS` in the directory above the repository.
    fn keyhound(&self, args: &[&str]) -> Run {
        run(keyhound_for_git(self.dir.path())
            .env("SOURCE_DATE_EPOCH", WRITTEN_AT)
            .args(["git", "planted", "--no-progress", "-q"])
            .args(args))
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap()
    }
}

/// A report without what differs from run to run: the scan's duration (and the rate computed
/// from it) in the JSON summary and the HTML page's summary line.
fn without_timings(report: &str) -> String {
    let elapsed = Regex::new(r#""elapsed_ms": \d+"#).unwrap();
    let summary = Regex::new(r"MiB in [0-9.]+s \([0-9]+ MiB/s\)").unwrap();
    let report = elapsed.replace_all(report, r#""elapsed_ms": 0"#);
    summary.replace_all(&report, "MiB in 0s").into_owned()
}

fn rows(page: &str) -> usize {
    page.matches("<tr class=f ").count()
}

#[test]
fn the_page_of_a_history_lists_every_finding_of_its_json_report_escaped_and_redacted() {
    let planted = Planted::new();
    planted
        .keyhound(&["-f", "html", "-o", "r.html"])
        .expect_code(1);
    let json = planted.keyhound(&["-f", "json"]);
    json.expect_code(1);
    let page = planted.read("r.html");
    let findings = json.json()["findings"].as_array().unwrap().clone();
    assert_eq!(findings.len(), 4);
    assert_eq!(rows(&page), findings.len(), "{page}");
    for finding in &findings {
        let id = finding["secret_id"].as_str().unwrap();
        assert!(
            page.contains(&format!("<dt>Secret ID</dt><dd>{id}</dd>")),
            "{id}"
        );
    }
    for creds in &planted.keys {
        assert!(!page.contains(&creds.secret));
        assert!(page.contains(&creds.id), "{}", creds.id);
    }
    assert!(!page.contains("<img"));
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;.env"));
    assert!(page.contains("When the secrets were introduced, by month"));
    assert!(page.contains("<tr><th scope=row>2023-11</th><td>3</td><td>1</td><td>4</td></tr>"));
    assert!(page.contains("only in history"));
    assert!(page.contains("Bob Tables"));
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("content=\"default-src 'none'; "));
    assert!(page.contains("<time>2023-11-14T22:13:20Z</time>"));
    assert!(page.contains("<p class=meta>Scanned: the history of planted.</p>"));
}

#[test]
fn one_run_writes_each_report_as_a_run_of_its_own_would() {
    let planted = Planted::new();
    planted
        .keyhound(&[
            "--report",
            "sarif:a.sarif",
            "--report",
            "json:a.json",
            "--report",
            "html:a.html",
            "-f",
            "markdown",
            "-o",
            "a.md",
        ])
        .expect_code(1);
    for (format, name) in [
        ("sarif", "a.sarif"),
        ("json", "a.json"),
        ("html", "a.html"),
        ("markdown", "a.md"),
    ] {
        let alone = format!("alone.{format}");
        planted
            .keyhound(&["-f", format, "-o", &alone])
            .expect_code(1);
        assert_eq!(
            without_timings(&planted.read(name)),
            without_timings(&planted.read(&alone)),
            "{format}"
        );
    }
    // SARIF carries no time at all.
    assert_eq!(planted.read("a.sarif"), planted.read("alone.sarif"));
}

#[test]
fn the_page_is_the_same_whatever_the_number_of_threads() {
    let planted = Planted::new();
    planted
        .keyhound(&["-j", "1", "-f", "html", "-o", "one.html"])
        .expect_code(1);
    planted
        .keyhound(&["-j", "4", "-f", "html", "-o", "four.html"])
        .expect_code(1);
    assert_eq!(
        without_timings(&planted.read("one.html")),
        without_timings(&planted.read("four.html"))
    );
}

#[test]
fn show_secrets_shows_them_in_a_page_only_its_owner_can_read() {
    let planted = Planted::new();
    planted
        .keyhound(&["--show-secrets", "-f", "json", "--report", "html:s.html"])
        .expect_code(1);
    let page = planted.read("s.html");
    for creds in &planted.keys {
        assert!(page.contains(&creds.secret));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(planted.dir.path().join("s.html"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// `keyhound ARGS` in `dir` must fail with exit status 2, saying `message`, and write nothing.
fn fails_before_any_work(dir: &Path, args: &[&str], message: &str) {
    let before = std::fs::read_dir(dir).unwrap().count();
    let run = run(keyhound_for_git(dir).args(args));
    run.expect_code(2);
    assert!(run.stderr.contains(message), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout_text());
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), before);
}

#[test]
fn bad_report_arguments_are_errors_before_the_scan() {
    let planted = Planted::new();
    let dir = planted.dir.path();
    std::fs::write(dir.join("a-file"), "").unwrap();
    for (args, message) in [
        (
            vec!["--report", "pdf:r.pdf"],
            "invalid value 'pdf:r.pdf' for '--report <FORMAT:PATH>': `pdf` is not a format \
             (formats: text, json, jsonl, sarif, github, gitlab, junit, markdown, html)",
        ),
        (
            vec!["--report", "r.html"],
            "`r.html` is not FORMAT:PATH, such as html:keyhound.html",
        ),
        (
            vec!["--report", "html:"],
            "`html:` names no file after `html:`",
        ),
        (
            vec!["--report", "json:r.json", "--report", "sarif:./r.json"],
            "error: r.json and ./r.json are the same file: each report needs a file of its own",
        ),
        (
            vec!["-o", "r.json", "--report", "html:r.json"],
            "are the same file",
        ),
        (
            vec!["--baseline", "kept.json", "--report", "json:./kept.json"],
            "error: the report ./kept.json would overwrite the baseline kept.json",
        ),
        (
            vec!["--report", "html:a-file/r.html"],
            "error: cannot write a-file/r.html: a-file is not a directory",
        ),
        (
            vec!["--report", "html:missing/r.html"],
            "error: cannot write missing/r.html: missing is not a directory",
        ),
    ] {
        let mut git = vec!["git", "planted", "--no-progress"];
        git.extend(&args);
        fails_before_any_work(dir, &git, message);
        let mut scan = vec!["scan", "planted"];
        scan.extend(&args);
        fails_before_any_work(dir, &scan, message);
    }
}

#[test]
fn merge_and_audit_write_pages_too() {
    let planted = Planted::new();
    let dir = planted.dir.path();
    planted
        .keyhound(&["-f", "json", "-o", "history.json"])
        .expect_code(1);
    run(keyhound_for_git(dir)
        .env("SOURCE_DATE_EPOCH", WRITTEN_AT)
        .args([
            "merge",
            "history.json",
            "-q",
            "-f",
            "sarif",
            "-o",
            "m.sarif",
        ])
        .args(["--report", "html:m.html", "--report", "json:m.json"]))
    .expect_code(1);
    let page = planted.read("m.html");
    assert_eq!(rows(&page), 4);
    assert!(page.contains("Secrets are shown as the merged reports showed them"));
    assert!(page.contains("Scanned: the reports history.json."));
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;.env"));
    assert!(page.contains("When the secrets were introduced, by month"));
    assert_eq!(
        without_timings(&planted.read("m.json")),
        without_timings(&planted.read("history.json"))
    );

    std::fs::write(dir.join("repos.txt"), "planted\n").unwrap();
    run(keyhound_for_git(dir).args([
        "audit",
        "--repos",
        "repos.txt",
        "--no-progress",
        "-q",
        "--report",
        "html:audit.html",
    ]))
    .expect_code(1);
    let page = planted.read("audit.html");
    assert_eq!(rows(&page), 4);
    assert!(page.contains("Secrets per repository"));
    assert!(page.contains("/planted</th><td>4</td>"), "{page}");
    assert!(page.contains("<strong>1</strong> repositories audited"));
    assert!(page.contains("Scanned: the repositories listed in repos.txt."));
}

#[test]
fn respond_checks_its_report_files_before_it_asks_aws_anything() {
    let planted = Planted::new();
    let dir = planted.dir.path();
    planted
        .keyhound(&["-f", "json", "-o", "history.json"])
        .expect_code(1);
    fails_before_any_work(
        dir,
        &[
            "respond",
            "history.json",
            "--report",
            "json:cards.json",
            "--report",
            "markdown:cards.json",
        ],
        "are the same file",
    );
    fails_before_any_work(
        dir,
        &[
            "respond",
            "history.json",
            "-f",
            "json",
            "-o",
            "history.json",
        ],
        "error: the report history.json would overwrite the report read history.json",
    );
    fails_before_any_work(
        dir,
        &["merge", "history.json", "--report", "html:history.json"],
        "error: the report history.json would overwrite the report read history.json",
    );
    fails_before_any_work(
        dir,
        &["respond", "history.json", "--report", "sarif:cards.sarif"],
        "`sarif` is not a format (formats: text, json, markdown, html)",
    );
}
