//! The API over HTTP, through dev-server, on the embedded store and on DynamoDB (moto): every
//! rule of the endpoints API as a caller sees it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod authorizer;
mod aws_destinations;
mod deliveries;
mod delivery_aws;
mod delivery_cost;
mod dev_events;
mod dev_server;
mod health;
mod idempotency;
mod legacy;
mod request_counts;
mod sweeper;

use aws_destinations::aws_destination_rules;
use base64::Engine;
use deliveries::*;
use dev_events::{
    a_blocking_event_answers_with_the_receivers_answer,
    the_same_event_published_twice_is_delivered_once,
};
use health::the_stats_route_shows_an_endpoints_health;
use idempotency::*;
use serde_json::{Value, json};
use system_tests::{
    Api, Backend, COLLECTION, ORG_A_ADMIN, ORG_A_MEMBER, ORG_A_OWNER, ORG_B_ADMIN, start,
};
use webhook_api::Settings;

macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(#[tokio::test]
            async fn $name() {
                super::$name(system_tests::Backend::Embedded).await
            })*
        }
        mod moto {
            $(#[tokio::test]
            async fn $name() {
                super::$name(system_tests::Backend::Moto).await
            })*
        }
    };
}

on_both_stores! {
    aws_destination_rules,
    test_deliveries_report_what_the_receiver_did,
    test_deliveries_keep_to_the_address_rules,
    the_log_follows_events_to_endpoints_and_the_legacy_url,
    the_full_lifecycle,
    lists_oldest_first,
    only_admins_and_owners_get_in,
    organizations_never_see_each_other,
    label_rules,
    url_rules,
    event_rules,
    status_rules,
    agent_rules,
    unknown_fields_are_refused_and_nothing_is_written,
    bodies_that_are_not_objects_are_clear_400s,
    oversized_bodies_are_413,
    ids_that_name_nothing_are_404,
    an_empty_patch_changes_nothing,
    the_per_org_limit_is_a_400,
    secrets_follow_the_standard_webhooks_format,
    the_same_event_published_twice_is_delivered_once,
    a_blocking_event_answers_with_the_receivers_answer,
    a_failed_delivery_is_kept_with_its_body_and_resent_once_repaired,
    recover_resends_an_endpoints_failed_deliveries_since_a_time,
    a_retried_create_answers_the_first_call_and_creates_once,
    a_retried_rotation_or_test_happens_once,
    the_stats_route_shows_an_endpoints_health,
    the_test_route_is_limited_per_organization,
    concurrent_rotations_leave_one_secret_that_signs,
    custom_headers_are_validated_shown_and_sent_with_every_attempt,
    a_rate_limit_is_validated_shown_and_lowered_by_a_429,
    every_attempt_continues_the_events_trace,
}

async fn api(backend: Backend) -> Api {
    start(backend, Settings::default()).await
}

const TIMESTAMP_LEN: usize = "2026-04-20T18:24:10.113Z".len();

fn assert_timestamp(value: &Value) {
    let text = value.as_str().unwrap();
    assert_eq!(text.len(), TIMESTAMP_LEN, "{text}");
    assert!(text.ends_with('Z') && text.as_bytes()[19] == b'.', "{text}");
}

