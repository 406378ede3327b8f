//! Blocking events, dispatched synchronously: which answer wins, what does not count, and that
//! the answer never waits for what cannot change it.

use super::*;
use webhook_delivery::dispatch::{AnswerIgnored, BUDGET, Dispatched};

fn agent() -> Option<AgentId> {
    AgentId::new(31)
}

impl Harness {
    /// Dispatches as dev-server does: the answer, with the rest left to finish on its own.
    async fn dispatch(&self, event: &PlatformEvent, budget: Duration) -> Dispatched {
        let (dispatched, pending) = self
            .pipeline
            .dispatch_blocking(event, budget)
            .await
            .unwrap();
        pending.detach();
        dispatched
    }

    /// An endpoint at `receiver`, subscribed to every type, scoped to `agent` if given.
    async fn blocking_endpoint(&self, receiver: &Receiver, agent: Option<AgentId>) -> Endpoint {
        let (endpoint, _) = self.endpoint(&receiver.url(), |e| e.agent_id = agent).await;
        self.clock.advance(Duration::from_millis(1)); // the next one is younger
        endpoint
    }

    /// Waits until the log holds `count` records: the dispatch writes them after answering.
    async fn logged(&self, count: usize) -> Vec<DeliveryRecord> {
        for _ in 0..400 {
            let log = self.log().await;
            if log.len() >= count {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("the log never held {count} records: {:?}", self.log().await)
    }
}

fn answer(value: serde_json::Value) -> Option<serde_json::Map<String, serde_json::Value>> {
    value.as_object().cloned()
}

#[tokio::test]
async fn scoped_endpoints_answer_first_then_unscoped_oldest_first_then_the_legacy_url() {
    let h = harness(true);
    // The highest-precedence answer is the slowest: it is waited for.
    let unscoped = receive(vec![Reply::json(&json!({"agent": "unscoped"}))]).await;
    let scoped = receive(vec![Reply::json_after(
        &json!({"agent": "scoped"}),
        Duration::from_millis(150),
    )])
    .await;
    let legacy = receive(vec![Reply::json(&json!({"agent": "legacy"}))]).await;
    let unscoped_endpoint = h.blocking_endpoint(&unscoped, None).await;
    let scoped_endpoint = h.blocking_endpoint(&scoped, agent()).await;
    h.legacy_at(&legacy.url()).await;

    let event = h.event(EventType::TelephonyIncoming, agent());
    let dispatched = h.dispatch(&event, BUDGET).await;
    assert_eq!(dispatched.answer, answer(json!({"agent": "scoped"})));
    assert_eq!(dispatched.answered_by, Some(scoped_endpoint.id.to_string()));
    assert_eq!(
        dispatched.attempts[0].destination,
        scoped_endpoint.id.to_string(),
        "attempts in precedence order"
    );
    assert!(dispatched.error.is_none());
    for receiver in [&unscoped, &scoped, &legacy] {
        assert!(receiver.wait_for(1, Duration::from_secs(5)).await);
        let got = receiver.last().unwrap();
        assert!(got.header("webhook-signature").is_some(), "signed as usual");
    }
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&legacy.last().unwrap().body_text()).unwrap()["type"],
        "call.incoming",
        "the legacy URL under its old name"
    );

    // Without the agent's endpoint, the unscoped one wins; without it, the legacy URL.
    let other_agent = h.event(EventType::TelephonyIncoming, AgentId::new(99));
    let dispatched = h.dispatch(&other_agent, BUDGET).await;
    assert_eq!(dispatched.answer, answer(json!({"ok": true})), "unscoped's");
    assert_eq!(
        dispatched.answered_by,
        Some(unscoped_endpoint.id.to_string())
    );
    h.logged(5).await;
}

#[tokio::test]
async fn answers_that_do_not_count_fall_through_to_the_next_destination() {
    let h = harness(true);
    let failing = receive(vec![Reply::Status(500)]).await;
    let not_an_object = receive(vec![Reply::json(&json!([1, 2]))]).await;
    let too_large = receive(vec![Reply::json(
        &json!({"padding": "x".repeat(70 * 1024)}),
    )])
    .await;
    let empty = receive(vec![Reply::Status(204)]).await;
    let legacy = receive(vec![Reply::json(&json!({"agent": "legacy"}))]).await;
    for receiver in [&failing, &not_an_object, &too_large, &empty] {
        h.blocking_endpoint(receiver, None).await;
    }
    h.legacy_at(&legacy.url()).await;

    let event = h.event(EventType::WebIncoming, None);
    let dispatched = h.dispatch(&event, BUDGET).await;
    assert_eq!(dispatched.answer, answer(json!({"agent": "legacy"})));
    assert_eq!(dispatched.answered_by.as_deref(), Some("legacy"));
    let why: Vec<_> = dispatched
        .attempts
        .iter()
        .map(|a| (a.http_status, a.answer_ignored))
        .collect();
    assert_eq!(
        why,
        [
            (Some(500), None),
            (Some(200), Some(AnswerIgnored::NotAJsonObject)),
            (Some(200), Some(AnswerIgnored::TooLarge)),
            (Some(204), Some(AnswerIgnored::NotAJsonObject)),
            (Some(200), None),
        ]
    );

    // Every attempt is logged once, as delivered or failed, and never retried.
    let log = h.logged(5).await;
    assert_eq!(log.len(), 5);
    assert!(
        log.iter()
            .all(|r| r.attempt_count == 1 && r.next_retry_at.is_none())
    );
    assert_eq!(
        log.iter()
            .filter(|r| r.status == DeliveryStatus::Failed)
            .count(),
        1
    );
    assert!(h.queue.take().is_empty(), "no retries");
}

