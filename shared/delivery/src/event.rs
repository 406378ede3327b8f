//! What the platform publishes, and what travels between fan-out and delivery.

use crate::payload;
use crate::trace::TraceId;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use webhook_domain::{
    AgentId, AttemptSummary, DeliveryRef, Destination, EventId, EventName, LoggedEvent, OrgId,
    SentBody, Timestamp,
};

/// An event published by the platform:
/// `{"id", "org_id", "agent_id", "type", "data", "occurred_at"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformEvent {
    pub id: EventId,
    pub org_id: OrgId,
    pub agent_id: Option<AgentId>,
    /// A catalogue type, or a well-formed name this build does not know yet.
    #[serde(rename = "type")]
    pub event_type: EventName,
    pub data: serde_json::Map<String, Value>,
    pub occurred_at: Timestamp,
    /// The W3C `traceparent` of the publisher's trace, if it has one: every attempt of the
    /// event continues that trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

impl PlatformEvent {
    /// The publisher's trace, if its `traceparent` is well formed.
    fn published_trace(&self) -> Option<TraceId> {
        self.traceparent
            .as_deref()
            .and_then(TraceId::from_traceparent)
    }

    /// The trace each of its attempts carries: the publisher's, else its own id's.
    pub fn trace(&self) -> TraceId {
        self.published_trace()
            .unwrap_or_else(|| TraceId::of_event(self.id))
    }

    /// What the log keeps of the event once, for every destination's record.
    pub fn logged(&self) -> LoggedEvent {
        kept_body(
            self.org_id,
            self.id,
            &self.event_type,
            &self.data,
            self.occurred_at,
        )
    }

    /// The event `message` holds, or why it holds none (`malformed event: ...`).
    pub fn parse(message: &str) -> Result<Self, String> {
        serde_json::from_str(message).map_err(|e| format!("malformed event: {e}"))
    }
}

