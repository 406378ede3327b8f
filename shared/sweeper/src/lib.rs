//! The failing sweep: every active endpoint whose failure streak is older than the threshold
//! becomes `failing`. It reads only the streaks (a sparse index), works a page at a time, and
//! stops before its time runs out, leaving the rest to the next run.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;
use webhook_domain::{Clock, FailingPolicy, SystemClock};
use webhook_store::{DeliveryStatsStore, DynamoStore, StoreError};

/// Marks run concurrently, this many at a time.
const CONCURRENT_MARKS: usize = 8;
/// Time left at which a Lambda run stops taking new pages.
const STOP_MARGIN: Duration = Duration::from_secs(5);

/// What one run did; logged as one line and returned as the Lambda's result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub candidates: usize,
    pub marked: usize,
    /// Candidates left as they were: not active, already failing, re-activated, gone, or
    /// their streak ended meanwhile.
    pub skipped: usize,
    /// Candidates whose mark failed on a storage error; the next run sees them again.
    pub errors: usize,
    pub pages: usize,
    /// False when the run stopped for time with candidates left.
    pub finished: bool,
    pub duration_ms: u64,
}

impl SweepReport {
    fn count(&mut self, outcome: Result<bool, StoreError>) {
        match outcome {
            Ok(true) => self.marked += 1,
            Ok(false) => self.skipped += 1,
            Err(error) => {
                tracing::warn!(%error, "could not mark an endpoint failing");
                self.errors += 1;
            }
        }
    }
}

/// One run. `time_left` is asked before each page; once it says no, the run ends cleanly.
pub async fn sweep<S: DeliveryStatsStore>(
    store: &S,
    clock: &dyn Clock,
    policy: FailingPolicy,
    mut time_left: impl FnMut() -> bool,
) -> Result<SweepReport, StoreError> {
    let started = Instant::now();
    let now = clock.now();
    let cutoff = policy.cutoff(now);
    let mut report = SweepReport::default();
    let mut cursor = None;
    loop {
        if !time_left() {
            break;
        }
        let page = store.streak_candidates(cutoff, cursor).await?;
        report.pages += 1;
        report.candidates += page.candidates.len();
        // Pushed in a loop rather than through a stream closure: the future stays `Send` for
        // any store, so a caller can spawn the sweep.
        let mut in_flight = FuturesUnordered::new();
        for candidate in &page.candidates {
            in_flight.push(store.mark_failing(candidate, now));
            if in_flight.len() == CONCURRENT_MARKS
                && let Some(outcome) = in_flight.next().await
            {
                report.count(outcome);
            }
        }
        while let Some(outcome) = in_flight.next().await {
            report.count(outcome);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => {
                report.finished = true;
                break;
            }
        }
    }
    report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(
        candidates = report.candidates,
        marked = report.marked,
        skipped = report.skipped,
        errors = report.errors,
        pages = report.pages,
        finished = report.finished,
        duration_ms = report.duration_ms,
        "failing sweep"
    );
    Ok(report)
}

/// `FAILING_AFTER` (e.g. `24h`, `90m`; default 24 h).
pub fn policy_from_env() -> Result<FailingPolicy, lambda_runtime::Error> {
    match std::env::var("FAILING_AFTER") {
        Ok(raw) => FailingPolicy::parse(&raw).map_err(|e| format!("FAILING_AFTER: {e}").into()),
        Err(_) => Ok(FailingPolicy::default()),
    }
}

/// The scheduled Lambda: the store, clock and threshold it was built with, at cold start.
pub struct ScheduledSweep<S> {
    pub store: S,
    pub clock: Arc<dyn Clock>,
    pub policy: FailingPolicy,
}

impl ScheduledSweep<DynamoStore> {
    pub async fn from_env() -> Result<Self, lambda_runtime::Error> {
        Ok(Self {
            store: DynamoStore::from_env().await?,
            clock: Arc::new(SystemClock),
            policy: policy_from_env()?,
        })
    }
}

impl<S: DeliveryStatsStore> ScheduledSweep<S> {
    /// Handles one EventBridge scheduled event; its content does not matter, only its deadline.
    pub async fn handle(
        &self,
        event: LambdaEvent<Value>,
    ) -> Result<SweepReport, lambda_runtime::Error> {
        let deadline = UNIX_EPOCH + Duration::from_millis(event.context.deadline);
        let time_left = || {
            deadline
                .duration_since(SystemTime::now())
                .is_ok_and(|left| left > STOP_MARGIN)
        };
        Ok(sweep(&self.store, self.clock.as_ref(), self.policy, time_left).await?)
    }
}
