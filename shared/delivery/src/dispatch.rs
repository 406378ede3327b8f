//! Blocking events (`telephony.incoming`, `web.incoming`) exist for their answer: the
//! receiver's JSON configures a call that is ringing. The platform invokes `dispatch-blocking`
//! directly and waits; this sends the signed event to every matching destination at once and
//! answers with the first answer that counts, in precedence order, within the budget.
//!
//! Precedence: endpoints scoped to the event's agent, then unscoped endpoints, each oldest
//! first, then the legacy URL. An answer counts when it is a 2xx whose body is a JSON object of
//! at most 64 KiB. The answer goes back as soon as every destination ahead of the best one
//! has finished; the rest run on and are logged, never waited for. No retries: a ringing call
//! cannot wait. Every attempt is logged and counted as any other.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::timeout_at;
use webhook_domain::{Destination, Endpoint, FailureCategory};
use webhook_store::Store;

use crate::attempt::{Plan, Reach};
use crate::event::{DeliveryJob, PlatformEvent};
use crate::pipeline::{Pipeline, PipelineError};
use crate::queue::JobQueue;
use crate::schedule::RetrySchedule;
use crate::sent::Sent;

/// How long the platform waits for an answer, from invocation; reading the destinations and
/// connecting to them count against it.
pub const BUDGET: Duration = Duration::from_secs(2);

/// The end of the budget kept for the writes that follow the sends (log records and stats): a
/// Lambda answers only once they are done, since it freezes whatever runs after its answer.
pub const WRITE_RESERVE: Duration = Duration::from_millis(250);

