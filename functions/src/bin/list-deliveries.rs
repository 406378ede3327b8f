//! `GET /v1/developer/webhook-deliveries`

use lambda_http::{Error, run, service_fn};
use webhook_api::{App, CursorKey, handlers};

#[tokio::main]
async fn main() -> Result<(), Error> {
    webhook_aws::init_logging();
    // Every instance must seal cursors with the same key, or pages break between instances.
    let app = App::from_env()
        .await?
        .with_cursor_key(CursorKey::from_env()?);
    run(service_fn(|request| {
        handlers::list_deliveries(&app, request)
    }))
    .await
}
