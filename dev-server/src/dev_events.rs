//! `POST /_dev/events`: publishes an event for the caller's organization, as the platform would,
//! so a newcomer can watch a real delivery. Only dev-server has it.

use http_body_util::Full;
use hyper::StatusCode;
use hyper::body::Bytes;
use serde_json::{Value, json};
use webhook_delivery::event::PlatformEvent;
use webhook_delivery::local::LocalQueue;
use webhook_delivery::pipeline::Pipeline;
use webhook_domain::{AgentId, Caller, Clock, EventType, SystemClock};

use crate::ApiKey;
use crate::gateway::detail;

pub(crate) const PATH: &str = "/_dev/events";

pub(crate) async fn publish<S>(
    pipeline: &Pipeline<S, LocalQueue>,
    identity: Option<&ApiKey>,
    body: &[u8],
) -> hyper::Response<Full<Bytes>>
where
    S: webhook_store::Store,
{
    let Some(key) = identity else {
        return detail(
            StatusCode::UNAUTHORIZED,
            "Authentication credentials were not provided.",
        );
    };
    let caller = Caller {
        org: key.org,
        role: key.role,
    };
    if let Err(forbidden) = caller.require_admin() {
        return detail(StatusCode::FORBIDDEN, &forbidden.to_string());
    }
    let event = match parse(body) {
        Ok((event_type, data, agent_id)) => PlatformEvent {
            id: uuid::Uuid::new_v4(),
            org_id: caller.org,
            agent_id,
            event_type,
            data,
            occurred_at: SystemClock.now(),
        },
        Err(problem) => return detail(StatusCode::BAD_REQUEST, &problem),
    };
    match pipeline.fan_out(&event).await {
        Ok(queued) => {
            let body = json!({"event_id": event.id, "type": event.event_type, "endpoints": queued});
            let mut response = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
            *response.status_mut() = StatusCode::ACCEPTED;
            response
        }
        Err(error) => {
            tracing::error!(%error, "fan-out failed");
            detail(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error.")
        }
    }
}

type Parsed = (EventType, serde_json::Map<String, Value>, Option<AgentId>);

/// `{"type": ..., "data": {...}, "agent_id": optional}`.
fn parse(body: &[u8]) -> Result<Parsed, String> {
    let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(body) else {
        return Err("Request body must be a JSON object with \"type\" and \"data\".".into());
    };
    let event_type = match object.remove("type") {
        Some(Value::String(name)) => name
            .parse::<EventType>()
            .map_err(|e| format!("type: {e}"))?,
        _ => return Err("type: This field is required (an event type of the catalogue).".into()),
    };
    let data = match object.remove("data") {
        None => serde_json::Map::new(),
        Some(Value::Object(data)) => data,
        Some(_) => return Err("data: Expected a JSON object.".into()),
    };
    let agent_id = match object.remove("agent_id") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(
            n.as_u64()
                .and_then(AgentId::new)
                .ok_or("agent_id: Expected a positive integer or null.")?,
        ),
        Some(_) => return Err("agent_id: Expected a positive integer or null.".into()),
    };
    if let Some(unknown) = object.keys().next() {
        return Err(format!(
            "{unknown}: Unknown field; allowed fields are type, data and agent_id."
        ));
    }
    Ok((event_type, data, agent_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_event_and_names_what_is_wrong() {
        let (t, data, agent) =
            parse(br#"{"type":"call.graded","data":{"x":1},"agent_id":4}"#).unwrap();
        assert_eq!(
            (t, data["x"].clone(), agent),
            (EventType::CallGraded, json!(1), AgentId::new(4))
        );
        for (bad, field) in [
            (&br#"[]"#[..], "type"),
            (br#"{"data":{}}"#, "type"),
            (br#"{"type":"nope"}"#, "nope"),
            (br#"{"type":"web.tool","data":[1]}"#, "data"),
            (br#"{"type":"web.tool","agent_id":0}"#, "agent_id"),
            (br#"{"type":"web.tool","extra":1}"#, "extra"),
        ] {
            assert!(
                parse(bad).unwrap_err().contains(field),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
