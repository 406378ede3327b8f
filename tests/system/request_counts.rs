//! Each happy-path API request costs exactly one DynamoDB request, counted at the SDK.

use serde_json::json;
use system_tests::{ORG_A_ADMIN, moto_store, start_with};
use webhook_api::Settings;

#[tokio::test]
async fn every_api_request_is_one_dynamodb_request() {
    let (store, counter) = moto_store().await;
    let api = start_with(store, Settings::default()).await;

    let mut ids = Vec::new();
    for i in 0..50 {
        let created = api.create_ok(ORG_A_ADMIN, &format!("endpoint {i}")).await;
        assert_eq!(counter.take(), 1, "create #{i} (limit check included)");
        ids.push(created["id"].as_str().unwrap().to_owned());
    }

    let listed = api.list(ORG_A_ADMIN).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 50);
    assert_eq!(counter.take(), 1, "listing 50 endpoints is one Query page");

    let patched = api
        .patch(
            ORG_A_ADMIN,
            &ids[0],
            json!({"label": "renamed", "events": ["web.tool"]}),
        )
        .await;
    assert_eq!(patched.status, 200);
    assert_eq!(counter.take(), 1, "update");

    api.patch(ORG_A_ADMIN, &ids[0], json!({"label": "renamed"}))
        .await;
    assert_eq!(counter.take(), 1, "an update that changes nothing");

    api.patch(ORG_A_ADMIN, &ids[0], json!({})).await;
    assert_eq!(counter.take(), 1, "an empty update");

    assert_eq!(api.delete(ORG_A_ADMIN, &ids[1]).await.status, 204);
    assert_eq!(counter.take(), 1, "delete");

    let refused = api
        .create(ORG_A_ADMIN, json!({"label": "bad", "url": "ftp://x"}))
        .await;
    assert_eq!(refused.status, 400);
    assert_eq!(counter.take(), 0, "invalid input never reaches DynamoDB");
}
