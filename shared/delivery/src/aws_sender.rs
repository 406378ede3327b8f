//! One attempt to an SQS queue or EventBridge bus in the customer's account: assume the
//! endpoint's role with the organization's external id, then send the same body with the same
//! signature headers the HTTPS request would carry (as message attributes, or in the event's
//! detail). Nothing of the customer's is stored but the role's ARN.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use aws_config::{Region, SdkConfig};
use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::MessageAttributeValue;
use tokio::sync::OnceCell;
use webhook_domain::{
    AttemptOutcome, AwsDestination, AwsService, ExternalId, FailureCategory, OrgId, RoleArn,
};

use crate::sent::Sent;

/// What an AWS attempt is sent with besides its body.
pub struct AwsSend<'a> {
    pub destination: AwsDestination<'a>,
    pub role: &'a RoleArn,
    pub external_id: &'a ExternalId,
    pub org: OrgId,
    /// The signature headers and `traceparent`, as the HTTPS request carries them.
    pub headers: &'a [(&'static str, String)],
    /// Which destination sends: a FIFO queue's message group, and part of its deduplication
    /// id, so two endpoints on one queue never deduplicate each other's messages.
    pub group: String,
    /// The event's EventBridge `detail-type`.
    pub event_type: &'a str,
}

/// Assumed credentials are kept while they have this long left.
const FRESH_FOR: Duration = Duration::from_secs(300);
/// The most roles whose credentials one process keeps; past it, it starts again.
const ROLES_KEPT: usize = 1_000;
/// How long a role STS refused is not asked for again: a broken role retried by every attempt
/// would spend the platform account's AssumeRole quota, which every AWS endpoint shares.
const REFUSAL_KEPT: Duration = Duration::from_secs(60);
/// How long a role found to require the organization's external id is not checked again. Each
/// check is an AccessDenied in the customer's CloudTrail, which their alarms may watch: once
/// a day per warm function, not once per hour of credentials.
const CHECK_KEPT: Duration = Duration::from_secs(24 * 3600);

/// Where EventBridge events say they come from.
pub const EVENT_SOURCE: &str = "thunderphone.webhooks";

/// Sends to AWS destinations. The SDK configuration is loaded at the first such attempt, so a
/// process that never makes one never loads it.
#[derive(Default)]
pub struct AwsSender {
    config: OnceCell<SdkConfig>,
    /// Each role's assumed credentials, while they have [`FRESH_FOR`] left.
    assumed: Kept<Credentials>,
    /// Roles STS refused lately, and why.
    refused: Kept<String>,
    /// Roles found to refuse any external id but the organization's.
    checked: Kept<()>,
    /// Each organization's external id: issued once and never changed, so kept for good.
    external_ids: Mutex<HashMap<OrgId, ExternalId>>,
}

/// What a process keeps per role and external id, each until a moment; at most [`ROLES_KEPT`]
/// of them, past which it starts again (a process that meets more roles pays a few more STS
/// calls, never more memory).
struct Kept<V>(Mutex<HashMap<(String, String), (Instant, V)>>);

impl<V> Default for Kept<V> {
    fn default() -> Self {
        Self(Mutex::default())
    }
}

impl<V: Clone> Kept<V> {
    fn get(&self, key: &(String, String)) -> Option<V> {
        let kept = self.0.lock().ok()?;
        let (until, value) = kept.get(key)?;
        (*until > Instant::now()).then(|| value.clone())
    }

    fn keep(&self, key: &(String, String), for_: Duration, value: V) {
        if let Ok(mut kept) = self.0.lock() {
            if kept.len() >= ROLES_KEPT {
                kept.clear();
            }
            kept.insert(key.clone(), (Instant::now() + for_, value));
        }
    }

    fn forget(&self, key: &(String, String)) {
        if let Ok(mut kept) = self.0.lock() {
            kept.remove(key);
        }
    }
}

/// Why an attempt got no answer from the queue or bus.
struct Failure {
    category: FailureCategory,
    status: Option<u16>,
    error: String,
}

