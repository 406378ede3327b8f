//! One function per route. Each is glue: who is calling, what they asked, one store call, the
//! answer. They never fail: every error becomes its response here.

use lambda_http::http::{Method, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, Request, RequestExt, Response};
use tracing::Instrument;
use webhook_domain::{
    Caller, Clock, DeliveryFilter, DeliveryRecord, DeliveryStatus, Destination, Endpoint,
    EndpointId, EndpointStatus, EventId, EventName, EventType, IdempotencyRecord, LegacyWebhook,
    LogKey, LogQuery, Minute, OrgId, Quota, QuotaCount, Replay, ResentAttempts, Rotation,
    SigningKeys, SigningSecret, SystemClock, TestDelivery, Timestamp,
};
use webhook_store::{
    ApiKeyStore, DeliveryLogStore, DeliveryStatsStore, EndpointStore, EventRef, ExternalIdStore,
    LegacyWebhookStore, QuotaStore, RotationAsked, StoreError,
};

use crate::idempotent::{Idempotent, IdempotentRouteStore, repeated_or, written};
use crate::identity::{admin, request_id};
use crate::response::{error_response, json, json_text, legacy_answer, no_content, uncacheable};
use crate::views::{
    AwsIdentityView, CreatedEndpointView, DeliveryDetailView, DeliveryListView, DeliveryView,
    EndpointStatsView, EndpointView, EventTypeView, PortalSessionView, TestDeliveryView,
};
use crate::{ApiError, App, CursorKey, request_body, request_query, routes};

/// `GET /v1/developer/webhook-endpoints`
pub async fn list_endpoints<S: EndpointStore>(app: &App<S>, request: Request) -> Answer {
    respond(app.clock.as_ref(), &request, async |caller| {
        let endpoints = app.store.list(caller.org).await?;
        let views: Vec<EndpointView> = endpoints.iter().map(EndpointView).collect();
        Ok(json(StatusCode::OK, &views))
    })
    .await
}

/// `POST /v1/developer/webhook-endpoints`; with an `Idempotency-Key`, the key is remembered
/// in the create's own transaction, and a repeat rebuilds the answer from what was stored.
pub async fn create_endpoint<S: IdempotentRouteStore>(app: &App<S>, request: Request) -> Answer {
    respond(app.clock.as_ref(), &request, async |caller| {
        let new = request_body::new_endpoint(request.body())?;
        let idempotent = Idempotent::of(&request)?;
        let now = app.clock.now();
        let secret = SigningSecret::generate().map_err(ApiError::internal)?;
        let endpoint = new.into_endpoint(caller.org, &secret, now);
        let remember = idempotent.as_ref().map(|i| {
            let replay = Replay::Endpoint {
                id: endpoint.id,
                secret_hint: secret.hint(),
            };
            i.record(StatusCode::CREATED, replay, now)
        });
        let max = app.settings.max_endpoints_per_org;
        let created = app
            .store
            .create(&endpoint, &secret, max, remember.as_ref())
            .await;
        written(created, idempotent.as_ref(), app, caller.org, now, |()| {
            let created = CreatedEndpointView::new(&endpoint, &secret);
            uncacheable(json(StatusCode::CREATED, &created))
        })
        .await
    })
    .await
}

/// `PATCH /v1/developer/webhook-endpoints/{endpoint_id}`
pub async fn update_endpoint<S: EndpointStore>(app: &App<S>, request: Request) -> Answer {
    respond(app.clock.as_ref(), &request, async |caller| {
        let id = endpoint_id(&request)?;
        let changes = request_body::endpoint_changes(request.body())?;
        let endpoint = app
            .store
            .update(caller.org, id, &changes, app.clock.now())
            .await?;
        Ok(json(StatusCode::OK, &EndpointView(&endpoint)))
    })
    .await
}

