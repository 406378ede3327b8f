//! Test deliveries: one signed sample event to one endpoint, now, whatever its status, with no
//! retry and no effect on its status or failure streak; recorded in the delivery log.

use std::sync::Arc;
use std::time::Duration;

use webhook_domain::{
    Attempt, Clock, Endpoint, EventType, LogRetention, SigningSecret, SystemClock, TestDelivery,
};
use webhook_store::{DeliveryLogStore, DynamoStore, StoreError};

use crate::event::DeliveryJob;
use crate::lambda::log_retention_from_env;
use crate::pipeline::{Pipeline, Target, log_delivery, send_signed, timeout_for};
use crate::samples;
use crate::sender::Sender;

/// The caller waits for the answer, and API Gateway gives up on an integration after 30 s:
/// a test waits at most this long for the receiver (blocking types keep their 2 s).
pub const MAX_TEST_WAIT: Duration = Duration::from_secs(10);

pub struct TestDeliveries<S> {
    pub store: S,
    pub sender: Sender,
    pub clock: Arc<dyn Clock>,
    pub log_retention: LogRetention,
}

impl TestDeliveries<DynamoStore> {
    /// The test route's sender: production rules (no private addresses), the table from
    /// `TABLE_NAME`, the log retention from `DELIVERY_LOG_RETENTION`.
    pub fn from_env(store: DynamoStore) -> Result<Self, lambda_runtime::Error> {
        Ok(Self {
            store,
            sender: Sender::new(false)?,
            clock: Arc::new(SystemClock),
            log_retention: log_retention_from_env()?,
        })
    }
}

impl<S: Clone, Q> From<&Pipeline<S, Q>> for TestDeliveries<S> {
    fn from(pipeline: &Pipeline<S, Q>) -> Self {
        Self {
            store: pipeline.store.clone(),
            sender: pipeline.sender.clone(),
            clock: pipeline.clock.clone(),
            log_retention: pipeline.log_retention,
        }
    }
}

impl<S: DeliveryLogStore> TestDeliveries<S> {
    /// Sends a sample `event_type` event to the endpoint (as the caller just read it) and logs
    /// the outcome. The endpoint's stats are not touched: a test says nothing about real traffic.
    pub async fn send(
        &self,
        endpoint: Endpoint,
        secret: SigningSecret,
        event_type: EventType,
    ) -> Result<TestDelivery, StoreError> {
        let now = self.clock.now();
        let job = DeliveryJob {
            event_id: uuid::Uuid::new_v4(),
            org_id: endpoint.org_id,
            endpoint_id: Some(endpoint.id),
            agent_id: endpoint.agent_id,
            event_type,
            data: samples::data(event_type, endpoint.agent_id, now),
            occurred_at: Some(now),
            attempts: 0,
            first_attempt_at: Some(now),
            not_before: None,
        };
        let target = Target::endpoint(endpoint, secret, event_type);
        let timeout = timeout_for(event_type).min(MAX_TEST_WAIT);
        let sent = send_signed(&self.sender, &target, &job, now, timeout).await;
        let attempt = Attempt {
            at: now,
            outcome: sent.outcome,
            duration: sent.duration,
        };
        let record = webhook_domain::DeliveryRecord {
            test: true,
            ..target.record(&job, now, now).after(&attempt)
        };
        log_delivery(&self.store, &record, self.log_retention).await;
        Ok(TestDelivery {
            event_id: job.event_id,
            event_type,
            outcome: sent.outcome,
            error: sent.error,
        })
    }
}
