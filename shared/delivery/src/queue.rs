//! Where delivery jobs wait: SQS on AWS, an in-process queue locally.

use std::future::Future;
use std::time::Duration;

use crate::event::DeliveryJob;

/// A job and how long it must wait before it is handed to a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct Delayed {
    pub job: DeliveryJob,
    pub delay: Duration,
}

#[derive(Debug, thiserror::Error)]
#[error("could not enqueue delivery jobs: {0}")]
pub struct QueueError(pub String);

pub trait JobQueue: Send + Sync + 'static {
    /// The longest delay one enqueue can hold (SQS: 15 minutes). Longer waits are chained.
    fn max_delay(&self) -> Duration;

    /// Enqueues every job, in as few requests as the queue allows.
    fn enqueue(&self, jobs: Vec<Delayed>) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// The queue of a pipeline that must never queue: blocking dispatch makes one attempt per
/// destination and retries nothing, so it has no queue to send to.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoQueue;

impl JobQueue for NoQueue {
    fn max_delay(&self) -> Duration {
        Duration::ZERO
    }

    async fn enqueue(&self, jobs: Vec<Delayed>) -> Result<(), QueueError> {
        Err(QueueError(format!(
            "this pipeline queues nothing ({} jobs refused)",
            jobs.len()
        )))
    }
}