impl Failure {
    /// A failure with no HTTP status.
    fn new(category: FailureCategory, error: String) -> Self {
        Self {
            category,
            status: None,
            error,
        }
    }
}

impl AwsSender {
    /// With this SDK configuration rather than the process's (a local AWS, in tests).
    pub fn with_config(config: SdkConfig) -> Self {
        Self {
            config: OnceCell::new_with(Some(config)),
            ..Self::default()
        }
    }

    /// The organization's external id: as `read` answers the first time, then as kept.
    pub async fn external_id<E>(
        &self,
        org: OrgId,
        read: impl Future<Output = Result<ExternalId, E>>,
    ) -> Result<ExternalId, E> {
        let known = self
            .external_ids
            .lock()
            .ok()
            .and_then(|ids| ids.get(&org).cloned());
        if let Some(known) = known {
            return Ok(known);
        }
        let id = read.await?;
        if let Ok(mut ids) = self.external_ids.lock() {
            ids.insert(org, id.clone());
        }
        Ok(id)
    }

    /// Sends `body` as `send` says, waiting at most `timeout` for all of it (the role included).
    pub async fn send(&self, send: AwsSend<'_>, body: Vec<u8>, timeout: Duration) -> Sent {
        let started = Instant::now();
        let outcome = tokio::time::timeout(timeout, self.deliver(&send, body))
            .await
            .unwrap_or_else(|_| {
                let error = format!("no answer from AWS within {} s", timeout.as_secs());
                Err(Failure::new(FailureCategory::Timeout, error))
            });
        let (outcome, error) = match outcome {
            Ok(()) => (AttemptOutcome::Delivered { status: 200 }, None),
            Err(Failure {
                category,
                status,
                error,
            }) => (AttemptOutcome::Failed { status, category }, Some(error)),
        };
        // No body: a queue or bus has no answer to give, and a blocking event must not take its
        // receipt for one.
        Sent {
            outcome,
            duration: started.elapsed(),
            retry_after: None,
            error,
            body: Vec::new(),
            body_truncated: false,
        }
    }

    /// Assumes the role and sends.
    async fn deliver(&self, send: &AwsSend<'_>, body: Vec<u8>) -> Result<(), Failure> {
        let config = self
            .config
            .get_or_try_init(webhook_aws::load_sdk_config)
            .await
            .map_err(|error| {
                Failure::new(
                    FailureCategory::Other,
                    format!("could not load the AWS configuration: {error}"),
                )
            })?;
        let credentials = self.credentials(config, send).await?;
        let body = String::from_utf8(body)
            .map_err(|_| Failure::new(FailureCategory::Other, "the body is not UTF-8".into()))?;
        // The role's own configuration, in the destination's region.
        let config = config
            .to_builder()
            .region(Region::new(send.destination.region.to_owned()))
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .build();
        match send.destination.service {
            AwsService::SqsQueue => to_queue(&aws_sdk_sqs::Client::new(&config), send, body).await,
            AwsService::EventBus => {
                to_bus(&aws_sdk_eventbridge::Client::new(&config), send, body).await
            }
        }
    }

