//! Resending a logged delivery: a new chain of attempts of the same message, rebuilt from the
//! body the record kept. Same event id, so the same `webhook-id` for receivers to deduplicate
//! on; attempt numbers go on from the record's, so the attempt claim sends each once however
//! often the resend is asked for; the schedule starts over.

use std::time::Duration;

use serde_json::{Map, Value};
use webhook_aws::LazyClient;
use webhook_domain::settings;
use webhook_domain::{DeliveryRecord, ResentAttempts};

use crate::event::{DeliveryJob, PlatformEvent};
use crate::pipeline::Pipeline;
use crate::queue::{Delayed, JobQueue, QueueError};
use crate::sqs::SqsQueue;

#[derive(Debug, thiserror::Error)]
pub enum ResendError {
    /// The record keeps no body (it was written before bodies were kept), or a damaged one.
    #[error("the delivery keeps no body to resend")]
    NoBody,
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// How long a resent job waits before its attempt.
pub const OPEN_FIRST: Duration = Duration::from_secs(1);

/// What the resend route holds: the delivery queue.
pub struct Resends<Q> {
    queue: Q,
}

impl<S, Q: Clone> From<&Pipeline<S, Q>> for Resends<Q> {
    fn from(pipeline: &Pipeline<S, Q>) -> Self {
        Self {
            queue: pipeline.queue.clone(),
        }
    }
}

impl Resends<SqsQueue> {
    /// `DELIVERY_QUEUE_URL` and the AWS SDK's own environment.
    pub async fn from_env() -> Result<Self, lambda_runtime::Error> {
        let config = webhook_aws::load_sdk_config().await?;
        let url = settings::DELIVERY_QUEUE_URL.read::<String>()?;
        Ok(Self {
            queue: SqsQueue::new(LazyClient::new(&config, aws_sdk_sqs::Client::new), url),
        })
    }
}

impl<Q: JobQueue> Resends<Q> {
    /// Queues the first attempt of a new chain for each delivery `records` log, in as few
    /// requests as the queue allows, each chain with `attempts`. The caller opens the records
    /// right after: the jobs wait [`OPEN_FIRST`] so that the opening lands before the attempt.
    pub async fn resend(
        &self,
        records: Vec<DeliveryRecord>,
        attempts: ResentAttempts,
    ) -> Result<(), ResendError> {
        let jobs = records
            .into_iter()
            .map(|record| {
                let job = DeliveryJob {
                    one_attempt: attempts == ResentAttempts::One,
                    ..job_from(record)?
                };
                Ok(Delayed {
                    job,
                    delay: OPEN_FIRST,
                })
            })
            .collect::<Result<Vec<_>, ResendError>>()?;
        if !jobs.is_empty() {
            self.queue.enqueue(jobs).await?;
        }
        Ok(())
    }
}

/// The job that sends `record`'s message again: its data from the body it kept.
fn job_from(record: DeliveryRecord) -> Result<DeliveryJob, ResendError> {
    let data = record
        .body
        .as_ref()
        .and_then(|body| body.bytes().ok())
        .and_then(|body| serde_json::from_slice::<Map<String, Value>>(&body).ok())
        .and_then(|mut sent| serde_json::from_value(sent.remove("data")?).ok())
        .ok_or(ResendError::NoBody)?;
    // The record keeps no publisher's trace: a resend continues the event's own.
    let event = PlatformEvent {
        id: record.event_id,
        org_id: record.org_id,
        agent_id: record.agent_id,
        event_type: record.event_type,
        data,
        occurred_at: record.occurred_at,
        traceparent: None,
    };
    // Its event is kept again, for as long as the new chain's records.
    Ok(DeliveryJob {
        attempts: record.attempt_count,
        chain_starts_after: record.attempt_count,
        test: record.test,
        resent: true,
        history: record.attempts,
        ..DeliveryJob::first(&event, record.destination)
    })
}
