//! Signed calls to AWS's APIs: the Query protocol (STS, IAM, EC2: an action and its
//! parameters, form-encoded, an XML reply) and the JSON 1.1 protocol (CloudTrail: a target
//! header and a JSON body). Requests are signed with SigV4 (the `aws-sigv4` crate) and sent over
//! HTTPS (`ureq` with rustls). Throttling and server errors are retried a bounded number of
//! times; every other answer is returned as it is, with the request ID AWS gave it.
//!
//! SigV4 never sends the secret access key: only the key ID, the date, the scope and an HMAC
//! signature made with it.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;

use super::sts::Credential;

const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";
const JSON: &str = "application/x-amz-json-1.1";
/// The most of a reply keyhound reads: IAM's largest replies (a page of policies, a policy
/// document) are well under this.
const MAX_REPLY: u64 = 1 << 20;

/// An AWS service at one endpoint.
#[derive(Debug, Clone)]
pub struct Service {
    /// The signing name (`sts`, `iam`, `cloudtrail`).
    pub name: &'static str,
    /// The region requests are signed for (global services sign for `us-east-1`).
    pub region: String,
    pub protocol: Protocol,
    pub endpoint: String,
}

/// How a service takes its requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Form-encoded `Action` and `Version`, XML replies.
    Query { version: &'static str },
    /// A JSON body, the operation named by `X-Amz-Target: PREFIX.Action`, JSON replies.
    Json { target_prefix: &'static str },
}

/// A reply and the ID AWS gave the request, for the caller's records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub reply: Reply,
    pub request_id: Option<String>,
}

/// What one call came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// HTTP 200, with the reply's XML.
    Ok(String),
    /// AWS refused the call: its error code (`AccessDenied`, `InvalidClientTokenId`, …) and
    /// the HTTP status.
    Refused { code: String, status: u16 },
    /// No answer keyhound can use: a network error, a timeout, throttling or a server error
    /// after every retry, or a reply it cannot read.
    Failed(String),
}

/// Sends signed Query calls, with bounded retries.
pub struct Client {
    agent: ureq::Agent,
    retries: u32,
    backoff: Duration,
}

/// What one attempt learned.
enum Attempt {
    Final(Reply),
    /// Throttled, or a server error: worth another try, with why.
    Retry(String),
}

/// One request's body and the headers that name its operation.
struct Request {
    body: String,
    content_type: &'static str,
    /// `X-Amz-Target`, for the JSON protocol.
    target: Option<String>,
}

impl Client {
    /// A client whose requests are each bounded by `timeout`, throttling and server errors
    /// retried `retries` times after a jittered wait that starts at `backoff` and doubles.
    /// Proxies come from `HTTPS_PROXY`/`ALL_PROXY` and `NO_PROXY`, as curl reads them. The user
    /// agent says `keyhound/VERSION`, so defenders can tell its calls apart.
    pub fn new(timeout: Duration, retries: u32, backoff: Duration) -> Client {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("keyhound/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            agent: ureq::Agent::new_with_config(config),
            retries,
            backoff,
        }
    }

    /// Calls the Query `action` of `service` with `params`, signed with `credential`.
    pub fn call(
        &self,
        service: &Service,
        credential: &Credential,
        action: &str,
        params: &[(&str, &str)],
    ) -> Reply {
        self.exchange(service, credential, action, params).reply
    }

    /// [`Client::call`], with the request ID of the final attempt.
    pub fn exchange(
        &self,
        service: &Service,
        credential: &Credential,
        action: &str,
        params: &[(&str, &str)],
    ) -> Answer {
        let request = match service.protocol {
            Protocol::Query { version } => Request {
                body: form_body(version, action, params),
                content_type: FORM,
                target: None,
            },
            Protocol::Json { .. } => {
                let reply = Reply::Failed(format!("{} takes JSON, not parameters", service.name));
                return Answer {
                    reply,
                    request_id: None,
                };
            }
        };
        self.send(service, credential, &request)
    }

