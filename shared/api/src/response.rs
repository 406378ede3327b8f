use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::ApiError;

pub(crate) fn json(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    match serde_json::to_string(value) {
        Ok(text) => {
            let mut response = Response::new(Body::Text(text));
            *response.status_mut() = status;
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        Err(error) => error_response(&ApiError::internal(error)),
    }
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

pub(crate) fn error_response(error: &ApiError) -> Response<Body> {
    let body = error.body();
    match serde_json::to_string(&body) {
        Ok(text) => {
            let mut response = Response::new(Body::Text(text));
            *response.status_mut() = error.status();
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        Err(_) => {
            let mut response =
                Response::new(Body::Text(r#"{"detail":"Internal server error."}"#.into()));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response
        }
    }
}
