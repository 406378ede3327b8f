//! `POST /_dev/events` on dev-server: a published event reaches a receiver, signed, and is
//! retried on the demo schedule.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use system_tests::{ORG_A_ADMIN, ORG_A_MEMBER, ORG_B_ADMIN, start_delivering};

/// A receiver on a loopback port answering the given statuses in turn (then 200), keeping bodies.
async fn receiver(statuses: Vec<u16>) -> (u16, Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = got.clone();
    tokio::spawn(async move {
        let mut statuses = statuses.into_iter();
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buffer = vec![0u8; 65536];
            let n = stream.read(&mut buffer).await.unwrap();
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buffer[..n]).to_string());
            let status = statuses.next().unwrap_or(200);
            let reply =
                format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            stream.write_all(reply.as_bytes()).await.unwrap();
        }
    });
    (port, got)
}

async fn wait_for(got: &Arc<Mutex<Vec<String>>>, count: usize) {
    for _ in 0..100 {
        if got.lock().unwrap().len() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "expected {count} deliveries, got {}",
        got.lock().unwrap().len()
    );
}

#[tokio::test]
async fn a_published_event_reaches_the_receiver_and_failures_are_retried() {
    let api = start_delivering("200ms,200ms".parse().unwrap()).await;
    let (port, got) = receiver(vec![500, 503]).await;
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
    let requests = got.lock().unwrap().clone();
    assert_eq!(
        requests.len(),
        3,
        "two failures, then delivered; nothing more"
    );
    for request in &requests {
        assert!(request.starts_with("POST /hook "));
        assert!(request.ends_with(r#"{"data":{"call_id":"c_1"},"type":"call.graded"}"#));
        assert!(
            request
                .to_ascii_lowercase()
                .contains("x-thunderphone-signature: ")
        );
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
    for bad in [
        json!({"type": "call.nope"}),
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
