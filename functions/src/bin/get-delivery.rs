//! `GET /v1/developer/webhook-deliveries/{event_id}?endpoint_id=…`: one delivery, with the body
//! it sent and every attempt.

use lambda_http::{Error, run, service_fn};
use webhook_api::{App, handlers};

#[tokio::main]
async fn main() -> Result<(), Error> {
    webhook_aws::init_logging();
    let app = App::from_env().await?;
    run(service_fn(|request| handlers::get_delivery(&app, request))).await
}
