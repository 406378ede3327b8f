//! Deliveries per second in process: sign, POST to a loopback receiver over a kept-alive
//! connection, record the outcome on the embedded store. Also one fan-out to 50 endpoints.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed benchmark

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;
use webhook_delivery::event::{DeliveryJob, PlatformEvent};
use webhook_delivery::pipeline::{Delivery, Pipeline};
use webhook_delivery::queue::{Delayed, JobQueue, QueueError};
use webhook_delivery::schedule::RetrySchedule;
use webhook_delivery::sender::Sender;
use webhook_domain::{Clock, EndpointUrl, EventType, Label, OrgId, SystemClock, fixtures};
use webhook_store::{EndpointStore, MemoryStore};

/// Counts what it is given and drops it.
struct NullQueue;

impl JobQueue for NullQueue {
    fn max_delay(&self) -> Duration {
        Duration::from_secs(900)
    }
    async fn enqueue(&self, jobs: Vec<Delayed>) -> Result<(), QueueError> {
        std::hint::black_box(jobs);
        Ok(())
    }
}

async fn receiver() -> u16 {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let service = service_fn(|_request| async {
                    Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(b"ok"))))
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    port
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let store = MemoryStore::new();
    let pipeline = Pipeline {
        store: store.clone(),
        queue: NullQueue,
        sender: Sender::new(true).unwrap(),
        clock: Arc::new(SystemClock),
        schedule: RetrySchedule::default(),
        log_retention: webhook_domain::LogRetention::DEFAULT,
        metrics: webhook_delivery::metrics::AttemptMetrics::Off,
        notices: webhook_notices::NoticeBoard::Log,
    };
    let org = OrgId::new(1);
    let port = runtime.block_on(receiver());
    let mut endpoints = Vec::new();
    for i in 0..50 {
        let (mut endpoint, secret) = fixtures::endpoint_with_secret(org, SystemClock.now());
        endpoint.label = Label::parse(&format!("bench {i}")).unwrap();
        endpoint.url = EndpointUrl::parse(&format!("http://127.0.0.1:{port}/hook")).unwrap();
        runtime
            .block_on(store.create(&endpoint, &secret, 100, None))
            .unwrap();
        endpoints.push(endpoint);
    }
    let event = PlatformEvent {
        id: uuid::Uuid::new_v4(),
        org_id: org,
        agent_id: None,
        event_type: EventType::TelephonyComplete.into(),
        data: json!({"call_id": "call_123", "duration_s": 184, "transcript": "x".repeat(600)})
            .as_object()
            .unwrap()
            .clone(),
        occurred_at: SystemClock.now(),
    };
    let job = DeliveryJob::first(&event, Some(endpoints[0].id));

    let mut group = c.benchmark_group("delivery");
    group.throughput(Throughput::Elements(1));
    group.bench_function("sign + POST + record (one at a time)", |b| {
        b.to_async(&runtime).iter(|| async {
            let delivered = pipeline.deliver(job.clone()).await.unwrap();
            assert_eq!(delivered, Delivery::Delivered);
        })
    });
    group.throughput(Throughput::Elements(16));
    group.bench_function("sign + POST + record (16 concurrent)", |b| {
        b.to_async(&runtime).iter(|| async {
            let all = (0..16).map(|_| pipeline.deliver(job.clone()));
            for delivered in futures::future::join_all(all).await {
                assert_eq!(delivered.unwrap(), Delivery::Delivered);
            }
        })
    });
    group.throughput(Throughput::Elements(50));
    group.bench_function("fan-out to 50 endpoints", |b| {
        b.to_async(&runtime)
            .iter(|| async { assert_eq!(pipeline.fan_out(&event).await.unwrap(), 50) })
    });
    group.finish();
}

criterion_group!(delivery_benches, benches);
criterion_main!(delivery_benches);
