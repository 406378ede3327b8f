//! Endpoints on AWS, against moto's STS, SQS and EventBridge: the API's rules for an ARN url and
//! its role, and deliveries that assume the role and send the signed body to a queue or a bus.

use std::sync::Arc;

use aws_config::BehaviorVersion;
use aws_sdk_sqs::config::Credentials;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use system_tests::{Backend, ORG_A_ADMIN, ORG_B_ADMIN, dynamodb_endpoint};
use webhook_delivery::aws_sender::{AwsSender, EVENT_SOURCE};
use webhook_delivery::event::DeliveryJob;
use webhook_delivery::pipeline::{Delivery, Pipeline};
use webhook_delivery::queue::NoQueue;
use webhook_delivery::sender::Sender;
use webhook_delivery::testing::{Receiver, Reply};
use webhook_domain::{
    Clock, Destination, EndpointUrl, FailureCategory, OrgId, RoleArn, SigningSecret, SystemClock,
    fixtures,
};
use webhook_store::{EventRef, MemoryStore, Store};

const ROLE: &str = "arn:aws:iam::123456789012:role/webhooks-sender";
const ORG: OrgId = OrgId::new(77);

pub async fn aws_destination_rules(backend: Backend) {
    let api = system_tests::start(backend, webhook_api::Settings::default()).await;
    let queue = "arn:aws:sqs:us-east-1:123456789012:customer-hooks";

    let missing = api
        .create(ORG_A_ADMIN, json!({"label": "q", "url": queue}))
        .await;
    assert_eq!(missing.status, 400, "{:?}", missing.body);
    assert!(missing.field_errors("role_arn")[0].contains("give role_arn"));

    let created = api
        .create(
            ORG_A_ADMIN,
            json!({"label": "q", "url": queue, "role_arn": ROLE}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["role_arn"], ROLE);
    let id = created.body["id"].as_str().unwrap();
    let listed = api.list(ORG_A_ADMIN).await.body;
    assert_eq!(listed[0]["url"], queue);
    assert_eq!(listed[0]["role_arn"], ROLE);

    for (body, field, words) in [
        (
            json!({"label": "x", "url": "https://example.com/h", "role_arn": ROLE}),
            "role_arn",
            "only for an SQS queue",
        ),
        (
            json!({"label": "x", "url": "arn:aws:sns:us-east-1:123456789012:t", "role_arn": ROLE}),
            "url",
            "SQS queue",
        ),
        (
            json!({"label": "x", "url": queue, "role_arn": "arn:aws:iam::123456789012:user/u"}),
            "role_arn",
            "IAM role ARN",
        ),
    ] {
        let refused = api.create(ORG_A_ADMIN, body).await;
        assert_eq!(refused.status, 400, "{:?}", refused.body);
        assert!(
            refused.field_errors(field)[0].contains(words),
            "{:?}",
            refused.body
        );
    }
    assert_eq!(
        api.list(ORG_A_ADMIN).await.body.as_array().unwrap().len(),
        1
    );

    let alone = api.patch(ORG_A_ADMIN, id, json!({"role_arn": ROLE})).await;
    assert_eq!(alone.status, 400);
    assert!(alone.field_errors("role_arn")[0].contains("send both"));
    let https = api
        .patch(ORG_A_ADMIN, id, json!({"url": "https://example.com/h"}))
        .await;
    assert_eq!(https.status, 200, "{:?}", https.body);
    assert!(
        https.body.get("role_arn").is_none(),
        "an https url keeps no role"
    );
    let bus = "arn:aws:events:us-east-1:123456789012:event-bus/orders";
    let back = api
        .patch(ORG_A_ADMIN, id, json!({"url": bus, "role_arn": ROLE}))
        .await;
    assert_eq!(
        (back.body["url"].as_str(), back.body["role_arn"].as_str()),
        (Some(bus), Some(ROLE))
    );

    let identity = "/v1/developer/webhook-aws-identity";
    let first = api.send("GET", identity, Some(ORG_A_ADMIN), None).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let external_id = first.body["external_id"].as_str().unwrap().to_owned();
    assert!(external_id.starts_with("whx_") && external_id.len() == 36);
    assert_eq!(
        first.body["principal"],
        Value::Null,
        "off Lambda no account is known"
    );
    let again = api.send("GET", identity, Some(ORG_A_ADMIN), None).await;
    assert_eq!(again.body["external_id"], external_id.as_str());
    let other = api.send("GET", identity, Some(ORG_B_ADMIN), None).await;
    assert_ne!(other.body["external_id"], external_id.as_str());
    assert_eq!(api.send("GET", identity, None, None).await.status, 401);
}

/// The SDK's configuration for moto, as a deployed function's would be for AWS.
async fn moto_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "local"))
        .load()
        .await
}

