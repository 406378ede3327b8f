//! The two SQS-triggered Lambdas: fan-out (platform events in, delivery jobs out) and delivery
//! (one attempt per job). Both handle a batch's messages concurrently and report partial
//! batch failures: only the messages that hit a
//! passing problem (storage, queue) come back; a malformed message goes to the dead-letter
//! queue with its reason and never blocks the others.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;
use webhook_aws::LazyClient;
use webhook_domain::SystemClock;
use webhook_domain::settings;
use webhook_store::DynamoStore;

use crate::dispatch::{self, Dispatched};
use crate::event::{DeliveryJob, PlatformEvent};
use crate::pipeline::{Pipeline, PipelineError};
use crate::queue::NoQueue;
use crate::schedule::RetrySchedule;
use crate::sender::Sender;
use crate::sqs::{DeadLetters, SqsQueue};

/// What both functions hold from cold start on.
pub struct Worker<S> {
    pub pipeline: Pipeline<S, SqsQueue>,
    pub dead_letters: DeadLetters,
}

impl Worker<DynamoStore> {
    /// `TABLE_NAME`, `DELIVERY_QUEUE_URL`, `DEAD_LETTER_QUEUE_URL`, `NOTICE_BUS`, optional
    /// `RETRY_SCHEDULE` (e.g. `5s,1m,5m`), `DELIVERY_LOG_RETENTION` and
    /// `RESENDS_IN_FLIGHT_PER_ORG`, and the AWS SDK's own environment.
    pub async fn from_env() -> Result<Self, lambda_runtime::Error> {
        let config = webhook_aws::load_sdk_config().await?;
        let sqs = LazyClient::new(&config, aws_sdk_sqs::Client::new);
        let schedule = match settings::RETRY_SCHEDULE.raw() {
            Some(raw) if !raw.trim().is_empty() => settings::RETRY_SCHEDULE.read()?,
            _ => RetrySchedule::default(),
        };
        Ok(Self {
            pipeline: Pipeline {
                store: DynamoStore::from_config(&config)?,
                queue: SqsQueue::new(sqs.clone(), settings::DELIVERY_QUEUE_URL.read::<String>()?),
                sender: Sender::new(false)?,
                clock: Arc::new(SystemClock),
                schedule,
                log_retention: settings::DELIVERY_LOG_RETENTION.read()?,
                metrics: crate::metrics::AttemptMetrics::EmbeddedMetricFormat,
                notices: webhook_notices::NoticeBoard::from_env(&config)?,
                resent_in_flight: settings::RESENDS_IN_FLIGHT_PER_ORG
                    .read_with(webhook_domain::PerMinute::parse)?,
            },
            dead_letters: DeadLetters::new(sqs, settings::DEAD_LETTER_QUEUE_URL.read::<String>()?),
        })
    }
}

impl<S: webhook_store::Store> Worker<S> {
    /// Fan-out: each message is one platform event.
    pub async fn fan_out(
        &self,
        event: LambdaEvent<SqsEvent>,
    ) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        self.each_message(event, |body| async move {
            let event = PlatformEvent::parse(&body).map_err(Failure::Malformed)?;
            let queued = self.pipeline.fan_out(&event).await?;
            tracing::info!(event_id = %event.id, org_id = %event.org_id, queued, "fanned out");
            Ok(())
        })
        .await
    }

    /// Delivery: each message is one job.
    pub async fn deliver(
        &self,
        event: LambdaEvent<SqsEvent>,
    ) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        self.each_message(event, |body| async move {
            let job: DeliveryJob = serde_json::from_str(&body)
                .map_err(|e| Failure::Malformed(format!("malformed job: {e}")))?;
            let (event_id, destination) = (job.event_id, job.destination);
            let delivery = self.pipeline.deliver(job).await?;
            tracing::info!(%event_id, %destination, ?delivery, "delivery");
            Ok(())
        })
        .await
    }

    async fn each_message<'a, F, Fut>(
        &'a self,
        event: LambdaEvent<SqsEvent>,
        handle: F,
    ) -> Result<SqsBatchResponse, lambda_runtime::Error>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<(), Failure>> + 'a,
    {
        // The messages of a batch are handled concurrently: one slow receiver does not hold up
        // the others.
        let handle = &handle;
        let handled =
            futures::future::join_all(event.payload.records.into_iter().map(|record| async move {
                let id = record.message_id.unwrap_or_default();
                let body = record.body.unwrap_or_default();
                let result = handle(body.clone()).await;
                (id, body, result)
            }))
            .await;
        let mut response = SqsBatchResponse::default();
        for (id, body, result) in handled {
            match result {
                Ok(()) => {}
                Err(Failure::Malformed(reason)) => {
                    tracing::warn!(message_id = %id, %reason, "to the dead-letter queue");
                    if let Err(error) = self.dead_letters.send(&body, &reason).await {
                        tracing::error!(message_id = %id, %error, "could not dead-letter; will retry");
                        response.add_failure(id);
                    }
                }
                Err(Failure::Passing(error)) => {
                    tracing::error!(message_id = %id, %error, "will retry");
                    response.add_failure(id);
                }
            }
        }
        Ok(response)
    }
}

