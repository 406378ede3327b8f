//! What only the DynamoDB layout can show: where the secret lives, what the counter holds, and
//! that items written by earlier layouts still read.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use webhook_domain::{EndpointChanges, Label, OrgId};
use webhook_store::dynamodb::{log_partition_of, table};
use webhook_store::{DynamoStore, EndpointStore, RotationAsked};

use crate::support::{at, dynamo_store, new_endpoint, signing};

fn key(pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(pk.into())),
        ("sk".to_owned(), AttributeValue::S(sk.into())),
    ])
}

async fn raw_item(
    store: &DynamoStore,
    pk: &str,
    sk: &str,
) -> Option<HashMap<String, AttributeValue>> {
    store
        .client()
        .get_item()
        .table_name(store.table())
        .set_key(Some(key(pk, sk)))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

/// An UpdateItem of the item at `pk`, `sk`, as an earlier layout (or a hand) would write it.
fn raw_update(
    store: &DynamoStore,
    pk: &str,
    sk: &str,
) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
    store
        .client()
        .update_item()
        .table_name(store.table())
        .set_key(Some(key(pk, sk)))
}

/// A delivery record's item as stored, which must exist.
async fn raw_record_item(
    store: &DynamoStore,
    record: &webhook_domain::DeliveryRef,
) -> HashMap<String, AttributeValue> {
    let partition = log_partition_of(record);
    raw_item(store, &partition, record.log_key().as_str())
        .await
        .unwrap()
}

/// A store holding one endpoint of `org`, and the keys of the endpoint's item.
struct Created {
    store: DynamoStore,
    endpoint: webhook_domain::Endpoint,
    secret: webhook_domain::SigningSecret,
}

/// The table keys of the endpoint's item.
fn item_keys(endpoint: &webhook_domain::Endpoint) -> (String, String) {
    let (org, id) = (endpoint.org_id, endpoint.id);
    (format!("ORG#{org}"), format!("ENDPOINT#{id}"))
}

async fn created(org: OrgId, label: &str) -> Created {
    let store = dynamo_store().await;
    let (endpoint, secret) = new_endpoint(org, label, at(1_000));
    store.create(&endpoint, &secret, 50, None).await.unwrap();
    Created {
        store,
        endpoint,
        secret,
    }
}

/// Puts the endpoint's secret where it was before secrets moved into endpoint items: in an
/// item of its own, none in the endpoint item.
async fn secret_as_before(created: &Created) {
    let Created {
        store,
        endpoint,
        secret,
    } = created;
    let (pk, sk) = item_keys(endpoint);
    store
        .client()
        .put_item()
        .table_name(store.table())
        .item("pk", AttributeValue::S(pk.to_string()))
        .item("sk", AttributeValue::S(format!("SECRET#{}", endpoint.id)))
        .item("endpoint_id", AttributeValue::S(endpoint.id.to_string()))
        .item("secret", AttributeValue::S(secret.expose().to_owned()))
        .send()
        .await
        .unwrap();
    raw_update(store, &pk.to_string(), &sk.to_string())
        .update_expression("REMOVE secret")
        .send()
        .await
        .unwrap();
}

/// Until when the endpoint's rotated-out secret signs, as the stats route reads it.
async fn grace(
    store: &DynamoStore,
    org: OrgId,
    id: webhook_domain::EndpointId,
) -> Option<webhook_domain::Timestamp> {
    webhook_store::DeliveryStatsStore::endpoint_health(store, org, id)
        .await
        .unwrap()
        .unwrap()
        .previous_secret_expires_at
}

/// A rotation at 3,000 whose rotated-out secret signs until 9,000.
fn rotation() -> webhook_domain::Rotation {
    webhook_domain::Rotation {
        new: webhook_domain::SigningSecret::generate().unwrap(),
        previous_until: Some(at(9_000)),
        at: at(3_000),
    }
}