/// `DELETE /v1/developer/webhook-endpoints/{endpoint_id}`
pub async fn delete_endpoint<S: EndpointStore>(app: &App<S>, request: Request) -> Answer {
    respond(app.clock.as_ref(), &request, async |caller| {
        let id = endpoint_id(&request)?;
        app.store.delete(caller.org, id).await?;
        Ok(no_content())
    })
    .await
}

/// `GET /v1/webhook`: the legacy single-URL webhook, secret included.
pub async fn get_legacy_webhook<S: LegacyWebhookStore>(app: &App<S>, request: Request) -> Answer {
    respond(app.clock.as_ref(), &request, async |caller| {
        Ok(legacy_answer(&stored_legacy(app, caller.org).await?, None))
    })
    .await
}

/// `PUT` (URL required) and `PATCH /v1/webhook`: the first call creates the webhook with a new
/// secret; later ones change the URL and keep the secret.
pub async fn set_legacy_webhook<S: LegacyWebhookStore>(app: &App<S>, request: Request) -> Answer {
    respond(app.clock.as_ref(), &request, async |caller| {
        let url = request_body::legacy_url(request.body(), request.method() == Method::PUT)?;
        let legacy = match url {
            Some(url) => {
                let secret = SigningSecret::generate().map_err(ApiError::internal)?;
                let new = LegacyWebhook::new(caller.org, url, secret, app.clock.now());
                app.store.set_legacy_webhook(&new).await?
            }
            None => stored_legacy(app, caller.org).await?,
        };
        Ok(legacy_answer(&legacy, None))
    })
    .await
}

async fn stored_legacy<S: LegacyWebhookStore>(
    app: &App<S>,
    org: OrgId,
) -> Result<LegacyWebhook, ApiError> {
    app.store
        .legacy_webhook(org)
        .await?
        .ok_or(ApiError::NoLegacyWebhook)
}

/// `GET /v1/developer/webhook-deliveries`: the delivery log, newest first, a page at a time.
pub async fn list_deliveries<S: DeliveryLogStore>(app: &App<S>, request: Request) -> Answer {
    respond(app.clock.as_ref(), &request, async |caller| {
        let cursors = app
            .cursors
            .as_ref()
            .ok_or_else(|| ApiError::internal("the delivery log is served without a cursor key"))?;
        let query = request_query::delivery_query(request.query_string_parameters_ref())?;
        let after = opened(cursors, query.cursor.as_deref(), caller.org, &query.filter)?;
        let read =
            LogQuery::newest(query.filter.clone(), query.limit, app.clock.now()).after(after);
        let page = app.store.deliveries(caller.org, &read).await?;
        let next_cursor = page
            .resume_after
            .as_ref()
            .map(|position| cursors.seal(caller.org, &query.filter, position));
        Ok(json(
            StatusCode::OK,
            &DeliveryListView {
                results: page.records.iter().map(DeliveryView).collect(),
                has_more: page.has_more,
                next_cursor,
                limit: query.limit,
            },
        ))
    })
    .await
}

