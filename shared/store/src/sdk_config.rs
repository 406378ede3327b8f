//! The AWS SDK configuration every function loads once at start.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, SdkConfig};

/// The SDK's default configuration (region, endpoints, retries from the environment), with the
/// credentials Lambda puts in every function's environment.
///
/// Why not the default credentials chain: it builds an STS client for web identity tokens, and
/// the SDK sets up TLS for each client when the client is made (its root store and rustls
/// configuration), not at its first request. On Lambda that client is never used, and it cost
/// every cold start about 0.2 ms (`scripts/cold-start`). Without credentials in the environment
/// (a developer's machine) the default chain applies.
pub async fn load_sdk_config() -> SdkConfig {
    let loader = aws_config::defaults(BehaviorVersion::latest());
    let loader = if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        loader.credentials_provider(EnvironmentVariableCredentialsProvider::new())
    } else {
        loader
    };
    loader.load().await
}
