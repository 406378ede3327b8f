use std::fmt;
use std::num::NonZeroU64;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    CustomHeaders, EndpointStatus, EndpointUrl, EventName, EventSubscription, Label, OrgId, Pace,
    RateLimit, RequestedStatus, RoleArn, SecretHint, SigningSecret, Timestamp,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EndpointId(Uuid);

impl EndpointId {
    /// A new id: a UUIDv7, time-ordered and increasing within this process even inside one
    /// millisecond, so ids sort in creation order (the list's tie-break).
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    /// An id as a path names it: the hyphenated form only, in either case. Braces, `urn:uuid:`
    /// and the hyphen-less form name no endpoint, so one endpoint has one address.
    pub fn parse(raw: &str) -> Option<Self> {
        let id: uuid::fmt::Hyphenated = raw.parse().ok()?;
        Some(Self(id.into_uuid()))
    }

    pub fn as_uuid(self) -> Uuid {
        self.0
    }
}

impl fmt::Display for EndpointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// An agent of the organization; an endpoint scoped to one receives only that agent's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AgentId(NonZeroU64);

impl AgentId {
    pub fn new(id: u64) -> Option<Self> {
        NonZeroU64::new(id).map(Self)
    }

    pub fn get(self) -> u64 {
        self.0.get()
    }
}

/// A webhook destination as the organization sees it. The secret is kept apart: only its hint
/// travels with the endpoint.
// Absent options are left out of items and messages rather than written as nulls.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: EndpointId,
    pub org_id: OrgId,
    pub label: Label,
    pub url: EndpointUrl,
    /// What an ARN url is reached through; none for an https one (`RoleArn::for_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<RoleArn>,
    pub events: EventSubscription,
    pub status: EndpointStatus,
    pub agent_id: Option<AgentId>,
    /// Sent with every delivery; values never logged.
    #[serde(default, skip_serializing_if = "CustomHeaders::is_empty")]
    pub headers: CustomHeaders,
    /// Deliveries a second it is sent at most; none: as fast as they come.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// Slower than that while its receiver asks to slow down. Internal: the stats show it as
    /// the effective rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pace: Option<Pace>,
    pub secret_hint: SecretHint,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When a caller last made the endpoint active again; failures before it no longer count
    /// toward `failing`. Internal: not part of the endpoint object users see.
    pub streak_reset_at: Option<Timestamp>,
}

impl Endpoint {
    /// Deliveries a second it is sent at most now: `None` for as fast as they come.
    pub fn effective_rate(&self) -> Option<u32> {
        Pace::effective(self.rate_limit, self.pace)
    }

    /// Whether an event of this type, about this agent, goes to this endpoint: it must not be
    /// paused, must subscribe to the type (or to all), and must be unscoped or scoped to the
    /// event's agent.
    pub fn receives(&self, event_type: &EventName, agent: Option<AgentId>) -> bool {
        self.status != EndpointStatus::Disabled
            && self.events.includes(event_type)
            && self.agent_id.is_none_or(|scope| agent == Some(scope))
    }

    /// Whether a rotation read from `seen` may replace this endpoint's secret: only while it is
    /// still the secret that rotation saw, so of concurrent rotations one wins.
    pub fn may_rotate_from(&self, seen: &Endpoint) -> bool {
        self.secret_hint == seen.secret_hint
    }

    /// After a secret rotation, updated at its time: the hint follows the new secret.
    pub fn rotated(&mut self, rotation: &crate::Rotation) {
        self.secret_hint = rotation.new.hint();
        self.updated_at = rotation.at;
    }

    /// Revive on success, once [`crate::may_revive`] says the attempt may: a `failing` endpoint
    /// becomes `active` again; any other status stays (a paused endpoint stays paused). Returns
    /// whether it changed.
    pub fn revive(&mut self, at: Timestamp) -> bool {
        let revives = self.status == EndpointStatus::Failing;
        if revives {
            self.status = EndpointStatus::Active;
            self.updated_at = at;
        }
        revives
    }
}

