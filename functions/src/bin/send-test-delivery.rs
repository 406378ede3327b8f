//! `POST /v1/developer/webhook-endpoints/{endpoint_id}/test`: the one API route that sends HTTP,
//! so the only API function that links the delivery crate.

use lambda_http::{Error, run, service_fn};
use webhook_api::{App, handlers};
use webhook_delivery::pipeline::Pipeline;

#[tokio::main]
async fn main() -> Result<(), Error> {
    webhook_aws::init_logging();
    let app = App::from_env().await?;
    let tests = Pipeline::for_tests_from_env(app.store.clone()).await?;
    run(service_fn(|request| {
        handlers::send_test_delivery(&app, request, |endpoint, secret, event_type| {
            tests.send_test(endpoint, secret, event_type)
        })
    }))
    .await
}
