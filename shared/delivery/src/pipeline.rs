//! Fan-out (an event to the jobs of every matching endpoint) and delivery (one attempt of one
//! job, and what comes after it).

use std::sync::Arc;
use std::time::Duration;

use webhook_domain::{
    Attempt, AttemptClaim, Clock, DeliveryRecord, DeliveryStatus, Endpoint, EndpointId,
    EndpointNotice, EndpointStatus, EndpointUrl, EventName, LogRetention, SentBody, SigningKeys,
    Timestamp,
};
use webhook_notices::NoticeBoard;
use webhook_store::{DeliveryLogStore, Recorded, Store, StoreError};

use crate::event::{DeliveryJob, PlatformEvent};
use crate::payload;
use crate::queue::{Delayed, JobQueue, QueueError};
use crate::schedule::{RetrySchedule, Stop};
use crate::sender::{Sender, Sent};
use crate::signature;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// How long a receiver has to answer: blocking events configure a live call.
pub fn timeout_for(event_type: &EventName) -> Duration {
    if event_type.is_blocking() {
        Duration::from_secs(2)
    } else {
        Duration::from_secs(30)
    }
}

/// How long a claim outlives its attempt's timeout: the worker's own overhead. The delivery
/// function's timeout (45 s) is shorter than the longest claim, and the delivery queue's
/// visibility timeout far longer, so a redelivered job finds the claim of a dead run lapsed.
const CLAIM_MARGIN: Duration = Duration::from_secs(30);

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

/// Where a job goes now, if anywhere. Short-lived: one per job, so its size does not matter.
#[expect(clippy::large_enum_variant, reason = "one short-lived value per job")]
pub(crate) enum Destination {
    Send(Target),
    Gone(Abandoned),
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

/// Where one attempt goes and how it is signed.
pub(crate) struct Target {
    url: EndpointUrl,
    keys: SigningKeys,
    event_name: String,
    /// The endpoint as just read; `None` for the legacy URL, which keeps no stats.
    pub(crate) endpoint: Option<Endpoint>,
}

impl Target {
    pub(crate) fn endpoint(endpoint: Endpoint, keys: SigningKeys, event: &EventName) -> Self {
        Self {
            url: endpoint.url.clone(),
            keys,
            event_name: event.as_str().to_owned(),
            endpoint: Some(endpoint),
        }
    }

    /// The bytes the job sends to this target (and signs).
    pub(crate) fn body(&self, job: &DeliveryJob) -> Vec<u8> {
        payload::body(&self.event_name, &job.data)
    }

