//! `Idempotency-Key` over HTTP on both stores: a retried create, rotation or test answers what
//! the first call answered and does nothing twice.

use serde_json::json;
use system_tests::{
    Answer, Api, Backend, COLLECTION, ORG_A_ADMIN, ORG_A_OWNER, ORG_B_ADMIN, Reply, receiver,
};

async fn keyed(api: &Api, path: &str, org_key: &str, key: &str, body: Option<&str>) -> Reply {
    api.send_with(
        "POST",
        path,
        Some(org_key),
        body.map(str::to_owned),
        &[("idempotency-key", key)],
    )
    .await
}

pub async fn a_retried_create_answers_the_first_call_and_creates_once(backend: Backend) {
    let api = system_tests::start(backend, webhook_api::Settings::default()).await;
    let body = r#"{"label": "Once", "url": "https://hooks.example.com/once"}"#;
    let first = keyed(&api, COLLECTION, ORG_A_ADMIN, "create-1", Some(body)).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    // Spacing and key order do not make another request.
    let same = r#"{ "url": "https://hooks.example.com/once",  "label": "Once" }"#;
    let again = keyed(&api, COLLECTION, ORG_A_ADMIN, "create-1", Some(same)).await;
    assert_eq!(
        (again.status, &again.body),
        (201, &first.body),
        "same status, body, secret"
    );
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.headers["cache-control"], "no-store");
    assert_eq!(
        api.list(ORG_A_ADMIN).await.body.as_array().unwrap().len(),
        1
    );

    let other = r#"{"label": "Twice", "url": "https://hooks.example.com/once"}"#;
    let conflict = keyed(&api, COLLECTION, ORG_A_ADMIN, "create-1", Some(other)).await;
    assert_eq!(conflict.status, 409);
    assert!(
        conflict.detail().contains("different request"),
        "{:?}",
        conflict.body
    );
    // The same API key, however its header is spelled, is the same caller.
    let spelled = format!("bearer   {ORG_A_ADMIN} ");
    let respelled = api
        .send_with(
            "POST",
            COLLECTION,
            None,
            Some(body.into()),
            &[("idempotency-key", "create-1"), ("authorization", &spelled)],
        )
        .await;
    assert_eq!((respelled.status, &respelled.body), (201, &first.body));
    // A key is replayed only to the credential that first used it: another admin key of the
    // same organization gets no secret from it.
    let stranger = keyed(&api, COLLECTION, ORG_A_OWNER, "create-1", Some(body)).await;
    assert_eq!(stranger.status, 409, "{:?}", stranger.body);
    assert!(!stranger.body.to_string().contains("whsec_"));
    // After the secret changed, a replay would pair the old secret with the new hint.
    let id = first.body["id"].as_str().unwrap();
    let rotated = api
        .send(
            "POST",
            &format!("{COLLECTION}/{id}/rotate-secret"),
            Some(ORG_A_ADMIN),
            Some(r#"{"expire_previous_after_hours": 1}"#.into()),
        )
        .await;
    assert_eq!(rotated.status, 200);
    let stale = keyed(&api, COLLECTION, ORG_A_ADMIN, "create-1", Some(body)).await;
    assert_eq!(stale.status, 409, "{:?}", stale.body);
    assert!(
        stale.detail().contains("secret changed"),
        "{:?}",
        stale.body
    );
    // Keys are per organization.
    let elsewhere = keyed(&api, COLLECTION, ORG_B_ADMIN, "create-1", Some(body)).await;
    assert_eq!(elsewhere.status, 201);
    assert_ne!(elsewhere.body["id"], first.body["id"]);
    // Without a key, a second create is a second endpoint, as before.
    assert_eq!(
        api.send("POST", COLLECTION, Some(ORG_A_ADMIN), Some(body.into()))
            .await
            .status,
        201
    );
    assert_eq!(
        api.list(ORG_A_ADMIN).await.body.as_array().unwrap().len(),
        2
    );

    for bad in ["", &"k".repeat(256), "caf\u{e9}"] {
        let refused = keyed(&api, COLLECTION, ORG_A_ADMIN, bad, Some(body)).await;
        assert_eq!(refused.status, 400, "{bad:?}");
        assert!(refused.detail().contains("Idempotency-Key"));
    }
    // An invalid body is refused before the key is looked at, and does not use it up.
    let invalid = keyed(&api, COLLECTION, ORG_A_ADMIN, "create-2", Some("{}")).await;
    assert_eq!(invalid.status, 400);
    let valid = keyed(&api, COLLECTION, ORG_A_ADMIN, "create-2", Some(body)).await;
    assert_eq!(valid.status, 201);

    // Once the endpoint is deleted there is nothing to replay.
    let id = first.body["id"].as_str().unwrap();
    assert_eq!(api.delete(ORG_A_ADMIN, id).await.status, 204);
    let gone = keyed(&api, COLLECTION, ORG_A_ADMIN, "create-1", Some(body)).await;
    assert_eq!(gone.status, 409);
    assert!(!gone.detail().is_empty());
}

