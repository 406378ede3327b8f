//! Fan-out (an event to the jobs of every matching endpoint) and delivery (one attempt of one
//! job, and what comes after it).

use std::sync::Arc;
use std::time::Duration;

use webhook_domain::{Attempt, Clock, EndpointStatus, EventType, Timestamp};
use webhook_store::{DeliveryStatsStore, EndpointStore, Recorded, StoreError};

use crate::event::{DeliveryJob, PlatformEvent};
use crate::payload;
use crate::queue::{Delayed, JobQueue, QueueError};
use crate::schedule::{RetrySchedule, Stop};
use crate::sender::Sender;
use crate::signature;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// How long a receiver has to answer: blocking events configure a live call.
pub fn timeout_for(event_type: EventType) -> Duration {
    match event_type {
        EventType::TelephonyIncoming | EventType::WebIncoming => Duration::from_secs(2),
        _ => Duration::from_secs(30),
    }
}

/// What became of one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// Failed; the next attempt is queued after this delay.
    Retrying(Duration),
    /// Failed, and no further attempt will be made.
    GaveUp(GiveUp),
    /// Not attempted: the endpoint was deleted or disabled in the meantime.
    Abandoned(&'static str),
    /// Not due yet; passed along the queue.
    Deferred(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// The schedule's last attempt failed.
    Exhausted,
    /// The receiver answered 410 Gone.
    Gone,
    /// The endpoint is failing: one attempt per event, no retries.
    FailingEndpoint,
}

/// Everything delivery needs, built once per process.
pub struct Pipeline<S, Q> {
    pub store: S,
    pub queue: Q,
    pub sender: Sender,
    pub clock: Arc<dyn Clock>,
    pub schedule: RetrySchedule,
}

impl<S, Q> Pipeline<S, Q>
where
    S: EndpointStore + DeliveryStatsStore,
    Q: JobQueue,
{
    /// Queues one job per endpoint of the event's organization that receives it: one Query,
    /// then the queue's batches.
    pub async fn fan_out(&self, event: &PlatformEvent) -> Result<usize, PipelineError> {
        let endpoints = self.store.list(event.org_id).await?;
        let jobs: Vec<Delayed> = endpoints
            .iter()
            .filter(|endpoint| endpoint.receives(event.event_type, event.agent_id))
            .map(|endpoint| Delayed {
                job: DeliveryJob::first(event, endpoint.id),
                delay: Duration::ZERO,
            })
            .collect();
        let count = jobs.len();
        if count > 0 {
            self.queue.enqueue(jobs).await?;
        }
        Ok(count)
    }

    /// Makes one attempt of the job, records it, and queues the next one if there is to be one.
    pub async fn deliver(&self, mut job: DeliveryJob) -> Result<Delivery, PipelineError> {
        let now = self.clock.now();
        if let Some(wait) = job.not_before.and_then(|at| millis_between(now, at)) {
            return self
                .requeue(job, wait, now)
                .await
                .map(|()| Delivery::Deferred(wait));
        }
        // Re-read first: a deleted or paused endpoint gets nothing more.
        let Some((endpoint, secret)) = self
            .store
            .signing_target(job.org_id, job.endpoint_id)
            .await?
        else {
            return Ok(Delivery::Abandoned("the endpoint was deleted"));
        };
        if endpoint.status == EndpointStatus::Disabled {
            return Ok(Delivery::Abandoned("the endpoint is disabled"));
        }
        if !endpoint.receives(job.event_type, job.agent_id) {
            return Ok(Delivery::Abandoned(
                "the endpoint no longer subscribes to this event",
            ));
        }
        let body = payload::body(
            job.event_type.as_str(),
            &serde_json::Value::Object(job.data.clone()),
        );
        let headers =
            signature::headers(&secret, &job.message_id(), now.unix_millis() / 1000, &body);
        let sent = self
            .sender
            .send(
                endpoint.url.as_str(),
                body,
                &headers,
                timeout_for(job.event_type),
            )
            .await;
        let attempt = Attempt {
            at: now,
            outcome: sent.outcome,
            duration: sent.duration,
        };
        if self.store.record_attempt(&endpoint, &attempt).await? == Recorded::EndpointGone {
            return Ok(Delivery::Abandoned("the endpoint was deleted"));
        }
        if sent.outcome.is_success() {
            return Ok(Delivery::Delivered);
        }
        tracing::info!(
            event_id = %job.event_id,
            endpoint_id = %job.endpoint_id,
            attempt = job.attempts + 1,
            error = sent.error.as_deref().unwrap_or("failed"),
            "delivery attempt failed"
        );
        if endpoint.status == EndpointStatus::Failing {
            self.store.record_give_up(&endpoint, now).await?;
            return Ok(Delivery::GaveUp(GiveUp::FailingEndpoint));
        }
        job.attempts += 1;
        let first = *job.first_attempt_at.get_or_insert(now);
        let elapsed = millis_between(first, now).unwrap_or_default();
        match self.schedule.next_delay(
            job.attempts,
            sent.outcome.status(),
            sent.retry_after,
            elapsed,
        ) {
            Ok(delay) => {
                self.requeue(job, delay, now).await?;
                Ok(Delivery::Retrying(delay))
            }
            Err(stop) => {
                tracing::warn!(event_id = %job.event_id, endpoint_id = %job.endpoint_id, ?stop, "delivery given up");
                self.store.record_give_up(&endpoint, now).await?;
                Ok(Delivery::GaveUp(match stop {
                    Stop::Gone => GiveUp::Gone,
                    Stop::Exhausted => GiveUp::Exhausted,
                }))
            }
        }
    }

    /// Queues the job to come back after `wait`, in steps the queue can hold.
    async fn requeue(
        &self,
        mut job: DeliveryJob,
        wait: Duration,
        now: Timestamp,
    ) -> Result<(), PipelineError> {
        let step = wait.min(self.queue.max_delay());
        job.not_before = if step < wait {
            now.checked_add(wait)
        } else {
            None
        };
        self.queue
            .enqueue(vec![Delayed { job, delay: step }])
            .await?;
        Ok(())
    }
}

/// How long from `from` until `to`, if `to` is later.
fn millis_between(from: Timestamp, to: Timestamp) -> Option<Duration> {
    let millis = to.unix_millis().checked_sub(from.unix_millis())?;
    (millis > 0).then(|| Duration::from_millis(millis as u64))
}
