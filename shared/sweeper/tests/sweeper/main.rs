//! The sweep's rules on the in-memory store, with a clock the tests move.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::{Context, LambdaEvent};
use webhook_domain::{
    Attempt, AttemptOutcome, Clock, Endpoint, EndpointChanges, EndpointNotice, EndpointStatus,
    FailingPolicy, ManualClock, NoticeKind, OrgId, RequestedStatus, Timestamp, fixtures,
};
use webhook_notices::NoticeBoard;
use webhook_store::memory::Refused;
use webhook_store::{DeliveryStatsStore, EndpointStore, MemoryStore};
use webhook_sweeper::{ScheduledSweep, SweepReport, sweep};

const HOUR: Duration = Duration::from_secs(3600);
const ORG: OrgId = OrgId::new(3);

/// A clock standing still at a fixed instant, and an empty store.
fn start() -> (Arc<ManualClock>, MemoryStore) {
    let at = Timestamp::from_unix_millis(1_790_000_000_000).unwrap();
    (Arc::new(ManualClock::starting_at(at)), MemoryStore::new())
}

async fn endpoint(store: &MemoryStore, clock: &ManualClock, status: RequestedStatus) -> Endpoint {
    let (mut endpoint, secret) = fixtures::endpoint_with_secret(ORG, clock.now());
    endpoint.status = status.into();
    store.create(&endpoint, &secret, 1000, None).await.unwrap();
    endpoint
}

async fn fail(store: &MemoryStore, clock: &ManualClock, endpoint: &Endpoint) {
    let attempt = Attempt {
        at: clock.now(),
        outcome: AttemptOutcome::from_status(500),
        duration: Duration::ZERO,
    };
    store
        .record_attempt(endpoint, &attempt, false)
        .await
        .unwrap();
}

/// The endpoint as stored now.
async fn stored(store: &MemoryStore, endpoint: &Endpoint) -> Endpoint {
    store
        .list(ORG)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.id == endpoint.id)
        .unwrap()
}

async fn status_of(store: &MemoryStore, endpoint: &Endpoint) -> EndpointStatus {
    stored(store, endpoint).await.status
}

/// What a caller's PATCH of the status does.
async fn set_status(
    store: &MemoryStore,
    clock: &ManualClock,
    endpoint: &Endpoint,
    status: RequestedStatus,
) {
    let change = EndpointChanges::status(status);
    store
        .update(ORG, endpoint.id, &change, clock.now())
        .await
        .unwrap();
}

async fn run(store: &MemoryStore, clock: &ManualClock) -> SweepReport {
    run_noticed(store, clock).await.0
}

/// A sweep, and the notices it posted.
async fn run_noticed(
    store: &MemoryStore,
    clock: &ManualClock,
) -> (SweepReport, Vec<EndpointNotice>) {
    let (board, notices) = NoticeBoard::recorded();
    let report = sweep(store, clock, FailingPolicy::default(), &board, || true)
        .await
        .unwrap();
    let notices = std::mem::take(&mut *notices.lock().unwrap());
    (report, notices)
}

#[tokio::test]
async fn marks_streaks_older_than_the_threshold_once() {
    let (clock, store) = start();
    let old = endpoint(&store, &clock, RequestedStatus::Active).await;
    let streak_began = clock.now();
    let young = endpoint(&store, &clock, RequestedStatus::Active).await;
    let healthy = endpoint(&store, &clock, RequestedStatus::Active).await;
    let paused = endpoint(&store, &clock, RequestedStatus::Active).await;
    fail(&store, &clock, &old).await;
    fail(&store, &clock, &paused).await;
    set_status(&store, &clock, &paused, RequestedStatus::Disabled).await;
    clock.advance(2 * HOUR);
    fail(&store, &clock, &young).await;

    clock.advance(22 * HOUR - Duration::from_millis(1));
    let early = run(&store, &clock).await;
    assert_eq!(
        (early.candidates, early.marked),
        (0, 0),
        "23:59:59.999 is not 24 h"
    );

    clock.advance(Duration::from_millis(1));
    let (report, notices) = run_noticed(&store, &clock).await;
    assert_eq!(
        (report.candidates, report.marked, report.skipped),
        (2, 1, 1)
    );
    assert!(report.finished);
    assert_eq!(status_of(&store, &old).await, EndpointStatus::Failing);
    assert_eq!(status_of(&store, &young).await, EndpointStatus::Active);
    assert_eq!(status_of(&store, &healthy).await, EndpointStatus::Active);
    assert_eq!(
        status_of(&store, &paused).await,
        EndpointStatus::Disabled,
        "disabled is never touched"
    );

    let [notice] = notices.as_slice() else {
        panic!("one notice: {notices:?}")
    };
    assert_eq!(
        notice,
        &EndpointNotice::failing(&old, streak_began, clock.now()),
        "the marked endpoint, its streak's start, the mark's time"
    );
    assert_eq!(notice.kind, NoticeKind::Failing);

    let (again, notices) = run_noticed(&store, &clock).await;
    assert_eq!(again.marked, 0, "idempotent");
    assert!(notices.is_empty(), "nothing new, no news");

    clock.advance(2 * HOUR);
    let later = run(&store, &clock).await;
    assert_eq!(later.marked, 1, "the younger streak's turn");
    assert_eq!(status_of(&store, &young).await, EndpointStatus::Failing);
}

