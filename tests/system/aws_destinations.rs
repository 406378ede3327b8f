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
use webhook_delivery::schedule::RetrySchedule;
use webhook_delivery::sender::Sender;
use webhook_delivery::testing::{Receiver, Reply};
use webhook_domain::{
    Clock, Destination, EndpointUrl, ExternalId, FailureCategory, OrgId, RoleArn, SigningSecret,
    SystemClock, fixtures,
};
use webhook_store::{EventRef, ExternalIdStore, MemoryStore, Store};

/// A role as the API's rules see it (delivering tests make theirs in moto's IAM).
const ROLE: &str = "arn:aws:iam::123456789012:role/webhooks-sender";
const ORG: OrgId = OrgId::new(77);
/// STS's answer to a role it will not hand over.
const STS_REFUSAL: &[u8] = br#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: sts:AssumeRole</Message></Error><RequestId>1</RequestId></ErrorResponse>"#;

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

/// A pipeline that retries nothing: a failed attempt ends there, its record saying why.
fn pipeline<S: Store>(store: S, aws: AwsSender) -> Pipeline<S, NoQueue> {
    let mut sender = Sender::new(true).unwrap();
    sender.aws = Arc::new(aws);
    Pipeline {
        schedule: RetrySchedule::none().clone(),
        ..webhook_delivery::testing::pipeline(store, NoQueue, sender)
    }
}