#[tokio::test]
async fn the_answer_does_not_wait_for_destinations_behind_the_winner() {
    let h = harness(true);
    let quick = receive(vec![Reply::json(&json!({"say": "hello"}))]).await;
    let hanging = receive(vec![Reply::Hang]).await;
    let quick_endpoint = h.blocking_endpoint(&quick, None).await;
    h.blocking_endpoint(&hanging, None).await;

    let event = h.event(EventType::TelephonyIncoming, None);
    let dispatched = h.dispatch(&event, BUDGET).await;
    assert_eq!(dispatched.answered_by, Some(quick_endpoint.id.to_string()));
    assert_eq!(
        dispatched.attempts.len(),
        1,
        "answered while the second destination still hangs"
    );
    assert!(
        hanging.wait_for(1, Duration::from_secs(5)).await,
        "it was sent"
    );
}

#[tokio::test]
async fn a_slow_receiver_gets_the_budget_and_no_more() {
    let h = harness(true);
    let hanging = receive(vec![Reply::Hang]).await;
    let slow_endpoint = h.blocking_endpoint(&hanging, None).await;

    let event = h.event(EventType::WebIncoming, None);
    let dispatched = h.dispatch(&event, Duration::from_millis(300)).await;
    assert_eq!((dispatched.answer, dispatched.answered_by), (None, None));
    let [attempt] = dispatched.attempts.as_slice() else {
        panic!("{:?}", dispatched.attempts)
    };
    assert_eq!(attempt.destination, slow_endpoint.id.to_string());
    assert_eq!(attempt.failure_category, Some(FailureCategory::Timeout));
    assert!(attempt.duration_ms < 2_000, "{}", attempt.duration_ms);
    let record = h.logged(1).await.remove(0);
    assert_eq!(
        (record.status, record.failure_category),
        (DeliveryStatus::Failed, Some(FailureCategory::Timeout))
    );
}

#[tokio::test]
async fn only_blocking_types_are_dispatched() {
    let h = harness(true);
    let receiver = receive(vec![]).await;
    h.blocking_endpoint(&receiver, None).await;
    let event = h.event(EventType::CallGraded, None);
    let dispatched = h.dispatch(&event, BUDGET).await;
    assert!(
        dispatched
            .error
            .as_deref()
            .is_some_and(|e| e.contains("call.graded is not a blocking event type")),
        "{dispatched:?}"
    );
    assert_eq!((dispatched.answer, dispatched.attempts.len()), (None, 0));
    assert_eq!(receiver.count(), 0);

    let paused = receive(vec![]).await;
    h.endpoint(&paused.url(), |e| e.status = EndpointStatus::Disabled)
        .await;
    let event = h.event(EventType::WebIncoming, None);
    let dispatched = h.dispatch(&event, BUDGET).await;
    assert_eq!(dispatched.answer, answer(json!({"ok": true})));
    assert_eq!(
        dispatched.attempts.len(),
        1,
        "a paused endpoint gets nothing"
    );
    assert_eq!(paused.count(), 0);
}

/// A ringing call is not held up by the log: with its event not kept, the answer still
/// comes, and the record keeps the body itself.
#[tokio::test]
async fn an_event_the_log_cannot_keep_is_still_answered() {
    let h = harness_over(
        MemoryStore::refusing(webhook_store::memory::Refused::KeepingEvents),
        true,
    );
    let receiver = receive(vec![Reply::json(&json!({"say": "hello"}))]).await;
    h.blocking_endpoint(&receiver, None).await;
    let event = h.event(EventType::TelephonyIncoming, None);
    let dispatched = h.dispatch(&event, BUDGET).await;
    assert_eq!(dispatched.answer, answer(json!({"say": "hello"})));
    let record = h.logged(1).await.remove(0);
    let sent = receiver.last().unwrap().body_text();
    assert_eq!(record.body.unwrap().bytes().unwrap(), sent.as_bytes());
}

/// As the Lambda runs it: the answer is known early, and the rest (the hanging destination's
/// send, every log write) is finished before the invocation returns, still within the budget:
/// the receiver that hangs is cut at the budget less the write reserve, and its record is
/// written in the reserve.
#[tokio::test]
async fn a_lambdas_answer_comes_within_the_budget_with_every_attempt_logged() {
    let h = harness(true);
    let quick = receive(vec![Reply::json(&json!({"say": "hello"}))]).await;
    let hanging = receive(vec![Reply::Hang]).await;
    h.blocking_endpoint(&quick, None).await;
    let slow_endpoint = h.blocking_endpoint(&hanging, None).await;

    let event = h.event(EventType::TelephonyIncoming, None);
    let budget = Duration::from_millis(600);
    let started = std::time::Instant::now();
    let dispatched = h.pipeline.dispatch_within(&event, budget).await.unwrap();
    let took = started.elapsed();
    assert_eq!(dispatched.answer, answer(json!({"say": "hello"})));
    // Not a speed target: the bound the platform is promised, with room for a busy machine.
    assert!(
        took < budget + Duration::from_millis(100),
        "answered after {took:?}"
    );
    let log = h.log().await;
    assert_eq!(
        log.len(),
        2,
        "both attempts logged before the answer: {log:?}"
    );
    let slow = log
        .iter()
        .find(|r| r.destination.endpoint() == Some(slow_endpoint.id))
        .unwrap();
    assert_eq!(slow.failure_category, Some(FailureCategory::Timeout));
}
