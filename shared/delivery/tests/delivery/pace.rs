//! Pacing, as a receiver that takes 5 deliveries a second meets it: a simulated run on the
//! manual clock, every job run when its delay has passed, the receiver counting requests per
//! second of that clock.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use webhook_delivery::pipeline::Delivery;
use webhook_delivery::testing::{Receiver, Reply};
use webhook_domain::{
    Clock, DeliveryStatus, Endpoint, EventType, ManualClock, RateLimit, Timestamp,
};
use webhook_store::EndpointStore;

use super::{Harness, ORG, harness, url};

/// Answers 429 to every request beyond `per_second` in a second of `clock`; counts requests
/// per second from `start`.
struct Limited {
    receiver: Receiver,
    per_second: Arc<Mutex<BTreeMap<i64, usize>>>,
}

async fn limited(clock: Arc<ManualClock>, per_second: usize) -> Limited {
    let start = clock.now().unix_millis();
    let counts = Arc::new(Mutex::new(BTreeMap::<i64, usize>::new()));
    let counted = counts.clone();
    let receiver = Receiver::answering(move || {
        let second = (clock.now().unix_millis() - start).div_euclid(1_000);
        let mut counts = counted.lock().unwrap();
        let count = counts.entry(second).or_default();
        *count += 1;
        if *count > per_second {
            Reply::Status(429)
        } else {
            Reply::Status(200)
        }
    })
    .await
    .unwrap();
    Limited {
        receiver,
        per_second: counts,
    }
}

/// Publishes `events` at once to the endpoint, then runs every job when it is due (the clock
/// jumping to the next one), until none is left. Answers how many jobs were deferred.
async fn run(h: &Harness, endpoint: &Endpoint, events: usize) -> usize {
    let mut due = BTreeMap::new();
    let mut order = 0_u64;
    let mut queue_up = |h: &Harness, due: &mut BTreeMap<_, _>| {
        for queued in h.queue.take() {
            let at = h.clock.now().unix_millis() + queued.delay.as_millis() as i64;
            order += 1;
            due.insert((at, order), queued.job);
        }
    };
    for _ in 0..events {
        let event = h.event(EventType::WebTool, None);
        assert_eq!(h.pipeline.fan_out(&event).await.unwrap(), 1);
    }
    queue_up(h, &mut due);
    let mut deferred = 0;
    while let Some(((at, _), job)) = due.pop_first() {
        let now = h.clock.now().unix_millis();
        if at > now {
            h.clock.advance(Duration::from_millis((at - now) as u64));
        }
        assert_eq!(job.destination, endpoint.id.into());
        if let Delivery::Deferred(_) = h.deliver(job).await {
            deferred += 1;
        }
        queue_up(h, &mut due);
    }
    deferred
}

/// What the log says: every event delivered, and as many attempts as the receiver was sent.
async fn all_delivered(h: &Harness, events: usize, sent: usize) {
    let log = h.log().await;
    assert_eq!(log.len(), events);
    assert!(
        log.iter().all(|r| r.status == DeliveryStatus::Delivered),
        "every event arrives"
    );
    let attempts: u32 = log.iter().map(|r| r.attempt_count).sum();
    assert_eq!(
        attempts as usize, sent,
        "a wait for a turn spends no attempt"
    );
}

