//! One function per route. Each is glue: who is calling, what they asked, one store call, the
//! answer. They never fail: every error becomes its response here.

use std::future::Future;

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Error, Request, RequestExt, Response};
use tracing::Instrument;
use webhook_domain::{EndpointId, SigningSecret};
use webhook_store::{EndpointStore, LegacyWebhookStore};

use crate::identity::{admin, request_id};
use crate::response::{error_response, json, no_content, uncacheable};
use crate::views::{CreatedEndpointView, EndpointView, LegacyWebhookView};
use crate::{ApiError, App, request_body};

/// `GET /v1/developer/webhook-endpoints`
pub async fn list_endpoints<S: EndpointStore>(
    app: &App<S>,
    request: Request,
) -> Result<Response<Body>, Error> {
    respond(&request, async {
        let caller = admin(&request)?;
        let endpoints = app.store.list(caller.org).await?;
        let views: Vec<EndpointView> = endpoints.iter().map(EndpointView::from).collect();
        Ok(json(StatusCode::OK, &views))
    })
    .await
}

/// `POST /v1/developer/webhook-endpoints`
pub async fn create_endpoint<S: EndpointStore>(
    app: &App<S>,
    request: Request,
) -> Result<Response<Body>, Error> {
    respond(&request, async {
        let caller = admin(&request)?;
        let new = request_body::new_endpoint(request.body())?;
        let secret = SigningSecret::generate().map_err(ApiError::internal)?;
        let endpoint = new.into_endpoint(caller.org, &secret, app.clock.now());
        app.store
            .create(&endpoint, &secret, app.settings.max_endpoints_per_org)
            .await?;
        let created = CreatedEndpointView::new(&endpoint, &secret);
        Ok(uncacheable(json(StatusCode::CREATED, &created)))
    })
    .await
}

/// `PATCH /v1/developer/webhook-endpoints/{endpoint_id}`
pub async fn update_endpoint<S: EndpointStore>(
    app: &App<S>,
    request: Request,
) -> Result<Response<Body>, Error> {
    respond(&request, async {
        let caller = admin(&request)?;
        let id = endpoint_id(&request)?;
        let changes = request_body::endpoint_changes(request.body())?;
        let endpoint = app
            .store
            .update(caller.org, id, &changes, app.clock.now())
            .await?;
        Ok(json(StatusCode::OK, &EndpointView::from(&endpoint)))
    })
    .await
}

/// `DELETE /v1/developer/webhook-endpoints/{endpoint_id}`
pub async fn delete_endpoint<S: EndpointStore>(
    app: &App<S>,
    request: Request,
) -> Result<Response<Body>, Error> {
    respond(&request, async {
        let caller = admin(&request)?;
        let id = endpoint_id(&request)?;
        app.store.delete(caller.org, id).await?;
        Ok(no_content())
    })
    .await
}

/// `GET /v1/webhook`: the legacy single-URL webhook, secret included.
pub async fn get_legacy_webhook<S: LegacyWebhookStore>(
    app: &App<S>,
    request: Request,
) -> Result<Response<Body>, Error> {
    respond(&request, async {
        let caller = admin(&request)?;
        let legacy = app
            .store
            .legacy_webhook(caller.org)
            .await?
            .ok_or(ApiError::NoLegacyWebhook)?;
        Ok(uncacheable(json(
            StatusCode::OK,
            &LegacyWebhookView::from(&legacy),
        )))
    })
    .await
}

/// `PUT` (URL required) and `PATCH /v1/webhook`: the first call creates the webhook with a new
/// secret; later ones change the URL and keep the secret.
pub async fn set_legacy_webhook<S: LegacyWebhookStore>(
    app: &App<S>,
    request: Request,
) -> Result<Response<Body>, Error> {
    respond(&request, async {
        let caller = admin(&request)?;
        let url = request_body::legacy_url(request.body(), request.method() == Method::PUT)?;
        let legacy = match url {
            Some(url) => {
                let secret = SigningSecret::generate().map_err(ApiError::internal)?;
                app.store
                    .set_legacy_webhook(caller.org, &url, &secret, app.clock.now())
                    .await?
            }
            None => app
                .store
                .legacy_webhook(caller.org)
                .await?
                .ok_or(ApiError::NoLegacyWebhook)?,
        };
        Ok(uncacheable(json(
            StatusCode::OK,
            &LegacyWebhookView::from(&legacy),
        )))
    })
    .await
}

/// An id that is not a UUID names no endpoint: 404, like an unknown one.
fn endpoint_id(request: &Request) -> Result<EndpointId, ApiError> {
    request
        .path_parameters_ref()
        .and_then(|params| params.first("endpoint_id"))
        .and_then(EndpointId::parse)
        .ok_or(ApiError::NotFound)
}

/// Runs a handler body inside a span carrying the request id and turns its error into a response.
async fn respond(
    request: &Request,
    handler: impl Future<Output = Result<Response<Body>, ApiError>>,
) -> Result<Response<Body>, Error> {
    let span = tracing::info_span!("request", request_id = %request_id(request));
    let response = handler.instrument(span).await;
    Ok(response.unwrap_or_else(|error| error_response(&error)))
}
