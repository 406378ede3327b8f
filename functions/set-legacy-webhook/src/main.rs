//! `PUT and PATCH /v1/webhook` (the legacy single-URL webhook)

use lambda_http::{Error, run, service_fn};
use webhook_api::{App, handlers};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let app = App::from_env().await?;
    run(service_fn(|request| {
        handlers::set_legacy_webhook(&app, request)
    }))
    .await
}
