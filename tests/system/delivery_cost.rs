//! What a delivery costs in DynamoDB, priced at the wire: every request the pipeline makes on
//! moto, with the item sizes DynamoDB bills by (`tests/dynamodb_meter.py`). Five endpoints per
//! event and a 1 KB event body, as `docs/storage.md` prices it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use system_tests::{dynamodb_endpoint, moto_store};
use webhook_delivery::event::PlatformEvent;
use webhook_delivery::pipeline::{Delivery, Pipeline};
use webhook_delivery::queue::{Delayed, JobQueue, QueueError};
use webhook_delivery::sender::Sender;
use webhook_delivery::testing::{Receiver, Reply};
use webhook_domain::{
    Clock, Endpoint, EndpointUrl, EventId, EventName, ManualClock, OrgId, RateLimit, SystemClock,
    fixtures,
};
use webhook_store::{DeliveryStatsStore, DynamoStore, EndpointStore};

const ORG: OrgId = OrgId::new(31);
const ENDPOINTS_PER_EVENT: usize = 5;

/// What a table's requests cost since the last look.
#[derive(Debug, Default, Clone, Copy)]
struct Bill {
    write_units: f64,
    read_units: f64,
    requests: f64,
}

impl Bill {
    fn per(self, n: usize) -> Self {
        let n = n as f64;
        Self {
            write_units: self.write_units / n,
            read_units: self.read_units / n,
            requests: self.requests / n,
        }
    }
}

