//! `keyhound respond` without AWS: what it refuses before any call (a file that is not a
//! report, no operator credentials, an STS that does not answer), and what it never does with
//! a canary, a documentation example or another account's key, against a stand-in for STS on
//! 127.0.0.1 that records every request. The whole path against IAM, CloudTrail and
//! containment is checked against moto by `scripts/test_respond_moto.sh`.

#[allow(dead_code)]
mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

use assert_cmd::Command;
use common::http::read_request;
use common::{keyhound_in, run, Fakes, Run};
use serde_json::Value;

/// The operator's account, as the stand-in answers GetCallerIdentity.
const OPERATOR_ACCOUNT: &str = "418295736041";
/// The account the stand-in says every other key is of.
const OTHER_ACCOUNT: &str = "999988887777";
/// A canary-token account (rules/canaries.toml).
const CANARY_ACCOUNT: u64 = 52_310_077_262;

/// A stand-in for STS: GetCallerIdentity names the operator, GetAccessKeyInfo names
/// [`OTHER_ACCOUNT`], every other call is refused; every request body is kept, and the key ID
/// each was signed with.
struct Sts {
    address: SocketAddr,
    bodies: Arc<Mutex<Vec<String>>>,
    signers: Arc<Mutex<Vec<String>>>,
}

impl Sts {
    fn start() -> Sts {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port on 127.0.0.1");
        let address = listener.local_addr().unwrap();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let signers = Arc::new(Mutex::new(Vec::new()));
        let kept = (Arc::clone(&bodies), Arc::clone(&signers));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let kept = kept.clone();
                std::thread::spawn(move || serve(stream, &kept.0, &kept.1));
            }
        });
        Sts {
            address,
            bodies,
            signers,
        }
    }

    fn endpoint(&self) -> String {
        format!("http://{}/", self.address)
    }

    fn bodies(&self) -> Vec<String> {
        self.bodies.lock().unwrap().clone()
    }

    fn signers(&self) -> Vec<String> {
        self.signers.lock().unwrap().clone()
    }
}

fn serve(mut stream: TcpStream, bodies: &Mutex<Vec<String>>, signers: &Mutex<Vec<String>>) {
    let Some(request) = read_request(&stream) else {
        return;
    };
    let signer = request
        .header("authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').next())
        .unwrap_or_default();
    signers.lock().unwrap().push(signer.to_string());
    let body = String::from_utf8_lossy(&request.body).into_owned();
    bodies.lock().unwrap().push(body.clone());
    let (status, reply) = if body.starts_with("Action=GetCallerIdentity&") {
        (
            200,
            format!(
                "<GetCallerIdentityResponse><GetCallerIdentityResult>\
             <Arn>arn:aws:iam::{OPERATOR_ACCOUNT}:user/responder</Arn><UserId>AIDAX</UserId>\
             <Account>{OPERATOR_ACCOUNT}</Account></GetCallerIdentityResult>\
             </GetCallerIdentityResponse>"
            ),
        )
    } else if body.starts_with("Action=GetAccessKeyInfo&") {
        (
            200,
            format!(
            "<GetAccessKeyInfoResponse><GetAccessKeyInfoResult><Account>{OTHER_ACCOUNT}</Account>\
             </GetAccessKeyInfoResult></GetAccessKeyInfoResponse>"
        ),
        )
    } else {
        (
            403,
            "<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>".into(),
        )
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
        reply.len()
    );
}

/// `keyhound respond ARGS` in `dir` with every AWS endpoint at `endpoint` and no AWS
/// configuration but what the test gives: no config or credentials file, no credentials in the
/// environment, and no instance metadata, so nothing but 127.0.0.1 is ever asked.
fn respond_command(dir: &Path, endpoint: &str, args: &[&str]) -> Command {
    let mut command: Command = keyhound_in(dir);
    command.arg("respond").args(args);
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        command.env_remove(name);
    }
    command
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"))
        .env("AWS_ENDPOINT_URL", endpoint);
    command
}

/// `keyhound respond ARGS` with operator credentials in the environment.
fn respond(dir: &Path, endpoint: &str, args: &[&str]) -> Run {
    let mut fakes = Fakes::new(7);
    let mut command = respond_command(dir, endpoint, args);
    command
        .env("AWS_ACCESS_KEY_ID", fakes.key_id("AKIA"))
        .env("AWS_SECRET_ACCESS_KEY", fakes.secret_key())
        .env("AWS_REGION", "us-east-1");
    run(&mut command)
}

