//! The delivery log and test deliveries over HTTP, through dev-server's in-process pipeline, on
//! both stores.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use system_tests::{
    Answer, Api, Backend, COLLECTION, ORG_A_ADMIN, ORG_A_MEMBER, ORG_B_ADMIN, Received, Receiver,
    receiver, start_delivering_on, wait_for,
};

const LOG: &str = "/v1/developer/webhook-deliveries";

fn hook(port: u16) -> String {
    format!("http://127.0.0.1:{port}/hook")
}

async fn test_delivery(api: &Api, key: &str, id: &str, body: Option<Value>) -> system_tests::Reply {
    api.send(
        "POST",
        &format!("{COLLECTION}/{id}/test"),
        Some(key),
        body.map(|b| b.to_string()),
    )
    .await
}

/// The body and the hex signature header of a request the receiver kept.
fn body_and_signature(request: &Received) -> (String, String) {
    let signature = request.header("x-thunderphone-signature").unwrap();
    (request.body_text(), signature.to_owned())
}

fn hex_hmac(secret: &str, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn log(api: &Api, key: &str, query: &str) -> system_tests::Reply {
    api.send("GET", &format!("{LOG}?{query}"), Some(key), None)
        .await
}

pub async fn test_deliveries_report_what_the_receiver_did(backend: Backend) {
    let api = start_delivering_on(backend, "1s".parse().unwrap(), true).await;
    let (port, got) = receiver(vec![Answer::Status(204), Answer::Status(500)]).await;
    let (hanging, _) = receiver(vec![Answer::Hang]).await;
    // Whatever its status: a paused endpoint can still be tested.
    let created = api
        .create(
            ORG_A_ADMIN,
            json!({"label": "Paused", "url": hook(port), "events": ["web.tool"], "status": "disabled"}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let secret = created.body["secret"].as_str().unwrap().to_owned();

    let delivered = test_delivery(
        &api,
        ORG_A_ADMIN,
        &id,
        Some(json!({"event_type": "call.graded"})),
    )
    .await;
    assert_eq!(delivered.status, 200, "{:?}", delivered.body);
    let delivered_id = delivered.body["event_id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&delivered_id).is_ok());
    assert_eq!(
        delivered.body,
        json!({"success": true, "status": "delivered", "response_code": 204, "error": "",
               "event_id": delivered_id, "event_type": "call.graded"})
    );
    wait_for(&got, 1).await;
    let (body, signature) = body_and_signature(&got.received()[0]);
    assert_eq!(
        signature,
        hex_hmac(&secret, &body),
        "signed with the endpoint's secret"
    );
    let sent: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(sent["type"], "call.graded");
    assert_eq!(sent["data"]["test"], true, "marked as a test");
    assert!(
        sent["data"]["call_id"].is_number(),
        "a realistic payload: {sent}"
    );

    let failed = test_delivery(&api, ORG_A_ADMIN, &id, None).await;
    assert_eq!(
        (
            &failed.body["success"],
            &failed.body["status"],
            &failed.body["response_code"],
            &failed.body["event_type"],
        ),
        (
            &json!(false),
            &json!("failed"),
            &json!(500),
            &json!("webhook.test")
        ),
    );
    assert!(!failed.body["error"].as_str().unwrap().is_empty());

    let moved = api
        .patch(ORG_A_ADMIN, &id, json!({"url": hook(hanging)}))
        .await;
    assert_eq!(moved.status, 200);
    let started = std::time::Instant::now();
    let timed_out = test_delivery(
        &api,
        ORG_A_ADMIN,
        &id,
        Some(json!({"event_type": "telephony.incoming"})),
    )
    .await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "a blocking type waits 2 s"
    );
    assert_eq!(
        (&timed_out.body["success"], &timed_out.body["response_code"]),
        (&json!(false), &Value::Null)
    );
    assert!(!timed_out.body["error"].as_str().unwrap().is_empty());

    // A failed test's one retry waits a minute; no status change; all three in the log,
    // newest first.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(got.count(), 2, "no immediate retry of the failed test");
    let listed = api.list(ORG_A_ADMIN).await;
    assert_eq!(listed.body[0]["status"], "disabled");
    let page = log(&api, ORG_A_ADMIN, "").await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    let results = page.body["results"].as_array().unwrap();
    let summary: Vec<(&str, &str, Value, Value)> = results
        .iter()
        .map(|r| {
            (
                r["event_type"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
                r["http_status"].clone(),
                r["test"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("telephony.incoming", "retrying", Value::Null, json!(true)),
            ("webhook.test", "retrying", json!(500), json!(true)),
            ("call.graded", "delivered", json!(204), json!(true)),
        ]
    );
    assert_eq!(results[2]["event_id"], delivered_id);
    assert_eq!(results[0]["failure_category"], "timeout");
    assert_eq!(results[1]["failure_category"], "http_error");
    assert_eq!(results[2]["url"], hook(port));
    assert_eq!(results[0]["url"], hook(hanging));

    // Only admins of the endpoint's own organization, only the nine types.
    assert_eq!(
        test_delivery(&api, ORG_B_ADMIN, &id, None).await.status,
        404
    );
    assert_eq!(
        test_delivery(&api, ORG_A_MEMBER, &id, None).await.status,
        403
    );
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        test_delivery(&api, ORG_A_ADMIN, &unknown, None)
            .await
            .status,
        404
    );
    let bad = test_delivery(
        &api,
        ORG_A_ADMIN,
        &id,
        Some(json!({"event_type": "call.incoming"})),
    )
    .await;
    assert_eq!(bad.status, 400);
    assert!(!bad.field_errors("event_type").is_empty());
    assert_eq!(log(&api, ORG_B_ADMIN, "").await.body["results"], json!([]));
}

pub async fn test_deliveries_keep_to_the_address_rules(backend: Backend) {
    // The production rule: nothing on loopback or private networks.
    let api = start_delivering_on(backend, "1s".parse().unwrap(), false).await;
    let (port, got) = receiver(vec![]).await;
    let created = api
        .create(ORG_A_ADMIN, json!({"label": "Local", "url": hook(port)}))
        .await;
    let id = created.body["id"].as_str().unwrap();
    let refused = test_delivery(&api, ORG_A_ADMIN, id, None).await;
    assert_eq!(refused.status, 200);
    assert_eq!(
        (&refused.body["success"], &refused.body["response_code"]),
        (&json!(false), &Value::Null)
    );
    let error = refused.body["error"].as_str().unwrap();
    assert!(error.contains("loopback"), "{error}");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(got.count(), 0, "never connected");
}

/// Publishes an event for org A through dev-server: queued (202), or for a blocking type
/// dispatched at once (200).
async fn publish(api: &Api, event: Value) {
    let blocking =
        ["telephony.incoming", "web.incoming"].contains(&event["type"].as_str().unwrap_or(""));
    let reply = api
        .send(
            "POST",
            "/_dev/events",
            Some(ORG_A_ADMIN),
            Some(event.to_string()),
        )
        .await;
    assert_eq!(
        reply.status,
        if blocking { 200 } else { 202 },
        "{:?}",
        reply.body
    );
}

/// Every page of the log under `query`, following cursors, checking each page's shape.
async fn every_page(api: &Api, query: &str, limit: usize) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut full = format!("{query}&limit={limit}");
        if let Some(cursor) = &cursor {
            full.push_str(&format!("&cursor={cursor}"));
        }
        let page = log(api, ORG_A_ADMIN, &full).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        assert_eq!(page.body["limit"], limit);
        let results = page.body["results"].as_array().unwrap();
        if page.body["has_more"] == true {
            assert_eq!(results.len(), limit, "no short page while more exist");
        }
        all.extend(results.iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
}

pub async fn the_log_follows_events_to_endpoints_and_the_legacy_url(backend: Backend) {
    let api = start_delivering_on(backend, "300ms".parse().unwrap(), true).await;
    let (ok_port, ok_got) = receiver(vec![]).await;
    let (flaky_port, flaky_got) = receiver(vec![Answer::Status(503)]).await;
    let (legacy_port, legacy_got) = receiver(vec![]).await;
    let steady = api
        .create(
            ORG_A_ADMIN,
            json!({"label": "Steady", "url": hook(ok_port)}),
        )
        .await
        .body;
    let flaky = api
        .create(
            ORG_A_ADMIN,
            json!({"label": "Flaky", "url": hook(flaky_port), "events": ["call.graded"], "agent_id": 5}),
        )
        .await
        .body;
    let legacy = api
        .send(
            "PUT",
            "/v1/webhook",
            Some(ORG_A_ADMIN),
            Some(json!({"url": hook(legacy_port)}).to_string()),
        )
        .await;
    assert_eq!(legacy.status, 200);

    publish(
        &api,
        json!({"type": "call.graded", "agent_id": 5, "data": {"call_id": 4711}}),
    )
    .await;
    publish(
        &api,
        json!({"type": "telephony.incoming", "data": {"call_id": 4712}}),
    )
    .await;
    publish(
        &api,
        json!({"type": "call.graded", "data": {"call_id": "c_3"}}),
    )
    .await;
    // steady: 3 events; flaky: the agent 5 one, failed once then retried; legacy: all 3.
    wait_for(&ok_got, 3).await;
    wait_for(&flaky_got, 2).await;
    wait_for(&legacy_got, 3).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let everything = every_page(&api, "since=2000-01-01T00:00:00Z", 2).await;
    assert_eq!(everything.len(), 7, "{everything:#?}");
    let times: Vec<&str> = everything
        .iter()
        .map(|r| r["last_attempt_at"].as_str().unwrap())
        .collect();
    assert!(
        everything.iter().all(|r| r["status"] == "delivered"),
        "{everything:#?}"
    );
    assert_eq!(times.len(), 7);

    let legacy_records = everything
        .iter()
        .filter(|r| r["source"] == "legacy")
        .count();
    assert_eq!(legacy_records, 3);
    let legacy_incoming = everything
        .iter()
        .find(|r| r["source"] == "legacy" && r["event_type"] == "telephony.incoming")
        .unwrap();
    assert_eq!(
        (
            &legacy_incoming["endpoint_id"],
            &legacy_incoming["url"],
            &legacy_incoming["call_id"]
        ),
        (&json!(""), &json!(hook(legacy_port)), &json!(4712))
    );

    let flaky_id = flaky["id"].as_str().unwrap();
    let flaky_records = every_page(&api, &format!("endpoint_id={flaky_id}"), 1).await;
    assert_eq!(flaky_records.len(), 1);
    assert_eq!(
        (
            &flaky_records[0]["attempt_count"],
            &flaky_records[0]["http_status"],
            &flaky_records[0]["endpoint_label"],
            &flaky_records[0]["call_id"],
        ),
        (&json!(2), &json!(200), &json!("Flaky"), &json!(4711))
    );
    assert_eq!(
        every_page(&api, "agent_id=5", 1).await.len(),
        3,
        "steady, flaky, legacy"
    );
    assert_eq!(every_page(&api, "event_type=call.graded", 1).await.len(), 5);
    assert_eq!(every_page(&api, "status=retrying", 1).await.len(), 0);
    assert_eq!(
        every_page(&api, "since=2999-01-01T00:00:00Z", 1)
            .await
            .len(),
        0
    );

    // Deleting an endpoint leaves its records readable.
    let steady_id = steady["id"].as_str().unwrap();
    assert_eq!(api.delete(ORG_A_ADMIN, steady_id).await.status, 204);
    let kept = every_page(&api, &format!("endpoint_id={steady_id}"), 50).await;
    assert_eq!(kept.len(), 3);
    assert!(kept.iter().all(|r| r["endpoint_label"] == "Steady"));

    // A cursor is bound to its organization and filters.
    let first = log(&api, ORG_A_ADMIN, "limit=1").await;
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let elsewhere = log(&api, ORG_B_ADMIN, &format!("limit=1&cursor={cursor}")).await;
    assert_eq!(elsewhere.status, 400);
    assert!(!elsewhere.field_errors("cursor").is_empty());
    let refiltered = log(
        &api,
        ORG_A_ADMIN,
        &format!("limit=1&status=failed&cursor={cursor}"),
    )
    .await;
    assert_eq!(refiltered.status, 400);
    let bad = log(&api, ORG_A_ADMIN, "limit=0&since=soon&endpoint_id=x").await;
    assert_eq!(bad.status, 400);
    for name in ["limit", "since", "endpoint_id"] {
        assert!(!bad.field_errors(name).is_empty(), "{name}");
    }
    assert_eq!(log(&api, ORG_A_MEMBER, "").await.status, 403);
    let _: &Receiver = &ok_got;
}

pub async fn the_test_route_is_limited_per_organization(backend: Backend) {
    let settings = webhook_api::Settings {
        test_deliveries: webhook_domain::PerMinute::parse("2").unwrap(),
        ..Default::default()
    };
    let schedule = "1s".parse().unwrap();
    let api = system_tests::start_delivering_with(backend, schedule, true, settings).await;
    let (port, got) = receiver(vec![]).await;
    let mut ids = Vec::new();
    for key in [ORG_A_ADMIN, ORG_B_ADMIN] {
        let created = api
            .create(key, json!({"label": "tested", "url": hook(port)}))
            .await;
        ids.push(created.body["id"].as_str().unwrap().to_owned());
    }
    // Tests to an endpoint that is not there (another org's, an unknown id) use none of it.
    for missing in [ids[1].as_str(), "0196f3c2-7a4e-7b1d-9c3e-5f6a7b8c9d0e"] {
        let refused = test_delivery(&api, ORG_A_ADMIN, missing, None).await;
        assert_eq!(refused.status, 404, "{:?}", refused.body);
    }
    // The limit is per clock minute: three tests must land in one, so start early in one.
    let into_minute = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        % 60_000;
    if into_minute > 40_000 {
        tokio::time::sleep(std::time::Duration::from_millis(
            60_100 - into_minute as u64,
        ))
        .await;
    }
    for _ in 0..2 {
        assert_eq!(
            test_delivery(&api, ORG_A_ADMIN, &ids[0], None).await.status,
            200
        );
    }
    let limited = test_delivery(&api, ORG_A_ADMIN, &ids[0], None).await;
    assert_eq!(limited.status, 429, "{:?}", limited.body);
    assert!(
        limited.detail().contains("2 test deliveries a minute"),
        "{:?}",
        limited.body
    );
    let retry_after: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(
        test_delivery(&api, ORG_B_ADMIN, &ids[1], None).await.status,
        200,
        "another organization has its own minute"
    );
    wait_for(&got, 3).await;
    assert_eq!(got.count(), 3, "the refused test sent nothing");
}

/// Polls one delivery until `done` holds (the pipeline writes records as it goes).
async fn delivery_until(
    api: &Api,
    path: &str,
    done: impl Fn(&Value) -> bool,
) -> system_tests::Reply {
    for _ in 0..300 {
        let reply = api.send("GET", path, Some(ORG_A_ADMIN), None).await;
        if reply.status == 200 && done(&reply.body) {
            return reply;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{path} never got there")
}

/// A receiver down past the whole schedule, then repaired: the failed delivery shows the body it
/// sent and each attempt, and a resend (asked twice at once) sends the same message once more.
pub async fn a_failed_delivery_is_kept_with_its_body_and_resent_once_repaired(backend: Backend) {
    let api = start_delivering_on(backend, "100ms".parse().unwrap(), true).await;
    let (port, got) = receiver(vec![Answer::Status(503), Answer::Status(500)]).await;
    let created = api
        .create(ORG_A_ADMIN, json!({"label": "Down", "url": hook(port)}))
        .await;
    let endpoint = created.body["id"].as_str().unwrap().to_owned();
    let published = api
        .send(
            "POST",
            "/_dev/events",
            Some(ORG_A_ADMIN),
            Some(json!({"type": "call.graded", "data": {"call_id": 31, "score": 0.9}}).to_string()),
        )
        .await;
    let event = published.body["event_id"].as_str().unwrap().to_owned();
    let one = format!("{LOG}/{event}?endpoint_id={endpoint}");
    let failed = delivery_until(&api, &one, |d| d["status"] == "failed").await;
    assert_eq!(got.count(), 2);
    assert_eq!(
        failed.body["payload"],
        json!({"data": {"call_id": 31, "score": 0.9}, "type": "call.graded"})
    );
    assert_eq!(
        failed.body["payload"].to_string(),
        got.received()[0].body_text(),
        "the exact bytes sent"
    );
    let attempts = failed.body["attempts"].as_array().unwrap();
    assert_eq!(
        attempts
            .iter()
            .map(|a| a["http_status"].clone())
            .collect::<Vec<_>>(),
        [json!(503), json!(500)]
    );
    assert!(
        attempts
            .iter()
            .all(|a| a["at"].is_string() && a["duration_ms"].is_u64())
    );
    assert_eq!(failed.body["attempt_count"], 2);

    // Asked twice at once: one new chain.
    let resend_path = format!("{LOG}/{event}/resend");
    let resend = || {
        api.send(
            "POST",
            &resend_path,
            Some(ORG_A_ADMIN),
            Some(json!({"endpoint_id": endpoint}).to_string()),
        )
    };
    let (first, second) = tokio::join!(resend(), resend());
    assert_eq!((first.status, second.status), (202, 202));
    let queued = first.body["queued"].as_u64().unwrap() + second.body["queued"].as_u64().unwrap();
    assert_eq!(queued, 1, "{:?} {:?}", first.body, second.body);
    let delivered = delivery_until(&api, &one, |d| d["status"] == "delivered").await;
    assert_eq!(delivered.body["attempt_count"], 3);
    assert_eq!(delivered.body["attempts"].as_array().unwrap().len(), 3);
    assert!(
        !got.wait_for(4, std::time::Duration::from_millis(500)).await,
        "sent once more, not twice"
    );
    let requests = got.received();
    assert_eq!(
        requests[2].header("webhook-id"),
        requests[0].header("webhook-id"),
        "the same message, for receivers to deduplicate"
    );
    assert_eq!(requests[2].body_text(), requests[0].body_text());

    // What is refused, and how.
    let legacy = api
        .send(
            "GET",
            &format!("{LOG}/{event}?endpoint_id=legacy"),
            Some(ORG_A_ADMIN),
            None,
        )
        .await;
    assert_eq!(legacy.status, 404, "no legacy delivery of this event");
    let unnamed = api
        .send("GET", &format!("{LOG}/{event}"), Some(ORG_A_ADMIN), None)
        .await;
    assert_eq!(unnamed.status, 400);
    assert!(unnamed.body["errors"]["endpoint_id"].is_array());
    let malformed = api
        .send(
            "GET",
            &format!("{LOG}/{event}?endpoint_id=nope"),
            Some(ORG_A_ADMIN),
            None,
        )
        .await;
    assert_eq!(malformed.status, 400);
    let other_org = api.send("GET", &one, Some(ORG_B_ADMIN), None).await;
    assert_eq!(other_org.status, 404);
    let member = api.send("GET", &one, Some(ORG_A_MEMBER), None).await;
    assert_eq!(member.status, 403);
    let not_an_id = api
        .send(
            "GET",
            &format!("{LOG}/42?endpoint_id={endpoint}"),
            Some(ORG_A_ADMIN),
            None,
        )
        .await;
    assert_eq!(not_an_id.status, 404);
    let no_body = api
        .send(
            "POST",
            &format!("{LOG}/{event}/resend"),
            Some(ORG_A_ADMIN),
            None,
        )
        .await;
    assert_eq!(no_body.status, 400);
    assert_eq!(api.delete(ORG_A_ADMIN, &endpoint).await.status, 204);
    let gone = resend().await;
    assert_eq!(gone.status, 409, "{:?}", gone.body);
    assert!(gone.detail().contains("deleted"));
}

/// An endpoint down past the schedule for several events: recover resends the failed ones since
/// a time (not older ones, not other endpoints'), each once, however often it is called.
pub async fn recover_resends_an_endpoints_failed_deliveries_since_a_time(backend: Backend) {
    let api = start_delivering_on(backend, "100ms".parse().unwrap(), true).await;
    let (port, got) = receiver(vec![Answer::Status(500); 6]).await;
    let endpoint = api
        .create(ORG_A_ADMIN, json!({"label": "Down", "url": hook(port)}))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut events = Vec::new();
    for n in 0..3 {
        let published = api
            .send(
                "POST",
                "/_dev/events",
                Some(ORG_A_ADMIN),
                Some(json!({"type": "call.graded", "data": {"call_id": n}}).to_string()),
            )
            .await;
        events.push(published.body["event_id"].as_str().unwrap().to_owned());
        if n == 0 {
            // The first event is older than `since` below.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    for event in &events {
        let one = format!("{LOG}/{event}?endpoint_id={endpoint}");
        delivery_until(&api, &one, |d| d["status"] == "failed").await;
    }
    assert_eq!(got.count(), 6);
    let first = delivery_until(
        &api,
        &format!("{LOG}/{}?endpoint_id={endpoint}", events[0]),
        |_| true,
    )
    .await;
    let since = first.body["occurred_at"].as_str().unwrap();
    let since = webhook_domain::Timestamp::parse_iso8601(since)
        .unwrap()
        .checked_add(std::time::Duration::from_millis(1))
        .unwrap()
        .to_string();

    let recover_path = format!("{COLLECTION}/{endpoint}/recover");
    let recover = || {
        api.send(
            "POST",
            &recover_path,
            Some(ORG_A_ADMIN),
            Some(json!({"since": since}).to_string()),
        )
    };
    let (one, two) = tokio::join!(recover(), recover());
    assert_eq!(
        (one.status, two.status),
        (202, 202),
        "{:?} {:?}",
        one.body,
        two.body
    );
    let queued = one.body["queued"].as_u64().unwrap() + two.body["queued"].as_u64().unwrap();
    assert_eq!(
        queued, 2,
        "the two newer events, once: {:?} {:?}",
        one.body, two.body
    );
    assert_eq!(
        (&one.body["has_more"], &one.body["next_cursor"]),
        (&json!(false), &Value::Null)
    );
    for event in &events[1..] {
        let one = format!("{LOG}/{event}?endpoint_id={endpoint}");
        let delivered = delivery_until(&api, &one, |d| d["status"] == "delivered").await;
        assert_eq!(delivered.body["attempt_count"], 3);
    }
    assert!(!got.wait_for(9, std::time::Duration::from_millis(500)).await);
    assert_eq!(got.count(), 8, "two more, once each");
    let old = delivery_until(
        &api,
        &format!("{LOG}/{}?endpoint_id={endpoint}", events[0]),
        |_| true,
    )
    .await;
    assert_eq!(old.body["status"], "failed", "older than since: left alone");
    let again = recover().await;
    assert_eq!(again.body["queued"], 0, "nothing failed since");

    let foreign = api
        .send(
            "POST",
            &format!("{COLLECTION}/{endpoint}/recover"),
            Some(ORG_A_ADMIN),
            Some(json!({"since": since, "cursor": "bm90IG91cnM"}).to_string()),
        )
        .await;
    assert_eq!(foreign.status, 400);
    let no_since = api
        .send(
            "POST",
            &format!("{COLLECTION}/{endpoint}/recover"),
            Some(ORG_A_ADMIN),
            Some("{}".into()),
        )
        .await;
    assert_eq!(no_since.status, 400);
    assert!(no_since.body["errors"]["since"].is_array());
    let paused = api
        .patch(ORG_A_ADMIN, &endpoint, json!({"status": "disabled"}))
        .await;
    assert_eq!(paused.status, 200);
    assert_eq!(recover().await.status, 409);
    let other_org = api
        .send(
            "POST",
            &format!("{COLLECTION}/{endpoint}/recover"),
            Some(ORG_B_ADMIN),
            Some(json!({"since": since}).to_string()),
        )
        .await;
    assert_eq!(other_org.status, 404);
}

/// Ten rotations of one endpoint at once: each answers 200 or 409, a 200 carries the hint of its
/// own secret (built from what its write wrote, never re-read), and the secret the endpoint ends
/// with is a winner's and signs the next delivery.
pub async fn concurrent_rotations_leave_one_secret_that_signs(backend: Backend) {
    let api = start_delivering_on(backend, "1s".parse().unwrap(), true).await;
    let (port, got) = receiver(vec![]).await;
    let created = api
        .create(ORG_A_ADMIN, json!({"label": "rotated", "url": hook(port)}))
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("{COLLECTION}/{id}/rotate-secret");
    let body = json!({"expire_previous_after_hours": 0}).to_string();
    let rotate = || api.send("POST", &path, Some(ORG_A_ADMIN), Some(body.clone()));
    let answers = futures::future::join_all((0..10).map(|_| rotate())).await;
    let mut winners = Vec::new();
    for answer in &answers {
        match answer.status {
            200 => {
                let secret = answer.body["secret"].as_str().unwrap().to_owned();
                let hint = answer.body["secret_hint"].as_str().unwrap();
                assert!(
                    hint.ends_with(&secret[secret.len() - 6..]),
                    "the answer's hint is its own secret's: {hint} / {secret}"
                );
                winners.push((hint.to_owned(), secret));
            }
            409 => assert!(
                answer.detail().contains("Another rotation"),
                "{:?}",
                answer.body
            ),
            other => panic!("a rotation answered {other}: {:?}", answer.body),
        }
    }
    assert!(!winners.is_empty());
    let listed = api.list(ORG_A_ADMIN).await.body[0]["secret_hint"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, signing) = winners
        .iter()
        .find(|(hint, _)| *hint == listed)
        .expect("the endpoint ends with a winner's secret");
    assert_eq!(
        test_delivery(&api, ORG_A_ADMIN, &id, None).await.status,
        200
    );
    wait_for(&got, 1).await;
    let (body, signature) = body_and_signature(&got.received()[0]);
    assert_eq!(
        signature,
        hex_hmac(signing, &body),
        "the winner's secret signs"
    );

    // The organization secret of the legacy webhook the same way.
    let url = json!({"url": "https://legacy.example.com/hook"}).to_string();
    assert_eq!(
        api.send("PUT", "/v1/webhook", Some(ORG_A_ADMIN), Some(url))
            .await
            .status,
        200
    );
    let no_grace = json!({"expire_previous_after_hours": 0}).to_string();
    let rotate = || {
        api.send(
            "POST",
            "/v1/webhook/rotate-secret",
            Some(ORG_A_ADMIN),
            Some(no_grace.clone()),
        )
    };
    let answers = futures::future::join_all((0..10).map(|_| rotate())).await;
    let mut winners = Vec::new();
    for answer in &answers {
        match answer.status {
            200 => winners.push(answer.body["secret"].as_str().unwrap().to_owned()),
            409 => assert!(
                answer.detail().contains("Another rotation"),
                "{:?}",
                answer.body
            ),
            other => panic!("a legacy rotation answered {other}: {:?}", answer.body),
        }
    }
    let shown = api
        .send("GET", "/v1/webhook", Some(ORG_A_ADMIN), None)
        .await;
    let current = shown.body["secret"].as_str().unwrap().to_owned();
    assert!(
        winners.contains(&current),
        "the webhook ends with a winner's secret: {current} among {winners:?}"
    );
}

/// An endpoint's custom headers: refused by name when they would change the request's meaning
/// or origin, shown in every answer, replaced whole by a PATCH (cleared by `{}` or null), and
/// sent with every attempt, retries included, beside the signatures.
pub async fn custom_headers_are_validated_shown_and_sent_with_every_attempt(backend: Backend) {
    let api = start_delivering_on(backend, "100ms".parse().unwrap(), true).await;
    let (port, got) = receiver(vec![Answer::Status(500)]).await;
    let refused = api
        .create(
            ORG_A_ADMIN,
            json!({"label": "h", "url": hook(port), "headers": {
                "Host": "evil.example", "Content-Type": "text/plain", "webhook-id": "forged",
                "bad name": "x", "X-Ok": "line\r\nbreak"}}),
        )
        .await;
    assert_eq!(refused.status, 400, "{:?}", refused.body);
    let message = refused.field_errors("headers").join(" ");
    for named in [
        "Host:",
        "Content-Type:",
        "webhook-id:",
        "\"bad name\"",
        "X-Ok:",
    ] {
        assert!(message.contains(named), "{named} in {message}");
    }
    assert!(
        api.list(ORG_A_ADMIN)
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );

    let headers = json!({"Authorization": "Bearer gateway-token", "X-Tenant": "acme"});
    let created = api
        .create(
            ORG_A_ADMIN,
            json!({"label": "h", "url": hook(port), "headers": headers}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["headers"], headers);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(api.list(ORG_A_ADMIN).await.body[0]["headers"], headers);

    let published = api
        .send(
            "POST",
            "/_dev/events",
            Some(ORG_A_ADMIN),
            Some(json!({"type": "call.graded", "data": {"call_id": 1}}).to_string()),
        )
        .await;
    assert_eq!(published.status, 202, "{:?}", published.body);
    wait_for(&got, 2).await;
    for request in got.received() {
        assert_eq!(
            request.header("authorization"),
            Some("Bearer gateway-token")
        );
        assert_eq!(request.header("x-tenant"), Some("acme"));
        assert!(request.header("webhook-signature").is_some());
        assert_eq!(request.header("content-type"), Some("application/json"));
    }

    let replaced = api
        .patch(ORG_A_ADMIN, &id, json!({"headers": {"X-Other": "1"}}))
        .await;
    assert_eq!(replaced.body["headers"], json!({"X-Other": "1"}));
    let unchanged = api
        .patch(ORG_A_ADMIN, &id, json!({"label": "renamed"}))
        .await;
    assert_eq!(unchanged.body["headers"], json!({"X-Other": "1"}));
    for clear in [json!({}), Value::Null] {
        let cleared = api
            .patch(ORG_A_ADMIN, &id, json!({"headers": {"X-Again": "2"}}))
            .await;
        assert_eq!(cleared.status, 200);
        let cleared = api.patch(ORG_A_ADMIN, &id, json!({"headers": clear})).await;
        assert_eq!(cleared.status, 200);
        assert!(
            cleared.body.get("headers").is_none(),
            "{clear}: {:?}",
            cleared.body
        );
    }
    let many: serde_json::Map<String, Value> =
        (0..21).map(|n| (format!("X-{n}"), json!("v"))).collect();
    let too_many = api.patch(ORG_A_ADMIN, &id, json!({"headers": many})).await;
    assert_eq!(too_many.status, 400);
    assert!(too_many.field_errors("headers")[0].contains("At most 20"));
}

/// An endpoint's `rate_limit`: validated, shown when set, removed with null; the stats show
/// the effective rate, which a receiver's 429 halves by itself (from 64 a second for an
/// endpoint without a limit) while the event still arrives.
pub async fn a_rate_limit_is_validated_shown_and_lowered_by_a_429(backend: Backend) {
    let api = start_delivering_on(backend, "100ms".parse().unwrap(), true).await;
    let (port, got) = receiver(vec![Answer::Status(429)]).await;
    for bad in [json!(0), json!(101), json!(2.5), json!("5"), json!(-1)] {
        let refused = api
            .create(
                ORG_A_ADMIN,
                json!({"label": "r", "url": hook(port), "rate_limit": bad}),
            )
            .await;
        assert_eq!(refused.status, 400, "{bad}: {:?}", refused.body);
        let detail = refused.field_errors("rate_limit").join(" ");
        assert!(detail.contains("from 1 to 100,"), "{bad}: {detail}");
    }
    let limited = api
        .create(
            ORG_A_ADMIN,
            json!({"label": "r", "url": hook(port), "rate_limit": 40}),
        )
        .await;
    assert_eq!(limited.status, 201, "{:?}", limited.body);
    assert_eq!(limited.body["rate_limit"], 40);
    let id = limited.body["id"].as_str().unwrap().to_owned();
    assert_eq!(api.list(ORG_A_ADMIN).await.body[0]["rate_limit"], 40);
    async fn effective_rate(api: &Api, id: &str) -> Value {
        let path = format!("{COLLECTION}/{id}/stats");
        let stats = api.send("GET", &path, Some(ORG_A_ADMIN), None).await;
        assert_eq!(stats.status, 200, "{:?}", stats.body);
        stats.body["effective_rate"].clone()
    }
    assert_eq!(effective_rate(&api, &id).await, json!(40));
    let removed = api
        .patch(ORG_A_ADMIN, &id, json!({"rate_limit": null}))
        .await;
    assert_eq!(removed.status, 200);
    assert!(
        removed.body.get("rate_limit").is_none(),
        "{:?}",
        removed.body
    );
    assert_eq!(
        effective_rate(&api, &id).await,
        Value::Null,
        "as fast as they come"
    );

    let published = api
        .send(
            "POST",
            "/_dev/events",
            Some(ORG_A_ADMIN),
            Some(json!({"type": "call.graded", "data": {"call_id": 1}}).to_string()),
        )
        .await;
    assert_eq!(published.status, 202, "{:?}", published.body);
    wait_for(&got, 2).await;
    assert_eq!(
        effective_rate(&api, &id).await,
        json!(webhook_domain::Pace::CEILING / 2),
        "the 429 halved it"
    );
}

/// Every attempt carries a W3C `traceparent`: the publisher's trace when the event came with
/// one, else the event's own id as the trace; a new span each time.
pub async fn every_attempt_continues_the_events_trace(backend: Backend) {
    let api = start_delivering_on(backend, "100ms".parse().unwrap(), true).await;
    let (port, got) = receiver(vec![Answer::Status(500)]).await;
    let created = api
        .create(ORG_A_ADMIN, json!({"label": "traced", "url": hook(port)}))
        .await;
    assert_eq!(created.status, 201);
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let published = api
        .send_with(
            "POST",
            "/_dev/events",
            Some(ORG_A_ADMIN),
            Some(json!({"type": "call.graded", "data": {"call_id": 1}}).to_string()),
            &[("traceparent", &format!("00-{trace}-00f067aa0ba902b7-01"))],
        )
        .await;
    assert_eq!(published.status, 202, "{:?}", published.body);
    wait_for(&got, 2).await;
    let parents: Vec<String> = got
        .received()
        .iter()
        .map(|r| r.header("traceparent").unwrap().to_owned())
        .collect();
    for parent in &parents {
        let parts: Vec<&str> = parent.split('-').collect();
        assert_eq!(
            (parts[0], parts[1], parts[3]),
            ("00", trace, "01"),
            "{parent}"
        );
        assert_ne!(parts[2], "00f067aa0ba902b7", "a span of its own");
    }
    assert_ne!(parents[0], parents[1], "each attempt a new span");

    let untraced = api
        .send(
            "POST",
            "/_dev/events",
            Some(ORG_A_ADMIN),
            Some(json!({"type": "call.graded", "data": {"call_id": 2}}).to_string()),
        )
        .await;
    let event_id = untraced.body["event_id"].as_str().unwrap().replace('-', "");
    wait_for(&got, 3).await;
    let last = got.received()[2].header("traceparent").unwrap().to_owned();
    assert_eq!(last.split('-').nth(1), Some(event_id.as_str()), "{last}");
}