    /// The role's credentials: kept ones while fresh, else assumed now.
    async fn credentials(
        &self,
        config: &SdkConfig,
        send: &AwsSend<'_>,
    ) -> Result<Credentials, Failure> {
        let key = (
            send.role.as_str().to_owned(),
            send.external_id.as_str().to_owned(),
        );
        if let Some(kept) = self.assumed.get(&key) {
            return Ok(kept);
        }
        if let Some(error) = self.refused.get(&key) {
            return Err(Failure::new(
                FailureCategory::AwsRole,
                format!("{error} (refused within the last minute: not asked again)"),
            ));
        }
        // The organization's external id protects the role only if its trust policy requires
        // it: a role that another id also opens would act for any organization that named it.
        // So a made-up id is tried first, and must be refused. Each try is an AccessDenied in
        // the customer's CloudTrail, which their alarms may watch: a role whose own id then
        // worked is not tried again for a day (per warm function).
        let checked = self.checked.get(&key).is_some();
        let assumed = if checked {
            assume(config, send, send.external_id).await
        } else {
            match assume(config, send, &ExternalId::generate()).await {
                Ok(_) => Err(Failure::new(
                    FailureCategory::AwsRole,
                    format!(
                        "{} was assumed with an external id other than this organization's: \
                         its trust policy must require sts:ExternalId to equal the \
                         organization's",
                        send.role
                    ),
                )),
                Err(refused) if refused.category == FailureCategory::AwsRole => {
                    assume(config, send, send.external_id).await
                }
                Err(unanswered) => Err(unanswered),
            }
        };
        let credentials = assumed.inspect_err(|failure| {
            if failure.category == FailureCategory::AwsRole {
                self.refused.keep(&key, REFUSAL_KEPT, failure.error.clone());
                self.checked.forget(&key);
            }
        })?;
        if !checked {
            self.checked.keep(&key, CHECK_KEPT, ());
        }
        // Kept until FRESH_FOR before they expire (STS gives an hour).
        let fresh_for = credentials
            .expiry()
            .and_then(|expiry| expiry.duration_since(SystemTime::now()).ok())
            .map_or(Duration::ZERO, |left| left.saturating_sub(FRESH_FOR));
        self.assumed.keep(&key, fresh_for, credentials.clone());
        Ok(credentials)
    }
}

/// The role's credentials, assumed with `external_id`, or why STS gave none.
async fn assume(
    config: &SdkConfig,
    send: &AwsSend<'_>,
    external_id: &ExternalId,
) -> Result<Credentials, Failure> {
    let assumed = aws_sdk_sts::Client::new(config)
        .assume_role()
        .role_arn(send.role.as_str())
        .external_id(external_id.as_str())
        .role_session_name(format!("webhooks-org-{}", send.org))
        .send()
        .await
        .map_err(|error| sts_failure(&error, send.role))?;
    let given = assumed.credentials().ok_or_else(|| {
        Failure::new(
            FailureCategory::Other,
            format!("STS assumed {} but gave no credentials", send.role),
        )
    })?;
    Ok(Credentials::new(
        given.access_key_id(),
        given.secret_access_key(),
        Some(given.session_token().to_owned()),
        SystemTime::try_from(*given.expiration()).ok(),
        "AssumeRole",
    ))
}

async fn to_queue(
    client: &aws_sdk_sqs::Client,
    send: &AwsSend<'_>,
    body: String,
) -> Result<(), Failure> {
    let mut message = client
        .send_message()
        .queue_url(send.destination.queue_url())
        .message_body(body);
    for (name, value) in send.headers {
        let attribute = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()
            .map_err(|error| Failure::new(FailureCategory::Other, error.to_string()))?;
        message = message.message_attributes(*name, attribute);
    }
    if send.destination.is_fifo() {
        // One message per attempt: a resend of the same event is a new message.
        let id = header(send.headers, crate::signature::ID_HEADER);
        let at = header(send.headers, crate::signature::TIMESTAMP_HEADER);
        message = message
            .message_group_id(&send.group)
            .message_deduplication_id(format!("{}.{id}.{at}", send.group));
    }
    message.send().await.map_err(|error| failure(&error))?;
    Ok(())
}

async fn to_bus(
    client: &aws_sdk_eventbridge::Client,
    send: &AwsSend<'_>,
    body: String,
) -> Result<(), Failure> {
    // The body travels as the exact text signed, so the receiver can check the signature.
    let headers: serde_json::Map<String, serde_json::Value> = send
        .headers
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone().into()))
        .collect();
    let detail = serde_json::json!({ "headers": headers, "body": body });
    let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
        .event_bus_name(send.destination.arn)
        .source(EVENT_SOURCE)
        .detail_type(send.event_type)
        .detail(detail.to_string())
        .build();
    let put = client
        .put_events()
        .entries(entry)
        .send()
        .await
        .map_err(|error| failure(&error))?;
    let entry = put.entries().first();
    match entry.and_then(|entry| entry.error_code()) {
        None if put.failed_entry_count() == 0 => Ok(()),
        code => {
            let code = code.unwrap_or("unknown error");
            let message = entry
                .and_then(|entry| entry.error_message())
                .unwrap_or("no message");
            Err(Failure::new(
                category_of(code),
                format!("the bus refused the event: {code}: {message}"),
            ))
        }
    }
}

