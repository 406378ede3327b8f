//! Each happy-path API request costs exactly one DynamoDB request in its handler, counted at the
//! SDK; the bundled authorizer's one read of the caller's key is asserted and counted apart.

use std::collections::BTreeMap;

use serde_json::json;
use system_tests::{ORG_A_ADMIN, RequestCounter, moto_store, start_with};

const ORG_A: OrgId = OrgId::new(100);
const LOG: &str = "/v1/developer/webhook-deliveries";
use webhook_api::Settings;
use webhook_domain::{
    Clock, DeliveryRecord, DeliveryStatus, EndpointId, EventType, OrgId, SystemClock, fixtures,
};
use webhook_store::{DeliveryLogStore, DynamoStore};

/// dev-server on `store`, with the requests that seeded its API keys forgotten.
async fn start_counted(store: DynamoStore, counter: &RequestCounter) -> system_tests::Api {
    let api = start_with(store, Settings::default()).await;
    counter.take();
    api
}

/// The requests the handler sent since the last take, by operation. dev-server authorizes every
/// request as the bundled authorizer does on a cache miss: one GetItem for the caller's key,
/// asserted here and left out.
fn handled(counter: &RequestCounter) -> BTreeMap<String, usize> {
    let mut sent = counter.take_by_operation();
    let key_reads = sent.get_mut("GetItem");
    assert!(
        key_reads.as_ref().is_some_and(|n| **n >= 1),
        "the authorizer reads the caller's key: {sent:?}"
    );
    if let Some(n) = key_reads {
        *n -= 1;
    }
    sent.retain(|_, n| *n > 0);
    sent
}

/// How many requests the handler sent since the last take (see [`handled`]).
fn handled_count(counter: &RequestCounter) -> usize {
    handled(counter).values().sum()
}

#[tokio::test]
async fn every_api_request_is_one_dynamodb_request() {
    let (store, counter) = moto_store().await;
    let api = start_counted(store, &counter).await;

    let mut ids = Vec::new();
    for i in 0..50 {
        let created = api.create_ok(ORG_A_ADMIN, &format!("endpoint {i}")).await;
        assert_eq!(
            handled_count(&counter),
            1,
            "create #{i} (limit check included)"
        );
        ids.push(created["id"].as_str().unwrap().to_owned());
    }

    let listed = api.list(ORG_A_ADMIN).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 50);
    assert_eq!(
        handled_count(&counter),
        1,
        "listing 50 endpoints is one Query page"
    );

    let patched = api
        .patch(
            ORG_A_ADMIN,
            &ids[0],
            json!({"label": "renamed", "events": ["web.tool"]}),
        )
        .await;
    assert_eq!(patched.status, 200);
    assert_eq!(handled_count(&counter), 1, "update");

    api.patch(ORG_A_ADMIN, &ids[0], json!({"label": "renamed"}))
        .await;
    assert_eq!(handled_count(&counter), 1, "an update that changes nothing");

    api.patch(ORG_A_ADMIN, &ids[0], json!({})).await;
    assert_eq!(handled_count(&counter), 1, "an empty update");

    let stats = format!("{}/{}/stats", system_tests::COLLECTION, ids[0]);
    let health = api.send("GET", &stats, Some(ORG_A_ADMIN), None).await;
    assert_eq!(health.status, 200);
    assert_eq!(
        handled(&counter),
        [("TransactGetItems".to_owned(), 1)].into(),
        "stats: the endpoint, its stats and its secret's expiry in one read"
    );

    assert_eq!(api.delete(ORG_A_ADMIN, &ids[1]).await.status, 204);
    assert_eq!(handled_count(&counter), 1, "delete");

    let refused = api
        .create(ORG_A_ADMIN, json!({"label": "bad", "url": "ftp://x"}))
        .await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        handled_count(&counter),
        0,
        "invalid input never reaches DynamoDB"
    );
}

