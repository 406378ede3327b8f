//! The bundled API-key authorizer for the HTTP API (payload 2.0, simple responses).

use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::{Error, service_fn};
use webhook_api::authorizer::{self, AuthorizerRequest};
use webhook_domain::{Clock, SystemClock};
use webhook_store::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), Error> {
    webhook_aws::init_logging();
    let store = DynamoStore::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<AuthorizerRequest>| {
        authorizer::authorize(&store, event.payload, SystemClock.now())
    }))
    .await
}
