//! The `keyhound` binary end to end: findings on the fixtures, exit statuses, output formats,
//! redaction, chunked reading, special inputs and rule files.

#[allow(dead_code)]
mod common;

use std::collections::BTreeSet;
use std::path::Path;
#[cfg(unix)]
use std::time::Duration;

use predicates::prelude::*;
use serde_json::Value;

use common::{
    crate_root, decoded_value, exact, expected_fixture_entries, expected_fixture_findings,
    fixture_secrets, keyhound, keyhound_in, located, reported_values, run, scan_jsonl, str_field,
    u64_field, Exact, Fakes, Part, Planter,
};

/// Principal IDs planted in the fixtures (identifiers, reported only when their rule is on).
const NEGATIVE_PRINCIPAL_IDS: [&str; 2] = ["AIDAXPIIFC5ZEOSONFQO", "AROAHWKPIE2BVURZORD7"];

/// Bytes past each multiple of the chunk size where a chunk after the first starts owning
/// input: the reader carries this much context before the range a chunk owns.
const OWNED_SHIFT: usize = 2 * 4096 + 256;

/// Bytes the reader holds past the end of the range a chunk owns, so that a match starting at
/// the end of that range is seen whole.
const READ_AHEAD: usize = 3 * 4096 + 256;

fn write(dir: &Path, rel: &str, content: impl AsRef<[u8]>) -> std::path::PathBuf {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, content).unwrap();
    path
}

/// A file holding one credential pair; returns the key ID and the secret.
fn credentials_file(dir: &Path, rel: &str, seed: u64) -> (String, String) {
    let mut fakes = Fakes::new(seed);
    let id = fakes.key_id("AKIA");
    let secret = fakes.secret_key();
    write(
        dir,
        rel,
        format!("[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"),
    );
    (id, secret)
}

fn paths_of(findings: &[Value]) -> BTreeSet<String> {
    findings.iter().map(|f| str_field(f, "path")).collect()
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

// ---------------------------------------------------------------------------------------------
// Findings on the fixtures

#[test]
fn fixture_findings_match_the_expected_list_exactly() {
    let run = run(keyhound().args(["scan", "fixtures", "--format", "json"]));
    run.expect_code(1);
    let report = run.json();
    let found: BTreeSet<_> = report["findings"]
        .as_array()
        .expect("findings is an array")
        .iter()
        .map(located)
        .collect();
    let expected = expected_fixture_findings();
    let missing: Vec<_> = expected.difference(&found).collect();
    let unexpected: Vec<_> = found.difference(&expected).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "findings differ from fixtures/expected.jsonl\nmissing: {missing:#?}\nunexpected: {unexpected:#?}"
    );
}

#[test]
fn encoded_fixtures_are_found_at_the_encoded_region_with_their_decode_chain() {
    let run = scan_jsonl(&["fixtures/positive/encoded", "--show-secrets"]);
    run.expect_code(1);
    let describe = |f: &Value, value: String| {
        format!(
            "{}:{}:{}-{}:{} {} {} {value} {}",
            str_field(f, "path"),
            u64_field(f, "line"),
            u64_field(f, "column"),
            u64_field(f, "end_line"),
            u64_field(f, "end_column"),
            str_field(f, "rule_id"),
            f["decoded"],
            f["pair"]["line"],
        )
    };
    let found: BTreeSet<String> = run
        .jsonl()
        .iter()
        .map(|f| describe(f, str_field(f, "secret")))
        .collect();
    let expected: BTreeSet<String> = expected_fixture_entries()
        .iter()
        .filter(|e| e.get("decoded").is_some())
        .map(|e| describe(e, decoded_value(e)))
        .collect();
    assert_eq!(found, expected);
    let chains: BTreeSet<String> = expected_fixture_entries()
        .iter()
        .filter_map(|e| e.get("decoded").map(|d| d.to_string()))
        .collect();
    for chain in [
        r#"["base64"]"#,
        r#"["percent"]"#,
        r#"["escape"]"#,
        r#"["html"]"#,
        r#"["split"]"#,
        r#"["utf-16"]"#,
        r#"["base64","percent"]"#,
        r#"["utf-16","base64"]"#,
    ] {
        assert!(chains.contains(chain), "no fixture decodes {chain}");
    }
    // Chunk boundaries through encoded regions lose nothing.
    let small = scan_jsonl(&[
        "fixtures/positive/encoded",
        "--show-secrets",
        "--chunk-size",
        "64",
    ]);
    let found_small: BTreeSet<String> = small
        .jsonl()
        .iter()
        .map(|f| describe(f, str_field(f, "secret")))
        .collect();
    assert_eq!(found_small, expected);
    // Without decoding, none of them is found.
    let plain = scan_jsonl(&["fixtures/positive/encoded", "--max-decode-depth", "0"]);
    let found: Vec<String> = plain
        .jsonl()
        .iter()
        .filter(|f| f["rule_id"] != "aws-access-key-id")
        .map(|f| describe(f, str_field(f, "secret")))
        .collect();
    assert!(
        found
            .iter()
            .all(|f| f.contains("web.config") || f.contains("settings.reg")),
        "{found:#?}"
    );
}

#[test]
fn negative_fixtures_give_no_findings() {
    let run = scan_jsonl(&["fixtures/negative"]);
    run.expect_code(0);
    assert!(run.jsonl().is_empty(), "{}", run.stdout_text());
    assert!(run.stderr.contains("no secrets found"), "{}", run.stderr);
}

#[test]
fn principal_ids_are_reported_only_when_their_rule_is_enabled() {
    let off = scan_jsonl(&["fixtures/negative"]);
    off.expect_code(0);
    assert!(off.jsonl().is_empty());

    let on = scan_jsonl(&["fixtures/negative", "--enable-rule", "aws-principal-id"]);
    on.expect_code(1);
    let findings = on.jsonl();
    assert!(!findings.is_empty());
    for f in &findings {
        assert_eq!(str_field(f, "rule_id"), "aws-principal-id", "{f}");
        assert_eq!(str_field(f, "path"), "fixtures/negative/cloudtrail.json");
        assert_eq!(f["redacted"], Value::Bool(false));
    }
    let ids: BTreeSet<_> = findings.iter().map(|f| str_field(f, "secret")).collect();
    let expected: BTreeSet<_> = NEGATIVE_PRINCIPAL_IDS
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(ids, expected);
    let kinds: BTreeSet<_> = findings.iter().map(|f| str_field(f, "kind")).collect();
    assert!(
        kinds.contains("iam-user") && kinds.contains("iam-role"),
        "{kinds:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Exit statuses

#[test]
fn findings_make_the_scan_exit_with_status_1() {
    keyhound()
        .args(["scan", "fixtures/positive"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("aws-secret-access-key"))
        .stderr(predicate::str::contains("findings:"));
}

#[test]
fn a_clean_tree_exits_with_status_0() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "README.md", "# nothing to see\n");
    write(dir.path(), "src/main.rs", "fn main() {}\n");
    keyhound_in(dir.path())
        .args(["scan", "."])
        .assert()
        .code(0)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("scanned 2 files"))
        .stderr(predicate::str::contains("no secrets found"));
}

#[test]
fn documentation_example_keys_alone_exit_with_status_0() {
    let run = scan_jsonl(&["fixtures/positive/docs"]);
    run.expect_code(0);
    let findings = run.jsonl();
    assert_eq!(findings.len(), 2, "{}", run.stdout_text());
    for f in &findings {
        assert_eq!(str_field(f, "confidence"), "example", "{f}");
    }
    assert!(
        run.stderr
            .contains("2 documentation example keys, not counted"),
        "{}",
        run.stderr
    );
}

#[test]
fn exit_code_sets_the_status_used_for_findings() {
    keyhound()
        .args(["scan", "fixtures/positive", "--exit-code", "3"])
        .assert()
        .code(3);
    // Without findings the status stays 0.
    keyhound()
        .args(["scan", "fixtures/negative", "--exit-code", "3"])
        .assert()
        .code(0);
}

