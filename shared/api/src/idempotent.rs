//! `Idempotency-Key` on the routes with effects (create, rotate-secret, test): the header, the
//! request's fingerprint, and the replay of a first call's answer.

use lambda_http::http::{HeaderName, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use sha2::{Digest, Sha256};
use webhook_domain::{
    IdempotencyKey, IdempotencyRecord, InvalidIdempotencyKey, OrgId, Repeat, Replay, Timestamp,
    secret_named,
};
use webhook_store::{EndpointStore, IdempotencyStore, LegacyWebhookStore, StoreError};

use crate::error::IN_PROGRESS;
use crate::identity;
use crate::response::{json, json_text, legacy_answer, uncacheable};
use crate::views::CreatedEndpointView;
use crate::{ApiError, App};

pub(crate) const HEADER: &str = "idempotency-key";
/// Set on an answer that replays a first call's.
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

const MISMATCH: &str = "This Idempotency-Key was already used with a different request.";
const GONE: &str = "The result of the request with this Idempotency-Key no longer exists (deleted, or its secret changed since); use a new key.";

/// What a route taking an `Idempotency-Key` needs of storage: the key's records, and what a
/// replay rebuilds its answer from (the endpoint, or the legacy webhook, as stored now).
pub trait IdempotentRouteStore: EndpointStore + LegacyWebhookStore + IdempotencyStore {}

impl<S: EndpointStore + LegacyWebhookStore + IdempotencyStore> IdempotentRouteStore for S {}

/// A request that carries a key: the key, and what the request asks.
pub(crate) struct Idempotent {
    pub key: IdempotencyKey,
    pub fingerprint: String,
}

impl Idempotent {
    /// The request's key and fingerprint, if it sent a key; a malformed key is a 400.
    pub(crate) fn of(request: &Request) -> Result<Option<Self>, ApiError> {
        Ok(key(request)?.map(|key| Self {
            key,
            fingerprint: fingerprint(request),
        }))
    }

    /// What to remember of an answer given `now`.
    pub(crate) fn record(
        &self,
        status: StatusCode,
        replay: Replay,
        now: Timestamp,
    ) -> IdempotencyRecord {
        IdempotencyRecord::new(
            self.key.clone(),
            self.fingerprint.clone(),
            status.as_u16(),
            replay,
            now,
        )
    }

    /// The answer a repeated request gets from the record holding its key.
    pub(crate) async fn answer_from<S>(
        &self,
        app: &App<S>,
        org: OrgId,
        record: &IdempotencyRecord,
    ) -> Result<Response<Body>, ApiError>
    where
        S: EndpointStore + LegacyWebhookStore,
    {
        let replay = match record.repeat(&self.fingerprint) {
            Repeat::Mismatch => return Err(ApiError::Conflict(MISMATCH)),
            Repeat::InProgress => return Err(ApiError::Conflict(IN_PROGRESS)),
            Repeat::Replay(replay) => replay,
        };
        let status = StatusCode::from_u16(record.status).map_err(ApiError::internal)?;
        let mut response = match replay {
            Replay::Endpoint { id, secret_hint } => {
                let (endpoint, keys) = app
                    .store
                    .signing_target(org, *id)
                    .await?
                    .ok_or(ApiError::Conflict(GONE))?;
                let secret = secret_named(&keys, secret_hint).ok_or(ApiError::Conflict(GONE))?;
                uncacheable(json(status, &CreatedEndpointView::new(&endpoint, secret)))
            }
            Replay::LegacyWebhook { secret_hint } => {
                let legacy = app
                    .store
                    .legacy_webhook(org)
                    .await?
                    .ok_or(ApiError::Conflict(GONE))?;
                let secret =
                    secret_named(&legacy.keys, secret_hint).ok_or(ApiError::Conflict(GONE))?;
                legacy_answer(&legacy, Some(secret))
            }
            Replay::Answer { body } => json_text(status, body.clone()),
            Replay::InProgress { .. } => return Err(ApiError::Conflict(IN_PROGRESS)),
        };
        response
            .headers_mut()
            .insert(REPLAYED, HeaderValue::from_static("true"));
        Ok(response)
    }
}

/// The answer to a write that may have found its key taken: `done`'s of what was written, or
/// the first call's answer, read from the record that holds the key.
pub(crate) async fn written<T, S>(
    result: Result<T, StoreError>,
    idempotent: Option<&Idempotent>,
    app: &App<S>,
    org: OrgId,
    now: Timestamp,
    done: impl FnOnce(T) -> Response<Body>,
) -> Result<Response<Body>, ApiError>
where
    S: IdempotentRouteStore,
{
    match (result, idempotent) {
        (Ok(written), _) => Ok(done(written)),
        // Taken a moment ago and expired since, the key answers that the caller may retry.
        (Err(StoreError::KeyTaken), Some(idempotent)) => {
            let expired = ApiError::Conflict(IN_PROGRESS);
            repeated_or(expired, Some(idempotent), app, org, now).await
        }
        (Err(error), _) => Err(error.into()),
    }
}

/// The answer to a request whose target is not there: a repeat's, from the record of its key
/// (a 409 when the first call's result is gone with its target), else `missing`.
pub(crate) async fn repeated_or<S: IdempotentRouteStore>(
    missing: ApiError,
    idempotent: Option<&Idempotent>,
    app: &App<S>,
    org: OrgId,
    now: Timestamp,
) -> Result<Response<Body>, ApiError> {
    let Some(i) = idempotent else {
        return Err(missing);
    };
    match app.store.idempotency_record(org, &i.key, now).await? {
        Some(first) => i.answer_from(app, org, &first).await,
        None => Err(missing),
    }
}

/// The caller's key, if it sent one: a malformed one is a 400.
fn key(request: &Request) -> Result<Option<IdempotencyKey>, ApiError> {
    request
        .headers()
        .get(HEADER)
        .map(|raw| IdempotencyKey::parse(raw.to_str().map_err(|_| InvalidIdempotencyKey)?))
        .transpose()
        .map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// What makes two requests the same: the API key that sent it (so a key is replayed only to
/// whoever first used it, however its `Authorization` header is spelled), the method, the path
/// and the body as JSON (so spacing and key order do not count; no body is `{}`). An answer an
/// authorizer cached before it named keys stands for its key by the header's digest.
fn fingerprint(request: &Request) -> String {
    let body: &[u8] = request.body().as_ref();
    let canonical = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".to_vec()
    } else {
        serde_json::from_slice::<serde_json::Value>(body)
            .map(|value| value.to_string().into_bytes())
            .unwrap_or_else(|_| body.to_vec())
    };
    let key_id = identity::key_id(request);
    let credential = match &key_id {
        Some(id) => id.as_str().as_bytes(),
        None => request
            .headers()
            .get(lambda_http::http::header::AUTHORIZATION)
            .map(HeaderValue::as_bytes)
            .unwrap_or_default(),
    };
    let mut digest = Sha256::new();
    digest.update(Sha256::digest(credential));
    digest.update(b"\n");
    digest.update(request.method().as_str());
    digest.update(b"\n");
    digest.update(request.uri().path());
    digest.update(b"\n");
    digest.update(&canonical);
    hex::encode(digest.finalize())
}
