//! A client for a DynamoDB-compatible server on this machine (moto, for instance), for
//! dev-server, webhooks-admin and the tests. Function binaries take the SDK's own
//! environment instead (`DynamoStore::from_env`).

use aws_sdk_dynamodb::Client;

/// Client settings for a DynamoDB-compatible server on this machine (moto, for instance):
/// the given endpoint, `AWS_REGION` or `us-east-1`, and placeholder credentials.
pub fn local_config(endpoint: &str) -> aws_sdk_dynamodb::config::Builder {
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
    aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new(region))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local", "local", None, None, "local",
        ))
        .endpoint_url(endpoint)
}

/// A client for a DynamoDB-compatible server on this machine; see [`local_config`].
pub fn local_client(endpoint: &str) -> Client {
    Client::from_conf(local_config(endpoint).build())
}