#[tokio::test]
async fn the_threshold_is_configurable() {
    let (clock, store) = start();
    let e = endpoint(&store, &clock, RequestedStatus::Active).await;
    fail(&store, &clock, &e).await;
    clock.advance(Duration::from_secs(5));
    let policy = FailingPolicy {
        after: Duration::from_secs(5),
    };
    let report = sweep(&store, clock.as_ref(), policy, &NoticeBoard::Log, || true)
        .await
        .unwrap();
    assert_eq!(report.marked, 1);
}

#[tokio::test]
async fn a_recovered_or_reactivated_endpoint_is_left_alone() {
    let (clock, store) = start();
    let recovered = endpoint(&store, &clock, RequestedStatus::Active).await;
    let reactivated = endpoint(&store, &clock, RequestedStatus::Active).await;
    fail(&store, &clock, &recovered).await;
    fail(&store, &clock, &reactivated).await;
    clock.advance(25 * HOUR);
    run(&store, &clock).await;
    assert_eq!(status_of(&store, &recovered).await, EndpointStatus::Failing);

    let failing = stored(&store, &recovered).await;
    let ok = Attempt {
        at: clock.now(),
        outcome: AttemptOutcome::from_status(204),
        duration: Duration::ZERO,
    };
    store.record_attempt(&failing, &ok, false).await.unwrap();
    assert_eq!(
        status_of(&store, &recovered).await,
        EndpointStatus::Active,
        "a 2xx revives"
    );

    set_status(&store, &clock, &reactivated, RequestedStatus::Active).await;
    clock.advance(HOUR);
    let report = run(&store, &clock).await;
    assert_eq!(report.marked, 0);
    assert_eq!(status_of(&store, &recovered).await, EndpointStatus::Active);
    assert_eq!(
        status_of(&store, &reactivated).await,
        EndpointStatus::Active,
        "PATCH active cleared the streak"
    );
}

#[tokio::test]
async fn stops_when_time_runs_out_and_the_next_run_finishes() {
    let (clock, store) = start();
    let store = store.with_streak_page_size(10);
    for _ in 0..25 {
        let e = endpoint(&store, &clock, RequestedStatus::Active).await;
        fail(&store, &clock, &e).await;
    }
    clock.advance(25 * HOUR);
    let mut pages_allowed = 2;
    let cut_short = sweep(
        &store,
        clock.as_ref(),
        FailingPolicy::default(),
        &NoticeBoard::Log,
        || {
            pages_allowed -= 1;
            pages_allowed >= 0
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (cut_short.pages, cut_short.marked, cut_short.finished),
        (2, 20, false)
    );
    let rest = run(&store, &clock).await;
    assert_eq!(rest.marked, 5);
    assert!(rest.finished);
}

fn a_minute_to_run() -> Context {
    let mut context = Context::default();
    let in_a_minute = SystemTime::now() + Duration::from_secs(60);
    context.deadline = in_a_minute.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    context
}

/// A run whose marks fail is a failed invocation, which the function's Errors alarm hears of;
/// the next run tries them again.
#[tokio::test]
async fn a_run_whose_marks_fail_fails() {
    let (clock, _) = start();
    let store = MemoryStore::refusing(Refused::MarkingFailing);
    let e = endpoint(&store, &clock, RequestedStatus::Active).await;
    fail(&store, &clock, &e).await;
    clock.advance(25 * HOUR);
    let refusing = ScheduledSweep {
        store: store.clone(),
        clock: clock.clone(),
        policy: FailingPolicy::default(),
        notices: NoticeBoard::Log,
    };
    let event = LambdaEvent::new(serde_json::json!({}), a_minute_to_run());
    assert!(refusing.handle(event).await.is_err());
    assert_eq!(status_of(&store, &e).await, EndpointStatus::Active);
}

#[tokio::test]
async fn the_lambda_handles_the_sample_scheduled_event() {
    let (clock, store) = start();
    let e = endpoint(&store, &clock, RequestedStatus::Active).await;
    fail(&store, &clock, &e).await;
    clock.advance(25 * HOUR);

    let path = format!(
        "{}/../../events/sweeper-scheduled.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let payload = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut context = a_minute_to_run();
    let sweep = ScheduledSweep {
        store,
        clock: clock.clone(),
        policy: FailingPolicy::default(),
        notices: NoticeBoard::Log,
    };
    let report = sweep
        .handle(LambdaEvent::new(payload, context.clone()))
        .await
        .unwrap();
    assert_eq!((report.marked, report.finished), (1, true));

    context.deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let late = sweep
        .handle(LambdaEvent::new(serde_json::json!({}), context))
        .await
        .unwrap();
    assert_eq!(
        (late.pages, late.finished),
        (0, false),
        "no time left: no page taken"
    );
}
