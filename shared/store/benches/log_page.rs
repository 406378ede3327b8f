//! One page of the delivery log on a DynamoDB-protocol server, for an organization with 20,000
//! records: unfiltered, and with a filter that matches none (the page that reads its whole
//! budget). Run with a server up, as `scripts/test` starts one:
//! `WEBHOOKS_TEST_DYNAMODB_ENDPOINT=http://127.0.0.1:PORT cargo bench -p webhook-store`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed benchmark

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use webhook_domain::{
    AgentId, Clock, DeliveryFilter, EndpointId, LogQuery, OrgId, SystemClock, Timestamp, fixtures,
};
use webhook_store::dynamodb::{local_client, table};
use webhook_store::{DeliveryLogStore, DynamoStore};

const ORG: OrgId = OrgId::new(5);
const RECORDS: i64 = 20_000;

fn bench(c: &mut Criterion) {
    let endpoint = std::env::var("WEBHOOKS_TEST_DYNAMODB_ENDPOINT")
        .expect("WEBHOOKS_TEST_DYNAMODB_ENDPOINT names the DynamoDB-protocol server");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime.block_on(async {
        let client = local_client(&endpoint);
        let name = format!("bench-{}", uuid::Uuid::new_v4());
        table::create_if_missing(&client, &name).await.unwrap();
        let store = DynamoStore::new(client, name);
        let now = SystemClock.now();
        let expires_at = now.checked_add(Duration::from_secs(3600)).unwrap();
        let id = EndpointId::generate();
        let records: Vec<_> = (0..RECORDS)
            .map(|i| {
                let at = Timestamp::from_unix_millis(now.unix_millis() - 10_000_000 + i * 100);
                let mut record = fixtures::delivery_record(ORG, Some(id), at.unwrap());
                record.agent_id = AgentId::new(7);
                (record, expires_at)
            })
            .collect();
        store.import_deliveries(&records).await.unwrap();
        store
    });
    let page = |filter: DeliveryFilter| {
        let store = &store;
        async move {
            let query = LogQuery::newest(filter, 50, SystemClock.now());
            store.deliveries(ORG, &query).await.unwrap()
        }
    };
    let mut group = c.benchmark_group("log_page_20k");
    group.sample_size(10);
    group.bench_function("unfiltered", |b| {
        b.to_async(&runtime)
            .iter(|| page(DeliveryFilter::default()))
    });
    group.bench_function("no_match", |b| {
        b.to_async(&runtime).iter(|| {
            page(DeliveryFilter {
                agent_id: AgentId::new(9),
                ..DeliveryFilter::default()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