#[test]
fn a_missing_path_exits_with_status_2_and_is_named() {
    let run = run(keyhound().args(["scan", "fixtures/no-such-directory"]));
    run.expect_code(2);
    assert!(run.stdout.is_empty(), "{}", run.stdout_text());
    assert!(
        run.stderr.contains("fixtures/no-such-directory"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .to_lowercase()
            .contains("no such file or directory"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("incomplete"), "{}", run.stderr);
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_exits_with_status_2() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    // Let an unprivileged user walk the directory; the file itself is closed to everyone.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    credentials_file(dir.path(), "locked.env", 11);
    let locked = dir.path().join("locked.env");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let mut binary = assert_cmd::cargo::cargo_bin("keyhound");
    let bin_dir = tempfile::tempdir().unwrap();
    let privileged = std::fs::read(&locked).is_ok();
    if privileged {
        // Privileges that ignore file modes (root, as in CI): scan as `nobody`, from a copy of
        // the binary that `nobody` can reach whatever the permissions above the build directory.
        std::fs::set_permissions(bin_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let copy = bin_dir.path().join("keyhound");
        std::fs::copy(&binary, &copy).unwrap();
        binary = copy;
    }
    let mut command = std::process::Command::new(binary);
    command
        .current_dir(dir.path())
        .env_remove("KEYHOUND_LOG")
        .args(["scan", "."]);
    if privileged {
        command.uid(65534).gid(65534);
    }
    let run = run(assert_cmd::Command::from_std(command).timeout(Duration::from_secs(60)));
    run.expect_code(2);
    assert!(
        run.stderr.contains("locked.env") && run.stderr.contains("unreadable"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Permission denied"), "{}", run.stderr);
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_named_on_the_command_line_exits_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("gone.env", dir.path().join("creds.env")).unwrap();
    keyhound_in(dir.path())
        .args(["scan", "creds.env"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("creds.env"))
        .stderr(predicate::str::contains("incomplete"));
}

#[test]
fn a_path_below_a_regular_file_exits_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "notes.txt", "plain\n");
    keyhound_in(dir.path())
        .args(["scan", "notes.txt/inner"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("notes.txt/inner"));
}

/// A file that opens but fails to read (even for root): the scan is incomplete.
#[cfg(target_os = "linux")]
#[test]
fn a_read_error_exits_with_status_2() {
    let mem = Path::new("/proc/self/mem");
    if !mem.exists() || std::fs::read(mem).is_ok() {
        return;
    }
    keyhound()
        .args(["scan", "/proc/self/mem"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/proc/self/mem"))
        .stderr(predicate::str::contains("unreadable"));
}

#[cfg(unix)]
#[test]
fn findings_are_still_reported_when_another_input_cannot_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let (id, _) = credentials_file(dir.path(), "app.env", 12);
    std::os::unix::fs::symlink("gone.env", dir.path().join("old.env")).unwrap();
    let run = run(keyhound_in(dir.path()).args(["scan", "app.env", "old.env", "-f", "jsonl"]));
    assert_ne!(run.code, Some(0), "{}", run.stderr);
    let findings = run.jsonl();
    assert!(reported_values(&findings).contains(&id));
    assert!(run.stderr.contains("old.env"), "{}", run.stderr);
    assert!(run.stderr.contains("incomplete"), "{}", run.stderr);
}

#[test]
fn quiet_prints_no_summary() {
    keyhound()
        .args(["scan", "-q", "fixtures/positive"])
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty().not())
        .stderr(predicate::str::is_empty());
}

// ---------------------------------------------------------------------------------------------
// Output formats

#[test]
fn json_output_has_findings_and_summary() {
    let run = run(keyhound().args(["scan", "fixtures", "--format", "json"]));
    run.expect_code(1);
    let report = run.json();
    let findings = report["findings"].as_array().expect("findings array");
    let summary = &report["summary"];
    assert!(summary.is_object(), "{report}");
    assert_eq!(u64_field(summary, "findings") as usize, findings.len());
    let examples = findings
        .iter()
        .filter(|f| str_field(f, "confidence") == "example")
        .count();
    assert_eq!(
        u64_field(summary, "failing_findings") as usize,
        findings.len() - examples
    );
    assert!(u64_field(summary, "files_scanned") >= 20);
    assert_eq!(summary["incomplete"], Value::Bool(false));
    assert_eq!(report["tool"]["name"], "keyhound");
    for f in findings {
        for field in [
            "rule_id",
            "severity",
            "path",
            "secret",
            "snippet",
            "fingerprint",
        ] {
            assert!(f[field].is_string(), "`{field}` missing in {f}");
        }
        for field in ["line", "column", "end_line", "end_column", "offset"] {
            assert!(f[field].is_u64(), "`{field}` missing in {f}");
        }
    }
}

#[test]
fn jsonl_output_has_one_finding_per_line() {
    let json = run(keyhound().args(["scan", "fixtures", "--format", "json"])).json();
    let lines = scan_jsonl(&["fixtures"]);
    lines.expect_code(1);
    let text = lines.stdout_text();
    assert!(text.ends_with('\n'));
    let parsed = lines.jsonl();
    assert_eq!(parsed.len(), text.lines().count());
    assert_eq!(&Value::Array(parsed), &json["findings"]);
}

#[test]
fn sarif_output_is_version_2_1_0_and_points_at_each_finding() {
    let json = run(keyhound().args(["scan", "fixtures", "--format", "json"])).json();
    let run = run(keyhound().args(["scan", "fixtures", "--format", "sarif"]));
    run.expect_code(1);
    let sarif = run.json();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"]
        .as_array()
        .expect("results array");
    let from_sarif: BTreeSet<(String, u64, u64, u64, String)> = results
        .iter()
        .map(|r| {
            let location = &r["locations"][0]["physicalLocation"];
            let region = &location["region"];
            (
                str_field(&location["artifactLocation"], "uri"),
                u64_field(region, "startLine"),
                u64_field(region, "startColumn"),
                u64_field(region, "endColumn"),
                str_field(r, "ruleId"),
            )
        })
        .collect();
    let from_json: BTreeSet<(String, u64, u64, u64, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                str_field(f, "path"),
                u64_field(f, "line"),
                u64_field(f, "column"),
                u64_field(f, "end_column") + 1,
                str_field(f, "rule_id"),
            )
        })
        .collect();
    assert_eq!(results.len(), json["findings"].as_array().unwrap().len());
    assert_eq!(from_sarif, from_json);
}

#[test]
fn output_flag_writes_the_report_to_the_file_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let run = run(keyhound()
        .args(["scan", "fixtures", "--format", "json", "--output"])
        .arg(&out));
    run.expect_code(1);
    assert!(run.stdout.is_empty(), "{}", run.stdout_text());
    let report: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        expected_fixture_findings().len()
    );
    assert!(run.stderr.contains("findings:"), "{}", run.stderr);
}

#[cfg(unix)]
#[test]
fn report_file_holding_secrets_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.jsonl");
    let existing = write(dir.path(), "existing.jsonl", "old report\n");
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o644)).unwrap();
    for out in [&fresh, &existing] {
        let run = run(keyhound()
            .args([
                "scan",
                "fixtures/positive",
                "--show-secrets",
                "-f",
                "jsonl",
                "-o",
            ])
            .arg(out));
        run.expect_code(1);
        assert!(run.stdout.is_empty());
        let mode = std::fs::metadata(out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} has mode {mode:o}", out.display());
        let text = std::fs::read_to_string(out).unwrap();
        assert!(!text.contains("old report"));
        let (_, secret) = &fixture_secrets()[0];
        assert!(text.contains(secret.as_str()));
    }
}

// ---------------------------------------------------------------------------------------------
// Redaction

