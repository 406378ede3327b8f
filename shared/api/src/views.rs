//! The JSON users see: the product's endpoint object, exactly its fields.

use serde::Serialize;
use webhook_domain::{
    AgentId, ApiKeySecret, AttemptSummary, CustomHeaders, DeliveryRecord, DeliveryStatus,
    Destination, Endpoint, EndpointHealth, EndpointId, EndpointStatus, EndpointUrl, EventId,
    EventName, EventSubscription, EventType, ExternalId, FailureCategory, Label, LegacyWebhook,
    RateLimit, RoleArn, SecretHint, SigningSecret, TestDelivery, Timestamp,
};

/// An endpoint as users see it.
#[derive(Serialize)]
pub(crate) struct EndpointView<'a>(#[serde(with = "ShownEndpoint")] pub &'a Endpoint);

/// The fields of an endpoint users see, in their order: `Endpoint`'s own serde form is how it
/// is stored.
#[derive(Serialize)]
#[serde(remote = "Endpoint")]
struct ShownEndpoint {
    id: EndpointId,
    label: Label,
    url: EndpointUrl,
    /// Only for an SQS queue or EventBridge bus url, as `headers`.
    #[serde(skip_serializing_if = "Option::is_none")]
    role_arn: Option<RoleArn>,
    events: EventSubscription,
    status: EndpointStatus,
    agent_id: Option<AgentId>,
    /// This service keeps no agent directory, so it cannot name the agent.
    #[serde(getter = "no_agent_name")]
    agent_name: Option<&'static str>,
    /// Only when set: an endpoint without them is exactly the product page's object.
    #[serde(skip_serializing_if = "CustomHeaders::is_empty")]
    headers: CustomHeaders,
    /// Only when set, as `headers`.
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_limit: Option<RateLimit>,
    secret_hint: SecretHint,
    created_at: Timestamp,
    updated_at: Timestamp,
}

fn no_agent_name(_: &Endpoint) -> Option<&'static str> {
    None
}

/// What a customer's role must trust: `principal` (the platform's account) with `external_id`.
#[derive(Serialize)]
pub(crate) struct AwsIdentityView<'a> {
    external_id: &'a ExternalId,
    /// `arn:<partition>:iam::<account>:root`; `null` where the platform's account is not known
    /// (off Lambda).
    principal: Option<String>,
    /// The role's trust policy, ready to paste; `null` with `principal`.
    trust_policy: Option<serde_json::Value>,
}

impl<'a> AwsIdentityView<'a> {
    /// `function`: the ARN of the Lambda function answering, which names the platform's
    /// partition and account.
    pub(crate) fn new(external_id: &'a ExternalId, function: Option<&str>) -> Self {
        let principal = function.and_then(|arn| {
            let mut parts = arn.split(':');
            let partition = parts.nth(1).filter(|p| !p.is_empty())?;
            let account = parts.nth(2).filter(|a| a.len() == 12)?;
            Some(format!("arn:{partition}:iam::{account}:root"))
        });
        let trust_policy = principal.as_ref().map(|principal| {
            serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"AWS": principal},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
                }],
            })
        });
        Self {
            external_id,
            principal,
            trust_policy,
        }
    }
}

/// The create response: the only place the full secret is ever shown.
#[derive(Serialize)]
pub(crate) struct CreatedEndpointView<'a> {
    #[serde(flatten)]
    endpoint: EndpointView<'a>,
    secret: &'a str,
}

impl<'a> CreatedEndpointView<'a> {
    pub(crate) fn new(endpoint: &'a Endpoint, secret: &'a SigningSecret) -> Self {
        Self {
            endpoint: EndpointView(endpoint),
            secret: secret.expose(),
        }
    }
}