/// The cards of `keyhound respond report.json -f json MORE` in `dir` against `sts`, which
/// must exit 0.
fn cards_from(dir: &Path, sts: &Sts, more: &[&str]) -> Value {
    let mut args = vec!["report.json", "-f", "json"];
    args.extend(more);
    let out = respond(dir, &sts.endpoint(), &args);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A JSON report of the credentials files written in `dir`, with the secrets shown.
fn report(dir: &Path) {
    let scan = run(keyhound_in(dir).args([
        "scan",
        "keys",
        "-f",
        "json",
        "--show-secrets",
        "-o",
        "report.json",
    ]));
    assert_eq!(scan.code, Some(1), "{}", scan.stderr);
}

/// A report of one key of no account the stand-in knows.
fn report_of_one_key(dir: &Path, fakes: &mut Fakes) {
    write_pair(dir, "a.ini", &fakes.key_id("AKIA"), &fakes.secret_key());
    report(dir);
}

fn write_pair(dir: &Path, name: &str, key_id: &str, secret: &str) {
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    let text =
        format!("[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n");
    std::fs::write(dir.join("keys").join(name), text).unwrap();
}

#[test]
fn a_canary_an_example_and_another_accounts_key_are_never_acted_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut fakes = Fakes::new(11);
    let canary = fakes.key_id_of_account("AKIA", CANARY_ACCOUNT);
    let theirs = fakes.key_id("AKIA");
    write_pair(dir.path(), "canary.ini", &canary, &fakes.secret_key());
    write_pair(dir.path(), "theirs.ini", &theirs, &fakes.secret_key());
    write_pair(
        dir.path(),
        "example.ini",
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    );
    report(dir.path());
    let sts = Sts::start();
    // Nothing of the operator's was active, so nothing is left to contain: exit status 0.
    let cards = cards_from(dir.path(), &sts, &["--apply", "--log", "calls.jsonl"]);
    assert_eq!(cards["operator"]["account"], OPERATOR_ACCOUNT);
    let card = |key: &str| {
        cards["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key_id"] == key)
            .unwrap_or_else(|| panic!("no card of {key}: {cards}"))
            .clone()
    };
    let verdict = |key: &str| card(key)["verdict"].as_str().unwrap().to_string();
    assert!(
        verdict(&canary).starts_with("never touched: a canary token"),
        "{}",
        verdict(&canary)
    );
    assert!(verdict("AKIAIOSFODNN7EXAMPLE").contains("documentation example"));
    assert!(
        verdict(&theirs).starts_with("not yours"),
        "{}",
        verdict(&theirs)
    );
    assert_eq!(card(&theirs)["owned"], false);
    assert_eq!(card(&theirs)["account"], OTHER_ACCOUNT);
    for key in [canary.as_str(), "AKIAIOSFODNN7EXAMPLE", theirs.as_str()] {
        assert_eq!(card(key)["plan"], Value::Array(Vec::new()), "{key}");
        assert_eq!(card(key)["actions"], Value::Array(Vec::new()), "{key}");
    }
    // STS heard of the operator and of the other account's key alone, once.
    let bodies = sts.bodies();
    assert_eq!(
        bodies,
        [
            "Action=GetCallerIdentity&Version=2011-06-15".to_string(),
            format!("Action=GetAccessKeyInfo&Version=2011-06-15&AccessKeyId={theirs}"),
        ]
    );
    // The call log says the same, with no secret in it.
    let log = std::fs::read_to_string(dir.path().join("calls.jsonl")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["action"], "sts:GetAccessKeyInfo");
    assert_eq!(lines[1]["key_id"], theirs.as_str());
    assert_eq!(lines[1]["account"], OPERATOR_ACCOUNT);
    assert_eq!(lines[1]["result"], "ok");
}

#[test]
fn a_file_that_is_not_a_report_is_refused_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.json"), "{\"findings\": 3}").unwrap();
    let sts = Sts::start();
    for name in ["notes.json", "missing.json"] {
        let out = respond(dir.path(), &sts.endpoint(), &[name]);
        assert_eq!(out.code, Some(2), "{}", out.stderr);
        assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
        assert!(out.stderr.contains(name), "{}", out.stderr);
    }
    assert!(sts.bodies().is_empty());
}

