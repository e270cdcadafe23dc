//! Every call `respond` makes with the operator's credentials, to the endpoints the SDK
//! conventions name, each written to the call log (`--log`) when there is one.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::verify::query::{self, Answer, Protocol, Reply, Service};
use crate::verify::sts::Credential;

/// Where each service is reached.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub sts: String,
    pub iam: String,
    /// EC2's endpoint for every region (`AWS_ENDPOINT_URL_EC2`), else each region's own.
    pub ec2: Option<String>,
    /// CloudTrail's endpoint for every region (`AWS_ENDPOINT_URL_CLOUDTRAIL`), else each
    /// region's own.
    pub cloudtrail: Option<String>,
}

/// The operator's side of every call: credentials, endpoints and the call log.
pub struct Calls {
    client: query::Client,
    /// CloudTrail's client: more patient with throttling, which LookupEvents' limit of two
    /// requests a second makes common.
    patient: query::Client,
    credential: Credential,
    endpoints: Endpoints,
    log: Option<Mutex<File>>,
    /// Set once the operator's account is known, for the log.
    account: Mutex<Option<String>>,
}

/// One line of the call log. Never a secret: the key ID, the account and what came back.
#[derive(Serialize)]
struct Logged<'a> {
    time: String,
    action: String,
    key_id: &'a str,
    account: Option<String>,
    region: &'a str,
    result: String,
    request_id: Option<&'a str>,
}

impl Calls {
    /// The calls of `credential`, each bounded by `timeout`; `log`, when given, is appended to.
    pub fn new(
        credential: Credential,
        endpoints: Endpoints,
        timeout: Duration,
        log: Option<&Path>,
    ) -> Result<Calls> {
        let log = match log {
            Some(path) => Some(Mutex::new(
                File::options()
                    .create(true)
                    .append(true)
                    .open(path)
                    .with_context(|| format!("cannot open the call log {}", path.display()))?,
            )),
            None => None,
        };
        Ok(Calls {
            client: query::Client::new(timeout, 2, Duration::from_millis(250)),
            patient: query::Client::new(timeout, 4, Duration::from_millis(500)),
            credential,
            endpoints,
            log,
            account: Mutex::new(None),
        })
    }

    /// Names the operator's account in the log's later lines.
    pub fn set_account(&self, account: &str) {
        *self.account.lock().unwrap_or_else(|e| e.into_inner()) = Some(account.to_string());
    }

    /// Calls the STS Query `action` about `key_id` (the operator's own key for its identity).
    pub fn sts(&self, action: &str, params: &[(&str, &str)], key_id: &str) -> Reply {
        self.query(&self.sts_service(), action, params, key_id)
    }

    fn sts_service(&self) -> Service {
        Service {
            name: "sts",
            region: crate::verify::sts::REGION.to_string(),
            protocol: Protocol::Query {
                version: crate::verify::sts::VERSION,
            },
            endpoint: self.endpoints.sts.clone(),
        }
    }

    /// Asks STS whether `leaked` still works: the one call signed with the leaked key rather
    /// than the operator's.
    pub fn identify_leaked(&self, leaked: &Credential) -> crate::finding::VerificationStatus {
        let service = self.sts_service();
        let answer = self
            .client
            .exchange(&service, leaked, "GetCallerIdentity", &[]);
        crate::verify::sts::status_of(self.record(
            &service,
            "GetCallerIdentity",
            &leaked.key_id,
            answer,
        ))
    }

    /// Calls the IAM Query `action` about `key_id`.
    pub fn iam(&self, action: &str, params: &[(&str, &str)], key_id: &str) -> Reply {
        let service = Service {
            name: "iam",
            region: crate::verify::iam::REGION.to_string(),
            protocol: Protocol::Query {
                version: crate::verify::iam::VERSION,
            },
            endpoint: self.endpoints.iam.clone(),
        };
        self.query(&service, action, params, key_id)
    }

    /// Calls the EC2 Query `action` in `region`.
    pub fn ec2(&self, region: &str, action: &str, params: &[(&str, &str)]) -> Reply {
        let service = Service {
            name: "ec2",
            region: region.to_string(),
            protocol: Protocol::Query {
                version: "2016-11-15",
            },
            endpoint: self
                .endpoints
                .ec2
                .clone()
                .unwrap_or_else(|| format!("https://ec2.{region}.amazonaws.com")),
        };
        self.query(&service, action, params, "")
    }

    /// Calls the CloudTrail `action` in `region` with the JSON `body`, about `key_id`.
    pub fn cloudtrail(&self, region: &str, action: &str, body: String, key_id: &str) -> Reply {
        let service = Service {
            name: "cloudtrail",
            region: region.to_string(),
            protocol: Protocol::Json {
                target_prefix: "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101",
            },
            endpoint: self
                .endpoints
                .cloudtrail
                .clone()
                .unwrap_or_else(|| format!("https://cloudtrail.{region}.amazonaws.com")),
        };
        let answer = self
            .patient
            .exchange_json(&service, &self.credential, action, body);
        self.record(&service, action, key_id, answer)
    }

    fn query(
        &self,
        service: &Service,
        action: &str,
        params: &[(&str, &str)],
        key_id: &str,
    ) -> Reply {
        let answer = self
            .client
            .exchange(service, &self.credential, action, params);
        self.record(service, action, key_id, answer)
    }

    /// Writes the call to the log, if there is one, and hands back its reply.
    fn record(&self, service: &Service, action: &str, key_id: &str, answer: Answer) -> Reply {
        let Some(log) = &self.log else {
            return answer.reply;
        };
        let result = match &answer.reply {
            Reply::Ok(_) => "ok".to_string(),
            Reply::Refused { code, status } => format!("refused: {code} (HTTP {status})"),
            Reply::Failed(reason) => format!("failed: {reason}"),
        };
        let line = Logged {
            time: now_rfc3339(),
            action: format!("{}:{action}", service.name),
            key_id,
            account: self
                .account
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            region: &service.region,
            result,
            request_id: answer.request_id.as_deref(),
        };
        let mut text = serde_json::to_string(&line).expect("a log line serializes");
        text.push('\n');
        let mut file = log.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(error) = file.write_all(text.as_bytes()) {
            tracing::warn!("cannot write to the call log: {error}");
        }
        answer.reply
    }
}

/// The time now, RFC 3339 in UTC to the second.
pub fn now_rfc3339() -> String {
    crate::source::git::rfc3339(crate::verify::unix_now())
}
