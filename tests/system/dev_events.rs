//! `POST /_dev/events` on dev-server: a published event reaches a receiver, signed, and is
//! retried on the demo schedule.

use std::time::Duration;

use serde_json::json;
use system_tests::{
    Answer, ORG_A_ADMIN, ORG_A_MEMBER, ORG_B_ADMIN, receiver, start_delivering, wait_for,
};

#[tokio::test]
async fn a_published_event_reaches_the_receiver_and_failures_are_retried() {
    let api = start_delivering("200ms,200ms".parse().unwrap()).await;
    let (port, got) = receiver(vec![Answer::Status(500), Answer::Status(503)]).await;
    let created = api
        .create(ORG_A_ADMIN, json!({"label": "local", "url": format!("http://127.0.0.1:{port}/hook"), "events": ["call.graded"]}))
        .await;
    assert_eq!(created.status, 201);
    api.create(
        ORG_B_ADMIN,
        json!({"label": "other org", "url": format!("http://127.0.0.1:{port}/other")}),
    )
    .await;

    let published = api
        .send(
            "POST",
            "/_dev/events",
            Some(ORG_A_ADMIN),
            Some(json!({"type": "call.graded", "data": {"call_id": "c_1"}}).to_string()),
        )
        .await;
    assert_eq!(published.status, 202, "{:?}", published.body);
    assert_eq!(
        published.body["endpoints"], 1,
        "only org A's matching endpoint"
    );
    wait_for(&got, 3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let requests = got.received();
    assert_eq!(
        requests.len(),
        3,
        "two failures, then delivered; nothing more"
    );
    for request in &requests {
        assert_eq!(
            (request.method.as_str(), request.target.as_str()),
            ("POST", "/hook")
        );
        assert_eq!(
            request.body_text(),
            r#"{"data":{"call_id":"c_1"},"type":"call.graded"}"#
        );
        assert!(request.header("x-thunderphone-signature").is_some());
    }

    let other_type = api
        .send(
            "POST",
            "/_dev/events",
            Some(ORG_A_ADMIN),
            Some(json!({"type": "web.tool"}).to_string()),
        )
        .await;
    assert_eq!(other_type.body["endpoints"], 0, "not subscribed");
}

#[tokio::test]
async fn publishing_needs_an_admin_key_and_a_valid_event() {
    let api = start_delivering("1s".parse().unwrap()).await;
    let event = json!({"type": "call.graded", "data": {}}).to_string();
    assert_eq!(
        api.send("POST", "/_dev/events", None, Some(event.clone()))
            .await
            .status,
        401
    );
    assert_eq!(
        api.send("POST", "/_dev/events", Some(ORG_A_MEMBER), Some(event))
            .await
            .status,
        403
    );
    let huge = json!({"type": "web.tool", "data": {"padding": "a".repeat(65 * 1024)}});
    let refused = api
        .send(
            "POST",
            "/_dev/events",
            Some(ORG_A_ADMIN),
            Some(huge.to_string()),
        )
        .await;
    assert_eq!(refused.status, 413);
    assert!(refused.detail().contains("64"));
    let future = json!({"type": "voicemail.left", "data": {}});
    let accepted = api
        .send(
            "POST",
            "/_dev/events",
            Some(ORG_A_ADMIN),
            Some(future.to_string()),
        )
        .await;
    assert_eq!(accepted.status, 202, "a type newer than this build");
    for bad in [
        json!({"type": "Call.Nope"}),
        json!({"type": "call"}),
        json!({"data": {}}),
        json!({"type": "web.tool", "data": 1}),
        json!([]),
    ] {
        let reply = api
            .send(
                "POST",
                "/_dev/events",
                Some(ORG_A_ADMIN),
                Some(bad.to_string()),
            )
            .await;
        assert_eq!(reply.status, 400, "{bad}");
        assert!(!reply.detail().is_empty());
    }
}

/// The platform publishing one event twice (same `id`): each destination gets it once.
pub async fn the_same_event_published_twice_is_delivered_once(backend: system_tests::Backend) {
    let api = system_tests::start_delivering_on(backend, "200ms".parse().unwrap(), true).await;
    let (port, got) = receiver(vec![]).await;
    let created = api
        .create(
            ORG_A_ADMIN,
            json!({"label": "once", "url": format!("http://127.0.0.1:{port}/hook")}),
        )
        .await;
    assert_eq!(created.status, 201);
    let event = json!({"id": uuid::Uuid::new_v4(), "type": "call.graded", "data": {"call_id": 7}});
    let publish = || {
        api.send(
            "POST",
            "/_dev/events",
            Some(ORG_A_ADMIN),
            Some(event.to_string()),
        )
    };
    let first = publish().await;
    assert_eq!(first.status, 202, "{:?}", first.body);
    wait_for(&got, 1).await;
    let again = publish().await;
    assert_eq!((again.status, &again.body["event_id"]), (202, &event["id"]));
    assert!(
        !got.wait_for(2, Duration::from_millis(800)).await,
        "the second publish sends nothing"
    );
    let log = api
        .send(
            "GET",
            "/v1/developer/webhook-deliveries",
            Some(ORG_A_ADMIN),
            None,
        )
        .await;
    let results = log.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0]["attempt_count"], 1);
}