/// One event to one endpoint, with its progress through the retry schedule.
// Absent options are left out of items and messages rather than written as nulls.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub event_id: EventId,
    pub org_id: OrgId,
    /// Sent as `endpoint_id`, absent for the legacy URL.
    #[serde(
        rename = "endpoint_id",
        default,
        skip_serializing_if = "Destination::is_legacy"
    )]
    pub destination: Destination,
    /// The agent the event is about, so a retry can see whether the endpoint still wants it.
    pub agent_id: Option<AgentId>,
    #[serde(rename = "type")]
    pub event_type: EventName,
    pub data: serde_json::Map<String, Value>,
    /// When the event happened: it places the job's delivery log record, the same for every
    /// attempt and every duplicate. (Jobs queued before it was carried take their first attempt's.)
    pub occurred_at: Option<Timestamp>,
    /// Attempts made so far.
    pub attempts: u32,
    /// The attempts made before this chain began: a resend starts a new chain, with the whole
    /// schedule ahead of it, while attempt numbers go on counting.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub chain_starts_after: u32,
    pub first_attempt_at: Option<Timestamp>,
    /// Not to be attempted before this: set when a delay is longer than the queue can hold,
    /// so the job is passed along until then.
    pub not_before: Option<Timestamp>,
    /// A test route delivery's retry: it follows the test schedule, whatever the endpoint's
    /// status or subscription, and counts toward no stats.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
    /// A resend to an endpoint that was failing when asked: one attempt and no retries,
    /// whatever the endpoint's status by then (`EndpointHealth::resent_attempts`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub one_attempt: bool,
    /// Queued by resend or recover: its attempts count against the organization's share of
    /// resent deliveries in flight.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resent: bool,
    /// How often a resent job found its organization's resends in flight all taken: its next
    /// wait grows with it (`jobs::resent_wait`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub waits_for_a_place: u32,
    /// It took its paced endpoint's turn and waits on the queue for it: when it comes back it
    /// goes (`jobs::wait_for_turn`), and its retries take turns of their own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub holds_a_turn: bool,
    /// The publisher's trace; absent, the event's own (`DeliveryJob::trace`).
    pub trace_id: Option<TraceId>,
    /// The attempts made so far, for the log record (which each attempt writes whole).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "webhook_domain::sent_body::serialize_named"
    )]
    pub history: Vec<AttemptSummary>,
    /// Until when the log keeps the event's body (`LoggedEvent`), so that its endpoints'
    /// records need not carry it. A job without it (a test, a resend, one queued before this
    /// layout), or whose event would expire before its record, keeps it first.
    pub event_kept_until: Option<Timestamp>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl DeliveryJob {
    /// The event's first job to `destination`; fan-out clones the event for each.
    pub fn first(event: PlatformEvent, destination: Destination) -> Self {
        Self {
            trace_id: event.published_trace(),
            event_id: event.id,
            org_id: event.org_id,
            destination,
            agent_id: event.agent_id,
            event_type: event.event_type,
            data: event.data,
            occurred_at: Some(event.occurred_at),
            attempts: 0,
            chain_starts_after: 0,
            first_attempt_at: None,
            not_before: None,
            test: false,
            one_attempt: false,
            resent: false,
            waits_for_a_place: 0,
            holds_a_turn: false,
            history: Vec::new(),
            event_kept_until: None,
        }
    }

    /// What the log keeps of the job's event once, for every destination's record.
    pub fn logged_event(&self, occurred_at: Timestamp) -> LoggedEvent {
        kept_body(
            self.org_id,
            self.event_id,
            &self.event_type,
            &self.data,
            occurred_at,
        )
    }

    /// The trace every attempt of this job continues: the publisher's, else the event's own.
    pub fn trace(&self) -> TraceId {
        self.trace_id
            .unwrap_or_else(|| TraceId::of_event(self.event_id))
    }

    /// Attempts made in this chain (the schedule counts these).
    pub fn attempts_in_chain(&self) -> u32 {
        self.attempts.saturating_sub(self.chain_starts_after)
    }

    /// The call the event is about, when its data names one by number.
    pub fn call_id(&self) -> Option<i64> {
        match self.data.get("call_id")? {
            Value::Number(number) => number.as_i64(),
            Value::String(text) => text.parse().ok(),
            _ => None,
        }
    }

    /// What names this job's record in the delivery log, once its place is known.
    pub fn record_ref(&self) -> Option<DeliveryRef> {
        Some(DeliveryRef {
            org_id: self.org_id,
            event_id: self.event_id,
            destination: self.destination,
            // Jobs queued before occurred_at was carried were placed by their first attempt.
            occurred_at: self.occurred_at.or(self.first_attempt_at)?,
        })
    }

    /// The Standard Webhooks message id: the same for every attempt of this event to this
    /// endpoint, so receivers can drop duplicates.
    pub fn message_id(&self) -> String {
        format!("msg_{}", self.event_id.simple())
    }
}

