//! One attempt, the one way every path makes it (queued delivery, blocking dispatch, the test
//! route): build the body, claim the attempt when a queue may deliver its job twice, sign, send,
//! count it in the endpoint's stats, decide what comes next, queue it, and log the record.

use std::time::Duration;

use webhook_domain::sent_body::with_attempt;
use webhook_domain::{
    Attempt, AttemptClaim, CustomHeaders, DeliveryRecord, DeliveryStatus, Destination, Endpoint,
    EndpointNotice, EndpointStatus, EndpointUrl, EventName, ExternalId, FailureCategory, Pace,
    PaceChange, SentBody, Signal, SigningKeys, Timestamp,
};
use webhook_store::{Recorded, Store};

use crate::aws_sender::AwsSend;
use crate::event::DeliveryJob;
use crate::payload;
use crate::pipeline::{Abandoned, Delivery, GiveUp, Pipeline, PipelineError, millis_between};
use crate::queue::{Delayed, JobQueue, QueueError};
use crate::schedule::{RetrySchedule, Stop};
use crate::sender::Sender;
use crate::sent::Sent;
use crate::signature;

/// How long a receiver has to answer: blocking events configure a live call.
pub fn timeout_for(event_type: &EventName) -> Duration {
    if event_type.is_blocking() {
        Duration::from_secs(2)
    } else {
        Duration::from_secs(30)
    }
}

/// How long a claim holds its attempt, whatever the attempt's own timeout: the longest attempt
/// and the worker's overhead. The delivery function's timeout (45 s) lies between the longest
/// attempt and the claim, so no claim lapses while the run that took it is alive, and the
/// delivery queue's visibility timeout lies beyond both, so a redelivered job finds the claim
/// of a dead run lapsed (`tests/template/test_settings_match_template.py` holds the template
/// to it).
pub const CLAIM_LEASE: Duration = Duration::from_secs(60);

/// How a path makes its attempt.
pub(crate) struct Plan<'a> {
    /// How long the receiver has.
    pub timeout: Duration,
    /// Whether the attempt is claimed on its record first: a queued job may arrive twice.
    pub claim: bool,
    /// Whether the attempt keeps its event for the log first (`Pipeline::keep_event`).
    /// Blocking dispatch kept it once for all its destinations and has no time for another
    /// write: where that failed, the records keep the body.
    pub keep_event: bool,
    /// What follows a failure.
    pub schedule: &'a RetrySchedule,
    /// Its endpoint's pace held it back first: a healthy answer then says the pace may grow.
    pub waited_for_turn: bool,
}

/// Where a job goes now, if anywhere. Short-lived: one per job, so its size does not matter.
#[expect(clippy::large_enum_variant, reason = "one short-lived value per job")]
pub(crate) enum Reach {
    Send(Target),
    Gone(Abandoned),
}

/// Where one attempt goes and how it is signed.
pub(crate) struct Target {
    url: EndpointUrl,
    /// The endpoint's custom headers; the legacy URL has none.
    headers: CustomHeaders,
    keys: SigningKeys,
    event_name: String,
    /// The endpoint as just read; `None` for the legacy URL, which keeps no stats.
    pub(crate) endpoint: Option<Endpoint>,
}

impl Target {
    pub(crate) fn endpoint(endpoint: Endpoint, keys: SigningKeys, event: &EventName) -> Self {
        Self {
            url: endpoint.url.clone(),
            headers: endpoint.headers.clone(),
            keys,
            event_name: event.as_str().to_owned(),
            endpoint: Some(endpoint),
        }
    }

    /// The legacy URL keeps the names its receivers were written for.
    pub(crate) fn legacy(url: EndpointUrl, keys: SigningKeys, event: &EventName) -> Self {
        Self {
            url,
            headers: CustomHeaders::default(),
            keys,
            event_name: event.legacy_name().to_owned(),
            endpoint: None,
        }
    }

    /// The log record of the job at this target before the attempt made `at` with `body`: the
    /// attempts made so far, nothing yet of this one.
    fn record(&self, job: &DeliveryJob, occurred_at: Timestamp, at: Timestamp) -> DeliveryRecord {
        DeliveryRecord {
            org_id: job.org_id,
            event_id: job.event_id,
            destination: job.destination,
            endpoint_label: self
                .endpoint
                .as_ref()
                .map(|e| e.label.as_str().to_owned())
                .unwrap_or_default(),
            url: self.url.redacted(),
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
            // An endpoint is sent the body its event's kept item holds; the legacy URL another.
            body: match job.destination {
                Destination::Endpoint(_) if job.event_kept_until.is_some() => None,
                _ => SentBody::keep(&payload::body(&self.event_name, &job.data)),
            },
        }
    }