/// A blocking event published on dev-server is dispatched at once: the answer comes back in the
/// response, from the agent's endpoint ahead of an unscoped one, and the attempts are logged.
pub async fn a_blocking_event_answers_with_the_receivers_answer(backend: system_tests::Backend) {
    let api = system_tests::start_delivering_on(backend, "200ms".parse().unwrap(), true).await;
    let (unscoped_port, unscoped) =
        receiver(vec![Answer::json(&json!({"greeting": "unscoped"}))]).await;
    let (scoped_port, scoped) = receiver(vec![Answer::json_after(
        &json!({"greeting": "scoped", "voice": {"speed": 1.1}}),
        Duration::from_millis(100),
    )])
    .await;
    for (label, port, agent) in [
        ("unscoped", unscoped_port, json!(null)),
        ("scoped", scoped_port, json!(12)),
    ] {
        let created = api
            .create(
                ORG_A_ADMIN,
                json!({"label": label, "url": format!("http://127.0.0.1:{port}/hook"),
                       "events": ["telephony.incoming"], "agent_id": agent}),
            )
            .await;
        assert_eq!(created.status, 201, "{:?}", created.body);
    }
    let scoped_id = api.list(ORG_A_ADMIN).await.body[1]["id"].clone();

    let published = api
        .send(
            "POST",
            "/_dev/events",
            Some(ORG_A_ADMIN),
            Some(
                json!({"type": "telephony.incoming", "agent_id": 12, "data": {"call_id": "c_9"}})
                    .to_string(),
            ),
        )
        .await;
    assert_eq!(published.status, 200, "{:?}", published.body);
    assert_eq!(
        published.body["answer"],
        json!({"greeting": "scoped", "voice": {"speed": 1.1}})
    );
    assert_eq!(published.body["answered_by"], scoped_id);
    assert_eq!(published.body["attempts"][0]["destination"], scoped_id);
    assert_eq!(published.body["attempts"][0]["http_status"], 200);
    assert!(unscoped.wait_for(1, Duration::from_secs(5)).await);
    assert_eq!(scoped.count(), 1);

    // Logged like any delivery, once each, never retried.
    let mut results = Vec::new();
    for _ in 0..200 {
        let log = api
            .send(
                "GET",
                "/v1/developer/webhook-deliveries?event_type=telephony.incoming",
                Some(ORG_A_ADMIN),
                None,
            )
            .await;
        results = log.body["results"].as_array().unwrap().clone();
        if results.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(results.len(), 2, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| r["status"] == "delivered" && r["attempt_count"] == 1)
    );
}
