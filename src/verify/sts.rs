//! One STS `GetCallerIdentity` call per credential: signed with SigV4 (the `aws-sigv4` crate),
//! sent over HTTPS (`ureq` with rustls), the XML reply read with an XML parser.
//!
//! `GetCallerIdentity` needs no IAM permission and changes nothing. SigV4 never sends the
//! secret access key: only the key ID, the date, the scope and an HMAC signature made with it.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;

use crate::finding::VerificationStatus;

/// The request body: the action and API version, form-encoded.
pub const BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
/// STS's global endpoint signs for this region.
pub const REGION: &str = "us-east-1";
/// The signing name of STS.
pub const SERVICE: &str = "sts";
const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";
/// The most of a reply keyhound reads: STS's replies are well under 2 KiB.
const MAX_REPLY: u64 = 64 << 10;

/// A credential to verify.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Credential {
    pub key_id: String,
    pub secret: String,
    /// The session token of temporary (`ASIA`) credentials.
    pub session_token: Option<String>,
}

/// Talks to one STS endpoint.
pub struct Client {
    agent: ureq::Agent,
    endpoint: String,
    retries: u32,
    backoff: Duration,
}

/// What one attempt learned.
#[derive(Debug, PartialEq, Eq)]
enum Attempt {
    /// A final answer.
    Answer(VerificationStatus),
    /// Throttled, or a server error: worth another try, with why.
    Retry(String),
}

impl Client {
    /// A client for `endpoint` (`https://sts.amazonaws.com`), each request bounded by
    /// `timeout`, throttling and server errors retried `retries` times after a jittered wait
    /// that starts at `backoff` and doubles. Proxies come from `HTTPS_PROXY`/`ALL_PROXY` and
    /// `NO_PROXY`, as curl reads them.
    pub fn new(endpoint: &str, timeout: Duration, retries: u32, backoff: Duration) -> Client {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("keyhound/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            agent: ureq::Agent::new_with_config(config),
            endpoint: endpoint.to_string(),
            retries,
            backoff,
        }
    }

    /// Asks STS whose `credential` is.
    pub fn identify(&self, credential: &Credential) -> VerificationStatus {
        let mut tries = 0;
        loop {
            match self.attempt(credential) {
                Attempt::Answer(status) => return status,
                Attempt::Retry(reason) if tries >= self.retries => {
                    return VerificationStatus::Unknown {
                        reason: format!("{reason} ({} tries)", tries + 1),
                    }
                }
                Attempt::Retry(_) => {
                    std::thread::sleep(jittered(self.backoff * 2u32.pow(tries)));
                    tries += 1;
                }
            }
        }
    }

    fn attempt(&self, credential: &Credential) -> Attempt {
        let headers = match signed_headers(credential, &self.endpoint, SystemTime::now()) {
            Ok(headers) => headers,
            Err(reason) => return Attempt::Answer(VerificationStatus::Unknown { reason }),
        };
        let mut request = self
            .agent
            .post(&self.endpoint)
            .header("content-type", CONTENT_TYPE);
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let mut response = match request.send(BODY) {
            Ok(response) => response,
            Err(error) => {
                let reason = format!("no answer from {}: {error}", self.endpoint);
                return Attempt::Answer(VerificationStatus::Unknown { reason });
            }
        };
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_REPLY)
            .read_to_string();
        match body {
            Ok(body) => classify(status, &body),
            Err(error) if status >= 500 => Attempt::Retry(format!("HTTP {status}: {error}")),
            Err(error) => Attempt::Answer(VerificationStatus::Unknown {
                reason: format!("unreadable reply (HTTP {status}): {error}"),
            }),
        }
    }
}

/// The headers that sign a `GetCallerIdentity` request to `endpoint` at `time`:
/// `authorization`, `x-amz-date`, and `x-amz-security-token` for a session token.
pub fn signed_headers(
    credential: &Credential,
    endpoint: &str,
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
        .region(REGION)
        .name(SERVICE)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("cannot sign: {e}"))?
        .into();
    let request = SignableRequest::new(
        "POST",
        endpoint,
        std::iter::once(("content-type", CONTENT_TYPE)),
        SignableBody::Bytes(BODY.as_bytes()),
    )
    .map_err(|e| format!("cannot sign a request to {endpoint}: {e}"))?;
    let (instructions, _) = sign(request, &params)
        .map_err(|e| format!("cannot sign: {e}"))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect())
}

