//! Who is calling: read from the Lambda authorizer's context, never from the request itself.

use std::collections::HashMap;

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::Value;
use webhook_domain::{Caller, KeyId, OrgId, Role, Timestamp};

use crate::ApiError;

/// The fields the authorizer answered, if it did.
fn authorized(request: &Request) -> Option<&HashMap<String, Value>> {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => Some(&context.authorizer.as_ref()?.fields),
        _ => None,
    }
}

/// The id of the key (or portal session) the authorizer found, if it named one.
pub(crate) fn key_id(request: &Request) -> Option<KeyId> {
    authorized(request)?
        .get("key_id")
        .and_then(Value::as_str)
        .and_then(KeyId::parse)
}

/// The caller as the authorizer established it (`requestContext.authorizer.lambda`), required
/// to be an owner or admin.
pub(crate) fn admin(request: &Request, now: Timestamp) -> Result<Caller, ApiError> {
    let fields = authorized(request).ok_or(ApiError::Unauthenticated)?;
    let org = match fields.get("org_id") {
        Some(Value::Number(n)) => n.as_u64().map(OrgId::new),
        Some(Value::String(s)) => OrgId::parse(s),
        _ => None,
    }
    .ok_or(ApiError::Unauthenticated)?;
    let role = fields
        .get("role")
        .and_then(Value::as_str)
        .ok_or(ApiError::Unauthenticated)?;
    // A role this service does not know grants nothing.
    let role = Role::parse(role).ok_or(ApiError::Forbidden(webhook_domain::Forbidden))?;
    // API Gateway may have cached the authorizer's answer past a session's end. A session's
    // end that cannot be read fails closed: the caller is nobody, never a key.
    let session_until = match fields.get("session_until") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.as_i64().ok_or(ApiError::Unauthenticated)?),
        Some(Value::String(s)) => Some(s.trim().parse().map_err(|_| ApiError::Unauthenticated)?),
        Some(_) => return Err(ApiError::Unauthenticated),
    };
    if session_until.is_some_and(|end| now.unix_millis() >= end) {
        return Err(ApiError::Unauthenticated);
    }
    let caller = Caller {
        org,
        role,
        session: session_until.is_some(),
    };
    Ok(caller.require_admin()?)
}

/// The id of the request as API Gateway (or dev-server) assigned it, for log lines.
pub(crate) fn request_id(request: &Request) -> String {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.request_id.clone(),
        _ => None,
    }
    .unwrap_or_else(|| "-".to_owned())
}
