//! One test per domain rule a store applies: each predicts the outcome with the domain's own
//! function and fails if the store does anything else. Run on both stores, they fail if either
//! store (the DynamoDB one writes its rules as condition expressions) disagrees with the domain.

use webhook_domain::{
    DeliveryRecord, DeliveryStatus, Endpoint, EndpointChanges, EndpointId, EndpointUrl,
    IdempotencyKey, IdempotencyRecord, LegacyWebhook, LogQuery, OrgId, Replay, RequestedStatus,
    Rotation, RotationGrace, SigningKeys, SigningSecret, SweepVerdict, may_revive, sweep_verdict,
};
use webhook_store::{
    DeliveryLogStore, DeliveryStatsStore, EndpointStore, IdempotencyStore, LegacyWebhookStore,
    Recorded, RotationAsked, StoreError, StreakCandidate,
};

use crate::log::record;
use crate::stats::{HOUR, endpoint_failing_since_one_hour, stats_of, stored, success};
use crate::support::{at, created, signing, updated};

const ORG: webhook_domain::OrgId = crate::stats::ORG;

fn candidate_of(endpoint: &Endpoint, seen: webhook_domain::Timestamp) -> StreakCandidate {
    StreakCandidate {
        org_id: endpoint.org_id,
        endpoint_id: endpoint.id,
        failing_since: seen,
    }
}

/// `may_revive` and `Endpoint::revive`: what a 2xx does to the endpoint it reached.
pub async fn revive_follows_the_domain<S: EndpointStore + DeliveryStatsStore>(store: S) {
    // (case, a sweep marked it, then paused, the delivery read it after those)
    let cases = [
        ("never marked", false, false, false),
        ("marked after the delivery read it", true, false, false),
        ("marked before the delivery read it", true, false, true),
        ("paused", false, true, true),
        ("marked, then paused", true, true, true),
    ];
    for (case, marked, paused, read_after) in cases {
        let endpoint = endpoint_failing_since_one_hour(&store, case).await;
        if marked {
            let candidate = candidate_of(&endpoint, at(HOUR));
            assert!(
                store.mark_failing(&candidate, at(25 * HOUR)).await.unwrap(),
                "{case}"
            );
        }
        if paused {
            let pause = EndpointChanges::status(RequestedStatus::Disabled);
            updated(&store, &endpoint, &pause, at(26 * HOUR)).await;
        }
        let read = if read_after {
            stored(&store, &endpoint).await
        } else {
            endpoint.clone()
        };
        let before = stored(&store, &endpoint).await;
        let was_marked = stats_of(&store, &endpoint)
            .await
            .marked_failing_at
            .is_some();
        let ok = success(at(27 * HOUR));

        let mut expected = before;
        let revives = may_revive(ok.outcome, read.status, was_marked) && expected.revive(ok.at);
        let recorded = store.record_attempt(&read, &ok, false).await.unwrap();
        assert_eq!(
            matches!(recorded, Recorded::Revived { .. }),
            revives,
            "{case}"
        );
        assert_eq!(stored(&store, &endpoint).await, expected, "{case}");
    }
}

/// `sweep_verdict`: what a sweep does with a streak it read.
pub async fn marking_failing_follows_the_domain<S: EndpointStore + DeliveryStatsStore>(store: S) {
    // (case, the change made between the read and the sweep, the streak start the sweep saw)
    let reactivate = EndpointChanges::status(RequestedStatus::Active);
    let pause = EndpointChanges::status(RequestedStatus::Disabled);
    let cases = [
        ("active", None, HOUR),
        ("paused", Some(&pause), HOUR),
        (
            "re-activated after the streak began",
            Some(&reactivate),
            HOUR,
        ),
        ("another streak than the one read", None, HOUR - 1),
    ];
    for (case, change, seen) in cases {
        let endpoint = endpoint_failing_since_one_hour(&store, case).await;
        if let Some(change) = change {
            let paused_first = EndpointChanges::status(RequestedStatus::Disabled);
            if change == &reactivate {
                // Only a real change re-activates: pause first, so `active` is one.
                updated(&store, &endpoint, &paused_first, at(2 * HOUR)).await;
            }
            store
                .update(ORG, endpoint.id, change, at(3 * HOUR))
                .await
                .unwrap();
        }
        let before = stored(&store, &endpoint).await;
        let verdict = sweep_verdict(&stats_of(&store, &endpoint).await, at(seen), &before);

        let marked = store
            .mark_failing(&candidate_of(&endpoint, at(seen)), at(25 * HOUR))
            .await
            .unwrap();
        assert_eq!(marked, verdict == SweepVerdict::Mark, "{case}");
        let after = stored(&store, &endpoint).await;
        let still_a_candidate = crate::stats::all_candidates(&store, at(50 * HOUR))
            .await
            .iter()
            .any(|c| c.endpoint_id == endpoint.id);
        match verdict {
            SweepVerdict::Mark => {
                assert_eq!(
                    after.status,
                    webhook_domain::EndpointStatus::Failing,
                    "{case}"
                );
                assert!(
                    !still_a_candidate,
                    "{case}: a marked streak is swept no more"
                );
            }
            SweepVerdict::SetAside => {
                assert_eq!(after, before, "{case}");
                assert!(!still_a_candidate, "{case}: set aside until a new streak");
            }
            SweepVerdict::Skip => {
                assert_eq!(after, before, "{case}");
                assert!(
                    still_a_candidate,
                    "{case}: the real streak still awaits a sweep"
                );
            }
        }
        // Clean the slate for the next case: its streak must not be counted with this one.
        store.delete(ORG, endpoint.id).await.unwrap();
    }
}

