//! What API Gateway does in front of the Lambdas: match a route, build the payload 2.0 event
//! (with the authorizer's context), and turn the Lambda's response back into HTTP.

use std::net::SocketAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http_body_util::Full;
use hyper::StatusCode;
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HOST, USER_AGENT};
use hyper::http::request::Parts;
use serde_json::{Map, Value, json};

use webhook_api::authorizer::AuthorizerContext;

/// The payload 2.0 event API Gateway would send for this request to the route named `route`
/// (`METHOD /path`), with its path `parameter`.
pub(crate) fn lambda_request(
    parts: &Parts,
    body: Bytes,
    route: &str,
    parameter: Option<&(&'static str, String)>,
    authorized: &AuthorizerContext,
    peer: SocketAddr,
) -> Result<lambda_http::Request, serde_json::Error> {
    let mut headers = Map::new();
    for name in parts.headers.keys() {
        let values: Vec<&str> = parts
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        headers.insert(name.as_str().to_owned(), values.join(",").into());
    }
    // As API Gateway tells the handlers which scheme the client used: this server's is http.
    headers.insert("x-forwarded-proto".to_owned(), "http".into());
    let header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let context = json!({
        "accountId": "000000000000",
        "apiId": "dev-server",
        "domainName": header(HOST),
        "domainPrefix": "dev-server",
        "http": {
            "method": parts.method.as_str(),
            "path": parts.uri.path(),
            "protocol": "HTTP/1.1",
            "sourceIp": peer.ip().to_string(),
            "userAgent": header(USER_AGENT),
        },
        "requestId": uuid::Uuid::new_v4().to_string(),
        "routeKey": route,
        "stage": "$default",
        "timeEpoch": now,
        // As API Gateway passes on the bundled authorizer's simple response: `{}` for a key it
        // does not know, which the handlers answer with a 401.
        "authorizer": { "lambda": authorized },
    });
    let (body, is_base64) = match String::from_utf8(body.to_vec()) {
        Ok(text) => (text, false),
        Err(_) => (STANDARD.encode(&body), true),
    };
    let mut event = json!({
        "version": "2.0",
        "routeKey": route,
        "rawPath": parts.uri.path(),
        "rawQueryString": parts.uri.query().unwrap_or_default(),
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": is_base64,
    });
    if !body.is_empty() {
        event["body"] = Value::String(body);
    }
    if let Some((name, value)) = parameter {
        event["pathParameters"] = json!({ *name: value });
    }
    lambda_http::request::from_str(&event.to_string())
}

pub(crate) fn into_http(
    response: Result<lambda_http::Response<lambda_http::Body>, lambda_http::Error>,
) -> hyper::Response<Full<Bytes>> {
    let Ok(response) = response else {
        return internal_error();
    };
    let (parts, body) = response.into_parts();
    hyper::Response::from_parts(parts, Full::new(Bytes::copy_from_slice(&body)))
}

/// `GET /openapi.json`: the API's contract, for anyone (API Gateway does not serve it).
pub(crate) fn openapi() -> hyper::Response<Full<Bytes>> {
    json_response(
        StatusCode::OK,
        Bytes::from_static(webhook_api::OPENAPI.as_bytes()),
    )
}

pub(crate) fn detail(status: StatusCode, detail: &str) -> hyper::Response<Full<Bytes>> {
    json_response(status, Bytes::from(json!({ "detail": detail }).to_string()))
}

fn json_response(status: StatusCode, body: Bytes) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// A route this server was started without, answered as API Gateway answers unknown ones.
pub(crate) fn not_served() -> lambda_http::Response<lambda_http::Body> {
    webhook_api::response::json(StatusCode::NOT_FOUND, &json!({ "detail": "Not found." }))
}

pub(crate) fn too_large() -> hyper::Response<Full<Bytes>> {
    detail(StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large.")
}

pub(crate) fn internal_error() -> hyper::Response<Full<Bytes>> {
    detail(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error.")
}