/// A role the customer made in its account (moto's IAM, which `tests/moto_trust.py` has refuse
/// other external ids, as IAM does): trusting the platform's account on `external_id`'s
/// condition, as the API's trust policy says, or with no condition at all.
async fn customer_role(external_id: Option<&ExternalId>) -> RoleArn {
    let name = format!("webhooks-sender-{}", uuid::Uuid::new_v4().simple());
    let mut statement = json!({
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "sts:AssumeRole",
    });
    if let Some(id) = external_id {
        statement["Condition"] = json!({"StringEquals": {"sts:ExternalId": id.as_str()}});
    }
    let policy = json!({"Version": "2012-10-17", "Statement": [statement]}).to_string();
    let created = reqwest::Client::new()
        .post(dynamodb_endpoint())
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/iam/aws4_request, \
             SignedHeaders=host, Signature=0",
        )
        .form(&[
            ("Action", "CreateRole"),
            ("Version", "2010-05-08"),
            ("RoleName", name.as_str()),
            ("AssumeRolePolicyDocument", policy.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200, "{:?}", created.text().await);
    RoleArn::parse(&format!("arn:aws:iam::123456789012:role/{name}")).unwrap()
}

/// The role [`ORG`]'s endpoints use: it trusts the organization's external id.
async fn org_role(store: &impl Store) -> RoleArn {
    customer_role(Some(&store.external_id(ORG).await.unwrap())).await
}

/// An endpoint of [`ORG`] at `url`, reached through `role`, and its secret.
async fn aws_endpoint(
    store: &impl Store,
    url: &str,
    role: &RoleArn,
) -> (Destination, SigningSecret) {
    let (mut endpoint, secret) = fixtures::endpoint_with_secret(ORG, SystemClock.now());
    endpoint.url = EndpointUrl::parse_endpoint(url).unwrap();
    endpoint.role_arn = Some(role.clone());
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

/// A new queue in moto, named `prefix-<uuid>` (`.fifo` for a FIFO queue): its ARN and URL.
async fn new_queue(sqs: &aws_sdk_sqs::Client, prefix: &str, fifo: bool) -> (String, String) {
    let name = format!(
        "{prefix}-{}{}",
        uuid::Uuid::new_v4().simple(),
        if fifo { ".fifo" } else { "" }
    );
    let mut create = sqs.create_queue().queue_name(&name);
    if fifo {
        create = create.attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true");
    }
    let url = create.send().await.unwrap().queue_url.unwrap();
    (format!("arn:aws:sqs:us-east-1:123456789012:{name}"), url)
}

/// What the queue at `url` holds now (ten messages at most), with their attributes.
async fn messages_in(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    sqs.receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default()
}

async fn delivered_to_a_queue_and_a_bus(store: impl Store) {
    let moto = moto_config(&dynamodb_endpoint()).await;
    let sqs = aws_sdk_sqs::Client::new(&moto);
    let events = aws_sdk_eventbridge::Client::new(&moto);
    let (queue_arn, queue_url) = new_queue(&sqs, "customer", false).await;
    let pipeline = pipeline(store.clone(), AwsSender::with_config(moto.clone()));
    let role = org_role(&store).await;

    let (queue, secret) = aws_endpoint(&store, &queue_arn, &role).await;
    let sent = job(queue);
    assert!(matches!(
        pipeline.deliver(sent.clone()).await.unwrap(),
        Delivery::Delivered
    ));
    let messages = messages_in(&sqs, &queue_url).await;
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
    let (target_arn, target_url) = new_queue(&sqs, "bus-target", false).await;
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
                .arn(target_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let bus_arn = format!("arn:aws:events:us-east-1:123456789012:event-bus/{bus_name}");
    let (bus, secret) = aws_endpoint(&store, &bus_arn, &role).await;
    assert!(matches!(
        pipeline.deliver(job(bus)).await.unwrap(),
        Delivery::Delivered
    ));
    let messages = messages_in(&sqs, &target_url).await;
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
    let (fifo_arn, fifo_url) = new_queue(&sqs, "shared", true).await;
    let (first, _) = aws_endpoint(&store, &fifo_arn, &role).await;
    let (second, _) = aws_endpoint(&store, &fifo_arn, &role).await;
    let event = job(first);
    let mut same_event = event.clone();
    same_event.destination = second;
    for sent in [event, same_event] {
        assert!(matches!(
            pipeline.deliver(sent).await.unwrap(),
            Delivery::Delivered
        ));
    }
    let messages = messages_in(&sqs, &fifo_url).await;
    assert_eq!(messages.len(), 2, "neither deduplicates the other");

    // A queue that is not there: the role may not reach it.
    let gone = format!(
        "arn:aws:sqs:us-east-1:123456789012:gone-{}",
        uuid::Uuid::new_v4().simple()
    );
    let (gone, _) = aws_endpoint(&store, &gone, &role).await;
    let failed = job(gone);
    // With no retries, it ends here; the record says why it failed.
    pipeline.deliver(failed.clone()).await.ok();
    let record = logged(&store, &failed).await;
    assert_eq!(record.failure_category, Some(FailureCategory::AwsAccess));
}

/// A role no organization but its own may use: one whose trust policy does not require the
/// organization's external id is refused before it is used, as is one that requires another's.
async fn only_a_role_that_requires_the_organizations_id_is_used(store: impl Store) {
    let moto = moto_config(&dynamodb_endpoint()).await;
    let sqs = aws_sdk_sqs::Client::new(&moto);
    let pipeline = pipeline(store.clone(), AwsSender::with_config(moto));
    let (queue, queue_url) = new_queue(&sqs, "q", false).await;
    let open = customer_role(None).await;
    let anothers = customer_role(Some(&ExternalId::generate())).await;
    for role in [open, anothers] {
        let (endpoint, _) = aws_endpoint(&store, &queue, &role).await;
        let refused = job(endpoint);
        pipeline.deliver(refused.clone()).await.ok();
        let record = logged(&store, &refused).await;
        assert_eq!(record.failure_category, Some(FailureCategory::AwsRole));
    }
    // The organization's own role, on the same queue, is used; nothing else reached it.
    let (endpoint, _) = aws_endpoint(&store, &queue, &org_role(&store).await).await;
    assert!(matches!(
        pipeline.deliver(job(endpoint)).await.unwrap(),
        Delivery::Delivered
    ));
    assert_eq!(messages_in(&sqs, &queue_url).await.len(), 1);
}

/// STS refuses the role: a stand-in that answers as STS does, and shows what it was asked.
async fn a_role_that_cannot_be_assumed_is_aws_role(store: impl Store) {
    let refused = || Reply::Answer {
        status: 403,
        body: STS_REFUSAL.to_vec(),
        after: std::time::Duration::ZERO,
    };
    let sts = Receiver::start(vec![refused(), refused()]).await.unwrap();
    let aws = AwsSender::with_config(moto_config(&sts.url()).await);
    let pipeline = pipeline(store.clone(), aws);
    let role = RoleArn::parse(ROLE).unwrap();
    let (queue, _) = aws_endpoint(&store, "arn:aws:sqs:us-east-1:123456789012:q", &role).await;
    let refused = job(queue);
    pipeline.deliver(refused.clone()).await.ok();
    let record = logged(&store, &refused).await;
    assert_eq!(record.failure_category, Some(FailureCategory::AwsRole));
    // A made-up id first, which a sound role refuses; then the organization's own.
    let ours = store.external_id(ORG).await.unwrap();
    let asked: Vec<String> = sts.received().iter().map(|r| r.body_text()).collect();
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(
        asked.iter().all(|a| a.contains("Action=AssumeRole")),
        "{asked:?}"
    );
    assert!(asked[0].contains("ExternalId=whx_") && !asked[0].contains(ours.as_str()));
    assert!(
        asked[1].contains(&format!("ExternalId={}", ours.as_str())),
        "{asked:?}"
    );
    // Refused lately: the next attempt does not ask STS again.
    let again = job(queue);
    pipeline.deliver(again.clone()).await.ok();
    assert_eq!(sts.count(), 2);
    assert_eq!(
        logged(&store, &again).await.failure_category,
        Some(FailureCategory::AwsRole)
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

/// A role that refused a made-up id is not checked again for a day: each check is an
/// AccessDenied in the customer's CloudTrail. Its credentials, short-lived here, are assumed
/// again.
#[tokio::test]
async fn a_role_is_checked_once_then_only_assumed() {
    let store = MemoryStore::new();
    let expires = SystemClock
        .now()
        .checked_add(std::time::Duration::from_secs(120))
        .unwrap();
    let credentials = format!(
        r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>{expires}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>A:s</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/webhooks-sender/s</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>"#
    );
    let answer = |status: u16, body: &[u8]| Reply::Answer {
        status,
        body: body.to_vec(),
        after: std::time::Duration::ZERO,
    };
    // The check, the role, the queue; then the role and the queue again.
    let sent = answer(200, br#"{"MessageId":"m","MD5OfMessageBody":"x"}"#);
    let stand_in = Receiver::start(vec![
        answer(403, STS_REFUSAL),
        answer(200, credentials.as_bytes()),
        sent.clone(),
        answer(200, credentials.as_bytes()),
        sent,
    ])
    .await
    .unwrap();
    let pipeline = pipeline(
        store.clone(),
        AwsSender::with_config(moto_config(&stand_in.url()).await),
    );
    let role = RoleArn::parse(ROLE).unwrap();
    let (queue, _) = aws_endpoint(&store, "arn:aws:sqs:us-east-1:123456789012:q", &role).await;
    for _ in 0..2 {
        pipeline.deliver(job(queue)).await.ok();
    }
    let ours = format!(
        "ExternalId={}",
        store.external_id(ORG).await.unwrap().as_str()
    );
    let assumed: Vec<bool> = stand_in
        .received()
        .iter()
        .map(|r| r.body_text())
        .filter(|body| body.contains("Action=AssumeRole"))
        .map(|body| body.contains(&ours))
        .collect();
    assert_eq!(
        assumed,
        [false, true, true],
        "one check, then the role twice"
    );
}

#[tokio::test]
async fn a_refused_role_is_aws_role_on_the_embedded_store() {
    a_role_that_cannot_be_assumed_is_aws_role(MemoryStore::new()).await;
}

#[tokio::test]
async fn a_refused_role_is_aws_role_on_dynamodb() {
    a_role_that_cannot_be_assumed_is_aws_role(system_tests::moto_store().await.0).await;
}

#[tokio::test]
async fn a_role_open_to_other_ids_is_refused_on_the_embedded_store() {
    only_a_role_that_requires_the_organizations_id_is_used(MemoryStore::new()).await;
}

#[tokio::test]
async fn a_role_open_to_other_ids_is_refused_on_dynamodb() {
    only_a_role_that_requires_the_organizations_id_is_used(system_tests::moto_store().await.0)
        .await;
}
