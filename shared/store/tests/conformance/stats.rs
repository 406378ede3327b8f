//! Delivery stats and the failing sweep's store operations, on both stores.

use std::time::Duration;

use webhook_domain::{
    Attempt, AttemptOutcome, DeliveryStats, Endpoint, EndpointChanges, EndpointStatus,
    FailureCategory, OrgId, RequestedStatus, Timestamp,
};
use webhook_store::{DeliveryStatsStore, EndpointStore, Recorded, StreakCandidate};

use crate::support::{at, new_endpoint, updated};

pub(crate) const ORG: OrgId = OrgId::new(77);
pub(crate) const HOUR: i64 = 3_600_000;

pub(crate) fn failure(at: Timestamp) -> Attempt {
    Attempt {
        at,
        outcome: AttemptOutcome::from_status(503),
        duration: Duration::from_millis(40),
    }
}

fn timeout(at: Timestamp) -> Attempt {
    Attempt {
        at,
        outcome: AttemptOutcome::Failed {
            status: None,
            category: FailureCategory::Timeout,
        },
        duration: Duration::from_secs(30),
    }
}

pub(crate) fn success(at: Timestamp) -> Attempt {
    Attempt {
        at,
        outcome: AttemptOutcome::from_status(200),
        duration: Duration::from_millis(15),
    }
}

pub async fn all_candidates<S: DeliveryStatsStore>(
    store: &S,
    cutoff: Timestamp,
) -> Vec<StreakCandidate> {
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.streak_candidates(cutoff, cursor).await.unwrap();
        all.extend(page.candidates);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return all,
        }
    }
}

async fn record<S: DeliveryStatsStore>(
    store: &S,
    endpoint: &Endpoint,
    attempt: &Attempt,
) -> Recorded {
    store
        .record_attempt(endpoint, attempt, false)
        .await
        .unwrap()
}

async fn mark<S: DeliveryStatsStore>(
    store: &S,
    candidate: &StreakCandidate,
    now: Timestamp,
) -> bool {
    store.mark_failing(candidate, now).await.unwrap()
}

/// The endpoint as stored now, which must exist.
pub(crate) async fn stored<S: EndpointStore>(store: &S, endpoint: &Endpoint) -> Endpoint {
    store
        .list(endpoint.org_id)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.id == endpoint.id)
        .unwrap()
}

/// The endpoint's stats, which must exist.
pub(crate) async fn stats_of<S: DeliveryStatsStore>(
    store: &S,
    endpoint: &Endpoint,
) -> DeliveryStats {
    store
        .delivery_stats(endpoint.org_id, endpoint.id)
        .await
        .unwrap()
        .unwrap()
}

/// A new endpoint whose streak began with a failure at one hour.
pub(crate) async fn endpoint_failing_since_one_hour<S: EndpointStore + DeliveryStatsStore>(
    store: &S,
    label: &str,
) -> Endpoint {
    let (endpoint, secret) = new_endpoint(ORG, label, at(0));
    store.create(&endpoint, &secret, 50, None).await.unwrap();
    record(store, &endpoint, &failure(at(HOUR))).await;
    endpoint
}

/// The one streak a sweep at 25 hours finds.
async fn the_candidate<S: DeliveryStatsStore>(store: &S) -> StreakCandidate {
    let [candidate] = all_candidates(store, at(25 * HOUR))
        .await
        .try_into()
        .unwrap();
    candidate
}

