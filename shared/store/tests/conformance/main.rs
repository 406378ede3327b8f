//! One suite, two stores: every behaviour the API relies on must hold for the in-memory store
//! and for DynamoDB (moto_server, started by `scripts/test`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod dynamodb_only;
mod log;
mod rules;
mod stats;
mod support;

use futures::future::join_all;
use log::*;
use rules::*;
use stats::*;
use support::{at, created, new_endpoint, signing, updated};
use webhook_domain::{
    AgentId, Endpoint, EndpointChanges, EndpointStatus, EndpointUrl, EventSubscription, EventType,
    Label, OrgId, RequestedStatus,
};
use webhook_store::{EndpointStore, ExternalIdStore, StoreError};

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test]
            async fn $name() {
                super::$name(webhook_store::MemoryStore::new().with_streak_page_size(7)).await
            })*
        }
        mod dynamodb {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::support::dynamo_store().await.with_streak_page_size(7)).await
            })*
        }
    };
}

conformance! {
    lists_oldest_first,
    lists_only_the_callers_organization,
    round_trips_every_field,
    enforces_the_per_org_limit,
    enforces_the_limit_under_concurrent_creates,
    updates_only_the_given_fields,
    same_values_do_not_move_updated_at,
    empty_changes_return_the_endpoint_unchanged,
    the_same_events_in_another_order_are_no_change,
    clears_and_sets_the_agent,
    revives_a_failing_endpoint_on_request,
    unknown_or_foreign_endpoints_are_not_found,
    concurrent_updates_of_different_fields_both_survive,
    deletes_once,
    an_update_never_resurrects_a_deleted_endpoint,
    the_signing_target_is_the_endpoint_and_its_secret,
    counts_outcomes_and_tracks_the_streak,
    a_success_revives_a_failing_endpoint_but_not_a_disabled_one,
    nothing_is_recorded_for_a_deleted_endpoint,
    candidates_are_the_streaks_older_than_the_cutoff,
    marks_only_active_endpoints_still_in_the_same_streak,
    reactivation_beats_the_sweeper,
    deletion_beats_the_sweeper,
    racing_writers_leave_a_consistent_endpoint,
    a_success_revives_an_endpoint_marked_after_the_delivery_read_it,
    a_paused_endpoints_streak_is_swept_once,
    the_legacy_webhook_keeps_its_first_secret,
    delivery_targets_are_the_endpoints_and_whether_a_legacy_url_is_set,
    the_log_pages_newest_first_under_every_filter,
    a_late_duplicate_does_not_overwrite_a_later_attempt,
    ending_a_retrying_record_marks_it_failed,
    expired_records_are_not_listed,
    one_delivery_is_found_by_its_event_and_destination,
    records_without_a_body_show_their_events,
    reopening_a_record_follows_the_domain,
    a_page_of_the_log_lists_no_bodies,
    revive_follows_the_domain,
    marking_failing_follows_the_domain,
    ending_a_record_follows_the_domain,
    claiming_an_attempt_follows_the_domain,
    rotating_an_endpoint_secret_follows_the_domain,
    rotating_the_legacy_secret_follows_the_domain,
    idempotency_keys_follow_the_domain,
    recent_attempts_follow_the_domain,
    api_keys_follow_the_domain,
    portal_sessions_are_read_as_keys_and_never_listed,
    quotas_follow_the_domain,
    sets_and_removes_the_rate_limit,
    pace_follows_the_domain,
    an_aws_endpoint_keeps_its_role,
    an_organization_has_one_external_id,
}

const ORG: OrgId = OrgId::new(41);
const OTHER_ORG: OrgId = OrgId::new(42);

async fn lists_oldest_first(store: impl EndpointStore) {
    let (second, s2) = new_endpoint(ORG, "second", at(2_000));
    let (first, s1) = new_endpoint(ORG, "first", at(1_000));
    let (third, s3) = new_endpoint(ORG, "third", at(3_000));
    for (endpoint, secret) in [(&second, &s2), (&third, &s3), (&first, &s1)] {
        store.create(endpoint, secret, 50, None).await.unwrap();
    }
    let listed = store.list(ORG).await.unwrap();
    assert_eq!(listed, vec![first, second, third]);
}