#[test]
fn secrets_are_redacted_in_every_format_unless_shown() {
    let secrets = fixture_secrets();
    let rules: BTreeSet<_> = secrets.iter().map(|(rule, _)| rule.as_str()).collect();
    for rule in [
        "aws-secret-access-key",
        "aws-session-token",
        "aws-bedrock-api-key",
        "aws-mws-auth-token",
    ] {
        assert!(rules.contains(rule), "no {rule} value in the fixtures");
    }
    let mut leaks = Vec::new();
    for format in ["text", "json", "jsonl", "sarif"] {
        let hidden = run(keyhound().args(["scan", "fixtures", "--color", "never", "-f", format]));
        hidden.expect_code(1);
        let shown = run(keyhound().args([
            "scan",
            "fixtures",
            "--color",
            "never",
            "--show-secrets",
            "-f",
            format,
        ]));
        shown.expect_code(1);
        let hidden_out = hidden.stdout_text();
        let shown_out = shown.stdout_text();
        for (rule, secret) in &secrets {
            if let Some(line) = hidden_out.lines().find(|l| l.contains(secret.as_str())) {
                leaks.push(format!(
                    "{format}: a {rule} value is shown without --show-secrets: {}",
                    line.trim()
                ));
            }
            if hidden.stderr.contains(secret.as_str()) {
                leaks.push(format!("{format}: a {rule} value is logged: {secret}"));
            }
            assert!(
                shown_out.contains(secret.as_str()),
                "{format} output with --show-secrets lacks a {rule} value: {secret}"
            );
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}

#[test]
fn key_ids_are_shown_in_full() {
    // Each profile of the credentials file is a key pair: its key ID is shown whole, its secret
    // redacted.
    let run = scan_jsonl(&["fixtures/positive/.aws"]);
    let pairs: Vec<_> = run
        .jsonl()
        .into_iter()
        .filter(|f| str_field(f, "rule_id") == "aws-access-key-pair")
        .collect();
    assert_eq!(pairs.len(), 2);
    for f in &pairs {
        assert_eq!(f["redacted"], Value::Bool(true));
        let id = str_field(&f["pair"], "key_id");
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("AKIA") || id.starts_with("ASIA"), "{id}");
        assert!(run.stdout_text().contains(&id));
    }
    let text = run_text(
        &crate_root(),
        &["scan", "fixtures/positive/.aws", "--color", "never"],
    );
    for f in &pairs {
        let id = str_field(&f["pair"], "key_id");
        assert!(text.0.contains(&format!("with key ID {id}")), "{}", text.0);
    }
}

// ---------------------------------------------------------------------------------------------
// Determinism

#[test]
fn output_is_identical_whatever_the_thread_count() {
    let outputs: Vec<Vec<u8>> = ["1", "2", "8"]
        .iter()
        .map(|threads| {
            let run = scan_jsonl(&["fixtures", "-j", threads]);
            run.expect_code(1);
            run.stdout
        })
        .collect();
    assert!(!outputs[0].is_empty());
    assert_eq!(outputs[0], outputs[1], "-j 1 and -j 2 differ");
    assert_eq!(outputs[0], outputs[2], "-j 1 and -j 8 differ");
}

// ---------------------------------------------------------------------------------------------
// Chunked reading

/// Scans `path` with `--show-secrets` and the given extra flags; returns the sorted findings.
fn exact_findings(dir: &Path, path: &str, extra: &[&str]) -> Vec<Exact> {
    let run = run(keyhound_in(dir)
        .args(["scan", path, "--show-secrets", "-f", "jsonl"])
        .args(extra));
    assert!(
        matches!(run.code, Some(0 | 1)),
        "scan {extra:?} failed: {:?}\n{}",
        run.code,
        run.stderr
    );
    let mut found: Vec<Exact> = run.jsonl().iter().map(exact).collect();
    found.sort();
    found
}

#[test]
fn chunk_size_does_not_change_findings_in_a_large_file() {
    const LEN: usize = 3_000_000;
    let sizes = [4096usize, 65_536, 100_003, 1 << 20];
    let mut targets: Vec<usize> = Vec::new();
    for (size, ks) in [
        (4096usize, &[5usize, 97, 401][..]),
        (65_536, &[3, 13, 29]),
        (100_003, &[7, 19]),
        (1 << 20, &[1, 2]),
    ] {
        for &k in ks {
            targets.push(k * size);
            targets.push(k * size + OWNED_SHIFT);
        }
    }
    // Values at offsets unrelated to any chunk size, too.
    targets.extend((1..70).map(|i| i * 41_017 + 333));
    targets.sort_unstable();

    let mut planter = Planter::new(7);
    for (i, &target) in targets.iter().enumerate() {
        let planted = match i % 4 {
            0 => planter.profile(Some((target, Part::KeyId))),
            1 => planter.profile(Some((target, Part::Secret))),
            2 => planter.profile(Some((target, Part::Token))),
            _ => planter.long_line(9000, Some(target)),
        };
        if !planted {
            // Too close to the previous value: plant next to it instead.
            planter.profile(None);
        }
    }
    planter.fill_lines(LEN);
    for size in sizes {
        let multiples = (1..=LEN / size).map(|k| k * size);
        let splits = |shift: usize| multiples.clone().any(|b| planter.splits_at(b + shift));
        assert!(splits(0), "no value spans a multiple of {size}");
        assert!(
            splits(OWNED_SHIFT),
            "no value spans a chunk boundary of {size}"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "big.log", &planter.buf);
    let expected = planter.expected();
    let default = exact_findings(dir.path(), "big.log", &[]);
    assert_eq!(default.len(), expected.len());
    assert_eq!(default, expected);
    for size in ["4096", "65536", "100003", "1048576"] {
        let found = exact_findings(dir.path(), "big.log", &["--chunk-size", size]);
        assert_eq!(found, default, "--chunk-size {size}");
    }
}

#[test]
fn tiny_chunks_do_not_change_findings() {
    // Chunks of one byte cost a pass over the whole overlap each, so the input is kept just long
    // enough that every planted value lies in the stretch read one byte at a time.
    let mut planter = Planter::new(8);
    planter.fill_lines(2000);
    assert!(planter.long_line(1600, Some(OWNED_SHIFT + 1)));
    assert!(planter.profile(None));
    let end = planter.buf.len();
    planter.fill_lines(end + 4000);
    // This one lies in the last chunk, which owns everything up to the end of the input.
    assert!(planter.profile(None));
    planter.fill_lines(end + READ_AHEAD + 64);

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "small.log", &planter.buf);
    let expected = planter.expected();
    let default = exact_findings(dir.path(), "small.log", &[]);
    assert_eq!(default, expected);
    for size in ["1", "7", "4096"] {
        let found = exact_findings(dir.path(), "small.log", &["--chunk-size", size]);
        assert_eq!(found, default, "--chunk-size {size}");
    }
}

#[test]
fn a_giant_single_line_file_reports_line_1_and_the_right_column() {
    let unit = "{\"k\":1,\"v\":\"café\"},";
    let units = 50_000_000 / unit.len();
    let id = Fakes::new(9).key_id("AKIA");
    let prefix = " aws_access_key_id=";
    let mut content = unit.repeat(units).into_bytes();
    content.extend_from_slice(format!("{prefix}{id}}}").as_bytes());
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bundle.min.js", &content);
    drop(content);

    let run = run(keyhound_in(dir.path()).args(["scan", "bundle.min.js", "-f", "jsonl"]));
    run.expect_code(1);
    let findings = run.jsonl();
    assert_eq!(findings.len(), 1, "{}", run.stdout_text());
    let f = &findings[0];
    assert_eq!(str_field(f, "secret"), id);
    assert_eq!(u64_field(f, "line"), 1);
    let chars_before = units * unit.chars().count() + prefix.len();
    assert_eq!(u64_field(f, "column"), chars_before as u64 + 1);
    assert_eq!(
        u64_field(f, "offset"),
        (units * unit.len() + prefix.len()) as u64
    );
}

// ---------------------------------------------------------------------------------------------
// Binary and malformed input

#[test]
fn binary_files_are_skipped_unless_scan_binary() {
    let dir = tempfile::tempdir().unwrap();
    let id = Fakes::new(10).key_id("AKIA");
    let mut blob = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
    blob.extend_from_slice(format!("\x01\x02 aws_access_key_id = {id}\x00\x03").as_bytes());
    write(dir.path(), "tool.bin", &blob);

    keyhound_in(dir.path())
        .args(["scan", "."])
        .assert()
        .code(0)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("1 binary"));

    let run = run(keyhound_in(dir.path()).args(["scan", ".", "--scan-binary", "-f", "jsonl"]));
    run.expect_code(1);
    let findings = run.jsonl();
    assert_eq!(findings.len(), 1);
    assert_eq!(str_field(&findings[0], "secret"), id);
    assert_eq!(str_field(&findings[0], "path"), "tool.bin");
}

#[test]
fn a_nul_after_the_first_8_kib_does_not_make_a_file_binary() {
    let dir = tempfile::tempdir().unwrap();
    let id = Fakes::new(13).key_id("AKIA");
    let mut content = "lorem ipsum dolor\n".repeat(500).into_bytes();
    assert!(content.len() > 8192);
    content.push(0);
    content.extend_from_slice(format!("\naws_access_key_id = {id}\n").as_bytes());
    write(dir.path(), "data.txt", &content);
    let run = run(keyhound_in(dir.path()).args(["scan", ".", "-f", "jsonl"]));
    run.expect_code(1);
    let findings = run.jsonl();
    assert_eq!(findings.len(), 1);
    assert_eq!(u64_field(&findings[0], "line"), 502);
    assert_eq!(u64_field(&findings[0], "column"), 21);
}

