//! Each handler end to end in process on the embedded store: the API Gateway event as JSON
//! text in (the form Lambda hands it over), the response out.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed benchmark

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use serde_json::Value;
use webhook_api::{App, Settings, handlers};
use webhook_domain::{
    Clock, DeliveryRecord, DeliveryStatus, Endpoint, EndpointId, OrgId, SigningSecret, SystemClock,
    fixtures,
};
use webhook_store::{DeliveryLogStore, EndpointStore, MemoryStore};

const SAMPLE_ID: &str = "3f1c2b7e-8d4a-4e7b-9c1d-5a6b7c8d9e0f";

fn event_text(name: &str) -> String {
    let path = format!("{}/../../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event.to_string()
}

fn endpoint(id: EndpointId, secret: &SigningSecret) -> Endpoint {
    Endpoint {
        id,
        secret_hint: secret.hint(),
        ..fixtures::endpoint(OrgId::new(42))
    }
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let app = App::new(
        MemoryStore::new(),
        Settings {
            max_endpoints_per_org: u32::MAX,
            ..Settings::default()
        },
    );
    let sample_id = EndpointId::parse(SAMPLE_ID).unwrap();
    let secret = SigningSecret::generate().unwrap();
    runtime.block_on(async {
        app.store
            .create(&endpoint(sample_id, &secret), &secret, u32::MAX, None)
            .await
            .unwrap();
        // A realistic organization: the sample endpoint among ten.
        for _ in 0..9 {
            app.store
                .create(
                    &endpoint(EndpointId::generate(), &secret),
                    &secret,
                    u32::MAX,
                    None,
                )
                .await
                .unwrap();
        }
    });

    let list = event_text("list-endpoints");
    c.bench_function("list_endpoints (10 endpoints)", |b| {
        b.to_async(&runtime).iter(|| async {
            let request = lambda_http::request::from_str(&list).unwrap();
            handlers::list_endpoints(&app, request).await.unwrap()
        })
    });

    let update = event_text("update-endpoint");
    c.bench_function("update_endpoint", |b| {
        b.to_async(&runtime).iter(|| async {
            let request = lambda_http::request::from_str(&update).unwrap();
            handlers::update_endpoint(&app, request).await.unwrap()
        })
    });

    // Creating grows the store; a fresh one per batch keeps list sizes out of the figure.
    let create = event_text("create-endpoint");
    c.bench_function("create_endpoint", |b| {
        b.to_async(&runtime).iter_batched(
            || {
                App::new(
                    MemoryStore::new(),
                    Settings {
                        max_endpoints_per_org: u32::MAX,
                        ..Settings::default()
                    },
                )
            },
            |app| {
                let create = &create;
                async move {
                    let request = lambda_http::request::from_str(create).unwrap();
                    handlers::create_endpoint(&app, request).await.unwrap()
                }
            },
            BatchSize::SmallInput,
        )
    });

    let delete = event_text("delete-endpoint");
    c.bench_function("delete_endpoint", |b| {
        b.to_async(&runtime).iter_batched(
            || {
                let app = App::new(MemoryStore::new(), Settings::default())
                    .with_cursor_key(webhook_api::CursorKey::random().unwrap());
                // The memory store never waits, so a plain executor runs it inside the benchmark.
                futures::executor::block_on(app.store.create(
                    &endpoint(sample_id, &secret),
                    &secret,
                    50,
                    None,
                ))
                .unwrap();
                app
            },
            |app| {
                let delete = &delete;
                async move {
                    let request = lambda_http::request::from_str(delete).unwrap();
                    let response = handlers::delete_endpoint(&app, request).await.unwrap();
                    assert_eq!(response.status(), 204);
                    response
                }
            },
            BatchSize::SmallInput,
        )
    });
}

/// A page of 50 from a log of 2,000 records (every tenth failed), unfiltered and filtered.
fn delivery_log_benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let app = App::new(MemoryStore::new(), Settings::default())
        .with_cursor_key(webhook_api::CursorKey::random().unwrap());
    let now = SystemClock.now();
    let endpoint = EndpointId::parse(SAMPLE_ID).unwrap();
    for i in 0..2_000_i64 {
        let at =
            webhook_domain::Timestamp::from_unix_millis(now.unix_millis() - i * 1_000).unwrap();
        let record = DeliveryRecord {
            call_id: Some(i),
            status: if i % 10 == 0 {
                DeliveryStatus::Failed
            } else {
                DeliveryStatus::Delivered
            },
            ..fixtures::delivery_record(OrgId::new(42), Some(endpoint), at)
        };
        let keep = now
            .checked_add(std::time::Duration::from_secs(86_400))
            .unwrap();
        futures::executor::block_on(app.store.record_delivery(&record, keep)).unwrap();
    }
    let list = |query: &str| {
        let mut event: Value = serde_json::from_str(&event_text("list-deliveries")).unwrap();
        event["rawQueryString"] = query.into();
        event.to_string()
    };
    for (name, event) in [
        ("list_deliveries_page_of_50", list("limit=50")),
        (
            "list_deliveries_failed_page_of_50",
            list("status=failed&limit=50"),
        ),
    ] {
        c.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| {
                let (app, event) = (&app, &event);
                async move {
                    let request = lambda_http::request::from_str(event).unwrap();
                    let response = handlers::list_deliveries(app, request).await.unwrap();
                    assert_eq!(response.status(), 200);
                    response
                }
            })
        });
    }
}

criterion_group!(handler_benches, benches, delivery_log_benches);
criterion_main!(handler_benches);