    /// Calls the JSON-protocol `action` of `service` with the JSON `body`.
    pub fn exchange_json(
        &self,
        service: &Service,
        credential: &Credential,
        action: &str,
        body: String,
    ) -> Answer {
        let target = match service.protocol {
            Protocol::Json { target_prefix } => format!("{target_prefix}.{action}"),
            Protocol::Query { .. } => {
                let reply = Reply::Failed(format!("{} takes parameters, not JSON", service.name));
                return Answer {
                    reply,
                    request_id: None,
                };
            }
        };
        let request = Request {
            body,
            content_type: JSON,
            target: Some(target),
        };
        self.send(service, credential, &request)
    }

    fn send(&self, service: &Service, credential: &Credential, request: &Request) -> Answer {
        let mut tries = 0;
        loop {
            let (attempt, request_id) = self.attempt(service, credential, request);
            let reply = match attempt {
                Attempt::Final(reply) => reply,
                Attempt::Retry(reason) if tries >= self.retries => {
                    Reply::Failed(format!("{reason} ({} tries)", tries + 1))
                }
                Attempt::Retry(_) => {
                    std::thread::sleep(jittered(self.backoff * 2u32.pow(tries)));
                    tries += 1;
                    continue;
                }
            };
            return Answer { reply, request_id };
        }
    }

    fn attempt(
        &self,
        service: &Service,
        credential: &Credential,
        request: &Request,
    ) -> (Attempt, Option<String>) {
        let headers = match signed_headers(credential, service, request, SystemTime::now()) {
            Ok(headers) => headers,
            Err(reason) => return (Attempt::Final(Reply::Failed(reason)), None),
        };
        let mut call = self
            .agent
            .post(&service.endpoint)
            .header("content-type", request.content_type);
        if let Some(target) = &request.target {
            call = call.header("x-amz-target", target.as_str());
        }
        for (name, value) in &headers {
            call = call.header(name.as_str(), value.as_str());
        }
        let mut response = match call.send(request.body.as_str()) {
            Ok(response) => response,
            Err(error) => {
                let reason = format!("no answer from {}: {error}", service.endpoint);
                return (Attempt::Final(Reply::Failed(reason)), None);
            }
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let header_id = header("x-amzn-requestid").or_else(|| header("x-amz-request-id"));
        let error_type = header("x-amzn-errortype");
        let read = response
            .body_mut()
            .with_config()
            .limit(MAX_REPLY)
            .read_to_string();
        match read {
            Ok(text) => {
                let request_id = header_id.or_else(|| xml_request_id(&text));
                let code = error_type
                    .map(|t| json_error_code(&t))
                    .or_else(|| error_code(&text));
                (classify(status, text, code), request_id)
            }
            Err(error) if status >= 500 => {
                (Attempt::Retry(format!("HTTP {status}: {error}")), header_id)
            }
            Err(error) => (
                Attempt::Final(Reply::Failed(format!(
                    "unreadable reply (HTTP {status}): {error}"
                ))),
                header_id,
            ),
        }
    }
}

/// The request body: the action, the API version and the parameters, form-encoded.
pub fn form_body(version: &str, action: &str, params: &[(&str, &str)]) -> String {
    let mut body = format!("Action={}&Version={}", encode(action), encode(version));
    for (name, value) in params {
        body.push('&');
        body.push_str(&encode(name));
        body.push('=');
        body.push_str(&encode(value));
    }
    body
}

/// `text` percent-encoded as a form value (RFC 3986's unreserved characters left as they are).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The headers that sign `request` to `service` at `time`: `authorization`, `x-amz-date`,
/// and `x-amz-security-token` for a session token.
fn signed_headers(
    credential: &Credential,
    service: &Service,
    request: &Request,
    time: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    let identity = Credentials::new(
        &credential.key_id,
        &credential.secret,
        credential.session_token.clone(),
        None,
        "keyhound",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&service.region)
        .name(service.name)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("cannot sign: {e}"))?
        .into();
    let mut named = vec![("content-type", request.content_type)];
    if let Some(target) = &request.target {
        named.push(("x-amz-target", target.as_str()));
    }
    let signable = SignableRequest::new(
        "POST",
        &service.endpoint,
        named.into_iter(),
        SignableBody::Bytes(request.body.as_bytes()),
    )
    .map_err(|e| format!("cannot sign a request to {}: {e}", service.endpoint))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| format!("cannot sign: {e}"))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect())
}

