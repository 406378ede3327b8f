//! The queues on AWS: delivery jobs on SQS (batches of ten, delays of up to 15 minutes, grouped
//! by organization for fairness) and the dead-letter queue that takes messages no retry can fix.

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use webhook_aws::LazyClient;
use webhook_domain::settings;

use crate::queue::{Delayed, JobQueue, QueueError};

/// SQS's limits: ten messages and 256 KiB per batch, fifteen minutes of delay.
const BATCH: usize = 10;
const MAX_BATCH_BYTES: usize = 256 * 1024;
const MAX_DELAY: Duration = Duration::from_secs(15 * 60);

/// The client is made at the first send: `deliver` sends only to retry, a test only when it
/// failed.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: LazyClient<Client>,
    url: String,
}

impl JobQueue for SqsQueue {
    fn max_delay(&self) -> Duration {
        MAX_DELAY
    }

    async fn enqueue(&self, jobs: Vec<Delayed>) -> Result<(), QueueError> {
        let mut batch: Vec<SendMessageBatchRequestEntry> = Vec::with_capacity(BATCH);
        let mut batch_bytes = 0;
        for Delayed { job, delay } in &jobs {
            let body = serde_json::to_string(job).map_err(|e| QueueError(e.to_string()))?;
            // A batch is capped in bytes as well as in messages: big payloads go fewer at a time.
            if !batch.is_empty()
                && (batch.len() == BATCH || batch_bytes + body.len() > MAX_BATCH_BYTES)
            {
                self.send(std::mem::take(&mut batch)).await?;
                batch_bytes = 0;
            }
            batch_bytes += body.len();
            // Whole seconds, rounded up: a retry is never early.
            let seconds = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
            let entry = SendMessageBatchRequestEntry::builder()
                .id(batch.len().to_string())
                .message_body(body)
                // On a standard queue, the group makes it a fair queue: SQS hands out the
                // messages of organizations with fewer in flight first, so one organization's
                // backlog does not hold back the others' deliveries.
                .message_group_id(job.org_id.to_string())
                .delay_seconds(seconds.min(MAX_DELAY.as_secs()) as i32)
                .build()
                .map_err(|e| QueueError(e.to_string()))?;
            batch.push(entry);
        }
        if !batch.is_empty() {
            self.send(batch).await?;
        }
        Ok(())
    }
}

impl SqsQueue {
    pub fn new(client: impl Into<LazyClient<Client>>, url: impl Into<String>) -> Self {
        Self {
            client: client.into(),
            url: url.into(),
        }
    }

    /// The delivery queue: `DELIVERY_QUEUE_URL` and the AWS SDK's own environment.
    pub async fn delivery_from_env() -> Result<Self, lambda_runtime::Error> {
        let config = webhook_aws::load_sdk_config().await?;
        let url = settings::DELIVERY_QUEUE_URL.read::<String>()?;
        Ok(Self::new(LazyClient::new(&config, Client::new), url))
    }

    async fn send(&self, entries: Vec<SendMessageBatchRequestEntry>) -> Result<(), QueueError> {
        let count = entries.len();
        let output = self
            .client
            .get()
            .send_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| QueueError(webhook_aws::describe(&e)))?;
        match output.failed.first() {
            None => Ok(()),
            Some(failed) => Err(QueueError(format!(
                "{} of {count} messages refused, e.g. {}",
                output.failed.len(),
                failed.message.as_deref().unwrap_or(&failed.code)
            ))),
        }
    }
}

/// Where messages go that can never be processed, with the reason attached.
#[derive(Debug, Clone)]
pub struct DeadLetters(SqsQueue);

impl DeadLetters {
    pub fn new(client: impl Into<LazyClient<Client>>, url: impl Into<String>) -> Self {
        Self(SqsQueue::new(client, url))
    }

    pub async fn send(&self, body: &str, reason: &str) -> Result<(), QueueError> {
        let reason = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(reason)
            .build()
            .map_err(|e| QueueError(e.to_string()))?;
        self.0
            .client
            .get()
            .send_message()
            .queue_url(&self.0.url)
            .message_body(body)
            .message_attributes("reason", reason)
            .send()
            .await
            .map_err(|e| QueueError(webhook_aws::describe(&e)))?;
        Ok(())
    }
}
