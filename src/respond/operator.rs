//! The operator's own credentials, loaded as the AWS SDKs and CLI load them.
//!
//! The AWS SDK for Rust's `aws-config` walks the standard chain: the environment
//! (`AWS_ACCESS_KEY_ID`, …), the shared config and credentials files with `--profile` or
//! `AWS_PROFILE` (static keys, `credential_process`, `role_arn` with `source_profile`, SSO),
//! web identity, and the container and instance metadata endpoints. keyhound parses none of it
//! itself. The chain runs once, on a small runtime of its own; the credentials it yields then
//! sign keyhound's own requests.

use anyhow::{anyhow, Context, Result};
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::BehaviorVersion;
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_http_client::tls;

use crate::verify::sts::Credential;

/// Where requests go when the operator's configuration names no region.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The operator's credentials and home region.
pub struct Operator {
    pub credential: Credential,
    /// The region of the profile or `AWS_REGION`, else [`DEFAULT_REGION`].
    pub region: String,
}

/// Loads the operator's credentials through the SDK's default chain, with `profile` when given.
pub fn load(profile: Option<&str>) -> Result<Operator> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime that loads the operator's credentials")?;
    runtime.block_on(async {
        // rustls with ring, as keyhound's own requests use: one TLS stack in the binary.
        let https = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(https.clone());
        if let Some(profile) = profile {
            // A profile named on the command line is the one used, whatever the environment
            // holds: the AWS CLI too ignores AWS_ACCESS_KEY_ID when given --profile.
            let config = ProviderConfig::without_region()
                .with_http_client(https)
                .load_default_region()
                .await;
            let from_profile = ProfileFileCredentialsProvider::builder()
                .configure(&config)
                .profile_name(profile)
                .build();
            loader = loader
                .profile_name(profile)
                .credentials_provider(from_profile);
        }
        let config = loader.load().await;
        let provider = config
            .credentials_provider()
            .ok_or_else(|| anyhow!("no credential provider is configured"))?;
        let credentials = provider.provide_credentials().await.map_err(|error| {
            let from = profile.map_or(String::new(), |p| format!(" in profile {p}"));
            anyhow!("no operator credentials{from}: {}", with_causes(&error))
        })?;
        if credentials
            .expiry()
            .is_some_and(|expiry| expiry <= std::time::SystemTime::now())
        {
            return Err(anyhow!("the operator's credentials have expired"));
        }
        Ok(Operator {
            credential: Credential {
                key_id: credentials.access_key_id().to_string(),
                secret: credentials.secret_access_key().to_string(),
                session_token: credentials.session_token().map(str::to_string),
            },
            region: config
                .region()
                .map_or_else(|| DEFAULT_REGION.to_string(), |r| r.to_string()),
        })
    })
}

/// An error and its causes on one line: the chain's errors nest the one that matters.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let more = inner.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = inner.source();
    }
    text
}