#[test]
fn invalid_utf8_throughout_a_file_does_not_stop_the_scan() {
    let mut fakes = Fakes::new(14);
    let mut content = Vec::new();
    let mut line = 1u64;
    let mut expected = Vec::new();
    let mut pair_ids: Vec<(u64, String)> = Vec::new();
    for i in 0..40 {
        for _ in 0..20 {
            let junk: Vec<u8> = (0..60)
                .map(|_| match fakes.below(9) {
                    0 => b' ',
                    _ => 0x80 + fakes.below(0x80) as u8,
                })
                .collect();
            content.extend_from_slice(&junk);
            content.push(b'\n');
            line += 1;
        }
        let id = fakes.key_id("AKIA");
        if i % 2 == 0 {
            let secret = fakes.secret_key();
            content.extend_from_slice(
                format!("aws_access_key_id = {id}\naws_secret_access_key = {secret}\n").as_bytes(),
            );
            // A key pair: one finding at the secret, carrying the ID.
            expected.push(("aws-access-key-pair", line + 1, Some(25), secret));
            pair_ids.push((line + 1, id));
            line += 2;
        } else {
            // After invalid bytes on the same line.
            content.extend_from_slice(b"\xff\xfe\xc3( \x80\xbf ");
            content.extend_from_slice(format!("aws_access_key_id={id}\n").as_bytes());
            expected.push(("aws-access-key-id", line, None, id));
            line += 1;
        }
    }
    assert!(std::str::from_utf8(&content).is_err());
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "mixed.dat", &content);
    let run =
        run(keyhound_in(dir.path()).args(["scan", "mixed.dat", "--show-secrets", "-f", "jsonl"]));
    run.expect_code(1);
    let findings = run.jsonl();
    assert_eq!(findings.len(), expected.len(), "{}", run.stdout_text());
    for (f, (rule, line, column, value)) in findings.iter().zip(&expected) {
        assert_eq!(str_field(f, "rule_id"), *rule);
        assert_eq!(u64_field(f, "line"), *line, "{f}");
        if let Some(column) = column {
            assert_eq!(u64_field(f, "column"), *column, "{f}");
        }
        assert_eq!(&str_field(f, "secret"), value);
        if let Some((_, id)) = pair_ids.iter().find(|(l, _)| l == line) {
            assert_eq!(&str_field(&f["pair"], "key_id"), id, "{f}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Special files

#[cfg(unix)]
#[test]
fn a_fifo_inside_a_tree_is_skipped_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let (id, _) = credentials_file(dir.path(), "app.env", 15);
    mkfifo(&dir.path().join("events.pipe"));
    let run = run(keyhound_in(dir.path())
        .args(["scan", ".", "-f", "jsonl"])
        .timeout(Duration::from_secs(20)));
    run.expect_code(1);
    assert!(reported_values(&run.jsonl()).contains(&id));
    assert!(run.stderr.contains("events.pipe"), "{}", run.stderr);
    assert!(run.stderr.contains("1 special file"), "{}", run.stderr);
}

#[cfg(unix)]
#[test]
fn a_symlink_to_dev_zero_is_not_followed_by_default() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "notes.txt", "nothing here\n");
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero")).unwrap();
    keyhound_in(dir.path())
        .args(["scan", "."])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(0)
        .stderr(predicate::str::contains("1 symlink not followed"));
}

#[cfg(unix)]
#[test]
fn a_followed_symlink_to_dev_zero_is_skipped_as_a_special_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "notes.txt", "nothing here\n");
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero")).unwrap();
    keyhound_in(dir.path())
        .args(["scan", "--follow", "."])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(0)
        .stderr(predicate::str::contains("zero"))
        .stderr(predicate::str::contains("character device"))
        .stderr(predicate::str::contains("1 special file"));
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_is_reported_when_following_links() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sub/notes.txt", "nothing here\n");
    std::os::unix::fs::symlink("..", dir.path().join("sub/up")).unwrap();
    let run = run(keyhound_in(dir.path())
        .args(["scan", "--follow", "."])
        .timeout(Duration::from_secs(20)));
    run.expect_code(2);
    assert!(run.stderr.contains("sub/up"), "{}", run.stderr);
    assert!(run.stderr.contains("loop"), "{}", run.stderr);
}

#[cfg(unix)]
#[test]
fn a_fifo_named_on_the_command_line_is_read_as_a_stream() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("creds.pipe");
    mkfifo(&fifo);
    let mut fakes = Fakes::new(16);
    let id = fakes.key_id("ASIA");
    let secret = fakes.secret_key();
    let payload = format!("AWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={secret}\n");
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut pipe = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            pipe.write_all(payload.as_bytes()).unwrap();
        })
    };
    let run = run(keyhound_in(dir.path())
        .args(["scan", "creds.pipe", "--show-secrets", "-f", "jsonl"])
        .timeout(Duration::from_secs(20)));
    if !writer.is_finished() {
        // The FIFO was never opened: let the writer through so the test can end.
        let mut drain = Vec::new();
        std::fs::File::open(&fifo)
            .unwrap()
            .read_to_end(&mut drain)
            .unwrap();
    }
    writer.join().unwrap();
    run.expect_code(1);
    let found: BTreeSet<_> = run
        .jsonl()
        .iter()
        .map(|f| {
            (
                str_field(f, "path"),
                u64_field(f, "line"),
                str_field(f, "secret"),
            )
        })
        .collect();
    // The ID on line 1 and its secret on line 2 are one key pair finding at the secret.
    let pairs: Vec<_> = run
        .jsonl()
        .iter()
        .map(|f| str_field(&f["pair"], "key_id"))
        .collect();
    assert_eq!(pairs, [id]);
    let expected: BTreeSet<_> = [("creds.pipe".to_string(), 2, secret)]
        .into_iter()
        .collect();
    assert_eq!(found, expected);
}

// ---------------------------------------------------------------------------------------------
// Choosing what to scan

#[test]
fn max_file_size_skips_larger_files_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (small_id, _) = credentials_file(dir.path(), "small.env", 17);
    let mut fakes = Fakes::new(18);
    let big_id = fakes.key_id("AKIA");
    write(
        dir.path(),
        "big.env",
        format!(
            "{}aws_access_key_id = {big_id}\n",
            "# padding line\n".repeat(200)
        ),
    );
    let run =
        run(keyhound_in(dir.path()).args(["scan", ".", "--max-file-size", "1K", "-f", "jsonl"]));
    run.expect_code(1);
    let ids = reported_values(&run.jsonl());
    assert!(ids.contains(&small_id));
    assert!(!ids.contains(&big_id));
    assert!(run.stderr.contains("big.env"), "{}", run.stderr);
    assert!(run.stderr.contains("max-file-size"), "{}", run.stderr);
    assert!(run.stderr.contains("1 too large"), "{}", run.stderr);
}

#[test]
fn exclude_skips_matching_files() {
    let dir = tempfile::tempdir().unwrap();
    credentials_file(dir.path(), "prod.env", 19);
    credentials_file(dir.path(), "config/dev.env", 20);
    credentials_file(dir.path(), "config/app.ini", 21);
    let run = run(keyhound_in(dir.path()).args(["scan", ".", "--exclude", "*.env", "-f", "jsonl"]));
    run.expect_code(1);
    assert_eq!(
        paths_of(&run.jsonl()),
        BTreeSet::from(["config/app.ini".to_string()])
    );
}

#[test]
fn gitignored_files_are_scanned_unless_gitignore_is_given() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".gitignore", "ignored.env\nbuild/\n");
    credentials_file(dir.path(), "ignored.env", 22);
    credentials_file(dir.path(), "build/out.txt", 23);
    credentials_file(dir.path(), "kept.txt", 24);

    let all = run(keyhound_in(dir.path()).args(["scan", ".", "-f", "jsonl"]));
    all.expect_code(1);
    assert_eq!(
        paths_of(&all.jsonl()),
        BTreeSet::from([
            "build/out.txt".to_string(),
            "ignored.env".to_string(),
            "kept.txt".to_string()
        ])
    );

    let honoured = run(keyhound_in(dir.path()).args(["scan", ".", "--gitignore", "-f", "jsonl"]));
    honoured.expect_code(1);
    assert_eq!(
        paths_of(&honoured.jsonl()),
        BTreeSet::from(["kept.txt".to_string()])
    );
}

#[test]
fn hidden_files_are_scanned_and_git_directories_are_not() {
    let dir = tempfile::tempdir().unwrap();
    credentials_file(dir.path(), ".hidden/creds", 25);
    credentials_file(dir.path(), ".env", 26);
    credentials_file(dir.path(), ".git/config", 27);
    credentials_file(dir.path(), "sub/.git/objects/info", 28);
    let run = run(keyhound_in(dir.path()).args(["scan", ".", "-f", "jsonl"]));
    run.expect_code(1);
    assert_eq!(
        paths_of(&run.jsonl()),
        BTreeSet::from([".env".to_string(), ".hidden/creds".to_string()])
    );
}

#[test]
fn standard_input_is_scanned_with_path_dash() {
    let mut fakes = Fakes::new(29);
    let id = fakes.key_id("ASIA");
    let secret = fakes.secret_key();
    let token = fakes.session_token();
    let run = run(keyhound()
        .args(["scan", "-", "--show-secrets", "-f", "jsonl"])
        .write_stdin(format!(
            "# piped\nexport AWS_ACCESS_KEY_ID={id}\nexport AWS_SECRET_ACCESS_KEY={secret}\n\
             export AWS_SESSION_TOKEN={token}\n"
        )));
    run.expect_code(1);
    let found: Vec<_> = run
        .jsonl()
        .iter()
        .map(|f| {
            (
                str_field(f, "path"),
                u64_field(f, "line"),
                u64_field(f, "column"),
                str_field(f, "rule_id"),
                str_field(f, "secret"),
            )
        })
        .collect();
    let dash = || "-".to_string();
    assert_eq!(
        found,
        vec![
            (dash(), 3, 30, "aws-access-key-pair".to_string(), secret),
            (dash(), 4, 26, "aws-session-token".to_string(), token),
        ]
    );
    assert_eq!(run.jsonl()[0]["pair"]["key_id"], id.as_str());
    assert_eq!(run.jsonl()[0]["pair"]["line"], 2);
}

