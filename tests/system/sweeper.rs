//! The failing sweep against DynamoDB (moto) at a realistic size: it reads the streaks, not
//! the table.

use std::collections::BTreeMap;
use std::time::Duration;

use system_tests::moto_store;
use webhook_domain::{
    Attempt, AttemptOutcome, Clock, EndpointStatus, FailingPolicy, ManualClock, NoticeKind, OrgId,
    Timestamp, fixtures,
};
use webhook_notices::NoticeBoard;
use webhook_store::{DeliveryStatsStore, EndpointStore};
use webhook_sweeper::sweep;

const HOUR: Duration = Duration::from_secs(3600);

#[tokio::test]
async fn one_run_reads_only_the_streaks_and_marks_exactly_the_old_ones() {
    let (store, counter) = moto_store().await;
    let clock = ManualClock::starting_at(Timestamp::from_unix_millis(1_790_000_000_000).unwrap());
    let streak_began = clock.now();

    // 5,000 endpoints in 100 organizations of 50.
    let endpoints: Vec<_> = (0..5_000u64)
        .map(|i| fixtures::endpoint_with_secret(OrgId::new(1_000 + i / 50), clock.now()))
        .collect();
    store.import(&endpoints).await.unwrap();

    // 100 of them in a failure streak: 40 that began now, 60 that begin 23 hours later.
    let failure = |at| Attempt {
        at,
        outcome: AttemptOutcome::from_status(502),
        duration: Duration::from_millis(80),
    };
    for (endpoint, _) in &endpoints[..40] {
        store
            .record_attempt(endpoint, &failure(clock.now()), false)
            .await
            .unwrap();
    }
    clock.advance(23 * HOUR);
    for (endpoint, _) in &endpoints[40..100] {
        store
            .record_attempt(endpoint, &failure(clock.now()), false)
            .await
            .unwrap();
    }
    clock.advance(HOUR + Duration::from_secs(1));
    counter.take();

    let (board, notices) = NoticeBoard::recorded();
    let report = sweep(&store, &clock, FailingPolicy::default(), &board, || true)
        .await
        .unwrap();
    let requests = counter.take_by_operation();
    assert_eq!(
        (
            report.candidates,
            report.marked,
            report.skipped,
            report.errors
        ),
        (40, 40, 0, 0)
    );
    assert!(report.finished);
    assert!(report.candidates <= 100, "reads at most the streak entries");
    assert_eq!(
        requests,
        BTreeMap::from([
            ("Query".to_owned(), report.pages),
            ("TransactWriteItems".to_owned(), 40),
            ("TransactGetItems".to_owned(), 40)
        ]),
        "no Scan, no reads beyond the streak index; one transaction per candidate, and one \
         read of each marked endpoint for its notice"
    );
    assert!(
        report.pages <= 4,
        "one page per index shard: {}",
        report.pages
    );

    let mut failing = Vec::new();
    for org in [1_000, 1_001] {
        for endpoint in store.list(OrgId::new(org)).await.unwrap() {
            if endpoint.status == EndpointStatus::Failing {
                failing.push(endpoint.id);
            }
        }
    }
    failing.sort();
    let mut expected: Vec<_> = endpoints[..40].iter().map(|(e, _)| e.id).collect();
    expected.sort();
    assert_eq!(failing, expected, "exactly the 40 old streaks");
    let notices = std::mem::take(&mut *notices.lock().unwrap());
    let mut noticed: Vec<_> = notices.iter().map(|n| n.endpoint_id).collect();
    noticed.sort();
    assert_eq!(noticed, expected, "one failing notice per marked endpoint");
    for notice in &notices {
        assert_eq!(notice.kind, NoticeKind::Failing);
        assert_eq!(
            (notice.failing_since, notice.at),
            (Some(streak_began), clock.now())
        );
        assert_eq!(notice.url_host, "hooks.example.com");
    }

    counter.take();
    let second = sweep(&store, &clock, FailingPolicy::default(), &board, || true)
        .await
        .unwrap();
    assert_eq!(
        (second.candidates, second.marked),
        (0, 0),
        "a second run marks none"
    );
    assert_eq!(
        counter.take_by_operation(),
        BTreeMap::from([("Query".to_owned(), second.pages)]),
        "marked streaks are out of the sweeper's way"
    );
}
