//! The delivery log's store operations, on both stores.

use webhook_domain::{
    AgentId, DeliveryFilter, DeliveryPage, DeliveryRecord, DeliveryStatus, Destination, EndpointId,
    EventType, FailureCategory, LogKey, LogQuery, LoggedEvent, OrgId, Timestamp,
};
use webhook_store::{DeliveryLogStore, EventRef};

use crate::support::at;

const ORG: OrgId = OrgId::new(88);
const OTHER_ORG: OrgId = OrgId::new(89);
const FAR_FUTURE: i64 = 4_000_000_000_000;

/// Writes the record, to be kept as long as any test runs.
async fn keep<S: DeliveryLogStore>(store: &S, record: &DeliveryRecord) {
    keep_until(store, record, at(FAR_FUTURE)).await;
}

/// Writes the record as delivery does, its event kept first (without a body: the record
/// keeps its own), both to be kept until `expires_at`.
async fn keep_until<S: DeliveryLogStore>(
    store: &S,
    record: &DeliveryRecord,
    expires_at: Timestamp,
) {
    let event = LoggedEvent {
        org_id: record.org_id,
        event_id: record.event_id,
        occurred_at: record.occurred_at,
        body: None,
    };
    store.keep_event(&event, expires_at).await.unwrap();
    store.record_delivery(record, expires_at).await.unwrap();
}

/// The newest ten records of `ORG` as of `now`, unfiltered.
async fn first_page<S: DeliveryLogStore>(store: &S, now: Timestamp) -> DeliveryPage {
    store
        .deliveries(
            ORG,
            &LogQuery::newest(DeliveryFilter::default(), 10, now).with_bodies(),
        )
        .await
        .unwrap()
}

pub fn record(org: OrgId, endpoint: Option<EndpointId>, started: i64) -> DeliveryRecord {
    DeliveryRecord {
        call_id: Some(4711),
        ..webhook_domain::fixtures::delivery_record(org, endpoint, at(started))
    }
}

/// Every page of the log under `filter`, `limit` at a time, checking each page as it goes.
async fn read_all(
    store: &impl DeliveryLogStore,
    org: OrgId,
    filter: &DeliveryFilter,
    limit: usize,
) -> Vec<DeliveryRecord> {
    let mut all = Vec::new();
    let mut after: Option<LogKey> = None;
    loop {
        let page = store
            .deliveries(
                org,
                &LogQuery::newest(filter.clone(), limit, at(10_000_000))
                    .after(after)
                    .with_bodies(),
            )
            .await
            .unwrap();
        if page.has_more {
            assert_eq!(page.records.len(), limit, "a short page while more match");
        }
        all.extend(page.records.iter().cloned());
        if !page.has_more {
            return all;
        }
        after = page.records.last().map(DeliveryRecord::log_key);
    }
}

pub async fn the_log_pages_newest_first_under_every_filter(store: impl DeliveryLogStore) {
    let endpoints = [EndpointId::generate(), EndpointId::generate()];
    let agent = AgentId::new(7).unwrap();
    let mut written = Vec::new();
    for i in 0..45_i64 {
        let endpoint = match i % 5 {
            0 => None,
            1 | 2 => Some(endpoints[0]),
            _ => Some(endpoints[1]),
        };
        // Some records share a millisecond: the key still orders them.
        let mut record = record(ORG, endpoint, 1_000 + (i / 2) * 1_000);
        record.event_type = [
            EventType::CallGraded,
            EventType::TelephonyComplete,
            EventType::WebTool,
        ][(i % 3) as usize]
            .into();
        record.agent_id = (i % 4 == 0).then_some(agent);
        if i % 6 == 0 {
            record.status = DeliveryStatus::Retrying;
            record.http_status = Some(503);
            record.failure_category = Some(FailureCategory::HttpError);
            record.next_retry_at = Some(at(99_000));
        }
        keep(&store, &record).await;
        written.push(record);
    }
    store
        .record_delivery(&record(OTHER_ORG, None, 5_000), at(FAR_FUTURE))
        .await
        .unwrap();
    written.sort_by_key(|r| std::cmp::Reverse(r.log_key()));

    let filters = [
        DeliveryFilter::default(),
        DeliveryFilter {
            endpoint_id: Some(endpoints[0]),
            ..Default::default()
        },
        DeliveryFilter {
            agent_id: Some(agent),
            ..Default::default()
        },
        DeliveryFilter {
            event_type: Some(EventType::WebTool.into()),
            ..Default::default()
        },
        DeliveryFilter {
            status: Some(DeliveryStatus::Retrying),
            ..Default::default()
        },
        DeliveryFilter {
            since: Some(at(15_000)),
            ..Default::default()
        },
        DeliveryFilter {
            endpoint_id: Some(endpoints[1]),
            event_type: Some(EventType::CallGraded.into()),
            since: Some(at(4_000)),
            ..Default::default()
        },
        DeliveryFilter {
            endpoint_id: Some(EndpointId::generate()),
            ..Default::default()
        },
    ];
    for filter in &filters {
        let expected: Vec<DeliveryRecord> = written
            .iter()
            .filter(|r| filter.matches(r))
            .cloned()
            .collect();
        for limit in [1, 4, 50] {
            let read = read_all(&store, ORG, filter, limit).await;
            assert_eq!(read, expected, "{filter:?} limit {limit}");
        }
    }
    assert!(
        !read_all(&store, ORG, &filters[3], 4).await.is_empty(),
        "the filters above do select something"
    );
}