fn pipeline<S: Store>(store: S, aws: AwsSender) -> Pipeline<S, NoQueue> {
    let mut sender = Sender::new(true).unwrap();
    sender.aws = Arc::new(aws);
    webhook_delivery::testing::pipeline(store, NoQueue, sender)
}

/// An endpoint of [`ORG`] at `url`, reached through [`ROLE`], and its secret.
async fn aws_endpoint(store: &impl Store, url: &str) -> (Destination, SigningSecret) {
    let (mut endpoint, secret) = fixtures::endpoint_with_secret(ORG, SystemClock.now());
    endpoint.url = EndpointUrl::parse_endpoint(url).unwrap();
    endpoint.role_arn = Some(RoleArn::parse(ROLE).unwrap());
    store.create(&endpoint, &secret, 50, None).await.unwrap();
    (endpoint.id.into(), secret)
}

fn job(destination: Destination) -> DeliveryJob {
    serde_json::from_value(json!({
        "event_id": uuid::Uuid::new_v4(), "org_id": ORG.get(), "endpoint_id": destination.endpoint(),
        "type": "call.graded", "data": {"call_id": 7}, "attempts": 0,
        "trace_id": "4bf92f3577b34da6a3ce929265f0ef5f"
    }))
    .unwrap()
}

/// The log's record of `job`, read now.
async fn logged(store: &impl Store, job: &DeliveryJob) -> webhook_domain::DeliveryRecord {
    let event = EventRef {
        event_id: job.event_id,
        destination: job.destination,
    };
    store
        .delivery(ORG, event, SystemClock.now())
        .await
        .unwrap()
        .unwrap()
}

/// The Standard Webhooks signature of `body` as `secret` makes it.
fn standard_signature(secret: &SigningSecret, id: &str, timestamp: &str, body: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64
        .decode(secret.expose().trim_start_matches("whsec_"))
        .unwrap();
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", b64.encode(mac.finalize().into_bytes()))
}