pub async fn a_retried_rotation_or_test_happens_once(backend: Backend) {
    let api = system_tests::start_delivering_on(backend, "1s".parse().unwrap(), true).await;
    let (port, got) = receiver(vec![Answer::Status(204)]).await;
    let created = api
        .create(
            ORG_A_ADMIN,
            json!({"label": "Rotated", "url": format!("http://127.0.0.1:{port}/hook")}),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let rotate = format!("{COLLECTION}/{id}/rotate-secret");
    let first = keyed(&api, &rotate, ORG_A_ADMIN, "rotate-1", None).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let again = keyed(&api, &rotate, ORG_A_ADMIN, "rotate-1", Some("{}")).await;
    assert_eq!((again.status, &again.body), (200, &first.body));
    let hours = r#"{"expire_previous_after_hours": 2}"#;
    assert_eq!(
        keyed(&api, &rotate, ORG_A_ADMIN, "rotate-1", Some(hours))
            .await
            .status,
        409
    );
    let listed = api.list(ORG_A_ADMIN).await;
    assert_eq!(
        listed.body[0]["secret_hint"], first.body["secret_hint"],
        "rotated once"
    );

    let test = format!("{COLLECTION}/{id}/test");
    let sent = keyed(&api, &test, ORG_A_ADMIN, "test-1", None).await;
    assert_eq!(sent.status, 200, "{:?}", sent.body);
    let resent = keyed(&api, &test, ORG_A_ADMIN, "test-1", None).await;
    assert_eq!((resent.status, &resent.body), (200, &sent.body));
    assert_eq!(resent.headers["idempotent-replayed"], "true");
    system_tests::wait_for(&got, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(got.count(), 1, "one test sent");

    // The legacy rotation too.
    let url = json!({"url": "https://legacy.example.com/hook"}).to_string();
    assert_eq!(
        api.send("PUT", "/v1/webhook", Some(ORG_A_ADMIN), Some(url))
            .await
            .status,
        200
    );
    let legacy = keyed(
        &api,
        "/v1/webhook/rotate-secret",
        ORG_A_ADMIN,
        "legacy-1",
        None,
    )
    .await;
    assert_eq!(legacy.status, 200);
    let legacy_again = keyed(
        &api,
        "/v1/webhook/rotate-secret",
        ORG_A_ADMIN,
        "legacy-1",
        None,
    )
    .await;
    assert_eq!(
        (legacy_again.status, &legacy_again.body),
        (200, &legacy.body)
    );
    let read = api
        .send("GET", "/v1/webhook", Some(ORG_A_ADMIN), None)
        .await;
    assert_eq!(read.body["secret"], legacy.body["secret"], "rotated once");

    // Once the endpoint is deleted, a repeat of its rotation has nothing to replay: a 409, as
    // for a create. A rotation not asked before is a 404.
    assert_eq!(api.delete(ORG_A_ADMIN, &id).await.status, 204);
    let gone = keyed(&api, &rotate, ORG_A_ADMIN, "rotate-1", None).await;
    assert_eq!(gone.status, 409, "{:?}", gone.body);
    assert!(
        gone.detail().contains("no longer exists"),
        "{:?}",
        gone.body
    );
    let unknown = keyed(&api, &rotate, ORG_A_ADMIN, "rotate-2", None).await;
    assert_eq!(unknown.status, 404);
}
