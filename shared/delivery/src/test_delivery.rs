//! Test deliveries: one signed sample event to one endpoint, now, whatever its status, with no
//! effect on its status or stats; recorded in the delivery log. A failed one gets one retry a
//! minute later, through the delivery queue like any retry.

use std::sync::Arc;
use std::time::Duration;

use webhook_domain::{
    Attempt, Clock, DeliveryStatus, Endpoint, EventName, LogRetention, SigningKeys, SystemClock,
    TestDelivery,
};
use webhook_store::{DeliveryLogStore, DynamoStore, LazyClient};

use crate::event::DeliveryJob;
use crate::lambda::{log_retention_from_env, required};
use crate::pipeline::{Pipeline, Target, log_delivery, send_signed, timeout_for};
use crate::queue::{Delayed, JobQueue};
use crate::samples;
use crate::schedule::RetrySchedule;
use crate::sender::Sender;
use crate::sqs::SqsQueue;

/// The caller waits for the answer, and API Gateway gives up on an integration after 30 s:
/// a test waits at most this long for the receiver (blocking types keep their 2 s).
pub const MAX_TEST_WAIT: Duration = Duration::from_secs(10);

pub struct TestDeliveries<S, Q> {
    pub store: S,
    /// Where the retry of a failed test goes: the delivery queue.
    pub queue: Q,
    pub sender: Sender,
    pub clock: Arc<dyn Clock>,
    pub log_retention: LogRetention,
}

impl TestDeliveries<DynamoStore, SqsQueue> {
    /// The test route's sender: production rules (no private addresses), the table from
    /// `TABLE_NAME`, the retry's queue from `DELIVERY_QUEUE_URL`, the log retention from
    /// `DELIVERY_LOG_RETENTION`.
    pub async fn from_env(store: DynamoStore) -> Result<Self, lambda_runtime::Error> {
        let config = webhook_store::load_sdk_config().await?;
        Ok(Self {
            store,
            queue: SqsQueue::new(
                LazyClient::new(&config, aws_sdk_sqs::Client::new),
                required("DELIVERY_QUEUE_URL")?,
            ),
            sender: Sender::new(false)?,
            clock: Arc::new(SystemClock),
            log_retention: log_retention_from_env()?,
        })
    }
}

impl<S: Clone, Q: Clone> From<&Pipeline<S, Q>> for TestDeliveries<S, Q> {
    fn from(pipeline: &Pipeline<S, Q>) -> Self {
        Self {
            store: pipeline.store.clone(),
            queue: pipeline.queue.clone(),
            sender: pipeline.sender.clone(),
            clock: pipeline.clock.clone(),
            log_retention: pipeline.log_retention,
        }
    }
}

impl<S: DeliveryLogStore, Q: JobQueue> TestDeliveries<S, Q> {
    /// Sends a sample `event` to the endpoint (as the caller just read it), queues the retry if
    /// it failed, and logs the outcome. The answer is this first attempt's.
    pub async fn send(
        &self,
        endpoint: Endpoint,
        keys: SigningKeys,
        event: EventName,
    ) -> TestDelivery {
        let now = self.clock.now();
        let mut job = DeliveryJob {
            event_id: uuid::Uuid::new_v4(),
            org_id: endpoint.org_id,
            endpoint_id: Some(endpoint.id),
            agent_id: endpoint.agent_id,
            data: samples::data(&event, endpoint.agent_id, now),
            event_type: event,
            occurred_at: Some(now),
            attempts: 0,
            chain_starts_after: 0,
            first_attempt_at: Some(now),
            not_before: None,
            test: true,
            history: Vec::new(),
        };
        let target = Target::endpoint(endpoint, keys, &job.event_type);
        let timeout = timeout_for(&job.event_type).min(MAX_TEST_WAIT);
        let body = target.body(&job);
        let before = target.record(&job, now, now, &body);
        let sent = send_signed(&self.sender, &target, &job, body, now, timeout).await;
        job.attempts = 1;
        let attempt = Attempt {
            at: now,
            outcome: sent.outcome,
            duration: sent.duration,
        };
        let mut record = before.after(&attempt);
        job.history = record.attempts.clone();
        if !sent.outcome.is_success()
            && let Ok(delay) = RetrySchedule::test_delivery().next_delay(
                job.attempts,
                sent.outcome.status(),
                sent.retry_after,
                Duration::ZERO,
            )
            && self.queue_retry(&job, delay).await
        {
            record.status = DeliveryStatus::Retrying;
            record.next_retry_at = self.clock.now().checked_add(delay);
        }
        log_delivery(&self.store, &record, self.log_retention).await;
        TestDelivery {
            event_id: job.event_id,
            event_type: job.event_type,
            outcome: sent.outcome,
            error: sent.error,
        }
    }

    /// Whether the retry was queued. Without it the test simply ends failed: the caller has its
    /// answer either way.
    async fn queue_retry(&self, job: &DeliveryJob, delay: Duration) -> bool {
        let retry = Delayed {
            job: job.clone(),
            delay,
        };
        match self.queue.enqueue(vec![retry]).await {
            Ok(()) => true,
            Err(error) => {
                tracing::error!(%error, event_id = %job.event_id, "could not queue the test delivery's retry");
                false
            }
        }
    }
}