pub async fn a_late_duplicate_does_not_overwrite_a_later_attempt(store: impl DeliveryLogStore) {
    let mut second = record(ORG, Some(EndpointId::generate()), 1_000);
    second.attempt_count = 2;
    second.status = DeliveryStatus::Delivered;
    let mut first = second.clone();
    first.attempt_count = 1;
    first.status = DeliveryStatus::Retrying;
    first.next_retry_at = Some(at(6_000));
    keep(&store, &second).await;
    keep(&store, &first).await;
    let page = first_page(&store, at(2_000)).await;
    assert_eq!(page.records, vec![second.clone()]);

    // A duplicate of the same attempt made earlier loses; one made later wins.
    let mut earlier_duplicate = second.clone();
    earlier_duplicate.last_attempt_at = at(500);
    earlier_duplicate.status = DeliveryStatus::Failed;
    keep(&store, &earlier_duplicate).await;
    let mut later_duplicate = second.clone();
    later_duplicate.last_attempt_at = at(1_500);
    later_duplicate.http_status = Some(204);
    keep(&store, &later_duplicate).await;
    let page = first_page(&store, at(2_000)).await;
    assert_eq!(page.records, vec![later_duplicate]);
}

pub async fn ending_a_retrying_record_marks_it_failed(store: impl DeliveryLogStore) {
    let mut retrying = record(ORG, Some(EndpointId::generate()), 1_000);
    retrying.status = DeliveryStatus::Retrying;
    retrying.next_retry_at = Some(at(60_000));
    keep(&store, &retrying).await;
    store.end_delivery(&retrying.reference(), 1).await.unwrap();
    // A record never written stays unwritten.
    let never = record(ORG, None, 2_000);
    store.end_delivery(&never.reference(), 1).await.unwrap();

    // A duplicate of the job got through: ending the other copy leaves it delivered.
    let delivered = record(ORG, Some(EndpointId::generate()), 500);
    keep(&store, &delivered).await;
    store.end_delivery(&delivered.reference(), 1).await.unwrap();

    let page = first_page(&store, at(2_000)).await;
    let mut ended = retrying;
    ended.status = DeliveryStatus::Failed;
    ended.next_retry_at = None;
    assert_eq!(page.records, vec![ended.clone(), delivered]);
    let failed = DeliveryFilter {
        status: Some(DeliveryStatus::Failed),
        ..Default::default()
    };
    let page = store
        .deliveries(
            ORG,
            &LogQuery::newest(failed.clone(), 10, at(2_000)).with_bodies(),
        )
        .await
        .unwrap();
    assert_eq!(page.records, vec![ended]);
}

pub async fn expired_records_are_not_listed(store: impl DeliveryLogStore) {
    let old = record(ORG, None, 1_000);
    let young = record(ORG, None, 2_000);
    store.record_delivery(&old, at(50_000)).await.unwrap();
    keep(&store, &young).await;
    let read = |now: Timestamp| {
        let store = &store;
        async move { first_page(store, now).await.records }
    };
    assert_eq!(read(at(49_000)).await, vec![young.clone(), old]);
    assert_eq!(read(at(51_000)).await, vec![young]);
}

