//! Fan-out (an event to the jobs of every matching endpoint) and delivery (one attempt of one
//! job, and what comes after it).

use std::time::Duration;

use webhook_domain::{Destination, Minute, OrgId, Pace, Quota, QuotaCount, Timestamp};
use webhook_store::{Store, TurnAsked};

use crate::attempt::{Plan, Reach, Target, timeout_for};
use crate::event::{DeliveryJob, PlatformEvent};
use crate::pipeline::{Delivery, Pipeline, PipelineError, millis_between};
use crate::queue::{Delayed, JobQueue};

impl<S, Q> Pipeline<S, Q>
where
    S: Store,
    Q: JobQueue,
{
    /// Queues one job per endpoint of the event's organization that receives it, and one for
    /// the legacy URL if set: one Query, then the queue's batches.
    #[tracing::instrument(name = "fan_out", skip_all, fields(event_id = %event.id, org_id = %event.org_id, trace_id = %event.trace()))]
    pub async fn fan_out(&self, event: &PlatformEvent) -> Result<usize, PipelineError> {
        let targets = self.store.delivery_targets(event.org_id).await?;
        let mut jobs: Vec<Delayed> = targets
            .endpoints
            .iter()
            .filter(|endpoint| endpoint.receives(&event.event_type, event.agent_id))
            .map(|endpoint| Destination::from(endpoint.id))
            // The legacy URL, when set, gets every event type.
            .chain(targets.legacy_url_set.then_some(Destination::Legacy))
            .map(|destination| Delayed {
                job: DeliveryJob::first(event.clone(), destination),
                delay: Duration::ZERO,
            })
            .collect();
        let count = jobs.len();
        if count > 0 {
            // Once for all its jobs, before any of them can write a record.
            let kept_until = self.keep(&event.logged()).await?;
            for queued in &mut jobs {
                queued.job.event_kept_until = Some(kept_until);
            }
            self.queue.enqueue(jobs).await?;
        }
        Ok(count)
    }

    /// Makes one attempt of the job, records it (stats and log), and queues the next one if
    /// there is to be one. Its log lines carry the event's trace id.
    #[tracing::instrument(name = "deliver", skip_all, fields(event_id = %job.event_id, destination = %job.destination, trace_id = %job.trace()))]
    pub async fn deliver(&self, mut job: DeliveryJob) -> Result<Delivery, PipelineError> {
        let now = self.clock.now();
        if let Some(wait) = job.not_before.and_then(|at| millis_between(now, at)) {
            return self.defer(job, wait, now).await;
        }
        // A resent job waits for a share of its organization's resends in flight, before
        // anything is read: a flood of resends to receivers that hang then holds only so many
        // consumers, and its waiting jobs cost one refused write each.
        let place = if job.resent {
            let Some(minute) = self.take_a_place(job.org_id, now).await? else {
                let wait = resent_wait(job.waits_for_a_place);
                job.waits_for_a_place = job.waits_for_a_place.saturating_add(1);
                return self.defer(job, wait, now).await;
            };
            // Its retries start their waits afresh.
            job.waits_for_a_place = 0;
            Some(minute)
        } else {
            None
        };
        let made = self.reach_and_attempt(&mut job).await;
        if let Some(minute) = place {
            let held = resent_in_flight(job.org_id, minute);
            if let Err(error) = self.store.give_back(held, 1).await {
                // Forgotten with its minute; until then the share is one smaller.
                tracing::warn!(%error, "could not give back a resent delivery's place in flight");
            }
        }
        made
    }

    /// The job's attempt at its destination as just read, or its end if the destination no
    /// longer takes it.
    async fn reach_and_attempt(&self, job: &mut DeliveryJob) -> Result<Delivery, PipelineError> {
        let target = match self.reach(job).await? {
            Reach::Send(target) => target,
            Reach::Gone(reason) => {
                if job.attempts > 0
                    && let Some(record) = job.record_ref()
                    && let Err(error) = self.store.end_delivery(&record, job.attempts).await
                {
                    tracing::error!(%error, event_id = %job.event_id, "could not end the delivery log record");
                }
                return Ok(Delivery::Abandoned(reason));
            }
        };
        let waited_for_turn = match self.wait_for_turn(job, &target).await? {
            Turn::Later(wait) => {
                let now = self.clock.now();
                return self.defer(job.clone(), wait, now).await;
            }
            Turn::Now { waited } => waited,
        };
        let plan = Plan {
            timeout: timeout_for(&job.event_type),
            claim: true,
            keep_event: true,
            schedule: self.schedule_for(job),
            waited_for_turn,
        };
        let made = self.attempt(job, &target, plan, |_| ()).await?;
        Ok(made.unwrap_or(Delivery::Duplicate))
    }

    /// How long the job waits for its endpoint's turn, if the endpoint is paced (its own rate
    /// limit, or a receiver that asked to slow down): it takes the next turn and waits for it
    /// on the queue, spending no attempt, but never past the end of its schedule. A job that
    /// comes back holding its turn goes. Tests are never paced.
    async fn wait_for_turn(
        &self,
        job: &mut DeliveryJob,
        target: &Target,
    ) -> Result<Turn, PipelineError> {
        if std::mem::take(&mut job.holds_a_turn) {
            return Ok(Turn::Now { waited: true });
        }
        let Some((endpoint, rate)) = target
            .endpoint
            .as_ref()
            .filter(|_| !job.test)
            .and_then(|endpoint| Some((endpoint, endpoint.effective_rate()?)))
        else {
            return Ok(Turn::Now { waited: false });
        };
        let now = self.clock.now();
        // The schedule starts when the job is first due, waits for turns included.
        let start = *job.first_attempt_at.get_or_insert(now);
        let latest = start
            .checked_add(self.schedule_for(job).span())
            .unwrap_or(Timestamp::LAST);
        let asked = TurnAsked {
            now,
            interval: Pace::interval(rate),
            latest,
            queued: endpoint.pace.is_some(),
        };
        let turn = self.store.take_turn(job.org_id, endpoint.id, asked).await?;
        // No turn before the schedule ends (a backlog longer than it): it goes then.
        let wait = millis_between(now, turn.unwrap_or(latest));
        job.holds_a_turn = wait.is_some();
        Ok(wait.map_or(Turn::Now { waited: false }, Turn::Later))
    }

    /// A place among the organization's resends in flight, counted in the minute it answers,
    /// or none while the places taken this minute and the last fill its share.
    async fn take_a_place(
        &self,
        org: OrgId,
        now: Timestamp,
    ) -> Result<Option<Minute>, PipelineError> {
        let [before, minute] = Minute::of(now).places_held();
        let held = self.store.counted(resent_in_flight(org, before)).await?;
        let Some(left) = self.resent_in_flight.less(held) else {
            return Ok(None);
        };
        let taken = self
            .store
            .take(resent_in_flight(org, minute), 1, left)
            .await?;
        Ok((taken > 0).then_some(minute))
    }

    /// Passes the job along the queue, to come back after `wait`, with no attempt made.
    async fn defer(
        &self,
        job: DeliveryJob,
        wait: Duration,
        now: Timestamp,
    ) -> Result<Delivery, PipelineError> {
        self.requeue(job, wait, now).await?;
        Ok(Delivery::Deferred(wait))
    }
}

/// When a job may go to its endpoint.
enum Turn {
    /// `waited`: its endpoint's pace held it back first.
    Now {
        waited: bool,
    },
    Later(Duration),
}

/// How long a resent job first waits when its organization's share of resends in flight is
/// taken; each refusal after doubles it, up to [`RESENT_WAIT_MAX`].
pub const RESENT_WAIT: Duration = Duration::from_secs(5);
pub const RESENT_WAIT_MAX: Duration = Duration::from_secs(60);

/// The wait after `refusals` earlier ones: a recover of thousands of deliveries to a receiver
/// that hangs leaves most of them waiting, and each wait costs a refused write and a queue
/// message; backing off makes that about once a minute per job instead of every 5 s.
pub fn resent_wait(refusals: u32) -> Duration {
    RESENT_WAIT
        .saturating_mul(2_u32.saturating_pow(refusals.min(16)))
        .min(RESENT_WAIT_MAX)
}

/// The organization's places among resends in flight, taken in `minute`.
fn resent_in_flight(org: OrgId, minute: Minute) -> QuotaCount {
    let quota = Quota::ResentInFlight;
    QuotaCount { org, quota, minute }
}
