//! What API Gateway does in front of the Lambdas: match a route, build the payload 2.0 event
//! (with the authorizer's context), and turn the Lambda's response back into HTTP.

use std::net::SocketAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HOST, USER_AGENT};
use hyper::http::request::Parts;
use hyper::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::ApiKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    ListEndpoints,
    CreateEndpoint,
    UpdateEndpoint,
    DeleteEndpoint,
    GetLegacyWebhook,
    SetLegacyWebhook,
    ListDeliveries,
    SendTestDelivery,
}

const COLLECTION: &str = "/v1/developer/webhook-endpoints";
const DELIVERIES: &str = "/v1/developer/webhook-deliveries";
const LEGACY: &str = "/v1/webhook";

/// A matched route: which handler, the route key as `template.yaml` declares it, and the
/// path parameter.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Route {
    pub operation: Operation,
    route_key: &'static str,
    endpoint_id: Option<String>,
}

impl Route {
    pub(crate) fn find(method: &Method, path: &str) -> Option<Self> {
        let route = |operation, route_key, endpoint_id| {
            Some(Self {
                operation,
                route_key,
                endpoint_id,
            })
        };
        if path == LEGACY {
            return match *method {
                Method::GET => route(Operation::GetLegacyWebhook, "GET /v1/webhook", None),
                Method::PUT => route(Operation::SetLegacyWebhook, "PUT /v1/webhook", None),
                Method::PATCH => route(Operation::SetLegacyWebhook, "PATCH /v1/webhook", None),
                _ => None,
            };
        }
        if path == DELIVERIES {
            return match *method {
                Method::GET => route(
                    Operation::ListDeliveries,
                    "GET /v1/developer/webhook-deliveries",
                    None,
                ),
                _ => None,
            };
        }
        if path == COLLECTION {
            return match *method {
                Method::GET => route(
                    Operation::ListEndpoints,
                    "GET /v1/developer/webhook-endpoints",
                    None,
                ),
                Method::POST => route(
                    Operation::CreateEndpoint,
                    "POST /v1/developer/webhook-endpoints",
                    None,
                ),
                _ => None,
            };
        }
        let id = path.strip_prefix(COLLECTION)?.strip_prefix('/')?;
        if let Some(id) = id.strip_suffix("/test")
            && !id.is_empty()
            && !id.contains('/')
        {
            return match *method {
                Method::POST => route(
                    Operation::SendTestDelivery,
                    "POST /v1/developer/webhook-endpoints/{endpoint_id}/test",
                    Some(id.to_owned()),
                ),
                _ => None,
            };
        }
        if id.is_empty() || id.contains('/') {
            return None;
        }
        let id = Some(id.to_owned());
        match *method {
            Method::PATCH => route(
                Operation::UpdateEndpoint,
                "PATCH /v1/developer/webhook-endpoints/{endpoint_id}",
                id,
            ),
            Method::DELETE => route(
                Operation::DeleteEndpoint,
                "DELETE /v1/developer/webhook-endpoints/{endpoint_id}",
                id,
            ),
            _ => None,
        }
    }
}

/// The payload 2.0 event API Gateway would send for this request.
pub(crate) fn lambda_request(
    parts: &Parts,
    body: Bytes,
    route: &Route,
    identity: Option<&ApiKey>,
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
        headers.insert(name.as_str().to_owned(), Value::String(values.join(",")));
    }
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
    let mut context = json!({
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
        "routeKey": route.route_key,
        "stage": "$default",
        "timeEpoch": now,
    });
    if let Some(key) = identity {
        context["authorizer"] = json!({
            "lambda": { "org_id": key.org.get(), "role": key.role.as_str() }
        });
    }
    let (body, is_base64) = match String::from_utf8(body.to_vec()) {
        Ok(text) => (text, false),
        Err(_) => (STANDARD.encode(&body), true),
    };
    let mut event = json!({
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": parts.uri.path(),
        "rawQueryString": parts.uri.query().unwrap_or_default(),
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": is_base64,
    });
    if !body.is_empty() {
        event["body"] = Value::String(body);
    }
    if let Some(id) = &route.endpoint_id {
        event["pathParameters"] = json!({ "endpoint_id": id });
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
    let bytes = match body {
        lambda_http::Body::Text(text) => Bytes::from(text),
        lambda_http::Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
}

pub(crate) fn detail(status: StatusCode, detail: &str) -> hyper::Response<Full<Bytes>> {
    let body = json!({ "detail": detail }).to_string();
    let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

pub(crate) fn not_found() -> hyper::Response<Full<Bytes>> {
    detail(StatusCode::NOT_FOUND, "Not found.")
}

/// A route this server was started without, answered as API Gateway answers unknown ones.
pub(crate) fn not_served() -> lambda_http::Response<lambda_http::Body> {
    let mut response = lambda_http::Response::new(lambda_http::Body::Text(
        json!({ "detail": "Not found." }).to_string(),
    ));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

pub(crate) fn too_large() -> hyper::Response<Full<Bytes>> {
    detail(StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large.")
}

pub(crate) fn internal_error() -> hyper::Response<Full<Bytes>> {
    detail(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_api_routes_only() {
        let find = |m: Method, p: &str| Route::find(&m, p).map(|r| (r.operation, r.endpoint_id));
        assert_eq!(
            find(Method::GET, COLLECTION),
            Some((Operation::ListEndpoints, None))
        );
        assert_eq!(
            find(Method::POST, COLLECTION),
            Some((Operation::CreateEndpoint, None))
        );
        assert_eq!(
            find(Method::PATCH, "/v1/developer/webhook-endpoints/abc"),
            Some((Operation::UpdateEndpoint, Some("abc".into())))
        );
        assert_eq!(
            find(Method::DELETE, "/v1/developer/webhook-endpoints/abc"),
            Some((Operation::DeleteEndpoint, Some("abc".into())))
        );
        assert_eq!(find(Method::PUT, COLLECTION), None);
        assert_eq!(
            find(Method::GET, LEGACY),
            Some((Operation::GetLegacyWebhook, None))
        );
        assert_eq!(
            find(Method::PUT, LEGACY),
            Some((Operation::SetLegacyWebhook, None))
        );
        assert_eq!(
            find(Method::PATCH, LEGACY),
            Some((Operation::SetLegacyWebhook, None))
        );
        assert_eq!(find(Method::DELETE, LEGACY), None);
        assert_eq!(
            find(Method::GET, "/v1/developer/webhook-endpoints/abc"),
            None
        );
        assert_eq!(
            find(Method::PATCH, "/v1/developer/webhook-endpoints/"),
            None
        );
        assert_eq!(
            find(Method::PATCH, "/v1/developer/webhook-endpoints/a/b"),
            None
        );
        assert_eq!(find(Method::GET, "/v1/developer/webhook-endpointsx"), None);
        assert_eq!(
            find(Method::GET, DELIVERIES),
            Some((Operation::ListDeliveries, None))
        );
        assert_eq!(find(Method::POST, DELIVERIES), None);
        assert_eq!(
            find(Method::POST, "/v1/developer/webhook-endpoints/abc/test"),
            Some((Operation::SendTestDelivery, Some("abc".into())))
        );
        assert_eq!(
            find(Method::GET, "/v1/developer/webhook-endpoints/abc/test"),
            None
        );
        assert_eq!(
            find(Method::POST, "/v1/developer/webhook-endpoints//test"),
            None
        );
    }
}