/// Reads a reply: a 200 is the answer, an error `code` is a refusal, throttling and server
/// errors are worth another try.
fn classify(status: u16, body: String, code: Option<String>) -> Attempt {
    if status == 200 {
        return Attempt::Final(Reply::Ok(body));
    }
    match code.as_deref() {
        Some(code @ ("Throttling" | "ThrottlingException" | "RequestLimitExceeded")) => {
            Attempt::Retry(format!("throttled ({code})"))
        }
        _ if status == 429 => Attempt::Retry("throttled (HTTP 429)".into()),
        code if status >= 500 => Attempt::Retry(match code {
            Some(code) => format!("server error (HTTP {status}, {code})"),
            None => format!("server error (HTTP {status})"),
        }),
        Some(code) => Attempt::Final(Reply::Refused {
            code: code.to_string(),
            status,
        }),
        None => Attempt::Final(Reply::Failed(format!("unreadable reply (HTTP {status})"))),
    }
}

/// The error code of an AWS error reply: XML's `Code`, or JSON's `__type`.
fn error_code(body: &str) -> Option<String> {
    if body.trim_start().starts_with('{') {
        let value: serde_json::Value = serde_json::from_str(body).ok()?;
        let kind = value
            .get("__type")
            .or_else(|| value.get("code"))?
            .as_str()?;
        return Some(json_error_code(kind)).filter(|c| !c.is_empty());
    }
    let document = roxmltree::Document::parse(body).ok()?;
    first_text(&document, "Code")
}

/// A JSON error type without its namespace (`com.amazonaws.x#ThrottlingException`) or the
/// details some services add after a colon.
fn json_error_code(kind: &str) -> String {
    let kind = kind.rsplit('#').next().unwrap_or(kind);
    kind.split(':').next().unwrap_or(kind).trim().to_string()
}

/// The `RequestId` of a Query reply, which some endpoints give only in the body.
fn xml_request_id(body: &str) -> Option<String> {
    let document = roxmltree::Document::parse(body).ok()?;
    first_text(&document, "RequestId")
}