/// One event's record at one destination, found without its time, with its body and attempts.
pub async fn one_delivery_is_found_by_its_event_and_destination(store: impl DeliveryLogStore) {
    let endpoint = EndpointId::generate();
    let mut at_endpoint = record(ORG, Some(endpoint), 1_000);
    at_endpoint.attempts.push(webhook_domain::AttemptSummary {
        at: at(61_000),
        http_status: None,
        failure_category: Some(FailureCategory::Timeout),
        duration_ms: 30_000,
    });
    let at_legacy = DeliveryRecord {
        event_id: at_endpoint.event_id,
        ..record(ORG, None, 1_000)
    };
    keep(&store, &at_endpoint).await;
    keep(&store, &at_legacy).await;
    let elsewhere = DeliveryRecord {
        event_id: at_endpoint.event_id,
        ..record(OTHER_ORG, Some(endpoint), 1_000)
    };
    keep(&store, &elsewhere).await;
    let expiring = record(ORG, Some(endpoint), 2_000);
    keep_until(&store, &expiring, at(50_000)).await;

    let find = |org, event_id, endpoint_id, now| {
        let store = &store;
        async move {
            let event = EventRef {
                event_id,
                destination: Destination::from(endpoint_id),
            };
            store.delivery(org, event, at(now)).await.unwrap()
        }
    };
    let found = find(ORG, at_endpoint.event_id, Some(endpoint), 10_000).await;
    assert_eq!(
        found.as_ref(),
        Some(&at_endpoint),
        "every field, body and attempts"
    );
    assert_eq!(
        found.and_then(|r| r.body).map(|b| b.bytes().unwrap()),
        at_endpoint.body.as_ref().map(|b| b.bytes().unwrap())
    );
    assert_eq!(
        find(ORG, at_endpoint.event_id, None, 10_000).await,
        Some(at_legacy),
        "the legacy URL's record of the same event"
    );
    assert_eq!(
        find(OTHER_ORG, at_endpoint.event_id, Some(endpoint), 10_000).await,
        Some(elsewhere)
    );
    let other_endpoint = Some(EndpointId::generate());
    assert_eq!(
        find(ORG, at_endpoint.event_id, other_endpoint, 10_000).await,
        None
    );
    assert_eq!(
        find(
            ORG,
            webhook_domain::EventId::generate(),
            Some(endpoint),
            10_000
        )
        .await,
        None
    );
    assert!(
        find(ORG, expiring.event_id, Some(endpoint), 49_000)
            .await
            .is_some()
    );
    assert_eq!(
        find(ORG, expiring.event_id, Some(endpoint), 51_000).await,
        None,
        "expired"
    );
}

/// `DeliveryRecord::reopen`: both stores open exactly the records the domain opens.
/// An event's body is kept once for all its endpoints' records, which are written without it;
/// a record with a body of its own (the legacy URL's) shows that one.
pub async fn records_without_a_body_show_their_events(store: impl DeliveryLogStore) {
    let endpoints = [EndpointId::generate(), EndpointId::generate()];
    let with_body = record(ORG, Some(endpoints[0]), 3_000);
    let event = LoggedEvent {
        org_id: ORG,
        event_id: with_body.event_id,
        occurred_at: with_body.occurred_at,
        body: with_body.body.clone(),
    };
    store.keep_event(&event, at(FAR_FUTURE)).await.unwrap();
    let bare = |endpoint: Option<EndpointId>| DeliveryRecord {
        destination: Destination::from(endpoint),
        body: None,
        ..with_body.clone()
    };
    for endpoint in endpoints {
        store
            .record_delivery(&bare(Some(endpoint)), at(FAR_FUTURE))
            .await
            .unwrap();
    }
    let legacy = DeliveryRecord {
        body: Some(webhook_domain::SentBody::compress(b"{\"legacy\":true}")),
        ..bare(None)
    };
    store
        .record_delivery(&legacy, at(FAR_FUTURE))
        .await
        .unwrap();
    // A legacy record that kept no body (too large) shows none: the event's is not its bytes.
    let bodiless_legacy = DeliveryRecord {
        event_id: webhook_domain::EventId::generate(),
        ..bare(None)
    };
    let other_event = LoggedEvent {
        event_id: bodiless_legacy.event_id,
        ..event.clone()
    };
    store
        .keep_event(&other_event, at(FAR_FUTURE))
        .await
        .unwrap();
    store
        .record_delivery(&bodiless_legacy, at(FAR_FUTURE))
        .await
        .unwrap();
    let found = store
        .delivery(
            ORG,
            EventRef {
                event_id: bodiless_legacy.event_id,
                destination: Destination::Legacy,
            },
            at(10_000),
        )
        .await
        .unwrap();
    assert_eq!(found.map(|r| r.body), Some(None));
    // Another organization's record of an event with the same id shows none of it.
    let foreign = DeliveryRecord {
        org_id: OTHER_ORG,
        ..bare(Some(endpoints[0]))
    };
    keep_until(&store, &foreign, at(FAR_FUTURE)).await;

    for endpoint in endpoints {
        let found = store
            .delivery(
                ORG,
                EventRef {
                    event_id: with_body.event_id,
                    destination: Some(endpoint).into(),
                },
                at(10_000),
            )
            .await
            .unwrap();
        assert_eq!(
            found,
            Some(bare(Some(endpoint)).with_event_body(Some(&event)))
        );
        assert_eq!(found.and_then(|r| r.body), with_body.body);
    }
    let legacy_found = store
        .delivery(
            ORG,
            EventRef {
                event_id: with_body.event_id,
                destination: Destination::Legacy,
            },
            at(10_000),
        )
        .await
        .unwrap();
    assert_eq!(legacy_found, Some(legacy.clone()), "its own body");
    let foreign_found = store
        .delivery(
            OTHER_ORG,
            EventRef {
                event_id: with_body.event_id,
                destination: Some(endpoints[0]).into(),
            },
            at(10_000),
        )
        .await
        .unwrap();
    assert_eq!(foreign_found.map(|r| r.body), Some(None));

    let page = first_page(&store, at(10_000)).await;
    assert_eq!(page.records.len(), 4);
    for shown in page
        .records
        .into_iter()
        .filter(|r| r.event_id == with_body.event_id)
    {
        let expected = match shown.destination {
            Destination::Legacy => &legacy.body,
            Destination::Endpoint(_) => &with_body.body,
        };
        assert_eq!(
            &shown.body, expected,
            "a page asked for bodies shows each record's"
        );
    }
}

