//! Each handler driven by its sample event from `events/`, as Lambda would deliver it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::sync::Arc;

use base64::Engine;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use webhook_api::{App, Settings, handlers};
use webhook_domain::fixtures::at;
use webhook_domain::{
    ApiKeySecret, AttemptOutcome, DeliveryRecord, DeliveryStatus, Endpoint, EndpointId, EventName,
    EventType, FailureCategory, ManualClock, OrgId, Role, SigningKeys, SigningSecret, TestDelivery,
    Timestamp, fixtures,
};
use webhook_store::{ApiKeyStore, DeliveryLogStore, EndpointStore, MemoryStore, StoreError};

const SAMPLE_ID: &str = "3f1c2b7e-8d4a-4e7b-9c1d-5a6b7c8d9e0f";
const SAMPLE_ORG: OrgId = OrgId::new(42);

fn sample_event(name: &str) -> Value {
    let path = format!("{}/../../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn request(event: &Value) -> Request {
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

fn app() -> App<MemoryStore> {
    App::new(MemoryStore::new(), Settings::default())
        .with_cursor_key(webhook_api::CursorKey::random().unwrap())
        .with_clock(Arc::new(ManualClock::starting_at(at(1_795_770_904_113))))
}

/// The endpoint the update and delete events name, stored for the sample org.
async fn seed(app: &App<MemoryStore>, org: OrgId) -> Endpoint {
    let secret = SigningSecret::generate().unwrap();
    let endpoint = Endpoint {
        id: EndpointId::parse(SAMPLE_ID).unwrap(),
        secret_hint: secret.hint(),
        created_at: at(1_000),
        updated_at: at(1_000),
        ..fixtures::endpoint(org)
    };
    app.store
        .create(&endpoint, &secret, 50, None)
        .await
        .unwrap();
    endpoint
}

fn body_json(response: &Response<Body>) -> Value {
    match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap(),
        other => panic!("expected a JSON text body, got {other:?}"),
    }
}

/// The body of a 201 that hands over a secret, which no cache may keep.
fn handed_over(response: &Response<Body>) -> Value {
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["cache-control"], "no-store");
    body_json(response)
}

/// The product page's ten fields (custom headers show only when set).
const ENDPOINT_FIELDS: [&str; 10] = [
    "agent_id",
    "agent_name",
    "created_at",
    "events",
    "id",
    "label",
    "secret_hint",
    "status",
    "updated_at",
    "url",
];

fn field_names(object: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = object
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    names
}

#[tokio::test]
async fn list_event_returns_the_orgs_endpoints() {
    let app = app();
    let endpoint = seed(&app, SAMPLE_ORG).await;
    let response = handle(&app, "list-endpoints").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    let list = body_json(&response);
    let [only] = list.as_array().unwrap().as_slice() else {
        panic!("{list}")
    };
    assert_eq!(field_names(only), ENDPOINT_FIELDS);
    assert_eq!(only["id"], SAMPLE_ID);
    assert_eq!(only["secret_hint"], endpoint.secret_hint.as_str());
    assert_eq!(only["created_at"], "1970-01-01T00:00:01.000Z");
    assert_eq!(only["agent_name"], Value::Null);
}

