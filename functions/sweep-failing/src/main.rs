//! Scheduled: marks endpoints `failing` after a long failure streak.

use lambda_runtime::{Error, run, service_fn};
use webhook_sweeper::ScheduledSweep;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let sweep = ScheduledSweep::from_env().await?;
    run(service_fn(|event| sweep.handle(event))).await
}