/// The secret lives in the endpoint item, so delivery reads one item; every read but
/// delivery's leaves it out, and it dies with the endpoint.
#[tokio::test]
async fn the_secret_lives_in_the_endpoint_item_and_dies_with_it() {
    let org = OrgId::new(5);
    let Created {
        store,
        endpoint,
        secret,
    } = created(org, "secretive").await;
    let (pk, sk) = item_keys(&endpoint);

    let endpoint_item = raw_item(&store, &pk, &sk).await.unwrap();
    assert_eq!(endpoint_item["secret"].as_s().unwrap(), secret.expose());
    assert!(
        raw_item(&store, &pk, &format!("SECRET#{}", endpoint.id))
            .await
            .is_none(),
        "no item of its own"
    );
    let counter = raw_item(&store, &pk, "ORG").await.unwrap();
    assert_eq!(counter["endpoint_count"].as_n().unwrap(), "1");
    let (read, keys) = signing(&store, org, endpoint.id).await.unwrap();
    assert_eq!(
        (read, keys.current.expose()),
        (endpoint.clone(), secret.expose())
    );

    let rename = EndpointChanges {
        label: Some(Label::parse("renamed").unwrap()),
        ..Default::default()
    };
    let renamed = store
        .update(org, endpoint.id, &rename, at(2_000))
        .await
        .unwrap();
    let endpoint_item = raw_item(&store, &pk, &sk).await.unwrap();
    assert_eq!(
        endpoint_item["secret"].as_s().unwrap(),
        secret.expose(),
        "kept by updates"
    );

    let rotation = rotation();
    let new = rotation.new.clone();
    store
        .rotate_secret(RotationAsked::new(&renamed, &rotation))
        .await
        .unwrap();
    let endpoint_item = raw_item(&store, &pk, &sk).await.unwrap();
    assert_eq!(endpoint_item["secret"].as_s().unwrap(), new.expose());
    assert_eq!(
        endpoint_item["previous_secret"].as_s().unwrap(),
        secret.expose()
    );
    assert_eq!(grace(&store, org, endpoint.id).await, Some(at(9_000)));

    store.delete(org, endpoint.id).await.unwrap();
    assert!(raw_item(&store, &pk, &sk).await.is_none());
    let counter = raw_item(&store, &pk, "ORG").await.unwrap();
    assert_eq!(counter["endpoint_count"].as_n().unwrap(), "0");
}

/// An endpoint created before secrets moved into endpoint items keeps its secret in an item of
/// its own: delivery reads it there, rotation rotates it there, and deleting removes both.
#[tokio::test]
async fn an_endpoint_whose_secret_lives_apart_still_signs_and_rotates() {
    let org = OrgId::new(6);
    let older = created(org, "older").await;
    secret_as_before(&older).await;
    let Created {
        store,
        endpoint,
        secret,
    } = older;
    let (pk, sk) = item_keys(&endpoint);
    let secret_sk = format!("SECRET#{}", endpoint.id);
    let (_, keys) = signing(&store, org, endpoint.id).await.unwrap();
    assert_eq!(keys.current.expose(), secret.expose());

    let rotation = rotation();
    let new = rotation.new.clone();
    let stale = endpoint.clone();
    let rotated = store
        .rotate_secret(RotationAsked::new(&endpoint, &rotation))
        .await
        .unwrap();
    assert_eq!(rotated.secret_hint, new.hint());
    let (read, keys) = signing(&store, org, endpoint.id).await.unwrap();
    assert_eq!(read, rotated);
    assert_eq!(keys.current.expose(), new.expose());
    assert_eq!(
        keys.previous.map(|p| p.secret.expose().to_owned()),
        Some(secret.expose().to_owned())
    );
    assert!(
        !raw_item(&store, &pk, &sk)
            .await
            .unwrap()
            .contains_key("secret")
    );
    let again = self::rotation();
    assert!(matches!(
        store
            .rotate_secret(RotationAsked::new(&stale, &again))
            .await,
        Err(webhook_store::StoreError::Superseded)
    ));
    assert_eq!(grace(&store, org, endpoint.id).await, Some(at(9_000)));

    store.delete(org, endpoint.id).await.unwrap();
    assert!(raw_item(&store, &pk, &secret_sk).await.is_none());
    assert!(raw_item(&store, &pk, &sk).await.is_none());
}