/// `POST /v1/developer/webhook-endpoints/{endpoint_id}/test`: one signed sample delivery, sent
/// by `send` (the delivery crate's, so this crate links no HTTP client), answered whatever its
/// outcome.
///
/// Each organization may send `Settings::test_deliveries` a minute (a repeat of an
/// idempotent request costs none); beyond, a 429 with `Retry-After`.
///
/// With an `Idempotency-Key`, the key is held while the test runs and then keeps its answer: a
/// repeat sends nothing.
pub async fn send_test_delivery<S>(
    app: &App<S>,
    request: Request,
    send: impl AsyncFnOnce(Endpoint, SigningKeys, EventName) -> TestDelivery,
) -> Answer
where
    S: IdempotentRouteStore + QuotaStore,
{
    respond(app.clock.as_ref(), &request, async |caller| {
        let id = endpoint_id(&request)?;
        let event_type = request_body::test_event_type(request.body())?;
        let idempotent = Idempotent::of(&request)?;
        let now = app.clock.now();
        if let Some(i) = &idempotent {
            let running = IdempotencyRecord::in_progress(i.key.clone(), i.fingerprint.clone(), now);
            if let Some(held) = app.store.reserve(caller.org, &running, now).await? {
                return i.answer_from(app, caller.org, &held).await;
            }
        }
        let tested = async {
            let (endpoint, keys) = app
                .store
                .signing_target(caller.org, id)
                .await?
                .ok_or(ApiError::NotFound)?;
            // Counted once the endpoint is found: a 404 sends nothing and costs nothing.
            take(app, caller.org, Quota::Tests, 1, now).await?;
            let delivery = send(endpoint, keys, event_type).await;
            serde_json::to_string(&TestDeliveryView::from(&delivery)).map_err(ApiError::internal)
        }
        .await;
        match (&idempotent, &tested) {
            (Some(i), Ok(body)) => {
                let replay = Replay::Answer { body: body.clone() };
                let answered = i.record(StatusCode::OK, replay, now);
                // The test was sent: not remembering it only costs a second test on a retry.
                if let Err(error) = app.store.remember(caller.org, &answered).await {
                    tracing::warn!(%error, "could not remember the test's answer");
                }
            }
            (Some(i), Err(_)) => {
                if let Err(error) = app.store.forget(caller.org, &i.key).await {
                    tracing::warn!(%error, "could not let go of the idempotency key");
                }
            }
            (None, _) => {}
        }
        Ok(json_text(StatusCode::OK, tested?))
    })
    .await
}

/// `POST /v1/developer/webhook-endpoints/{endpoint_id}/rotate-secret` and
/// `POST /v1/webhook/rotate-secret`: a new secret, shown once in the answer, while the one it
/// replaces keeps signing for `expire_previous_after_hours` (default 24). One function serves
/// both: the endpoint route is the one with an endpoint id.
pub async fn rotate_secret<S: IdempotentRouteStore>(app: &App<S>, request: Request) -> Answer {
    respond(app.clock.as_ref(), &request, async |caller| {
        let endpoint = path_endpoint_id(&request)
            .map(|raw| EndpointId::parse(raw).ok_or(ApiError::NotFound))
            .transpose()?;
        let grace = request_body::rotation_grace(request.body())?;
        let idempotent = Idempotent::of(&request)?;
        let now = app.clock.now();
        let rotation = Rotation::new(grace, now).map_err(ApiError::internal)?;
        let secret_hint = rotation.new.hint();
        let remember = |replay| {
            idempotent
                .as_ref()
                .map(|i| i.record(StatusCode::OK, replay, now))
        };
        let (org, i) = (caller.org, idempotent.as_ref());
        match endpoint {
            Some(id) => {
                let remember = remember(Replay::Endpoint { id, secret_hint });
                let from = match app.store.get(org, id).await {
                    Err(StoreError::NotFound) => {
                        return repeated_or(ApiError::NotFound, i, app, org, now).await;
                    }
                    from => from?,
                };
                let rotated = app
                    .store
                    .rotate_secret(RotationAsked {
                        remember: remember.as_ref(),
                        ..RotationAsked::new(&from, &rotation)
                    })
                    .await;
                written(rotated, i, app, org, now, |endpoint| {
                    let rotated = CreatedEndpointView::new(&endpoint, &rotation.new);
                    uncacheable(json(StatusCode::OK, &rotated))
                })
                .await
            }
            None => {
                let remember = remember(Replay::LegacyWebhook { secret_hint });
                let Some(from) = app.store.legacy_webhook(org).await? else {
                    return repeated_or(ApiError::NoLegacyWebhook, i, app, org, now).await;
                };
                let rotated = match app
                    .store
                    .rotate_legacy_secret(RotationAsked {
                        remember: remember.as_ref(),
                        ..RotationAsked::new(&from, &rotation)
                    })
                    .await
                {
                    Err(StoreError::NotFound) => return Err(ApiError::NoLegacyWebhook),
                    rotated => rotated,
                };
                written(rotated, i, app, org, now, |legacy| {
                    legacy_answer(&legacy, None)
                })
                .await
            }
        }
    })
    .await
}