    /// Signs `body` and sends it, waiting at most `timeout` for the answer. An AWS queue or
    /// bus is reached through the endpoint's role, assumed with `external_id`.
    async fn send(
        &self,
        sender: &Sender,
        job: &DeliveryJob,
        body: Vec<u8>,
        now: Timestamp,
        timeout: Duration,
        external_id: Option<&ExternalId>,
    ) -> Sent {
        let path = self.url.path_and_query();
        let mut headers =
            signature::headers(&self.keys, now, &job.message_id(), &path, &body).to_vec();
        headers.push(("traceparent", job.trace().traceparent()));
        let Some(destination) = self.url.aws() else {
            return sender
                .send(self.url.as_str(), body, &self.headers, &headers, timeout)
                .await;
        };
        let role = self.endpoint.as_ref().and_then(|e| e.role_arn.as_ref());
        let (Some(role), Some(external_id)) = (role, external_id) else {
            return Sent::failed(FailureCategory::AwsRole, "the endpoint has no role".into());
        };
        let send = AwsSend {
            destination,
            role,
            external_id,
            org: job.org_id,
            headers: &headers,
            group: job.destination.to_string(),
            event_type: &self.event_name,
        };
        sender.aws.send(send, body, timeout).await
    }
}

impl<S: Store, Q: JobQueue> Pipeline<S, Q> {
    /// Makes the job's next attempt at `target` as `plan` says, and records it: `None` when its
    /// claim was refused (another run made it or is making it). `sent` hears of the answer
    /// before anything is written, so a caller waiting for it never waits for storage.
    pub(crate) async fn attempt(
        &self,
        job: &mut DeliveryJob,
        target: &Target,
        plan: Plan<'_>,
        sent: impl FnOnce(&Sent),
    ) -> Result<Option<Delivery>, PipelineError> {
        let now = self.clock.now();
        let first_attempt_at = *job.first_attempt_at.get_or_insert(now);
        let occurred_at = *job.occurred_at.get_or_insert(first_attempt_at);
        if plan.keep_event {
            self.keep_event(job, occurred_at).await;
        }
        let external_id = self.external_id(job, target).await?;
        let before = target.record(job, occurred_at, now);
        if plan.claim && !self.claim(&before, now).await? {
            tracing::info!(event_id = %job.event_id, destination = %job.destination, attempt = job.attempts + 1, "attempt already made or being made: duplicate job dropped");
            return Ok(None);
        }
        let body = payload::body(&target.event_name, &job.data);
        let answer = target
            .send(
                &self.sender,
                job,
                body,
                now,
                plan.timeout,
                external_id.as_ref(),
            )
            .await;
        job.attempts += 1;
        let attempt = Attempt {
            at: now,
            outcome: answer.outcome,
            duration: answer.duration,
        };
        // A test says nothing about real traffic: no metric, no stats, no pace. Only queued
        // deliveries are paced, so only theirs move it: blocking dispatch's receivers have 2 s.
        if !job.test {
            self.metrics.report(&attempt);
            if let Some(endpoint) = target.endpoint.as_ref().filter(|_| plan.claim) {
                self.keep_pace(endpoint, &answer, plan.waited_for_turn)
                    .await;
            }
        }
        sent(&answer);
        let next = self
            .next_step(job, target, &answer, &attempt, plan.schedule)
            .await;
        let next = match next {
            Ok(Delivery::Retrying(delay)) => {
                job.history = with_attempt(std::mem::take(&mut job.history), &attempt);
                // From now, when the retry is queued, not from when the attempt began.
                self.requeue(job.clone(), delay, now)
                    .await
                    .map(|()| {
                        (
                            Delivery::Retrying(delay),
                            self.clock.now().checked_add(delay),
                        )
                    })
                    .map_err(PipelineError::from)
            }
            next => next.map(|delivery| (delivery, None)),
        };
        match next {
            Ok((delivery, next_retry_at)) => {
                self.log_delivery(&before.after(&attempt, next_retry_at))
                    .await;
                Ok(Some(delivery))
            }
            // What follows the attempt could not be counted or queued: a claimed attempt is
            // made again once its claim lapses (its job comes back from the queue), and logged
            // then; one that nothing will redo (blocking dispatch, a test) is logged now.
            Err(error) => {
                if !plan.claim {
                    self.log_delivery(&before.after(&attempt, None)).await;
                }
                Err(error)
            }
        }
    }