#[tokio::test]
async fn creating_the_table_twice_is_harmless() {
    let store = dynamo_store().await;
    table::create_if_missing(store.client(), store.table())
        .await
        .unwrap();
    assert_eq!(store.list(OrgId::new(1)).await.unwrap(), vec![]);
}

#[tokio::test]
async fn delivery_records_expire_by_ttl_and_keep_their_body_compressed() {
    use webhook_domain::{DeliveryRecord, EndpointId};
    use webhook_store::DeliveryLogStore;

    let store = dynamo_store().await;
    let ttl = store
        .client()
        .describe_time_to_live()
        .table_name(store.table())
        .send()
        .await
        .unwrap();
    let ttl = ttl.time_to_live_description.unwrap();
    assert_eq!(ttl.attribute_name(), Some("expires_at"));
    assert_eq!(
        ttl.time_to_live_status().map(|s| s.as_str()),
        Some("ENABLED")
    );

    let record: DeliveryRecord =
        crate::log::record(OrgId::new(5), Some(EndpointId::generate()), 1_000);
    store
        .record_delivery(&record, at(2_592_001_000))
        .await
        .unwrap();
    let reference = record.reference();
    let item = raw_record_item(&store, &reference).await;
    assert_eq!(item["expires_at"], AttributeValue::N("2592001".into()));
    let mut names: Vec<&str> = item.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "attempt_count",
            "body",
            "call_id",
            "destination_log",
            "endpoint_id",
            "endpoint_label",
            "event_id",
            "event_type",
            "expires_at",
            "http_status",
            "last_attempt_at",
            "occurred_at",
            "org_id",
            "pk",
            "sk",
            "status",
            "test",
            "tries",
            "url",
        ],
        "delivered: in the endpoint index, not in the sparse problem index; found by event \
         through the event's own item, not an index"
    );
    let AttributeValue::B(body) = &item["body"] else {
        panic!("the body is binary: {:?}", item["body"])
    };
    let sent = record.body.as_ref().unwrap().bytes().unwrap();
    assert!(body.as_ref().len() < sent.len() + 16, "kept compressed");

    // Retrying: not in the problem index, so its retries write no entry there; failed: in it.
    use webhook_domain::DeliveryStatus::{Failed, Retrying};
    for (status, attempt_count, problem) in [(Retrying, 2, None), (Failed, 3, Some(&reference))] {
        let later = DeliveryRecord {
            status,
            attempt_count,
            ..record.clone()
        };
        store
            .record_delivery(&later, at(2_592_001_000))
            .await
            .unwrap();
        let item = raw_record_item(&store, &reference).await;
        assert_eq!(
            item.get("problem_log"),
            problem
                .map(|r| AttributeValue::S(log_partition_of(r)))
                .as_ref(),
            "{status}"
        );
    }
}

/// `webhooks-admin upgrade` moves such secrets into their endpoint items: delivery then reads
/// one item, and a second pass finds nothing to move.
#[tokio::test]
async fn secrets_kept_apart_move_into_their_endpoint_items() {
    let org = OrgId::new(7);
    let older = created(org, "older").await;
    secret_as_before(&older).await;
    let store = &older.store;
    // An endpoint created after holds its secret already: nothing to move.
    let (newer, newer_secret) = new_endpoint(org, "newer", at(2_000));
    store.create(&newer, &newer_secret, 50, None).await.unwrap();

    let moved = store.move_secrets_into_endpoints().await.unwrap();
    assert_eq!((moved.moved, moved.left), (1, 0));
    let (pk, sk) = item_keys(&older.endpoint);
    let endpoint_item = raw_item(store, &pk, &sk).await.unwrap();
    assert_eq!(
        endpoint_item["secret"].as_s().unwrap(),
        older.secret.expose()
    );
    let secret_sk = format!("SECRET#{}", older.endpoint.id);
    assert!(raw_item(store, &pk, &secret_sk).await.is_none());
    let (_, keys) = signing(store, org, older.endpoint.id).await.unwrap();
    assert_eq!(keys.current.expose(), older.secret.expose());
    let again = store.move_secrets_into_endpoints().await.unwrap();
    assert_eq!((again.moved, again.left), (0, 0));
}