/// `GET /v1/developer/webhook-endpoints/{endpoint_id}/stats`: the endpoint's health, from its
/// stats item (hourly buckets, no read of the log).
pub async fn endpoint_stats<S: DeliveryStatsStore>(app: &App<S>, request: Request) -> Answer {
    respond(app.clock.as_ref(), &request, async |caller| {
        let id = endpoint_id(&request)?;
        let health = app
            .store
            .endpoint_health(caller.org, id)
            .await?
            .ok_or(ApiError::NotFound)?;
        let view = EndpointStatsView::new(&health, app.clock.now());
        Ok(json(StatusCode::OK, &view))
    })
    .await
}

/// `POST /v1/developer/portal-sessions`: a sign-in link to the portal for the caller's
/// organization, with the caller's role, for an hour or as long as asked (5 minutes to a day).
/// Only the token's digest is kept. A session cannot open another, so no link outlives its end.
pub async fn create_portal_session<S: ApiKeyStore>(app: &App<S>, request: Request) -> Answer {
    respond(app.clock.as_ref(), &request, async |caller| {
        if caller.session {
            return Err(ApiError::Forbidden(webhook_domain::Forbidden));
        }
        let length = request_body::portal_session(request.body())?;
        let (token, end) = app
            .store
            .open_portal_session(caller, length, app.clock.now())
            .await?;
        let view = PortalSessionView::new(&origin(&request), &token, end);
        Ok(uncacheable(json(StatusCode::CREATED, &view)))
    })
    .await
}

/// `GET /v1/developer/webhook-event-types`: the catalogue, in order. It needs no storage.
pub async fn list_event_types(request: Request) -> Answer {
    respond(&SystemClock, &request, async |_| {
        let views = EventType::ALL.map(EventTypeView::from);
        Ok(json(StatusCode::OK, &views))
    })
    .await
}

/// `GET /v1/developer/webhook-aws-identity`: what a role in the customer's account must trust
/// for an SQS or EventBridge endpoint: the platform's account, with the organization's external
/// id (issued on the first ask). On Lambda the account is the function's own; elsewhere none is
/// known and no trust policy is shown.
pub async fn aws_identity<S: ExternalIdStore>(app: &App<S>, request: Request) -> Answer {
    respond(app.clock.as_ref(), &request, async |caller| {
        let external_id = app.store.external_id(caller.org).await?;
        let function = request
            .lambda_context_ref()
            .map(|context| context.invoked_function_arn.as_str());
        let view = AwsIdentityView::new(&external_id, function);
        Ok(json(StatusCode::OK, &view))
    })
    .await
}

/// `GET /v1/developer/webhook-deliveries/{event_id}?endpoint_id=<id>|legacy`: one delivery, with
/// the body it sent and every attempt.
pub async fn get_delivery<S: DeliveryLogStore>(app: &App<S>, request: Request) -> Answer {
    respond(app.clock.as_ref(), &request, async |caller| {
        let destination = request_query::destination_query(request.query_string_parameters_ref())?;
        let now = app.clock.now();
        let record = logged_delivery(app, caller.org, &request, destination, now).await?;
        Ok(json(StatusCode::OK, &DeliveryDetailView::from(&record)))
    })
    .await
}