    /// The organization's external id when the target is an AWS queue or bus: read once, then
    /// kept by the sender, as it never changes.
    async fn external_id(
        &self,
        job: &DeliveryJob,
        target: &Target,
    ) -> Result<Option<ExternalId>, PipelineError> {
        if target.url.aws().is_none() {
            return Ok(None);
        }
        let read = self.store.external_id(job.org_id);
        Ok(Some(self.sender.aws.external_id(job.org_id, read).await?))
    }

    /// Where the job goes now: its endpoint as just read, or the legacy URL. A deleted, paused
    /// or unsubscribed endpoint gets nothing more.
    pub(crate) async fn reach(&self, job: &DeliveryJob) -> Result<Reach, PipelineError> {
        let id = match job.destination {
            Destination::Endpoint(id) => id,
            Destination::Legacy => {
                return Ok(match self.store.legacy_webhook(job.org_id).await? {
                    Some(legacy) => {
                        Reach::Send(Target::legacy(legacy.url, legacy.keys, &job.event_type))
                    }
                    None => Reach::Gone(Abandoned::LegacyUrlRemoved),
                });
            }
        };
        let Some((endpoint, keys)) = self.store.signing_target(job.org_id, id).await? else {
            return Ok(Reach::Gone(Abandoned::EndpointDeleted));
        };
        // A test goes to the endpoint it was asked for, whatever its status and subscription.
        Ok(if job.test {
            Reach::Send(Target::endpoint(endpoint, keys, &job.event_type))
        } else if endpoint.status == EndpointStatus::Disabled {
            Reach::Gone(Abandoned::EndpointDisabled)
        } else if !endpoint.receives(&job.event_type, job.agent_id) {
            Reach::Gone(Abandoned::NoLongerSubscribed)
        } else {
            Reach::Send(Target::endpoint(endpoint, keys, &job.event_type))
        })
    }

    /// Queues the job to come back after `wait`, in steps the queue can hold.
    pub(crate) async fn requeue(
        &self,
        mut job: DeliveryJob,
        wait: Duration,
        now: Timestamp,
    ) -> Result<(), QueueError> {
        let step = wait.min(self.queue.max_delay());
        job.not_before = (step < wait).then(|| now.checked_add(wait)).flatten();
        self.queue.enqueue(vec![Delayed { job, delay: step }]).await
    }

    /// The retries a queued job's failure gets: a test follows its own schedule (one retry a
    /// minute later), whatever the endpoint's.
    pub(crate) fn schedule_for(&self, job: &DeliveryJob) -> &RetrySchedule {
        if job.test {
            RetrySchedule::test_delivery()
        } else {
            &self.schedule
        }
    }

    /// Writes the record to the delivery log, to be kept for the log's retention after its last
    /// attempt. The log is for people, not for delivery: a failed write is logged and delivery
    /// goes on, rather than failing the job and sending the webhook again.
    async fn log_delivery(&self, record: &DeliveryRecord) {
        let expires_at = self.log_retention.expires_at(record.last_attempt_at);
        if let Err(error) = self.store.record_delivery(record, expires_at).await {
            tracing::error!(%error, event_id = %record.event_id, destination = %record.destination, "could not write the delivery log record");
        }
    }

    /// Claims the attempt `before` is the record before: `false` if another run made it or is
    /// making it. The claim outlives the attempt's timeout, so a running attempt is never
    /// taken over; a crashed one is, once its claim lapses.
    async fn claim(&self, before: &DeliveryRecord, now: Timestamp) -> Result<bool, PipelineError> {
        let claim = AttemptClaim {
            attempt: before.attempt_count + 1,
            until: now.checked_add(CLAIM_LEASE).unwrap_or(now),
        };
        let expires_at = self.log_retention.expires_at(now);
        Ok(self
            .store
            .claim_attempt(before, claim, now, expires_at)
            .await?)
    }

