//! `GET /v1/developer/webhook-deliveries/{event_id}?endpoint_id=…`: one delivery, with the body
//! it sent and every attempt.

use webhook_api::{App, handlers};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    webhook_aws::init_logging();
    App::from_env().await?.serve(handlers::get_delivery).await
}
