//! The AWS side of delivery against moto: the SQS adapters, and both Lambda handlers driven by
//! the sample SQS events in `events/`.

use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::json;
use system_tests::{RequestCounter, moto_queue, moto_store};
use webhook_delivery::event::{DeliveryJob, PlatformEvent};
use webhook_delivery::lambda::Worker;
use webhook_delivery::queue::{Delayed, JobQueue};
use webhook_delivery::sender::Sender;
use webhook_delivery::sqs::{DeadLetters, SqsQueue};
use webhook_domain::{
    Clock, DeliveryFilter, DeliveryStatus, Endpoint, EndpointId, EndpointUrl, LogQuery, OrgId,
    SigningSecret, SystemClock, fixtures,
};
use webhook_store::{
    DeliveryLogStore, DeliveryStatsStore, DynamoStore, EndpointStore, LegacyWebhookStore,
};

fn sample(name: &str) -> SqsEvent {
    let path = format!("{}/../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn job(n: u32) -> DeliveryJob {
    serde_json::from_value(json!({
        "event_id": uuid::Uuid::new_v4(), "org_id": 1, "endpoint_id": uuid::Uuid::new_v4(),
        "type": "web.tool", "data": {"n": n}, "attempts": 0
    }))
    .unwrap()
}

async fn receive_all(client: &aws_sdk_sqs::Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let mut all = Vec::new();
    loop {
        let batch = client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default();
        if batch.is_empty() {
            return all;
        }
        all.extend(batch);
    }
}

#[tokio::test]
async fn the_sqs_queue_sends_batches_of_ten_and_holds_delays() {
    let counter = RequestCounter::default();
    let (client, url) = moto_queue(&counter).await;
    let queue = SqsQueue::new(client.clone(), &url);
    let jobs: Vec<Delayed> = (0..50)
        .map(|n| Delayed {
            job: job(n),
            delay: Duration::ZERO,
        })
        .collect();
    queue.enqueue(jobs.clone()).await.unwrap();
    assert_eq!(
        counter.take_by_operation().get("SendMessageBatch"),
        Some(&5),
        "50 jobs, 5 batches"
    );

    let received = receive_all(&client, &url).await;
    for message in &received {
        assert_eq!(
            message
                .attributes()
                .and_then(|a| a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId))
                .map(String::as_str),
            Some("1"),
            "grouped by organization: a fair queue"
        );
    }
    let mut got: Vec<DeliveryJob> = received
        .iter()
        .map(|m| serde_json::from_str(m.body().unwrap()).unwrap())
        .collect();
    got.sort_by_key(|j| j.data["n"].as_u64());
    assert_eq!(got, jobs.into_iter().map(|d| d.job).collect::<Vec<_>>());

    // Big payloads: ten of 60 KB would pass 256 KiB, so they go four at a time.
    let big: Vec<Delayed> = (0..10)
        .map(|n| {
            let mut big = job(100 + n);
            big.data.insert("blob".into(), json!("x".repeat(60_000)));
            Delayed {
                job: big,
                delay: Duration::ZERO,
            }
        })
        .collect();
    queue.enqueue(big).await.unwrap();
    assert_eq!(
        counter.take_by_operation().get("SendMessageBatch"),
        Some(&3)
    );
    assert_eq!(receive_all(&client, &url).await.len(), 10);

    queue
        .enqueue(vec![Delayed {
            job: job(99),
            delay: Duration::from_millis(1_500),
        }])
        .await
        .unwrap();
    assert!(
        receive_all(&client, &url).await.is_empty(),
        "not visible before its delay"
    );
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_eq!(receive_all(&client, &url).await.len(), 1);
    assert_eq!(queue.max_delay(), Duration::from_secs(900));
}