/// `DeliveryRecord::end`: ending a dropped delivery's record.
pub async fn ending_a_record_follows_the_domain(store: impl DeliveryLogStore) {
    // (stored status, stored attempts, attempts the dropped job had made)
    let cases = [
        (DeliveryStatus::Retrying, 1, 1),
        (DeliveryStatus::Retrying, 1, 2),
        (DeliveryStatus::Retrying, 3, 2),
        (DeliveryStatus::Delivered, 1, 1),
        (DeliveryStatus::Failed, 2, 2),
    ];
    for (i, (status, stored_attempts, attempts)) in cases.into_iter().enumerate() {
        let mut stored = record(ORG, Some(EndpointId::generate()), 1_000 + i as i64);
        stored.status = status;
        stored.attempt_count = stored_attempts;
        stored.next_retry_at = (status == DeliveryStatus::Retrying).then(|| at(60_000));
        store
            .record_delivery(&stored, at(i64::from(u32::MAX)))
            .await
            .unwrap();

        let mut expected: DeliveryRecord = stored.clone();
        expected.end(attempts);
        store
            .end_delivery(&stored.reference(), attempts)
            .await
            .unwrap();
        let filter = webhook_domain::DeliveryFilter {
            endpoint_id: stored.destination.endpoint(),
            ..Default::default()
        };
        let page = store
            .deliveries(ORG, &LogQuery::newest(filter, 10, at(2_000)).with_bodies())
            .await
            .unwrap();
        assert_eq!(
            page.records,
            vec![expected],
            "{status:?} {stored_attempts} {attempts}"
        );
    }
}

/// `DeliveryRecord::may_claim`: who may make an attempt, and the record a first claim leaves.
pub async fn claiming_an_attempt_follows_the_domain(store: impl DeliveryLogStore) {
    use webhook_domain::AttemptClaim;
    let claim = |attempt, until| AttemptClaim {
        attempt,
        until: at(until),
    };
    // (attempts made, claim held, claim asked for, now)
    let cases = [
        (1, None, claim(2, 90_000), 5_000),
        (1, None, claim(1, 90_000), 5_000),
        (1, Some(claim(2, 60_000)), claim(2, 90_000), 5_000),
        (1, Some(claim(2, 60_000)), claim(2, 90_000), 60_000),
        (2, None, claim(2, 90_000), 70_000),
        (2, None, claim(3, 90_000), 5_000),
        (2, Some(claim(3, 60_000)), claim(3, 90_000), 5_000),
        (2, Some(claim(3, 60_000)), claim(4, 90_000), 5_000),
    ];
    for (i, (made, held, asked, now)) in cases.into_iter().enumerate() {
        let mut stored = record(ORG, Some(EndpointId::generate()), 1_000 + i as i64);
        stored.attempt_count = made;
        store
            .record_delivery(&stored, at(i64::from(u32::MAX)))
            .await
            .unwrap();
        if let Some(held) = held {
            let taken = store
                .claim_attempt(&stored, held, at(0), at(i64::from(u32::MAX)))
                .await
                .unwrap();
            assert!(taken, "case {i}: the setup claim");
            stored.claim = Some(held);
        }
        let expected = stored.may_claim(&asked, at(now));
        let claimed = store
            .claim_attempt(&stored, asked, at(now), at(i64::from(u32::MAX)))
            .await
            .unwrap();
        assert_eq!(claimed, expected, "case {i}");
    }

    // The first claim of a delivery with no record writes it, out of sight until an attempt
    // is made; a second claim of the same attempt is refused.
    let mut before = record(ORG, Some(EndpointId::generate()), 100);
    before.attempt_count = 0;
    before.status = DeliveryStatus::Retrying;
    let first = claim(1, 30_000);
    assert!(
        store
            .claim_attempt(&before, first, at(100), at(i64::from(u32::MAX)))
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_attempt(&before, first, at(200), at(i64::from(u32::MAX)))
            .await
            .unwrap()
    );
    let filter = webhook_domain::DeliveryFilter {
        endpoint_id: before.destination.endpoint(),
        ..Default::default()
    };
    let everything = LogQuery::newest(webhook_domain::DeliveryFilter::default(), 200, at(2_000));
    let shown = store.deliveries(ORG, &everything).await.unwrap().records;
    assert!(
        shown.iter().all(|r| r.event_id != before.event_id),
        "not shown before an attempt"
    );
    let by_endpoint = store
        .deliveries(ORG, &LogQuery::newest(filter, 10, at(2_000)))
        .await;
    assert!(by_endpoint.unwrap().records.is_empty());
}

