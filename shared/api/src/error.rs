use std::collections::BTreeMap;

use lambda_http::http::StatusCode;
use serde::Serialize;
use webhook_domain::{Forbidden, Quota};
use webhook_store::StoreError;

/// Everything a request can end in other than success. Client errors say what was wrong;
/// internal ones are logged where they happen and answered with a bare, generic message.
#[derive(Debug)]
pub enum ApiError {
    Unauthenticated,
    Forbidden(Forbidden),
    NotFound,
    NoLegacyWebhook,
    PayloadTooLarge {
        limit: usize,
    },
    /// The body as a whole is unusable (not JSON, not an object).
    BadRequest(String),
    /// Field-by-field validation failures.
    Invalid(FieldErrors),
    LimitReached {
        limit: u32,
    },
    /// An `Idempotency-Key` that cannot answer this request (another body, still running, or
    /// nothing left to replay).
    Conflict(&'static str),
    /// An organization's minute of a quota is spent; try again in `retry_after` seconds.
    QuotaSpent {
        quota: Quota,
        per_minute: u32,
        retry_after: u64,
    },
    Unavailable,
    Internal,
}

/// A repeat of an `Idempotency-Key` whose first request has not finished.
pub(crate) const IN_PROGRESS: &str =
    "A request with this Idempotency-Key is still in progress; retry in a moment.";

/// Messages per field, in field-name order.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

#[derive(Serialize)]
pub(crate) struct ErrorBody<'a> {
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a FieldErrors>,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound | Self::NoLegacyWebhook => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BadRequest(_) | Self::Invalid(_) | Self::LimitReached { .. } => {
                StatusCode::BAD_REQUEST
            }
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::QuotaSpent { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub(crate) fn body(&self) -> ErrorBody<'_> {
        let detail = match self {
            Self::Unauthenticated => "Authentication credentials were not provided.".to_owned(),
            Self::Forbidden(forbidden) => forbidden.to_string(),
            Self::NotFound => "Not found.".to_owned(),
            Self::NoLegacyWebhook => "No webhook URL is set for this organization.".to_owned(),
            Self::PayloadTooLarge { limit } => {
                format!("Request body is larger than {} KiB.", limit / 1024)
            }
            Self::BadRequest(detail) => detail.clone(),
            Self::Invalid(errors) => errors
                .iter()
                .flat_map(|(field, messages)| messages.iter().map(move |m| format!("{field}: {m}")))
                .collect::<Vec<_>>()
                .join(" "),
            Self::LimitReached { limit } => format!(
                "This organization already has the maximum of {limit} webhook endpoints; delete one first."
            ),
            Self::Conflict(detail) => (*detail).to_owned(),
            Self::QuotaSpent {
                quota: Quota::Tests,
                per_minute,
                retry_after,
            } => format!(
                "This organization may send {per_minute} test deliveries a minute; retry in {retry_after} s."
            ),
            Self::QuotaSpent {
                quota: Quota::Resends | Quota::ResentInFlight,
                per_minute,
                retry_after,
            } => format!(
                "This organization may resend or recover {per_minute} deliveries a minute; retry in {retry_after} s."
            ),
            Self::Unavailable => "The service is temporarily unavailable; please retry.".to_owned(),
            Self::Internal => "Internal server error.".to_owned(),
        };
        let errors = match self {
            Self::Invalid(errors) => Some(errors),
            _ => None,
        };
        ErrorBody { detail, errors }
    }

    /// Logs an unexpected failure with where it arose (inside the request's span, so with its
    /// request id) and turns it into a response that says nothing about it.
    #[track_caller]
    pub fn internal(error: impl std::fmt::Display) -> Self {
        let at = std::panic::Location::caller();
        tracing::error!(error = %error, %at, "internal error");
        Self::Internal
    }
}

impl From<Forbidden> for ApiError {
    fn from(forbidden: Forbidden) -> Self {
        Self::Forbidden(forbidden)
    }
}

impl From<StoreError> for ApiError {
    /// Called by `?`, so an internal error is logged at the handler line that met it.
    #[track_caller]
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound,
            StoreError::LimitReached { limit } => Self::LimitReached { limit },
            // Handlers that remember keys sort this out before it could get here.
            StoreError::KeyTaken => Self::Conflict(IN_PROGRESS),
            StoreError::Superseded => Self::Conflict(
                "Another rotation of this endpoint finished first: its secret is the one that \
                 signs. Rotate again to replace it.",
            ),
            StoreError::Unavailable(source) => {
                tracing::warn!(error = %source, "storage unavailable");
                Self::Unavailable
            }
            StoreError::Internal(source) => Self::internal(source),
        }
    }
}
