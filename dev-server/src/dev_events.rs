//! `POST /_dev/events`: publishes an event for the caller's organization, as the platform would,
//! so a newcomer can watch a real delivery. Only dev-server has it; the API crate's
//! `publish_event` handler reads the caller and the body, this hands the event to the pipeline.

use webhook_api::{ApiError, PublishedEvent};
use webhook_delivery::event::PlatformEvent;
use webhook_delivery::local::LocalQueue;
use webhook_delivery::pipeline::Pipeline;
use webhook_domain::{OrgId, Timestamp};

pub(crate) async fn publish<S>(
    pipeline: &Pipeline<S, LocalQueue>,
    org: OrgId,
    event: PublishedEvent,
    now: Timestamp,
) -> Result<usize, ApiError>
where
    S: webhook_store::Store,
{
    let event = PlatformEvent {
        id: event.id,
        org_id: org,
        agent_id: event.agent_id,
        event_type: event.event_type,
        data: event.data,
        occurred_at: now,
    };
    pipeline.fan_out(&event).await.map_err(ApiError::internal)
}
