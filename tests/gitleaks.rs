//! gitleaks configurations as keyhound rules, end to end: the checked-in team configuration in
//! `fixtures/gitleaks/` (every allowlist form, `[extend]`, secret groups, a rule with no
//! keywords), commit allowlists in a git history, and gitleaks' own default configuration when
//! it is at hand.

#[allow(dead_code)]
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::repo::{keyhound_for_git, Creds, Repo};
use common::{crate_root, keyhound, keyhound_in, run, str_field, Fakes};
use serde_json::Value;

const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const MIXED_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_HEX: &[u8] = b"0123456789ABCDEF";

fn team_config() -> PathBuf {
    crate_root().join("fixtures/gitleaks/team.toml")
}

fn write(dir: &Path, rel: &str, content: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// (path, rule id) of each place of each finding of a JSON Lines report.
fn placed(findings: &[Value]) -> BTreeSet<(String, String)> {
    findings
        .iter()
        .flat_map(|f| {
            f["locations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|place| (str_field(place, "path"), str_field(f, "rule_id")))
        })
        .collect()
}

/// The rule ids of a JSON Lines report's findings.
fn rule_ids(findings: &[Value]) -> BTreeSet<String> {
    findings.iter().map(|f| str_field(f, "rule_id")).collect()
}

/// A tree where each file shows one behaviour of the team configuration.
struct Team {
    dir: tempfile::TempDir,
    api_token: String,
    db_password: String,
    session: String,
}

impl Team {
    fn new() -> Team {
        let mut fakes = Fakes::new(1717);
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let api_token = format!("acme_live_{}", fakes.string(LOWER_ALNUM, 32));
        let db_password = fakes.string(MIXED_ALNUM, 16);
        let session = fakes.string(MIXED_ALNUM, 24);
        let creds = Creds::new(5);
        write(d, "app/client.py", &format!("ACME = \"{api_token}\"\n"));
        // The base rule's keyword: the team file adds `acme_live_`, the base has `acme_test_`.
        let test_token = format!("acme_test_{}", fakes.string(LOWER_ALNUM, 32));
        write(d, "app/tests.py", &format!("ACME = \"{test_token}\"\n"));
        let stop = format!("acme_live_example{}", fakes.string(LOWER_ALNUM, 25));
        write(d, "app/docs.py", &format!("ACME = \"{stop}\"\n"));
        // Entropy 3.5 is the team's threshold; two letters have 1 bit.
        let low: String = (0..32)
            .map(|i| if i % 2 == 0 { 'a' } else { 'b' })
            .collect();
        write(d, "app/low.py", &format!("ACME = \"acme_live_{low}\"\n"));
        let db = format!("acme_db_password: \"{db_password}\"");
        write(d, "deploy/prod.yaml", &format!("{db}\n"));
        write(d, "deploy/prod.py", &format!("{db}\n"));
        write(d, "test/db.yaml", &format!("{db}  # test fixture\n"));
        write(d, "test/other.yaml", &format!("{db}\n"));
        write(d, "deploy/notes.yaml", &format!("{db}  # test fixture\n"));
        write(
            d,
            "web/cookie.txt",
            &format!("Cookie: session='{session}'\n"),
        );
        write(
            d,
            "web/zero.txt",
            &format!("Cookie: session=\"{}\"\n", "0".repeat(24)),
        );
        let legacy = format!("LT-{}", fakes.string(UPPER_HEX, 20));
        write(d, "legacy.txt", &format!("old = {legacy}\n"));
        let retired = format!("ret_{}", fakes.string(LOWER_ALNUM, 20));
        write(d, "retired.txt", &format!("token = {retired}\n"));
        write(
            d,
            "vendor/lib.py",
            &format!("ACME = \"{api_token}\"\n{}", creds.dotenv()),
        );
        write(
            d,
            "sandbox/creds.env",
            &format!("AWS_ACCESS_KEY_ID={}\n", creds.id),
        );
        write(
            d,
            "prod/creds.env",
            &format!("AWS_ACCESS_KEY_ID={}\n", creds.id),
        );
        write(d, "pin.cfg", "pin = 482915\n");
        Team {
            dir,
            api_token,
            db_password,
            session,
        }
    }

    fn scan(&self, extra: &[&str]) -> common::Run {
        let config = team_config();
        let mut cmd = keyhound_in(self.dir.path());
        cmd.args(["scan", ".", "--rules"]).arg(&config).args(extra);
        run(&mut cmd)
    }
}

#[test]
fn a_team_configuration_finds_what_its_rules_say_and_allows_what_its_allowlists_say() {
    let team = Team::new();
    let result = team.scan(&["-f", "jsonl", "--show-secrets"]);
    result.expect_code(1);
    let findings = result.jsonl();
    let expected: BTreeSet<(String, String)> = [
        ("app/client.py", "acme-api-token"),
        ("app/tests.py", "acme-api-token"),
        ("deploy/prod.yaml", "acme-db-password"),
        ("test/other.yaml", "acme-db-password"),
        ("deploy/notes.yaml", "acme-db-password"),
        ("web/cookie.txt", "acme-session"),
        ("legacy.txt", "acme-legacy-token"),
        ("prod/creds.env", "aws-access-key-id"),
        ("pin.cfg", "acme-pin"),
    ]
    .into_iter()
    .map(|(p, r)| (p.to_string(), r.to_string()))
    .collect();
    assert_eq!(placed(&findings), expected, "{}", result.stdout_text());
    let secret_in = |path: &str| {
        let finding = findings
            .iter()
            .find(|f| {
                f["locations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|place| str_field(place, "path") == path)
            })
            .unwrap();
        str_field(finding, "secret")
    };
    // The secret is the group gitleaks would take: the whole token, `secretGroup = 1`, and the
    // first group that matched of two.
    assert_eq!(secret_in("app/client.py"), team.api_token);
    assert_eq!(secret_in("deploy/prod.yaml"), team.db_password);
    assert_eq!(secret_in("web/cookie.txt"), team.session);
    assert_eq!(secret_in("pin.cfg"), "482915");
    // What keyhound cannot honour is named, rule and field.
    for note in [
        "rule `acme-keystore`: a rule with only `path`",
        "rule `acme-pin`: `severity`",
    ] {
        assert!(result.stderr.contains(note), "{note}:\n{}", result.stderr);
    }
    assert!(
        !result.stderr.contains("built-in rules are off"),
        "base.toml keeps them: {}",
        result.stderr
    );
}

#[test]
fn explain_says_which_allowlist_or_condition_kept_each_match_out() {
    let team = Team::new();
    let result = team.scan(&["--explain"]);
    result.expect_code(1);
    let said = |path: &str| -> String {
        result
            .stderr
            .lines()
            .skip_while(|l| !l.contains(path))
            .take(3)
            .collect::<Vec<_>>()
            .join("\n")
    };
    for (path, why) in [
        (
            "test/db.yaml",
            "team.toml: rule `acme-db-password`, allowlist 1",
        ),
        ("deploy/prod.py", "its rule applies only to paths matching"),
        ("vendor/lib.py", "team.toml: [allowlist] (third-party code)"),
        ("sandbox/creds.env", "the sandbox's shared keys"),
        ("app/docs.py", "allowed by an allowlist of its rule"),
        ("web/zero.txt", "allowed by an allowlist of its rule"),
        ("app/low.py", "entropy"),
    ] {
        let text = said(path);
        assert!(
            text.contains(why),
            "{path}: {why} not in:\n{}",
            result.stderr
        );
    }
    assert!(!result.stderr.contains(&team.api_token), "a secret leaked");
    assert!(
        !result.stdout_text().contains(&team.api_token),
        "a secret leaked"
    );
}

#[test]
fn sarif_describes_imported_rules_with_their_tags() {
    let team = Team::new();
    let result = team.scan(&["-f", "sarif"]);
    result.expect_code(1);
    let sarif = result.json();
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let token = rules.iter().find(|r| r["id"] == "acme-api-token").unwrap();
    let tags: Vec<&str> = token["properties"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(tags.contains(&"acme") && tags.contains(&"team"), "{tags:?}");
    assert_eq!(token["fullDescription"]["text"], "An Acme API token.");
    assert!(!result.stdout_text().contains(&team.api_token));
}

#[test]
fn without_use_default_only_the_configuration_rules_run_and_keyhound_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let creds = Creds::new(8);
    write(dir.path(), "creds.env", &creds.dotenv());
    write(
        dir.path(),
        "only.toml",
        "[[rules]]\nid = \"aws-id\"\nregex = '''\\b(AKIA[A-Z2-7]{16})\\b'''\nkeywords = [\"akia\"]\n",
    );
    let result = run(keyhound_in(dir.path()).args([
        "scan",
        "creds.env",
        "--rules",
        "only.toml",
        "-f",
        "jsonl",
    ]));
    result.expect_code(1);
    let rules = rule_ids(&result.jsonl());
    assert_eq!(rules, BTreeSet::from(["aws-id".to_string()]));
    assert!(
        result.stderr.contains("add `[extend] useDefault = true`"),
        "{}",
        result.stderr
    );
}

#[test]
fn a_regex_that_does_not_compile_is_an_error_naming_its_rule() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "bad.toml",
        "title = \"x\"\n[[rules]]\nid = \"broken-rule\"\nregex = '''(unclosed'''\nkeywords = [\"unclosed\"]\n",
    );
    for args in [
        &["scan", ".", "--rules", "bad.toml"][..],
        &["rules", "check", "bad.toml"],
    ] {
        let result = run(keyhound_in(dir.path()).args(args));
        result.expect_code(2);
        assert!(
            result
                .stderr
                .contains("bad.toml: rule `broken-rule`: regex"),
            "{}",
            result.stderr
        );
    }
}

#[test]
fn commit_allowlists_and_and_conditions_hold_in_history_and_through_the_cache() {
    let parent = tempfile::tempdir().unwrap();
    let repo = Repo::init(parent.path(), "repo");
    let mut fakes = Fakes::new(99);
    let token = format!("acme_live_{}", fakes.string(LOWER_ALNUM, 32));
    let password = fakes.string(MIXED_ALNUM, 16);
    repo.write("app/client.py", &format!("ACME = \"{token}\"\n"));
    let allowed_commit = repo.commit("add the client");
    repo.write(
        "test/db.yaml",
        &format!("acme_db_password: \"{password}\"  # test fixture\n"),
    );
    repo.write(
        "deploy/db.yaml",
        &format!("acme_db_password: \"{password}x\"\n"),
    );
    repo.commit("add databases");
    let config = parent.path().join("history.toml");
    let team = std::fs::read_to_string(team_config()).unwrap();
    std::fs::write(
        &config,
        format!(
            "{}\n[[allowlists]]\ntargetRules = [\"acme-api-token\"]\ncommits = [\"{}\"]\n",
            team.replace(
                "path = \"base.toml\"",
                &format!(
                    "path = \"{}\"",
                    crate_root().join("fixtures/gitleaks/base.toml").display()
                )
            ),
            allowed_commit.to_uppercase()
        ),
    )
    .unwrap();
    let cache = parent.path().join("cache.db");
    let scan = |with_cache: bool| {
        let mut cmd = keyhound_for_git(&repo.path);
        cmd.args(["git", ".", "-f", "jsonl", "--rules"])
            .arg(&config);
        if with_cache {
            cmd.arg("--cache").arg(&cache);
        }
        let result = run(&mut cmd);
        result.expect_code(1);
        placed(&result.jsonl())
    };
    let expected = BTreeSet::from([("deploy/db.yaml".to_string(), "acme-db-password".to_string())]);
    assert_eq!(scan(false), expected);
    // The first run fills the cache, the second reads every blob back from it: the allowlist
    // decisions the matcher took must come back with the findings.
    assert_eq!(scan(true), expected);
    assert_eq!(scan(true), expected);
}

/// gitleaks' default configuration: from `KEYHOUND_GITLEAKS_CONFIG`, else the copy shared with
/// keyhound's developers next to the checkout. None (and a line saying so) when neither exists.
fn gitleaks_default_config() -> Option<PathBuf> {
    let path = match std::env::var_os("KEYHOUND_GITLEAKS_CONFIG") {
        Some(path) => PathBuf::from(path),
        None => crate_root().join("../shared/compat/gitleaks-default.toml"),
    };
    if path.is_file() {
        Some(path)
    } else {
        eprintln!(
            "skipped: gitleaks' default configuration is not at {} (set KEYHOUND_GITLEAKS_CONFIG \
             to its path)",
            path.display()
        );
        None
    }
}

#[test]
fn gitleaks_default_configuration_loads_every_rule_and_names_what_it_skips() {
    let Some(config) = gitleaks_default_config() else {
        return;
    };
    let text = std::fs::read_to_string(&config).unwrap();
    let parsed: toml::Table = toml::from_str(&text).unwrap();
    let rules = parsed["rules"].as_array().unwrap();
    let with_regex: BTreeSet<&str> = rules
        .iter()
        .filter(|r| r.get("regex").is_some())
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let path_only: Vec<&str> = rules
        .iter()
        .filter(|r| r.get("regex").is_none())
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let listed = run(keyhound().args(["rules", "list", "--rules"]).arg(&config));
    listed.expect_code(0);
    let list = listed.stdout_text();
    let on: BTreeSet<&str> = list
        .lines()
        .filter(|l| !l.contains("(off;"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        on, with_regex,
        "every rule with a regex loads, and only those run"
    );
    for id in path_only {
        assert!(
            listed
                .stderr
                .contains(&format!("rule `{id}`: a rule with only `path`")),
            "{id} is not named:\n{}",
            listed.stderr
        );
    }
    assert!(
        listed.stderr.contains("built-in rules are off"),
        "{}",
        listed.stderr
    );
    let checked = run(keyhound().args(["rules", "check"]).arg(&config));
    checked.expect_code(0);
}

#[test]
fn gitleaks_default_configuration_finds_secrets_of_several_services() {
    let Some(config) = gitleaks_default_config() else {
        return;
    };
    let mut fakes = Fakes::new(4242);
    let dir = tempfile::tempdir().unwrap();
    let github = format!("ghp_{}", fakes.string(MIXED_ALNUM, 36));
    let stripe = format!("sk_live_{}", fakes.string(MIXED_ALNUM, 30));
    let slack = format!(
        "https://hooks.slack.com/services/T{}/B{}/{}",
        fakes.string(UPPER_HEX, 8),
        fakes.string(UPPER_HEX, 10),
        fakes.string(MIXED_ALNUM, 24)
    );
    let creds = Creds::new(3);
    write(
        dir.path(),
        "settings.py",
        &format!(
            "GITHUB = \"{github}\"\nSTRIPE = \"{stripe}\"\nHOOK = \"{slack}\"\nAWS = \"{}\"\n",
            creds.id
        ),
    );
    let result = run(keyhound_in(dir.path())
        .args(["scan", "settings.py", "-f", "jsonl", "--rules"])
        .arg(&config));
    result.expect_code(1);
    let rules = rule_ids(&result.jsonl());
    for id in [
        "github-pat",
        "stripe-access-token",
        "slack-webhook-url",
        "aws-access-token",
    ] {
        assert!(rules.contains(id), "{id} missing: {rules:?}");
    }
    let out = result.stdout_text();
    for secret in [&github, &stripe] {
        assert!(!out.contains(secret.as_str()), "a secret leaked: {out}");
    }
}
