//! The bundled API-key authorizer (payload 2.0, simple responses), and the same check for
//! dev-server: the bearer key's digest names one record, read once.
//!
//! An unknown or revoked key is still *authorized*, with an empty context: the handlers then
//! answer the product's 401 `{"detail": …}` instead of API Gateway's bare `{"message": …}`.
//! Nothing is reachable with an empty context, since every handler requires an organization.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use webhook_domain::{ApiKeySecret, Timestamp};
use webhook_store::{ApiKeyStore, StoreError};

/// Who presents `authorization` (an `Authorization` header value) at `now`: the organization and
/// role of a live key or portal session it names (with the session's end), or nobody.
pub async fn identify<S: ApiKeyStore>(
    store: &S,
    authorization: Option<&str>,
    now: Timestamp,
) -> Result<AuthorizerContext, StoreError> {
    let Some(key) = authorization.and_then(ApiKeySecret::from_authorization) else {
        return Ok(AuthorizerContext::default());
    };
    let record = store.api_key(&key.digest().id()).await?;
    Ok(record
        .filter(|record| record.admits(&key))
        .and_then(|record| {
            let caller = record.caller(now)?;
            Some(AuthorizerContext {
                org_id: Some(caller.org.get()),
                role: Some(caller.role.as_str()),
                session_until: record.valid_until.map(Timestamp::unix_millis),
                key_id: Some(record.id.to_string()),
            })
        })
        .unwrap_or_default())
}

/// What API Gateway sends a payload 2.0 authorizer: only the headers matter here (lowercase
/// names, repeated values joined by commas).
#[derive(Debug, Deserialize)]
pub struct AuthorizerRequest {
    #[serde(default)]
    pub headers: HashMap<String, String>,
}

/// A simple response: the context becomes `requestContext.authorizer.lambda` for the handlers.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerResponse {
    pub is_authorized: bool,
    pub context: AuthorizerContext,
}

/// `{org_id, role, key_id}` for a live key, with `session_until` (Unix milliseconds) for a
/// portal session; `{}` for anything else. API Gateway caches an answer for `ReauthorizeEvery`,
/// so the handlers check a session's end themselves. The key id (public: it names the key in
/// listings) is what an idempotency record is bound to.
#[serde_with::skip_serializing_none]
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct AuthorizerContext {
    pub org_id: Option<u64>,
    pub role: Option<&'static str>,
    pub session_until: Option<i64>,
    pub key_id: Option<String>,
}

/// The authorizer Lambda's handler. A storage failure is an error (API Gateway answers 500,
/// nothing is cached, and the function's error alarm hears it), never a guess.
pub async fn authorize<S: ApiKeyStore>(
    store: &S,
    request: AuthorizerRequest,
    now: Timestamp,
) -> Result<AuthorizerResponse, lambda_http::Error> {
    let authorization = request.headers.get("authorization").map(String::as_str);
    let context = identify(store, authorization, now)
        .await
        .inspect_err(|error| {
            tracing::error!(%error, "could not read the API key");
        })?;
    Ok(AuthorizerResponse {
        is_authorized: true,
        context,
    })
}