// ---------------------------------------------------------------------------------------------
// Rules

const BROKEN_EXAMPLE_RULE: &str = r#"[[rules]]
id = "acme-token"
name = "Acme token"
description = "An Acme API token."
severity = "high"
keywords = ["acme_"]
pattern = 'acme_(?P<secret>[0-9a-f]{32})'
remediation = "Revoke it."
examples = ["token = acme_0123456789abcdef0123456789abcdef", "token = acme_short"]
negative_examples = ["acme_zzzz"]
"#;

const SYNTAX_ERROR_RULE: &str = r#"[[rules]]
id = "acme-token"
name = "Acme token
description = "An Acme API token."
"#;

const UNKNOWN_KEY_RULE: &str = r#"[[rules]]
id = "acme-token"
name = "Acme token"
description = "An Acme API token."
severity = "high"
keywords = ["acme_"]
pattern = 'acme_(?P<secret>[0-9a-f]{32})'
remediation = "Revoke it."
sevrity = "low"
"#;

const CUSTOM_RULE: &str = r#"[[rules]]
id = "acme-api-token"
name = "Acme API token"
description = "An Acme API token."
severity = "high"
keywords = ["acme_"]
pattern = 'acme_(?P<secret>[0-9a-f]{32})'
boundary = "[A-Za-z0-9]"
remediation = "Revoke it in the Acme console."
examples = ["ACME_TOKEN=acme_0123456789abcdef0123456789abcdef"]
negative_examples = ["ACME_TOKEN=acme_0123"]
"#;

const REPLACING_RULE: &str = r#"[[rules]]
id = "aws-access-key-id"
name = "Corporate access key ID"
description = "An access key ID filed under the corporate key name."
severity = "low"
exact_keywords = ["corp-key:"]
pattern = 'corp-key: (?P<secret>AKIA[A-Z2-7]{16})'
boundary = "[A-Za-z0-9]"
redact = false
remediation = "Rotate it."
"#;

#[test]
fn rules_list_shows_ids_severities_and_disabled_rules() {
    let run = run(keyhound().args(["rules", "list"]));
    run.expect_code(0);
    let text = run.stdout_text();
    for (id, severity) in [
        ("aws-access-key-id", "high"),
        ("aws-secret-access-key", "critical"),
        ("aws-session-token", "high"),
        ("aws-bedrock-api-key", "high"),
        ("aws-mws-auth-token", "high"),
        ("aws-principal-id", "info"),
    ] {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("{id} not listed:\n{text}"));
        assert_eq!(line.split_whitespace().nth(1), Some(severity), "{line}");
        let off = line.contains("(off;");
        assert_eq!(off, id == "aws-principal-id", "{line}");
    }
}

#[test]
fn rules_check_passes_for_the_builtin_rules() {
    keyhound()
        .args(["rules", "check"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("rules ok"));
}

#[test]
fn rules_check_names_the_rule_and_example_that_fail() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "acme.toml", BROKEN_EXAMPLE_RULE);
    let run = run(keyhound_in(dir.path()).args(["rules", "check", "acme.toml"]));
    assert_ne!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.contains("acme-token"), "{}", run.stderr);
    assert!(run.stderr.contains("token = acme_short"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("0123456789abcdef0123456789abcdef"),
        "a passing example is reported: {}",
        run.stderr
    );
}

#[test]
fn a_rule_file_with_a_syntax_error_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "broken.toml", SYNTAX_ERROR_RULE);
    for args in [
        &["rules", "check", "broken.toml"][..],
        &["scan", "--rules", "broken.toml", "."],
        &["rules", "list", "--rules", "broken.toml"],
    ] {
        keyhound_in(dir.path())
            .args(args)
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains("broken.toml"))
            .stderr(predicate::str::contains("line 3"));
    }
}

#[test]
fn a_rule_file_with_an_unknown_key_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "typo.toml", UNKNOWN_KEY_RULE);
    for args in [
        &["rules", "check", "typo.toml"][..],
        &["scan", "--rules", "typo.toml", "."],
    ] {
        keyhound_in(dir.path())
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("typo.toml"))
            .stderr(predicate::str::contains("line 9"))
            .stderr(predicate::str::contains("sevrity"));
    }
}

#[test]
fn a_user_rule_finds_its_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write(dir.path(), "rules/acme.toml", CUSTOM_RULE);
    let mut fakes = Fakes::new(31);
    let token: String = (0..32)
        .map(|_| b"0123456789abcdef"[fakes.below(16)] as char)
        .collect();
    write(
        dir.path(),
        "src/client.py",
        format!("ACME_TOKEN = \"acme_{token}\"\n"),
    );

    keyhound_in(dir.path())
        .args(["rules", "check"])
        .arg(&rules)
        .assert()
        .code(0);

    let without = run(keyhound_in(dir.path()).args(["scan", "src", "-f", "jsonl"]));
    without.expect_code(0);

    let with = run(keyhound_in(dir.path()).args([
        "scan",
        "src",
        "--rules",
        "rules/acme.toml",
        "-f",
        "jsonl",
    ]));
    with.expect_code(1);
    let findings = with.jsonl();
    assert_eq!(findings.len(), 1, "{}", with.stdout_text());
    let f = &findings[0];
    assert_eq!(str_field(f, "rule_id"), "acme-api-token");
    assert_eq!(u64_field(f, "column"), 20);
    assert_eq!(f["redacted"], Value::Bool(true));
    assert!(!with.stdout_text().contains(&token));

    // A directory of rule files loads each of them.
    let shown = run(keyhound_in(dir.path()).args([
        "scan",
        "src",
        "--rules",
        "rules",
        "--show-secrets",
        "-f",
        "jsonl",
    ]));
    shown.expect_code(1);
    assert_eq!(str_field(&shown.jsonl()[0], "secret"), token);
}

#[test]
fn a_user_rule_with_a_builtin_id_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "corp.toml", REPLACING_RULE);
    let mut fakes = Fakes::new(32);
    let plain = fakes.key_id("AKIA");
    let corp = fakes.key_id("AKIA");
    write(
        dir.path(),
        "keys.txt",
        format!("aws_access_key_id = {plain}\ncorp-key: {corp}\n"),
    );

    let builtin = run(keyhound_in(dir.path()).args(["scan", "keys.txt", "-f", "jsonl"]));
    builtin.expect_code(1);
    assert_eq!(builtin.jsonl().len(), 2);

    let replaced = run(keyhound_in(dir.path()).args([
        "scan",
        "keys.txt",
        "--rules",
        "corp.toml",
        "-f",
        "jsonl",
    ]));
    replaced.expect_code(1);
    let findings = replaced.jsonl();
    assert_eq!(findings.len(), 1, "{}", replaced.stdout_text());
    let f = &findings[0];
    assert_eq!(str_field(f, "rule_id"), "aws-access-key-id");
    assert_eq!(str_field(f, "rule_name"), "Corporate access key ID");
    assert_eq!(str_field(f, "severity"), "low");
    assert_eq!(str_field(f, "secret"), corp);
    assert_eq!(u64_field(f, "line"), 2);

    let list = run(keyhound_in(dir.path()).args(["rules", "list", "--rules", "corp.toml"]));
    list.expect_code(0);
    let text = list.stdout_text();
    let lines: Vec<_> = text
        .lines()
        .filter(|l| l.split_whitespace().next() == Some("aws-access-key-id"))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains("Corporate access key ID"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Terminal safety

#[cfg(unix)]
#[test]
fn escape_sequences_in_names_and_lines_do_not_reach_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let id = Fakes::new(33).key_id("AKIA");
    write(
        dir.path(),
        "creds\x1b[31mred.env",
        format!("title \x1b]0;pwned\x07 aws_access_key_id = {id}\n"),
    );
    let run = run(keyhound_in(dir.path()).args(["scan", ".", "--color", "never"]));
    run.expect_code(1);
    assert!(run.stdout_text().contains(&id), "{}", run.stdout_text());
    assert!(
        !run.stdout.contains(&0x1b),
        "raw ESC on stdout: {:?}",
        run.stdout_text()
    );
    assert!(!run.stdout.contains(&0x07), "raw BEL on stdout");
    assert!(run.stdout_text().contains("creds\\x1b[31mred.env"));
}

#[test]
fn fixture_paths_are_relative_to_the_scanned_path() {
    let run = scan_jsonl(&["fixtures"]);
    for f in run.jsonl() {
        assert!(
            str_field(&f, "path").starts_with("fixtures/positive/"),
            "{f}"
        );
    }
    assert!(crate_root().join("fixtures/expected.jsonl").is_file());
}