    /// The log record of the job at this target before the attempt made `at` with `body`: the
    /// attempts made so far, nothing yet of this one.
    pub(crate) fn record(
        &self,
        job: &DeliveryJob,
        occurred_at: Timestamp,
        at: Timestamp,
        body: &[u8],
    ) -> DeliveryRecord {
        DeliveryRecord {
            org_id: job.org_id,
            event_id: job.event_id,
            endpoint_id: job.endpoint_id,
            endpoint_label: self
                .endpoint
                .as_ref()
                .map(|e| e.label.as_str().to_owned())
                .unwrap_or_default(),
            url: self.url.as_str().to_owned(),
            event_type: job.event_type.clone(),
            agent_id: job.agent_id,
            call_id: job.call_id(),
            occurred_at,
            status: DeliveryStatus::Retrying,
            attempt_count: job.attempts,
            http_status: None,
            failure_category: None,
            last_attempt_at: at,
            next_retry_at: None,
            test: job.test,
            claim: None,
            attempts: job.history.clone(),
            body: SentBody::keep(body),
        }
    }
}

/// Writes the record to the delivery log, to be kept for `retention` after its last attempt.
/// The log is for people, not for delivery: a failed write is logged and delivery goes on,
/// rather than failing the job and sending the webhook again.
pub(crate) async fn log_delivery(
    store: &impl DeliveryLogStore,
    record: &DeliveryRecord,
    retention: LogRetention,
) {
    let expires_at = record
        .last_attempt_at
        .checked_add(retention.get())
        .unwrap_or(record.last_attempt_at);
    if let Err(error) = store.record_delivery(record, expires_at).await {
        tracing::error!(%error, event_id = %record.event_id, endpoint_id = ?record.endpoint_id, "could not write the delivery log record");
    }
}

/// Signs `body` (the target's body for the job) and sends it, waiting at most `timeout` for
/// the answer.
pub(crate) async fn send_signed(
    sender: &Sender,
    target: &Target,
    job: &DeliveryJob,
    body: Vec<u8>,
    now: Timestamp,
    timeout: Duration,
) -> Sent {
    let headers = signature::headers(
        &target.keys,
        now,
        &job.message_id(),
        &target.url.path_and_query(),
        &body,
    );
    sender
        .send(target.url.as_str(), body, &headers, timeout)
        .await
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
}

impl<S, Q> Pipeline<S, Q>
where
    S: Store,
    Q: JobQueue,
{
    /// Queues one job per endpoint of the event's organization that receives it, and one for
    /// the legacy URL if set: one Query, then the queue's batches.
    pub async fn fan_out(&self, event: &PlatformEvent) -> Result<usize, PipelineError> {
        let targets = self.store.delivery_targets(event.org_id).await?;
        let mut jobs: Vec<Delayed> = targets
            .endpoints
            .iter()
            .filter(|endpoint| endpoint.receives(&event.event_type, event.agent_id))
            .map(|endpoint| Delayed {
                job: DeliveryJob::first(event, Some(endpoint.id)),
                delay: Duration::ZERO,
            })
            .collect();
        // The legacy URL, when set, gets every event type.
        if targets.legacy_url_set {
            jobs.push(Delayed {
                job: DeliveryJob::first(event, None),
                delay: Duration::ZERO,
            });
        }
        let count = jobs.len();
        if count > 0 {
            self.queue.enqueue(jobs).await?;
        }
        Ok(count)
    }

    /// Makes one attempt of the job, records it (stats and log), and queues the next one if
    /// there is to be one.
    pub async fn deliver(&self, mut job: DeliveryJob) -> Result<Delivery, PipelineError> {
        let now = self.clock.now();
        if let Some(wait) = job.not_before.and_then(|at| millis_between(now, at)) {
            return self
                .requeue(job, wait, now)
                .await
                .map(|()| Delivery::Deferred(wait));
        }
        let target = match self.destination(&job).await? {
            Destination::Send(target) => target,
            Destination::Gone(reason) => {
                if job.attempts > 0
                    && let Some(record) = job.record_ref()
                    && let Err(error) = self.store.end_delivery(&record, job.attempts).await
                {
                    tracing::error!(%error, event_id = %job.event_id, "could not end the delivery log record");
                }
                return Ok(Delivery::Abandoned(reason));
            }
        };
        let first_attempt_at = *job.first_attempt_at.get_or_insert(now);
        let occurred_at = *job.occurred_at.get_or_insert(first_attempt_at);
        let timeout = timeout_for(&job.event_type);
        let body = target.body(&job);
        let before = target.record(&job, occurred_at, now, &body);
        if !self.claim(&before, timeout, now).await? {
            tracing::info!(event_id = %job.event_id, endpoint_id = ?job.endpoint_id, attempt = job.attempts + 1, "attempt already made or being made: duplicate job dropped");
            return Ok(Delivery::Duplicate);
        }
        let sent = send_signed(&self.sender, &target, &job, body, now, timeout).await;
        job.attempts += 1;
        let attempt = Attempt {
            at: now,
            outcome: sent.outcome,
            duration: sent.duration,
        };
        self.metrics.report(&attempt);
        let delivery = self.next_step(&job, &target, &sent, &attempt).await?;
        // From now, when the retry is queued, not from when the attempt began.
        let next_retry_at = match delivery {
            Delivery::Retrying(delay) => self.clock.now().checked_add(delay),
            _ => None,
        };
        // A 2xx is delivered even if the endpoint was deleted while it was on its way.
        let after = before.after(&attempt);
        let record = DeliveryRecord {
            status: match delivery {
                Delivery::Retrying(_) => DeliveryStatus::Retrying,
                _ => after.status,
            },
            next_retry_at,
            ..after
        };
        log_delivery(&self.store, &record, self.log_retention).await;
        if let Delivery::Retrying(delay) = delivery {
            job.history = record.attempts;
            self.requeue(job, delay, now).await?;
        }
        Ok(delivery)
    }

    /// Claims the attempt `before` is the record before: `false` if another run made it or is
    /// making it. The claim outlives the attempt's timeout, so a running attempt is never
    /// taken over; a crashed one is, once its claim lapses.
    async fn claim(
        &self,
        before: &DeliveryRecord,
        timeout: Duration,
        now: Timestamp,
    ) -> Result<bool, PipelineError> {
        let claim = AttemptClaim {
            attempt: before.attempt_count + 1,
            until: now.checked_add(timeout + CLAIM_MARGIN).unwrap_or(now),
        };
        let expires_at = now.checked_add(self.log_retention.get()).unwrap_or(now);
        Ok(self
            .store
            .claim_attempt(before, claim, now, expires_at)
            .await?)
    }

    /// Counts the attempt in the endpoint's stats, and announces a revival.
    pub(crate) async fn count_attempt(
        &self,
        endpoint: &Endpoint,
        attempt: &Attempt,
    ) -> Result<Recorded, StoreError> {
        let recorded = self.store.record_attempt(endpoint, attempt).await?;
        if let Recorded::Revived { failing_since } = recorded {
            let notice = EndpointNotice::recovered(endpoint, failing_since, attempt.at);
            self.notices.post(notice).await;
        }
        Ok(recorded)
    }

    /// Records the attempt in the endpoint's stats and decides what comes after it.
    async fn next_step(
        &self,
        job: &DeliveryJob,
        target: &Target,
        sent: &Sent,
        attempt: &Attempt,
    ) -> Result<Delivery, PipelineError> {
        // A test says nothing about real traffic: it counts in no stats and follows its own
        // schedule, whatever the endpoint's status.
        let counted = target.endpoint.as_ref().filter(|_| !job.test);
        if let Some(endpoint) = counted
            && self.count_attempt(endpoint, attempt).await? == Recorded::EndpointGone
        {
            return Ok(Delivery::Abandoned(Abandoned::EndpointDeleted));
        }
        if sent.outcome.is_success() {
            return Ok(Delivery::Delivered);
        }
        tracing::info!(
            event_id = %job.event_id,
            endpoint_id = ?job.endpoint_id,
            attempt = job.attempts,
            error = sent.error.as_deref().unwrap_or("failed"),
            "delivery attempt failed"
        );
        if let Some(endpoint) = counted
            && endpoint.status == EndpointStatus::Failing
        {
            self.store.record_give_up(endpoint, attempt.at).await?;
            return Ok(Delivery::GaveUp(GiveUp::FailingEndpoint));
        }
        let first = job.first_attempt_at.unwrap_or(attempt.at);
        let elapsed = millis_between(first, attempt.at).unwrap_or_default();
        let schedule = if job.test {
            RetrySchedule::test_delivery()
        } else {
            &self.schedule
        };
        match schedule.next_delay(
            job.attempts_in_chain(),
            sent.outcome.status(),
            sent.retry_after,
            elapsed,
        ) {
            Ok(delay) => Ok(Delivery::Retrying(delay)),
            Err(stop) => {
                tracing::warn!(event_id = %job.event_id, endpoint_id = ?job.endpoint_id, ?stop, "delivery given up");
                if let Some(endpoint) = counted {
                    self.store.record_give_up(endpoint, attempt.at).await?;
                }
                Ok(Delivery::GaveUp(match stop {
                    Stop::Gone => GiveUp::Gone,
                    Stop::Exhausted => GiveUp::Exhausted,
                }))
            }
        }
    }

    /// Where the job goes now: its endpoint as just read, or the legacy URL.
    pub(crate) async fn destination(
        &self,
        job: &DeliveryJob,
    ) -> Result<Destination, PipelineError> {
        match job.endpoint_id {
            Some(id) => self.endpoint_destination(job, id).await,
            None => Ok(match self.store.legacy_webhook(job.org_id).await? {
                Some(legacy) => Destination::Send(Target {
                    url: legacy.url,
                    keys: legacy.keys,
                    // The legacy URL keeps the names its receivers were written for.
                    event_name: job.event_type.legacy_name().to_owned(),
                    endpoint: None,
                }),
                None => Destination::Gone(Abandoned::LegacyUrlRemoved),
            }),
        }
    }

    /// Re-reads the endpoint: a deleted, paused or unsubscribed one gets nothing more.
    async fn endpoint_destination(
        &self,
        job: &DeliveryJob,
        id: EndpointId,
    ) -> Result<Destination, PipelineError> {
        let Some((endpoint, keys)) = self.store.signing_target(job.org_id, id).await? else {
            return Ok(Destination::Gone(Abandoned::EndpointDeleted));
        };
        // A test goes to the endpoint it was asked for, whatever its status and subscription.
        Ok(if job.test {
            Destination::Send(Target::endpoint(endpoint, keys, &job.event_type))
        } else if endpoint.status == EndpointStatus::Disabled {
            Destination::Gone(Abandoned::EndpointDisabled)
        } else if !endpoint.receives(&job.event_type, job.agent_id) {
            Destination::Gone(Abandoned::NoLongerSubscribed)
        } else {
            Destination::Send(Target::endpoint(endpoint, keys, &job.event_type))
        })
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