/// The event's body as the log keeps it once; read from the event or any job of it, without
/// copying its data.
fn kept_body(
    org_id: OrgId,
    event_id: EventId,
    event_type: &EventName,
    data: &Map<String, Value>,
    occurred_at: Timestamp,
) -> LoggedEvent {
    LoggedEvent {
        org_id,
        event_id,
        occurred_at,
        body: SentBody::keep(&payload::body(event_type.as_str(), data)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_published_contract() {
        let event = PlatformEvent::parse(
            r#"{"id":"6a1f0b8e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","org_id":42,"agent_id":null,
               "type":"call.graded","data":{"call_id":"c_1"},"occurred_at":"2026-11-27T09:15:04.113Z"}"#,
        )
        .unwrap();
        assert_eq!(event.event_type, webhook_domain::EventType::CallGraded);
        assert_eq!(event.agent_id, None);
        assert_eq!(event.org_id, OrgId::new(42));
    }

    /// Queued jobs keep attempts with named fields, which every release reads (records keep
    /// the short tuples), and read either.
    #[test]
    fn a_jobs_history_is_queued_with_named_fields() {
        let attempt = AttemptSummary {
            at: Timestamp::from_unix_millis(1_776_709_450_113).unwrap(),
            http_status: Some(503),
            failure_category: Some(webhook_domain::FailureCategory::HttpError),
            duration_ms: 12,
        };
        let event = PlatformEvent::parse(
            r#"{"id":"6a1f0b8e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","org_id":42,"type":"call.graded",
               "data":{},"occurred_at":"2026-11-27T09:15:04.113Z"}"#,
        )
        .unwrap();
        let job = DeliveryJob {
            history: vec![attempt.clone()],
            ..DeliveryJob::first(event, Destination::Legacy)
        };
        let queued = serde_json::to_value(&job).unwrap();
        assert_eq!(
            queued["history"],
            serde_json::json!([{"at": "2026-04-20T18:24:10.113Z", "http_status": 503,
                                "failure_category": "http_error", "duration_ms": 12}])
        );
        let read: DeliveryJob = serde_json::from_value(queued).unwrap();
        assert_eq!(read.history, vec![attempt]);
    }

    #[test]
    fn types_this_build_does_not_know_parse_when_well_formed() {
        let event = PlatformEvent::parse(
            r#"{"id":"6a1f0b8e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","org_id":42,"type":"voicemail.left",
               "data":{},"occurred_at":"2026-11-27T09:15:04.113Z"}"#,
        )
        .unwrap();
        assert_eq!(event.event_type.as_str(), "voicemail.left");
        assert_eq!(event.event_type.known(), None);
        let job = serde_json::to_value(DeliveryJob::first(event, Destination::Legacy)).unwrap();
        assert_eq!(job["type"], "voicemail.left");
        assert!(job.get("test").is_none(), "only test retries say so");
    }

    #[test]
    fn the_call_id_is_read_when_the_data_names_one_by_number() {
        let job = |data: Value| {
            let mut event = PlatformEvent::parse(
                r#"{"id":"6a1f0b8e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","org_id":42,"type":"call.graded",
                   "data":{},"occurred_at":"2026-11-27T09:15:04.113Z"}"#,
            )
            .unwrap();
            event.data = data.as_object().unwrap().clone();
            DeliveryJob::first(event, Destination::Legacy)
        };
        assert_eq!(
            job(serde_json::json!({"call_id": 4711})).call_id(),
            Some(4711)
        );
        assert_eq!(
            job(serde_json::json!({"call_id": "4711"})).call_id(),
            Some(4711)
        );
        assert_eq!(job(serde_json::json!({"call_id": "c_1"})).call_id(), None);
        assert_eq!(job(serde_json::json!({"call_id": null})).call_id(), None);
        assert_eq!(job(serde_json::json!({})).call_id(), None);
    }

    #[test]
    fn refuses_what_does_not_match_it() {
        for bad in [
            "not json",
            r#"{"id":"x","org_id":42,"type":"call.graded","data":{},"occurred_at":"2026-11-27T09:15:04.113Z"}"#,
            r#"{"id":"6a1f0b8e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","org_id":42,"type":"Call Unknown","data":{},"occurred_at":"2026-11-27T09:15:04.113Z"}"#,
            r#"{"id":"6a1f0b8e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","org_id":42,"type":"call","data":{},"occurred_at":"2026-11-27T09:15:04.113Z"}"#,
            r#"{"id":"6a1f0b8e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","org_id":42,"type":"call.graded","data":[],"occurred_at":"2026-11-27T09:15:04.113Z"}"#,
            r#"{"id":"6a1f0b8e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","org_id":42,"type":"call.graded","data":{}}"#,
        ] {
            assert!(PlatformEvent::parse(bad).is_err(), "{bad}");
        }
    }
}