#[test]
fn a_file_named_twice_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    credentials_file(dir.path(), "app.env", 34);
    credentials_file(dir.path(), "conf/other.ini", 35);
    let once = run(keyhound_in(dir.path()).args(["scan", ".", "-f", "jsonl"]));
    once.expect_code(1);
    let once = once.jsonl();
    // Two files, each with one key pair.
    assert_eq!(once.len(), 2);
    for args in [
        &["scan", "app.env", "app.env", "-f", "jsonl"][..],
        &["scan", "app.env", ".", "-f", "jsonl"],
        &["scan", ".", "./app.env", "conf", "-f", "jsonl"],
    ] {
        let run = run(keyhound_in(dir.path()).args(args));
        run.expect_code(1);
        let findings = run.jsonl();
        let mut seen = BTreeSet::new();
        for f in &findings {
            let key = (
                str_field(f, "path"),
                u64_field(f, "offset"),
                str_field(f, "rule_id"),
            );
            assert!(seen.insert(key), "{args:?} reports a finding twice: {f}");
        }
    }
}

#[test]
fn rules_can_be_turned_off_and_unknown_ids_are_refused() {
    let run = scan_jsonl(&[
        "fixtures/positive",
        "--disable-rule",
        "aws-secret-access-key",
    ]);
    run.expect_code(1);
    let rules: BTreeSet<_> = run
        .jsonl()
        .iter()
        .map(|f| str_field(f, "rule_id"))
        .collect();
    assert!(!rules.contains("aws-secret-access-key"), "{rules:?}");
    assert!(rules.contains("aws-access-key-id"), "{rules:?}");

    for flag in ["--enable-rule", "--disable-rule"] {
        keyhound()
            .args(["scan", "fixtures/negative", flag, "aws-no-such-rule"])
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains("aws-no-such-rule"));
    }
}

#[test]
fn key_ids_carry_their_decoded_account_named_from_an_accounts_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "creds",
        "aws_access_key_id = ASIAY34FZKBOKMUTVV7A\nold = AKIAIOSFODNN7QWERTYU\n",
    );
    write(
        dir.path(),
        "accounts.csv",
        "account,name\n609629065308,prod-payments\n",
    );
    let run = run(keyhound_in(dir.path()).args([
        "scan",
        "creds",
        "-f",
        "json",
        "--accounts",
        "accounts.csv",
    ]));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let json = run.json();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings[0]["aws_account_id"], "609629065308");
    assert_eq!(findings[0]["aws_account_name"], "prod-payments");
    // An old-style ID (fifth character before Q) encodes no account: none is reported.
    assert!(findings[1]["aws_account_id"].is_null(), "{}", findings[1]);

    let sarif = run_sarif(
        dir.path(),
        &["scan", "creds", "-f", "sarif", "--accounts", "accounts.csv"],
    );
    let properties = &sarif["runs"][0]["results"][0]["properties"];
    assert_eq!(properties["aws_account_id"], "609629065308");
    assert_eq!(properties["aws_account_name"], "prod-payments");

    let text = keyhound_in(dir.path())
        .args([
            "scan",
            "creds",
            "--accounts",
            "accounts.csv",
            "--color",
            "never",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("account prod-payments (609629065308)"));
}

#[test]
fn keys_of_canary_token_accounts_are_marked_in_every_format_and_others_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut fakes = Fakes::new(61);
    // 717712589309 hands out Thinkst Canarytokens; 982842642351 another canary service's.
    let thinkst = fakes.key_id_of_account("AKIA", 717_712_589_309);
    let other = fakes.key_id_of_account("ASIA", 982_842_642_351);
    let plain = fakes.key_id_of_account("AKIA", 123_456_789_012);
    let secret = fakes.secret_key();
    write(
        dir.path(),
        "creds",
        format!(
            "[canary]\naws_access_key_id = {thinkst}\naws_secret_access_key = {secret}\n\n\
             [temp]\naws_access_key_id = {other}\n\n[real]\naws_access_key_id = {plain}\n"
        ),
    );
    let run = run(keyhound_in(dir.path()).args(["scan", "creds", "-f", "json"]));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let json = run.json();
    let findings = json["findings"].as_array().unwrap();
    let by_id = |id: &str| {
        findings
            .iter()
            .find(|f| f["secret"] == id || f["pair"]["key_id"] == id)
            .unwrap_or_else(|| panic!("{id} reported: {json}"))
    };
    let warning = "a canary token: using it alerts whoever planted it";
    let pair = by_id(&thinkst);
    assert_eq!(pair["rule_id"], "aws-access-key-pair", "{pair}");
    assert_eq!(pair["canary"], true, "{pair}");
    assert_eq!(
        pair["canary_message"],
        format!("{warning} (Thinkst Canarytokens (canarytokens.org))")
    );
    assert_eq!(by_id(&other)["canary"], true);
    assert!(by_id(&plain).get("canary").is_none(), "{}", by_id(&plain));
    assert!(by_id(&plain).get("canary_message").is_none());

    let sarif = run_sarif(dir.path(), &["scan", "creds", "-f", "sarif"]);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let canaries = results
        .iter()
        .filter(|r| r["properties"]["canary"] == true)
        .count();
    assert_eq!(canaries, 2, "{sarif}");
    assert!(results
        .iter()
        .filter(|r| r["properties"]["canary"] == true)
        .all(|r| r["message"]["text"].as_str().unwrap().contains(warning)));

    let text = keyhound_in(dir.path())
        .args(["scan", "creds", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert_eq!(text.matches(warning).count(), 2, "{text}");
}

#[test]
fn a_malformed_accounts_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "creds",
        "aws_access_key_id = ASIAY34FZKBOKMUTVV7A\n",
    );
    write(dir.path(), "accounts.csv", "609629065308 prod\n");
    let run = run(keyhound_in(dir.path()).args(["scan", "creds", "--accounts", "accounts.csv"]));
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("accounts.csv") && run.stderr.contains("line 1"),
        "{}",
        run.stderr
    );
}

fn run_sarif(dir: &Path, args: &[&str]) -> serde_json::Value {
    let output = keyhound_in(dir).args(args).output().unwrap();
    serde_json::from_slice(&output.stdout).expect("SARIF is JSON")
}

#[test]
fn lines_marked_as_allowed_are_not_reported_but_counted() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "config.py",
        "AWS_ACCESS_KEY_ID = 'AKIAQYLPMN5HHHFPZAM2'  # keyhound:allow\n\
         aws_secret_access_key = \"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\"  # gitleaks:allow\n",
    );
    write(
        dir.path(),
        "deploy.yaml",
        "aws_access_key_id: AKIAZT4HB6K7WLQX3N5D # pragma: allowlist secret\n",
    );
    write(
        dir.path(),
        "app.js",
        "const id = 'AKIA2RMK7TWQDPL5XJ4H'; // keyhound:allow\nconst other = 'AKIAQ3ZK7WMNB2XR5TUV';\n",
    );
    let run = run(keyhound_in(dir.path()).args(["scan", ".", "-f", "json"]));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let json = run.json();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["secret"], "AKIAQ3ZK7WMNB2XR5TUV");
    assert_eq!(json["summary"]["suppressed"], 4);
    let text = run_text(dir.path(), &["scan", ".", "--color", "never"]);
    assert!(
        text.1
            .contains("4 findings allowed by keyhound:allow markers"),
        "{}",
        text.1
    );
}

fn run_text(dir: &Path, args: &[&str]) -> (String, String) {
    let output = keyhound_in(dir).args(args).output().unwrap();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn min_confidence_hides_weaker_findings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("docs")).unwrap();
    // One finding of each confidence: high (a key name), medium (an ID with no key name),
    // low (a bare `'secret'` key) and example (the AWS documentation key).
    write(
        dir.path(),
        "mixed.php",
        "$id = 'AKIAQYLPMN5HHHFPZAM2x';\n\
         $opts = ['region' => 'us-east-1', 'token' => 'AKIAZT4HB6K7WLQX3N5D'];\n\n\n\n\n\n\n\n\
         $c = ['secret' => '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'];\n\n\n\n\n\n\n\n\
         aws_access_key_id = AKIA2RMK7TWQDPL5XJ4H\n",
    );
    write(
        dir.path(),
        "docs/guide.md",
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
    );
    let scan = |extra: &[&str]| {
        let run = run(keyhound_in(dir.path())
            .args(["scan", ".", "-f", "jsonl"])
            .args(extra));
        run.jsonl()
    };
    let all = scan(&[]);
    let levels = ["example", "low", "medium", "high"];
    for level in levels {
        assert!(
            all.iter().any(|f| str_field(f, "confidence") == level),
            "no {level} finding: {all:?}"
        );
    }
    for (rank, level) in levels.iter().enumerate() {
        let shown = scan(&["--min-confidence", level]);
        let expected: Vec<_> = all
            .iter()
            .filter(|f| {
                let confidence = str_field(f, "confidence");
                levels.iter().position(|l| *l == confidence).unwrap() >= rank
            })
            .cloned()
            .collect();
        assert_eq!(shown, expected, "--min-confidence {level}");
    }
    // Only documentation examples: nothing at or above `low` fails the scan.
    let docs = run(keyhound_in(dir.path()).args([
        "scan",
        "docs",
        "--min-confidence",
        "low",
        "-f",
        "jsonl",
    ]));
    docs.expect_code(0);
    assert!(docs.jsonl().is_empty());
}

