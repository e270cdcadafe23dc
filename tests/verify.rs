//! Live verification against a stand-in for STS on 127.0.0.1: every outcome, one request per
//! distinct credential, the concurrency cap, credentials never sent, redaction, and the only
//! address `--verify` connects to.
//!
//! The stand-in checks each request's SigV4 signature by signing the same request again with
//! `aws-sigv4`, from the secret it knows for the key ID, and answers as STS does.

#[allow(dead_code)]
mod common;

use std::collections::HashMap;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use common::http::{read_request, Request};
use common::{keyhound_in, network_calls, run, Fakes, Run};
use serde_json::Value;

/// How the stand-in answers for one key ID.
#[derive(Clone)]
enum Behaviour {
    /// 200 with this user's identity.
    Live { user: String },
    /// `ExpiredToken` (temporary credentials only).
    Expired,
    /// `Throttling` first, then as `Live`.
    ThrottledThenLive,
    /// HTTP 500 first, then as `Live`.
    ErrorThenLive,
    /// HTTP 500 every time.
    ErrorForever,
    /// No answer for longer than keyhound waits.
    Hang,
    /// HTTP 200 with a body that is not XML.
    Garbage,
}

/// A key the stand-in knows: its secret and how it answers.
struct Known {
    secret: String,
    behaviour: Behaviour,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, Known>,
    /// Requests received, by key ID.
    requests: Mutex<HashMap<String, usize>>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    /// How long each answer takes.
    delay: Duration,
    stop: AtomicBool,
}

/// An STS stand-in listening on 127.0.0.1; it stops when dropped.
struct Sts {
    address: SocketAddr,
    state: Arc<State>,
}

impl Sts {
    fn start(keys: HashMap<String, Known>, delay: Duration) -> Sts {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port on 127.0.0.1");
        let address = listener.local_addr().unwrap();
        let state = Arc::new(State {
            keys,
            delay,
            ..State::default()
        });
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let state = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &state, address));
            }
        });
        Sts { address, state }
    }

    fn endpoint(&self) -> String {
        format!("http://{}/", self.address)
    }

    fn requests(&self, key_id: &str) -> usize {
        let requests = self.state.requests.lock().unwrap();
        requests.get(key_id).copied().unwrap_or(0)
    }

    fn total_requests(&self) -> usize {
        self.state.requests.lock().unwrap().values().sum()
    }
}

impl Drop for Sts {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.address); // wakes the accept loop so it sees `stop`
    }
}

fn serve(mut stream: TcpStream, state: &State, address: SocketAddr) {
    let Some(request) = read_request(&stream) else {
        return;
    };
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.most_in_flight.fetch_max(now, Ordering::SeqCst);
    std::thread::sleep(state.delay);
    let (status, body) = answer(&request, state, address);
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    let reply = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(reply.as_bytes());
}

fn error(code: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
         <Code>{code}</Code><Message>stand-in</Message></Error><RequestId>0</RequestId></ErrorResponse>"
    )
}

fn identity(key_id: &str, user: &str) -> String {
    format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <GetCallerIdentityResult><Arn>arn:aws:iam::418295736041:user/{user}</Arn>\
         <UserId>AIDA{}</UserId><Account>418295736041</Account></GetCallerIdentityResult>\
         <ResponseMetadata><RequestId>0</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
        &key_id[4..]
    )
}

