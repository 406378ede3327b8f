//! Invoked by the platform (RequestResponse) with a blocking event: sends it to every matching
//! destination at once and answers with the receivers' answer within 2 s.

use lambda_runtime::{Error, run, service_fn};
use webhook_delivery::lambda::BlockingDispatch;

#[tokio::main]
async fn main() -> Result<(), Error> {
    webhook_aws::init_logging();
    let dispatch = BlockingDispatch::from_env().await?;
    run(service_fn(|event| dispatch.handle(event))).await
}