#[test]
fn a_baseline_gate_fails_only_on_new_findings() {
    let dir = tempfile::tempdir().unwrap();
    let (id, secret) = credentials_file(dir.path(), "app/.env", 41);
    let scan = |args: &[&str]| run(keyhound_in(dir.path()).args(["scan", "app"]).args(args));

    // Accepting the current findings writes no secret and exits 0.
    let written = scan(&["--write-baseline", "baseline.json", "-q"]);
    written.expect_code(0);
    let baseline = std::fs::read_to_string(dir.path().join("baseline.json")).unwrap();
    assert!(!baseline.contains(&secret), "{baseline}");
    assert!(
        baseline.contains("aws-access-key-pair") && baseline.contains("app/.env"),
        "{baseline}"
    );

    // The same findings, moved down the file: nothing new, exit 0; text hides them.
    std::fs::write(
        dir.path().join("app/.env"),
        format!(
            "# moved\n\n[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"
        ),
    )
    .unwrap();
    let gate = scan(&["--baseline", "baseline.json", "--color", "never"]);
    gate.expect_code(0);
    assert!(
        !gate.stdout_text().contains("app/.env"),
        "{}",
        gate.stdout_text()
    );
    assert!(
        gate.stderr.contains("1 finding in the baseline"),
        "{}",
        gate.stderr
    );

    // A new secret fails the gate, alone; JSON marks both, SARIF keeps the old one suppressed.
    let mut fakes = Fakes::new(42);
    let new_id = fakes.key_id("AKIA");
    write(
        dir.path(),
        "app/config.yaml",
        format!("aws_access_key_id: {new_id}\n"),
    );
    let json = scan(&["--baseline", "baseline.json", "-f", "json"]);
    json.expect_code(1);
    let report = json.json();
    let states: BTreeSet<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (str_field(f, "rule_id"), str_field(f, "baseline_state")))
        .collect();
    assert_eq!(
        states,
        [
            ("aws-access-key-id".to_string(), "new".to_string()),
            ("aws-access-key-pair".to_string(), "unchanged".to_string()),
        ]
        .into_iter()
        .collect()
    );
    let sarif = run_sarif(
        dir.path(),
        &["scan", "app", "--baseline", "baseline.json", "-f", "sarif"],
    );
    for result in sarif["runs"][0]["results"].as_array().unwrap() {
        match result["baselineState"].as_str() {
            Some("unchanged") => assert_eq!(result["suppressions"][0]["kind"], "external"),
            Some("new") => assert!(result.get("suppressions").is_none()),
            other => panic!("baselineState {other:?}"),
        }
    }

    // The old secret removed: its entry is stale, and --prune-baseline drops it.
    std::fs::remove_file(dir.path().join("app/.env")).unwrap();
    let stale = scan(&["--baseline", "baseline.json", "-f", "json"]);
    assert_eq!(stale.json()["summary"]["stale_baseline_entries"], 1);
    scan(&["--baseline", "baseline.json", "--prune-baseline", "-q"]);
    let pruned = std::fs::read_to_string(dir.path().join("baseline.json")).unwrap();
    assert!(!pruned.contains("aws-access-key-pair"), "{pruned}");

    // A malformed baseline is an error, never an empty baseline.
    write(
        dir.path(),
        "broken.json",
        "{\"version\": 1, \"findings\": [",
    );
    let broken = scan(&["--baseline", "broken.json"]);
    broken.expect_code(2);
    assert!(broken.stderr.contains("broken.json"), "{}", broken.stderr);
}

#[test]
fn the_config_file_allowlists_paths_patterns_and_secrets_and_disables_rules() {
    let dir = tempfile::tempdir().unwrap();
    let mut fakes = Fakes::new(51);
    let (test_id, kept_id, hashed_id, rule_id) = (
        fakes.key_id("AKIA"),
        fakes.key_id("AKIA"),
        fakes.key_id("AKIA"),
        fakes.key_id("ASIA"),
    );
    let pattern_id = "AKIAQYLPMN5HTESTZAM2".to_string();
    write(
        dir.path(),
        "tests/fixture.env",
        format!("AWS_ACCESS_KEY_ID={test_id}\n"),
    );
    write(
        dir.path(),
        "src/app.env",
        format!("AWS_ACCESS_KEY_ID={kept_id}\n"),
    );
    write(
        dir.path(),
        "src/ci.env",
        format!("AWS_ACCESS_KEY_ID={pattern_id}\n"),
    );
    write(
        dir.path(),
        "src/hashed.env",
        format!("AWS_ACCESS_KEY_ID={hashed_id}\n"),
    );
    write(
        dir.path(),
        "src/session.env",
        format!("AWS_ACCESS_KEY_ID={rule_id}\n"),
    );
    write(dir.path(), "src/legacy.env", "key = A3TXQYLPMN5HHHFPZAM2\n");
    let digest: String = {
        use sha2::Digest;
        sha2::Sha256::digest(hashed_id.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    write(
        dir.path(),
        "keyhound.toml",
        format!(
            "disabled_rules = [\"aws-access-key-id-legacy\"]\n\n\
             [allowlist]\npaths = [\"tests/**\"]\nregexes = [\"TEST\"]\nsecrets = [\"sha256:{digest}\"]\n\n\
             [allowlist.rules.aws-access-key-id]\nregexes = [\"^ASIA\"]\n"
        ),
    );
    let scanned = run(keyhound_in(dir.path()).args(["scan", ".", "-f", "json"]));
    scanned.expect_code(1);
    let json = scanned.json();
    let secrets: Vec<String> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| str_field(f, "secret"))
        .collect();
    assert_eq!(secrets, [kept_id], "{}", scanned.stdout_text());
    // The regex, the digest and the rule's own allowlist suppress three findings; the files
    // under tests/, which the allowlist covers for every rule, are not read at all.
    assert_eq!(json["summary"]["suppressed"], 3);
    let with_explain = run(keyhound_in(dir.path()).args(["scan", ".", "-f", "json", "--explain"]));
    assert_eq!(with_explain.json()["summary"]["suppressed"], 4);

    // Mistakes name the file, the line and the key.
    write(
        dir.path(),
        "keyhound.toml",
        "[allowlist]\npaths = []\nregexes = [\"ok\", \"(unclosed\"]\n",
    );
    let bad = run_text(dir.path(), &["scan", "."]);
    assert!(
        bad.1.contains("keyhound.toml: line 3: allowlist.regexes"),
        "{}",
        bad.1
    );
    write(dir.path(), "keyhound.toml", "[allowlist]\npath = [\"x\"]\n");
    let unknown = run(keyhound_in(dir.path()).args(["scan", "."]));
    unknown.expect_code(2);
    assert!(
        unknown.stderr.contains("keyhound.toml")
            && unknown.stderr.contains("line 2")
            && unknown.stderr.contains("path"),
        "{}",
        unknown.stderr
    );
    // --config names another file.
    write(
        dir.path(),
        "other.toml",
        "disabled_rules = [\"no-such-rule\"]\n",
    );
    let missing_rule = run(keyhound_in(dir.path()).args(["scan", ".", "--config", "other.toml"]));
    missing_rule.expect_code(2);
    assert!(
        missing_rule.stderr.contains("no-such-rule"),
        "{}",
        missing_rule.stderr
    );
}

#[test]
fn explain_says_why_each_candidate_was_not_reported_without_showing_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let mut fakes = Fakes::new(77);
    let (reported, allowed, marked, low) = (
        fakes.key_id("AKIA"),
        fakes.key_id("AKIA"),
        fakes.key_id("AKIA"),
        fakes.secret_key(),
    );
    let (glued, unrelated) = (fakes.secret_key(), fakes.secret_key());
    write(
        dir.path(),
        "app.env",
        format!(
            "AWS_ACCESS_KEY_ID={reported}\n\
             aws_access_key_id = AKIAABCDEFGHIJKLMNOP\n\
             aws_secret_access_key = {glued}Extra\n\
             WEBHOOK_SECRET = {unrelated}\n\
             aws_secret_access_key = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n\
             backup = {marked}  # keyhound:allow\n\
             \n\n\n\n\n\n\
             {{'secret': '{low}'}}\n"
        ),
    );
    write(
        dir.path(),
        "vendor/keys.env",
        format!("AWS_ACCESS_KEY_ID={allowed}\n"),
    );
    write(
        dir.path(),
        "keyhound.toml",
        "[allowlist]\npaths = [\"vendor/**\"]\n",
    );
    let run = run(keyhound_in(dir.path()).args([
        "scan",
        ".",
        "-f",
        "json",
        "--explain",
        "--min-confidence",
        "medium",
    ]));
    run.expect_code(1);
    let secrets: Vec<String> = run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| str_field(f, "secret"))
        .collect();
    assert_eq!(secrets, [reported]);
    let explained: Vec<&str> = run
        .stderr
        .lines()
        .skip_while(|l| !l.starts_with("explain:"))
        .collect();
    assert_eq!(
        explained[0], "explain: 7 candidates not reported:",
        "{}",
        run.stderr
    );
    let expect = [
        ("app.env:2:21", "aws-access-key-id", "a placeholder"),
        (
            "app.env:3:25",
            "aws-secret-access-key",
            "part of a longer token",
        ),
        (
            "app.env:4:18",
            "aws-secret-access-key",
            "no required context nearby",
        ),
        (
            "app.env:5:25",
            "aws-secret-access-key",
            "mixes 1 of upper case",
        ),
        (
            "app.env:6:10",
            "aws-access-key-id",
            "`keyhound:allow` on its line",
        ),
        (
            "app.env:13:13",
            "aws-secret-access-key",
            "confidence below --min-confidence medium",
        ),
        (
            "vendor/keys.env:1:19",
            "aws-access-key-id",
            "allowed by [allowlist] paths glob `vendor/**`",
        ),
    ];
    for (line, (place, rule, why)) in explained[1..].iter().zip(expect) {
        assert!(
            line.contains(place) && line.contains(rule) && line.contains(why),
            "{line:?} should say {place} {rule} {why}"
        );
    }
    for secret in [&glued[..40], &unrelated, &low] {
        assert!(
            !run.stderr.contains(secret),
            "a secret leaked: {}",
            run.stderr
        );
    }
    let quiet = run_text(dir.path(), &["scan", "."]);
    assert!(!quiet.1.contains("explain:"), "{}", quiet.1);
}