/// Checks the request as STS would, then answers as the key's behaviour says.
fn answer(request: &Request, state: &State, address: SocketAddr) -> (u16, String) {
    assert_eq!(
        request.body, b"Action=GetCallerIdentity&Version=2011-06-15",
        "the body keyhound sends"
    );
    let Some(authorization) = request.header("authorization") else {
        return (403, error("MissingAuthenticationToken"));
    };
    let key_id = authorization
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').next())
        .unwrap_or_default()
        .to_string();
    let seen = {
        let mut requests = state.requests.lock().unwrap();
        let count = requests.entry(key_id.clone()).or_default();
        *count += 1;
        *count
    };
    let Some(known) = state.keys.get(&key_id) else {
        return (403, error("InvalidClientTokenId"));
    };
    if !signature_matches(request, authorization, &key_id, &known.secret, address) {
        return (403, error("SignatureDoesNotMatch"));
    }
    match &known.behaviour {
        Behaviour::Live { user } => (200, identity(&key_id, user)),
        Behaviour::Expired => {
            assert!(request.header("x-amz-security-token").is_some());
            (400, error("ExpiredToken"))
        }
        Behaviour::ThrottledThenLive if seen == 1 => (400, error("Throttling")),
        Behaviour::ErrorThenLive if seen == 1 => (500, String::new()),
        Behaviour::ThrottledThenLive | Behaviour::ErrorThenLive => {
            (200, identity(&key_id, "recovered"))
        }
        Behaviour::ErrorForever => (500, error("InternalFailure")),
        Behaviour::Hang => {
            std::thread::sleep(Duration::from_secs(4));
            (200, identity(&key_id, "late"))
        }
        Behaviour::Garbage => (200, "<<<not xml".to_string()),
    }
}

/// Signs the request again from the secret the stand-in knows, at the time the request says,
/// and compares the signatures.
fn signature_matches(
    request: &Request,
    authorization: &str,
    key_id: &str,
    secret: &str,
    address: SocketAddr,
) -> bool {
    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;

    let Some(date) = request.header("x-amz-date") else {
        return false;
    };
    let Some(time) = parse_amz_date(date) else {
        return false;
    };
    let signed: Vec<&str> = authorization
        .split("SignedHeaders=")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap_or_default()
        .split(';')
        .collect();
    let token = request.header("x-amz-security-token").map(str::to_string);
    let identity = Credentials::new(key_id, secret, token, None, "stand-in").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("sts")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    // The headers the client signed, less those the signer adds itself.
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .filter(|(name, _)| signed.contains(&name.as_str()))
        .filter(|(name, _)| !matches!(name.as_str(), "x-amz-date" | "x-amz-security-token"))
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let url = format!("http://{address}/");
    let signable = SignableRequest::new(
        "POST",
        &url,
        headers.into_iter(),
        SignableBody::Bytes(&request.body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let expected = instructions
        .headers()
        .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value.to_string())
        .unwrap_or_default();
    let signature = |auth: &str| {
        auth.rsplit("Signature=")
            .next()
            .unwrap_or_default()
            .to_string()
    };
    !expected.is_empty() && signature(&expected) == signature(authorization)
}

/// `20261129T170000Z` → a time.
fn parse_amz_date(date: &str) -> Option<SystemTime> {
    let digits = |range: std::ops::Range<usize>| date.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (hour, minute, second) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).ok()?))
}

/// A fake key pair (and session token for `ASIA`), in its own credentials file.
struct Pair {
    id: String,
    secret: String,
    token: Option<String>,
}

impl Pair {
    fn new(fakes: &mut Fakes, prefix: &str) -> Pair {
        Pair::of_account(fakes, prefix, 418_295_736_041)
    }

    fn of_account(fakes: &mut Fakes, prefix: &str, account: u64) -> Pair {
        Pair {
            id: fakes.key_id_of_account(prefix, account),
            secret: fakes.secret_key(),
            token: (prefix == "ASIA").then(|| fakes.session_token()),
        }
    }

    fn write(&self, dir: &Path, name: &str) {
        let mut text = format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            self.id, self.secret
        );
        if let Some(token) = &self.token {
            text.push_str(&format!("aws_session_token = {token}\n"));
        }
        std::fs::write(dir.join(name), text).unwrap();
    }

    fn known(&self, behaviour: Behaviour) -> (String, Known) {
        let known = Known {
            secret: self.secret.clone(),
            behaviour,
        };
        (self.id.clone(), known)
    }
}