#[test]
fn without_operator_credentials_or_an_answer_from_sts_it_stops_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut fakes = Fakes::new(3);
    report_of_one_key(dir.path(), &mut fakes);
    let sts = Sts::start();

    let mut command = respond_command(dir.path(), &sts.endpoint(), &["report.json"]);
    let out = run(&mut command);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.starts_with("error: no operator credentials"),
        "{}",
        out.stderr
    );
    assert!(sts.bodies().is_empty());

    // A named profile that does not exist is the same kind of error.
    let out = respond(
        dir.path(),
        &sts.endpoint(),
        &["report.json", "--profile", "nobody"],
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("nobody"), "{}", out.stderr);

    // An STS that does not answer: nothing is done without knowing who the operator is.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let out = respond(dir.path(), &endpoint, &["report.json", "--timeout", "2"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("STS did not say who the operator is"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_profile_named_on_the_command_line_gives_the_credentials_as_the_aws_cli_would() {
    let dir = tempfile::tempdir().unwrap();
    let mut fakes = Fakes::new(5);
    report_of_one_key(dir.path(), &mut fakes);
    // The operator's key comes from a credential_process of profile `ops`, not from the
    // environment, which holds another key.
    let from_process = fakes.key_id("AKIA");
    let printed = format!(
        "{{\"Version\": 1, \"AccessKeyId\": \"{from_process}\", \"SecretAccessKey\": \"{}\"}}",
        fakes.secret_key()
    );
    std::fs::write(dir.path().join("process.json"), printed).unwrap();
    let config = format!(
        "[profile ops]\nregion = eu-west-1\ncredential_process = cat {}\n",
        dir.path().join("process.json").display()
    );
    std::fs::write(dir.path().join("config"), config).unwrap();
    let sts = Sts::start();
    let mut command = respond_command(
        dir.path(),
        &sts.endpoint(),
        &["report.json", "--profile", "ops", "-f", "json"],
    );
    command
        .env("AWS_ACCESS_KEY_ID", fakes.key_id("AKIA"))
        .env("AWS_SECRET_ACCESS_KEY", fakes.secret_key())
        .env("AWS_CONFIG_FILE", dir.path().join("config"));
    let out = run(&mut command);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let cards: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cards["operator"]["region"], "eu-west-1");
    let signers = sts.signers();
    assert!(!signers.is_empty());
    assert!(signers.iter().all(|s| *s == from_process), "{signers:?}");
}

#[test]
fn a_key_found_in_history_carries_the_commit_that_introduced_it() {
    let dir = tempfile::tempdir().unwrap();
    let repo = common::repo::Repo::init(dir.path(), "app");
    let mut fakes = Fakes::new(13);
    let (key_id, secret) = (fakes.key_id("AKIA"), fakes.secret_key());
    repo.write("README", "app\n");
    repo.commit("start");
    repo.write(
        "deploy.env",
        &format!("AWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={secret}\n"),
    );
    let introducing = repo.commit("deploy settings");
    repo.remove("deploy.env");
    repo.commit("no secrets in the repository");
    let scan = run(keyhound_in(dir.path()).args(["git", "app", "-f", "json", "-o", "report.json"]));
    assert_eq!(scan.code, Some(1), "{}", scan.stderr);
    let sts = Sts::start();
    let out = respond(dir.path(), &sts.endpoint(), &["report.json", "-f", "json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let cards: Value = serde_json::from_slice(&out.stdout).unwrap();
    let card = &cards["keys"][0];
    assert_eq!(card["key_id"], key_id.as_str());
    let introduced = &card["evidence"]["introduced"];
    assert_eq!(introduced["commit"], introducing.as_str(), "{card}");
    assert_eq!(introduced["author"], "Ada Lovelace <ada@example.org>");
    assert!(introduced["date"].as_str().unwrap().ends_with('Z'));
    // The report was redacted: the card says where the key was, never its secret.
    assert!(!out.stdout_text().contains(&secret));
    // Text shows the commit too.
    let text = respond(dir.path(), &sts.endpoint(), &["report.json"]);
    let line = format!("in commit {}", &introducing[..12]);
    assert!(text.stdout_text().contains(&line), "{}", text.stdout_text());
}

#[test]
fn the_cards_are_also_written_as_a_page_with_the_reports_paths_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let mut fakes = Fakes::new(29);
    let key = fakes.key_id("AKIA");
    write_pair(
        dir.path(),
        "<img src=x onerror=alert(1)>.ini",
        &key,
        &fakes.secret_key(),
    );
    report(dir.path());
    let sts = Sts::start();
    let more = [
        "--report",
        "html:cards.html",
        "--report",
        "markdown:cards.md",
    ];
    let cards = cards_from(dir.path(), &sts, &more);
    let verdict = cards["keys"][0]["verdict"].as_str().unwrap().to_string();
    let page = std::fs::read_to_string(dir.path().join("cards.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(page.contains("content=\"default-src 'none'; "));
    assert!(
        page.contains(&format!("<h2><code>{key}</code> (long-term)</h2>")),
        "{page}"
    );
    assert!(page.contains(&verdict.replace('\'', "&#39;")), "{page}");
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;.ini"),
        "{page}"
    );
    assert!(!page.contains("<img"), "{page}");
    let markdown = std::fs::read_to_string(dir.path().join("cards.md")).unwrap();
    assert!(markdown.starts_with("## keyhound respond\n"), "{markdown}");
}