#[tokio::test]
async fn what_rotation_and_idempotency_keys_cost() {
    let (store, counter) = moto_store().await;
    let api = start_counted(store, &counter).await;
    let body = r#"{"label": "keyed", "url": "https://hooks.example.com/k"}"#;
    let keyed = |key: &'static str, path: String, body: Option<&'static str>| {
        let api = &api;
        async move {
            api.send_with(
                "POST",
                &path,
                Some(ORG_A_ADMIN),
                body.map(str::to_owned),
                &[("idempotency-key", key)],
            )
            .await
        }
    };
    let created = keyed("k1", system_tests::COLLECTION.into(), Some(body)).await;
    assert_eq!(created.status, 201);
    assert_eq!(
        handled_count(&counter),
        1,
        "a keyed create: the key is one more item in the same transaction"
    );
    let replayed = keyed("k1", system_tests::COLLECTION.into(), Some(body)).await;
    assert_eq!(replayed.body, created.body);
    assert_eq!(
        handled(&counter),
        [("GetItem", 2), ("TransactWriteItems", 1)]
            .map(|(op, n)| (op.to_owned(), n))
            .into(),
        "a replay: the refused transaction, the record, the endpoint (which holds its secret)"
    );

    let id = created.body["id"].as_str().unwrap();
    let rotate = format!("{}/{id}/rotate-secret", system_tests::COLLECTION);
    let rotated = api.send("POST", &rotate, Some(ORG_A_ADMIN), None).await;
    assert_eq!(rotated.status, 200);
    assert_eq!(
        handled(&counter),
        [("GetItem", 1), ("TransactWriteItems", 1)]
            .map(|(op, n)| (op.to_owned(), n))
            .into(),
        "a rotation: one transaction, one read for the answer"
    );
    assert_eq!(keyed("k2", rotate, None).await.status, 200);
    assert_eq!(handled_count(&counter), 2, "a keyed rotation costs no more");

    let url = serde_json::json!({"url": "https://legacy.example.com/h"}).to_string();
    api.send("PUT", "/v1/webhook", Some(ORG_A_ADMIN), Some(url))
        .await;
    counter.take();
    let legacy = api
        .send("POST", "/v1/webhook/rotate-secret", Some(ORG_A_ADMIN), None)
        .await;
    assert_eq!(legacy.status, 200);
    assert_eq!(
        handled(&counter),
        [("GetItem", 1), ("UpdateItem", 1)]
            .map(|(op, n)| (op.to_owned(), n))
            .into(),
        "a legacy rotation: one read, one conditional UpdateItem from what it read"
    );
}

#[tokio::test]
async fn a_page_of_the_delivery_log_is_one_query_per_partition() {
    let (store, counter) = moto_store().await;
    let now = SystemClock.now();
    let endpoint = EndpointId::generate();
    for i in 0..120_u32 {
        let record = DeliveryRecord {
            event_type: EventType::WebTool.into(),
            status: if i % 10 == 0 {
                DeliveryStatus::Failed
            } else {
                DeliveryStatus::Delivered
            },
            ..fixtures::delivery_record(OrgId::new(100), Some(endpoint), now)
        };
        store
            .record_delivery(
                &record,
                now.checked_add(std::time::Duration::from_secs(60)).unwrap(),
            )
            .await
            .unwrap();
    }
    let writes = counter.take_by_operation();
    assert_eq!(
        writes,
        [("PutItem".to_owned(), 120)].into(),
        "one write per record"
    );
    let api = start_counted(store, &counter).await;
    let log = "/v1/developer/webhook-deliveries";

    let page = api
        .send("GET", &format!("{log}?limit=50"), Some(ORG_A_ADMIN), None)
        .await;
    assert_eq!(page.body["results"].as_array().unwrap().len(), 50);
    assert_eq!(page.body["has_more"], true);
    assert_eq!(
        handled(&counter),
        [("Query".to_owned(), 8)].into(),
        "one Query per log partition"
    );

    // A narrow filter reads on within each partition: still one page each here (1 MB pages).
    let failed = api
        .send(
            "GET",
            &format!("{log}?status=failed&limit=5"),
            Some(ORG_A_ADMIN),
            None,
        )
        .await;
    assert_eq!(failed.body["results"].as_array().unwrap().len(), 5);
    assert_eq!(handled(&counter), [("Query".to_owned(), 8)].into());

    let refused = api
        .send("GET", &format!("{log}?limit=500"), Some(ORG_A_ADMIN), None)
        .await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        handled_count(&counter),
        0,
        "invalid input never reaches DynamoDB"
    );
}

