//! `POST /v1/developer/webhook-endpoints/{endpoint_id}/rotate-secret` and
//! `POST /v1/webhook/rotate-secret`

use webhook_api::{App, handlers};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    webhook_aws::init_logging();
    App::from_env().await?.serve(handlers::rotate_secret).await
}
