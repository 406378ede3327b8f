use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

use webhook_domain::{LegacyWebhook, SigningSecret};

use crate::ApiError;
use crate::views::LegacyWebhookView;

/// The last resort when even an error body cannot be written.
const INTERNAL_ERROR_BODY: &str = r#"{"detail":"Internal server error."}"#;

pub fn json(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    match serde_json::to_string(value) {
        Ok(text) => json_text(status, text),
        Err(error) => error_response(&ApiError::internal(error)),
    }
}

pub(crate) fn error_response(error: &ApiError) -> Response<Body> {
    let mut response = match serde_json::to_string(&error.body()) {
        Ok(text) => json_text(error.status(), text),
        Err(_) => json_text(
            StatusCode::INTERNAL_SERVER_ERROR,
            INTERNAL_ERROR_BODY.into(),
        ),
    };
    // Seconds a client should wait before trying again.
    if let ApiError::QuotaSpent { retry_after, .. } = error {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(*retry_after));
    }
    response
}

pub(crate) fn json_text(status: StatusCode, text: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A response carrying a secret must not be kept by any cache on the way.
pub(crate) fn uncacheable(mut response: Response<Body>) -> Response<Body> {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(crate) fn no_content() -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// The legacy webhook with its secret (`None`: the current one; a replay passes the one it
/// answered with): never cached.
pub(crate) fn legacy_answer(
    legacy: &LegacyWebhook,
    secret: Option<&SigningSecret>,
) -> Response<Body> {
    let secret = secret.unwrap_or(&legacy.keys.current);
    uncacheable(json(
        StatusCode::OK,
        &LegacyWebhookView::new(legacy, secret),
    ))
}