/// A validated create request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEndpoint {
    pub label: Label,
    pub url: EndpointUrl,
    pub role_arn: Option<RoleArn>,
    pub events: EventSubscription,
    pub status: RequestedStatus,
    pub agent_id: Option<AgentId>,
    pub headers: CustomHeaders,
    pub rate_limit: Option<RateLimit>,
}

impl NewEndpoint {
    pub fn into_endpoint(self, org: OrgId, secret: &SigningSecret, now: Timestamp) -> Endpoint {
        Endpoint {
            id: EndpointId::generate(),
            org_id: org,
            label: self.label,
            url: self.url,
            role_arn: self.role_arn,
            events: self.events,
            status: self.status.into(),
            agent_id: self.agent_id,
            headers: self.headers,
            rate_limit: self.rate_limit,
            pace: None,
            secret_hint: secret.hint(),
            created_at: now,
            updated_at: now,
            streak_reset_at: None,
        }
    }
}

/// A validated partial update: `None` leaves a field alone; `agent_id: Some(None)` clears the agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointChanges {
    pub label: Option<Label>,
    pub url: Option<EndpointUrl>,
    /// Given exactly when `url` is, as `RoleArn::for_url` pairs them: a new url brings its
    /// role, or takes the old one away.
    pub role_arn: Option<Option<RoleArn>>,
    pub events: Option<EventSubscription>,
    pub status: Option<RequestedStatus>,
    pub agent_id: Option<Option<AgentId>>,
    /// The whole set: replaces the endpoint's (empty clears them).
    pub headers: Option<CustomHeaders>,
    /// `Some(None)` removes the limit.
    pub rate_limit: Option<Option<RateLimit>>,
}