async fn lists_only_the_callers_organization(store: impl EndpointStore) {
    let (mine, s1) = new_endpoint(ORG, "mine", at(1));
    let (theirs, s2) = new_endpoint(OTHER_ORG, "theirs", at(2));
    store.create(&mine, &s1, 50, None).await.unwrap();
    store.create(&theirs, &s2, 50, None).await.unwrap();
    assert_eq!(store.list(ORG).await.unwrap(), vec![mine]);
    assert_eq!(store.list(OTHER_ORG).await.unwrap(), vec![theirs]);
    assert_eq!(store.list(OrgId::new(43)).await.unwrap(), vec![]);
}

async fn round_trips_every_field(store: impl EndpointStore) {
    let (mut endpoint, secret) = new_endpoint(ORG, "Ünïcode label ✓", at(1_776_709_450_113));
    endpoint.events = EventSubscription::from(vec![EventType::WebTool, EventType::CallGraded]);
    endpoint.status = EndpointStatus::Disabled;
    endpoint.agent_id = AgentId::new(u64::MAX);
    endpoint.url = EndpointUrl::parse("https://example.com/a?b=c&d=%20").unwrap();
    endpoint.rate_limit = webhook_domain::RateLimit::new(100).ok();
    store.create(&endpoint, &secret, 50, None).await.unwrap();
    assert_eq!(store.list(ORG).await.unwrap(), vec![endpoint]);
}

async fn enforces_the_per_org_limit(store: impl EndpointStore) {
    let mut created = Vec::new();
    for i in 0..3 {
        let (endpoint, secret) = new_endpoint(ORG, &format!("e{i}"), at(i));
        store.create(&endpoint, &secret, 3, None).await.unwrap();
        created.push(endpoint);
    }
    let (extra, secret) = new_endpoint(ORG, "one too many", at(10));
    let refused = store.create(&extra, &secret, 3, None).await;
    assert!(
        matches!(refused, Err(StoreError::LimitReached { limit: 3 })),
        "{refused:?}"
    );
    assert_eq!(
        store.list(ORG).await.unwrap().len(),
        3,
        "nothing half-written"
    );

    let (elsewhere, secret_elsewhere) = new_endpoint(OTHER_ORG, "other org", at(11));
    store
        .create(&elsewhere, &secret_elsewhere, 3, None)
        .await
        .unwrap();

    store.delete(ORG, created[0].id).await.unwrap();
    store.create(&extra, &secret, 3, None).await.unwrap();
    assert_eq!(store.list(ORG).await.unwrap().len(), 3);
}

async fn enforces_the_limit_under_concurrent_creates(store: impl EndpointStore) {
    let attempts = (0..8).map(|i| new_endpoint(ORG, &format!("racer {i}"), at(i)));
    let attempts: Vec<_> = attempts.collect();
    let results = join_all(attempts.iter().map(|(e, s)| store.create(e, s, 5, None))).await;
    let created = results.iter().filter(|r| r.is_ok()).count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::LimitReached { .. })))
        .count();
    // DynamoDB may also cancel a transaction that conflicts with a concurrent one; those are
    // reported as unavailable (retryable), never as a silent extra endpoint.
    let conflicted = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Unavailable(_))))
        .count();
    assert_eq!(created + refused + conflicted, 8, "{results:?}");
    assert!(created <= 5);
    assert_eq!(store.list(ORG).await.unwrap().len(), created);
}

async fn updates_only_the_given_fields(store: impl EndpointStore) {
    let endpoint = created(&store, ORG, "before", at(1_000)).await;
    let changes = EndpointChanges {
        label: Some(Label::parse("after").unwrap()),
        events: Some(EventSubscription::from(vec![EventType::IssueReported])),
        ..Default::default()
    };
    let updated = updated(&store, &endpoint, &changes, at(5_000)).await;
    let mut expected = endpoint.clone();
    expected.label = Label::parse("after").unwrap();
    expected.events = EventSubscription::from(vec![EventType::IssueReported]);
    expected.updated_at = at(5_000);
    assert_eq!(updated, expected);
    assert_eq!(store.list(ORG).await.unwrap(), vec![expected]);
}

async fn same_values_do_not_move_updated_at(store: impl EndpointStore) {
    let endpoint = created(&store, ORG, "same", at(1_000)).await;
    let changes = EndpointChanges {
        label: Some(endpoint.label.clone()),
        url: Some(endpoint.url.clone()),
        role_arn: Some(None),
        events: Some(endpoint.events.clone()),
        status: Some(RequestedStatus::Active),
        agent_id: Some(None),
        headers: Some(endpoint.headers.clone()),
        rate_limit: Some(None),
    };
    let unchanged = updated(&store, &endpoint, &changes, at(9_000)).await;
    assert_eq!(unchanged, endpoint);
}

