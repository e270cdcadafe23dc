//! Signed calls to AWS's Query APIs (STS, IAM): an action and its parameters, form-encoded,
//! signed with SigV4 (the `aws-sigv4` crate), sent over HTTPS (`ureq` with rustls), the XML
//! reply read with an XML parser. Throttling and server errors are retried a bounded number of
//! times; every other answer is returned as it is.
//!
//! SigV4 never sends the secret access key: only the key ID, the date, the scope and an HMAC
//! signature made with it.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;

use super::sts::Credential;

const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";
/// The most of a reply keyhound reads: IAM's largest replies (a page of policies, a policy
/// document) are well under this.
const MAX_REPLY: u64 = 1 << 20;

/// An AWS service that speaks the Query protocol, at one endpoint.
#[derive(Debug, Clone)]
pub struct Service {
    /// The signing name (`sts`, `iam`).
    pub name: &'static str,
    /// The region requests are signed for (global services sign for `us-east-1`).
    pub region: &'static str,
    /// The API version every request names.
    pub version: &'static str,
    pub endpoint: String,
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

    /// Calls `action` of `service` with `params`, signed with `credential`.
    pub fn call(
        &self,
        service: &Service,
        credential: &Credential,
        action: &str,
        params: &[(&str, &str)],
    ) -> Reply {
        let body = form_body(service, action, params);
        let mut tries = 0;
        loop {
            match self.attempt(service, credential, &body) {
                Attempt::Final(reply) => return reply,
                Attempt::Retry(reason) if tries >= self.retries => {
                    return Reply::Failed(format!("{reason} ({} tries)", tries + 1))
                }
                Attempt::Retry(_) => {
                    std::thread::sleep(jittered(self.backoff * 2u32.pow(tries)));
                    tries += 1;
                }
            }
        }
    }

    fn attempt(&self, service: &Service, credential: &Credential, body: &str) -> Attempt {
        let headers = match signed_headers(credential, service, body, SystemTime::now()) {
            Ok(headers) => headers,
            Err(reason) => return Attempt::Final(Reply::Failed(reason)),
        };
        let mut request = self
            .agent
            .post(&service.endpoint)
            .header("content-type", CONTENT_TYPE);
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let mut response = match request.send(body) {
            Ok(response) => response,
            Err(error) => {
                let reason = format!("no answer from {}: {error}", service.endpoint);
                return Attempt::Final(Reply::Failed(reason));
            }
        };
        let status = response.status().as_u16();
        let read = response
            .body_mut()
            .with_config()
            .limit(MAX_REPLY)
            .read_to_string();
        match read {
            Ok(text) => classify(status, text),
            Err(error) if status >= 500 => Attempt::Retry(format!("HTTP {status}: {error}")),
            Err(error) => Attempt::Final(Reply::Failed(format!(
                "unreadable reply (HTTP {status}): {error}"
            ))),
        }
    }
}

/// The request body: the action, the API version and the parameters, form-encoded.
pub fn form_body(service: &Service, action: &str, params: &[(&str, &str)]) -> String {
    let mut body = format!(
        "Action={}&Version={}",
        encode(action),
        encode(service.version)
    );
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

/// The headers that sign a request of `body` to `service` at `time`: `authorization`,
/// `x-amz-date`, and `x-amz-security-token` for a session token.
pub fn signed_headers(
    credential: &Credential,
    service: &Service,
    body: &str,
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
        .region(service.region)
        .name(service.name)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("cannot sign: {e}"))?
        .into();
    let request = SignableRequest::new(
        "POST",
        &service.endpoint,
        std::iter::once(("content-type", CONTENT_TYPE)),
        SignableBody::Bytes(body.as_bytes()),
    )
    .map_err(|e| format!("cannot sign a request to {}: {e}", service.endpoint))?;
    let (instructions, _) = sign(request, &params)
        .map_err(|e| format!("cannot sign: {e}"))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect())
}

/// Reads a reply: a 200 is the answer, an error code is a refusal, throttling and server
/// errors are worth another try.
fn classify(status: u16, body: String) -> Attempt {
    if status == 200 {
        return Attempt::Final(Reply::Ok(body));
    }
    let code = error_code(&body);
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

/// The `Code` of an AWS error reply.
fn error_code(body: &str) -> Option<String> {
    let document = roxmltree::Document::parse(body).ok()?;
    first_text(&document, "Code")
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
            region: "us-east-1",
            version: "2011-06-15",
            endpoint: "https://sts.amazonaws.com".into(),
        }
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
            &sts(),
            "GetCallerIdentity",
            &[("PolicyArn", "arn:aws:iam::aws:policy/a b+c")],
        );
        assert_eq!(
            body,
            "Action=GetCallerIdentity&Version=2011-06-15&PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2Fa%20b%2Bc"
        );
    }

    #[test]
    fn replies_are_answers_refusals_or_worth_another_try() {
        assert_eq!(
            final_reply(classify(200, "<x/>".into())),
            Reply::Ok("<x/>".into())
        );
        assert_eq!(
            final_reply(classify(403, error("AccessDenied"))),
            Reply::Refused {
                code: "AccessDenied".into(),
                status: 403
            }
        );
        assert!(matches!(
            final_reply(classify(400, "garbage".into())),
            Reply::Failed(_)
        ));
        assert!(matches!(
            classify(400, error("Throttling")),
            Attempt::Retry(_)
        ));
        assert!(matches!(classify(429, String::new()), Attempt::Retry(_)));
        assert!(matches!(classify(503, "oops".into()), Attempt::Retry(_)));
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
            region: "us-east-1",
            version: "2010-05-08",
            endpoint: "https://iam.amazonaws.com".into(),
        };
        for service in [sts(), iam] {
            let body = form_body(&service, "GetUser", &[]);
            let headers = signed_headers(&credential, &service, &body, SystemTime::now()).unwrap();
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
