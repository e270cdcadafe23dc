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