pub async fn counts_outcomes_and_tracks_the_streak<S: EndpointStore + DeliveryStatsStore>(
    store: S,
) {
    let (endpoint, secret) = new_endpoint(ORG, "counted", at(0));
    store.create(&endpoint, &secret, 50, None).await.unwrap();
    let fresh = stats_of(&store, &endpoint).await;
    assert_eq!(
        (
            fresh.success_count,
            fresh.failure_count,
            fresh.failing_since
        ),
        (0, 0, None)
    );

    assert_eq!(
        record(&store, &endpoint, &failure(at(HOUR))).await,
        Recorded::Counted
    );
    let last = timeout(at(2 * HOUR));
    let gives_up = store.record_attempt(&endpoint, &last, true).await.unwrap();
    assert_eq!(gives_up, Recorded::Counted);
    let failing = stats_of(&store, &endpoint).await;
    assert_eq!(
        (failing.given_up_count, failing.last_given_up_at),
        (1, Some(at(2 * HOUR))),
        "the give-up is counted in the attempt's own write"
    );
    assert_eq!(failing.failing_since, Some(at(HOUR)));
    assert_eq!(failing.failure_count, 2);
    assert_eq!(failing.last_attempt_at, Some(at(2 * HOUR)));
    assert_eq!(
        (failing.last_status, failing.last_failure),
        (None, Some(FailureCategory::Timeout))
    );
    assert_eq!(failing.last_duration_ms, Some(30_000));

    record(&store, &endpoint, &success(at(3 * HOUR))).await;
    let healthy = stats_of(&store, &endpoint).await;
    assert_eq!(healthy.failing_since, None);
    assert_eq!((healthy.success_count, healthy.failure_count), (1, 2));
    assert_eq!(
        (healthy.last_status, healthy.last_failure),
        (Some(200), Some(FailureCategory::Timeout)),
        "the last failure is remembered past a success"
    );
    assert_eq!(healthy.last_success_at, Some(at(3 * HOUR)));
    assert_eq!(healthy.last_failure_at, Some(at(2 * HOUR)));
    assert_eq!(healthy.given_up_count, 1, "a success gives nothing up");
    assert!(all_candidates(&store, at(10 * HOUR)).await.is_empty());
    assert_eq!(
        store
            .delivery_stats(OrgId::new(1), endpoint.id)
            .await
            .unwrap(),
        None,
        "other orgs see nothing"
    );
}

pub async fn a_success_revives_a_failing_endpoint_but_not_a_disabled_one<
    S: EndpointStore + DeliveryStatsStore,
>(
    store: S,
) {
    let (mut failing, secret) = new_endpoint(ORG, "failing", at(0));
    failing.status = EndpointStatus::Failing;
    store.create(&failing, &secret, 50, None).await.unwrap();
    let (mut disabled, secret2) = new_endpoint(ORG, "disabled", at(1));
    disabled.status = EndpointStatus::Disabled;
    store.create(&disabled, &secret2, 50, None).await.unwrap();

    assert_eq!(
        record(&store, &failing, &success(at(HOUR))).await,
        Recorded::Revived {
            failing_since: None
        },
        "failing with no streak on record"
    );
    assert_eq!(
        record(&store, &disabled, &success(at(HOUR))).await,
        Recorded::Counted
    );
    let listed = store.list(ORG).await.unwrap();
    assert_eq!(listed[0].status, EndpointStatus::Active);
    assert_eq!(listed[0].updated_at, at(HOUR));
    assert_eq!(listed[1].status, EndpointStatus::Disabled);
}

pub async fn nothing_is_recorded_for_a_deleted_endpoint<S: EndpointStore + DeliveryStatsStore>(
    store: S,
) {
    let endpoint = endpoint_failing_since_one_hour(&store, "gone").await;
    store.delete(ORG, endpoint.id).await.unwrap();
    assert_eq!(
        store.delivery_stats(ORG, endpoint.id).await.unwrap(),
        None,
        "stats die with the endpoint"
    );
    for attempt in [failure(at(2 * HOUR)), success(at(2 * HOUR))] {
        assert_eq!(
            record(&store, &endpoint, &attempt).await,
            Recorded::EndpointGone
        );
    }
    let last = failure(at(3 * HOUR));
    let given_up = store.record_attempt(&endpoint, &last, true).await.unwrap();
    assert_eq!(given_up, Recorded::EndpointGone);
    assert_eq!(
        store.delivery_stats(ORG, endpoint.id).await.unwrap(),
        None,
        "no orphan stats"
    );
    assert!(all_candidates(&store, at(100 * HOUR)).await.is_empty());
    assert!(store.list(ORG).await.unwrap().is_empty(), "no resurrection");
}

pub async fn candidates_are_the_streaks_older_than_the_cutoff<
    S: EndpointStore + DeliveryStatsStore,