    /// Moves the endpoint's pace as its receiver's answer asks (`Pace::after`), and holds its
    /// turns for a `Retry-After`. Pace is a courtesy to the receiver: a failure to write it is
    /// logged, and delivery goes on.
    async fn keep_pace(&self, endpoint: &Endpoint, answer: &Sent, waited: bool) {
        let now = self.clock.now();
        let signal = Signal::of(answer.outcome, answer.retry_after);
        let pace = match Pace::after(endpoint.rate_limit, endpoint.pace, signal, waited, now) {
            PaceChange::Keep => None,
            PaceChange::Set(pace) => Some(Some(pace)),
            PaceChange::End => Some(None),
        };
        let (org, id) = (endpoint.org_id, endpoint.id);
        if let Some(pace) = pace {
            match self.store.set_pace(endpoint, pace).await {
                Ok(true) => {
                    let rate = pace.map(|pace| pace.rate);
                    tracing::info!(endpoint_id = %id, ?signal, ?rate, "endpoint pace changed");
                }
                // Another answer of the same second changed it first.
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(%error, endpoint_id = %id, "could not keep the endpoint's pace")
                }
            }
        }
        if let Some(wait) = answer.retry_after.filter(|_| signal == Signal::SlowDown)
            && let Some(until) = now.checked_add(wait.min(Pace::LONGEST_HOLD))
            && let Err(error) = self.store.hold_turns(org, id, until).await
        {
            tracing::warn!(%error, endpoint_id = %id, "could not hold the endpoint's turns");
        }
    }

    /// Decides what comes after the attempt and records it in the endpoint's stats (with the
    /// give-up, when its delivery ends there), in one write, and announces a revival. A test
    /// counts nowhere.
    async fn next_step(
        &self,
        job: &DeliveryJob,
        target: &Target,
        sent: &Sent,
        attempt: &Attempt,
        schedule: &RetrySchedule,
    ) -> Result<Delivery, PipelineError> {
        let counted = target.endpoint.as_ref().filter(|_| !job.test);
        let next = next_after(job, counted, sent, attempt, schedule);
        let gives_up = matches!(next, Delivery::GaveUp(_));
        let Some(endpoint) = counted else {
            return Ok(next);
        };
        match self
            .store
            .record_attempt(endpoint, attempt, gives_up)
            .await?
        {
            Recorded::EndpointGone => return Ok(Delivery::Abandoned(Abandoned::EndpointDeleted)),
            Recorded::Revived { failing_since } => {
                let notice = EndpointNotice::recovered(endpoint, failing_since, attempt.at);
                self.notices.post(notice).await;
            }
            Recorded::Counted => {}
        }
        Ok(next)
    }
}

/// What follows an attempt: delivered on a 2xx; else one attempt per event for a failing
/// endpoint (or a resend asked while it was failing); else the schedule's next delay, or its
/// end.
fn next_after(
    job: &DeliveryJob,
    counted: Option<&Endpoint>,
    sent: &Sent,
    attempt: &Attempt,
    schedule: &RetrySchedule,
) -> Delivery {
    if sent.outcome.is_success() {
        return Delivery::Delivered;
    }
    tracing::info!(
        event_id = %job.event_id,
        destination = %job.destination,
        attempt = job.attempts,
        error = sent.error.as_deref().unwrap_or("failed"),
        "delivery attempt failed"
    );
    if job.one_attempt || counted.is_some_and(|endpoint| endpoint.status == EndpointStatus::Failing)
    {
        return Delivery::GaveUp(GiveUp::FailingEndpoint);
    }
    let first = job.first_attempt_at.unwrap_or(attempt.at);
    let elapsed = millis_between(first, attempt.at).unwrap_or_default();
    match schedule.next_delay(
        job.attempts_in_chain(),
        sent.outcome.status(),
        sent.retry_after,
        elapsed,
    ) {
        Ok(delay) => Delivery::Retrying(delay),
        Err(stop) => {
            tracing::warn!(event_id = %job.event_id, destination = %job.destination, ?stop, "delivery given up");
            Delivery::GaveUp(match stop {
                Stop::Gone => GiveUp::Gone,
                Stop::Exhausted => GiveUp::Exhausted,
            })
        }
    }
}
