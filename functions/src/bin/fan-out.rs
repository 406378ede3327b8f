//! SQS-triggered: each platform event becomes one delivery job per matching endpoint.

use lambda_runtime::{Error, run, service_fn};
use webhook_delivery::lambda::Worker;

#[tokio::main]
async fn main() -> Result<(), Error> {
    webhook_aws::init_logging();
    let worker = Worker::from_env().await?;
    run(service_fn(|event| worker.fan_out(event))).await
}
