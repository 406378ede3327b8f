//! `POST /v1/developer/webhook-deliveries/{event_id}/resend`: a new chain of attempts of a logged
//! delivery, queued on the delivery queue for `deliver`.

use webhook_api::{App, handlers};
use webhook_delivery::resend::Resends;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    webhook_aws::init_logging();
    let app = App::from_env().await?;
    let resends = Resends::from_env().await?;
    app.serve(|app, request| {
        handlers::resend_delivery(app, request, async |records, attempts| {
            resends.resend(records, attempts).await
        })
    })
    .await
}
