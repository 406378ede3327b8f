//! `POST /_dev/events`, dev-server's own route: publishes an event for the caller's
//! organization, as the platform would, so a newcomer can watch a real delivery. Nothing deploys
//! it: the platform publishes to the events queue, or invokes `dispatch-blocking`. The caller
//! and the body are read by the API crate's rules, and the event goes to the pipeline: to
//! fan-out, or for a blocking type to the synchronous dispatch `dispatch-blocking` runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request};
use serde_json::{Map, Value};
use webhook_api::ApiError;
use webhook_api::fields::{Fields, agent_or_null, event_name, json_object, string};
use webhook_api::handlers::{Answer, respond};
use webhook_api::response::json;
use webhook_delivery::dispatch;
use webhook_delivery::event::PlatformEvent;
use webhook_delivery::local::LocalQueue;
use webhook_delivery::pipeline::Pipeline;
use webhook_domain::{EventId, Timestamp};

/// The route's path; its method is POST.
pub(crate) const PATH: &str = "/_dev/events";

const FIELDS: &[&str] = &["id", "type", "data", "agent_id"];

/// When each event id was first published. The platform re-publishes an event as it was, so
/// publishing an id again re-publishes that event, time included: the pipeline then knows it
/// for the same event and sends nothing twice.
#[derive(Default)]
pub(crate) struct Published(Mutex<HashMap<EventId, Timestamp>>);

impl Published {
    /// Events a local session publishes are few; past this many, the oldest memory goes.
    const MAX: usize = 100_000;

    fn occurred_at(&self, id: EventId, now: Timestamp) -> Timestamp {
        let mut published = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if published.len() >= Self::MAX && !published.contains_key(&id) {
            published.clear();
        }
        *published.entry(id).or_insert(now)
    }
}

/// `{"type", "data", "agent_id", "id"}`, only `type` required: answered 202 `{"event_id",
/// "type", "endpoints"}` once fanned out, or 200 with the dispatch's answer for a blocking type.
pub(crate) async fn publish<S: webhook_store::Store>(
    pipeline: &Arc<Pipeline<S, LocalQueue>>,
    published: &Published,
    request: Request,
) -> Answer {
    respond(pipeline.clock.as_ref(), &request, async |caller| {
        let mut event = published_event(request.body(), caller.org, |id| {
            published.occurred_at(id, pipeline.clock.now())
        })?;
        // As a publisher passes its trace on: the request's own `traceparent`.
        event.traceparent = request
            .headers()
            .get("traceparent")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        if event.event_type.is_blocking() {
            let (dispatched, pending) = pipeline
                .dispatch_blocking(&event, dispatch::BUDGET)
                .await
                .map_err(ApiError::internal)?;
            // A server keeps running: the rest finishes after the answer.
            pending.detach();
            return Ok(json(StatusCode::OK, &dispatched));
        }
        let queued = pipeline.fan_out(&event).await.map_err(ApiError::internal)?;
        let accepted = serde_json::json!({"event_id": event.id, "type": event.event_type, "endpoints": queued});
        Ok(json(StatusCode::ACCEPTED, &accepted))
    })
    .await
}

fn published_event(
    body: &Body,
    org_id: webhook_domain::OrgId,
    occurred_at: impl FnOnce(EventId) -> Timestamp,
) -> Result<PlatformEvent, ApiError> {
    let mut fields = Fields::new(json_object(body)?, FIELDS, "field");
    let id = fields.optional("id", event_id);
    // Forward-compatible like the platform's queue: any well-formed name.
    let event_type = fields.required("type", event_name);
    let data = fields.optional("data", data_object);
    let agent_id = fields.optional("agent_id", agent_or_null);
    fields.finish_with(|| {
        let id = id.unwrap_or_else(EventId::generate);
        Some(PlatformEvent {
            id,
            org_id,
            agent_id: agent_id.flatten(),
            event_type: event_type?,
            data: data.unwrap_or_default(),
            occurred_at: occurred_at(id),
            traceparent: None,
        })
    })
}

fn event_id(value: &Value) -> Result<EventId, String> {
    uuid::Uuid::try_parse(string(value)?)
        .map(EventId::from)
        .map_err(|_| "Must be a valid UUID.".to_owned())
}

fn data_object(value: &Value) -> Result<Map<String, Value>, String> {
    match value {
        Value::Object(data) => Ok(data.clone()),
        _ => Err("Expected a JSON object.".to_owned()),
    }
}