/// `GET .../{endpoint_id}/stats`: the endpoint's health. Absent values are `null`, so every
/// field is always there.
#[derive(Serialize)]
pub(crate) struct EndpointStatsView {
    endpoint_id: EndpointId,
    status: EndpointStatus,
    /// The first failed attempt of the current failure streak.
    failing_since: Option<Timestamp>,
    last_attempt_at: Option<Timestamp>,
    last_success_at: Option<Timestamp>,
    last_failure_at: Option<Timestamp>,
    last_http_status: Option<u16>,
    last_failure_category: Option<FailureCategory>,
    attempts_24h: u64,
    successes_24h: u64,
    failures_24h: u64,
    /// Deliveries a second the endpoint is sent at most now: its `rate_limit`, or less while
    /// its receiver asks to slow down; `null` for as fast as they come.
    effective_rate: Option<u32>,
    /// The same day hour by hour, oldest first: what the portal draws.
    hourly: Vec<HourView>,
    previous_secret_expires_at: Option<Timestamp>,
}

#[derive(Serialize)]
struct HourView {
    hour: Timestamp,
    successes: u64,
    failures: u64,
}

impl EndpointStatsView {
    pub(crate) fn new(health: &EndpointHealth, now: Timestamp) -> Self {
        let stats = &health.stats;
        let day = stats.recent.last_day(now);
        Self {
            endpoint_id: health.endpoint.id,
            status: health.endpoint.status,
            failing_since: stats.failing_since,
            last_attempt_at: stats.last_attempt_at,
            last_success_at: stats.last_success_at,
            last_failure_at: stats.last_failure_at,
            last_http_status: stats.last_status,
            last_failure_category: stats.last_failure,
            attempts_24h: day.attempts(),
            successes_24h: day.succeeded,
            failures_24h: day.failed,
            effective_rate: health.endpoint.effective_rate(),
            hourly: stats
                .recent
                .by_hour(now)
                .into_iter()
                .map(|(hour, count)| HourView {
                    hour: hour.start(),
                    successes: count.succeeded,
                    failures: count.failed,
                })
                .collect(),
            previous_secret_expires_at: health.grace_until(now),
        }
    }
}

/// The legacy webhook, secret included: unlike endpoint secrets it can be read back.
#[derive(Serialize)]
pub(crate) struct LegacyWebhookView<'a> {
    url: &'a str,
    secret: &'a str,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl<'a> LegacyWebhookView<'a> {
    /// The legacy webhook showing `secret` (the current one, or the one a replay names).
    pub(crate) fn new(legacy: &'a LegacyWebhook, secret: &'a SigningSecret) -> Self {
        Self {
            url: legacy.url.as_str(),
            secret: secret.expose(),
            created_at: legacy.created_at,
            updated_at: legacy.updated_at,
        }
    }
}

/// One delivery log record as listed: body-free, secret-free.
#[derive(Serialize)]
pub(crate) struct DeliveryView<'a>(#[serde(with = "ShownDelivery")] pub &'a DeliveryRecord);

#[derive(Serialize)]
#[serde(remote = "DeliveryRecord")]
struct ShownDelivery {
    event_id: EventId,
    /// Empty for the legacy URL, which is no endpoint.
    #[serde(getter = "endpoint_id")]
    endpoint_id: String,
    endpoint_label: String,
    /// Query values redacted, also in records kept from before they were.
    #[serde(getter = "redacted_url")]
    url: String,
    event_type: EventName,
    /// When the event happened: the log's order, and what `since` compares.
    occurred_at: Timestamp,
    agent_id: Option<AgentId>,
    call_id: Option<i64>,
    #[serde(getter = "source")]
    source: &'static str,
    status: DeliveryStatus,
    attempt_count: u32,
    http_status: Option<u16>,
    failure_category: Option<FailureCategory>,
    last_attempt_at: Timestamp,
    next_retry_at: Option<Timestamp>,
    /// Sent by the test route with a sample payload.
    test: bool,
}

