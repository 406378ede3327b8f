//! Test support: dev-server on a loopback port, backed by the embedded store or by DynamoDB on
//! moto_server, and a small client for its API.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use dev_server::{ApiKey, ApiKeys};
use serde_json::Value;
use webhook_api::{App, Settings};
use webhook_store::dynamodb::{local_config, table};
use webhook_store::{DynamoStore, MemoryStore};

pub const ORG_A_ADMIN: &str = "sk_test_a_admin";
pub const ORG_A_OWNER: &str = "sk_test_a_owner";
pub const ORG_A_MEMBER: &str = "sk_test_a_member";
pub const ORG_B_ADMIN: &str = "sk_test_b_admin";

pub fn keys() -> ApiKeys {
    ApiKeys::new(
        [
            "sk_test_a_admin=100:admin",
            "sk_test_a_owner=100:owner",
            "sk_test_a_member=100:member",
            "sk_test_b_admin=200:admin",
        ]
        .iter()
        .map(|k| k.parse::<ApiKey>().unwrap())
        .collect(),
    )
}

/// Which store the server under test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Embedded,
    Moto,
}

/// The DynamoDB-protocol server the tests run against. Missing is a failure, never a skip.
pub fn dynamodb_endpoint() -> String {
    std::env::var("WEBHOOKS_TEST_DYNAMODB_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "WEBHOOKS_TEST_DYNAMODB_ENDPOINT is not set: run scripts/test, which starts \
             moto_server and points the tests at it"
        )
    })
}

/// Counts the HTTP requests a DynamoDB client sends, retries included, by operation, and the
/// items its queries read (`ScannedCount`, what DynamoDB bills a read by, filters or not).
#[derive(Debug, Clone, Default)]
pub struct RequestCounter(Arc<Mutex<Vec<String>>>, Arc<Mutex<u64>>);

impl RequestCounter {
    /// Items read by queries since the last take.
    pub fn take_scanned(&self) -> u64 {
        std::mem::take(&mut *self.1.lock().unwrap())
    }

    /// How many requests were sent since the last take.
    pub fn take(&self) -> usize {
        self.take_by_operation().values().sum()
    }

    /// Requests sent since the last take, per operation (`Query`, `TransactWriteItems`, ...).
    pub fn take_by_operation(&self) -> BTreeMap<String, usize> {
        let mut sent = self.0.lock().unwrap();
        let mut counts = BTreeMap::new();
        for operation in sent.drain(..) {
            *counts.entry(operation).or_default() += 1;
        }
        counts
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // DynamoDB names the operation in this header: "DynamoDB_20120810.Query".
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or("unknown");
        let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
        self.0.lock().unwrap().push(operation);
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let scanned = context
            .output_or_error()
            .ok()
            .and_then(|output| output.downcast_ref::<QueryOutput>())
            .map(|query| u64::try_from(query.scanned_count).unwrap_or(0));
        *self.1.lock().unwrap() += scanned.unwrap_or(0);
        Ok(())
    }
}

/// A DynamoDB store on moto with a fresh table of its own, and the counter of its requests.
pub async fn moto_store() -> (DynamoStore, RequestCounter) {
    let counter = RequestCounter::default();
    let config = local_config(&dynamodb_endpoint())
        .interceptor(counter.clone())
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let name = format!("system-{}", uuid::Uuid::new_v4());
    table::create_if_missing(&client, &name).await.unwrap();
    counter.take();
    (DynamoStore::new(client, name), counter)
}

pub async fn start(backend: Backend, settings: Settings) -> Api {
    match backend {
        Backend::Embedded => start_with(MemoryStore::new(), settings).await,
        Backend::Moto => start_with(moto_store().await.0, settings).await,
    }
}

pub async fn start_with<S: webhook_store::Store>(store: S, settings: Settings) -> Api {
    let app = App::new(store, settings).with_cursor_key(webhook_api::CursorKey::random().unwrap());
    let server = dev_server::Server::new(app, keys());
    let addr = dev_server::spawn(server).await.unwrap();
    Api {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
    }
}

pub const COLLECTION: &str = "/v1/developer/webhook-endpoints";

pub struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    /// `host:port`, for raw connections.
    pub fn address(&self) -> &str {
        self.base.trim_start_matches("http://")
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn detail(&self) -> &str {
        self.body["detail"]
            .as_str()
            .unwrap_or_else(|| panic!("no detail in {:?}", self.body))
    }

    /// The messages for one field of a validation error.
    pub fn field_errors(&self, field: &str) -> Vec<String> {
        self.body["errors"][field]
            .as_array()
            .unwrap_or_else(|| panic!("no errors for {field} in {}", self.body))
            .iter()
            .map(|m| m.as_str().unwrap().to_owned())
            .collect()
    }
}

