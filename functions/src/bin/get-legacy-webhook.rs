//! `GET /v1/webhook` (the legacy single-URL webhook)

use webhook_api::{App, handlers};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    webhook_aws::init_logging();
    App::from_env()
        .await?
        .serve(handlers::get_legacy_webhook)
        .await
}