/// `POST /v1/developer/webhook-deliveries/{event_id}/resend` with `{"endpoint_id": <id> |
/// "legacy"}`: a new chain of attempts of the same message, queued by `resend` (the delivery
/// crate's, so this crate links no queue). 202 `{"queued": 1}`; `{"queued": 0}` while the
/// delivery is still retrying. A deleted or disabled destination is a 409. Counts one against
/// the organization's per-minute resend quota.
pub async fn resend_delivery<S, E: std::fmt::Display>(
    app: &App<S>,
    request: Request,
    resend: impl AsyncFnOnce(Vec<DeliveryRecord>, ResentAttempts) -> Result<(), E>,
) -> Answer
where
    S: DeliveryLogStore + EndpointStore + DeliveryStatsStore + LegacyWebhookStore + QuotaStore,
{
    respond(app.clock.as_ref(), &request, async |caller| {
        let destination = request_body::resend_destination(request.body())?;
        let now = app.clock.now();
        let record = logged_delivery(app, caller.org, &request, destination, now).await?;
        let (endpoint, attempts) = match destination {
            Destination::Endpoint(id) => match app.store.endpoint_health(caller.org, id).await? {
                None => Err("The endpoint was deleted: there is nothing to resend to."),
                Some(health) if health.endpoint.status == EndpointStatus::Disabled => {
                    Err("The endpoint is disabled: enable it, then resend.")
                }
                Some(health) => {
                    let attempts = health.resent_attempts();
                    Ok((Some(health.endpoint), attempts))
                }
            },
            Destination::Legacy if app.store.legacy_webhook(caller.org).await?.is_none() => {
                Err("The legacy webhook URL was removed: there is nothing to resend to.")
            }
            Destination::Legacy => Ok((None, ResentAttempts::Scheduled)),
        }
        .map_err(ApiError::Conflict)?;
        if let Some(refusal) = record.resend_refusal(endpoint.as_ref()) {
            return Err(ApiError::Conflict(refusal.detail()));
        }
        let queued = |n: u32| json(StatusCode::ACCEPTED, &serde_json::json!({ "queued": n }));
        if record.awaits_attempt(now) {
            return Ok(queued(0));
        }
        take(app, caller.org, Quota::Resends, 1, now).await?;
        // Queued first, then opened: a failed queue changes nothing, and a job whose record
        // another resend opened first is the same attempt, which the claim sends once.
        let reference = record.reference();
        let made = record.attempt_count;
        if let Err(error) = resend(vec![record], attempts).await {
            give_back(app, caller.org, Quota::Resends, 1, now).await;
            return Err(ApiError::internal(error));
        }
        let opened = app.store.reopen_delivery(&reference, made, now).await?;
        Ok(queued(u32::from(opened)))
    })
    .await
}

/// How much of a call `recover` may take before it answers with a cursor: well inside its
/// function's 25 s timeout and API Gateway's 30 s.
pub const RECOVER_TIME: std::time::Duration = std::time::Duration::from_secs(10);
/// The most deliveries one `recover` call resends.
pub const RECOVER_MAX: usize = 1_000;
/// The most pages of the log one `recover` call reads (each within the store's read bound).
pub const RECOVER_PAGES: usize = 5;

