//! `POST /_dev/events`: publishes an event for the caller's organization, as the platform would,
//! so a newcomer can watch a real delivery. Only dev-server has it; the API crate's
//! `publish_event` handler reads the caller and the body, this hands the event to the pipeline:
//! to fan-out, or for a blocking type to the synchronous dispatch `dispatch-blocking` runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use webhook_api::handlers::PublishOutcome;
use webhook_api::{ApiError, PublishedEvent};
use webhook_delivery::dispatch;
use webhook_delivery::event::PlatformEvent;
use webhook_delivery::local::LocalQueue;
use webhook_delivery::pipeline::Pipeline;
use webhook_domain::{OrgId, Timestamp};

/// When each event id was first published. The platform re-publishes an event as it was, so
/// publishing an id again re-publishes that event, time included: the pipeline then knows it
/// for the same event and sends nothing twice.
#[derive(Default)]
pub(crate) struct Published(Mutex<HashMap<uuid::Uuid, Timestamp>>);

impl Published {
    /// Events a local session publishes are few; past this many, the oldest memory goes.
    const MAX: usize = 100_000;

    fn occurred_at(&self, id: uuid::Uuid, now: Timestamp) -> Timestamp {
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

pub(crate) async fn publish<S>(
    pipeline: &Arc<Pipeline<S, LocalQueue>>,
    published: &Published,
    org: OrgId,
    event: PublishedEvent,
    now: Timestamp,
) -> Result<PublishOutcome, ApiError>
where
    S: webhook_store::Store,
{
    let event = PlatformEvent {
        id: event.id,
        org_id: org,
        agent_id: event.agent_id,
        event_type: event.event_type,
        data: event.data,
        occurred_at: published.occurred_at(event.id, now),
    };
    if event.event_type.is_blocking() {
        let (dispatched, pending) = pipeline
            .dispatch_blocking(&event, dispatch::BUDGET)
            .await
            .map_err(ApiError::internal)?;
        // A server keeps running: the rest finishes after the answer.
        pending.detach();
        let answer = serde_json::to_value(dispatched).map_err(ApiError::internal)?;
        return Ok(PublishOutcome::Dispatched(answer));
    }
    let queued = pipeline.fan_out(&event).await.map_err(ApiError::internal)?;
    Ok(PublishOutcome::Queued(queued))
}