>(
    store: S,
) {
    let mut old = Vec::new();
    // More than a few pages of 7.
    for i in 0..30 {
        let (endpoint, secret) = new_endpoint(ORG, &format!("old {i}"), at(0));
        store.create(&endpoint, &secret, 500, None).await.unwrap();
        record(&store, &endpoint, &failure(at(HOUR + i))).await;
        old.push(endpoint.id);
    }
    let (recent, secret) = new_endpoint(ORG, "recent", at(0));
    store.create(&recent, &secret, 500, None).await.unwrap();
    record(&store, &recent, &failure(at(5 * HOUR))).await;
    let (healthy, secret) = new_endpoint(ORG, "healthy", at(0));
    store.create(&healthy, &secret, 500, None).await.unwrap();
    record(&store, &healthy, &success(at(HOUR))).await;

    let candidates = all_candidates(&store, at(2 * HOUR)).await;
    let mut ids: Vec<_> = candidates.iter().map(|c| c.endpoint_id).collect();
    ids.sort();
    old.sort();
    assert_eq!(ids, old, "every old streak, across pages, and nothing else");
    assert!(
        candidates
            .iter()
            .all(|c| c.org_id == ORG && c.failing_since <= at(2 * HOUR))
    );
}

pub async fn marks_only_active_endpoints_still_in_the_same_streak<
    S: EndpointStore + DeliveryStatsStore,
>(
    store: S,
) {
    endpoint_failing_since_one_hour(&store, "flaky").await;
    let candidate = the_candidate(&store).await;
    assert_eq!(candidate.failing_since, at(HOUR));

    assert!(mark(&store, &candidate, at(25 * HOUR)).await);
    let marked = store.list(ORG).await.unwrap().remove(0);
    assert_eq!(
        (marked.status, marked.updated_at),
        (EndpointStatus::Failing, at(25 * HOUR))
    );
    assert!(!mark(&store, &candidate, at(26 * HOUR)).await, "idempotent");
    assert!(
        all_candidates(&store, at(26 * HOUR)).await.is_empty(),
        "a marked streak is swept no more"
    );
    record(&store, &marked, &failure(at(26 * HOUR))).await;
    assert!(
        all_candidates(&store, at(27 * HOUR)).await.is_empty(),
        "nor when it goes on"
    );

    let stale = StreakCandidate {
        failing_since: at(HOUR - 1),
        ..candidate
    };
    let (other, secret) = new_endpoint(ORG, "other", at(0));
    store.create(&other, &secret, 50, None).await.unwrap();
    let wrong_streak = StreakCandidate {
        endpoint_id: other.id,
        ..candidate
    };
    assert!(!mark(&store, &stale, at(26 * HOUR)).await);
    assert!(
        !mark(&store, &wrong_streak, at(26 * HOUR)).await,
        "no streak, no mark"
    );

    let pause = EndpointChanges::status(RequestedStatus::Disabled);
    updated(&store, &other, &pause, at(2 * HOUR)).await;
    record(&store, &other, &failure(at(3 * HOUR))).await;
    let disabled_candidate = StreakCandidate {
        endpoint_id: other.id,
        failing_since: at(3 * HOUR),
        ..candidate
    };
    assert!(
        !mark(&store, &disabled_candidate, at(30 * HOUR)).await,
        "disabled stays disabled"
    );
    let stored = stored(&store, &other).await;
    assert_eq!(stored.status, EndpointStatus::Disabled);
}

/// The sweeper saw the streak; then the user re-activated the endpoint.
pub async fn reactivation_beats_the_sweeper<S: EndpointStore + DeliveryStatsStore>(store: S) {
    let endpoint = endpoint_failing_since_one_hour(&store, "revived by hand").await;
    let candidate = the_candidate(&store).await;
    assert!(mark(&store, &candidate, at(25 * HOUR)).await);

    let activate = EndpointChanges::status(RequestedStatus::Active);
    let revived = updated(&store, &endpoint, &activate, at(26 * HOUR)).await;
    assert_eq!(revived.status, EndpointStatus::Active);
    assert!(
        !mark(&store, &candidate, at(27 * HOUR)).await,
        "the old streak no longer counts"
    );
    assert_eq!(
        store.list(ORG).await.unwrap()[0].status,
        EndpointStatus::Active
    );

    // Failures after the re-activation start a new streak, which counts in full.
    let current = store.list(ORG).await.unwrap().remove(0);
    record(&store, &current, &failure(at(28 * HOUR))).await;
    let stats = stats_of(&store, &endpoint).await;
    assert_eq!(stats.failing_since, Some(at(28 * HOUR)));
    assert!(
        all_candidates(&store, at(28 * HOUR - 1)).await.is_empty(),
        "the old streak is gone"
    );
    let [fresh] = all_candidates(&store, at(28 * HOUR))
        .await
        .try_into()
        .unwrap();
    assert!(mark(&store, &fresh, at(52 * HOUR)).await);
}

