//! `GET /v1/developer/webhook-aws-identity`

use webhook_api::{App, handlers};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    webhook_aws::init_logging();
    App::from_env().await?.serve(handlers::aws_identity).await
}
