//! Resending a logged delivery: a new chain of attempts of the same message, rebuilt from the
//! body the record kept. Same event id, so the same `webhook-id` for receivers to deduplicate
//! on; attempt numbers go on from the record's, so the attempt claim sends each once however
//! often the resend is asked for; the schedule starts over.

use std::time::Duration;

use serde_json::{Map, Value};
use webhook_domain::{DeliveryRecord, ResentAttempts};

use crate::event::{DeliveryJob, PlatformEvent};
use crate::queue::{Delayed, JobQueue};

/// How long a resent job waits before its attempt.
pub const OPEN_FIRST: Duration = Duration::from_secs(1);

/// Queues on `queue` (the delivery queue) the first attempt of a new chain for each delivery
/// `records` log, in as few requests as the queue allows, each chain with `attempts`. The caller
/// opens the records right after: the jobs wait [`OPEN_FIRST`] so that the opening lands before
/// the attempt.
pub async fn resend(
    queue: &impl JobQueue,
    records: Vec<DeliveryRecord>,
    attempts: ResentAttempts,
) -> Result<(), String> {
    let jobs = records
        .into_iter()
        .map(|record| {
            // The record keeps no body (it was written before bodies were kept), or a damaged one.
            let job = job_from(record, attempts).ok_or("the delivery keeps no body to resend")?;
            Ok(Delayed {
                job,
                delay: OPEN_FIRST,
            })
        })
        .collect::<Result<Vec<_>, &str>>()?;
    if !jobs.is_empty() {
        queue.enqueue(jobs).await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The job that sends `record`'s message again, with `attempts`: its data from the body it kept.
fn job_from(record: DeliveryRecord, attempts: ResentAttempts) -> Option<DeliveryJob> {
    let data = record
        .body
        .as_ref()
        .and_then(|body| body.bytes().ok())
        .and_then(|body| serde_json::from_slice::<Map<String, Value>>(&body).ok())
        .and_then(|mut sent| serde_json::from_value(sent.remove("data")?).ok())?;
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
    Some(DeliveryJob {
        attempts: record.attempt_count,
        chain_starts_after: record.attempt_count,
        test: record.test,
        resent: true,
        history: record.attempts,
        one_attempt: attempts == ResentAttempts::One,
        ..DeliveryJob::first(event, record.destination)
    })
}
