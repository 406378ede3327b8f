//! Delivery end to end in process: real HTTP to loopback receivers, the in-memory store, a
//! queue that keeps what it is given, and a clock the tests move.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;
use webhook_delivery::event::{DeliveryJob, PlatformEvent};
use webhook_delivery::pipeline::{Abandoned, Delivery, GiveUp, Pipeline};
use webhook_delivery::queue::{Delayed, JobQueue, QueueError};
use webhook_delivery::sender::Sender;
use webhook_delivery::testing::{Receiver, Reply};

mod dispatch;
mod pace;
use webhook_domain::{
    AgentId, Clock, DeliveryFilter, DeliveryRecord, DeliveryStatus, Endpoint, EndpointChanges,
    EndpointStatus, EndpointUrl, EventName, EventSubscription, EventType, FailureCategory, Label,
    LegacyWebhook, LogQuery, ManualClock, OrgId, RequestedStatus, SigningSecret, SystemClock,
    TestDelivery, fixtures,
};
use webhook_store::{
    DeliveryLogStore, DeliveryStatsStore, EndpointStore, LegacyWebhookStore, MemoryStore,
};

const ORG: OrgId = OrgId::new(9);

/// Keeps every job it is given; the test decides when each one runs.
#[derive(Clone, Default)]
struct RecordingQueue {
    jobs: Arc<Mutex<Vec<Delayed>>>,
    calls: Arc<Mutex<usize>>,
    /// Refuses every job while set, as SQS may.
    refusing: Arc<Mutex<bool>>,
}

impl RecordingQueue {
    fn take(&self) -> Vec<Delayed> {
        std::mem::take(&mut *self.jobs.lock().unwrap())
    }
}

impl JobQueue for RecordingQueue {
    fn max_delay(&self) -> Duration {
        Duration::from_secs(15 * 60)
    }

    async fn enqueue(&self, jobs: Vec<Delayed>) -> Result<(), QueueError> {
        *self.calls.lock().unwrap() += 1;
        if *self.refusing.lock().unwrap() {
            return Err(QueueError("the queue refused the batch".into()));
        }
        self.jobs.lock().unwrap().extend(jobs);
        Ok(())
    }
}

struct Harness {
    pipeline: Arc<Pipeline<MemoryStore, RecordingQueue>>,
    store: MemoryStore,
    queue: RecordingQueue,
    clock: Arc<ManualClock>,
    notices: Arc<Mutex<Vec<webhook_domain::EndpointNotice>>>,
}

fn harness(allow_private: bool) -> Harness {
    harness_over(MemoryStore::new(), allow_private)
}

fn harness_over(store: MemoryStore, allow_private: bool) -> Harness {
    let queue = RecordingQueue::default();
    // Real time to start from: receivers check that signatures are recent.
    let clock = Arc::new(ManualClock::starting_at(SystemClock.now()));
    let (board, notices) = webhook_notices::NoticeBoard::recorded();
    let sender = Sender::new(allow_private).unwrap();
    let pipeline = Arc::new(Pipeline {
        clock: clock.clone(),
        notices: board,
        ..webhook_delivery::testing::pipeline(store.clone(), queue.clone(), sender)
    });
    Harness {
        pipeline,
        store,
        queue,
        clock,
        notices,
    }
}

impl Harness {
    async fn endpoint(
        &self,
        url: &str,
        configure: impl FnOnce(&mut Endpoint),
    ) -> (Endpoint, SigningSecret) {
        let (mut endpoint, secret) = fixtures::endpoint_with_secret(ORG, self.clock.now());
        endpoint.label = Label::parse("receiver").unwrap();
        endpoint.url = EndpointUrl::parse(url).unwrap();
        configure(&mut endpoint);
        self.store
            .create(&endpoint, &secret, 500, None)
            .await
            .unwrap();
        (endpoint, secret)
    }

    /// A receiver answering `script`, and an endpoint (as stored by `endpoint`) pointed at it.
    async fn receiving(&self, script: Vec<Reply>) -> (Receiver, Endpoint, SigningSecret) {
        let receiver = receive(script).await;
        let (endpoint, secret) = self.endpoint(&receiver.url(), |_| {}).await;
        (receiver, endpoint, secret)
    }

    /// Sets the organization's legacy URL to `url`, with a fresh secret.
    async fn legacy_at(&self, url: &str) -> LegacyWebhook {
        let url = EndpointUrl::parse(url).unwrap();
        let secret = SigningSecret::generate().unwrap();
        let new = LegacyWebhook::new(ORG, url, secret, self.clock.now());
        self.store.set_legacy_webhook(&new).await.unwrap()
    }

    fn event(&self, event_type: EventType, agent: Option<AgentId>) -> PlatformEvent {
        PlatformEvent {
            id: webhook_domain::EventId::generate(),
            org_id: ORG,
            agent_id: agent,
            event_type: event_type.into(),
            data:
                json!({"call_id": "call_123", "to": "+15550100", "nested": {"b": 1, "a": [2, 1]}})
                    .as_object()
                    .unwrap()
                    .clone(),
            occurred_at: self.clock.now(),
            traceparent: None,
        }
    }

    fn job(&self, endpoint: &Endpoint, event_type: EventType) -> DeliveryJob {
        DeliveryJob::first(self.event(event_type, None), endpoint.id.into())
    }

    /// The one job the last step queued, and its delay.
    fn next(&self) -> Delayed {
        let mut jobs = self.queue.take();
        assert_eq!(jobs.len(), 1, "{jobs:?}");
        jobs.remove(0)
    }