/// `keyhound scan . -f FORMAT --verify` against `sts`, with `extra` flags.
fn verify_scan(dir: &Path, sts: &Sts, format: &str, extra: &[&str]) -> Run {
    let endpoint = sts.endpoint();
    let mut args = vec![
        "scan",
        ".",
        "-f",
        format,
        "--verify",
        "--sts-endpoint",
        &endpoint,
        "--verify-timeout",
        "1",
    ];
    args.extend_from_slice(extra);
    run(keyhound_in(dir).args(&args))
}

/// The verification of the pair finding of `key_id`.
fn verification_of(json: &Value, key_id: &str) -> Value {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["pair"]["key_id"] == key_id || f["secret"] == key_id)
        .unwrap_or_else(|| panic!("{key_id} reported: {json}"))["verification"]
        .clone()
}

#[test]
fn each_answer_of_sts_gives_its_status() {
    let dir = tempfile::tempdir().unwrap();
    let mut fakes = Fakes::new(70);
    let live = Pair::new(&mut fakes, "AKIA");
    let invalid = Pair::new(&mut fakes, "AKIA");
    let wrong = Pair::new(&mut fakes, "AKIA");
    let expired = Pair::new(&mut fakes, "ASIA");
    let throttled = Pair::new(&mut fakes, "AKIA");
    let flaky = Pair::new(&mut fakes, "AKIA");
    let broken = Pair::new(&mut fakes, "AKIA");
    let hang = Pair::new(&mut fakes, "AKIA");
    let garbage = Pair::new(&mut fakes, "AKIA");
    let pairs = [
        (&live, "live"),
        (&invalid, "invalid"),
        (&wrong, "wrong"),
        (&expired, "expired"),
        (&throttled, "throttled"),
        (&flaky, "flaky"),
        (&broken, "broken"),
        (&hang, "hang"),
        (&garbage, "garbage"),
    ];
    for (pair, name) in pairs {
        pair.write(dir.path(), &format!("{name}.ini"));
    }
    let wrong_known = Known {
        secret: fakes.secret_key(), // the real secret of this key ID is another one
        behaviour: Behaviour::Live {
            user: "other".into(),
        },
    };
    let keys: HashMap<String, Known> = [
        live.known(Behaviour::Live {
            user: "deploy".into(),
        }),
        (wrong.id.clone(), wrong_known),
        expired.known(Behaviour::Expired),
        throttled.known(Behaviour::ThrottledThenLive),
        flaky.known(Behaviour::ErrorThenLive),
        broken.known(Behaviour::ErrorForever),
        hang.known(Behaviour::Hang),
        garbage.known(Behaviour::Garbage),
    ]
    .into_iter()
    .collect();
    let sts = Sts::start(keys, Duration::ZERO);

    let run = verify_scan(dir.path(), &sts, "json", &[]);
    run.expect_code(1);
    assert!(
        run.stderr.contains(&format!(
            "verifying 9 credentials with STS at {}",
            sts.endpoint()
        )),
        "{}",
        run.stderr
    );
    let json = run.json();
    let status = |pair: &Pair| verification_of(&json, &pair.id)["status"].clone();
    let live_verification = verification_of(&json, &live.id);
    assert_eq!(live_verification["status"], "live", "{live_verification}");
    assert_eq!(
        live_verification["arn"],
        "arn:aws:iam::418295736041:user/deploy"
    );
    assert_eq!(live_verification["account"], "418295736041");
    assert_eq!(
        live_verification["user_id"],
        format!("AIDA{}", &live.id[4..])
    );
    assert!(live_verification["checked_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert_eq!(status(&invalid), "invalid");
    assert_eq!(status(&wrong), "wrong-secret");
    assert_eq!(status(&expired), "expired");
    assert_eq!(status(&throttled), "live");
    assert_eq!(status(&flaky), "live");
    assert_eq!(status(&broken), "unknown");
    assert_eq!(status(&hang), "unknown");
    assert_eq!(status(&garbage), "unknown");
    // Retries: once after throttling or an error that passed, twice (the most) after errors.
    assert_eq!(sts.requests(&throttled.id), 2);
    assert_eq!(sts.requests(&flaky.id), 2);
    assert_eq!(sts.requests(&broken.id), 3);
    for pair in [&live, &invalid, &wrong, &expired, &hang, &garbage] {
        assert_eq!(sts.requests(&pair.id), 1, "{}", pair.id);
    }
    // Never a secret in the report, whatever the outcome.
    let stdout = String::from_utf8_lossy(&run.stdout);
    for (pair, _) in pairs {
        assert!(!stdout.contains(&pair.secret), "a secret in the report");
    }
}

#[test]
fn one_request_per_credential_and_no_more_in_flight_than_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let mut fakes = Fakes::new(71);
    let pairs: Vec<Pair> = (0..8).map(|_| Pair::new(&mut fakes, "AKIA")).collect();
    for (n, pair) in pairs.iter().enumerate() {
        pair.write(dir.path(), &format!("app{n}.ini"));
        // The same credential again, elsewhere: still one request.
        pair.write(dir.path(), &format!("copy{n}.ini"));
    }
    let keys = pairs
        .iter()
        .map(|p| p.known(Behaviour::Live { user: "ci".into() }))
        .collect();
    let sts = Sts::start(keys, Duration::from_millis(200));

    let run = verify_scan(dir.path(), &sts, "json", &["--verify-concurrency", "3"]);
    run.expect_code(1);
    let json = run.json();
    for pair in &pairs {
        assert_eq!(sts.requests(&pair.id), 1, "{}", pair.id);
        assert_eq!(verification_of(&json, &pair.id)["status"], "live");
    }
    assert_eq!(sts.state.most_in_flight.load(Ordering::SeqCst), 3);
}

#[test]
fn canaries_examples_skipped_accounts_and_lone_ids_are_never_sent() {
    let dir = tempfile::tempdir().unwrap();
    let mut fakes = Fakes::new(72);
    let canary = Pair::of_account(&mut fakes, "AKIA", 717_712_589_309);
    canary.write(dir.path(), "canary.ini");
    std::fs::write(
        dir.path().join("docs.ini"),
        "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\
         aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    )
    .unwrap();
    let skipped = Pair::of_account(&mut fakes, "AKIA", 111_122_223_333);
    skipped.write(dir.path(), "partner.ini");
    std::fs::write(dir.path().join("skip.txt"), "# partners\n111122223333\n").unwrap();
    let configured = Pair::of_account(&mut fakes, "AKIA", 222_233_334_444);
    configured.write(dir.path(), "vendor.ini");
    std::fs::write(
        dir.path().join("keyhound.toml"),
        "[verify]\nskip_accounts = [\"222233334444\"]\n",
    )
    .unwrap();
    let lone = fakes.key_id_of_account("AKIA", 418_295_736_041);
    std::fs::write(
        dir.path().join("id.env"),
        format!("AWS_ACCESS_KEY_ID={lone}\n"),
    )
    .unwrap();
    let temporary = Pair::new(&mut fakes, "ASIA");
    std::fs::write(
        dir.path().join("temp.ini"),
        format!(
            "aws_access_key_id = {}\naws_secret_access_key = {}\n",
            temporary.id, temporary.secret
        ),
    )
    .unwrap();
    let sts = Sts::start(HashMap::new(), Duration::ZERO);

    let run = verify_scan(
        dir.path(),
        &sts,
        "json",
        &["--verify-skip-accounts", "skip.txt", "--show-secrets"],
    );
    assert_eq!(sts.total_requests(), 0, "nothing is sent");
    assert!(!run.stderr.contains("verifying"), "{}", run.stderr);
    let json = run.json();
    let reason = |id: &str| {
        let verification = verification_of(&json, id);
        assert_eq!(verification["status"], "skipped", "{verification}");
        verification["reason"].as_str().unwrap().to_string()
    };
    assert!(reason(&canary.id).starts_with("a canary token"));
    assert_eq!(reason("AKIAIOSFODNN7EXAMPLE"), "a documentation example");
    assert_eq!(
        reason(&skipped.id),
        "account 111122223333 is on the skip list"
    );
    assert_eq!(reason(&lone), "a key ID found without its secret");
    assert_eq!(
        reason(&temporary.id),
        "a temporary key found without its session token"
    );
}

#[test]
fn live_keys_are_loud_in_text_error_in_sarif_and_alone_with_verify_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut fakes = Fakes::new(73);
    let live = Pair::new(&mut fakes, "AKIA");
    let dead = Pair::new(&mut fakes, "AKIA");
    live.write(dir.path(), "live.ini");
    dead.write(dir.path(), "dead.ini");
    let keys = [live.known(Behaviour::Live {
        user: "deploy".into(),
    })]
    .into_iter()
    .collect();
    let sts = Sts::start(keys, Duration::ZERO);

    let text = verify_scan(dir.path(), &sts, "text", &["--color", "never"]);
    text.expect_code(1);
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(
        out.contains("LIVE: arn:aws:iam::418295736041:user/deploy"),
        "{out}"
    );
    assert!(out.contains(&format!(
        "aws iam update-access-key --status Inactive --access-key-id {} --user-name deploy",
        live.id
    )));
    assert!(out.contains("verified: invalid"), "{out}");
    assert!(!out.contains(&live.secret) && !out.contains(&dead.secret));

    let sarif = verify_scan(dir.path(), &sts, "sarif", &[]);
    let sarif: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let live_result = results
        .iter()
        .find(|r| r["properties"]["verification"]["status"] == "live")
        .expect("a live result");
    assert_eq!(live_result["level"], "error");
    assert_eq!(live_result["properties"]["tags"][0], "verified");
    assert!(!sarif.to_string().contains(&live.secret));

    // Only the live key is reported; the dead one still fails the scan.
    let only = verify_scan(dir.path(), &sts, "json", &["--verify-only", "live"]);
    only.expect_code(1);
    let json = only.json();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{json}");
    assert_eq!(findings[0]["pair"]["key_id"], live.id.as_str());

    std::fs::remove_file(dir.path().join("live.ini")).unwrap();
    let none_live = verify_scan(dir.path(), &sts, "json", &["--verify-only", "live"]);
    none_live.expect_code(1);
    assert_eq!(none_live.json()["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn verify_connects_only_to_the_endpoint_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let mut fakes = Fakes::new(74);
    let pair = Pair::new(&mut fakes, "AKIA");
    pair.write(dir.path(), "creds.ini");
    let sts = Sts::start(HashMap::new(), Duration::ZERO);
    let endpoint = sts.endpoint();
    let args = [
        "scan",
        ".",
        "-q",
        "--verify",
        "--sts-endpoint",
        endpoint.as_str(),
    ];
    let Some(calls) = network_calls(dir.path(), &args, 1) else {
        return;
    };
    let connects: Vec<&str> = calls.lines().filter(|l| l.contains("connect(")).collect();
    assert!(!connects.is_empty(), "{calls}");
    let port = format!("sin_port=htons({})", sts.address.port());
    for call in &connects {
        assert!(
            call.contains(&port) && call.contains("inet_addr(\"127.0.0.1\")"),
            "a connection elsewhere: {call}\n{calls}"
        );
    }
    assert_eq!(sts.requests(&pair.id), 1);
}

#[test]
fn flags_of_verification_need_verify() {
    let dir = tempfile::tempdir().unwrap();
    for flags in [&["--sts-endpoint", "http://x"][..], &["--analyze"]] {
        let run = run(keyhound_in(dir.path()).args(["scan", "."]).args(flags));
        run.expect_code(2);
        assert!(run.stderr.contains("--verify"), "{flags:?}: {}", run.stderr);
    }
}
