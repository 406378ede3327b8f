//! The delivery pipeline: what it holds from start-up on, and what becomes of a job. Fan-out
//! and delivery are in `jobs`, the attempt every path makes in `attempt`.

use std::sync::Arc;
use std::time::Duration;

use webhook_domain::{Clock, LogRetention, LoggedEvent, PerMinute, Timestamp};
use webhook_notices::NoticeBoard;
use webhook_store::{Store, StoreError};

use crate::event::DeliveryJob;

use crate::queue::QueueError;
use crate::schedule::RetrySchedule;
use crate::sender::Sender;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// What became of one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// Failed; the next attempt is queued after this delay.
    Retrying(Duration),
    /// Failed, and no further attempt will be made.
    GaveUp(GiveUp),
    /// Not attempted (or not counted): the destination changed in the meantime.
    Abandoned(Abandoned),
    /// Not due yet; passed along the queue.
    Deferred(Duration),
    /// A duplicate: this attempt was made, or is being made, by another run of the same job.
    Duplicate,
}

/// Why a job's destination no longer takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abandoned {
    EndpointDeleted,
    EndpointDisabled,
    /// The endpoint's events or agent scope no longer include this event.
    NoLongerSubscribed,
    LegacyUrlRemoved,
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
    /// How long delivery log records are kept after their last attempt.
    pub log_retention: LogRetention,
    /// Where each attempt is reported as a metric.
    pub metrics: crate::metrics::AttemptMetrics,
    /// Where a success that revives a failing endpoint is announced.
    pub notices: NoticeBoard,
    /// How many resent deliveries of one organization may be attempted at once
    /// (`RESENDS_IN_FLIGHT_PER_ORG`).
    pub resent_in_flight: PerMinute,
}

/// How much longer than the records it serves the log keeps an event: past the last attempt
/// its schedule allows, a margin for queue delays and waits for a place in flight. A job that
/// comes later than that (a queue backed up for days) keeps it again (`keep_event`).
const EVENT_OUTLIVES_SCHEDULE: Duration = Duration::from_secs(24 * 3600);

impl<S: Store, Q> Pipeline<S, Q> {
    /// Keeps what the log needs of the job's event for at least as long as the record this
    /// attempt writes, unless that is done already (`DeliveryJob::event_kept_until`): fan-out
    /// does it once per event; a test, a resend, a job queued before this layout, or one that
    /// outlived the event's expiry keeps it here, before the record's first write. The log is
    /// for people, not for delivery: if the write fails, the record keeps the body itself.
    pub(crate) async fn keep_event(&self, job: &mut DeliveryJob, occurred_at: Timestamp) {
        let record_expires_at = self.log_retention.expires_at(self.clock.now());
        if job
            .event_kept_until
            .is_none_or(|until| until <= record_expires_at)
        {
            job.event_kept_until = match self.keep(&job.logged_event(occurred_at)).await {
                Ok(until) => Some(until),
                Err(error) => {
                    tracing::warn!(%error, event_id = %job.event_id, "could not keep the event for the log: its record keeps the body");
                    None
                }
            };
        }
    }

    /// Keeps `event` for as long as any record of it from now on: the log's retention after
    /// the last attempt its schedule allows, and a margin. Answers when it expires.
    pub(crate) async fn keep(&self, event: &LoggedEvent) -> Result<Timestamp, StoreError> {
        let now = self.clock.now();
        let last_attempt = now
            .checked_add(self.schedule.span() + EVENT_OUTLIVES_SCHEDULE)
            .unwrap_or(now);
        let expires_at = self.log_retention.expires_at(last_attempt);
        self.store.keep_event(event, expires_at).await?;
        Ok(expires_at)
    }
}

/// How long from `from` until `to`, if `to` is later.
pub(crate) fn millis_between(from: Timestamp, to: Timestamp) -> Option<Duration> {
    let millis = to.unix_millis().checked_sub(from.unix_millis())?;
    (millis > 0).then(|| Duration::from_millis(millis as u64))
}