    /// Runs the one job the last step queued, once its delay has passed.
    async fn run_next(&self) -> Delivery {
        let next = self.next();
        self.clock.advance(next.delay);
        self.pipeline.deliver(next.job).await.unwrap()
    }

    /// The one record of the organization's delivery log.
    async fn only_record(&self) -> DeliveryRecord {
        let mut log = self.log().await;
        assert_eq!(log.len(), 1, "{log:?}");
        log.remove(0)
    }

    /// The organization's delivery log, newest first.
    async fn log(&self) -> Vec<DeliveryRecord> {
        self.store
            .deliveries(
                ORG,
                &LogQuery::newest(DeliveryFilter::default(), 200, self.clock.now()).with_bodies(),
            )
            .await
            .unwrap()
            .records
    }

    async fn deliver(&self, job: DeliveryJob) -> Delivery {
        self.pipeline.deliver(job).await.unwrap()
    }

    async fn stats(&self, endpoint: &Endpoint) -> webhook_domain::DeliveryStats {
        self.store
            .delivery_stats(ORG, endpoint.id)
            .await
            .unwrap()
            .unwrap()
    }

    /// A test delivery of `event` to the endpoint as stored, as the test route sends it.
    async fn send_test(&self, endpoint: &Endpoint, event: EventName) -> TestDelivery {
        let (stored, keys) = self
            .store
            .signing_target(ORG, endpoint.id)
            .await
            .unwrap()
            .unwrap();
        self.pipeline.send_test(stored, keys, event).await
    }

    async fn status(&self, endpoint: &Endpoint) -> EndpointStatus {
        self.store
            .signing_target(ORG, endpoint.id)
            .await
            .unwrap()
            .unwrap()
            .0
            .status
    }
}

/// The shared loopback receiver, answering `script` in order and then 200.
async fn receive(script: Vec<Reply>) -> Receiver {
    Receiver::start(script).await.unwrap()
}

fn url(addr: SocketAddr) -> String {
    format!("http://127.0.0.1:{}/hook", addr.port())
}