/// The sweeper saw the streak; then the endpoint was deleted.
pub async fn deletion_beats_the_sweeper<S: EndpointStore + DeliveryStatsStore>(store: S) {
    let endpoint = endpoint_failing_since_one_hour(&store, "deleted").await;
    let candidate = the_candidate(&store).await;
    store.delete(ORG, endpoint.id).await.unwrap();
    assert!(!mark(&store, &candidate, at(25 * HOUR)).await);
    assert!(store.list(ORG).await.unwrap().is_empty(), "no resurrection");
    assert_eq!(store.delivery_stats(ORG, endpoint.id).await.unwrap(), None);
}

/// Sweeper, PATCH, DELETE and outcomes racing on one endpoint: whatever the order, the end
/// state is one a sequential order could produce.
pub async fn racing_writers_leave_a_consistent_endpoint<S: EndpointStore + DeliveryStatsStore>(
    store: S,
) {
    let endpoint = endpoint_failing_since_one_hour(&store, "raced").await;
    let candidate = the_candidate(&store).await;
    let activate = EndpointChanges {
        label: Some(webhook_domain::Label::parse("renamed").unwrap()),
        status: Some(RequestedStatus::Active),
        ..Default::default()
    };
    let late_failure = failure(at(25 * HOUR));
    let (marked, updated, recorded) = tokio::join!(
        store.mark_failing(&candidate, at(25 * HOUR)),
        store.update(ORG, endpoint.id, &activate, at(25 * HOUR)),
        store.record_attempt(&endpoint, &late_failure, false),
    );
    marked.unwrap();
    updated.unwrap();
    recorded.unwrap();
    let stored = store.list(ORG).await.unwrap().remove(0);
    assert_eq!(stored.label.as_str(), "renamed");

    let last_failure = failure(at(26 * HOUR));
    let (deleted, recorded, marked) = tokio::join!(
        store.delete(ORG, endpoint.id),
        store.record_attempt(&endpoint, &last_failure, false),
        store.mark_failing(&candidate, at(26 * HOUR)),
    );
    deleted.unwrap();
    recorded.unwrap();
    marked.unwrap();
    assert!(store.list(ORG).await.unwrap().is_empty());
    assert_eq!(
        store.delivery_stats(ORG, endpoint.id).await.unwrap(),
        None,
        "no orphan stats"
    );
}

/// The delivery read the endpoint while active; the sweeper marked it before the 2xx arrived.
pub async fn a_success_revives_an_endpoint_marked_after_the_delivery_read_it<
    S: EndpointStore + DeliveryStatsStore,
>(
    store: S,
) {
    let endpoint = endpoint_failing_since_one_hour(&store, "raced revive").await;
    let candidate = the_candidate(&store).await;
    assert!(mark(&store, &candidate, at(25 * HOUR)).await);
    let read_before_the_mark = endpoint;
    assert_eq!(
        record(&store, &read_before_the_mark, &success(at(26 * HOUR))).await,
        Recorded::Revived {
            failing_since: Some(at(HOUR))
        },
        "the streak the success ended"
    );
    assert_eq!(
        store.list(ORG).await.unwrap()[0].status,
        EndpointStatus::Active
    );
}

/// A streak no sweep can act on is looked at once, then set aside until a new streak begins.
pub async fn a_paused_endpoints_streak_is_swept_once<S: EndpointStore + DeliveryStatsStore>(
    store: S,
) {
    let endpoint = endpoint_failing_since_one_hour(&store, "paused").await;
    let pause = EndpointChanges::status(RequestedStatus::Disabled);
    updated(&store, &endpoint, &pause, at(2 * HOUR)).await;

    let candidate = the_candidate(&store).await;
    assert!(!mark(&store, &candidate, at(25 * HOUR)).await);
    assert!(
        all_candidates(&store, at(50 * HOUR)).await.is_empty(),
        "set aside"
    );

    let resume = EndpointChanges::status(RequestedStatus::Active);
    let resumed = updated(&store, &endpoint, &resume, at(51 * HOUR)).await;
    record(&store, &resumed, &failure(at(52 * HOUR))).await;
    let [fresh] = all_candidates(&store, at(52 * HOUR))
        .await
        .try_into()
        .unwrap();
    assert_eq!(
        fresh.failing_since,
        at(52 * HOUR),
        "a new streak is swept again"
    );
    assert!(mark(&store, &fresh, at(76 * HOUR)).await);
}