/// `SigningKeys::rotated` and `Endpoint::rotated`: what a rotation leaves behind, twice in a
/// grace period and once without one.
pub async fn rotating_an_endpoint_secret_follows_the_domain<S: EndpointStore>(store: S) {
    let (endpoint, secret) = crate::support::new_endpoint(ORG, "rotated", at(1_000));
    store.create(&endpoint, &secret, 50, None).await.unwrap();
    let mut expected_keys = SigningKeys::new(secret);
    let mut expected = endpoint.clone();
    for (now, hours) in [(2_000, 24), (3_000, 1), (4_000, 0), (5_000, 168)] {
        let rotation = Rotation::new(RotationGrace::from_hours(hours).unwrap(), at(now)).unwrap();
        let rotated = store
            .rotate_secret(RotationAsked::new(&expected, &rotation))
            .await
            .unwrap();
        expected.rotated(&rotation);
        expected_keys = expected_keys.rotated(rotation);
        assert_eq!(rotated, expected, "{hours} h");
        let (read, keys) = signing(&store, ORG, endpoint.id).await.unwrap();
        assert_eq!(
            (read, &keys),
            (expected.clone(), &expected_keys),
            "{hours} h"
        );
        assert!(keys.signing_at(at(now)).len() == 1 + usize::from(hours > 0));
    }
    let rotation = Rotation::new(RotationGrace::DEFAULT, at(6_000)).unwrap();
    // Rotated from a secret another rotation replaced: nothing written, the winner's stands.
    assert!(matches!(
        store
            .rotate_secret(RotationAsked::new(&endpoint, &rotation))
            .await,
        Err(webhook_store::StoreError::Superseded)
    ));
    let (_, keys) = signing(&store, ORG, endpoint.id).await.unwrap();
    assert_eq!(keys, expected_keys, "the superseded rotation wrote nothing");
    for (org, id) in [
        (webhook_domain::OrgId::new(78), endpoint.id),
        (ORG, EndpointId::generate()),
    ] {
        let elsewhere = webhook_domain::Endpoint {
            org_id: org,
            id,
            ..expected.clone()
        };
        assert!(matches!(
            store
                .rotate_secret(RotationAsked::new(&elsewhere, &rotation))
                .await,
            Err(webhook_store::StoreError::NotFound)
        ));
    }
    store.delete(ORG, endpoint.id).await.unwrap();
    assert!(matches!(
        store
            .rotate_secret(RotationAsked::new(&expected, &rotation))
            .await,
        Err(webhook_store::StoreError::NotFound)
    ));
    assert!(
        signing(&store, ORG, endpoint.id).await.is_none(),
        "nothing resurrected"
    );
}

