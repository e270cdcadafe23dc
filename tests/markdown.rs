//! `--format markdown` end to end: the job summary of a scan of fake keys, of a git history,
//! and of a JSON report re-rendered by `keyhound merge`, with hostile file names kept in their
//! table cells and every secret redacted.

#[allow(dead_code)]
mod common;

use common::repo::{keyhound_for_git, Creds, Repo};
use common::{keyhound_in, run, Run};

/// A secret as every report shows it: its first and last four characters.
fn redacted(secret: &str) -> String {
    format!("{}…{}", &secret[..4], &secret[secret.len() - 4..])
}

/// The report without its fenced scan summary, which holds timings.
fn without_summary(report: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in report.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The rows of the findings table.
fn rows(report: &str) -> Vec<&str> {
    report.lines().filter(|l| l.starts_with("| `")).collect()
}

/// A directory with one fake key pair in two files.
fn leaky_dir() -> (tempfile::TempDir, Creds) {
    let dir = tempfile::tempdir().unwrap();
    let creds = Creds::new(83);
    std::fs::create_dir(dir.path().join("deploy")).unwrap();
    std::fs::write(dir.path().join("deploy/prod.env"), creds.dotenv()).unwrap();
    std::fs::write(dir.path().join("old.ini"), creds.ini()).unwrap();
    (dir, creds)
}

/// `keyhound scan . ARGS` in a directory with one fake key pair in two files.
fn scan(args: &[&str]) -> (Run, Creds) {
    let (dir, creds) = leaky_dir();
    let run = run(keyhound_in(dir.path()).args(["scan", "."]).args(args));
    (run, creds)
}

#[test]
fn a_scan_is_summed_up_with_one_redacted_row_per_secret_and_what_to_do() {
    let (run, creds) = scan(&["-f", "markdown"]);
    run.expect_code(1);
    let out = run.stdout_text();
    assert!(out.starts_with("## keyhound: 1 secret found\n"), "{out}");
    assert!(!out.contains(&creds.secret), "{out}");
    assert_eq!(
        rows(&out),
        [format!(
            "| `deploy/prod.env:2` and 1 other place | `{}` with key ID `{}` | \
             `aws-access-key-pair` | critical | high |",
            redacted(&creds.secret),
            creds.id
        )],
        "{out}"
    );
    assert!(out.contains("\n### What to do\n"), "{out}");
    assert!(
        out.contains("- **AWS access key pair** (`aws-access-key-pair`): Treat the key pair"),
        "{out}"
    );
}

#[test]
fn merge_renders_a_json_report_as_the_scan_did() {
    let (dir, creds) = leaky_dir();
    let direct = run(keyhound_in(dir.path()).args(["scan", ".", "-f", "markdown"]));
    direct.expect_code(1);
    run(keyhound_in(dir.path()).args(["scan", ".", "-f", "json", "-o", "report.json"]))
        .expect_code(1);
    let merged = run(keyhound_in(dir.path()).args(["merge", "report.json", "-f", "markdown"]));
    merged.expect_code(1);
    let merged = merged.stdout_text();
    assert!(!merged.contains(&creds.secret), "{merged}");
    assert_eq!(
        without_summary(&merged),
        without_summary(&direct.stdout_text())
    );
}

#[test]
fn show_secrets_is_the_only_way_to_a_raw_secret() {
    let (run, creds) = scan(&["-f", "markdown", "--show-secrets"]);
    run.expect_code(1);
    assert!(
        run.stdout_text().contains(&format!("`{}`", creds.secret)),
        "{}",
        run.stdout_text()
    );
}

#[test]
fn a_hostile_file_name_stays_in_its_cell() {
    let dir = tempfile::tempdir().unwrap();
    let creds = Creds::new(84);
    let name = "a|b`c<img src=x onerror=alert(1)>\n| forged | row |.env";
    std::fs::write(dir.path().join(name), creds.dotenv()).unwrap();
    let run = run(keyhound_in(dir.path()).args(["scan", ".", "-f", "markdown"]));
    run.expect_code(1);
    let out = run.stdout_text();
    let rows = rows(&out);
    assert_eq!(rows.len(), 1, "{out}");
    assert!(
        rows[0].starts_with(
            "| ``a\\|b`c<img src=x onerror=alert(1)>\\x0a\\| forged \\| row \\|.env:2`` | "
        ),
        "{out}"
    );
    assert!(!out.contains("\n| forged"), "{out}");
    assert!(!out.contains(&creds.secret), "{out}");
}

#[test]
fn a_history_audit_names_the_commit_and_a_secret_only_history_holds() {
    let dir = tempfile::tempdir().unwrap();
    let creds = Creds::new(85);
    let repo = Repo::init(dir.path(), "repo");
    repo.write("ci/.env", &creds.dotenv());
    let commit = repo.commit("add ci settings");
    repo.remove("ci/.env");
    repo.commit("remove them again");
    let mut cmd = keyhound_for_git(&repo.path);
    cmd.args(["git", "--no-progress", "-f", "markdown"]);
    let run = run(&mut cmd);
    run.expect_code(1);
    let out = run.stdout_text();
    let rows = rows(&out);
    assert_eq!(rows.len(), 1, "{out}");
    assert!(rows[0].contains("only in history"), "{out}");
    assert!(
        rows[0].ends_with(&format!(
            "| `{}` by Ada Lovelace on 2023-11-14 |",
            &commit[..12]
        )),
        "{out}"
    );
    assert!(!out.contains(&creds.secret), "{out}");
}

#[test]
fn a_clean_scan_says_so_and_lists_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("README"), "nothing to see\n").unwrap();
    let run = run(keyhound_in(dir.path()).args(["scan", ".", "-f", "markdown"]));
    run.expect_code(0);
    let out = run.stdout_text();
    assert!(out.starts_with("## keyhound: no secrets found\n"), "{out}");
    assert!(out.contains("scanned 1 file"), "{out}");
    assert!(rows(&out).is_empty(), "{out}");
}
