//! Ready-made values for tests and benchmarks (feature `testing`), so every test crate builds
//! endpoints and delivery records one way. Fields are public: adjust what a test is about.

use crate::{
    Clock, CustomHeaders, DeliveryRecord, DeliveryStatus, Destination, Endpoint, EndpointUrl,
    EventSubscription, EventType, Label, NewEndpoint, OrgId, RequestedStatus, SigningSecret,
    SystemClock, Timestamp,
};

/// A fixed instant, 2026-11-27T09:15:04.113Z, for values whose time does not matter.
pub fn instant() -> Timestamp {
    Timestamp::from_unix_millis(1_795_770_904_113).unwrap_or_else(|| SystemClock.now())
}

/// The instant `millis` milliseconds after the epoch, for tests that count time in them.
pub fn at(millis: i64) -> Timestamp {
    Timestamp::from_unix_millis(millis)
        .unwrap_or_else(|| panic!("{millis} ms is outside the years 1 to 9999"))
}

/// An active endpoint of `org` subscribed to every type, at a public https URL, with a fresh
/// id and the hint of a fresh secret.
pub fn endpoint(org: OrgId) -> Endpoint {
    new_endpoint().into_endpoint(org, &fixed_secret(), instant())
}

/// [`endpoint`] created at `created`, with a freshly generated secret whose hint it carries.
pub fn endpoint_with_secret(org: OrgId, created: Timestamp) -> (Endpoint, SigningSecret) {
    // Randomness never fails in practice; a fixed secret is a fine stand-in if it does.
    let secret = SigningSecret::generate().unwrap_or_else(|_| fixed_secret());
    (new_endpoint().into_endpoint(org, &secret, created), secret)
}

/// A create request for an active endpoint subscribed to every type, at a public https URL.
pub fn new_endpoint() -> NewEndpoint {
    NewEndpoint {
        label: Label::from_stored("Fixture".to_owned()),
        url: EndpointUrl::from_stored("https://hooks.example.com/fixture".to_owned()),
        role_arn: None,
        events: EventSubscription::all(),
        status: RequestedStatus::Active,
        agent_id: None,
        headers: CustomHeaders::default(),
        rate_limit: None,
    }
}

fn fixed_secret() -> SigningSecret {
    SigningSecret::from_stored("whsec_Zml4dHVyZS1zZWNyZXQtMjQtYnl0ZXMh".to_owned())
}

/// A record of one `call.graded` event delivered at its first attempt to `endpoint` (`None`:
/// the legacy URL), the event having happened at `occurred_at`.
pub fn delivery_record(
    org: OrgId,
    destination: impl Into<Destination>,
    occurred_at: Timestamp,
) -> DeliveryRecord {
    let destination = destination.into();
    DeliveryRecord {
        org_id: org,
        event_id: crate::EventId::generate(),
        destination,
        endpoint_label: if destination.is_legacy() {
            String::new()
        } else {
            "Fixture".to_owned()
        },
        url: "https://hooks.example.com/fixture".to_owned(),
        event_type: EventType::CallGraded.into(),
        agent_id: None,
        call_id: None,
        occurred_at,
        status: DeliveryStatus::Delivered,
        attempt_count: 1,
        http_status: Some(200),
        failure_category: None,
        last_attempt_at: occurred_at,
        next_retry_at: None,
        test: false,
        claim: None,
        attempts: vec![crate::AttemptSummary {
            at: occurred_at,
            http_status: Some(200),
            failure_category: None,
            duration_ms: 40,
        }],
        body: Some(crate::SentBody::compress(
            br#"{"data":{"call_id":"c_1"},"type":"call.graded"}"#,
        )),
    }
}
