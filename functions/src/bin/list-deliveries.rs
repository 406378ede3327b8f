//! `GET /v1/developer/webhook-deliveries`

use webhook_api::{App, CursorKey, handlers};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    webhook_aws::init_logging();
    // Every instance must seal cursors with the same key, or pages break between instances.
    let app = App::from_env()
        .await?
        .with_cursor_key(CursorKey::from_env()?);
    app.serve(handlers::list_deliveries).await
}