async fn delivered_to_a_queue_and_a_bus(store: impl Store) {
    let moto = moto_config(&dynamodb_endpoint()).await;
    let sqs = aws_sdk_sqs::Client::new(&moto);
    let events = aws_sdk_eventbridge::Client::new(&moto);
    let name = format!("customer-{}", uuid::Uuid::new_v4().simple());
    let queue_url = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let pipeline = pipeline(store.clone(), AwsSender::with_config(moto.clone()));

    let queue_arn = format!("arn:aws:sqs:us-east-1:123456789012:{name}");
    let (queue, secret) = aws_endpoint(&store, &queue_arn).await;
    let sent = job(queue);
    assert!(matches!(
        pipeline.deliver(sent.clone()).await.unwrap(),
        Delivery::Delivered
    ));
    let messages = sqs
        .receive_message()
        .queue_url(&queue_url)
        .message_attribute_names("All")
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(messages.len(), 1);
    let body = messages[0].body().unwrap();
    let payload: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        (&payload["type"], &payload["data"]),
        (&json!("call.graded"), &json!({"call_id": 7}))
    );
    let attributes = messages[0].message_attributes().unwrap();
    let attribute = |name: &str| attributes[name].string_value().unwrap().to_owned();
    assert_eq!(
        attribute("webhook-signature"),
        standard_signature(
            &secret,
            &attribute("webhook-id"),
            &attribute("webhook-timestamp"),
            body
        ),
        "the receiver checks the signature as an HTTPS receiver does"
    );
    assert!(attribute("traceparent").contains("4bf92f3577b34da6a3ce929265f0ef5f"));
    let record = logged(&store, &sent).await;
    assert_eq!(record.status, webhook_domain::DeliveryStatus::Delivered);
    assert_eq!(record.http_status, Some(200));

    // A bus: its rule hands the event to a queue, where it is read back.
    let bus_name = format!("customer-{}", uuid::Uuid::new_v4().simple());
    events
        .create_event_bus()
        .name(&bus_name)
        .send()
        .await
        .unwrap();
    let target_name = format!("bus-target-{}", uuid::Uuid::new_v4().simple());
    let target_url = sqs
        .create_queue()
        .queue_name(&target_name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    events
        .put_rule()
        .name("webhooks")
        .event_bus_name(&bus_name)
        .event_pattern(json!({"source": [EVENT_SOURCE]}).to_string())
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule("webhooks")
        .event_bus_name(&bus_name)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("q")
                .arn(format!("arn:aws:sqs:us-east-1:123456789012:{target_name}"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let bus_arn = format!("arn:aws:events:us-east-1:123456789012:event-bus/{bus_name}");
    let (bus, secret) = aws_endpoint(&store, &bus_arn).await;
    assert!(matches!(
        pipeline.deliver(job(bus)).await.unwrap(),
        Delivery::Delivered
    ));
    let messages = sqs
        .receive_message()
        .queue_url(&target_url)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(messages.len(), 1);
    let event: Value = serde_json::from_str(messages[0].body().unwrap()).unwrap();
    assert_eq!(event["source"], EVENT_SOURCE);
    assert_eq!(event["detail-type"], "call.graded");
    let detail = &event["detail"];
    let body = detail["body"].as_str().unwrap();
    let header = |name: &str| detail["headers"][name].as_str().unwrap();
    assert_eq!(
        header("webhook-signature"),
        standard_signature(
            &secret,
            header("webhook-id"),
            header("webhook-timestamp"),
            body
        )
    );

    // A FIFO queue two endpoints share: the same event reaches it once for each.
    let fifo_name = format!("shared-{}.fifo", uuid::Uuid::new_v4().simple());
    let fifo_url = sqs
        .create_queue()
        .queue_name(&fifo_name)
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let fifo_arn = format!("arn:aws:sqs:us-east-1:123456789012:{fifo_name}");
    let (first, _) = aws_endpoint(&store, &fifo_arn).await;
    let (second, _) = aws_endpoint(&store, &fifo_arn).await;
    let event = job(first);
    let mut same_event = event.clone();
    same_event.destination = second;
    for sent in [event, same_event] {
        assert!(matches!(
            pipeline.deliver(sent).await.unwrap(),
            Delivery::Delivered
        ));
    }
    let messages = sqs
        .receive_message()
        .queue_url(&fifo_url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(messages.len(), 2, "neither deduplicates the other");

    // A queue that is not there: the role may not reach it.
    let gone = format!(
        "arn:aws:sqs:us-east-1:123456789012:gone-{}",
        uuid::Uuid::new_v4().simple()
    );
    let (gone, _) = aws_endpoint(&store, &gone).await;
    let failed = job(gone);
    // With no queue for the retry, it ends here; the record says why it failed.
    pipeline.deliver(failed.clone()).await.ok();
    let record = logged(&store, &failed).await;
    assert_eq!(record.failure_category, Some(FailureCategory::AwsAccess));
}

/// STS refuses the role (moto assumes any): a stand-in that answers as STS does.
async fn a_role_that_cannot_be_assumed_is_aws_role(store: impl Store) {
    let refusal = br#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: sts:AssumeRole</Message></Error><RequestId>1</RequestId></ErrorResponse>"#;
    let sts = Receiver::start(vec![Reply::Answer {
        status: 403,
        body: refusal.to_vec(),
        after: std::time::Duration::ZERO,
    }])
    .await
    .unwrap();
    let aws = AwsSender::with_config(moto_config(&sts.url()).await);
    let pipeline = pipeline(store.clone(), aws);
    let (queue, _) = aws_endpoint(&store, "arn:aws:sqs:us-east-1:123456789012:q").await;
    let refused = job(queue);
    pipeline.deliver(refused.clone()).await.ok();
    let record = logged(&store, &refused).await;
    assert_eq!(record.failure_category, Some(FailureCategory::AwsRole));
    let asked = sts.last().unwrap().body_text();
    assert!(asked.contains("Action=AssumeRole"), "{asked}");
    assert!(
        asked.contains("ExternalId=whx_"),
        "assumed with the organization's id: {asked}"
    );
}

#[tokio::test]
async fn delivers_to_a_queue_and_a_bus_on_the_embedded_store() {
    delivered_to_a_queue_and_a_bus(MemoryStore::new()).await;
}

#[tokio::test]
async fn delivers_to_a_queue_and_a_bus_on_dynamodb() {
    delivered_to_a_queue_and_a_bus(system_tests::moto_store().await.0).await;
}

#[tokio::test]
async fn a_refused_role_is_aws_role_on_the_embedded_store() {
    a_role_that_cannot_be_assumed_is_aws_role(MemoryStore::new()).await;
}

#[tokio::test]
async fn a_refused_role_is_aws_role_on_dynamodb() {
    a_role_that_cannot_be_assumed_is_aws_role(system_tests::moto_store().await.0).await;
}