enum Failure {
    /// No retry can fix it.
    Malformed(String),
    /// Storage or queue trouble: retry the message.
    Passing(PipelineError),
}

impl From<PipelineError> for Failure {
    fn from(error: PipelineError) -> Self {
        Self::Passing(error)
    }
}

/// The `dispatch-blocking` Lambda, invoked by the platform (RequestResponse) with an event
/// envelope; it answers with the receivers' answer (see `dispatch`).
pub struct BlockingDispatch<S> {
    pub pipeline: Arc<Pipeline<S, NoQueue>>,
}

impl BlockingDispatch<DynamoStore> {
    /// `TABLE_NAME`, `NOTICE_BUS`, optional `DELIVERY_LOG_RETENTION`, and the AWS SDK's own
    /// environment.
    pub async fn from_env() -> Result<Self, lambda_runtime::Error> {
        let config = webhook_aws::load_sdk_config().await?;
        Ok(Self {
            pipeline: Arc::new(Pipeline {
                store: DynamoStore::from_config(&config)?,
                queue: NoQueue,
                sender: Sender::new(false)?,
                clock: Arc::new(SystemClock),
                schedule: RetrySchedule::default(),
                log_retention: settings::DELIVERY_LOG_RETENTION.read()?,
                metrics: crate::metrics::AttemptMetrics::EmbeddedMetricFormat,
                notices: webhook_notices::NoticeBoard::from_env(&config)?,
                // A blocking dispatch is never a resend.
                resent_in_flight: webhook_domain::PerMinute::RESENT_IN_FLIGHT,
            }),
        })
    }
}

impl<S: webhook_store::Store> BlockingDispatch<S> {
    /// One invocation. Every problem is an answer with an `error` and no `answer`, never an
    /// exception: the platform then falls back to the call's static agent, as on a timeout.
    pub async fn handle(
        &self,
        event: LambdaEvent<serde_json::Value>,
    ) -> Result<Dispatched, lambda_runtime::Error> {
        // The budget, or what the function's own timeout leaves of it.
        let deadline = UNIX_EPOCH + Duration::from_millis(event.context.deadline);
        let left = deadline
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            .saturating_sub(DEADLINE_MARGIN);
        let budget = dispatch::BUDGET.min(left);
        let parsed = serde_json::to_string(&event.payload)
            .map_err(|e| format!("malformed event: {e}"))
            .and_then(|body| PlatformEvent::parse(&body));
        let event = match parsed {
            Ok(event) => event,
            Err(reason) => return Ok(Dispatched::refused(reason)),
        };
        match self.pipeline.dispatch_within(&event, budget).await {
            Ok(dispatched) => {
                tracing::info!(event_id = %event.id, answered_by = ?dispatched.answered_by, attempts = dispatched.attempts.len(), "dispatched");
                Ok(dispatched)
            }
            Err(error) => {
                tracing::error!(%error, event_id = %event.id, "could not dispatch a blocking event");
                Ok(Dispatched::refused(
                    "the destinations could not be read; try the static agent".to_owned(),
                ))
            }
        }
    }
}

/// Kept free before the function's own timeout, for the answer to go back.
const DEADLINE_MARGIN: Duration = Duration::from_millis(200);
