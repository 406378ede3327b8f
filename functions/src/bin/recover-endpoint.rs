//! `POST /v1/developer/webhook-endpoints/{endpoint_id}/recover`: resends an endpoint's failed
//! deliveries since a time, a bounded batch per call.

use webhook_api::{App, CursorKey, handlers};
use webhook_delivery::resend::resend;
use webhook_delivery::sqs::SqsQueue;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    webhook_aws::init_logging();
    let app = App::from_env()
        .await?
        .with_cursor_key(CursorKey::from_env()?);
    let queue = SqsQueue::delivery_from_env().await?;
    app.serve(|app, request| {
        handlers::recover_endpoint(app, request, |records, attempts| {
            resend(&queue, records, attempts)
        })
    })
    .await
}
