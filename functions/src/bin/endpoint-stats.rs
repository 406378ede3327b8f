//! `GET /v1/developer/webhook-endpoints/{endpoint_id}/stats`

use webhook_api::{App, handlers};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    webhook_aws::init_logging();
    App::from_env().await?.serve(handlers::endpoint_stats).await
}