async fn bill(table: &str) -> Bill {
    let answer: Value = reqwest::get(format!("{}/_meter/{table}", dynamodb_endpoint()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let requests: f64 = answer["requests"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_f64().unwrap())
        .sum();
    Bill {
        write_units: answer["write_units"].as_f64().unwrap(),
        read_units: answer["read_units"].as_f64().unwrap(),
        requests,
    }
}

/// Keeps every job; the test runs them.
#[derive(Clone, Default)]
struct Jobs(Arc<Mutex<Vec<Delayed>>>);

impl Jobs {
    fn take(&self) -> Vec<Delayed> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl JobQueue for Jobs {
    fn max_delay(&self) -> Duration {
        Duration::from_secs(15 * 60)
    }

    async fn enqueue(&self, jobs: Vec<Delayed>) -> Result<(), QueueError> {
        self.0.lock().unwrap().extend(jobs);
        Ok(())
    }
}

struct Setup {
    pipeline: Pipeline<DynamoStore, Jobs>,
    jobs: Jobs,
    clock: Arc<ManualClock>,
    table: String,
    _receiver: Receiver,
}

/// Five endpoints at a receiver answering `status` to everything, the meter read to zero.
async fn setup(status: u16) -> Setup {
    setup_limited(status, None).await
}

/// [`setup`], the endpoints limited to `rate_limit` a second.
async fn setup_limited(status: u16, rate_limit: Option<RateLimit>) -> Setup {
    let (store, _) = moto_store().await;
    let table = store.table().to_owned();
    let receiver = Receiver::start(vec![Reply::Status(status); 1000])
        .await
        .unwrap();
    let clock = Arc::new(ManualClock::starting_at(SystemClock.now()));
    for _ in 0..ENDPOINTS_PER_EVENT {
        let (endpoint, secret) = fixtures::endpoint_with_secret(ORG, clock.now());
        let endpoint = Endpoint {
            url: EndpointUrl::parse(&receiver.url()).unwrap(),
            rate_limit,
            ..endpoint
        };
        store.create(&endpoint, &secret, 50, None).await.unwrap();
    }
    let jobs = Jobs::default();
    let pipeline = Pipeline {
        clock: clock.clone(),
        ..webhook_delivery::testing::pipeline(store, jobs.clone(), Sender::new(true).unwrap())
    };
    bill(&table).await;
    Setup {
        pipeline,
        jobs,
        clock,
        table,
        _receiver: receiver,
    }
}

/// An event of about 1 KB as its body goes out, of random ids, which compress about as well
/// as a real payload's text.
fn event(clock: &ManualClock) -> PlatformEvent {
    let ids: Vec<String> = (0..22).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    PlatformEvent {
        id: EventId::generate(),
        org_id: ORG,
        agent_id: None,
        event_type: EventName::parse("call.graded").unwrap(),
        data: json!({"call_id": 7, "tool_calls": ids})
            .as_object()
            .unwrap()
            .clone(),
        occurred_at: clock.now(),
        traceparent: None,
    }
}

/// Fans out `events` events and makes every first attempt: the jobs left to retry.
async fn first_attempts(setup: &Setup, events: usize) -> Vec<Delayed> {
    for _ in 0..events {
        let queued = setup.pipeline.fan_out(&event(&setup.clock)).await.unwrap();
        assert_eq!(queued, ENDPOINTS_PER_EVENT);
    }
    for queued in setup.jobs.take() {
        setup.pipeline.deliver(queued.job).await.unwrap();
    }
    setup.jobs.take()
}

#[tokio::test]
async fn a_first_attempt_that_succeeds() {
    let setup = setup(200).await;
    let events = 4;
    assert!(first_attempts(&setup, events).await.is_empty());
    let per_delivery = bill(&setup.table).await.per(events * ENDPOINTS_PER_EVENT);
    println!("first attempt succeeds, per delivery: {per_delivery:?}");
    assert!(per_delivery.write_units <= 4.5, "{per_delivery:?}");
    assert!(per_delivery.read_units <= 1.5, "{per_delivery:?}");
    assert!(per_delivery.requests <= 4.5, "{per_delivery:?}");
}

/// An endpoint with a rate limit its receiver keeps up with: each attempt takes the
/// endpoint's turn first, one more write, and waits for nothing.
#[tokio::test]
async fn a_first_attempt_to_a_paced_endpoint() {
    let setup = setup_limited(200, RateLimit::new(100).ok()).await;
    let events = 4;
    for _ in 0..events {
        let queued = setup.pipeline.fan_out(&event(&setup.clock)).await.unwrap();
        assert_eq!(queued, ENDPOINTS_PER_EVENT);
    }
    for queued in setup.jobs.take() {
        // Far enough apart that no turn waits: the case a limit set for safety meets.
        setup.clock.advance(Duration::from_millis(5));
        let delivered = setup.pipeline.deliver(queued.job).await.unwrap();
        assert_eq!(delivered, Delivery::Delivered);
    }
    assert!(setup.jobs.take().is_empty(), "nothing waited");
    let per_delivery = bill(&setup.table).await.per(events * ENDPOINTS_PER_EVENT);
    println!("first attempt to a paced endpoint, per delivery: {per_delivery:?}");
    assert!(
        per_delivery.write_units <= 5.5,
        "one write more: {per_delivery:?}"
    );
    assert!(per_delivery.read_units <= 1.5, "{per_delivery:?}");
    assert!(
        per_delivery.requests <= 5.5,
        "one request more: {per_delivery:?}"
    );
}

#[tokio::test]
async fn a_delivery_that_fails_nine_times() {
    let setup = setup(500).await;
    let mut waiting = first_attempts(&setup, 1).await;
    let first = bill(&setup.table).await.per(ENDPOINTS_PER_EVENT);
    println!("first attempt fails, per delivery: {first:?}");
    assert!(first.read_units <= 1.5, "{first:?}");
    let mut total = first.write_units;
    let mut attempts = 1;
    while !waiting.is_empty() {
        // The jobs come back when their delay has passed.
        let now = setup.clock.now();
        let wait = waiting
            .iter()
            .map(|queued| match queued.job.not_before {
                Some(at) => Duration::from_millis((at.unix_millis() - now.unix_millis()) as u64),
                None => queued.delay,
            })
            .max()
            .unwrap();
        setup.clock.advance(wait);
        let mut gave_up = 0;
        for queued in std::mem::take(&mut waiting) {
            match setup.pipeline.deliver(queued.job).await.unwrap() {
                Delivery::Retrying(_) => {}
                Delivery::GaveUp(_) => gave_up += 1,
                other => panic!("{other:?}"),
            }
        }
        waiting = setup.jobs.take();
        attempts += 1;
        let retry = bill(&setup.table).await.per(ENDPOINTS_PER_EVENT);
        println!("attempt {attempts} ({gave_up} gave up), per delivery: {retry:?}");
        if gave_up == 0 {
            assert!(retry.write_units <= 3.5, "{retry:?}");
        }
        assert!(retry.read_units <= 1.5, "{retry:?}");
        total += retry.write_units;
    }
    println!("{attempts} attempts, write units per delivery in all: {total}");
    assert_eq!(attempts, 9);
    assert!(total <= 35.0, "{total}");
}

/// What the API's everyday calls cost, for the cost table: a create, a list, the stats route.
#[tokio::test]
async fn creating_listing_and_reading_stats() {
    let (store, _) = moto_store().await;
    let table = store.table().to_owned();
    let clock = ManualClock::starting_at(SystemClock.now());
    bill(&table).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let (endpoint, secret) = fixtures::endpoint_with_secret(ORG, clock.now());
        store.create(&endpoint, &secret, 50, None).await.unwrap();
        ids.push(endpoint.id);
    }
    let create = bill(&table).await.per(5);
    println!("create: {create:?}");
    assert_eq!(create.requests, 1.0);
    assert!(create.write_units <= 6.0, "{create:?}");
    assert_eq!(store.list(ORG).await.unwrap().len(), 5);
    let list = bill(&table).await;
    println!("list of five: {list:?}");
    assert_eq!((list.requests, list.read_units), (1.0, 1.0));
    for id in &ids {
        DeliveryStatsStore::endpoint_health(&store, ORG, *id)
            .await
            .unwrap()
            .unwrap();
    }
    let stats = bill(&table).await.per(5);
    println!("stats: {stats:?}");
    assert_eq!(stats.requests, 1.0);
    assert!(stats.read_units <= 6.0, "{stats:?}");
}
