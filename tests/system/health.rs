//! `GET .../webhook-endpoints/{endpoint_id}/stats` over HTTP on both stores: what an endpoint's
//! deliveries came to, from its stats item.

use serde_json::{Value, json};
use system_tests::{
    Answer, Api, Backend, COLLECTION, ORG_A_ADMIN, ORG_A_MEMBER, ORG_B_ADMIN, receiver, wait_for,
};

async fn stats(api: &Api, key: &str, id: &str) -> system_tests::Reply {
    api.send("GET", &format!("{COLLECTION}/{id}/stats"), Some(key), None)
        .await
}

/// The stats once `attempts` attempts are counted; the count is written just after the
/// receiver answers, so this waits for that write.
async fn stats_after(api: &Api, id: &str, attempts: u64) -> Value {
    for _ in 0..100 {
        let reply = stats(api, ORG_A_ADMIN, id).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        if reply.body["attempts_24h"] == attempts {
            return reply.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{attempts} attempts were never counted");
}

pub async fn the_stats_route_shows_an_endpoints_health(backend: Backend) {
    let api = system_tests::start_delivering_on(backend, "100ms".parse().unwrap(), true).await;
    let (port, got) = receiver(vec![Answer::Status(503)]).await;
    let created = api
        .create(
            ORG_A_ADMIN,
            json!({"label": "watched", "url": format!("http://127.0.0.1:{port}/hook")}),
        )
        .await;
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().unwrap().to_owned();

    let mut fresh = stats(&api, ORG_A_ADMIN, &id).await;
    assert_eq!(fresh.status, 200, "{:?}", fresh.body);
    let hourly = fresh.body["hourly"].take();
    let hours = hourly.as_array().unwrap();
    assert_eq!(hours.len(), 24, "the last day, hour by hour");
    assert!(
        hours
            .iter()
            .all(|hour| hour["successes"] == 0 && hour["failures"] == 0)
    );
    assert!(
        hours[0]["hour"].as_str() < hours[23]["hour"].as_str(),
        "oldest first"
    );
    assert_eq!(
        fresh.body,
        json!({
            "endpoint_id": id, "status": "active", "failing_since": null,
            "last_attempt_at": null, "last_success_at": null, "last_failure_at": null,
            "last_http_status": null, "last_failure_category": null,
            "attempts_24h": 0, "successes_24h": 0, "failures_24h": 0, "effective_rate": null,
            "previous_secret_expires_at": null, "hourly": null,
        })
    );

    let event = json!({"type": "call.graded", "data": {"call_id": 1}}).to_string();
    let published = api
        .send("POST", "/_dev/events", Some(ORG_A_ADMIN), Some(event))
        .await;
    assert_eq!(published.status, 202);
    wait_for(&got, 2).await;
    let health = stats_after(&api, &id, 2).await;
    assert_eq!(
        (&health["successes_24h"], &health["failures_24h"]),
        (&json!(1), &json!(1))
    );
    let this_hour = &health["hourly"][23];
    assert_eq!(
        (&this_hour["successes"], &this_hour["failures"]),
        (&json!(1), &json!(1))
    );
    assert_eq!(health["last_http_status"], 200);
    assert_eq!(health["last_failure_category"], "http_error");
    assert_eq!(health["failing_since"], Value::Null, "the success ended it");
    assert!(health["last_failure_at"].as_str() < health["last_success_at"].as_str());
    assert_eq!(health["last_attempt_at"], health["last_success_at"]);

    let rotated = api
        .send(
            "POST",
            &format!("{COLLECTION}/{id}/rotate-secret"),
            Some(ORG_A_ADMIN),
            Some(json!({"expire_previous_after_hours": 2}).to_string()),
        )
        .await;
    assert_eq!(rotated.status, 200);
    let in_grace = stats(&api, ORG_A_ADMIN, &id).await.body;
    assert!(in_grace["previous_secret_expires_at"].is_string());
    assert!(!in_grace.to_string().contains("whsec_"), "no secret");
    let endpoint = &api.list(ORG_A_ADMIN).await.body[0];
    assert!(
        endpoint.get("attempts_24h").is_none()
            && endpoint.get("previous_secret_expires_at").is_none(),
        "the endpoint object stays as the product page defines it: {endpoint}"
    );

    assert_eq!(stats(&api, ORG_A_MEMBER, &id).await.status, 403);
    assert_eq!(stats(&api, ORG_B_ADMIN, &id).await.status, 404);
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(stats(&api, ORG_A_ADMIN, &unknown).await.status, 404);
    assert_eq!(stats(&api, ORG_A_ADMIN, "not-an-id").await.status, 404);
    api.delete(ORG_A_ADMIN, &id).await;
    assert_eq!(stats(&api, ORG_A_ADMIN, &id).await.status, 404);
}