impl EndpointChanges {
    /// A change of status alone: pausing or re-activating.
    pub fn status(status: RequestedStatus) -> Self {
        Self {
            status: Some(status),
            ..Self::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Applies the changes; `updated_at` moves only when a value actually changed, and a real
    /// change that asks for `active` also restarts the failure clock.
    /// Returns whether anything changed.
    pub fn apply(&self, endpoint: &mut Endpoint, now: Timestamp) -> bool {
        fn set<T: Clone>(field: &mut T, change: &Option<T>) {
            if let Some(value) = change {
                field.clone_from(value);
            }
        }
        let before = endpoint.clone();
        set(&mut endpoint.label, &self.label);
        set(&mut endpoint.url, &self.url);
        set(&mut endpoint.role_arn, &self.role_arn);
        // The same set in another order is no change, and the stored order stays.
        let events = self
            .events
            .as_ref()
            .filter(|new| !new.same_set(&endpoint.events));
        set(&mut endpoint.events, &events.cloned());
        set(&mut endpoint.status, &self.status.map(Into::into));
        set(&mut endpoint.agent_id, &self.agent_id);
        set(&mut endpoint.headers, &self.headers);
        set(&mut endpoint.rate_limit, &self.rate_limit);
        let changed = *endpoint != before;
        if changed {
            endpoint.updated_at = now;
            if self.status == Some(RequestedStatus::Active) {
                endpoint.streak_reset_at = Some(now);
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventType;
    use crate::fixtures::{self, at};

    fn endpoint(now: Timestamp) -> Endpoint {
        fixtures::endpoint_with_secret(OrgId::new(1), now).0
    }

    #[test]
    fn a_new_endpoint_carries_the_secret_hint_and_one_timestamp() {
        let secret = SigningSecret::generate().unwrap();
        let e = NewEndpoint {
            status: RequestedStatus::Disabled,
            agent_id: AgentId::new(9),
            ..fixtures::new_endpoint()
        }
        .into_endpoint(OrgId::new(1), &secret, at(5));
        assert_eq!(e.secret_hint, secret.hint());
        assert_eq!((e.created_at, e.updated_at), (at(5), at(5)));
        assert_eq!(e.status, EndpointStatus::Disabled);
    }

    #[test]
    fn real_changes_move_updated_at_only() {
        let mut e = endpoint(at(1));
        let changes = EndpointChanges {
            events: Some(EventSubscription::from(vec![EventType::CallGraded])),
            agent_id: Some(AgentId::new(3)),
            ..Default::default()
        };
        assert!(changes.apply(&mut e, at(2)));
        assert_eq!((e.created_at, e.updated_at), (at(1), at(2)));
        assert_eq!(e.agent_id, AgentId::new(3));

        assert!(!changes.apply(&mut e, at(3)), "same values are no change");
        assert_eq!(e.updated_at, at(2));

        let clear = EndpointChanges {
            agent_id: Some(None),
            ..Default::default()
        };
        assert!(clear.apply(&mut e, at(4)));
        assert_eq!(e.agent_id, None);
    }

    #[test]
    fn asking_for_active_revives_a_failing_endpoint() {
        let mut e = endpoint(at(1));
        e.status = EndpointStatus::Failing;
        let changes = EndpointChanges::status(RequestedStatus::Active);
        assert!(changes.apply(&mut e, at(2)));
        assert_eq!(e.status, EndpointStatus::Active);
        assert_eq!(e.streak_reset_at, Some(at(2)), "the failure clock restarts");
        assert!(!changes.apply(&mut e, at(3)));
        assert_eq!(e.streak_reset_at, Some(at(2)), "no change, no restart");
    }

    #[test]
    fn receives_matching_events_from_the_scoped_agent_unless_paused() {
        let mut e = endpoint(at(1));
        assert!(e.receives(&EventType::WebTool.into(), None));
        assert!(e.receives(&EventType::WebTool.into(), AgentId::new(4)));
        e.events = EventSubscription::from(vec![EventType::CallGraded]);
        assert!(!e.receives(&EventType::WebTool.into(), None));
        assert!(e.receives(&EventType::CallGraded.into(), None));
        e.agent_id = AgentId::new(4);
        assert!(e.receives(&EventType::CallGraded.into(), AgentId::new(4)));
        assert!(!e.receives(&EventType::CallGraded.into(), AgentId::new(5)));
        assert!(!e.receives(&EventType::CallGraded.into(), None));
        let future = crate::EventName::parse("call.summarized").unwrap();
        assert!(
            !e.receives(&future, AgentId::new(4)),
            "explicit lists name known types"
        );
        e.events = EventSubscription::all();
        assert!(
            e.receives(&future, AgentId::new(4)),
            "all types includes future ones"
        );
        e.status = EndpointStatus::Failing;
        assert!(
            e.receives(&EventType::CallGraded.into(), AgentId::new(4)),
            "failing endpoints still get new events"
        );
        e.status = EndpointStatus::Disabled;
        assert!(!e.receives(&EventType::CallGraded.into(), AgentId::new(4)));
    }

    #[test]
    fn empty_changes_are_empty() {
        assert!(EndpointChanges::default().is_empty());
        assert!(
            !EndpointChanges {
                agent_id: Some(None),
                ..Default::default()
            }
            .is_empty()
        );
    }

    #[test]
    fn endpoint_ids_are_read_and_written_as_hyphenated_uuids() {
        let text = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        let id = EndpointId::parse(text).unwrap();
        assert_eq!(id.to_string(), text);
        assert_eq!(
            id.as_uuid(),
            Uuid::from_u128(0x67e55044_10b1_426f_9247_bb680e5fe0c8)
        );
        assert_eq!(
            EndpointId::parse("67E55044-10B1-426F-9247-BB680E5FE0C8").map(|id| id.to_string()),
            Some(text.to_owned()),
            "upper case is read, lower case written"
        );
        assert_eq!(EndpointId::parse("not-an-id"), None);
        for other_spelling in [
            "67e5504410b1426f9247bb680e5fe0c8",
            "{67e55044-10b1-426f-9247-bb680e5fe0c8}",
            "urn:uuid:67e55044-10b1-426f-9247-bb680e5fe0c8",
            "67e55044-10b1-426f-9247-bb680e5fe0c",
            "67e5504-410b1-426f-9247-bb680e5fe0c8",
            "67e55044-10b1-426f-9247-bb680e5fe0cg",
        ] {
            assert_eq!(EndpointId::parse(other_spelling), None, "{other_spelling}");
        }
    }

    #[test]
    fn new_ids_are_time_ordered_even_within_a_millisecond() {
        let ids: Vec<EndpointId> = (0..1_000).map(|_| endpoint(at(1)).id).collect();
        assert_eq!(ids[0].as_uuid().get_version_num(), 7);
        assert!(
            ids.windows(2).all(|pair| pair[0] < pair[1]),
            "creation order"
        );
    }

    #[test]
    fn agent_ids_are_non_zero_numbers() {
        assert_eq!(AgentId::new(9).map(AgentId::get), Some(9));
        assert_eq!(AgentId::new(u64::MAX).map(AgentId::get), Some(u64::MAX));
        assert_eq!(AgentId::new(0), None);
    }

    #[test]
    fn a_success_revives_only_a_failing_endpoint() {
        let later = Timestamp::from_unix_millis(9_000).unwrap();
        let mut failing = crate::fixtures::endpoint(OrgId::new(1));
        failing.status = EndpointStatus::Failing;
        assert!(failing.revive(later));
        assert_eq!(
            (failing.status, failing.updated_at),
            (EndpointStatus::Active, later)
        );
        for status in [EndpointStatus::Active, EndpointStatus::Disabled] {
            let mut other = crate::fixtures::endpoint(OrgId::new(1));
            other.status = status;
            let before = other.clone();
            assert!(!other.revive(later));
            assert_eq!(other, before);
        }
    }
}

#[cfg(test)]
mod rotation {
    use super::*;
    use crate::{RotationGrace, fixtures};

    #[test]
    fn a_rotated_endpoint_names_the_new_secret() {
        let mut endpoint = fixtures::endpoint(OrgId::new(3));
        let at = Timestamp::from_unix_millis(1_900_000_000_000).unwrap();
        let rotation = crate::Rotation::new(RotationGrace::DEFAULT, at).unwrap();
        endpoint.rotated(&rotation);
        assert_eq!(endpoint.secret_hint, rotation.new.hint());
        assert_eq!(endpoint.updated_at, at);
    }

    #[test]
    fn ids_are_read_only_hyphenated() {
        let id = EndpointId::generate().to_string();
        assert!(EndpointId::parse(&id).is_some());
        assert!(EndpointId::parse(&id.replace('-', "")).is_none());
        let shifted = format!("{}-{}", &id[..7], &id[8..]);
        assert!(
            EndpointId::parse(&shifted).is_none(),
            "a hyphen out of place"
        );
    }
}

#[cfg(test)]
mod reordered_events {
    use super::*;
    use crate::{EventType, fixtures};

    #[test]
    fn the_same_events_in_another_order_keep_the_stored_order() {
        let mut endpoint = fixtures::endpoint(OrgId::new(5));
        endpoint.events = EventSubscription::from(vec![EventType::CallGraded, EventType::WebTool]);
        let reordered = EndpointChanges {
            events: Some(EventSubscription::from(vec![
                EventType::WebTool,
                EventType::CallGraded,
            ])),
            ..Default::default()
        };
        let now = Timestamp::from_unix_millis(1_900_000_000_000).unwrap();
        assert!(!reordered.apply(&mut endpoint, now), "no change");
        assert_eq!(
            endpoint.events.types(),
            [EventType::CallGraded, EventType::WebTool]
        );
    }
}