/// `POST /v1/developer/webhook-endpoints/{endpoint_id}/recover` with `{"since": <date-time>}`:
/// resends every `failed` delivery to the endpoint whose event happened at or after `since`,
/// newest first, each as `resend_delivery` would (its record reopened once, the same message
/// again), queued by `resend`. Each queued delivery counts against the organization's
/// per-minute resend quota: a 429 with `Retry-After` when none is left. A call stops at
/// [`RECOVER_MAX`] deliveries, [`RECOVER_PAGES`] pages, [`RECOVER_TIME`] or the quota's end,
/// and answers 202 `{"queued", "has_more", "next_cursor"}`; call again with
/// `"cursor": next_cursor` for the rest. A deleted endpoint is a 404, a disabled one a 409.
pub async fn recover_endpoint<S, Resend, Resending, E>(
    app: &App<S>,
    request: Request,
    resend: Resend,
) -> Answer
where
    S: DeliveryLogStore + EndpointStore + DeliveryStatsStore + QuotaStore,
    // Not `AsyncFn`: its futures borrow the closure, which a spawned server task cannot hold.
    Resend: Fn(Vec<DeliveryRecord>, ResentAttempts) -> Resending,
    Resending: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    respond(app.clock.as_ref(), &request, async |caller| {
        let started = std::time::Instant::now();
        let id = endpoint_id(&request)?;
        let (since, cursor) = request_body::recovery(request.body())?;
        let cursors = app
            .cursors
            .as_ref()
            .ok_or_else(|| ApiError::internal("recover is served without a cursor key"))?;
        let filter = DeliveryFilter {
            endpoint_id: Some(id),
            status: Some(DeliveryStatus::Failed),
            since: Some(since),
            ..DeliveryFilter::default()
        };
        let mut after = opened(cursors, cursor.as_deref(), caller.org, &filter)?;
        let health = app
            .store
            .endpoint_health(caller.org, id)
            .await?
            .ok_or(ApiError::NotFound)?;
        let attempts = health.resent_attempts();
        let endpoint = health.endpoint;
        if endpoint.status == EndpointStatus::Disabled {
            return Err(ApiError::Conflict(
                "The endpoint is disabled: enable it, then recover.",
            ));
        }
        let now = app.clock.now();
        // A page at a time, each queued before its records are opened (as `resend_delivery`
        // does): a call cut short leaves nothing opened without its job. Test deliveries, and
        // deliveries that cannot be resent (blocking, bodiless, no longer subscribed), are
        // passed over.
        let mut queued = 0;
        let mut pages = 0;
        let has_more = loop {
            let wanted = (RECOVER_MAX - queued).min(request_query::MAX_PAGE_SIZE);
            let read = LogQuery::newest(filter.clone(), wanted, now)
                .after(after.clone())
                .with_bodies();
            let page = app.store.deliveries(caller.org, &read).await?;
            pages += 1;
            let mut batch: Vec<DeliveryRecord> = page
                .records
                .into_iter()
                .filter(|record| !record.test && record.resend_refusal(Some(&endpoint)).is_none())
                .collect();
            let wanted = u32::try_from(batch.len()).unwrap_or(u32::MAX);
            let granted = if batch.is_empty() {
                0
            } else {
                match take(app, caller.org, Quota::Resends, wanted, now).await {
                    // Once the call has made progress, a spent minute ends it with a cursor;
                    // only a call that got nowhere is a 429, as for a single resend.
                    Err(ApiError::QuotaSpent { .. }) if queued > 0 || pages > 1 => 0,
                    granted => granted?,
                }
            };
            // What the quota did not cover waits for the next call: the cursor resumes after
            // the last record queued.
            let cut_short = (granted as usize) < batch.len();
            batch.truncate(granted as usize);
            let opening: Vec<_> = batch
                .iter()
                .map(|record| (record.reference(), record.attempt_count))
                .collect();
            // A queue that fails part-way may have sent some of the batch, whose jobs go out:
            // the quota stays spent.
            if !batch.is_empty() {
                resend(batch, attempts)
                    .await
                    .map_err(ApiError::internal)?;
            }
            for (reference, attempts) in &opening {
                if app.store.reopen_delivery(reference, *attempts, now).await? {
                    queued += 1;
                }
            }
            if cut_short {
                if let Some((last, _)) = opening.last() {
                    after = Some(last.log_key());
                }
                break true;
            }
            after = page.resume_after;
            if !page.has_more {
                break false;
            }
            if queued >= RECOVER_MAX
                || pages >= RECOVER_PAGES
                || started.elapsed() >= RECOVER_TIME
            {
                break true;
            }
        };
        let next_cursor = after
            .as_ref()
            .filter(|_| has_more)
            .map(|position| cursors.seal(caller.org, &filter, position));
        Ok(json(
            StatusCode::ACCEPTED,
            &serde_json::json!({"queued": queued, "has_more": has_more, "next_cursor": next_cursor}),
        ))
    })
    .await
}

