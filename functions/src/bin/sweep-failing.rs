//! Scheduled: marks endpoints `failing` after a long failure streak.

use lambda_runtime::{Error, run, service_fn};
use webhook_sweeper::ScheduledSweep;

#[tokio::main]
async fn main() -> Result<(), Error> {
    webhook_aws::init_logging();
    let sweep = ScheduledSweep::from_env().await?;
    run(service_fn(|event| sweep.handle(event))).await
}
