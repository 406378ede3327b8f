//! The failing sweep: every active endpoint whose failure streak is older than the threshold
//! becomes `failing`, and a `webhook-endpoint.failing` notice says so. It reads only the streaks
//! (a sparse index), works a page at a time, and stops before its time runs out, leaving the
//! rest to the next run.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;
use webhook_domain::settings;
use webhook_domain::{Clock, EndpointNotice, FailingPolicy, SystemClock, Timestamp};
use webhook_notices::NoticeBoard;
use webhook_store::{DeliveryStatsStore, DynamoStore, StoreError, StreakCandidate};

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

/// Marks one candidate failing, and posts the notice if it did. Returns whether it did.
async fn mark<S: DeliveryStatsStore>(
    store: &S,
    notices: &NoticeBoard,
    candidate: &StreakCandidate,
    now: Timestamp,
) -> Result<bool, StoreError> {
    if !store.mark_failing(candidate, now).await? {
        return Ok(false);
    }
    // The mark is written: a notice that cannot be built or posted is logged, not retried.
    match store
        .endpoint_health(candidate.org_id, candidate.endpoint_id)
        .await
    {
        Ok(Some(health)) => {
            let notice = EndpointNotice::failing(&health.endpoint, candidate.failing_since, now);
            notices.post(notice).await;
        }
        Ok(None) => {} // deleted since: nobody to tell
        Err(error) => tracing::error!(
            %error,
            org_id = %candidate.org_id,
            endpoint_id = %candidate.endpoint_id,
            "a marked endpoint could not be read for its notice"
        ),
    }
    Ok(true)
}

/// One run. `time_left` is asked before each page; once it says no, the run ends cleanly.
pub async fn sweep<S: DeliveryStatsStore>(
    store: &S,
    clock: &dyn Clock,
    policy: FailingPolicy,
    notices: &NoticeBoard,
    mut time_left: impl FnMut() -> bool,
) -> Result<SweepReport, StoreError> {
    let started = Instant::now();
    let now = clock.now();
    let cutoff = policy.cutoff(now);
    let mut report = SweepReport::default();
    let mut cursor = None;
    while time_left() {
        let page = store.streak_candidates(cutoff, cursor).await?;
        report.pages += 1;
        report.candidates += page.candidates.len();
        // Pushed in a loop rather than through a stream closure: the future stays `Send` for
        // any store, so a caller can spawn the sweep.
        let mut in_flight = FuturesUnordered::new();
        for candidate in &page.candidates {
            in_flight.push(mark(store, notices, candidate, now));
            if in_flight.len() == CONCURRENT_MARKS
                && let Some(outcome) = in_flight.next().await
            {
                report.count(outcome);
            }
        }
        while let Some(outcome) = in_flight.next().await {
            report.count(outcome);
        }
        if page.next.is_none() {
            report.finished = true;
            break;
        }
        cursor = page.next;
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

/// The scheduled Lambda: the store, clock and threshold it was built with, at cold start.
pub struct ScheduledSweep<S> {
    pub store: S,
    pub clock: Arc<dyn Clock>,
    pub policy: FailingPolicy,
    pub notices: NoticeBoard,
}

impl ScheduledSweep<DynamoStore> {
    /// `TABLE_NAME`, `NOTICE_BUS`, optional `FAILING_AFTER`, and the AWS SDK's own environment.
    pub async fn from_env() -> Result<Self, lambda_runtime::Error> {
        let config = webhook_aws::load_sdk_config().await?;
        Ok(Self {
            store: DynamoStore::from_config(&config)?,
            clock: Arc::new(SystemClock),
            policy: settings::FAILING_AFTER.read_with(FailingPolicy::parse)?,
            notices: NoticeBoard::from_env(&config)?,
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
        let clock = self.clock.as_ref();
        let report = sweep(&self.store, clock, self.policy, &self.notices, time_left).await?;
        // The next run tries failed marks again; this one fails so that the function's Errors
        // alarm hears of them (its summary line says how many).
        if report.errors > 0 {
            let failed = format!("{} of {} marks failed", report.errors, report.candidates);
            return Err(failed.into());
        }
        Ok(report)
    }
}