/// No limit set: the receiver's 429s slow the endpoint down by themselves, to about what it
/// takes, after a short ramp.
#[tokio::test]
async fn a_receiver_that_answers_429_above_5_a_second_gets_about_5_a_second() {
    let h = harness(true);
    let receiver = limited(h.clock.clone(), 5).await;
    let (endpoint, _) = h.endpoint(&url(receiver.receiver.addr), |_| ()).await;
    let events = 100;

    let deferred = run(&h, &endpoint, events).await;

    let counts = receiver.per_second.lock().unwrap().clone();
    let ramp = 15;
    let after_ramp: Vec<(i64, usize)> = counts
        .iter()
        .filter(|(second, _)| **second >= ramp)
        .map(|(second, count)| (*second, *count))
        .collect();
    assert!(!after_ramp.is_empty(), "{counts:?}");
    let most = after_ramp.iter().map(|(_, n)| *n).max().unwrap_or(0);
    // AIMD probes one above what the receiver takes before it halves again.
    assert!(
        most <= 6,
        "at most about 5 a second after {ramp} s: {counts:?}"
    );
    assert!(deferred > 0, "jobs waited for their turns");
    all_delivered(&h, events, receiver.receiver.count()).await;
    // Still paced: what the stats route shows as the effective rate.
    let stats_rate = h
        .store
        .get(ORG, endpoint.id)
        .await
        .unwrap()
        .effective_rate();
    assert!(
        stats_rate.is_some_and(|rate| rate < webhook_domain::Pace::CEILING),
        "{stats_rate:?}"
    );
}

/// A rate limit of 5: the receiver is never sent more than 5 in a second, so it never has to
/// refuse one, and every event arrives at its first attempt.
#[tokio::test]
async fn an_endpoint_limited_to_5_a_second_is_sent_at_most_5_a_second() {
    let h = harness(true);
    let receiver = limited(h.clock.clone(), 5).await;
    let (endpoint, _) = h
        .endpoint(&url(receiver.receiver.addr), |e| {
            e.rate_limit = RateLimit::new(5).ok();
        })
        .await;
    let events = 40;
    let started: Timestamp = h.clock.now();

    let deferred = run(&h, &endpoint, events).await;

    let counts = receiver.per_second.lock().unwrap().clone();
    assert!(counts.values().all(|n| *n <= 5), "{counts:?}");
    assert_eq!(receiver.receiver.count(), events, "no 429, no retry");
    assert_eq!(deferred, events - 1, "all but the first waited for a turn");
    all_delivered(&h, events, events).await;
    let took = h.clock.now().unix_millis() - started.unix_millis();
    assert!(
        (7_000..9_000).contains(&took),
        "40 at 5 a second take about 8 s: {took} ms"
    );
}

/// A job never waits for a turn past the end of its schedule, and takes none it would not
/// use: a backlog longer than the schedule goes at the schedule's end, and the turns after it
/// stay an interval apart from the last one handed out.
#[tokio::test]
async fn no_turn_is_waited_for_or_taken_past_the_end_of_the_schedule() {
    let h = harness(true);
    let receiver = Receiver::start(vec![]).await.unwrap();
    let (endpoint, _) = h
        .endpoint(&url(receiver.addr), |e| {
            e.rate_limit = RateLimit::new(1).ok()
        })
        .await;
    let span = webhook_delivery::schedule::RetrySchedule::default().span();
    let now = h.clock.now();
    // Begun so long ago that its schedule ends 2 s from now.
    let began =
        Timestamp::from_unix_millis(now.unix_millis() - span.as_millis() as i64 + 2_000).unwrap();
    let late = || webhook_delivery::event::DeliveryJob {
        first_attempt_at: Some(began),
        attempts: 1,
        ..h.job(&endpoint, EventType::WebTool)
    };
    let mut waits = Vec::new();
    for _ in 0..5 {
        waits.push(match h.deliver(late()).await {
            Delivery::Deferred(wait) => wait.as_millis(),
            Delivery::Delivered => 0,
            other => panic!("{other:?}"),
        });
    }
    assert_eq!(
        waits,
        [0, 1_000, 2_000, 2_000, 2_000],
        "the last two go at the end"
    );
    h.queue.take();
    // A fresh job's turn follows the last one handed out, not the two that took none.
    let fresh = h.job(&endpoint, EventType::WebTool);
    assert_eq!(
        h.deliver(fresh).await,
        Delivery::Deferred(Duration::from_secs(3))
    );
}
