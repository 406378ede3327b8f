//! The queues on AWS: delivery jobs on SQS (batches of ten, delays of up to 15 minutes) and the
//! dead-letter queue that takes messages no retry can fix.

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};

use crate::queue::{Delayed, JobQueue, QueueError};

/// SQS's limits: ten messages per batch, fifteen minutes of delay.
const BATCH: usize = 10;
const MAX_DELAY: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }
}

impl JobQueue for SqsQueue {
    fn max_delay(&self) -> Duration {
        MAX_DELAY
    }

    async fn enqueue(&self, jobs: Vec<Delayed>) -> Result<(), QueueError> {
        for chunk in jobs.chunks(BATCH) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, Delayed { job, delay })| {
                    let body = serde_json::to_string(job).map_err(|e| QueueError(e.to_string()))?;
                    // Whole seconds, rounded up: a retry is never early.
                    let seconds = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(body)
                        .delay_seconds(seconds.min(MAX_DELAY.as_secs()) as i32)
                        .build()
                        .map_err(|e| QueueError(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let output = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| QueueError(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
            if let Some(failed) = output.failed.first() {
                return Err(QueueError(format!(
                    "{} of {} messages refused, e.g. {}",
                    output.failed.len(),
                    chunk.len(),
                    failed.message.as_deref().unwrap_or(&failed.code)
                )));
            }
        }
        Ok(())
    }
}

/// Where messages go that can never be processed, with the reason attached.
#[derive(Debug, Clone)]
pub struct DeadLetters {
    client: Client,
    url: String,
}

impl DeadLetters {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    pub async fn send(&self, body: &str, reason: &str) -> Result<(), QueueError> {
        let reason = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(reason)
            .build()
            .map_err(|e| QueueError(e.to_string()))?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .message_attributes("reason", reason)
            .send()
            .await
            .map_err(|e| QueueError(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}
