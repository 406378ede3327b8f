//! `GET /v1/developer/webhook-event-types`: the catalogue needs no table, so no client is built.

use lambda_http::{Error, run, service_fn};
use webhook_api::handlers;

#[tokio::main]
async fn main() -> Result<(), Error> {
    webhook_aws::init_logging();
    run(service_fn(handlers::list_event_types)).await
}