/// Takes `wanted` (or what is left of them) from the organization's minute of `quota`: a 429
/// with `Retry-After` when nothing is left.
async fn take<S: QuotaStore>(
    app: &App<S>,
    org: OrgId,
    quota: Quota,
    wanted: u32,
    now: Timestamp,
) -> Result<u32, ApiError> {
    let limit = app.settings.limit(quota);
    let minute = Minute::of(now);
    let count = QuotaCount { org, quota, minute };
    match app.store.take(count, wanted, limit).await? {
        0 => Err(ApiError::QuotaSpent {
            quota,
            per_minute: limit.per_minute(),
            retry_after: minute.seconds_left(now),
        }),
        taken => Ok(taken),
    }
}

/// Gives back `n` of the quota taken at `now` for work that then failed, so that the caller's
/// minute is not spent on nothing. A failure to is logged: the count lapses with its minute.
async fn give_back<S: QuotaStore>(app: &App<S>, org: OrgId, quota: Quota, n: u32, now: Timestamp) {
    let count = QuotaCount {
        org,
        quota,
        minute: Minute::of(now),
    };
    if let Err(error) = app.store.give_back(count, n).await {
        tracing::warn!(%error, "could not give back the quota taken for work that failed");
    }
}

/// The logged delivery of the path's event to `destination`: 404 if there is none.
async fn logged_delivery<S: DeliveryLogStore>(
    app: &App<S>,
    org: OrgId,
    request: &Request,
    destination: Destination,
    now: Timestamp,
) -> Result<DeliveryRecord, ApiError> {
    let event = EventRef {
        event_id: event_id(request)?,
        destination,
    };
    app.store
        .delivery(org, event, now)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Where a sealed cursor says to go on, for this organization and filter: a 400 if it was not
/// issued for them.
fn opened(
    cursors: &CursorKey,
    cursor: Option<&str>,
    org: OrgId,
    filter: &DeliveryFilter,
) -> Result<Option<LogKey>, ApiError> {
    cursor
        .map(|cursor| {
            cursors
                .open(cursor, org, filter)
                .ok_or_else(request_query::foreign_cursor)
        })
        .transpose()
}

/// An event id in a path: a UUID, hyphenated; anything else names no event (404).
fn event_id(request: &Request) -> Result<EventId, ApiError> {
    request
        .path_parameters_ref()
        .and_then(|params| params.first(routes::EVENT_ID))
        .and_then(EventId::parse)
        .ok_or(ApiError::NotFound)
}

/// Where the request came to, as `https://host`: API Gateway's domain name, with the scheme it
/// forwards (dev-server forwards `http`).
fn origin(request: &Request) -> String {
    let scheme = request
        .headers()
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .filter(|scheme| matches!(*scheme, "http" | "https"))
        .unwrap_or("https");
    let host = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.domain_name.clone(),
        _ => None,
    };
    format!("{scheme}://{}", host.unwrap_or_default())
}

/// An id that is not a UUID names no endpoint: 404, like an unknown one.
fn endpoint_id(request: &Request) -> Result<EndpointId, ApiError> {
    path_endpoint_id(request)
        .and_then(EndpointId::parse)
        .ok_or(ApiError::NotFound)
}

fn path_endpoint_id(request: &Request) -> Option<&str> {
    request
        .path_parameters_ref()
        .and_then(|params| params.first(routes::ENDPOINT_ID))
}

/// What every route answers: a response, whatever happened (the `Result` is `service_fn`'s).
pub type Answer = Result<Response<Body>, Error>;

/// Runs a handler for the caller (every route is for an organization's owners and admins),
/// inside a span carrying the request id, and turns its error into a response.
pub async fn respond(
    clock: &dyn Clock,
    request: &Request,
    handler: impl AsyncFnOnce(Caller) -> Result<Response<Body>, ApiError>,
) -> Answer {
    let span = tracing::info_span!("request", request_id = %request_id(request));
    let response = async { handler(admin(request, clock.now())?).await }
        .instrument(span)
        .await;
    Ok(response.unwrap_or_else(|error| error_response(&error)))
}
