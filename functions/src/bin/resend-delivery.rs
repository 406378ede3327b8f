//! `POST /v1/developer/webhook-deliveries/{event_id}/resend`: a new chain of attempts of a logged
//! delivery, queued on the delivery queue for `deliver`.

use webhook_api::{App, handlers};
use webhook_delivery::resend::resend;
use webhook_delivery::sqs::SqsQueue;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    webhook_aws::init_logging();
    let app = App::from_env().await?;
    let queue = SqsQueue::delivery_from_env().await?;
    app.serve(|app, request| {
        handlers::resend_delivery(app, request, |records, attempts| {
            resend(&queue, records, attempts)
        })
    })
    .await
}