async fn the_full_lifecycle(backend: Backend) {
    let api = api(backend).await;
    let created = api
        .create(
            ORG_A_ADMIN,
            json!({"label": "  Billing  ", "url": "https://hooks.example.com/tp", "events": ["call.graded"], "agent_id": 12}),
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.headers["content-type"], "application/json");
    let endpoint = created.body;
    let id = endpoint["id"].as_str().unwrap();
    assert_eq!(
        uuid::Uuid::parse_str(id).unwrap().get_version_num(),
        7,
        "time-ordered ids"
    );
    assert_eq!(endpoint["label"], "Billing");
    assert_eq!(endpoint["events"], json!(["call.graded"]));
    assert_eq!(endpoint["status"], "active");
    assert_eq!(endpoint["agent_id"], 12);
    assert_eq!(endpoint["agent_name"], Value::Null);
    assert_timestamp(&endpoint["created_at"]);
    assert_eq!(endpoint["created_at"], endpoint["updated_at"]);
    let secret = endpoint["secret"].as_str().unwrap().to_owned();

    let listed = api.list(ORG_A_ADMIN).await;
    assert_eq!(listed.status, 200);
    let mut without_secret = endpoint.clone();
    without_secret.as_object_mut().unwrap().remove("secret");
    assert_eq!(listed.body, json!([without_secret]));

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let patched = api
        .patch(
            ORG_A_OWNER,
            id,
            json!({"label": "Billing v2", "status": "disabled", "agent_id": null}),
        )
        .await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert_eq!(patched.body["label"], "Billing v2");
    assert_eq!(patched.body["status"], "disabled");
    assert_eq!(patched.body["agent_id"], Value::Null);
    assert_eq!(patched.body["url"], "https://hooks.example.com/tp");
    assert_eq!(patched.body["created_at"], endpoint["created_at"]);
    assert!(patched.body["updated_at"].as_str() > endpoint["updated_at"].as_str());
    assert!(patched.body.get("secret").is_none());
    assert_eq!(api.list(ORG_A_ADMIN).await.body, json!([patched.body]));

    for reply in [api.list(ORG_A_ADMIN).await, patched] {
        assert!(!reply.body.to_string().contains(&secret));
    }

    let deleted = api.delete(ORG_A_ADMIN, id).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(deleted.body, Value::Null);
    assert_eq!(api.list(ORG_A_ADMIN).await.body, json!([]));
    assert_eq!(api.delete(ORG_A_ADMIN, id).await.status, 404);
}

async fn lists_oldest_first(backend: Backend) {
    let api = api(backend).await;
    let mut ids = Vec::new();
    for label in ["one", "two", "three", "four"] {
        ids.push(api.create_ok(ORG_A_ADMIN, label).await["id"].clone());
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let listed = api.list(ORG_A_ADMIN).await.body;
    let listed_ids: Vec<Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].clone())
        .collect();
    assert_eq!(listed_ids, ids);
}

async fn only_admins_and_owners_get_in(backend: Backend) {
    let api = api(backend).await;
    let id = api.create_ok(ORG_A_ADMIN, "guarded").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let item = format!("{COLLECTION}/{id}");
    let routes = [
        ("GET", COLLECTION, None),
        (
            "POST",
            COLLECTION,
            Some(json!({"label": "x", "url": "https://example.com"}).to_string()),
        ),
        (
            "PATCH",
            item.as_str(),
            Some(json!({"label": "hijacked"}).to_string()),
        ),
        ("DELETE", item.as_str(), None),
    ];
    for (method, path, body) in &routes {
        for (key, status) in [
            (None, 401),
            (Some("sk_unknown"), 401),
            (Some(ORG_A_MEMBER), 403),
        ] {
            let reply = api.send(method, path, key, body.clone()).await;
            assert_eq!(reply.status, status, "{method} {path} as {key:?}");
            assert!(!reply.detail().is_empty());
        }
    }
    let listed = api.list(ORG_A_OWNER).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert_eq!(listed.body[0]["label"], "guarded");
}