fn header<'a>(headers: &'a [(&'static str, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, value)| value.as_str())
}

/// A refusal by the queue's or bus's service, sorted: the role may not send there, or there is
/// nothing there (`aws_access`); anything else is `other`.
fn category_of(code: &str) -> FailureCategory {
    let refused = code.contains("AccessDenied")
        || code.contains("NotAuthorized")
        || code.contains("NonExistentQueue")
        || code.contains("QueueDoesNotExist")
        || code.contains("ResourceNotFound")
        || code.starts_with("KMS");
    if refused {
        FailureCategory::AwsAccess
    } else {
        FailureCategory::Other
    }
}

/// Why STS gave no credentials: its refusal (AccessDenied, which is also its answer for a role
/// that does not exist) is the role's, `aws_role`; throttled is a 429 and STS's own trouble
/// `other`, neither of them the role's fault nor kept as a refusal.
fn sts_failure<E>(error: &SdkError<E, HttpResponse>, role: &RoleArn) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let failure = failure(error);
    Failure {
        category: match failure.category {
            FailureCategory::AwsAccess => FailureCategory::AwsRole,
            other => other,
        },
        error: format!("could not assume {role}: {}", failure.error),
        ..failure
    }
}

fn failure<E>(error: &SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (category, status) = match error {
        // Throttled (most AWS services say so with a 400 and a code) is a 429, so pace slows.
        SdkError::ServiceError(service) => match service.err().code().unwrap_or("") {
            code if code.contains("Throttl") || code == "RequestLimitExceeded" => {
                (FailureCategory::Other, Some(429))
            }
            code => (category_of(code), Some(service.raw().status().as_u16())),
        },
        SdkError::TimeoutError(_) => (FailureCategory::Timeout, None),
        SdkError::DispatchFailure(_) => (FailureCategory::Connection, None),
        _ => (FailureCategory::Other, None),
    };
    Failure {
        category,
        status,
        error: webhook_aws::describe(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_refusal_by_sts_is_the_roles_fault() {
        use aws_sdk_sts::error::ErrorMetadata;
        use aws_sdk_sts::operation::assume_role::AssumeRoleError;
        use aws_smithy_types::body::SdkBody;
        let answered = |status: u16, code: &str| {
            let error = AssumeRoleError::generic(ErrorMetadata::builder().code(code).build());
            let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
            SdkError::service_error(error, raw)
        };
        // A name that reads like a failure changes nothing: the error's code decides.
        let role = RoleArn::parse("arn:aws:iam::123456789012:role/throttled-connect").unwrap();
        let sorted = |error| {
            let failure = sts_failure(&error, &role);
            (failure.category, failure.status)
        };
        assert_eq!(
            sorted(answered(403, "AccessDenied")),
            (FailureCategory::AwsRole, Some(403))
        );
        assert_eq!(
            sorted(answered(400, "Throttling")),
            (FailureCategory::Other, Some(429))
        );
        assert_eq!(
            sorted(answered(500, "InternalFailure")),
            (FailureCategory::Other, Some(500))
        );
        assert_eq!(
            sorted(SdkError::timeout_error("slow")),
            (FailureCategory::Timeout, None)
        );
    }

    #[test]
    fn refusals_of_the_role_are_aws_access_and_the_rest_other() {
        for code in [
            "AccessDenied",
            "AccessDeniedException",
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
            "ResourceNotFoundException",
            "NotAuthorizedForSourceException",
            "KMS.AccessDeniedException",
        ] {
            assert_eq!(category_of(code), FailureCategory::AwsAccess, "{code}");
        }
        for code in ["ThrottlingException", "InternalException", ""] {
            assert_eq!(category_of(code), FailureCategory::Other, "{code}");
        }
    }
}
