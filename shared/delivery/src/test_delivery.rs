//! Test deliveries: one signed sample event to one endpoint, now, whatever its status, with no
//! effect on its status or stats; recorded in the delivery log. A failed one gets one retry a
//! minute later, through the delivery queue like any retry.

use std::sync::Arc;
use std::time::Duration;

use webhook_domain::settings;
use webhook_domain::{
    AttemptOutcome, Endpoint, EventName, FailureCategory, SigningKeys, SystemClock, TestDelivery,
};
use webhook_store::{DynamoStore, Store};

use crate::attempt::{Plan, Target, timeout_for};
use crate::event::{DeliveryJob, PlatformEvent};
use crate::metrics::AttemptMetrics;
use crate::pipeline::Pipeline;
use crate::queue::JobQueue;
use crate::samples;
use crate::schedule::RetrySchedule;
use crate::sender::Sender;
use crate::sqs::SqsQueue;

/// The caller waits for the answer, and API Gateway gives up on an integration after 30 s:
/// a test waits at most this long for the receiver (blocking types keep their 2 s).
pub const MAX_TEST_WAIT: Duration = Duration::from_secs(10);

impl Pipeline<DynamoStore, SqsQueue> {
    /// The test route's pipeline: production rules (no private addresses), the retry's queue
    /// from `DELIVERY_QUEUE_URL`, the log retention from `DELIVERY_LOG_RETENTION`. A test counts
    /// in no stats, so it reports no metric and posts no notice.
    pub async fn for_tests_from_env(store: DynamoStore) -> Result<Self, lambda_runtime::Error> {
        Ok(Self {
            store,
            queue: SqsQueue::delivery_from_env().await?,
            sender: Sender::new(false)?,
            clock: Arc::new(SystemClock),
            schedule: RetrySchedule::default(),
            log_retention: settings::DELIVERY_LOG_RETENTION.read()?,
            metrics: AttemptMetrics::Off,
            notices: webhook_notices::NoticeBoard::Log,
            // A test is never a resend.
            resent_in_flight: webhook_domain::PerMinute::RESENT_IN_FLIGHT,
        })
    }
}

impl<S: Store, Q: JobQueue> Pipeline<S, Q> {
    /// Sends a sample `event` to the endpoint (as the caller just read it), queues the retry if
    /// it failed, and logs the outcome. The answer is this first attempt's.
    pub async fn send_test(
        &self,
        endpoint: Endpoint,
        keys: SigningKeys,
        event: EventName,
    ) -> TestDelivery {
        let now = self.clock.now();
        let event = PlatformEvent {
            id: webhook_domain::EventId::generate(),
            org_id: endpoint.org_id,
            agent_id: endpoint.agent_id,
            data: samples::data(&event, endpoint.agent_id, now),
            event_type: event,
            occurred_at: now,
            traceparent: None,
        };
        let mut job = DeliveryJob {
            first_attempt_at: Some(now),
            test: true,
            ..DeliveryJob::first(event, endpoint.id.into())
        };
        let target = Target::endpoint(endpoint, keys, &job.event_type);
        let plan = Plan {
            timeout: timeout_for(&job.event_type).min(MAX_TEST_WAIT),
            claim: false,
            keep_event: true,
            schedule: self.schedule_for(&job),
            waited_for_turn: false,
        };
        let mut first = None;
        let made = self
            .attempt(&mut job, &target, plan, |sent| {
                first = Some((sent.outcome, sent.error.clone()));
            })
            .await;
        // The caller has its answer either way: without the retry, the test simply ends failed.
        if let Err(error) = made {
            tracing::error!(%error, event_id = %job.event_id, "the test delivery could not be made, recorded or retried");
        }
        // Stopped before it was sent (an AWS destination's external id could not be read,
        // logged above): answered as a failure the caller may try again.
        let (outcome, error) = first.unwrap_or((
            AttemptOutcome::Failed {
                status: None,
                category: FailureCategory::Other,
            },
            None,
        ));
        TestDelivery {
            event_id: job.event_id,
            event_type: job.event_type,
            outcome,
            error,
        }
    }
}