pub async fn reopening_a_record_follows_the_domain(store: impl DeliveryLogStore) {
    const NOW: i64 = 10_000_000;
    const HOUR: i64 = 3_600_000;
    let cases = [
        ("failed", DeliveryStatus::Failed, 3, 3, None),
        ("delivered", DeliveryStatus::Delivered, 1, 1, None),
        (
            "retrying, due soon",
            DeliveryStatus::Retrying,
            2,
            2,
            Some(NOW + 5_000),
        ),
        (
            "retrying, just overdue",
            DeliveryStatus::Retrying,
            2,
            2,
            Some(NOW - HOUR + 1),
        ),
        (
            "retrying, its job lost",
            DeliveryStatus::Retrying,
            2,
            2,
            Some(NOW - HOUR),
        ),
        (
            "retrying, no next attempt",
            DeliveryStatus::Retrying,
            2,
            2,
            None,
        ),
        ("moved on", DeliveryStatus::Failed, 4, 3, None),
    ];
    let mut opened_cases = Vec::new();
    for (case, status, count, read_count, due) in cases {
        let endpoint = Some(EndpointId::generate());
        let stored = DeliveryRecord {
            status,
            attempt_count: count,
            next_retry_at: due.map(at),
            ..record(ORG, endpoint, 1_000)
        };
        keep(&store, &stored).await;
        let mut expected = stored.clone();
        let opens = expected.reopen(read_count, at(NOW));
        let opened = store
            .reopen_delivery(&stored.reference(), read_count, at(NOW))
            .await
            .unwrap();
        assert_eq!(opened, opens, "{case}");
        let event = EventRef {
            event_id: stored.event_id,
            destination: endpoint.into(),
        };
        let now = store.delivery(ORG, event, at(NOW)).await.unwrap();
        assert_eq!(now, Some(expected), "{case}");
        opened_cases.push(opened);
    }
    assert_eq!(
        opened_cases,
        [true, true, false, false, true, true, false],
        "finished and lost ones open; one on its way, or moved on, does not"
    );
    let opened_twice = record(ORG, None, 1_000);
    keep(&store, &opened_twice).await;
    let reference = opened_twice.reference();
    let (first, second) = tokio::join!(
        store.reopen_delivery(&reference, 1, at(5_000)),
        store.reopen_delivery(&reference, 1, at(5_000)),
    );
    assert_eq!(
        [first.unwrap(), second.unwrap()]
            .iter()
            .filter(|o| **o)
            .count(),
        1,
        "two resends at once open it once"
    );
    assert!(
        !store
            .reopen_delivery(&record(ORG, None, 9_000).reference(), 0, at(5_000))
            .await
            .unwrap(),
        "nothing to open"
    );
}

/// A page of the log carries no bodies or attempts unless asked for them.
pub async fn a_page_of_the_log_lists_no_bodies(store: impl DeliveryLogStore) {
    let kept = record(ORG, Some(EndpointId::generate()), 1_000);
    assert!(kept.body.is_some() && !kept.attempts.is_empty());
    keep(&store, &kept).await;
    let listed = store
        .deliveries(
            ORG,
            &LogQuery::newest(DeliveryFilter::default(), 10, at(2_000)),
        )
        .await
        .unwrap();
    assert_eq!(listed.records, vec![kept.clone().listed()]);
    assert_eq!(first_page(&store, at(2_000)).await.records, vec![kept]);
}
