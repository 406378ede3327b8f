//! The legacy single-URL webhook over HTTP: `GET`, `PUT`, `PATCH /v1/webhook`.

use serde_json::{Value, json};
use system_tests::{Backend, ORG_A_ADMIN, ORG_A_MEMBER, ORG_B_ADMIN, start};
use webhook_api::Settings;

const LEGACY: &str = "/v1/webhook";

async fn legacy_webhook_lifecycle(backend: Backend) {
    let api = start(backend, Settings::default()).await;
    let send = |method: &'static str, key: &'static str, body: Option<Value>| {
        let api = &api;
        async move {
            api.send(method, LEGACY, Some(key), body.map(|b| b.to_string()))
                .await
        }
    };
    let none = send("GET", ORG_A_ADMIN, None).await;
    assert_eq!(none.status, 404);
    assert!(none.detail().contains("No webhook URL"));
    assert_eq!(
        send("PATCH", ORG_A_ADMIN, Some(json!({}))).await.status,
        404
    );

    let created = send(
        "PUT",
        ORG_A_ADMIN,
        Some(json!({"url": "https://legacy.example.com/a"})),
    )
    .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    assert_eq!(created.headers["cache-control"], "no-store");
    let mut fields: Vec<&str> = created
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["created_at", "secret", "updated_at", "url"]);
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_") && secret.len() == 38);

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let patched = send(
        "PATCH",
        ORG_A_ADMIN,
        Some(json!({"url": "https://legacy.example.com/b"})),
    )
    .await;
    assert_eq!(patched.body["url"], "https://legacy.example.com/b");
    assert_eq!(patched.body["secret"], secret.as_str(), "the secret stays");
    assert_eq!(patched.body["created_at"], created.body["created_at"]);
    assert!(patched.body["updated_at"].as_str() > created.body["updated_at"].as_str());
    assert_eq!(
        send("GET", ORG_A_ADMIN, None).await.body,
        patched.body,
        "readable back, secret included"
    );
    assert_eq!(
        send("PATCH", ORG_A_ADMIN, Some(json!({}))).await.body,
        patched.body
    );

    for bad in [
        json!({}),
        json!({"url": "http://example.com"}),
        json!({"url": "https://10.0.0.1/"}),
        json!({"url": "https://e.com", "secret": "x"}),
    ] {
        let reply = send("PUT", ORG_A_ADMIN, Some(bad.clone())).await;
        assert_eq!(reply.status, 400, "{bad}");
        assert!(reply.body["errors"].is_object());
    }
    assert_eq!(
        send("GET", ORG_A_ADMIN, None).await.body,
        patched.body,
        "nothing written by bad input"
    );
    assert_eq!(send("GET", ORG_A_MEMBER, None).await.status, 403);
    assert_eq!(api.send("GET", LEGACY, None, None).await.status, 401);
    assert_eq!(
        send("GET", ORG_B_ADMIN, None).await.status,
        404,
        "one URL per organization"
    );
}

#[tokio::test]
async fn legacy_webhook_on_the_embedded_store() {
    legacy_webhook_lifecycle(Backend::Embedded).await
}

#[tokio::test]
async fn legacy_webhook_on_dynamodb() {
    legacy_webhook_lifecycle(Backend::Moto).await
}
