//! `GET /v1/webhook` (the legacy single-URL webhook)

use lambda_http::{Error, run, service_fn};
use webhook_api::{App, handlers};

#[tokio::main]
async fn main() -> Result<(), Error> {
    webhook_aws::init_logging();
    let app = App::from_env().await?;
    run(service_fn(|request| {
        handlers::get_legacy_webhook(&app, request)
    }))
    .await
}