fn hex_hmac(key: &[u8], body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The receiver gets its URL's query, tokens and all; the log, which outlives a URL change by
/// its retention, keeps only the query's names.
#[tokio::test]
async fn the_log_keeps_a_urls_query_names_but_never_its_values() {
    let h = harness(true);
    let receiver = receive(vec![]).await;
    let url = format!("{}?token=s3cr3t-value&team=ops", receiver.url());
    let (endpoint, _) = h.endpoint(&url, |_| {}).await;
    assert_eq!(
        h.deliver(h.job(&endpoint, EventType::CallGraded)).await,
        Delivery::Delivered
    );
    assert_eq!(
        receiver.last().unwrap().target,
        "/hook?token=s3cr3t-value&team=ops"
    );
    let record = h.only_record().await;
    assert_eq!(
        record.url,
        format!("{}?token=REDACTED&team=REDACTED", receiver.url())
    );
}

#[tokio::test]
async fn a_receiver_gets_the_sorted_body_signed_both_ways() {
    let h = harness(true);
    let (receiver, endpoint, secret) = h.receiving(vec![]).await;
    let job = h.job(&endpoint, EventType::CallGraded);
    assert_eq!(h.deliver(job.clone()).await, Delivery::Delivered);

    let got = receiver.last().unwrap();
    assert_eq!(
        String::from_utf8(got.body.clone()).unwrap(),
        r#"{"data":{"call_id":"call_123","nested":{"a":[2,1],"b":1},"to":"+15550100"},"type":"call.graded"}"#
    );
    assert_eq!(got.headers["content-type"], "application/json");
    assert!(
        got.headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("ThunderPhone-Webhooks/")
    );
    assert_eq!(
        got.headers["x-thunderphone-signature"].to_str().unwrap(),
        hex_hmac(secret.expose().as_bytes(), &got.body),
        "hex HMAC-SHA256 of the raw body, keyed with the secret string"
    );
    standardwebhooks::Webhook::new(secret.expose())
        .unwrap()
        .verify(&got.body, &got.headers)
        .unwrap();
    assert_eq!(got.headers["webhook-id"], job.message_id().as_str());

    let stats = h.stats(&endpoint).await;
    assert_eq!((stats.success_count, stats.last_status), (1, Some(200)));
}

#[tokio::test]
async fn failures_are_retried_on_schedule_with_the_same_message_id() {
    let h = harness(true);
    let (receiver, endpoint, secret) = h.receiving(Reply::statuses([500, 502])).await;
    let first = h.deliver(h.job(&endpoint, EventType::WebTool)).await;
    let Delivery::Retrying(delay) = first else {
        panic!("{first:?}")
    };
    assert!(
        delay >= Duration::from_secs(4) && delay <= Duration::from_secs(6),
        "{delay:?}"
    );

    let retry = h.next();
    assert_eq!(retry.job.attempts, 1);
    let occurred_at = h.clock.now();
    let first_record = h.only_record().await;
    let record = &first_record;
    assert_eq!(
        (
            record.status,
            record.attempt_count,
            record.http_status,
            record.failure_category,
            record.next_retry_at,
            record.destination.endpoint(),
            record.occurred_at,
            record.endpoint_label.as_str(),
            record.call_id,
        ),
        (
            DeliveryStatus::Retrying,
            1,
            Some(500),
            Some(FailureCategory::HttpError),
            occurred_at.checked_add(delay),
            Some(endpoint.id),
            occurred_at,
            "receiver",
            None,
        )
    );
    h.clock.advance(retry.delay);
    let second = h.deliver(retry.job).await;
    let Delivery::Retrying(delay) = second else {
        panic!("{second:?}")
    };
    assert!(
        delay >= Duration::from_secs(48) && delay <= Duration::from_secs(72),
        "{delay:?}"
    );
    assert_eq!(h.run_next().await, Delivery::Delivered);
    // The same record, moved on to the third attempt, listing all three.
    let last = h.only_record().await;
    let attempts: Vec<_> = last
        .attempts
        .iter()
        .map(|a| (a.http_status, a.failure_category))
        .collect();
    assert_eq!(
        attempts,
        [
            (Some(500), Some(FailureCategory::HttpError)),
            (Some(502), Some(FailureCategory::HttpError)),
            (Some(200), None)
        ]
    );
    assert_eq!(last.attempts[2].at, h.clock.now());
    assert_eq!(
        last,
        DeliveryRecord {
            status: DeliveryStatus::Delivered,
            attempt_count: 3,
            http_status: Some(200),
            failure_category: None,
            next_retry_at: None,
            last_attempt_at: h.clock.now(),
            attempts: last.attempts.clone(),
            ..first_record
        }
    );

    let received = receiver.received();
    assert_eq!(received.len(), 3);
    assert!(
        received
            .iter()
            .all(|r| r.headers["webhook-id"] == received[0].headers["webhook-id"])
    );
    assert_ne!(
        received[0].headers["webhook-timestamp"],
        received[2].headers["webhook-timestamp"]
    );
    for r in &received {
        standardwebhooks::Webhook::new(secret.expose())
            .unwrap()
            .verify(&r.body, &r.headers)
            .unwrap();
    }
    let stats = h.stats(&endpoint).await;
    assert_eq!(
        (
            stats.failure_count,
            stats.success_count,
            stats.failing_since
        ),
        (2, 1, None)
    );
}

#[tokio::test]
async fn the_schedule_ends_after_24_hours() {
    let h = harness(true);
    let (receiver, endpoint, _) = h.receiving(vec![Reply::Status(500); 20]).await;
    let started = h.clock.now();
    let mut outcome = h.deliver(h.job(&endpoint, EventType::WebTool)).await;
    while let Delivery::Retrying(_) | Delivery::Deferred(_) = outcome {
        outcome = h.run_next().await;
    }
    assert_eq!(outcome, Delivery::GaveUp(GiveUp::Exhausted));
    assert_eq!(receiver.count(), 9, "the first attempt and eight retries");
    let span = h.clock.now().unix_millis() - started.unix_millis();
    assert_eq!(
        span,
        24 * 3_600_000,
        "the last attempt 24 h after the first"
    );
    assert!(h.queue.take().is_empty(), "dropped after the last attempt");
}

#[tokio::test]
async fn retry_after_is_honoured_and_410_ends_retries() {
    let h = harness(true);
    let receiver = receive(vec![
        Reply::StatusWithHeader(429, "retry-after", "120"),
        Reply::StatusWithHeader(503, "retry-after", "600"),
        Reply::Status(410),
    ])
    .await;
    let (endpoint, _) = h.endpoint(&receiver.url(), |_| {}).await;
    let first = h.deliver(h.job(&endpoint, EventType::WebTool)).await;
    assert_eq!(first, Delivery::Retrying(Duration::from_secs(120)));
    assert_eq!(
        h.run_next().await,
        Delivery::Retrying(Duration::from_secs(600))
    );
    assert_eq!(h.run_next().await, Delivery::GaveUp(GiveUp::Gone));
    assert!(h.queue.take().is_empty());
}

#[tokio::test]
async fn redirects_slow_answers_and_dropped_connections_are_failures() {
    let h = harness(true);
    let target = receive(vec![]).await;
    let target_addr = target.addr;
    let location: &'static str = Box::leak(url(target_addr).into_boxed_str());
    let receiver = receive(vec![
        Reply::StatusWithHeader(302, "location", location),
        Reply::Slow(Duration::from_secs(4)),
        Reply::Drop,
    ])
    .await;
    let (endpoint, _) = h.endpoint(&receiver.url(), |_| {}).await;

    let redirected = h.deliver(h.job(&endpoint, EventType::WebTool)).await;
    assert!(matches!(redirected, Delivery::Retrying(_)));
    assert_eq!(target.count(), 0, "redirects are not followed");
    let stats = h.stats(&endpoint).await;
    assert_eq!(
        (stats.last_status, stats.last_failure),
        (Some(302), Some(FailureCategory::HttpError))
    );

    // Blocking types get 2 s.
    let slow = h
        .deliver(h.job(&endpoint, EventType::TelephonyIncoming))
        .await;
    assert!(matches!(slow, Delivery::Retrying(_)));
    let stats = h.stats(&endpoint).await;
    assert_eq!(
        (stats.last_status, stats.last_failure),
        (None, Some(FailureCategory::Timeout))
    );
    assert!(stats.last_duration_ms.unwrap() < 3_000);

    let dropped = h.deliver(h.job(&endpoint, EventType::WebTool)).await;
    assert!(matches!(dropped, Delivery::Retrying(_)));
    let stats = h.stats(&endpoint).await;
    assert_eq!(stats.last_failure, Some(FailureCategory::Connection));
}

#[tokio::test]
async fn a_duplicate_job_sends_nothing_and_counts_nothing() {
    let h = harness(true);
    let (receiver, endpoint, _) = h.receiving(vec![Reply::Status(500); 2]).await;
    let job = h.job(&endpoint, EventType::WebTool);
    // SQS delivers at least once: the same first attempt may run twice, a little apart.
    assert!(matches!(
        h.deliver(job.clone()).await,
        Delivery::Retrying(_)
    ));
    h.clock.advance(Duration::from_secs(3));
    assert_eq!(h.deliver(job.clone()).await, Delivery::Duplicate);
    assert_eq!(receiver.count(), 1, "one POST for the first attempt");
    assert_eq!(h.stats(&endpoint).await.failure_count, 1, "counted once");
    assert_eq!(h.queue.take().len(), 1, "one retry chain, not two");
    let record = h.only_record().await;
    assert_eq!((record.attempt_count, record.claim), (1, None));

    // Long after: a duplicate of a made attempt is still refused.
    h.clock.advance(Duration::from_secs(3600));
    assert_eq!(h.deliver(job).await, Delivery::Duplicate);
    assert_eq!(receiver.count(), 1);
}

#[tokio::test]
async fn concurrent_copies_of_a_job_send_once() {
    let h = harness(true);
    let (receiver, endpoint, _) = h.receiving(vec![]).await;
    let job = h.job(&endpoint, EventType::CallGraded);
    let outcomes = futures::future::join_all((0..8).map(|_| h.deliver(job.clone()))).await;
    let delivered = outcomes
        .iter()
        .filter(|d| **d == Delivery::Delivered)
        .count();
    let duplicates = outcomes
        .iter()
        .filter(|d| **d == Delivery::Duplicate)
        .count();
    assert_eq!((delivered, duplicates), (1, 7), "{outcomes:?}");
    assert_eq!(receiver.count(), 1);
    assert_eq!(h.stats(&endpoint).await.success_count, 1);
}

#[tokio::test]
async fn a_fan_out_run_twice_or_an_event_published_twice_delivers_once() {
    let h = harness(true);
    let (receiver, endpoint, _) = h.receiving(vec![]).await;
    let (other, _) = h.endpoint(&receiver.url(), |_| {}).await;
    let event = h.event(EventType::CallGraded, None);
    // A fan-out retried after a partly failed batch, or the platform publishing again.
    assert_eq!(h.pipeline.fan_out(&event).await.unwrap(), 2);
    assert_eq!(h.pipeline.fan_out(&event).await.unwrap(), 2);
    let jobs = h.queue.take();
    assert_eq!(jobs.len(), 4);
    let mut outcomes = Vec::new();
    for queued in jobs {
        outcomes.push(h.deliver(queued.job).await);
    }
    assert_eq!(
        receiver.count(),
        2,
        "one POST per destination: {outcomes:?}"
    );
    for endpoint in [&endpoint, &other] {
        assert_eq!(h.stats(endpoint).await.success_count, 1);
    }
}

#[tokio::test]
async fn an_attempt_whose_worker_died_is_made_once_its_claim_lapses() {
    let h = harness(true);
    let (receiver, endpoint, _) = h.receiving(vec![]).await;
    let job = h.job(&endpoint, EventType::CallGraded);
    // A run claimed the first attempt and died before sending (its Lambda timed out).
    let crashed = receive(vec![Reply::Hang]).await;
    let (slow, _) = h.endpoint(&crashed.url(), |_| {}).await;
    // A blocking type, whose attempt has 2 s: its claim still outlasts the 45 s run.
    let slow_job = h.job(&slow, EventType::TelephonyIncoming);
    let attempt = tokio::time::timeout(Duration::from_millis(200), h.deliver(slow_job.clone()));
    assert!(attempt.await.is_err(), "the run is cut off mid-attempt");
    assert_eq!(crashed.count(), 1);
    h.clock.advance(Duration::from_secs(45));
    assert_eq!(
        h.deliver(slow_job.clone()).await,
        Delivery::Duplicate,
        "its claim still holds"
    );
    h.clock.advance(Duration::from_secs(15));
    assert_eq!(
        h.deliver(slow_job).await,
        Delivery::Delivered,
        "once the claim lapses, the redelivery makes the attempt"
    );
    assert_eq!(crashed.count(), 2);
    assert_eq!(h.stats(&slow).await.success_count, 1);

    assert_eq!(h.deliver(job).await, Delivery::Delivered);
    assert_eq!(receiver.count(), 1);
}

/// A retry the queue refused does not end its delivery: the job fails, to come back, and its
/// redelivery makes the attempt again and queues the retry.
#[tokio::test]
async fn a_retry_the_queue_refused_is_made_again_by_the_redelivery() {
    let h = harness(true);
    let (receiver, endpoint, _) = h.receiving(Reply::statuses([500, 500])).await;
    let job = h.job(&endpoint, EventType::CallGraded);
    *h.queue.refusing.lock().unwrap() = true;
    assert!(h.pipeline.deliver(job.clone()).await.is_err());
    assert_eq!(receiver.count(), 1);
    assert!(h.log().await.is_empty(), "nothing is logged as ended");

    *h.queue.refusing.lock().unwrap() = false;
    h.clock.advance(webhook_delivery::attempt::CLAIM_LEASE);
    assert!(matches!(h.deliver(job).await, Delivery::Retrying(_)));
    assert_eq!(receiver.count(), 2, "the attempt is made again");
    let record = h.only_record().await;
    assert_eq!(
        (record.status, record.attempt_count),
        (DeliveryStatus::Retrying, 1)
    );
    assert_eq!(h.queue.take().len(), 1, "and its retry queued");
}

/// The log is for people: an event it cannot keep is still delivered, its record keeping the
/// body itself.
#[tokio::test]
async fn an_event_the_log_cannot_keep_is_delivered_with_its_body_in_its_record() {
    let h = harness_over(
        MemoryStore::refusing(webhook_store::memory::Refused::KeepingEvents),
        true,
    );
    let (receiver, endpoint, _) = h.receiving(vec![]).await;
    assert_eq!(
        h.deliver(h.job(&endpoint, EventType::CallGraded)).await,
        Delivery::Delivered
    );
    assert_eq!(receiver.count(), 1);
    let record = h.only_record().await;
    let sent = receiver.last().unwrap().body_text();
    assert_eq!(record.body.unwrap().bytes().unwrap(), sent.as_bytes());
}

#[tokio::test]
async fn deleting_or_disabling_stops_retries() {
    let h = harness(true);
    let (receiver, deleted, _) = h.receiving(vec![Reply::Status(500); 2]).await;
    let (paused, _) = h.endpoint(&receiver.url(), |_| {}).await;
    h.deliver(h.job(&deleted, EventType::WebTool)).await;
    h.deliver(h.job(&paused, EventType::WebTool)).await;
    let retries = h.queue.take();
    assert_eq!(retries.len(), 2);

    let (resubscribed, _) = h.endpoint(&receiver.url(), |_| {}).await;
    let job = h.job(&resubscribed, EventType::WebTool);
    let only_graded = EndpointChanges {
        events: Some(EventSubscription::from(vec![EventType::CallGraded])),
        ..Default::default()
    };
    h.store
        .update(ORG, resubscribed.id, &only_graded, h.clock.now())
        .await
        .unwrap();
    assert_eq!(
        h.deliver(job).await,
        Delivery::Abandoned(Abandoned::NoLongerSubscribed)
    );

    h.store.delete(ORG, deleted.id).await.unwrap();
    let pause = EndpointChanges::status(RequestedStatus::Disabled);
    h.store
        .update(ORG, paused.id, &pause, h.clock.now())
        .await
        .unwrap();
    let mut reasons = Vec::new();
    for retry in retries {
        match h.deliver(retry.job).await {
            Delivery::Abandoned(reason) => reasons.push(format!("{reason:?}")),
            other => panic!("{other:?}"),
        }
    }
    reasons.sort();
    assert_eq!(reasons, ["EndpointDeleted", "EndpointDisabled"]);
    assert_eq!(receiver.count(), 2, "no further attempt");
    assert!(h.queue.take().is_empty());
    // Both records end as failed, the deleted endpoint's one still readable.
    let log = h.log().await;
    assert_eq!(log.len(), 2, "the unsubscribed job was never attempted");
    for record in &log {
        assert_eq!(
            (record.status, record.next_retry_at, record.attempt_count),
            (DeliveryStatus::Failed, None, 1)
        );
    }
    assert!(
        log.iter()
            .any(|r| r.destination.endpoint() == Some(deleted.id))
    );
}

/// Takes the organization's whole share of resends in flight this minute, as runs under way
/// elsewhere would.
async fn hold_the_resent_share(h: &Harness) -> webhook_domain::QuotaCount {
    use webhook_domain::{Minute, PerMinute, Quota, QuotaCount};
    use webhook_store::QuotaStore;
    let (quota, minute) = (Quota::ResentInFlight, Minute::of(h.clock.now()));
    let count = QuotaCount {
        org: ORG,
        quota,
        minute,
    };
    let share = PerMinute::RESENT_IN_FLIGHT;
    let held = h.store.take(count, 100, share).await.unwrap();
    assert_eq!(held, share.per_minute(), "the whole share in flight");
    count
}

/// A resent job waits while its organization holds its whole share of resends in flight,
/// without an attempt, and takes a place (given back after its attempt) once one is free.
#[tokio::test]
async fn a_resent_job_waits_for_its_organizations_share_of_resends_in_flight() {
    use webhook_domain::PerMinute;
    use webhook_store::QuotaStore;
    let h = harness(true);
    let (receiver, endpoint, _) = h.receiving(vec![]).await;
    let job = DeliveryJob {
        resent: true,
        ..h.job(&endpoint, EventType::WebTool)
    };
    let count = hold_the_resent_share(&h).await;

    let waited = h.deliver(job.clone()).await;
    assert_eq!(
        waited,
        Delivery::Deferred(webhook_delivery::jobs::RESENT_WAIT)
    );
    let mut requeued = h.next();
    assert_eq!(
        (requeued.job.attempts, requeued.delay),
        (0, webhook_delivery::jobs::RESENT_WAIT)
    );
    // Each refusal after doubles the wait, up to a minute.
    let mut waits = Vec::new();
    for _ in 0..5 {
        let Delivery::Deferred(wait) = h.deliver(requeued.job).await else {
            panic!("still no place")
        };
        requeued = h.next();
        assert_eq!(requeued.delay, wait);
        waits.push(wait.as_secs());
    }
    assert_eq!(waits, [10, 20, 40, 60, 60]);
    assert_eq!(receiver.count(), 0, "nothing sent");

    h.store.give_back(count, 1).await.unwrap();
    assert_eq!(h.deliver(requeued.job).await, Delivery::Delivered);
    assert_eq!(receiver.count(), 1);
    assert_eq!(
        h.store
            .take(count, 1, PerMinute::RESENT_IN_FLIGHT)
            .await
            .unwrap(),
        1,
        "its place given back after the attempt"
    );
    // Other organizations' jobs, and jobs that are not resends, never wait on it.
    assert_eq!(
        h.deliver(h.job(&endpoint, EventType::WebTool)).await,
        Delivery::Delivered
    );
}

/// Places are counted in the minute they were taken, and a run holds one for less than a
/// minute: a new minute's resends still count the places the last one took, so an organization
/// never holds more than its share, and a place never given back is forgotten after two.
#[tokio::test]
async fn the_places_the_last_minute_took_still_count_against_the_share() {
    use webhook_store::QuotaStore;
    let h = harness(true);
    let (receiver, endpoint, _) = h.receiving(vec![]).await;
    let resent = || DeliveryJob {
        resent: true,
        ..h.job(&endpoint, EventType::WebTool)
    };
    let taken = hold_the_resent_share(&h).await;

    h.clock.advance(Duration::from_secs(60));
    assert!(
        matches!(h.deliver(resent()).await, Delivery::Deferred(_)),
        "the share is still held, though taken last minute"
    );
    h.next();
    h.store.give_back(taken, 1).await.unwrap();
    assert_eq!(h.deliver(resent()).await, Delivery::Delivered);
    // The nine places still counted (their runs crashed) are forgotten a minute later.
    h.clock.advance(Duration::from_secs(60));
    assert_eq!(h.deliver(resent()).await, Delivery::Delivered);
    assert_eq!(receiver.count(), 2, "no attempt while the share was held");
}

/// dev-server's worker, told to stop, starts nothing more but lets a delivery under way end
/// and write its record: a receiver never has a delivery the log does not show.
#[tokio::test]
async fn the_local_worker_stops_once_its_deliveries_in_flight_end() {
    use webhook_delivery::local::{LocalQueue, run_worker};
    let h = harness(true);
    let (receiver, endpoint, _) = h
        .receiving(vec![Reply::Slow(Duration::from_millis(300))])
        .await;
    let (queue, jobs) = LocalQueue::new(Duration::from_secs(900));
    let pipeline = Arc::new(Pipeline {
        clock: h.clock.clone(),
        ..webhook_delivery::testing::pipeline(
            h.store.clone(),
            queue.clone(),
            Sender::new(true).unwrap(),
        )
    });
    let (stop, stops) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(run_worker(pipeline, jobs, async {
        let _ = stops.await;
    }));
    let job = h.job(&endpoint, EventType::WebTool);
    let delay = Duration::ZERO;
    queue.enqueue(vec![Delayed { job, delay }]).await.unwrap();
    assert!(receiver.wait_for(1, Duration::from_secs(10)).await);

    stop.send(()).unwrap();
    assert_eq!(worker.await.unwrap(), 0, "no ready job left behind");
    let record = h.only_record().await;
    assert_eq!(record.status, DeliveryStatus::Delivered, "{record:?}");
}

/// A job whose event the log keeps for less long than the record it is about to write (a
/// queue backed up for days) keeps the event again first, so its record still shows the body.
#[tokio::test]
async fn a_job_that_outlived_its_kept_event_keeps_it_again() {
    let h = harness(true);
    let (receiver, endpoint, _) = h.receiving(vec![]).await;
    let job = DeliveryJob {
        event_kept_until: Some(h.clock.now()),
        ..h.job(&endpoint, EventType::WebTool)
    };
    assert_eq!(h.deliver(job.clone()).await, Delivery::Delivered);
    let event = webhook_store::EventRef {
        event_id: job.event_id,
        destination: endpoint.id.into(),
    };
    let shown = h
        .store
        .delivery(ORG, event, h.clock.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        shown.body.map(|body| body.bytes().unwrap()),
        receiver.last().map(|sent| sent.body),
        "the body it sent"
    );
}

/// A resend asked while its endpoint was failing keeps the one-attempt rule even when the
/// endpoint is active again by the time of the attempt (a PATCH lifted the status).
#[tokio::test]
async fn a_resend_marked_one_attempt_is_not_retried_at_an_active_endpoint() {
    let h = harness(true);
    let (_receiver, endpoint, _) = h.receiving(vec![Reply::Status(500); 2]).await;
    let job = DeliveryJob {
        one_attempt: true,
        ..h.job(&endpoint, EventType::WebTool)
    };
    assert_eq!(
        h.deliver(job).await,
        Delivery::GaveUp(GiveUp::FailingEndpoint)
    );
    assert!(h.queue.take().is_empty(), "no retry");
    let scheduled = h.deliver(h.job(&endpoint, EventType::WebTool)).await;
    assert!(matches!(scheduled, Delivery::Retrying(_)), "{scheduled:?}");
}

#[tokio::test]
async fn failing_endpoints_get_one_attempt_and_recover_on_a_2xx() {
    let h = harness(true);
    let receiver = receive(vec![Reply::Status(500)]).await;
    let addr = receiver.addr;
    let (endpoint, _) = h
        .endpoint(&url(addr), |e| e.status = EndpointStatus::Failing)
        .await;
    let failed = h.deliver(h.job(&endpoint, EventType::WebTool)).await;
    assert_eq!(failed, Delivery::GaveUp(GiveUp::FailingEndpoint));
    assert!(
        h.queue.take().is_empty(),
        "no retries for a failing endpoint"
    );
    assert_eq!(h.status(&endpoint).await, EndpointStatus::Failing);
    assert!(h.notices.lock().unwrap().is_empty(), "a failure is no news");
    let streak_began = h.clock.now();

    h.clock.advance(Duration::from_secs(60));
    assert_eq!(
        h.deliver(h.job(&endpoint, EventType::WebTool)).await,
        Delivery::Delivered
    );
    assert_eq!(
        h.status(&endpoint).await,
        EndpointStatus::Active,
        "a repaired receiver recovers by itself"
    );
    assert_eq!(receiver.count(), 2);
    let notices = std::mem::take(&mut *h.notices.lock().unwrap());
    let [recovered] = notices.as_slice() else {
        panic!("one notice: {notices:?}")
    };
    assert_eq!(recovered.kind, webhook_domain::NoticeKind::Recovered);
    assert_eq!(
        (
            recovered.endpoint_id,
            recovered.org_id,
            recovered.label.as_str()
        ),
        (endpoint.id, ORG, "receiver")
    );
    assert_eq!(recovered.url_host, "127.0.0.1");
    assert_eq!(recovered.failing_since, Some(streak_began));
    assert_eq!(recovered.at, h.clock.now());

    assert_eq!(
        h.deliver(h.job(&endpoint, EventType::WebTool)).await,
        Delivery::Delivered
    );
    assert!(
        h.notices.lock().unwrap().is_empty(),
        "an active endpoint's success is no news"
    );
}

#[tokio::test]
async fn private_targets_are_refused_unless_allowed() {
    let h = harness(false);
    let receiver = receive(vec![]).await;
    let addr = receiver.addr;
    for target in [url(addr), format!("http://localhost:{}/hook", addr.port())] {
        let (endpoint, _) = h.endpoint(&target, |_| {}).await;
        let outcome = h.deliver(h.job(&endpoint, EventType::WebTool)).await;
        assert!(
            matches!(outcome, Delivery::Retrying(_)),
            "{target}: {outcome:?}"
        );
        let stats = h.stats(&endpoint).await;
        assert_eq!(
            (stats.failure_count, stats.last_failure),
            (1, Some(FailureCategory::Other)),
            "{target}"
        );
    }
    assert_eq!(receiver.count(), 0, "nothing reached the private address");
}

#[tokio::test]
async fn fan_out_queues_one_job_per_matching_endpoint_in_one_batch() {
    let h = harness(true);
    let agent = AgentId::new(7);
    let mut expected = Vec::new();
    for i in 0..50 {
        let (endpoint, _) = h
            .endpoint("https://example.com/hook", |e| match i % 5 {
                0 => e.events = EventSubscription::from(vec![EventType::CallGraded]),
                1 => e.events = EventSubscription::from(vec![EventType::WebTool]),
                2 => e.agent_id = agent,
                3 => e.agent_id = AgentId::new(8),
                _ => e.status = EndpointStatus::Disabled,
            })
            .await;
        if matches!(i % 5, 0 | 2) {
            expected.push(endpoint.id);
        }
    }
    let event = h.event(EventType::CallGraded, agent);
    *h.queue.calls.lock().unwrap() = 0;
    let queued = h.pipeline.fan_out(&event).await.unwrap();
    assert_eq!(queued, 20);
    assert_eq!(*h.queue.calls.lock().unwrap(), 1);
    let mut ids: Vec<_> = h
        .queue
        .take()
        .into_iter()
        .filter_map(|d| d.job.destination.endpoint())
        .collect();
    ids.sort();
    expected.sort();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn long_delays_are_chained_through_the_queue() {
    let h = harness(true);
    let (_receiver, endpoint, _) = h.receiving(vec![]).await;
    let mut job = h.job(&endpoint, EventType::WebTool);
    job.not_before = h.clock.now().checked_add(Duration::from_secs(2 * 3600));
    let deferred = h.deliver(job).await;
    assert_eq!(deferred, Delivery::Deferred(Duration::from_secs(2 * 3600)));
    let hop = h.next();
    assert_eq!(
        hop.delay,
        Duration::from_secs(15 * 60),
        "no more than the queue holds"
    );
    h.clock.advance(hop.delay);
    assert_eq!(
        h.deliver(hop.job).await,
        Delivery::Deferred(Duration::from_secs(6300))
    );
    h.clock.advance(Duration::from_secs(6300 - 900));
    let hops = h.queue.take();
    let last = hops.into_iter().next().unwrap();
    h.clock.advance(Duration::from_secs(900));
    assert_eq!(h.deliver(last.job).await, Delivery::Delivered);
}

#[tokio::test]
async fn the_legacy_url_gets_every_event_under_its_old_name_signed_with_the_org_secret() {
    let h = harness(true);
    let receiver = receive(vec![Reply::Status(500)]).await;
    let addr = receiver.addr;
    let legacy = h.legacy_at(&url(addr)).await;
    let (_endpoint, _) = h
        .endpoint("https://example.com/hook", |e| {
            e.events = EventSubscription::from(vec![EventType::CallGraded])
        })
        .await;

    let queued = h
        .pipeline
        .fan_out(&h.event(EventType::TelephonyIncoming, None))
        .await
        .unwrap();
    assert_eq!(
        queued, 1,
        "the endpoint does not subscribe; the legacy URL gets everything"
    );
    let job = h.next().job;
    assert_eq!(job.destination.endpoint(), None);

    assert!(
        matches!(h.deliver(job).await, Delivery::Retrying(_)),
        "same retry schedule"
    );
    assert_eq!(h.run_next().await, Delivery::Delivered);
    let record = &h.only_record().await;
    assert_eq!(
        (
            record.destination.endpoint(),
            record.endpoint_label.as_str(),
            record.url.as_str(),
            record.event_type.clone(),
            record.status,
            record.attempt_count,
        ),
        (
            None,
            "",
            legacy.url.as_str(),
            EventName::from(EventType::TelephonyIncoming),
            DeliveryStatus::Delivered,
            2,
        )
    );

    let got = receiver.last().unwrap();
    let body: serde_json::Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(body["type"], "call.incoming");
    assert_eq!(
        got.headers["x-thunderphone-signature"].to_str().unwrap(),
        hex_hmac(legacy.keys.current.expose().as_bytes(), &got.body)
    );
    standardwebhooks::Webhook::new(legacy.keys.current.expose())
        .unwrap()
        .verify(&got.body, &got.headers)
        .unwrap();
}

/// What the subscriber writes, kept for the test to read.
#[derive(Clone, Default)]
struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn tokens_in_receiver_urls_never_reach_the_log() {
    let log = CapturedLog::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let h = harness(true);
    let failing = receive(vec![Reply::Status(500), Reply::Drop]).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    for url in [
        format!("{}/tok_SECRET1?key=SECRET2", failing.url()),
        format!("http://127.0.0.1:{closed_port}/tok_SECRET3?key=SECRET4"),
    ] {
        let (endpoint, _) = h.endpoint(&url, |_| {}).await;
        h.deliver(h.job(&endpoint, EventType::WebTool)).await;
        h.run_next().await;
        h.queue.take();
    }
    let written = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(written.contains("delivery attempt failed"), "{written}");
    assert!(!written.contains("SECRET"), "{written}");
}

#[tokio::test]
async fn a_failed_test_is_retried_once_a_minute_later_and_counts_in_no_stats() {
    let h = harness(true);
    let receiver = receive(Reply::statuses([500, 503])).await;
    // Whatever the endpoint's status and subscription: the caller asked for this endpoint.
    let (endpoint, _) = h
        .endpoint(&receiver.url(), |e| {
            e.status = EndpointStatus::Failing;
            e.events = EventSubscription::from(vec![EventType::WebTool]);
        })
        .await;
    let answer = h.send_test(&endpoint, EventName::WEBHOOK_TEST).await;
    assert_eq!(
        answer.outcome.status(),
        Some(500),
        "the first attempt's answer"
    );
    let body: serde_json::Value = serde_json::from_slice(&receiver.last().unwrap().body).unwrap();
    assert_eq!(body["type"], "webhook.test");
    assert_eq!(body["data"]["test"], true);

    let retry = h.next();
    assert_eq!(retry.delay, Duration::from_secs(60));
    assert!(retry.job.test);
    let record = h.only_record().await;
    assert_eq!(
        (record.status, record.attempt_count, record.test),
        (DeliveryStatus::Retrying, 1, true)
    );
    assert_eq!(
        record.next_retry_at,
        h.clock.now().checked_add(Duration::from_secs(60))
    );

    h.clock.advance(retry.delay);
    assert_eq!(
        h.deliver(retry.job.clone()).await,
        Delivery::GaveUp(GiveUp::Exhausted),
        "one retry, then no more"
    );
    assert!(h.queue.take().is_empty());
    assert_eq!(receiver.count(), 2);
    assert_eq!(
        receiver.received()[0].header("webhook-id"),
        receiver.received()[1].header("webhook-id"),
        "the same message, tried again"
    );
    let record = h.only_record().await;
    assert_eq!(
        (
            record.status,
            record.attempt_count,
            record.http_status,
            record.test
        ),
        (DeliveryStatus::Failed, 2, Some(503), true)
    );
    assert_eq!(
        h.deliver(retry.job).await,
        Delivery::Duplicate,
        "a redelivered retry sends nothing"
    );
    assert_eq!(receiver.count(), 2);
    assert_eq!(h.status(&endpoint).await, EndpointStatus::Failing);
    let stats = h.stats(&endpoint).await;
    assert_eq!(
        (
            stats.success_count,
            stats.failure_count,
            stats.last_attempt_at
        ),
        (0, 0, None),
        "tests count in no stats"
    );
}

#[tokio::test]
async fn a_test_that_succeeds_or_hears_410_is_not_retried() {
    let h = harness(true);
    let (_receiver, endpoint, _) = h.receiving(Reply::statuses([204, 410])).await;
    for expected in [204, 410] {
        let answer = h.send_test(&endpoint, EventType::SmsReceived.into()).await;
        assert_eq!(answer.outcome.status(), Some(expected));
        assert!(h.queue.take().is_empty(), "{expected}: no retry");
    }
    let log = h.log().await;
    assert!(log.iter().all(|r| r.event_type == EventType::SmsReceived));
    let mut outcomes: Vec<_> = log.iter().map(|r| (r.http_status, r.status)).collect();
    outcomes.sort_by_key(|(status, _)| *status);
    assert_eq!(
        outcomes,
        [
            (Some(204), DeliveryStatus::Delivered),
            (Some(410), DeliveryStatus::Failed)
        ]
    );
}

#[tokio::test]
async fn types_this_build_does_not_know_reach_every_type_subscribers_and_the_legacy_url() {
    let h = harness(true);
    let (receiver, everything, _) = h.receiving(vec![]).await;
    let (_listed, _) = h
        .endpoint(&receiver.url(), |e| {
            e.events = EventSubscription::from(EventType::ALL.to_vec());
        })
        .await;
    h.legacy_at(&receiver.url()).await;
    let event = PlatformEvent::parse(&format!(
        r#"{{"id":"{}","org_id":{ORG},"type":"voicemail.left","data":{{"call_id":5}},"occurred_at":"{}"}}"#,
        uuid::Uuid::new_v4(),
        h.clock.now()
    ))
    .unwrap();
    assert_eq!(h.pipeline.fan_out(&event).await.unwrap(), 2);
    let jobs = h.queue.take();
    assert_eq!(
        jobs.iter()
            .map(|d| d.job.destination.endpoint())
            .collect::<Vec<_>>(),
        [Some(everything.id), None],
        "not the endpoint that lists every known type"
    );
    for Delayed { job, .. } in jobs {
        assert_eq!(h.deliver(job).await, Delivery::Delivered);
    }
    let bodies: Vec<serde_json::Value> = receiver
        .received()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert!(
        bodies.iter().all(|b| b["type"] == "voicemail.left"),
        "{bodies:?}"
    );
    let log = h.log().await;
    assert_eq!(log.len(), 2);
    assert!(
        log.iter()
            .all(|r| r.event_type.as_str() == "voicemail.left")
    );
}
