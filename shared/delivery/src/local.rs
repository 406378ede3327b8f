//! The in-process queue and worker `dev-server` runs: the same fan-out and delivery code as the
//! Lambdas, with tokio timers standing in for SQS delays.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::event::DeliveryJob;
use crate::fair::FairQueue;
use crate::pipeline::Pipeline;
use crate::queue::{Delayed, JobQueue, QueueError};

/// Jobs wait on timers, then go to the worker.
#[derive(Clone)]
pub struct LocalQueue {
    ready: mpsc::UnboundedSender<DeliveryJob>,
    max_delay: Duration,
}

pub type Jobs = mpsc::UnboundedReceiver<DeliveryJob>;

impl LocalQueue {
    /// A queue holding delays of up to `max_delay` (SQS holds 15 minutes), and its jobs.
    pub fn new(max_delay: Duration) -> (Self, Jobs) {
        let (ready, jobs) = mpsc::unbounded_channel();
        (Self { ready, max_delay }, jobs)
    }
}

impl JobQueue for LocalQueue {
    fn max_delay(&self) -> Duration {
        self.max_delay
    }

    async fn enqueue(&self, jobs: Vec<Delayed>) -> Result<(), QueueError> {
        for Delayed { job, delay } in jobs {
            let ready = self.ready.clone();
            if delay.is_zero() {
                ready
                    .send(job)
                    .map_err(|_| QueueError("the worker has stopped".into()))?;
            } else {
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    // The worker is gone only when the process is shutting down.
                    let _ = ready.send(job);
                });
            }
        }
        Ok(())
    }
}

/// How many deliveries the local worker makes at once, as `DeliveryMaximumConcurrency` bounds
/// `deliver` on AWS.
pub const CONCURRENCY: usize = 20;
/// How many of them one organization may hold.
pub const SHARE: usize = CONCURRENCY * 3 / 4;

/// Delivers every job that becomes ready, [`CONCURRENCY`] at a time, handed out fairly among
/// organizations ([`FairQueue`]), until `stop` resolves. Then it hands out nothing more and
/// waits for the deliveries already running to end (each within its attempt timeout), so none
/// is cut off between its request and its record; it answers how many ready jobs it left.
pub async fn run_worker<S>(
    pipeline: Arc<Pipeline<S, LocalQueue>>,
    mut jobs: Jobs,
    stop: impl Future<Output = ()>,
) -> usize
where
    S: webhook_store::Store,
{
    let mut ready = FairQueue::new(SHARE);
    let mut running = tokio::task::JoinSet::new();
    // Whose each task is, so that one that panicked is counted out too.
    let mut orgs = HashMap::new();
    tokio::pin!(stop);
    loop {
        while running.len() < CONCURRENCY
            && let Some((org, job)) = ready.pop()
        {
            let pipeline = pipeline.clone();
            let task = running.spawn(async move { deliver(&pipeline, job).await });
            orgs.insert(task.id(), org);
        }
        tokio::select! {
            () = &mut stop => break,
            job = jobs.recv() => match job {
                Some(job) => ready.push(job.org_id, job),
                None => break,
            },
            Some(finished) = running.join_next_with_id() => {
                let task = finished.map_or_else(|error| error.id(), |(id, ())| id);
                if let Some(org) = orgs.remove(&task) {
                    ready.finished(&org);
                }
            }
        }
    }
    while running.join_next().await.is_some() {}
    jobs.close();
    let mut left = ready.waiting();
    while jobs.try_recv().is_ok() {
        left += 1;
    }
    left
}

async fn deliver<S: webhook_store::Store>(pipeline: &Pipeline<S, LocalQueue>, job: DeliveryJob) {
    let (event_id, destination, attempt) = (job.event_id, job.destination, job.attempts + 1);
    match pipeline.deliver(job).await {
        Ok(delivery) => tracing::info!(%event_id, %destination, attempt, ?delivery, "delivery"),
        Err(error) => tracing::error!(%event_id, %destination, %error, "delivery failed"),
    }
}
