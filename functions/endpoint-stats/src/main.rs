//! `GET /v1/developer/webhook-endpoints/{endpoint_id}/stats`

use lambda_http::{Error, run, service_fn};
use webhook_api::{App, handlers};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let app = App::from_env().await?;
    run(service_fn(|request| {
        handlers::endpoint_stats(&app, request)
    }))
    .await
}