/// The trimmed, non-empty text of the first element named `name` in `document`.
pub fn first_text(document: &roxmltree::Document<'_>, name: &str) -> Option<String> {
    document
        .descendants()
        .find(|n| n.has_tag_name(name))
        .and_then(|n| n.text())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// `base` plus up to half of it again, at random, so that many retries do not come in step.
fn jittered(base: Duration) -> Duration {
    use std::hash::{BuildHasher, RandomState};
    let random = RandomState::new().hash_one(SystemTime::now());
    base + base.mul_f64((random % 1000) as f64 / 2000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sts() -> Service {
        Service {
            name: "sts",
            region: "us-east-1".into(),
            protocol: Protocol::Query {
                version: "2011-06-15",
            },
            endpoint: "https://sts.amazonaws.com".into(),
        }
    }

    fn read_reply(status: u16, body: String) -> Attempt {
        let code = error_code(&body);
        classify(status, body, code)
    }

    fn final_reply(attempt: Attempt) -> Reply {
        match attempt {
            Attempt::Final(reply) => reply,
            Attempt::Retry(reason) => panic!("retry: {reason}"),
        }
    }

    fn error(code: &str) -> String {
        format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>m</Message>\
             </Error><RequestId>1</RequestId></ErrorResponse>"
        )
    }

    #[test]
    fn the_body_names_the_action_and_version_and_encodes_each_parameter() {
        let body = form_body(
            "2011-06-15",
            "GetCallerIdentity",
            &[("PolicyArn", "arn:aws:iam::aws:policy/a b+c")],
        );
        assert_eq!(
            body,
            "Action=GetCallerIdentity&Version=2011-06-15&PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2Fa%20b%2Bc"
        );
    }

    #[test]
    fn json_errors_are_read_by_their_type_without_its_namespace() {
        let throttled = r#"{"__type": "com.amazonaws.cloudtrail.v20131101#ThrottlingException", "message": "Rate exceeded"}"#;
        assert_eq!(
            error_code(throttled).as_deref(),
            Some("ThrottlingException")
        );
        assert!(matches!(
            read_reply(400, throttled.into()),
            Attempt::Retry(_)
        ));
        let denied = r#"{"__type": "AccessDeniedException"}"#;
        assert_eq!(
            final_reply(read_reply(400, denied.into())),
            Reply::Refused {
                code: "AccessDeniedException".into(),
                status: 400
            }
        );
        assert_eq!(
            json_error_code("UnrecognizedClientException:http://x"),
            "UnrecognizedClientException"
        );
        assert_eq!(error_code("{}"), None);
        assert_eq!(
            xml_request_id("<R><RequestId> abc </RequestId></R>").as_deref(),
            Some("abc")
        );
    }

    #[test]
    fn replies_are_answers_refusals_or_worth_another_try() {
        assert_eq!(
            final_reply(read_reply(200, "<x/>".into())),
            Reply::Ok("<x/>".into())
        );
        assert_eq!(
            final_reply(read_reply(403, error("AccessDenied"))),
            Reply::Refused {
                code: "AccessDenied".into(),
                status: 403
            }
        );
        assert!(matches!(
            final_reply(read_reply(400, "garbage".into())),
            Reply::Failed(_)
        ));
        assert!(matches!(
            read_reply(400, error("Throttling")),
            Attempt::Retry(_)
        ));
        assert!(matches!(read_reply(429, String::new()), Attempt::Retry(_)));
        assert!(matches!(read_reply(503, "oops".into()), Attempt::Retry(_)));
    }

    #[test]
    fn the_signature_names_the_key_id_and_scope_and_never_holds_the_secret() {
        let credential = Credential {
            key_id: "ASIAWCZC6M3UVHZKOTPE".into(),
            secret: "r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD".into(),
            session_token: Some("IQoJb3JpZ2luX2VjEXAMPLETOKEN".into()),
        };
        let iam = Service {
            name: "iam",
            region: "us-east-1".into(),
            protocol: Protocol::Query {
                version: "2010-05-08",
            },
            endpoint: "https://iam.amazonaws.com".into(),
        };
        for service in [sts(), iam] {
            let request = Request {
                body: form_body("2010-05-08", "GetUser", &[]),
                content_type: FORM,
                target: None,
            };
            let headers =
                signed_headers(&credential, &service, &request, SystemTime::now()).unwrap();
            let find = |name: &str| {
                headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| panic!("no {name}: {headers:?}"))
            };
            let authorization = find("authorization");
            assert!(authorization.starts_with("AWS4-HMAC-SHA256 Credential=ASIAWCZC6M3UVHZKOTPE/"));
            let scope = format!("/us-east-1/{}/aws4_request", service.name);
            assert!(authorization.contains(&scope), "{authorization}");
            assert_eq!(find("x-amz-security-token"), "IQoJb3JpZ2luX2VjEXAMPLETOKEN");
            find("x-amz-date");
            for (_, value) in &headers {
                assert!(!value.contains(&credential.secret));
            }
        }
    }
}