/// The delivery log's read budget: an organization with 20,000 records and a filter that
/// matches none. Every page reads at most 8 × 250 items (one Query per shard) and answers a
/// short page with a cursor; following the cursors reaches the end, and a filter that matches a
/// few records finds all of them, newest first.
#[tokio::test]
async fn a_log_page_reads_at_most_its_budget_whatever_the_filter() {
    const RECORDS: usize = 20_000;
    const BUDGET: u64 = 8 * 250;
    let (store, counter) = moto_store().await;
    let now = SystemClock.now();
    let endpoint = EndpointId::generate();
    let expires_at = now
        .checked_add(std::time::Duration::from_secs(3600))
        .unwrap();
    let records: Vec<_> = (0..RECORDS)
        .map(|i| {
            let at = webhook_domain::Timestamp::from_unix_millis(
                now.unix_millis() - 10_000_000 + i as i64 * 100,
            )
            .unwrap();
            let mut record = fixtures::delivery_record(ORG_A, Some(endpoint), at);
            // A few records of agent 8, spread over the log; the rest agent 7.
            record.agent_id = webhook_domain::AgentId::new(if i % 5_000 == 17 { 8 } else { 7 });
            (record, expires_at)
        })
        .collect();
    store.import_deliveries(&records).await.unwrap();
    let api = start_counted(store, &counter).await;
    counter.take_scanned();

    let walk = |filter: &'static str| {
        let (api, counter) = (&api, &counter);
        async move {
            let (mut found, mut pages, mut scanned, mut cursor) = (Vec::new(), 0, 0, None);
            loop {
                let query = match &cursor {
                    Some(cursor) => format!("{filter}&cursor={cursor}"),
                    None => filter.to_owned(),
                };
                let page = api
                    .send("GET", &format!("{LOG}?{query}"), Some(ORG_A_ADMIN), None)
                    .await;
                assert_eq!(page.status, 200, "{:?}", page.body);
                let read = counter.take_scanned();
                assert!(read <= BUDGET, "page {pages} read {read} items");
                assert!(handled_count(counter) <= 8, "one Query per shard");
                scanned += read;
                pages += 1;
                for record in page.body["results"].as_array().unwrap() {
                    found.push(record["occurred_at"].as_str().unwrap().to_owned());
                }
                if page.body["has_more"] == false {
                    assert!(page.body["next_cursor"].is_null());
                    return (found, pages, scanned);
                }
                cursor = Some(page.body["next_cursor"].as_str().unwrap().to_owned());
                assert!(pages < 100, "the walk ends");
            }
        }
    };

    let (found, pages, scanned) = walk("agent_id=9&limit=50").await;
    assert!(found.is_empty());
    assert!(pages >= RECORDS as u64 / BUDGET, "{pages} pages");
    assert!(
        scanned >= RECORDS as u64,
        "every record read once: {scanned}"
    );
    assert!(scanned < 2 * RECORDS as u64, "little read twice: {scanned}");
    println!("no match: {pages} pages, {scanned} items read");

    let (found, _, _) = walk("agent_id=8&limit=50").await;
    let mut expected: Vec<String> = records
        .iter()
        .filter(|(record, _)| record.agent_id == webhook_domain::AgentId::new(8))
        .map(|(record, _)| record.occurred_at.to_string())
        .collect();
    expected.reverse();
    assert_eq!(found, expected, "all of them, newest first");

    // Without a filter a page is one Query per shard, each for its newest limit + 1.
    let page = api
        .send("GET", &format!("{LOG}?limit=50"), Some(ORG_A_ADMIN), None)
        .await;
    assert_eq!(page.body["results"].as_array().unwrap().len(), 50);
    assert!(counter.take_scanned() <= 8 * 51);
}