async fn organizations_never_see_each_other(backend: Backend) {
    let api = api(backend).await;
    let mine = api.create_ok(ORG_A_ADMIN, "org A's").await;
    let id = mine["id"].as_str().unwrap();
    assert_eq!(api.list(ORG_B_ADMIN).await.body, json!([]));
    let stolen = api
        .patch(ORG_B_ADMIN, id, json!({"url": "https://evil.example/"}))
        .await;
    assert_eq!(stolen.status, 404);
    let unknown = api
        .patch(
            ORG_B_ADMIN,
            &uuid::Uuid::new_v4().to_string(),
            json!({"label": "x"}),
        )
        .await;
    assert_eq!(
        stolen.body, unknown.body,
        "another org's endpoint looks exactly like an unknown one"
    );
    assert_eq!(api.patch(ORG_B_ADMIN, id, json!({})).await.status, 404);
    assert_eq!(api.delete(ORG_B_ADMIN, id).await.status, 404);
    let listed = api.list(ORG_A_ADMIN).await.body;
    assert_eq!(listed[0]["url"], "https://example.com/hook");
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

async fn label_rules(backend: Backend) {
    let api = api(backend).await;
    for bad in [
        json!(""),
        json!("   "),
        json!("x".repeat(121)),
        json!("a\u{0007}b"),
        json!(7),
        json!(null),
    ] {
        let reply = api
            .create(
                ORG_A_ADMIN,
                json!({"label": bad, "url": "https://example.com"}),
            )
            .await;
        assert_eq!(reply.status, 400, "{bad}");
        assert_eq!(reply.field_errors("label").len(), 1);
        assert!(reply.detail().contains("label"));
    }
    let missing = api
        .create(ORG_A_ADMIN, json!({"url": "https://example.com"}))
        .await;
    assert_eq!(missing.field_errors("label"), ["This field is required."]);
    let widest = "界".repeat(120);
    let ok = api
        .create(
            ORG_A_ADMIN,
            json!({"label": format!(" {widest} "), "url": "https://example.com"}),
        )
        .await;
    assert_eq!(ok.status, 201);
    assert_eq!(ok.body["label"], widest.as_str());
    let id = ok.body["id"].as_str().unwrap();
    assert_eq!(
        api.patch(ORG_A_ADMIN, id, json!({"label": ""}))
            .await
            .status,
        400
    );
    assert_eq!(
        api.list(ORG_A_ADMIN).await.body[0]["label"],
        widest.as_str()
    );
}

async fn url_rules(backend: Backend) {
    let api = api(backend).await;
    let long = format!("https://example.com/{}", "a".repeat(2040));
    for bad in [
        "http://example.com/hook",
        "ftp://example.com/hook",
        "example.com/hook",
        "/relative",
        "https://user:pass@example.com/hook",
        "https://example.com/hook#section",
        long.as_str(),
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.5/hook",
        "https://192.168.1.1/hook",
        "https://172.16.0.1/hook",
        "https://127.0.0.2/hook",
        "https://[fe80::1]/hook",
        "https://[fd00::1]/hook",
        "https://0.0.0.0/hook",
        "http://10.0.0.5/hook",
    ] {
        let reply = api
            .create(ORG_A_ADMIN, json!({"label": "x", "url": bad}))
            .await;
        assert_eq!(reply.status, 400, "{bad}");
        assert_eq!(reply.field_errors("url").len(), 1, "{bad}");
    }
    for good in [
        "https://hooks.example.com/tp?x=1",
        "http://localhost:4000/hook",
        "http://127.0.0.1:4000/hook",
        "http://[::1]:4000/hook",
    ] {
        let reply = api
            .create(ORG_A_ADMIN, json!({"label": "x", "url": good}))
            .await;
        assert_eq!(reply.status, 201, "{good}: {:?}", reply.body);
        assert_eq!(reply.body["url"], good);
    }
    assert_eq!(
        api.list(ORG_A_ADMIN).await.body.as_array().unwrap().len(),
        4
    );
}

async fn event_rules(backend: Backend) {
    let api = api(backend).await;
    let bad = api
        .create(ORG_A_ADMIN, json!({"label": "x", "url": "https://example.com", "events": ["call.graded", "call.incoming"]}))
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.field_errors("events")[0].contains("call.incoming"));
    assert!(bad.detail().contains("call.incoming"));
    for wrong in [
        json!("call.graded"),
        json!([1]),
        json!(null),
        json!({"a": 1}),
    ] {
        let reply = api
            .create(
                ORG_A_ADMIN,
                json!({"label": "x", "url": "https://example.com", "events": wrong}),
            )
            .await;
        assert_eq!(reply.status, 400, "{wrong}");
    }
    // The official client's catalogue of 19, in an order of the caller's choosing.
    let all_nineteen = [
        "telephony.incoming",
        "telephony.complete",
        "telephony.tool",
        "telephony.turn",
        "web.incoming",
        "web.complete",
        "web.tool",
        "web.turn",
        "call.graded",
        "call.data_extracted",
        "call.transfer_completed",
        "issue.reported",
        "issue.escalated",
        "sms.sent",
        "sms.failed",
        "sms.received",
        "campaign.completed",
        "alert.triggered",
        "test-call.completed",
    ];
    let every = api
        .create(
            ORG_A_ADMIN,
            json!({"label": "x", "url": "https://example.com", "events": all_nineteen}),
        )
        .await;
    assert_eq!(every.body["events"], json!(all_nineteen));
    let dupes = api
        .create(ORG_A_ADMIN, json!({"label": "x", "url": "https://example.com", "events": ["web.tool", "call.graded", "web.tool"]}))
        .await;
    assert_eq!(dupes.body["events"], json!(["web.tool", "call.graded"]));
    let omitted = api.create_ok(ORG_A_ADMIN, "all").await;
    assert_eq!(omitted["events"], json!([]));
    let id = dupes.body["id"].as_str().unwrap();
    let cleared = api.patch(ORG_A_ADMIN, id, json!({"events": []})).await;
    assert_eq!(cleared.body["events"], json!([]));
}