/// The organization secret rotates the same way; an organization without a URL has nothing to
/// rotate.
pub async fn rotating_the_legacy_secret_follows_the_domain<S: LegacyWebhookStore>(store: S) {
    let url = EndpointUrl::parse("https://legacy.example.com/hook").unwrap();
    // The webhook as setting the URL at `now` would first create it.
    let new = |now| {
        LegacyWebhook::new(
            ORG,
            url.clone(),
            SigningSecret::generate().unwrap(),
            at(now),
        )
    };
    let unset = new(1_000);
    let rotate = |from, rotation| store.rotate_legacy_secret(RotationAsked::new(from, rotation));
    let stored = || async { store.legacy_webhook(ORG).await.unwrap() };
    let rotation = Rotation::new(RotationGrace::DEFAULT, at(2_000)).unwrap();
    assert!(matches!(
        rotate(&unset, &rotation).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(stored().await, None, "nothing created");
    let mut expected = store.set_legacy_webhook(&new(1_000)).await.unwrap();
    let first_seen = expected.clone();
    for (now, hours) in [(2_000, 24), (3_000, 0), (4_000, 2)] {
        let rotation = Rotation::new(RotationGrace::from_hours(hours).unwrap(), at(now)).unwrap();
        let rotated = store
            .rotate_legacy_secret(RotationAsked::new(&expected, &rotation))
            .await
            .unwrap();
        expected = expected.rotated(rotation);
        assert_eq!(rotated, expected, "{hours} h");
        assert_eq!(stored().await, Some(expected.clone()));
    }
    // A rotation from a secret another rotation replaced since loses, and changes nothing.
    let late = Rotation::new(RotationGrace::DEFAULT, at(4_500)).unwrap();
    assert!(matches!(
        rotate(&first_seen, &late).await,
        Err(StoreError::Superseded)
    ));
    assert_eq!(stored().await, Some(expected.clone()));
    // Setting the URL again keeps both secrets.
    let kept = store.set_legacy_webhook(&new(5_000)).await.unwrap();
    assert_eq!(kept.keys, expected.keys);

    // A rotation that remembers its key: a repeat, even one that read the webhook before the
    // first call rotated it, is answered by its key.
    let keyed = Rotation::new(RotationGrace::DEFAULT, at(6_000)).unwrap();
    let remembered = IdempotencyRecord::new(
        IdempotencyKey::parse("rotate-legacy").unwrap(),
        "rotate".into(),
        200,
        Replay::LegacyWebhook {
            secret_hint: keyed.new.hint(),
        },
        at(6_000),
    );
    let rotate_keyed = |from, rotation| {
        store.rotate_legacy_secret(RotationAsked {
            remember: Some(&remembered),
            ..RotationAsked::new(from, rotation)
        })
    };
    let rotated = rotate_keyed(&kept, &keyed).await.unwrap();
    let repeat = Rotation::new(RotationGrace::DEFAULT, at(6_001)).unwrap();
    for from in [&kept, &rotated] {
        assert!(matches!(
            rotate_keyed(from, &repeat).await,
            Err(StoreError::KeyTaken)
        ));
    }
    assert_eq!(stored().await, Some(rotated));
}

/// `IdempotencyRecord::may_be_taken`: a live record holds its key against reservations and
/// remembering writes alike; an expired one, or a lapsed reservation, does not.
pub async fn idempotency_keys_follow_the_domain<S: EndpointStore + IdempotencyStore>(store: S) {
    let key = IdempotencyKey::parse("order-42").unwrap();
    let running = IdempotencyRecord::in_progress(key.clone(), "f1".into(), at(0));
    assert_eq!(store.reserve(ORG, &running, at(0)).await.unwrap(), None);
    assert_eq!(
        store.idempotency_record(ORG, &key, at(1)).await.unwrap(),
        Some(running.clone())
    );
    let again = IdempotencyRecord::in_progress(key.clone(), "f2".into(), at(1));
    assert_eq!(
        store.reserve(ORG, &again, at(1)).await.unwrap(),
        Some(running.clone()),
        "held: the holder comes back"
    );
    assert!(running.may_be_taken(at(60_000)));
    let after_lapse = IdempotencyRecord::in_progress(key.clone(), "f3".into(), at(60_000));
    assert_eq!(
        store.reserve(ORG, &after_lapse, at(60_000)).await.unwrap(),
        None,
        "lapsed"
    );

    let answered = IdempotencyRecord::new(
        key.clone(),
        "f3".into(),
        200,
        Replay::Answer {
            body: r#"{"a":1}"#.into(),
        },
        at(60_000),
    );
    store.remember(ORG, &answered).await.unwrap();
    assert_eq!(
        store
            .idempotency_record(ORG, &key, at(70_000))
            .await
            .unwrap(),
        Some(answered.clone())
    );
    assert_eq!(
        store
            .idempotency_record(webhook_domain::OrgId::new(78), &key, at(70_000))
            .await
            .unwrap(),
        None,
        "keys are per organization"
    );
    let expired = answered.expires_at;
    assert_eq!(
        store.idempotency_record(ORG, &key, expired).await.unwrap(),
        None
    );
    let retaken = IdempotencyRecord::in_progress(key.clone(), "f4".into(), expired);
    assert_eq!(
        store.reserve(ORG, &retaken, expired).await.unwrap(),
        None,
        "expired"
    );
    store.forget(ORG, &key).await.unwrap();
    assert_eq!(
        store.idempotency_record(ORG, &key, expired).await.unwrap(),
        None
    );

    // A create that remembers its key: once; the second finds the key taken and writes nothing.
    let created_key = IdempotencyKey::parse("create-1").unwrap();
    let (first, first_secret) = crate::support::new_endpoint(ORG, "first", at(1_000));
    let record = |endpoint: &Endpoint, secret: &SigningSecret| {
        IdempotencyRecord::new(
            created_key.clone(),
            "create".into(),
            201,
            Replay::Endpoint {
                id: endpoint.id,
                secret_hint: secret.hint(),
            },
            at(1_000),
        )
    };
    let remembered = record(&first, &first_secret);
    store
        .create(&first, &first_secret, 50, Some(&remembered))
        .await
        .unwrap();
    let (second, second_secret) = crate::support::new_endpoint(ORG, "second", at(1_001));
    assert!(matches!(
        store
            .create(
                &second,
                &second_secret,
                50,
                Some(&record(&second, &second_secret))
            )
            .await,
        Err(webhook_store::StoreError::KeyTaken)
    ));
    assert_eq!(store.list(ORG).await.unwrap(), vec![first.clone()]);
    assert_eq!(
        store
            .idempotency_record(ORG, &created_key, at(2_000))
            .await
            .unwrap(),
        Some(remembered)
    );
    // Even at the limit, a repeat is a repeat, not a refusal.
    assert!(matches!(
        store
            .create(
                &second,
                &second_secret,
                1,
                Some(&record(&second, &second_secret))
            )
            .await,
        Err(webhook_store::StoreError::KeyTaken)
    ));

    // A rotation that remembers its key, likewise.
    let rotation_key = IdempotencyKey::parse("rotate-1").unwrap();
    let rotation = Rotation::new(RotationGrace::DEFAULT, at(3_000)).unwrap();
    let remembered = IdempotencyRecord::new(
        rotation_key.clone(),
        "rotate".into(),
        200,
        Replay::Endpoint {
            id: first.id,
            secret_hint: rotation.new.hint(),
        },
        at(3_000),
    );
    let rotated = store
        .rotate_secret(RotationAsked {
            remember: Some(&remembered),
            ..RotationAsked::new(&first, &rotation)
        })
        .await
        .unwrap();
    // A repeat finds its key taken, whether it read the endpoint after the first call rotated
    // it or, sent alongside, before: its key answers it, not the rotation it lost to.
    let second_rotation = Rotation::new(RotationGrace::DEFAULT, at(3_001)).unwrap();
    for from in [&rotated, &first] {
        assert!(matches!(
            store
                .rotate_secret(RotationAsked {
                    remember: Some(&remembered),
                    ..RotationAsked::new(from, &second_rotation)
                })
                .await,
            Err(webhook_store::StoreError::KeyTaken)
        ));
    }
    let (_, keys) = signing(&store, ORG, first.id).await.unwrap();
    assert_eq!(keys.current, rotation.new, "rotated once");
}

/// `DeliveryStats::record` and `RecentAttempts::record`: the hourly buckets after steady
/// traffic, an attempt that arrives late, and a quiet spell of more than a day; and the stats
/// route's one read, `endpoint_health`.
pub async fn recent_attempts_follow_the_domain<S: EndpointStore + DeliveryStatsStore>(store: S) {
    let (endpoint, secret) = crate::support::new_endpoint(ORG, "recent", at(0));
    store.create(&endpoint, &secret, 50, None).await.unwrap();
    let mut expected = webhook_domain::DeliveryStats::new(ORG, endpoint.id);
    let minute = HOUR / 60;
    let times = (0..30)
        .map(|hour| hour * HOUR + 5 * minute)
        .chain([29 * HOUR + 50 * minute, 29 * HOUR + 10 * minute])
        .chain([80 * HOUR, 80 * HOUR + minute, 81 * HOUR]);
    for (n, time) in times.enumerate() {
        let attempt = if n % 3 == 0 {
            success(at(time))
        } else {
            crate::stats::failure(at(time))
        };
        store
            .record_attempt(&endpoint, &attempt, false)
            .await
            .unwrap();
        expected.record(&attempt, None);
        assert_eq!(stats_of(&store, &endpoint).await, expected, "after {time}");
    }
    assert_eq!(expected.recent.hours().count(), 2, "80 and 81");
    assert_eq!(expected.recent.last_day(at(81 * HOUR)).attempts(), 3);

    let health = store
        .endpoint_health(ORG, endpoint.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(health.endpoint, stored(&store, &endpoint).await);
    assert_eq!(health.stats, expected);
    assert_eq!(health.previous_secret_expires_at, None);
    let rotation = Rotation::new(RotationGrace::from_hours(2).unwrap(), at(90 * HOUR)).unwrap();
    let from = store.get(ORG, endpoint.id).await.unwrap();
    store
        .rotate_secret(RotationAsked::new(&from, &rotation))
        .await
        .unwrap();
    let health = store.endpoint_health(ORG, endpoint.id).await.unwrap();
    assert_eq!(
        health.unwrap().previous_secret_expires_at,
        rotation.previous_until
    );
    let foreign = store.endpoint_health(OrgId::new(78), endpoint.id).await;
    assert_eq!(foreign.unwrap(), None, "another organization's endpoint");
    store.delete(ORG, endpoint.id).await.unwrap();
    assert_eq!(store.endpoint_health(ORG, endpoint.id).await.unwrap(), None);

    let (fresh, secret) = crate::support::new_endpoint(ORG, "fresh", at(0));
    store.create(&fresh, &secret, 50, None).await.unwrap();
    let health = store.endpoint_health(ORG, fresh.id).await.unwrap().unwrap();
    assert_eq!(
        health.stats,
        webhook_domain::DeliveryStats::new(ORG, fresh.id)
    );
}

/// A portal session is read as a key is, until it ends, and is never listed among the keys.
pub async fn portal_sessions_are_read_as_keys_and_never_listed<S: webhook_store::ApiKeyStore>(
    store: S,
) {
    use webhook_domain::{ApiKeyRecord, ApiKeySecret, Caller, Role};
    let by = Caller {
        org: OrgId::new(8),
        role: Role::Owner,
        session: false,
    };
    let token = ApiKeySecret::generate_session().unwrap();
    let session = ApiKeyRecord::session(&token, by, at(5_000), at(1_000));
    store.put_api_key(&session).await.unwrap();
    let read = store.api_key(&token.digest().id()).await.unwrap().unwrap();
    assert_eq!(read, session);
    assert!(read.admits(&token));
    assert_eq!(
        read.caller(at(4_999)),
        Some(Caller {
            session: true,
            ..by
        })
    );
    assert_eq!(read.caller(at(5_000)), None, "ended");
    assert_eq!(store.api_keys(OrgId::new(8)).await.unwrap(), vec![]);
    // An operator may end a session early, as a key is revoked.
    let revoked = store
        .revoke_api_key(&token.digest().id(), at(2_000))
        .await
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(at(2_000)));
    assert_eq!(revoked.caller(at(2_000)), None);
}

/// `ApiKeyRecord::caller`: an issued key names its organization and role until it is revoked;
/// the first revocation holds; listings stay within the organization.
pub async fn api_keys_follow_the_domain<S: webhook_store::ApiKeyStore>(store: S) {
    use webhook_domain::{ApiKeyRecord, ApiKeySecret, KeyId, Label, Role};
    let issue = |org: u64, role, created: i64, label: Option<&str>| {
        let key = ApiKeySecret::generate().unwrap();
        let label = label.map(|l| Label::parse(l).unwrap());
        let record = ApiKeyRecord::new(&key, OrgId::new(org), role, label, at(created));
        (key, record)
    };
    let (key, first) = issue(5, Role::Admin, 2_000, Some("CI"));
    let (_, second) = issue(5, Role::Member, 1_000, None);
    let (_, elsewhere) = issue(6, Role::Owner, 1_500, None);
    for record in [&first, &second, &elsewhere] {
        store.put_api_key(record).await.unwrap();
    }
    let read = store.api_key(&key.digest().id()).await.unwrap().unwrap();
    assert_eq!(read, first);
    assert!(read.admits(&key));
    assert_eq!(
        read.caller(at(2_500)).map(|c| (c.org, c.role)),
        Some((OrgId::new(5), Role::Admin))
    );
    let listed = store.api_keys(OrgId::new(5)).await.unwrap();
    assert_eq!(
        listed,
        vec![second.clone(), first.clone()],
        "oldest first, org 5 only"
    );
    let unknown = KeyId::parse("00000000000000000000").unwrap();
    assert_eq!(store.api_key(&unknown).await.unwrap(), None);
    assert!(matches!(
        store.revoke_api_key(&unknown, at(3_000)).await,
        Err(webhook_store::StoreError::NotFound)
    ));

    let revoked = store.revoke_api_key(&first.id, at(3_000)).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(at(3_000)));
    assert_eq!(revoked.caller(at(3_000)), None);
    let again = store.revoke_api_key(&first.id, at(4_000)).await.unwrap();
    assert_eq!(
        again.revoked_at,
        Some(at(3_000)),
        "the first revocation holds"
    );
    assert_eq!(
        store.api_key(&first.id).await.unwrap(),
        Some(revoked.clone())
    );
    let listed = store.api_keys(OrgId::new(5)).await.unwrap();
    assert_eq!(
        listed,
        vec![second, revoked],
        "the listing sees the revocation"
    );
}

/// `PerMinute::room`: a minute of a quota holds at most the limit, per organization and quota,
/// a take being granted what is left of it; the next minute starts afresh; concurrent takes
/// never count more than the limit between them.
pub async fn quotas_follow_the_domain<S: webhook_store::QuotaStore + Clone>(store: S) {
    use webhook_domain::{Minute, PerMinute, Quota, QuotaCount};
    let count = |org, quota, minute| QuotaCount { org, quota, minute };
    let take = |org, quota, minute, n, limit| store.take(count(org, quota, minute), n, limit);
    let limit = PerMinute::parse("3").unwrap();
    let minute = Minute::of(at(600_000));
    let mut taken = Vec::new();
    for _ in 0..5 {
        taken.push(take(ORG, Quota::Tests, minute, 1, limit).await.unwrap());
    }
    assert_eq!(taken, [1, 1, 1, 0, 0]);
    let other = OrgId::new(78);
    assert_eq!(
        take(other, Quota::Tests, minute, 1, limit).await.unwrap(),
        1
    );
    assert_eq!(
        take(ORG, Quota::Resends, minute, 2, limit).await.unwrap(),
        2,
        "each quota counts apart"
    );
    assert_eq!(
        take(ORG, Quota::Resends, minute, 5, limit).await.unwrap(),
        1,
        "a take is granted what is left"
    );
    let next = Minute::of(at(660_000));
    assert_eq!(take(ORG, Quota::Tests, next, 1, limit).await.unwrap(), 1);
    let wider = PerMinute::parse("4").unwrap();
    assert_eq!(
        take(ORG, Quota::Tests, minute, 1, wider).await.unwrap(),
        1,
        "the refusals counted nothing"
    );
    assert_eq!(take(ORG, Quota::Tests, minute, 1, wider).await.unwrap(), 0);

    let busy = Minute::of(at(720_000));
    let hundred = PerMinute::parse("100").unwrap();
    let takes =
        (0..8).map(|_| async move { take(ORG, Quota::Resends, busy, 30, hundred).await.unwrap() });
    let granted: u32 = futures::future::join_all(takes).await.into_iter().sum();
    assert_eq!(
        granted, 100,
        "eight takes of 30 share a limit of 100 exactly"
    );

    // What is given back may be taken again; a minute never counted is left alone.
    let one = PerMinute::parse("1").unwrap();
    let flight = Minute::of(at(780_000));
    assert_eq!(
        take(ORG, Quota::ResentInFlight, flight, 1, one)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        take(ORG, Quota::ResentInFlight, flight, 1, one)
            .await
            .unwrap(),
        0
    );
    let counted = |minute| store.counted(count(ORG, Quota::ResentInFlight, minute));
    assert_eq!(
        counted(flight).await.unwrap(),
        1,
        "what a take counted reads back"
    );
    store
        .give_back(count(ORG, Quota::ResentInFlight, flight), 1)
        .await
        .unwrap();
    assert_eq!(counted(flight).await.unwrap(), 0);
    assert_eq!(
        take(ORG, Quota::ResentInFlight, flight, 1, one)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        counted(Minute::of(at(720_000))).await.unwrap(),
        0,
        "quotas are counted apart"
    );
    let never = Minute::of(at(840_000));
    store
        .give_back(count(ORG, Quota::ResentInFlight, never), 1)
        .await
        .unwrap();
    let two = PerMinute::parse("2").unwrap();
    assert_eq!(
        take(ORG, Quota::ResentInFlight, never, 3, two)
            .await
            .unwrap(),
        2,
        "a give-back to an uncounted minute adds no room"
    );
}

/// `PaceStore`: a pace changes only from the pace it was read as, whatever the endpoint's
/// other fields do, and never on a deleted endpoint; turns are an interval apart however many
/// take them at once, now when none was taken for an interval, and never before a hold.
pub async fn pace_follows_the_domain<S: webhook_store::Store>(store: S) {
    use std::time::Duration;
    use webhook_domain::{Pace, Timestamp};

    let endpoint = created(&store, ORG, "paced", at(1_000)).await;
    let (org, id) = (ORG, endpoint.id);
    // Sets the pace of the endpoint as read with the pace `seen`.
    let set_pace = |seen, pace| {
        let store = &store;
        let from = webhook_domain::Endpoint {
            pace: seen,
            ..endpoint.clone()
        };
        async move { store.set_pace(&from, pace).await.unwrap() }
    };
    let halved = Pace {
        rate: 32,
        since: at(2_000),
    };
    assert!(set_pace(None, Some(halved)).await);
    assert!(
        !set_pace(None, Some(halved)).await,
        "a change from no pace, made already"
    );
    let stale = Pace {
        rate: 64,
        since: at(1_500),
    };
    assert!(!set_pace(Some(stale), None).await);
    let (read, _) = signing(&store, org, id).await.unwrap();
    assert_eq!(read.pace, Some(halved), "delivery reads it");
    // An update of other fields keeps it, and does not show it as a change.
    let rename = webhook_domain::EndpointChanges {
        label: Some(webhook_domain::Label::parse("renamed").unwrap()),
        ..Default::default()
    };
    let renamed = updated(&store, &endpoint, &rename, at(3_000)).await;
    assert_eq!(renamed.pace, Some(halved));
    assert!(set_pace(Some(halved), None).await);
    assert_eq!(store.get(org, id).await.unwrap().pace, None);
    store.delete(org, id).await.unwrap();
    assert!(
        !set_pace(None, Some(halved)).await,
        "a deleted endpoint stays deleted"
    );
    assert!(matches!(
        store.get(org, id).await,
        Err(webhook_store::StoreError::NotFound)
    ));

    // Turns: 250 ms apart at 4 a second, none later than a minute on.
    let interval = Duration::from_millis(250);
    let turn_by = |now: Timestamp, latest: Timestamp, queued: bool, id| {
        let asked = webhook_store::TurnAsked {
            now,
            interval,
            latest,
            queued,
        };
        store.take_turn(org, id, asked)
    };
    let turn = |now: Timestamp, queued: bool, id| {
        turn_by(
            now,
            now.checked_add(Duration::from_secs(60)).unwrap(),
            queued,
            id,
        )
    };
    let now = at(10_000);
    let turns = futures::future::join_all((0..8).map(|n| turn(now, n % 2 == 0, id))).await;
    let mut turns: Vec<i64> = turns
        .into_iter()
        .map(|turn| turn.unwrap().unwrap().unix_millis())
        .collect();
    turns.sort_unstable();
    let expected: Vec<i64> = (0..8).map(|n| 10_000 + n * 250).collect();
    assert_eq!(
        turns, expected,
        "eight takers, eight turns an interval apart"
    );
    // Idle for longer than the turns taken reach: the next turn is now, whichever way is tried.
    let later = at(20_000);
    assert_eq!(turn(later, true, id).await.unwrap(), Some(later));
    assert_eq!(turn(later, false, id).await.unwrap(), Some(at(20_250)));
    // A hold moves the turns on; an earlier hold does not move them back.
    store.hold_turns(org, id, at(30_000)).await.unwrap();
    store.hold_turns(org, id, at(25_000)).await.unwrap();
    assert_eq!(turn(at(21_000), false, id).await.unwrap(), Some(at(30_250)));
    // No turn past the latest worth having, and none taken: the queue does not grow past it.
    for queued in [true, false] {
        let past_it = turn_by(at(21_000), at(30_400), queued, id).await;
        assert_eq!(past_it.unwrap(), None, "queued first: {queued}");
    }
    assert_eq!(turn(at(21_000), true, id).await.unwrap(), Some(at(30_500)));
    // Other endpoints' turns are their own.
    let other = created(&store, ORG, "other", at(1_000)).await;
    assert_eq!(
        turn(at(21_000), true, other.id).await.unwrap(),
        Some(at(21_000))
    );
}
