//! Deliveries per second in process: sign, POST to a loopback receiver over a kept-alive
//! connection, record the outcome on the embedded store. Also one fan-out to 50 endpoints, and
//! the blocking dispatch's overhead with 5 receivers that answer at once (its p50 and p99 are
//! printed after criterion's figures).

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
use webhook_delivery::dispatch::BUDGET;
use webhook_delivery::event::{DeliveryJob, PlatformEvent};
use webhook_delivery::pipeline::Delivery;
use webhook_delivery::queue::{Delayed, JobQueue, QueueError};
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

async fn receiver(answer: &'static [u8]) -> u16 {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let service = service_fn(move |_request| async move {
                    Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(answer))))
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
    let pipeline = Arc::new(webhook_delivery::testing::pipeline(
        store.clone(),
        NullQueue,
        Sender::new(true).unwrap(),
    ));
    let org = OrgId::new(1);
    let port = runtime.block_on(receiver(b"ok"));
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
        id: webhook_domain::EventId::generate(),
        org_id: org,
        agent_id: None,
        event_type: EventType::TelephonyComplete.into(),
        data: json!({"call_id": "call_123", "duration_s": 184, "transcript": "x".repeat(600)})
            .as_object()
            .unwrap()
            .clone(),
        occurred_at: SystemClock.now(),
        traceparent: None,
    };
    let job = DeliveryJob::first(event.clone(), endpoints[0].id.into());
    // A new event each time: the attempt claim sends a repeated job's attempt only once.
    let fresh_job = || DeliveryJob {
        event_id: webhook_domain::EventId::generate(),
        ..job.clone()
    };

    let mut group = c.benchmark_group("delivery");
    group.throughput(Throughput::Elements(1));
    group.bench_function("sign + POST + record (one at a time)", |b| {
        b.to_async(&runtime).iter(|| async {
            let delivered = pipeline.deliver(fresh_job()).await.unwrap();
            assert_eq!(delivered, Delivery::Delivered);
        })
    });
    group.throughput(Throughput::Elements(16));
    group.bench_function("sign + POST + record (16 concurrent)", |b| {
        b.to_async(&runtime).iter(|| async {
            let all = (0..16).map(|_| pipeline.deliver(fresh_job()));
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

    // Blocking dispatch: 5 endpoints of another organization, each with its own receiver
    // answering a JSON object at once; the first one's answer wins.
    let blocking_org = OrgId::new(2);
    for i in 0..5 {
        let port = runtime.block_on(receiver(br#"{"agent":"bench"}"#));
        let (mut endpoint, secret) =
            fixtures::endpoint_with_secret(blocking_org, SystemClock.now());
        endpoint.label = Label::parse(&format!("blocking {i}")).unwrap();
        endpoint.url = EndpointUrl::parse(&format!("http://127.0.0.1:{port}/hook")).unwrap();
        runtime
            .block_on(store.create(&endpoint, &secret, 100, None))
            .unwrap();
    }
    let blocking = |id| PlatformEvent {
        id,
        org_id: blocking_org,
        event_type: EventType::TelephonyIncoming.into(),
        ..event.clone()
    };
    let samples = std::sync::Mutex::new(Vec::new());
    let mut group = c.benchmark_group("dispatch");
    group.bench_function("blocking event to 5 receivers", |b| {
        b.to_async(&runtime).iter_custom(|iterations| {
            let (pipeline, samples) = (&pipeline, &samples);
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let event = blocking(webhook_domain::EventId::generate());
                    let started = std::time::Instant::now();
                    let (dispatched, pending) =
                        pipeline.dispatch_blocking(&event, BUDGET).await.unwrap();
                    pending.detach();
                    let took = started.elapsed();
                    assert!(dispatched.answer.is_some());
                    samples.lock().unwrap().push(took);
                    total += took;
                }
                total
            }
        })
    });
    group.finish();
    let mut samples = samples.into_inner().unwrap();
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    println!(
        "dispatch, 5 receivers answering at once: {} runs, p50 {:?}, p99 {:?}",
        samples.len(),
        at(0.5),
        at(0.99)
    );
}

criterion_group!(delivery_benches, benches);
criterion_main!(delivery_benches);