#[tokio::test]
async fn list_event_types_event_returns_the_catalogue_in_order() {
    let response = handlers::list_event_types(request(&sample_event("list-event-types")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let list = body_json(&response);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 19);
    let names: Vec<&str> = list.iter().map(|t| t["type"].as_str().unwrap()).collect();
    let catalogue: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(names, catalogue);
    assert_eq!(
        field_names(&list[0]),
        ["blocking", "description", "legacy_name", "type"]
    );
    let incoming = list.iter().find(|t| t["type"] == "web.incoming").unwrap();
    assert_eq!(incoming["blocking"], true);
    assert_eq!(incoming["legacy_name"], "call.incoming");
    let sms = list.iter().find(|t| t["type"] == "sms.received").unwrap();
    assert_eq!(sms["blocking"], false);
    assert_eq!(sms["legacy_name"], "sms.received");
}

#[tokio::test]
async fn create_event_returns_the_secret_once() {
    let app = app();
    let created = handed_over(&handle(&app, "create-endpoint").await);
    let mut expected_fields = ENDPOINT_FIELDS.to_vec();
    expected_fields.push("secret");
    expected_fields.sort_unstable();
    assert_eq!(field_names(&created), expected_fields);
    assert_eq!(created["label"], "Billing alerts");
    assert_eq!(
        created["events"],
        serde_json::json!(["telephony.complete", "call.graded"])
    );
    assert_eq!(created["created_at"], "2026-11-27T09:15:04.113Z");
    let secret = created["secret"].as_str().unwrap();
    assert!(
        created["secret_hint"]
            .as_str()
            .unwrap()
            .ends_with(&secret[secret.len() - 6..])
    );

    let id = EndpointId::parse(created["id"].as_str().unwrap()).unwrap();
    assert_eq!(app.store.secret(SAMPLE_ORG, id).unwrap().expose(), secret);
    let listed = handle(&app, "list-endpoints").await;
    assert!(!format!("{:?}", listed.body()).contains(secret));
}

#[tokio::test]
async fn create_event_with_a_base64_body_works_too() {
    let app = app();
    let mut event = sample_event("create-endpoint");
    let body = event["body"].as_str().unwrap().to_owned();
    event["body"] = base64::engine::general_purpose::STANDARD
        .encode(body)
        .into();
    event["isBase64Encoded"] = true.into();
    let response = handlers::create_endpoint(&app, request(&event))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn update_event_changes_the_endpoint() {
    let app = app();
    seed(&app, SAMPLE_ORG).await;
    let response = handle(&app, "update-endpoint").await;
    assert_eq!(response.status(), StatusCode::OK);
    let updated = body_json(&response);
    assert_eq!(field_names(&updated), ENDPOINT_FIELDS);
    assert_eq!(updated["label"], "Billing alerts (paused)");
    assert_eq!(updated["status"], "disabled");
    assert_eq!(updated["created_at"], "1970-01-01T00:00:01.000Z");
    assert_eq!(updated["updated_at"], "2026-11-27T09:15:04.113Z");
}

#[tokio::test]
async fn delete_event_deletes_once() {
    let app = app();
    seed(&app, SAMPLE_ORG).await;
    let event = sample_event("delete-endpoint");
    let response = handlers::delete_endpoint(&app, request(&event))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.body(), &Body::Empty);
    assert!(app.store.list(SAMPLE_ORG).await.unwrap().is_empty());
    let again = handlers::delete_endpoint(&app, request(&event))
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

/// The test route's sender, for handler tests: answers 204 without sending anything (the real
/// one is driven against loopback receivers in the system tests).
async fn answered_204(_: Endpoint, _: SigningKeys, event_type: EventName) -> TestDelivery {
    TestDelivery {
        event_id: webhook_domain::EventId::from(uuid::Uuid::from_u128(7)),
        event_type,
        outcome: AttemptOutcome::from_status(204),
        error: None,
    }
}

/// `request` as the handler of the sample event `name` (`events/<name>.json`) answers it; the
/// test route answers 204 without sending anything.
async fn served(app: &App<MemoryStore>, name: &str, request: Request) -> Response<Body> {
    match name {
        "list-endpoints" => handlers::list_endpoints(app, request).await,
        "create-endpoint" => handlers::create_endpoint(app, request).await,
        "update-endpoint" => handlers::update_endpoint(app, request).await,
        "delete-endpoint" => handlers::delete_endpoint(app, request).await,
        "list-deliveries" => handlers::list_deliveries(app, request).await,
        "get-delivery" => handlers::get_delivery(app, request).await,
        "send-test-delivery" => handlers::send_test_delivery(app, request, answered_204).await,
        "rotate-secret" => handlers::rotate_secret(app, request).await,
        "endpoint-stats" => handlers::endpoint_stats(app, request).await,
        "get-legacy-webhook" => handlers::get_legacy_webhook(app, request).await,
        "set-legacy-webhook" => handlers::set_legacy_webhook(app, request).await,
        "list-event-types" => handlers::list_event_types(request).await,
        "create-portal-session" => handlers::create_portal_session(app, request).await,
        other => panic!("no handler serves {other}"),
    }
    .unwrap()
}

/// The sample event `name`, as its handler answers it.
async fn handle(app: &App<MemoryStore>, name: &str) -> Response<Body> {
    served(app, name, request(&sample_event(name))).await
}

/// The delivery log as the sample org's admin reads it with `query`.
async fn deliveries_with(app: &App<MemoryStore>, query: &str) -> Response<Body> {
    let mut event = sample_event("list-deliveries");
    event["rawQueryString"] = query.into();
    served(app, "list-deliveries", request(&event)).await
}

/// Every route `served` serves, by the name of its sample event.
const ROUTES: [&str; 13] = [
    "list-endpoints",
    "create-endpoint",
    "update-endpoint",
    "delete-endpoint",
    "list-deliveries",
    "get-delivery",
    "send-test-delivery",
    "rotate-secret",
    "endpoint-stats",
    "get-legacy-webhook",
    "set-legacy-webhook",
    "list-event-types",
    "create-portal-session",
];

#[tokio::test]
async fn a_portal_session_is_a_link_on_the_requests_origin_that_opens_the_api_as_its_creator() {
    let app = app();
    let link = handed_over(&handle(&app, "create-portal-session").await);
    let url = link["url"].as_str().unwrap();
    let token = url
        .strip_prefix("https://abc123def4.execute-api.us-east-1.amazonaws.com/portal#token=")
        .unwrap_or_else(|| panic!("{url}"));
    let record = app
        .store
        .api_key(&ApiKeySecret::presented(token).unwrap().digest().id())
        .await
        .unwrap()
        .unwrap();
    let now = app.clock.now();
    let caller = record.caller(now).unwrap();
    assert_eq!(
        (caller.org, caller.role, caller.session),
        (SAMPLE_ORG, Role::Admin, true)
    );
    assert_eq!(
        record.valid_until,
        now.checked_add(std::time::Duration::from_secs(8 * 3600)),
        "the sample asks for 8h"
    );
    assert_eq!(link["expires_at"], record.valid_until.unwrap().to_string());

    // Opened with a session: refused, so no link outlives its end.
    let mut again = sample_event("create-portal-session");
    again["requestContext"]["authorizer"]["lambda"]["session_until"] =
        (now.unix_millis() + 60_000).into();
    let refused = served(&app, "create-portal-session", request(&again)).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // The end as text (an authorizer that passes strings) is still a session's.
    let mut as_text = again.clone();
    as_text["requestContext"]["authorizer"]["lambda"]["session_until"] =
        (now.unix_millis() + 60_000).to_string().into();
    let refused = served(&app, "create-portal-session", request(&as_text)).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // A cached authorizer answer past the session's end, or an end that cannot be read,
    // opens nothing.
    for end in [
        serde_json::json!(1),
        serde_json::json!(1.5e12),
        serde_json::json!("soon"),
    ] {
        let mut ended = sample_event("list-endpoints");
        ended["requestContext"]["authorizer"]["lambda"]["session_until"] = end.clone();
        let late = served(&app, "list-endpoints", request(&ended)).await;
        assert_eq!(late.status(), StatusCode::UNAUTHORIZED, "{end}");
    }
}

#[tokio::test]
async fn every_handler_needs_an_identity_and_admin_role() {
    // These two answer 404 until a delivery is logged, or the legacy URL set: `seed` does neither.
    let answered_after_seed = ROUTES
        .into_iter()
        .filter(|name| !["get-delivery", "get-legacy-webhook"].contains(name));
    for name in answered_after_seed {
        let app = app();
        seed(&app, SAMPLE_ORG).await;
        let cases: [(&str, Option<Value>, StatusCode); 5] = [
            ("no authorizer", None, StatusCode::UNAUTHORIZED),
            (
                "no org",
                Some(serde_json::json!({"role": "admin"})),
                StatusCode::UNAUTHORIZED,
            ),
            (
                "member",
                Some(serde_json::json!({"org_id": 42, "role": "member"})),
                StatusCode::FORBIDDEN,
            ),
            (
                "unknown role",
                Some(serde_json::json!({"org_id": 42, "role": "root"})),
                StatusCode::FORBIDDEN,
            ),
            (
                "owner, org as text",
                Some(serde_json::json!({"org_id": "42", "role": "owner"})),
                StatusCode::OK,
            ),
        ];
        for (case, authorizer, expected) in cases {
            let mut event = sample_event(name);
            match authorizer {
                None => {
                    event["requestContext"]
                        .as_object_mut()
                        .unwrap()
                        .remove("authorizer");
                }
                Some(lambda) => event["requestContext"]["authorizer"]["lambda"] = lambda,
            }
            let response = served(&app, name, request(&event)).await;
            if expected == StatusCode::OK {
                assert!(
                    response.status().is_success(),
                    "{name}, {case}: {}",
                    response.status()
                );
            } else {
                assert_eq!(response.status(), expected, "{name}, {case}");
                assert!(body_json(&response)["detail"].is_string());
            }
        }
    }
}

#[tokio::test]
async fn other_orgs_and_malformed_ids_are_not_found() {
    let app = app();
    seed(&app, OrgId::new(7)).await;
    for name in [
        "update-endpoint",
        "delete-endpoint",
        "send-test-delivery",
        "rotate-secret",
        "endpoint-stats",
    ] {
        let response = handle(&app, name).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{name}");
        for bad_id in ["not-a-uuid", "3f1c2b7e"] {
            let mut event = sample_event(name);
            event["pathParameters"]["endpoint_id"] = bad_id.into();
            let response = served(&app, name, request(&event)).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{name} {bad_id}");
        }
    }
    assert_eq!(app.store.list(OrgId::new(7)).await.unwrap().len(), 1);
}

/// What a storage error may carry that no answer should repeat.
const LEAKY: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/webhooks AccessDenied";

#[tokio::test]
async fn storage_failures_say_nothing_about_themselves() {
    let cases: [(fn() -> StoreError, StatusCode); 2] = [
        (
            || StoreError::Internal(LEAKY.into()),
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
        (
            || StoreError::Unavailable(LEAKY.into()),
            StatusCode::SERVICE_UNAVAILABLE,
        ),
    ];
    for (error, status) in cases {
        let app = App::new(MemoryStore::broken(error), Settings::default())
            .with_cursor_key(webhook_api::CursorKey::random().unwrap());
        let mut responses = Vec::new();
        // Every route but the catalogue's, which reads no storage.
        for name in ROUTES
            .into_iter()
            .filter(|name| *name != "list-event-types")
        {
            responses.push(handle(&app, name).await);
        }
        let resend = request(&sample_event("resend-delivery"));
        let resent = handlers::resend_delivery(&app, resend, |_, _| async {
            panic!("nothing is queued when the store fails");
            #[expect(unreachable_code)]
            Ok::<(), String>(())
        });
        responses.push(resent.await.unwrap());
        for response in responses {
            assert_eq!(response.status(), status);
            let body = body_json(&response);
            assert!(!body.to_string().contains("dynamodb"), "{body}");
            assert!(!body.to_string().contains("whsec_"), "{body}");
            assert!(body["detail"].is_string());
        }
    }
}

#[tokio::test]
async fn legacy_webhook_events_set_then_read_it_back() {
    let app = app();
    let missing = handle(&app, "get-legacy-webhook").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let set = handle(&app, "set-legacy-webhook").await;
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(set.headers()["cache-control"], "no-store");
    let set = body_json(&set);
    assert_eq!(set["url"], "https://hooks.example.com/legacy");
    let read = handle(&app, "get-legacy-webhook").await;
    assert_eq!(body_json(&read), set);

    let mut patch = sample_event("set-legacy-webhook");
    patch["requestContext"]["http"]["method"] = "PATCH".into();
    patch["body"] = "{}".into();
    let unchanged = handlers::set_legacy_webhook(&app, request(&patch))
        .await
        .unwrap();
    assert_eq!(body_json(&unchanged), set);
    let mut put_without_url = sample_event("set-legacy-webhook");
    put_without_url["body"] = "{}".into();
    let refused = handlers::set_legacy_webhook(&app, request(&put_without_url))
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
}

/// Records `record` in the log, kept for good.
async fn keep(app: &App<MemoryStore>, record: &DeliveryRecord) {
    let forever = at(4_000_000_000_000);
    app.store.record_delivery(record, forever).await.unwrap();
}

/// A failed delivery record of the sample org, `n` seconds into November 2026.
fn failed_record(org: OrgId, n: i64) -> DeliveryRecord {
    let started = Timestamp::parse("2026-11-02T00:00:00.000Z")
        .unwrap()
        .unix_millis()
        + n * 1_000;
    DeliveryRecord {
        call_id: Some(n),
        status: DeliveryStatus::Failed,
        attempt_count: 3,
        http_status: Some(500),
        failure_category: Some(FailureCategory::HttpError),
        last_attempt_at: at(started + 60_000),
        ..fixtures::delivery_record(org, EndpointId::parse(SAMPLE_ID), at(started))
    }
}

#[tokio::test]
async fn list_deliveries_event_pages_with_sealed_cursors() {
    let app = app();
    for n in 0..5 {
        let delivered = DeliveryRecord {
            status: DeliveryStatus::Delivered,
            ..failed_record(SAMPLE_ORG, n)
        };
        let others = failed_record(OrgId::new(7), n);
        for record in [failed_record(SAMPLE_ORG, n), others, delivered] {
            keep(&app, &record).await;
        }
    }
    let filtered = "status=failed&since=2026-11-01T00%3A00%3A00Z&limit=2";
    let first = deliveries_with(&app, filtered).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first = body_json(&first);
    assert_eq!(
        (first["has_more"].as_bool(), first["limit"].as_u64()),
        (Some(true), Some(2))
    );
    let record = &first["results"][0];
    assert_eq!(
        field_names(record),
        [
            "agent_id",
            "attempt_count",
            "call_id",
            "endpoint_id",
            "endpoint_label",
            "event_id",
            "event_type",
            "failure_category",
            "http_status",
            "last_attempt_at",
            "next_retry_at",
            "occurred_at",
            "source",
            "status",
            "test",
            "url",
        ]
    );
    assert_eq!(
        (
            &record["call_id"],
            &record["source"],
            &record["status"],
            &record["endpoint_id"],
            &record["failure_category"],
            &record["last_attempt_at"],
        ),
        (
            &Value::from(4),
            &Value::from("endpoint"),
            &Value::from("failed"),
            &Value::from(SAMPLE_ID),
            &Value::from("http_error"),
            &Value::from("2026-11-02T00:01:04.000Z"),
        )
    );

    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let mut next = format!("{filtered}&cursor={cursor}");
    let mut seen = vec![
        first["results"][0]["call_id"].clone(),
        first["results"][1]["call_id"].clone(),
    ];
    loop {
        let page = body_json(&deliveries_with(&app, &next).await);
        seen.extend(
            page["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["call_id"].clone()),
        );
        let Some(cursor) = page["next_cursor"].as_str() else {
            assert_eq!(page["has_more"], false);
            break;
        };
        next = format!("{filtered}&cursor={cursor}");
    }
    assert_eq!(
        seen,
        [4, 3, 2, 1, 0].map(Value::from),
        "newest first, each once, failed only"
    );

    // The cursor is bound to its org and filters, and any change to it is refused.
    let refused = |query: String, org: Value| {
        let mut event = sample_event("list-deliveries");
        event["rawQueryString"] = query.into();
        event["requestContext"]["authorizer"]["lambda"]["org_id"] = org;
        let app = &app;
        async move {
            let response = handlers::list_deliveries(app, request(&event))
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
            let body = body_json(&response);
            assert!(body["errors"]["cursor"].is_array(), "{body}");
        }
    };
    refused(
        format!("status=delivered&since=2026-11-01T00%3A00%3A00Z&cursor={cursor}"),
        42.into(),
    )
    .await;
    refused(format!("{filtered}&cursor={cursor}"), 7.into()).await;
    let mut tampered = cursor.clone().into_bytes();
    tampered[3] ^= 1;
    refused(
        format!("{filtered}&cursor={}", String::from_utf8(tampered).unwrap()),
        42.into(),
    )
    .await;
    refused(format!("{filtered}&cursor=bm90LWEtY3Vyc29y"), 42.into()).await;
    // A new limit with the same filters is fine.
    let wider = format!("status=failed&since=2026-11-01T00%3A00%3A00Z&limit=50&cursor={cursor}");
    let wider = body_json(&deliveries_with(&app, &wider).await);
    assert_eq!(wider["results"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn list_deliveries_names_every_bad_parameter() {
    let app = app();
    let response = deliveries_with(&app, "limit=500&status=lost&agent_id=-1&color=red").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = body_json(&response);
    let named: Vec<&String> = body["errors"].as_object().unwrap().keys().collect();
    assert_eq!(named, ["agent_id", "color", "limit", "status"]);
    assert!(body["detail"].as_str().unwrap().contains("limit"));
}

#[tokio::test]
async fn send_test_delivery_event_sends_the_requested_type_to_that_endpoint() {
    let app = app();
    let endpoint = seed(&app, SAMPLE_ORG).await;
    let asked = std::sync::Mutex::new(None);
    let response = handlers::send_test_delivery(
        &app,
        request(&sample_event("send-test-delivery")),
        async |endpoint, _, event_type| {
            *asked.lock().unwrap() = Some((endpoint.id, event_type.clone()));
            let keys = SigningKeys::new(SigningSecret::generate().unwrap());
            answered_204(endpoint, keys, event_type).await
        },
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        body_json(&response),
        serde_json::json!({
            "success": true, "status": "delivered", "response_code": 204, "error": "",
            "event_id": "00000000-0000-0000-0000-000000000007", "event_type": "call.graded",
        })
    );
    assert_eq!(
        *asked.lock().unwrap(),
        Some((endpoint.id, EventType::CallGraded.into()))
    );

    let mut no_body = sample_event("send-test-delivery");
    no_body.as_object_mut().unwrap().remove("body");
    let response = handlers::send_test_delivery(&app, request(&no_body), answered_204)
        .await
        .unwrap();
    assert_eq!(body_json(&response)["event_type"], "webhook.test");

    let mut unknown_type = sample_event("send-test-delivery");
    unknown_type["body"] = r#"{"event_type": "call.incoming"}"#.into();
    let response = handlers::send_test_delivery(&app, request(&unknown_type), |_, _, _| async {
        panic!("nothing is sent for a bad request")
    })
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(body_json(&response)["errors"]["event_type"].is_array());
}

#[tokio::test]
async fn a_failed_test_delivery_is_still_a_200_that_says_why() {
    let app = app();
    seed(&app, SAMPLE_ORG).await;
    let response = handlers::send_test_delivery(
        &app,
        request(&sample_event("send-test-delivery")),
        |_, _, event_type| async move {
            TestDelivery {
                event_id: webhook_domain::EventId::from(uuid::Uuid::from_u128(8)),
                event_type,
                outcome: AttemptOutcome::Failed {
                    status: None,
                    category: FailureCategory::Timeout,
                },
                error: Some("timed out after 30 s".into()),
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = body_json(&response);
    assert_eq!(
        (
            &body["success"],
            &body["status"],
            &body["response_code"],
            &body["error"]
        ),
        (
            &Value::from(false),
            &Value::from("failed"),
            &Value::Null,
            &Value::from("timed out after 30 s")
        )
    );
}

/// Recover counts every delivery it queues against the organization's resend quota, queues what
/// the quota leaves and hands a cursor for the rest, then answers 429 with `Retry-After`; a
/// failing endpoint's recovered deliveries get one attempt each.
#[tokio::test]
async fn recover_spends_the_resend_quota_per_delivery_and_keeps_the_failing_rule() {
    use std::sync::Mutex;
    use webhook_domain::{EndpointStatus, PerMinute, ResentAttempts};

    let settings = Settings {
        resends: PerMinute::parse("3").unwrap(),
        ..Settings::default()
    };
    let clock = Arc::new(ManualClock::starting_at(at(1_795_770_904_113)));
    let app = App::new(MemoryStore::new(), settings)
        .with_cursor_key(webhook_api::CursorKey::random().unwrap())
        .with_clock(clock.clone());
    let secret = SigningSecret::generate().unwrap();
    let endpoint = Endpoint {
        id: EndpointId::parse(SAMPLE_ID).unwrap(),
        secret_hint: secret.hint(),
        status: EndpointStatus::Failing,
        ..fixtures::endpoint(SAMPLE_ORG)
    };
    app.store
        .create(&endpoint, &secret, 50, None)
        .await
        .unwrap();
    for n in 0..5 {
        keep(&app, &failed_record(SAMPLE_ORG, n)).await;
    }
    let mut event = sample_event("recover-endpoint");
    event["body"] = Value::String(r#"{"since": "2026-11-01T00:00:00Z"}"#.into());
    let queued = Mutex::new(Vec::new());
    let recover = |event: &Value| {
        let queued = &queued;
        handlers::recover_endpoint(&app, request(event), move |records, attempts| async move {
            queued.lock().unwrap().push((records.len(), attempts));
            Ok::<(), String>(())
        })
    };

    let first = recover(&event).await.unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let body = body_json(&first);
    assert_eq!(
        (&body["queued"], &body["has_more"]),
        (&3.into(), &true.into())
    );
    assert_eq!(*queued.lock().unwrap(), [(3, ResentAttempts::One)]);

    let cursor = body["next_cursor"].as_str().unwrap();
    event["body"] = Value::String(
        serde_json::json!({"since": "2026-11-01T00:00:00Z", "cursor": cursor}).to_string(),
    );
    let spent = recover(&event).await.unwrap();
    assert_eq!(spent.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(spent.headers().contains_key("retry-after"));
    assert!(
        body_json(&spent)["detail"]
            .as_str()
            .unwrap()
            .contains("resend or recover 3 deliveries a minute")
    );
    assert_eq!(queued.lock().unwrap().len(), 1, "nothing more queued");

    clock.advance(std::time::Duration::from_secs(60));
    let rest = recover(&event).await.unwrap();
    assert_eq!(
        body_json(&rest)["queued"],
        2,
        "the cursor goes on where the quota stopped"
    );
    assert_eq!(body_json(&rest)["has_more"], false);

    // A resend whose queue fails spends nothing: the minute's three go to the next ones.
    clock.advance(std::time::Duration::from_secs(60));
    let fresh: Vec<DeliveryRecord> = (10..13).map(|n| failed_record(SAMPLE_ORG, n)).collect();
    for record in &fresh {
        keep(&app, record).await;
    }
    let resend_of = |record: &DeliveryRecord| {
        let mut event = sample_event("resend-delivery");
        let path = format!(
            "/v1/developer/webhook-deliveries/{}/resend",
            record.event_id
        );
        event["rawPath"] = path.clone().into();
        event["requestContext"]["http"]["path"] = path.into();
        event["pathParameters"] = serde_json::json!({"event_id": record.event_id.to_string()});
        event["body"] = serde_json::json!({"endpoint_id": SAMPLE_ID})
            .to_string()
            .into();
        request(&event)
    };
    let failed = handlers::resend_delivery(&app, resend_of(&fresh[0]), |_, _| async {
        Err("the queue is down")
    })
    .await
    .unwrap();
    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    for record in &fresh {
        let resent = handlers::resend_delivery(&app, resend_of(record), |_, _| async {
            Ok::<(), String>(())
        })
        .await
        .unwrap();
        assert_eq!(
            resent.status(),
            StatusCode::ACCEPTED,
            "{:?}",
            body_json(&resent)
        );
    }
}