/// What `dispatch-blocking` answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dispatched {
    /// The winning answer, or `null`: the platform then falls back to the statically assigned
    /// agent.
    pub answer: Option<Map<String, Value>>,
    /// The endpoint id whose answer won, `"legacy"`, or `null`.
    pub answered_by: Option<String>,
    /// The attempts that had finished when the answer was given, in precedence order.
    pub attempts: Vec<DispatchAttempt>,
    /// Why nothing was sent: the event is not a blocking one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Dispatched {
    /// Nothing sent, and why: the platform falls back as for a missing answer.
    pub fn refused(error: String) -> Self {
        Self {
            answer: None,
            answered_by: None,
            attempts: Vec::new(),
            error: Some(error),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DispatchAttempt {
    /// An endpoint id, or `"legacy"`.
    pub destination: String,
    pub http_status: Option<u16>,
    pub failure_category: Option<FailureCategory>,
    pub duration_ms: u64,
    /// Why a 2xx's body was not taken as the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer_ignored: Option<AnswerIgnored>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerIgnored {
    /// Over 64 KiB.
    TooLarge,
    /// Not a JSON object (empty, another JSON value, or not JSON).
    NotAJsonObject,
}

/// What a destination's 2xx body is worth as an answer.
fn answer_of(sent: &Sent) -> Option<Result<Map<String, Value>, AnswerIgnored>> {
    if !sent.outcome.is_success() {
        return None;
    }
    if sent.body_truncated {
        return Some(Err(AnswerIgnored::TooLarge));
    }
    Some(
        serde_json::from_slice::<Map<String, Value>>(&sent.body)
            .map_err(|_| AnswerIgnored::NotAJsonObject),
    )
}

/// One destination, in precedence order.
struct Finished {
    attempt: DispatchAttempt,
    answer: Option<Map<String, Value>>,
}

/// What a dispatch leaves running once it has answered: the sends behind the winner and every
/// attempt's log and stats writes. A long-running server lets them finish on their own
/// ([`Pending::detach`]); a Lambda must wait for them before it returns ([`Pending::finish`]),
/// since Lambda freezes whatever runs after an invocation's answer.
pub struct Pending(JoinSet<()>);

impl Pending {
    /// Waits for the remaining work, for at most `within`.
    pub async fn finish(mut self, within: Duration) {
        let all = async { while self.0.join_next().await.is_some() {} };
        if tokio::time::timeout(within, all).await.is_err() {
            tracing::warn!("a blocking dispatch's remaining work outlived its wait");
        }
    }

    /// Lets the remaining work run on its own.
    pub fn detach(mut self) {
        self.0.detach_all();
    }
}

/// How long after the budget a dispatch still waits for a destination to report: a send that
/// ran out of time says so right at the deadline.
const REPORT_MARGIN: Duration = Duration::from_millis(50);

impl<S, Q> Pipeline<S, Q>
where
    S: Store,
    Q: JobQueue,
{
    /// What a Lambda answers: the dispatch, with the sends behind the winner and every write
    /// finished, all within `budget`. The receivers have the budget less [`WRITE_RESERVE`]; a
    /// write still running at the end of the budget is given up (and said so in the log).
    pub async fn dispatch_within(
        self: &Arc<Self>,
        event: &PlatformEvent,
        budget: Duration,
    ) -> Result<Dispatched, PipelineError> {
        let answer_by = Instant::now() + budget;
        let sends = budget.saturating_sub(WRITE_RESERVE);
        let (dispatched, pending) = self.dispatch_blocking(event, sends).await?;
        pending
            .finish(answer_by.saturating_duration_since(Instant::now()))
            .await;
        Ok(dispatched)
    }

    /// Sends a blocking event to every destination that receives it and answers within
    /// `budget` (the Lambda passes [`BUDGET`]; tests a shorter one), with what is left running.
    pub async fn dispatch_blocking(
        self: &Arc<Self>,
        event: &PlatformEvent,
        budget: Duration,
    ) -> Result<(Dispatched, Pending), PipelineError> {
        let deadline = Instant::now() + budget;
        let mut pending = JoinSet::new();
        if !event.event_type.is_blocking() {
            let refused = Dispatched::refused(format!(
                "{} is not a blocking event type: only telephony.incoming and web.incoming are \
                 dispatched; publish other events to the events queue",
                event.event_type.as_str()
            ));
            return Ok((refused, Pending(pending)));
        }
        let targets =
            match timeout_at(deadline.into(), self.store.delivery_targets(event.org_id)).await {
                Ok(targets) => targets?,
                Err(_) => {
                    let late = Dispatched::refused(
                        "the destinations could not be read within the budget".to_owned(),
                    );
                    return Ok((late, Pending(pending)));
                }
            };
        let mut endpoints: Vec<Endpoint> = targets
            .endpoints
            .into_iter()
            .filter(|endpoint| endpoint.receives(&event.event_type, event.agent_id))
            .collect();
        // Oldest first within each group: the sort is stable.
        endpoints.sort_by_key(|endpoint| endpoint.agent_id.is_none());
        let destinations: Vec<Destination> = endpoints
            .into_iter()
            .map(|e| e.id.into())
            .chain(targets.legacy_url_set.then_some(Destination::Legacy))
            .collect();

        // Kept once for every record, before the attempts (one write, within the budget); if
        // that fails, each record keeps the body itself.
        let kept_until = match destinations.is_empty() {
            true => None,
            false => match timeout_at(deadline.into(), self.keep(&event.logged())).await {
                Ok(Ok(until)) => Some(until),
                Ok(Err(error)) => {
                    tracing::error!(%error, event_id = %event.id, "could not keep a blocking event for its log records");
                    None
                }
                Err(_) => None,
            },
        };
        let (done, mut finished) = mpsc::unbounded_channel();
        for (rank, destination) in destinations.iter().copied().enumerate() {
            let pipeline = Arc::clone(self);
            let event = event.clone();
            let done = done.clone();
            pending.spawn(async move {
                pipeline
                    .dispatch_one(event, destination, kept_until, deadline, rank, done)
                    .await;
            });
        }
        drop(done);

        let mut slots: Vec<Option<Finished>> = destinations.iter().map(|_| None).collect();
        let mut winner = None;
        let last_report = (deadline + REPORT_MARGIN).into();
        while winner.is_none() && slots.iter().any(Option::is_none) {
            let Ok(Some((rank, outcome))) = timeout_at(last_report, finished.recv()).await else {
                break;
            };
            if let Some(slot) = slots.get_mut(rank) {
                *slot = Some(outcome);
            }
            winner = decided(&slots);
        }
        let (answer, answered_by) = match winner.and_then(|rank| slots.get_mut(rank)?.as_mut()) {
            Some(won) => (won.answer.take(), Some(won.attempt.destination.clone())),
            None => (None, None),
        };
        let dispatched = Dispatched {
            answer,
            answered_by,
            attempts: slots.into_iter().flatten().map(|f| f.attempt).collect(),
            error: None,
        };
        Ok((dispatched, Pending(pending)))
    }

    /// Reads the destination's signing keys, sends, reports to `done` under `rank`, then
    /// records the attempt in the stats and the log (after the report: never delaying the
    /// answer).
    async fn dispatch_one(
        self: Arc<Self>,
        event: PlatformEvent,
        to: Destination,
        event_kept_until: Option<webhook_domain::Timestamp>,
        deadline: Instant,
        rank: usize,
        done: mpsc::UnboundedSender<(usize, Finished)>,
    ) {
        let destination = to.to_string();
        let started = Instant::now();
        let now = self.clock.now();
        let mut job = DeliveryJob {
            first_attempt_at: Some(now),
            event_kept_until,
            ..DeliveryJob::first(event, to)
        };
        // Read again with its signing keys: it may have been paused or deleted meanwhile.
        let target = match timeout_at(deadline.into(), self.reach(&job)).await {
            Ok(Ok(Reach::Send(target))) => Some(target),
            Ok(Ok(Reach::Gone(reason))) => {
                tracing::info!(event_id = %job.event_id, destination, ?reason, "a blocking event's destination is gone");
                None
            }
            Ok(Err(error)) => {
                tracing::error!(%error, event_id = %job.event_id, destination, "could not read a blocking event's destination");
                None
            }
            // Read too late to send at all: nothing was attempted, nothing is counted.
            Err(_) => None,
        };
        let timeout = deadline.saturating_duration_since(Instant::now());
        let Some(target) = target.filter(|_| !timeout.is_zero()) else {
            let _ = done.send((rank, Finished::unsent(destination, started)));
            return;
        };
        let plan = Plan {
            timeout,
            claim: false,
            keep_event: false,
            schedule: RetrySchedule::none(),
            waited_for_turn: false,
        };
        // Reported as soon as it is sent; the stats and log writes come after, never delaying
        // the answer. The dispatch may have answered already: then nobody listens.
        let mut report = Some((done, destination));
        let made = self
            .attempt(&mut job, &target, plan, |sent| {
                if let Some((done, destination)) = report.take() {
                    let _ = done.send((rank, Finished::of(destination, sent)));
                }
            })
            .await;
        if let Err(error) = made {
            tracing::error!(%error, event_id = %job.event_id, "could not make or record a blocking attempt");
        }
        // Stopped before it was sent: reported unsent, so that the answer does not wait for it
        // until the budget runs out.
        if let Some((done, destination)) = report {
            let _ = done.send((rank, Finished::unsent(destination, started)));
        }
    }
}

impl Finished {
    fn of(destination: String, sent: &Sent) -> Self {
        let answer = answer_of(sent);
        Self {
            attempt: DispatchAttempt {
                destination,
                http_status: sent.outcome.status(),
                failure_category: sent.outcome.failure(),
                duration_ms: u64::try_from(sent.duration.as_millis()).unwrap_or(u64::MAX),
                answer_ignored: answer.as_ref().and_then(|a| a.as_ref().err().copied()),
            },
            answer: answer.and_then(Result::ok),
        }
    }

    /// A destination nothing was sent to: it vanished, or could not be read.
    fn unsent(destination: String, started: Instant) -> Self {
        let nothing = Sent {
            duration: started.elapsed(),
            ..Sent::failed(FailureCategory::Other, String::new())
        };
        Self::of(destination, &nothing)
    }
}

/// The rank of the winning answer once it is known: the first destination with an answer that
/// counts, provided every destination ahead of it has finished. `None` while undecided, and
/// when every destination finished without an answer.
fn decided(slots: &[Option<Finished>]) -> Option<usize> {
    slots
        .iter()
        .map_while(Option::as_ref)
        .position(|finished| finished.answer.is_some())
}