async fn the_same_events_in_another_order_are_no_change(store: impl EndpointStore) {
    use webhook_domain::{EventSubscription, EventType};
    let endpoint = created(&store, ORG, "set", at(1_000)).await;
    let ordered = EventSubscription::from(vec![EventType::WebTool, EventType::CallGraded]);
    let reordered = EventSubscription::from(vec![EventType::CallGraded, EventType::WebTool]);
    let set = EndpointChanges {
        events: Some(ordered.clone()),
        ..Default::default()
    };
    let stored = updated(&store, &endpoint, &set, at(2_000)).await;
    assert_eq!(
        (stored.events.clone(), stored.updated_at),
        (ordered.clone(), at(2_000))
    );

    let same = EndpointChanges {
        events: Some(reordered.clone()),
        ..Default::default()
    };
    let unchanged = updated(&store, &endpoint, &same, at(3_000)).await;
    assert_eq!(
        unchanged, stored,
        "no change: updated_at and the order stay"
    );

    let renamed = EndpointChanges {
        events: Some(reordered),
        label: Some(webhook_domain::Label::parse("renamed").unwrap()),
        ..Default::default()
    };
    let after = updated(&store, &endpoint, &renamed, at(4_000)).await;
    assert_eq!(after.label.as_str(), "renamed");
    assert_eq!(
        (after.events, after.updated_at),
        (ordered, at(4_000)),
        "the order stays"
    );
}

async fn empty_changes_return_the_endpoint_unchanged(store: impl EndpointStore) {
    let endpoint = created(&store, ORG, "untouched", at(1_000)).await;
    let same = updated(&store, &endpoint, &EndpointChanges::default(), at(9_000)).await;
    assert_eq!(same, endpoint);
}

async fn clears_and_sets_the_agent(store: impl EndpointStore) {
    let change = |agent_id| EndpointChanges {
        agent_id: Some(agent_id),
        ..Default::default()
    };
    sets_and_clears(&store, change, |e| e.agent_id, AgentId::new(77)).await;
}

async fn sets_and_removes_the_rate_limit(store: impl EndpointStore) {
    let change = |rate_limit| EndpointChanges {
        rate_limit: Some(rate_limit),
        ..Default::default()
    };
    let five = webhook_domain::RateLimit::new(5).ok();
    sets_and_clears(&store, change, |e| e.rate_limit, five).await;
}

/// An optional field set to `value`, set to it again, cleared and cleared again: only a change
/// moves `updated_at`, and the list reads what the last change left.
async fn sets_and_clears<T: PartialEq + std::fmt::Debug + Copy>(
    store: &impl EndpointStore,
    change: impl Fn(Option<T>) -> EndpointChanges,
    read: impl Fn(&Endpoint) -> Option<T>,
    value: Option<T>,
) {
    let endpoint = created(store, ORG, "optional", at(1_000)).await;
    let set = updated(store, &endpoint, &change(value), at(2_000)).await;
    assert_eq!((read(&set), set.updated_at), (value, at(2_000)));
    let again = updated(store, &endpoint, &change(value), at(3_000)).await;
    assert_eq!(again.updated_at, at(2_000), "the same value is no change");
    let cleared = updated(store, &endpoint, &change(None), at(4_000)).await;
    assert_eq!((read(&cleared), cleared.updated_at), (None, at(4_000)));
    let unchanged = updated(store, &endpoint, &change(None), at(5_000)).await;
    assert_eq!(unchanged.updated_at, at(4_000), "nothing to clear");
    assert_eq!(store.list(ORG).await.unwrap(), vec![cleared]);
}

async fn revives_a_failing_endpoint_on_request(store: impl EndpointStore) {
    let (mut endpoint, secret) = new_endpoint(ORG, "failing", at(1_000));
    endpoint.status = EndpointStatus::Failing;
    store.create(&endpoint, &secret, 50, None).await.unwrap();
    let activate = EndpointChanges::status(RequestedStatus::Active);
    let revived = updated(&store, &endpoint, &activate, at(2_000)).await;
    assert_eq!(revived.status, EndpointStatus::Active);
    assert_eq!(revived.updated_at, at(2_000));
}

