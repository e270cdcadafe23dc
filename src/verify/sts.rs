//! One STS `GetCallerIdentity` call per credential ([`query`](super::query) signs and sends
//! it), and what its reply says of the credential.
//!
//! `GetCallerIdentity` needs no IAM permission and changes nothing.

use std::time::Duration;

use super::query::{self, Protocol, Reply, Service};
use crate::finding::VerificationStatus;

/// STS's global endpoint signs for this region.
pub const REGION: &str = "us-east-1";
/// The signing name of STS.
pub const SERVICE: &str = "sts";
/// The API version of STS.
pub const VERSION: &str = "2011-06-15";

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
    query: query::Client,
    sts: Service,
}

impl Client {
    /// A client for `endpoint` (`https://sts.amazonaws.com`), each request bounded by
    /// `timeout`, throttling and server errors retried `retries` times after a jittered wait
    /// that starts at `backoff` and doubles.
    pub fn new(endpoint: &str, timeout: Duration, retries: u32, backoff: Duration) -> Client {
        Client {
            query: query::Client::new(timeout, retries, backoff),
            sts: Service {
                name: SERVICE,
                region: REGION.to_string(),
                protocol: Protocol::Query { version: VERSION },
                endpoint: endpoint.to_string(),
            },
        }
    }

    /// Asks STS whose `credential` is.
    pub fn identify(&self, credential: &Credential) -> VerificationStatus {
        status_of(
            self.query
                .call(&self.sts, credential, "GetCallerIdentity", &[]),
        )
    }
}

/// What STS's reply says of the credential: only a parsed 200 with an identity is `live`.
pub fn status_of(reply: Reply) -> VerificationStatus {
    let unknown = |reason: String| VerificationStatus::Unknown { reason };
    match reply {
        Reply::Ok(body) => {
            let Ok(document) = roxmltree::Document::parse(&body) else {
                return unknown("HTTP 200 without an identity in the reply".into());
            };
            let text_of = |name: &str| query::first_text(&document, name);
            match (text_of("Arn"), text_of("Account"), text_of("UserId")) {
                (Some(arn), Some(account), Some(user_id)) => VerificationStatus::Live {
                    arn,
                    account,
                    user_id,
                },
                _ => unknown("HTTP 200 without an identity in the reply".into()),
            }
        }
        Reply::Refused { code, status } => match code.as_str() {
            "InvalidClientTokenId" => VerificationStatus::Invalid,
            "SignatureDoesNotMatch" => VerificationStatus::WrongSecret,
            "ExpiredToken" => VerificationStatus::Expired,
            _ => unknown(format!("STS refused the request: {code} (HTTP {status})")),
        },
        Reply::Failed(reason) => unknown(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDENTITY: &str = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::418295736041:user/deploy</Arn>
    <UserId>AIDAWCZC6M3UVHZKOTPEX</UserId>
    <Account>418295736041</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>"#;

    fn refused(code: &str) -> Reply {
        Reply::Refused {
            code: code.into(),
            status: 403,
        }
    }

    #[test]
    fn replies_map_to_outcomes() {
        assert_eq!(
            status_of(Reply::Ok(IDENTITY.into())),
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
            assert_eq!(status_of(refused(code)), expected, "{code}");
        }
        assert!(matches!(
            status_of(refused("AccessDenied")),
            VerificationStatus::Unknown { .. }
        ));
        assert!(matches!(
            status_of(Reply::Failed("timed out".into())),
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
                    status_of(Reply::Ok(body.into())),
                    VerificationStatus::Unknown { .. }
                ),
                "{body:?}"
            );
        }
        // A tag inside a comment or CDATA is not an identity.
        let hidden = "<r><!-- <Arn>arn</Arn><Account>1</Account><UserId>u</UserId> --></r>";
        assert!(matches!(
            status_of(Reply::Ok(hidden.into())),
            VerificationStatus::Unknown { .. }
        ));
    }
}