/// Records written before events were kept apart carry their body, an `event_log` key and an
/// `endpoint_log` key, and no event item: they are found through those indexes until TTL ends
/// them.
#[tokio::test]
async fn records_written_before_the_upgrade_stay_readable() {
    use webhook_domain::{DeliveryFilter, Destination, EndpointId, LogQuery};
    use webhook_store::{DeliveryLogStore, EventRef};

    let store = dynamo_store().await;
    let org = OrgId::new(12);
    let old = crate::log::record(org, Some(EndpointId::generate()), 1_000);
    store.record_delivery(&old, at(9_000_000)).await.unwrap();
    let reference = old.reference();
    raw_update(
        &store,
        &log_partition_of(&reference),
        reference.log_key().as_str(),
    )
    .update_expression("SET event_log = :event, endpoint_log = :endpoint REMOVE destination_log")
    .expression_attribute_values(
        ":event",
        AttributeValue::S(format!("LOG#12#{}#{}", old.event_id, old.destination)),
    )
    .expression_attribute_values(
        ":endpoint",
        AttributeValue::S(format!(
            "LOG#12#{}#{}",
            old.destination,
            log_partition_of(&reference).rsplit('#').next().unwrap()
        )),
    )
    .send()
    .await
    .unwrap();

    let event = EventRef {
        event_id: old.event_id,
        destination: old.destination,
    };
    let found = store.delivery(org, event, at(5_000)).await.unwrap();
    assert_eq!(found.as_ref(), Some(&old), "with the body it kept");
    assert_eq!(
        store.delivery(org, event, at(9_000_001)).await.unwrap(),
        None
    );
    let other = EventRef {
        destination: Destination::Legacy,
        ..event
    };
    assert_eq!(store.delivery(org, other, at(5_000)).await.unwrap(), None);
    let page = store
        .deliveries(
            org,
            &LogQuery::newest(DeliveryFilter::default(), 10, at(5_000)).with_bodies(),
        )
        .await
        .unwrap();
    assert_eq!(page.records, vec![old.clone()]);
    let by_endpoint = DeliveryFilter {
        endpoint_id: old.destination.endpoint(),
        ..Default::default()
    };
    let page = store
        .deliveries(org, &LogQuery::newest(by_endpoint, 10, at(5_000)))
        .await
        .unwrap();
    assert_eq!(page.records, vec![old.listed()], "through log-by-endpoint");
}

#[tokio::test]
async fn one_organizations_log_spreads_over_every_partition() {
    use webhook_domain::EndpointId;
    use webhook_store::DeliveryLogStore;
    use webhook_store::dynamodb::LOG_SHARDS;

    let store = dynamo_store().await;
    let endpoint = EndpointId::generate();
    for i in 0..160 {
        let record = crate::log::record(OrgId::new(6), Some(endpoint), 1_000 + i);
        store.record_delivery(&record, at(9_000_000)).await.unwrap();
    }
    for shard in 0..LOG_SHARDS {
        let held = store
            .client()
            .query()
            .table_name(store.table())
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(format!("LOG#6#{shard}")))
            .select(aws_sdk_dynamodb::types::Select::Count)
            .send()
            .await
            .unwrap()
            .count;
        assert!(held > 0, "partition {shard} holds none of 160 records");
    }
}