async fn worker(
    store: DynamoStore,
    counter: &RequestCounter,
) -> (Worker<DynamoStore>, aws_sdk_sqs::Client, String, String) {
    let (client, jobs_url) = moto_queue(counter).await;
    let (_, dead_url) = moto_queue(counter).await;
    let worker = Worker {
        pipeline: webhook_delivery::testing::pipeline(
            store,
            SqsQueue::new(client.clone(), &jobs_url),
            Sender::new(true).unwrap(),
        ),
        dead_letters: DeadLetters::new(client.clone(), &dead_url),
    };
    (worker, client, jobs_url, dead_url)
}

async fn sample_endpoint(store: &DynamoStore, url: &str) -> Endpoint {
    // The endpoint the sample SQS events name.
    let (endpoint, secret) = fixtures::endpoint_with_secret(OrgId::new(42), SystemClock.now());
    let endpoint = Endpoint {
        id: EndpointId::parse("3f1c2b7e-8d4a-4e7b-9c1d-5a6b7c8d9e0f").unwrap(),
        url: EndpointUrl::parse(url).unwrap(),
        ..endpoint
    };
    store.create(&endpoint, &secret, 50, None).await.unwrap();
    endpoint
}

#[tokio::test]
async fn the_fan_out_lambda_queues_jobs_and_dead_letters_malformed_events() {
    let counter = RequestCounter::default();
    let (store, _) = moto_store().await;
    let endpoint = sample_endpoint(&store, "https://hooks.example.com/tp").await;
    let (worker, client, jobs_url, dead_url) = worker(store, &counter).await;

    let mut event = sample("fan-out-sqs");
    let mut malformed = event.records[0].clone();
    malformed.message_id = Some("bad-1".into());
    malformed.body = Some(r#"{"type":"call.graded"}"#.into());
    event.records.push(malformed);
    let response = worker
        .fan_out(LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    assert!(
        response.batch_item_failures.is_empty(),
        "a malformed message never comes back"
    );

    let jobs = receive_all(&client, &jobs_url).await;
    assert_eq!(jobs.len(), 1);
    let job: DeliveryJob = serde_json::from_str(jobs[0].body().unwrap()).unwrap();
    assert_eq!(job.destination.endpoint(), Some(endpoint.id));
    let published =
        PlatformEvent::parse(sample("fan-out-sqs").records[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(
        (job.event_id, job.data.clone()),
        (published.id, published.data)
    );

    let dead = receive_all(&client, &dead_url).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body(), Some(r#"{"type":"call.graded"}"#));
    let reason = dead[0].message_attributes().unwrap()["reason"]
        .string_value()
        .unwrap()
        .to_owned();
    assert!(reason.contains("malformed"), "{reason}");
}

#[tokio::test]
async fn the_delivery_lambda_delivers_the_sample_job() {
    let counter = RequestCounter::default();
    let (store, dynamodb) = moto_store().await;
    let (_, got) = system_tests::receiver(vec![system_tests::Answer::Status(204)]).await;
    let endpoint = sample_endpoint(&store, &got.url()).await;
    let (worker, client, jobs_url, _) = worker(store, &counter).await;
    dynamodb.take();

    let response = worker
        .deliver(LambdaEvent::new(sample("deliver-sqs"), Context::default()))
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        dynamodb.take_by_operation(),
        [
            ("GetItem".to_owned(), 1),
            ("UpdateItem".to_owned(), 2),
            ("PutItem".to_owned(), 1),
        ]
        .into(),
        "read the endpoint (which holds its secret), claim the attempt, record the stats, write \
         the log record"
    );

    // SQS hands the same message over again: one refused claim, nothing sent or counted.
    let again = worker
        .deliver(LambdaEvent::new(sample("deliver-sqs"), Context::default()))
        .await
        .unwrap();
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(
        dynamodb.take_by_operation(),
        [("GetItem".to_owned(), 1), ("UpdateItem".to_owned(), 1),].into(),
        "a duplicate costs the read and one conditional write"
    );
    assert_eq!(got.count(), 1, "one POST");
    let request = got.last().unwrap();
    assert_eq!(
        (request.method.as_str(), request.target.as_str()),
        ("POST", "/hook")
    );
    assert_eq!(
        request.body_text(),
        r#"{"data":{"call_id":"call_8Hd2kQ","grade":"pass","score":0.93},"type":"call.graded"}"#
    );
    let stats = worker
        .pipeline
        .store
        .delivery_stats(endpoint.org_id, endpoint.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stats.success_count, stats.last_status), (1, Some(204)));
    let log = worker
        .pipeline
        .store
        .deliveries(
            endpoint.org_id,
            &LogQuery::newest(DeliveryFilter::default(), 10, SystemClock.now()),
        )
        .await
        .unwrap();
    assert_eq!(log.records.len(), 1);
    assert_eq!(
        (
            log.records[0].status,
            log.records[0].http_status,
            log.records[0].destination.endpoint()
        ),
        (DeliveryStatus::Delivered, Some(204), Some(endpoint.id))
    );
    assert!(
        receive_all(&client, &jobs_url).await.is_empty(),
        "nothing to retry"
    );
}

#[tokio::test]
async fn a_batch_holding_one_job_eight_times_sends_it_once() {
    // A Lambda re-run after a timeout, SQS redeliveries and a retried fan-out all put copies
    // of one job in flight at once; on DynamoDB (moto) only one claim on the attempt holds.
    let counter = RequestCounter::default();
    let (store, _) = moto_store().await;
    let (_, got) = system_tests::receiver(vec![system_tests::Answer::Status(204)]).await;
    let endpoint = sample_endpoint(&store, &got.url()).await;
    let (worker, _, _, _) = worker(store, &counter).await;
    let mut batch = sample("deliver-sqs");
    let copy = batch.records[0].clone();
    batch.records = (0..8)
        .map(|n| {
            let mut record = copy.clone();
            record.message_id = Some(format!("copy-{n}"));
            record
        })
        .collect();

    let response = worker
        .deliver(LambdaEvent::new(batch, Context::default()))
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(got.count(), 1, "one POST for eight copies");
    let stats = worker
        .pipeline
        .store
        .delivery_stats(endpoint.org_id, endpoint.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stats.success_count, 1, "counted once");
}

#[tokio::test]
async fn fanning_out_to_50_endpoints_and_the_legacy_url_is_one_query_and_six_batches() {
    let sqs_counter = RequestCounter::default();
    let (store, dynamodb_counter) = moto_store().await;
    let org = OrgId::new(77);
    let endpoints: Vec<_> = (0..50)
        .map(|_| fixtures::endpoint_with_secret(org, SystemClock.now()))
        .collect();
    store.import(&endpoints).await.unwrap();
    let url = EndpointUrl::parse("https://legacy.example.com/tp").unwrap();
    let secret = SigningSecret::generate().unwrap();
    let legacy = webhook_domain::LegacyWebhook::new(org, url, secret, SystemClock.now());
    store.set_legacy_webhook(&legacy).await.unwrap();
    let (worker, client, jobs_url, _) = worker(store, &sqs_counter).await;
    dynamodb_counter.take();
    sqs_counter.take();

    let event: PlatformEvent = serde_json::from_value(json!({
        "id": uuid::Uuid::new_v4(), "org_id": 77, "agent_id": null, "type": "web.complete",
        "data": {"call_id": "c"}, "occurred_at": "2026-11-27T09:15:04.113Z"
    }))
    .unwrap();
    assert_eq!(worker.pipeline.fan_out(&event).await.unwrap(), 51);
    assert_eq!(
        dynamodb_counter.take_by_operation(),
        [("Query".to_owned(), 1), ("PutItem".to_owned(), 1)].into(),
        "the endpoints and the legacy URL in one Query; the event kept once for all 51 records"
    );
    assert_eq!(
        sqs_counter.take_by_operation(),
        [("SendMessageBatch".to_owned(), 6)].into()
    );
    assert_eq!(receive_all(&client, &jobs_url).await.len(), 51);
}
