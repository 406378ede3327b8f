//! SQS-triggered: one signed delivery attempt per job, and the next one scheduled on failure.

use lambda_runtime::{Error, run, service_fn};
use webhook_delivery::lambda::Worker;

#[tokio::main]
async fn main() -> Result<(), Error> {
    webhook_aws::init_logging();
    let worker = Worker::from_env().await?;
    run(service_fn(|event| worker.deliver(event))).await
}