async fn unknown_or_foreign_endpoints_are_not_found(store: impl EndpointStore) {
    let endpoint = created(&store, ORG, "mine", at(1_000)).await;
    let (never_stored, _) = new_endpoint(ORG, "ghost", at(1_000));
    let rename = EndpointChanges {
        label: Some(Label::parse("stolen").unwrap()),
        ..Default::default()
    };
    for (org, id) in [(OTHER_ORG, endpoint.id), (ORG, never_stored.id)] {
        for changes in [&rename, &EndpointChanges::default()] {
            let result = store.update(org, id, changes, at(2_000)).await;
            assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
        }
        assert!(matches!(
            store.delete(org, id).await,
            Err(StoreError::NotFound)
        ));
    }
    assert_eq!(store.list(ORG).await.unwrap(), vec![endpoint]);
    assert_eq!(store.list(OTHER_ORG).await.unwrap(), vec![]);
}

async fn concurrent_updates_of_different_fields_both_survive(store: impl EndpointStore) {
    let endpoint = created(&store, ORG, "shared", at(1_000)).await;
    let rename = EndpointChanges {
        label: Some(Label::parse("renamed").unwrap()),
        ..Default::default()
    };
    let pause = EndpointChanges::status(RequestedStatus::Disabled);
    let (a, b) = tokio::join!(
        store.update(ORG, endpoint.id, &rename, at(2_000)),
        store.update(ORG, endpoint.id, &pause, at(2_000)),
    );
    a.unwrap();
    b.unwrap();
    let [stored] = store.list(ORG).await.unwrap().try_into().unwrap();
    assert_eq!(stored.label.as_str(), "renamed");
    assert_eq!(stored.status, EndpointStatus::Disabled);
}