/// Reads STS's reply: only a parsed 200 with an identity is `live`.
fn classify(status: u16, body: &str) -> Attempt {
    let unknown = |reason: String| Attempt::Answer(VerificationStatus::Unknown { reason });
    let document = roxmltree::Document::parse(body);
    let text_of = |name: &str| {
        document.as_ref().ok().and_then(|doc| {
            doc.descendants()
                .find(|n| n.has_tag_name(name))
                .and_then(|n| n.text())
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
        })
    };
    if status == 200 {
        return match (text_of("Arn"), text_of("Account"), text_of("UserId")) {
            (Some(arn), Some(account), Some(user_id)) => {
                Attempt::Answer(VerificationStatus::Live {
                    arn,
                    account,
                    user_id,
                })
            }
            _ => unknown("HTTP 200 without an identity in the reply".into()),
        };
    }
    let code = text_of("Code");
    match code.as_deref() {
        Some("InvalidClientTokenId") => Attempt::Answer(VerificationStatus::Invalid),
        Some("SignatureDoesNotMatch") => Attempt::Answer(VerificationStatus::WrongSecret),
        Some("ExpiredToken") => Attempt::Answer(VerificationStatus::Expired),
        Some(code @ ("Throttling" | "ThrottlingException" | "RequestLimitExceeded")) => {
            Attempt::Retry(format!("throttled ({code})"))
        }
        _ if status == 429 => Attempt::Retry("throttled (HTTP 429)".into()),
        code if status >= 500 => Attempt::Retry(match code {
            Some(code) => format!("server error (HTTP {status}, {code})"),
            None => format!("server error (HTTP {status})"),
        }),
        Some(code) => unknown(format!("STS refused the request: {code} (HTTP {status})")),
        None => unknown(format!("unreadable reply (HTTP {status})")),
    }
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

    fn status(attempt: Attempt) -> VerificationStatus {
        match attempt {
            Attempt::Answer(status) => status,
            Attempt::Retry(reason) => panic!("retry: {reason}"),
        }
    }

    const IDENTITY: &str = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::418295736041:user/deploy</Arn>
    <UserId>AIDAWCZC6M3UVHZKOTPEX</UserId>
    <Account>418295736041</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>"#;

    fn error(code: &str) -> String {
        format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>\
             <Type>Sender</Type><Code>{code}</Code><Message>m</Message></Error>\
             <RequestId>1</RequestId></ErrorResponse>"
        )
    }

    #[test]
    fn replies_map_to_outcomes() {
        assert_eq!(
            status(classify(200, IDENTITY)),
            VerificationStatus::Live {
                arn: "arn:aws:iam::418295736041:user/deploy".into(),
                account: "418295736041".into(),
                user_id: "AIDAWCZC6M3UVHZKOTPEX".into(),
            }
        );
        let cases = [
            ("InvalidClientTokenId", VerificationStatus::Invalid),
            ("SignatureDoesNotMatch", VerificationStatus::WrongSecret),
            ("ExpiredToken", VerificationStatus::Expired),
        ];
        for (code, expected) in cases {
            assert_eq!(status(classify(403, &error(code))), expected, "{code}");
        }
        assert!(matches!(
            status(classify(403, &error("AccessDenied"))),
            VerificationStatus::Unknown { .. }
        ));
    }

    #[test]
    fn only_a_parsed_identity_is_live() {
        for body in [
            "",
            "garbage",
            "<Arn>arn:aws:iam::1:user/x</Arn>",
            "<a><Arn></Arn></a>",
        ] {
            assert!(
                matches!(
                    status(classify(200, body)),
                    VerificationStatus::Unknown { .. }
                ),
                "{body:?}"
            );
        }
        // A tag inside a comment or CDATA is not an identity.
        let hidden = "<r><!-- <Arn>arn</Arn><Account>1</Account><UserId>u</UserId> --></r>";
        assert!(matches!(
            status(classify(200, hidden)),
            VerificationStatus::Unknown { .. }
        ));
    }

    #[test]
    fn throttling_and_server_errors_are_retried() {
        assert!(matches!(
            classify(400, &error("Throttling")),
            Attempt::Retry(_)
        ));
        assert!(matches!(classify(429, ""), Attempt::Retry(_)));
        assert!(matches!(classify(500, "oops"), Attempt::Retry(_)));
        assert!(matches!(
            classify(503, &error("ServiceUnavailable")),
            Attempt::Retry(_)
        ));
    }

    #[test]
    fn the_signature_names_the_key_id_and_never_holds_the_secret() {
        let credential = Credential {
            key_id: "ASIAWCZC6M3UVHZKOTPE".into(),
            secret: "r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD".into(),
            session_token: Some("IQoJb3JpZ2luX2VjEXAMPLETOKEN".into()),
        };
        let headers =
            signed_headers(&credential, "https://sts.amazonaws.com", SystemTime::now()).unwrap();
        let find = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no {name}: {headers:?}"))
        };
        let authorization = find("authorization");
        assert!(authorization.starts_with("AWS4-HMAC-SHA256 Credential=ASIAWCZC6M3UVHZKOTPE/"));
        assert!(authorization.contains("/us-east-1/sts/aws4_request"));
        assert_eq!(find("x-amz-security-token"), "IQoJb3JpZ2luX2VjEXAMPLETOKEN");
        find("x-amz-date");
        for (_, value) in &headers {
            assert!(!value.contains(&credential.secret));
        }
    }
}