#[test]
fn one_secret_copied_into_many_files_is_one_finding_listing_every_place() {
    let dir = tempfile::tempdir().unwrap();
    let mut fakes = Fakes::new(88);
    let (shared, single) = (fakes.key_id("AKIA"), fakes.key_id("AKIA"));
    for name in ["a.env", "b/b.env", "c.env"] {
        write(dir.path(), name, format!("AWS_ACCESS_KEY_ID={shared}\n"));
    }
    write(
        dir.path(),
        "d.env",
        format!("build = {single}\nagain = {shared}\n"),
    );

    let json = run(keyhound_in(dir.path()).args(["scan", ".", "-f", "json"]));
    json.expect_code(1);
    let doc = json.json();
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{findings:?}");
    let grouped = &findings[0];
    assert_eq!(grouped["secret"], shared.as_str());
    assert_eq!(grouped["occurrences"], 4);
    let places: Vec<String> = grouped["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| format!("{}:{}", str_field(l, "path"), u64_field(l, "line")))
        .collect();
    assert_eq!(places, ["a.env:1", "b/b.env:1", "c.env:1", "d.env:2"]);
    assert_eq!(findings[1]["secret"], single.as_str());
    assert_eq!(findings[1]["occurrences"], 1);
    assert_eq!(doc["summary"]["findings"], 2);
    assert_eq!(doc["summary"]["occurrences"], 5);

    let (out, err) = run_text(dir.path(), &["scan", ".", "--color", "never"]);
    assert!(
        out.contains("    also at b/b.env:1:19, c.env:1:19, d.env:2:9\n"),
        "{out}"
    );
    assert!(err.contains("2 findings in 5 places: 2 high"), "{err}");

    // A baseline accepts every place; a new copy is a new finding on its own.
    let baseline = dir.path().join("baseline.json");
    let baseline = baseline.to_str().unwrap();
    run(keyhound_in(dir.path()).args(["scan", ".", "--write-baseline", baseline])).expect_code(0);
    write(dir.path(), "e.env", format!("AWS_ACCESS_KEY_ID={shared}\n"));
    let gated =
        run(keyhound_in(dir.path()).args(["scan", ".", "-f", "json", "--baseline", baseline]));
    gated.expect_code(1);
    let findings = gated.json()["findings"].as_array().unwrap().clone();
    let new: Vec<&Value> = findings
        .iter()
        .filter(|f| f["baseline_state"] == "new")
        .collect();
    assert_eq!(new.len(), 1);
    assert_eq!(new[0]["path"], "e.env");
    assert_eq!(new[0]["occurrences"], 1);
}

#[cfg(unix)]
#[test]
fn a_config_naming_a_device_as_a_rule_file_is_refused_not_read_forever() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "keyhound.toml", "rules = [\"/dev/zero\"]\n");
    let run = run(keyhound_in(dir.path()).args(["scan", "."]));
    run.expect_code(2);
    assert!(run.stderr.contains("/dev/zero"), "{}", run.stderr);
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
    let config = run_text(dir.path(), &["scan", ".", "--config", "/dev/null"]);
    assert!(config.1.contains("not a regular file"), "{}", config.1);
}

#[test]
fn version_names_the_commit_of_a_checkout() {
    let run = run(keyhound().arg("--version"));
    run.expect_code(0);
    let out = run.stdout_text();
    let version = out.trim_end();
    let rest = version
        .strip_prefix(concat!("keyhound ", env!("CARGO_PKG_VERSION")))
        .unwrap_or_else(|| panic!("{version}"));
    if crate_root().join(".git").exists() {
        let commit = rest
            .strip_prefix(" (")
            .and_then(|r| r.strip_suffix(')'))
            .unwrap_or_else(|| panic!("no commit in {version}"));
        assert_eq!(commit.len(), 12, "{version}");
        assert!(commit.bytes().all(|b| b.is_ascii_hexdigit()), "{version}");
    } else {
        assert_eq!(rest, "", "{version}");
    }
}

#[test]
fn completions_and_the_manual_page_are_generated() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = run(keyhound().args(["completions", shell]));
        run.expect_code(0);
        let script = run.stdout_text();
        for word in ["audit", "merge", "max-archive-depth"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
        if shell == "bash" {
            let check = std::process::Command::new("bash")
                .args(["-n", "-c", &script])
                .output()
                .expect("bash runs");
            assert!(
                check.status.success(),
                "{}",
                String::from_utf8_lossy(&check.stderr)
            );
        }
    }
    let man = run(keyhound().arg("man"));
    man.expect_code(0);
    let page = man.stdout_text();
    assert!(page.contains(".TH keyhound 1"), "{page}");
    assert!(page.contains("audit") && page.contains("merge"), "{page}");
}

#[test]
fn marker_words_and_altered_documentation_keys_are_examples_not_failures() {
    let dir = tempfile::tempdir().unwrap();
    // A marker word anywhere in a key ID, secret or session token; AWS's documentation key and
    // secret with their tails changed; a documentation session token (EXAMPLE inside).
    let token = "AQoDYXdzEJr//////////wEaoAK1wvxJY12r2IrDFT2IvAzTCn3zHoZ7YNtpiQLF0MqZye/qwjzP2iEXAMPLEZYy\
         C1Ez84ZCPy3d0R1IrNq8/bJuFeZgrDsFD34wZXuATJQmyEnaDhKOYjbW6tKlGeBsLmKqTYzjNHCuInxgUZD9oBTwMn\
         c8ddBvdzKNsC6Ysw8vuJQaVBBlakxNvUqdbkePAEXAMPLEPvFTDx7d3GhIZGPBo2KwHKvuP3ONDxKTZy3ebLyk6YLJ2A";
    let text = format!(
        "aws_access_key_id = AKIAIOSFODNN7QWRTZUV\n\
         aws_secret_access_key = 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\n\
         \n\n\n\n\n\n\
         AWS_ACCESS_KEY_ID=AKIAFAKEQYLPMN5HKZXS\n\
         AWS_SECRET_ACCESS_KEY=Kq3vXw9Zt2LmN8SAMPLEb7HcJ6dF1gA5eUoQiWxT\n\
         AWS_SESSION_TOKEN={token}\n\
         \n\n\n\n\n\n\
         access_key = AKIAZT4HB6K7DUMMYZXS\n"
    );
    write(dir.path(), "docs/setup.md", text);
    let run = run(keyhound_in(dir.path()).args(["scan", ".", "-f", "jsonl"]));
    run.expect_code(0);
    let findings = run.jsonl();
    let rules: BTreeSet<&str> = findings
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert!(
        rules
            == BTreeSet::from([
                "aws-access-key-id",
                "aws-secret-access-key",
                "aws-session-token"
            ]),
        "{}",
        run.stdout_text()
    );
    for finding in &findings {
        assert_eq!(finding["confidence"], "example", "{finding}");
    }
}
