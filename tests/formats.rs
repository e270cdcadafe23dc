//! The CI formats end to end: GitHub annotations and JUnit XML, on a directory with fake keys.

#[allow(dead_code)]
mod common;

use common::repo::Creds;
use common::{keyhound_in, run, Run};

/// A directory with one fake key pair in two files, and `keyhound scan . -f FORMAT` run in it.
fn scan_as(format: &str) -> (Run, Creds) {
    let dir = tempfile::tempdir().unwrap();
    let creds = Creds::new(71);
    std::fs::create_dir(dir.path().join("deploy")).unwrap();
    std::fs::write(dir.path().join("deploy/prod.env"), creds.dotenv()).unwrap();
    std::fs::write(dir.path().join("old, main.ini"), creds.ini()).unwrap();
    let run = run(keyhound_in(dir.path()).args(["scan", ".", "-f", format]));
    (run, creds)
}

#[test]
fn github_annotations_put_each_place_on_its_line_escaped_and_redacted() {
    let (run, creds) = scan_as("github");
    run.expect_code(1);
    let out = run.stdout_text();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines.iter().any(|l| l.starts_with(
            "::error file=deploy/prod.env,line=2,endLine=2,col=23,endColumn=62,\
             title=keyhound%3A aws-access-key-pair::"
        )),
        "{out}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("::error file=old%2C main.ini,line=3,")),
        "{out}"
    );
    assert!(lines
        .iter()
        .all(|l| l.contains("The same secret is in 2 places")));
    assert!(!out.contains(&creds.secret), "{out}");
}

#[test]
fn junit_has_a_case_per_rule_and_a_failure_per_place() {
    let (run, creds) = scan_as("junit");
    run.expect_code(1);
    let out = run.stdout_text();
    assert!(!out.contains(&creds.secret), "{out}");
    let document = roxmltree::Document::parse(&out).expect("well-formed XML");
    let suites = document.root_element();
    assert_eq!(suites.tag_name().name(), "testsuites");
    let suite = suites
        .children()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    let cases: Vec<roxmltree::Node> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let failed: Vec<&roxmltree::Node> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .collect();
    assert_eq!(failed.len(), 2);
    assert_eq!(suite.attribute("failures"), Some("2"));
    assert_eq!(
        suite.attribute("tests"),
        Some(cases.len().to_string().as_str())
    );
    let names: Vec<&str> = failed.iter().filter_map(|c| c.attribute("name")).collect();
    assert!(
        names.contains(&"aws-access-key-pair: deploy/prod.env:2:23"),
        "{names:?}"
    );
    assert!(
        names.contains(&"aws-access-key-pair: old, main.ini:3:25"),
        "{names:?}"
    );
    // Rules that found nothing are passing cases, so a dashboard shows what was checked.
    let passing: Vec<&str> = cases
        .iter()
        .filter(|c| !c.children().any(|n| n.has_tag_name("failure")))
        .filter_map(|c| c.attribute("name"))
        .collect();
    assert!(passing.contains(&"aws-session-token"), "{passing:?}");
    assert!(!passing.contains(&"aws-access-key-id"), "{passing:?}");
}

/// Panics unless `report` has every field GitLab's secret detection report documents, in the
/// shapes it documents.
fn assert_gitlab_shape(report: &serde_json::Value) {
    let time = |v: &serde_json::Value| {
        let t = v.as_str().unwrap_or_default();
        t.len() == 19 && t.as_bytes()[10] == b'T' && !t.ends_with('Z')
    };
    assert!(report["version"].is_string());
    let scan = &report["scan"];
    assert_eq!(scan["type"], "secret_detection");
    for tool in [&scan["analyzer"], &scan["scanner"]] {
        for field in ["id", "name", "version"] {
            assert!(tool[field].is_string(), "{tool}");
        }
        assert!(tool["vendor"]["name"].is_string(), "{tool}");
    }
    assert!(
        time(&scan["start_time"]) && time(&scan["end_time"]),
        "{scan}"
    );
    assert!(["success", "failure"].contains(&scan["status"].as_str().unwrap()));
    for v in report["vulnerabilities"].as_array().unwrap() {
        let id = v["id"].as_str().unwrap();
        assert_eq!(id.len(), 36, "{v}");
        assert_eq!(v["category"], "secret_detection");
        assert!(v["name"].is_string() && v["description"].is_string(), "{v}");
        let severity = v["severity"].as_str().unwrap();
        assert!(
            ["Info", "Unknown", "Low", "Medium", "High", "Critical"].contains(&severity),
            "{v}"
        );
        let location = &v["location"];
        assert!(location["file"].is_string(), "{v}");
        assert!(
            location["start_line"].is_u64() && location["end_line"].is_u64(),
            "{v}"
        );
        assert!(location["commit"]["sha"].is_string(), "{v}");
        let identifier = &v["identifiers"][0];
        for field in ["type", "name", "value"] {
            assert!(identifier[field].is_string(), "{v}");
        }
    }
}

#[test]
fn the_gitlab_report_has_the_documented_fields_and_no_secret() {
    let (files, creds) = scan_as("gitlab");
    files.expect_code(1);
    assert!(!files.stdout_text().contains(&creds.secret));
    let report = files.json();
    assert_gitlab_shape(&report);
    let vulnerabilities = report["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulnerabilities.len(), 2);
    assert_eq!(vulnerabilities[0]["severity"], "Critical");
    assert_eq!(vulnerabilities[0]["location"]["commit"]["sha"], "0000000");
    assert_ne!(vulnerabilities[0]["id"], vulnerabilities[1]["id"]);

    // From git history, the commit that added the secret.
    let dir = tempfile::tempdir().unwrap();
    let repo = common::repo::Repo::init(dir.path(), "repo");
    repo.write("ci/.env", &creds.dotenv());
    let commit = repo.commit("add ci settings");
    let mut cmd = common::repo::keyhound_for_git(&repo.path);
    cmd.args(["git", "--no-progress", "-f", "gitlab"]);
    let history = run(&mut cmd);
    history.expect_code(1);
    let report = history.json();
    assert_gitlab_shape(&report);
    let location = &report["vulnerabilities"][0]["location"];
    assert_eq!(location["file"], "ci/.env");
    assert_eq!(location["commit"]["sha"], commit.as_str());
}