async fn deletes_once(store: impl EndpointStore) {
    let (endpoint, secret) = new_endpoint(ORG, "doomed", at(1_000));
    let (kept, kept_secret) = new_endpoint(ORG, "kept", at(2_000));
    store.create(&endpoint, &secret, 50, None).await.unwrap();
    store.create(&kept, &kept_secret, 50, None).await.unwrap();
    store.delete(ORG, endpoint.id).await.unwrap();
    assert!(matches!(
        store.delete(ORG, endpoint.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.list(ORG).await.unwrap(), vec![kept]);
}

async fn an_update_never_resurrects_a_deleted_endpoint(store: impl EndpointStore) {
    let endpoint = created(&store, ORG, "deleted", at(1_000)).await;
    let rename = EndpointChanges {
        label: Some(Label::parse("zombie").unwrap()),
        ..Default::default()
    };
    let (deleted, updated) = tokio::join!(
        store.delete(ORG, endpoint.id),
        store.update(ORG, endpoint.id, &rename, at(2_000)),
    );
    deleted.unwrap();
    assert!(
        matches!(updated, Ok(_) | Err(StoreError::NotFound)),
        "{updated:?}"
    );
    let late = store.update(ORG, endpoint.id, &rename, at(3_000)).await;
    assert!(matches!(late, Err(StoreError::NotFound)), "{late:?}");
    assert_eq!(store.list(ORG).await.unwrap(), vec![]);
}

async fn the_signing_target_is_the_endpoint_and_its_secret(store: impl EndpointStore) {
    let (endpoint, secret) = new_endpoint(ORG, "signed", at(1_000));
    store.create(&endpoint, &secret, 50, None).await.unwrap();
    let (read, read_secret) = signing(&store, ORG, endpoint.id).await.unwrap();
    assert_eq!(read, endpoint);
    assert_eq!(read_secret, webhook_domain::SigningKeys::new(secret));
    assert!(signing(&store, OTHER_ORG, endpoint.id).await.is_none());
    store.delete(ORG, endpoint.id).await.unwrap();
    assert!(signing(&store, ORG, endpoint.id).await.is_none());
}

async fn set_legacy<S: webhook_store::LegacyWebhookStore>(
    store: &S,
    url: &EndpointUrl,
    new_secret: &webhook_domain::SigningSecret,
    now: webhook_domain::Timestamp,
) -> webhook_domain::LegacyWebhook {
    let new = webhook_domain::LegacyWebhook::new(ORG, url.clone(), new_secret.clone(), now);
    store.set_legacy_webhook(&new).await.unwrap()
}

async fn the_legacy_webhook_keeps_its_first_secret<S: webhook_store::LegacyWebhookStore>(store: S) {
    use webhook_domain::SigningSecret;
    assert!(store.legacy_webhook(ORG).await.unwrap().is_none());
    let first_url = EndpointUrl::parse("https://legacy.example.com/a").unwrap();
    let first_secret = SigningSecret::generate().unwrap();
    let created = set_legacy(&store, &first_url, &first_secret, at(1_000)).await;
    assert_eq!(
        (created.url.clone(), created.created_at, created.updated_at),
        (first_url, at(1_000), at(1_000))
    );
    assert_eq!(created.keys.current.expose(), first_secret.expose());

    let second_url = EndpointUrl::parse("https://legacy.example.com/b").unwrap();
    let unused = SigningSecret::generate().unwrap();
    let changed = set_legacy(&store, &second_url, &unused, at(2_000)).await;
    assert_eq!(changed.url, second_url);
    assert_eq!(
        changed.keys.current.expose(),
        first_secret.expose(),
        "the secret stays"
    );
    assert_eq!(
        (changed.created_at, changed.updated_at),
        (at(1_000), at(2_000))
    );
    assert_eq!(store.legacy_webhook(ORG).await.unwrap(), Some(changed));
    assert!(store.legacy_webhook(OTHER_ORG).await.unwrap().is_none());
}

async fn delivery_targets_are_the_endpoints_and_whether_a_legacy_url_is_set<S>(store: S)
where
    S: EndpointStore + webhook_store::LegacyWebhookStore,
{
    let (second, s2) = new_endpoint(ORG, "second", at(2_000));
    let (first, s1) = new_endpoint(ORG, "first", at(1_000));
    for (endpoint, secret) in [(&second, &s2), (&first, &s1)] {
        store.create(endpoint, secret, 50, None).await.unwrap();
    }
    let targets = store.delivery_targets(ORG).await.unwrap();
    assert_eq!(targets.endpoints, vec![first.clone(), second.clone()]);
    assert!(!targets.legacy_url_set);

    let url = EndpointUrl::parse("https://legacy.example.com/hook").unwrap();
    let secret = webhook_domain::SigningSecret::generate().unwrap();
    set_legacy(&store, &url, &secret, at(3_000)).await;
    let targets = store.delivery_targets(ORG).await.unwrap();
    assert_eq!(targets.endpoints, vec![first, second]);
    assert!(targets.legacy_url_set);
    assert!(
        !store
            .delivery_targets(OTHER_ORG)
            .await
            .unwrap()
            .legacy_url_set
    );
}

async fn an_aws_endpoint_keeps_its_role(store: impl EndpointStore) {
    let (mut endpoint, secret) = new_endpoint(ORG, "queue", at(1_000));
    endpoint.url = EndpointUrl::parse_endpoint("arn:aws:sqs:eu-west-1:123456789012:hooks").unwrap();
    endpoint.role_arn =
        Some(webhook_domain::RoleArn::parse("arn:aws:iam::123456789012:role/r").unwrap());
    store.create(&endpoint, &secret, 50, None).await.unwrap();
    assert_eq!(store.list(ORG).await.unwrap(), vec![endpoint.clone()]);

    let https = EndpointChanges {
        url: Some(EndpointUrl::parse("https://example.com/h").unwrap()),
        role_arn: Some(None),
        ..EndpointChanges::default()
    };
    let moved = updated(&store, &endpoint, &https, at(2_000)).await;
    assert_eq!(moved.role_arn, None, "an https url takes the role away");
    assert_eq!(store.list(ORG).await.unwrap(), vec![moved]);

    let back = EndpointChanges {
        url: Some(endpoint.url.clone()),
        role_arn: Some(endpoint.role_arn.clone()),
        ..EndpointChanges::default()
    };
    let again = updated(&store, &endpoint, &back, at(3_000)).await;
    assert_eq!(again.role_arn, endpoint.role_arn);
    assert_eq!(again.url, endpoint.url);
}

async fn an_organization_has_one_external_id(store: impl ExternalIdStore + Clone) {
    let first_asks = join_all((0..8).map(|_| {
        let store = store.clone();
        async move { store.external_id(ORG).await.unwrap() }
    }))
    .await;
    let issued = first_asks[0].clone();
    assert!(first_asks.iter().all(|id| *id == issued), "{first_asks:?}");
    assert_eq!(store.external_id(ORG).await.unwrap(), issued);
    assert_ne!(store.external_id(OTHER_ORG).await.unwrap(), issued);
}