async fn status_rules(backend: Backend) {
    let api = api(backend).await;
    let paused = api
        .create(
            ORG_A_ADMIN,
            json!({"label": "x", "url": "https://example.com", "status": "disabled"}),
        )
        .await;
    assert_eq!(paused.body["status"], "disabled");
    let failing = api
        .create(
            ORG_A_ADMIN,
            json!({"label": "x", "url": "https://example.com", "status": "failing"}),
        )
        .await;
    assert_eq!(failing.status, 400);
    assert!(failing.field_errors("status")[0].contains("server"));
    let id = paused.body["id"].as_str().unwrap();
    for bad in [json!("failing"), json!("paused"), json!(true)] {
        assert_eq!(
            api.patch(ORG_A_ADMIN, id, json!({"status": bad}))
                .await
                .status,
            400,
            "{bad}"
        );
    }
    let active = api
        .patch(ORG_A_ADMIN, id, json!({"status": "active"}))
        .await;
    assert_eq!(active.body["status"], "active");
    assert_eq!(
        api.list(ORG_A_ADMIN).await.body.as_array().unwrap().len(),
        1
    );
}

async fn agent_rules(backend: Backend) {
    let api = api(backend).await;
    let scoped = api
        .create(
            ORG_A_ADMIN,
            json!({"label": "x", "url": "https://example.com", "agent_id": 9}),
        )
        .await;
    assert_eq!(scoped.body["agent_id"], 9);
    let id = scoped.body["id"].as_str().unwrap();
    for bad in [json!(0), json!(-1), json!("9"), json!(1.5), json!(true)] {
        let reply = api.patch(ORG_A_ADMIN, id, json!({"agent_id": bad})).await;
        assert_eq!(reply.status, 400, "{bad}");
        assert_eq!(reply.field_errors("agent_id").len(), 1);
    }
    let moved = api.patch(ORG_A_ADMIN, id, json!({"agent_id": 10})).await;
    assert_eq!(moved.body["agent_id"], 10);
    let cleared = api.patch(ORG_A_ADMIN, id, json!({"agent_id": null})).await;
    assert_eq!(cleared.body["agent_id"], Value::Null);
    let unscoped = api
        .create(
            ORG_A_ADMIN,
            json!({"label": "y", "url": "https://example.com", "agent_id": null}),
        )
        .await;
    assert_eq!(unscoped.body["agent_id"], Value::Null);
}

async fn unknown_fields_are_refused_and_nothing_is_written(backend: Backend) {
    let api = api(backend).await;
    let existing = api.create_ok(ORG_A_ADMIN, "existing").await;
    let id = existing["id"].as_str().unwrap();
    for field in [
        "secret",
        "id",
        "secret_hint",
        "created_at",
        "updated_at",
        "lable",
    ] {
        let create = api
            .create(
                ORG_A_ADMIN,
                json!({"label": "x", "url": "https://example.com", field: "whsec_mine"}),
            )
            .await;
        assert_eq!(create.status, 400, "{field}");
        assert_eq!(create.field_errors(field).len(), 1);
        assert!(create.detail().contains(field));
        let patch = api
            .patch(ORG_A_ADMIN, id, json!({"label": "changed", field: "x"}))
            .await;
        assert_eq!(patch.status, 400, "{field}");
        assert_eq!(patch.field_errors(field).len(), 1);
    }
    let listed = api.list(ORG_A_ADMIN).await.body;
    let mut expected = existing.clone();
    expected.as_object_mut().unwrap().remove("secret");
    assert_eq!(
        listed,
        json!([expected]),
        "no create and no partial update happened"
    );
}