impl Api {
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<String>,
    ) -> Reply {
        self.send_with(method, path, key, body, &[]).await
    }

    /// [`Api::send`] with more headers.
    pub async fn send_with(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"))
        };
        Reply {
            status,
            body,
            headers,
        }
    }

    pub async fn list(&self, key: &str) -> Reply {
        self.send("GET", COLLECTION, Some(key), None).await
    }

    pub async fn create(&self, key: &str, body: Value) -> Reply {
        self.send("POST", COLLECTION, Some(key), Some(body.to_string()))
            .await
    }

    pub async fn patch(&self, key: &str, id: &str, body: Value) -> Reply {
        self.send(
            "PATCH",
            &format!("{COLLECTION}/{id}"),
            Some(key),
            Some(body.to_string()),
        )
        .await
    }

    pub async fn delete(&self, key: &str, id: &str) -> Reply {
        self.send("DELETE", &format!("{COLLECTION}/{id}"), Some(key), None)
            .await
    }

    /// Creates a valid endpoint and returns its JSON (secret included).
    pub async fn create_ok(&self, key: &str, label: &str) -> Value {
        let reply = self
            .create(
                key,
                serde_json::json!({"label": label, "url": "https://example.com/hook"}),
            )
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.body
    }
}

/// An SQS client on moto (the same server as DynamoDB), counting its requests, and a fresh
/// queue's URL.
pub async fn moto_queue(counter: &RequestCounter) -> (aws_sdk_sqs::Client, String) {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "local", "local", None, None, "local",
        ))
        .endpoint_url(dynamodb_endpoint())
        .interceptor(counter.clone())
        .build();
    let client = aws_sdk_sqs::Client::from_conf(config);
    let name = format!("jobs-{}", uuid::Uuid::new_v4().simple());
    let url = client
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    counter.take();
    (client, url)
}

/// dev-server on the embedded store with the in-process delivery pipeline, as `cargo run -p
/// dev-server` starts it.
pub async fn start_delivering(schedule: webhook_delivery::schedule::RetrySchedule) -> Api {
    start_delivering_on(Backend::Embedded, schedule, true).await
}

/// dev-server with the in-process delivery pipeline on either store; `allow_private` lets it
/// deliver to loopback receivers (dev-server's default), otherwise the production rule applies.
pub async fn start_delivering_on(
    backend: Backend,
    schedule: webhook_delivery::schedule::RetrySchedule,
    allow_private: bool,
) -> Api {
    start_delivering_with(backend, schedule, allow_private, Settings::default()).await
}

/// [`start_delivering_on`] with other settings.
pub async fn start_delivering_with(
    backend: Backend,
    schedule: webhook_delivery::schedule::RetrySchedule,
    allow_private: bool,
    settings: Settings,
) -> Api {
    match backend {
        Backend::Embedded => {
            delivering(MemoryStore::new(), schedule, allow_private, settings).await
        }
        Backend::Moto => delivering(moto_store().await.0, schedule, allow_private, settings).await,
    }
}

async fn delivering<S: webhook_store::Store>(
    store: S,
    schedule: webhook_delivery::schedule::RetrySchedule,
    allow_private: bool,
    settings: Settings,
) -> Api {
    use webhook_delivery::local::{LocalQueue, run_worker};
    use webhook_delivery::pipeline::Pipeline;

    let app = App::new(store.clone(), settings)
        .with_cursor_key(webhook_api::CursorKey::random().unwrap());
    let (queue, jobs) = LocalQueue::new(std::time::Duration::from_secs(900));
    let sender = webhook_delivery::sender::Sender::new(allow_private).unwrap();
    let pipeline = Arc::new(Pipeline {
        clock: app.clock.clone(),
        schedule,
        ..webhook_delivery::testing::pipeline(store, queue, sender)
    });
    tokio::spawn(run_worker(pipeline.clone(), jobs, std::future::pending()));
    let server = dev_server::Server::new(app, keys()).with_delivery(pipeline);
    let addr = dev_server::spawn(server).await.unwrap();
    Api {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
    }
}

pub use webhook_delivery::testing::{Received, Receiver, Reply as Answer};

/// The shared loopback receiver, answering `answers` in turn (then 200), and its port.
pub async fn receiver(answers: Vec<Answer>) -> (u16, Receiver) {
    let receiver = Receiver::start(answers).await.unwrap();
    (receiver.port(), receiver)
}

/// Waits (up to 5 s) until the receiver has `count` requests.
pub async fn wait_for(got: &Receiver, count: usize) {
    let arrived = got.wait_for(count, std::time::Duration::from_secs(5)).await;
    assert!(arrived, "expected {count} deliveries, got {}", got.count());
}
