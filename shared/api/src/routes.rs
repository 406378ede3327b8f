//! Every route the service answers, once: which handler serves it and which function binary
//! deploys it. dev-server matches requests against this table, and a test checks it against the
//! routes and binaries `template.yaml` declares.

use lambda_http::http::Method;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    ListEndpoints,
    CreateEndpoint,
    UpdateEndpoint,
    DeleteEndpoint,
    SendTestDelivery,
    ListEventTypes,
    EndpointStats,
    ListDeliveries,
    /// Both rotation routes, the endpoint's and the legacy webhook's.
    RotateSecret,
    GetLegacyWebhook,
    SetLegacyWebhook,
    GetDelivery,
    ResendDelivery,
    RecoverEndpoint,
    CreatePortalSession,
    /// What an AWS endpoint's role must trust.
    GetAwsIdentity,
    /// The portal's page and assets: public, served by the portal crate, not by a handler here.
    Portal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub operation: Operation,
    pub method: Method,
    /// As API Gateway declares it: `{endpoint_id}` stands for one path segment.
    pub path: &'static str,
    /// The function package (and binary) that serves it on Lambda.
    pub function: &'static str,
}

impl Route {
    /// `METHOD /path`, as API Gateway names a route.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

const fn route(
    operation: Operation,
    method: Method,
    path: &'static str,
    function: &'static str,
) -> Route {
    Route {
        operation,
        method,
        path,
        function,
    }
}

pub const ENDPOINT_ID: &str = "endpoint_id";
pub const ASSET: &str = "asset";
pub const EVENT_ID: &str = "event_id";

pub const ROUTES: &[Route] = &[
    route(
        Operation::ListEndpoints,
        Method::GET,
        "/v1/developer/webhook-endpoints",
        "list-endpoints",
    ),
    route(
        Operation::CreateEndpoint,
        Method::POST,
        "/v1/developer/webhook-endpoints",
        "create-endpoint",
    ),
    route(
        Operation::UpdateEndpoint,
        Method::PATCH,
        "/v1/developer/webhook-endpoints/{endpoint_id}",
        "update-endpoint",
    ),
    route(
        Operation::DeleteEndpoint,
        Method::DELETE,
        "/v1/developer/webhook-endpoints/{endpoint_id}",
        "delete-endpoint",
    ),
    route(
        Operation::SendTestDelivery,
        Method::POST,
        "/v1/developer/webhook-endpoints/{endpoint_id}/test",
        "send-test-delivery",
    ),
    route(
        Operation::RotateSecret,
        Method::POST,
        "/v1/developer/webhook-endpoints/{endpoint_id}/rotate-secret",
        "rotate-secret",
    ),
    route(
        Operation::RecoverEndpoint,
        Method::POST,
        "/v1/developer/webhook-endpoints/{endpoint_id}/recover",
        "recover-endpoint",
    ),
    route(
        Operation::EndpointStats,
        Method::GET,
        "/v1/developer/webhook-endpoints/{endpoint_id}/stats",
        "endpoint-stats",
    ),
    route(
        Operation::ListEventTypes,
        Method::GET,
        "/v1/developer/webhook-event-types",
        "list-event-types",
    ),
    route(
        Operation::ListDeliveries,
        Method::GET,
        "/v1/developer/webhook-deliveries",
        "list-deliveries",
    ),
    route(
        Operation::GetDelivery,
        Method::GET,
        "/v1/developer/webhook-deliveries/{event_id}",
        "get-delivery",
    ),
    route(
        Operation::ResendDelivery,
        Method::POST,
        "/v1/developer/webhook-deliveries/{event_id}/resend",
        "resend-delivery",
    ),
    route(
        Operation::GetLegacyWebhook,
        Method::GET,
        "/v1/webhook",
        "get-legacy-webhook",
    ),
    route(
        Operation::SetLegacyWebhook,
        Method::PUT,
        "/v1/webhook",
        "set-legacy-webhook",
    ),
    route(
        Operation::SetLegacyWebhook,
        Method::PATCH,
        "/v1/webhook",
        "set-legacy-webhook",
    ),
    route(
        Operation::RotateSecret,
        Method::POST,
        "/v1/webhook/rotate-secret",
        "rotate-secret",
    ),
    route(
        Operation::CreatePortalSession,
        Method::POST,
        "/v1/developer/portal-sessions",
        "create-portal-session",
    ),
    route(
        Operation::GetAwsIdentity,
        Method::GET,
        "/v1/developer/webhook-aws-identity",
        "get-aws-identity",
    ),
    route(Operation::Portal, Method::GET, "/portal", "portal"),
    route(Operation::Portal, Method::GET, "/portal/{asset}", "portal"),
];

/// A request matched to its route, with the path parameter when the route has one: its name
/// (`endpoint_id`, `event_id`) and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub route: &'static Route,
    pub parameter: Option<(&'static str, String)>,
}

/// The route `method path` reaches, as API Gateway would match it: a parameter is one
/// non-empty segment.
pub fn find(method: &Method, path: &str) -> Option<Matched> {
    ROUTES
        .iter()
        .filter(|route| route.method == *method)
        .find_map(|route| {
            let parameter = match_path(route.path, path)?;
            Some(Matched { route, parameter })
        })
}

/// `Some(parameter)` when `path` fits `pattern`; the inner option is the parameter, if any.
fn match_path(pattern: &'static str, path: &str) -> Option<Option<(&'static str, String)>> {
    if pattern.split('/').count() != path.split('/').count() {
        return None;
    }
    let mut parameter = None;
    for (expected, actual) in pattern.split('/').zip(path.split('/')) {
        match expected.strip_prefix('{').map(|n| n.trim_end_matches('}')) {
            Some(name) if !actual.is_empty() => parameter = Some((name, actual.to_owned())),
            None if expected == actual => {}
            _ => return None,
        }
    }
    Some(parameter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find_op(method: Method, path: &str) -> Option<(Operation, Option<String>)> {
        find(&method, path).map(|m| (m.route.operation, m.parameter.map(|(_, value)| value)))
    }

    #[test]
    fn matches_the_api_routes_only() {
        let collection = "/v1/developer/webhook-endpoints";
        let one = "/v1/developer/webhook-endpoints/abc";
        assert_eq!(
            find_op(Method::GET, collection),
            Some((Operation::ListEndpoints, None))
        );
        assert_eq!(
            find_op(Method::POST, collection),
            Some((Operation::CreateEndpoint, None))
        );
        assert_eq!(
            find_op(Method::PATCH, one),
            Some((Operation::UpdateEndpoint, Some("abc".into())))
        );
        assert_eq!(
            find_op(Method::DELETE, one),
            Some((Operation::DeleteEndpoint, Some("abc".into())))
        );
        assert_eq!(find_op(Method::PUT, collection), None);
        assert_eq!(find_op(Method::GET, one), None);
        assert_eq!(find_op(Method::PATCH, &format!("{collection}/")), None);
        assert_eq!(find_op(Method::PATCH, &format!("{collection}/a/b")), None);
        assert_eq!(find_op(Method::GET, &format!("{collection}x")), None);
        assert_eq!(
            find_op(Method::POST, &format!("{one}/test")),
            Some((Operation::SendTestDelivery, Some("abc".into())))
        );
        assert_eq!(find_op(Method::GET, &format!("{one}/test")), None);
        assert_eq!(
            find_op(Method::GET, &format!("{one}/stats")),
            Some((Operation::EndpointStats, Some("abc".into())))
        );
        assert_eq!(find_op(Method::POST, &format!("{one}/stats")), None);
        assert_eq!(find_op(Method::POST, &format!("{collection}//test")), None);
        assert_eq!(
            find_op(Method::GET, "/v1/developer/webhook-event-types"),
            Some((Operation::ListEventTypes, None))
        );
        assert_eq!(
            find_op(Method::GET, "/v1/developer/webhook-deliveries"),
            Some((Operation::ListDeliveries, None))
        );
        assert_eq!(
            find_op(Method::POST, "/v1/developer/webhook-deliveries"),
            None
        );
        assert_eq!(
            find_op(Method::GET, "/v1/webhook"),
            Some((Operation::GetLegacyWebhook, None))
        );
        for method in [Method::PUT, Method::PATCH] {
            assert_eq!(
                find_op(method, "/v1/webhook"),
                Some((Operation::SetLegacyWebhook, None))
            );
        }
        assert_eq!(find_op(Method::DELETE, "/v1/webhook"), None);
        assert_eq!(
            find_op(Method::POST, &format!("{one}/rotate-secret")),
            Some((Operation::RotateSecret, Some("abc".into())))
        );
        assert_eq!(
            find_op(Method::POST, "/v1/webhook/rotate-secret"),
            Some((Operation::RotateSecret, None))
        );
    }

    #[test]
    fn the_openapi_document_describes_exactly_these_routes() {
        let doc: serde_json::Value = serde_json::from_str(crate::OPENAPI).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let mut documented: Vec<String> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| {
                let methods = item.as_object().unwrap().keys();
                methods
                    .filter(|key| *key != "parameters")
                    .map(move |method| format!("{} {path}", method.to_uppercase()))
            })
            .collect();
        let mut declared: Vec<String> = ROUTES.iter().map(Route::key).collect();
        documented.sort();
        declared.sort();
        assert_eq!(documented, declared);
    }

    #[test]
    fn every_route_is_declared_once() {
        let mut keys: Vec<String> = ROUTES.iter().map(Route::key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), ROUTES.len());
    }
}