async fn bodies_that_are_not_objects_are_clear_400s(backend: Backend) {
    let api = api(backend).await;
    let id = api.create_ok(ORG_A_ADMIN, "target").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let item = format!("{COLLECTION}/{id}");
    for body in [
        "{",
        "not json",
        "[]",
        "null",
        "42",
        "\"text\"",
        "{\"label\": \"x\",}",
    ] {
        for (method, path) in [("POST", COLLECTION), ("PATCH", item.as_str())] {
            let reply = api
                .send(method, path, Some(ORG_A_ADMIN), Some(body.to_owned()))
                .await;
            assert_eq!(reply.status, 400, "{method} {body:?}");
            assert!(!reply.detail().is_empty());
        }
    }
    // No body at all is `{}`, as the official client sends a PATCH without fields.
    let created = api.send("POST", COLLECTION, Some(ORG_A_ADMIN), None).await;
    assert_eq!(created.status, 400);
    assert_eq!(created.field_errors("label"), ["This field is required."]);
    let unchanged = api.send("PATCH", &item, Some(ORG_A_ADMIN), None).await;
    assert_eq!(unchanged.status, 200, "{:?}", unchanged.body);
    assert_eq!(unchanged.body, api.list(ORG_A_ADMIN).await.body[0]);
    assert_eq!(
        api.list(ORG_A_ADMIN).await.body.as_array().unwrap().len(),
        1
    );
    assert_eq!(api.list(ORG_A_ADMIN).await.body[0]["label"], "target");
}

async fn oversized_bodies_are_413(backend: Backend) {
    let api = api(backend).await;
    let huge =
        json!({"label": "x", "url": "https://example.com", "padding": "a".repeat(70 * 1024)});
    let reply = api.create(ORG_A_ADMIN, huge).await;
    assert_eq!(reply.status, 413);
    assert!(reply.detail().contains("64"));
    assert_eq!(api.list(ORG_A_ADMIN).await.body, json!([]));
}

async fn ids_that_name_nothing_are_404(backend: Backend) {
    let api = api(backend).await;
    api.create_ok(ORG_A_ADMIN, "real").await;
    for id in ["not-a-uuid", "12345", &uuid::Uuid::new_v4().to_string()] {
        let patch = api.patch(ORG_A_ADMIN, id, json!({"label": "x"})).await;
        assert_eq!(patch.status, 404, "{id}");
        assert!(!patch.detail().is_empty());
        assert_eq!(api.delete(ORG_A_ADMIN, id).await.status, 404, "{id}");
    }
    let unrouted = api
        .send("GET", "/v1/nothing-here", Some(ORG_A_ADMIN), None)
        .await;
    assert_eq!(unrouted.status, 404);
    assert!(!unrouted.detail().is_empty());
}

async fn an_empty_patch_changes_nothing(backend: Backend) {
    let api = api(backend).await;
    let created = api.create_ok(ORG_A_ADMIN, "stable").await;
    let id = created["id"].as_str().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let same = api.patch(ORG_A_ADMIN, id, json!({})).await;
    assert_eq!(same.status, 200);
    let mut expected = created.clone();
    expected.as_object_mut().unwrap().remove("secret");
    assert_eq!(same.body, expected);
    let same_values = api
        .patch(
            ORG_A_ADMIN,
            id,
            json!({"label": "stable", "status": "active"}),
        )
        .await;
    assert_eq!(
        same_values.body, expected,
        "values equal to the stored ones are no change"
    );
}

async fn the_per_org_limit_is_a_400(backend: Backend) {
    let api = start(
        backend,
        Settings {
            max_endpoints_per_org: 3,
            ..Settings::default()
        },
    )
    .await;
    for i in 0..3 {
        api.create_ok(ORG_A_ADMIN, &format!("e{i}")).await;
    }
    let refused = api
        .create(
            ORG_A_ADMIN,
            json!({"label": "e3", "url": "https://example.com"}),
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(refused.detail().contains('3'), "{}", refused.detail());
    assert_eq!(
        api.list(ORG_A_ADMIN).await.body.as_array().unwrap().len(),
        3
    );
    api.create_ok(ORG_B_ADMIN, "other org is not affected")
        .await;
}

async fn secrets_follow_the_standard_webhooks_format(backend: Backend) {
    let api = api(backend).await;
    let a = api.create_ok(ORG_A_ADMIN, "a").await;
    let b = api.create_ok(ORG_A_ADMIN, "b").await;
    for created in [&a, &b] {
        let secret = created["secret"].as_str().unwrap();
        let key = secret.strip_prefix("whsec_").unwrap();
        assert_eq!(key.len(), 32);
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(key)
                .unwrap()
                .len(),
            24
        );
        assert_eq!(
            created["secret_hint"],
            format!("whsec_…{}", &secret[secret.len() - 6..])
        );
    }
    assert_ne!(a["secret"], b["secret"]);
    assert_eq!(
        a.as_object().unwrap().len(),
        11,
        "the product page's ten fields plus secret"
    );
}