fn endpoint_id(record: &DeliveryRecord) -> String {
    let endpoint = record.destination.endpoint();
    endpoint.map(|id| id.to_string()).unwrap_or_default()
}

fn redacted_url(record: &DeliveryRecord) -> String {
    webhook_domain::endpoint_url::redacted(&record.url)
}

fn source(record: &DeliveryRecord) -> &'static str {
    match record.destination {
        Destination::Endpoint(_) => "endpoint",
        Destination::Legacy => Destination::LEGACY,
    }
}

/// One delivery with what it sent and every attempt: the body as JSON (`null` for a record
/// logged before bodies were kept).
#[derive(Serialize)]
pub(crate) struct DeliveryDetailView<'a> {
    #[serde(flatten)]
    delivery: DeliveryView<'a>,
    payload: Option<serde_json::Value>,
    attempts: Vec<AttemptView<'a>>,
}

#[derive(Serialize)]
struct AttemptView<'a>(#[serde(with = "ShownAttempt")] &'a AttemptSummary);

/// Every field, `null` included: `AttemptSummary`'s own serde form is how it is stored.
#[derive(Serialize)]
#[serde(remote = "AttemptSummary")]
struct ShownAttempt {
    at: Timestamp,
    http_status: Option<u16>,
    failure_category: Option<FailureCategory>,
    duration_ms: u64,
}

impl<'a> From<&'a DeliveryRecord> for DeliveryDetailView<'a> {
    fn from(record: &'a DeliveryRecord) -> Self {
        let payload = record
            .body
            .as_ref()
            .and_then(|body| body.bytes().ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        Self {
            delivery: DeliveryView(record),
            payload,
            attempts: record.attempts.iter().map(AttemptView).collect(),
        }
    }
}

/// A page of the delivery log.
#[derive(Serialize)]
pub(crate) struct DeliveryListView<'a> {
    pub results: Vec<DeliveryView<'a>>,
    pub has_more: bool,
    pub next_cursor: Option<String>,
    pub limit: usize,
}

/// The test route's answer: what the receiver did with one sample delivery.
#[derive(Serialize)]
pub(crate) struct TestDeliveryView<'a> {
    success: bool,
    status: DeliveryStatus,
    response_code: Option<u16>,
    /// Empty on success.
    error: &'a str,
    event_id: EventId,
    event_type: &'a EventName,
}

impl<'a> From<&'a TestDelivery> for TestDeliveryView<'a> {
    fn from(delivery: &'a TestDelivery) -> Self {
        let success = delivery.outcome.is_success();
        Self {
            success,
            status: if success {
                DeliveryStatus::Delivered
            } else {
                DeliveryStatus::Failed
            },
            response_code: delivery.outcome.status(),
            error: match (&delivery.error, success) {
                (Some(error), false) => error,
                (None, false) => "The delivery failed.",
                (_, true) => "",
            },
            event_id: delivery.event_id,
            event_type: &delivery.event_type,
        }
    }
}

/// A portal session's sign-in link: the token rides in the fragment, which browsers never send
/// to a server or put in a `Referer`.
#[derive(Serialize)]
pub(crate) struct PortalSessionView {
    url: String,
    expires_at: Timestamp,
}

impl PortalSessionView {
    pub(crate) fn new(origin: &str, token: &ApiKeySecret, expires_at: Timestamp) -> Self {
        Self {
            url: token.portal_link(origin),
            expires_at,
        }
    }
}

/// One entry of `GET /v1/developer/webhook-event-types`.
#[derive(Serialize)]
pub(crate) struct EventTypeView {
    #[serde(rename = "type")]
    event_type: EventType,
    description: &'static str,
    blocking: bool,
    legacy_name: &'static str,
}

impl From<EventType> for EventTypeView {
    fn from(event_type: EventType) -> Self {
        Self {
            event_type,
            description: event_type.description(),
            blocking: event_type.is_blocking(),
            legacy_name: event_type.legacy_name(),
        }
    }
}
