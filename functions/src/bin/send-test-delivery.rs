//! `POST /v1/developer/webhook-endpoints/{endpoint_id}/test`: the one API route that sends HTTP,
//! so the only API function that links the delivery crate.

use webhook_api::{App, handlers};
use webhook_delivery::pipeline::Pipeline;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    webhook_aws::init_logging();
    let app = App::from_env().await?;
    let tests = Pipeline::for_tests_from_env(app.store.clone()).await?;
    app.serve(|app, request| {
        handlers::send_test_delivery(app, request, |endpoint, secret, event_type| {
            tests.send_test(endpoint, secret, event_type)
        })
    })
    .await
}
