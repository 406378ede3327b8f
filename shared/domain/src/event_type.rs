use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The exact set of event types the platform publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "telephony.incoming")]
    TelephonyIncoming,
    #[serde(rename = "telephony.complete")]
    TelephonyComplete,
    #[serde(rename = "telephony.tool")]
    TelephonyTool,
    #[serde(rename = "web.incoming")]
    WebIncoming,
    #[serde(rename = "web.complete")]
    WebComplete,
    #[serde(rename = "web.tool")]
    WebTool,
    #[serde(rename = "call.graded")]
    CallGraded,
    #[serde(rename = "issue.reported")]
    IssueReported,
    #[serde(rename = "test-call.completed")]
    TestCallCompleted,
}

impl EventType {
    pub const ALL: [EventType; 9] = [
        Self::TelephonyIncoming,
        Self::TelephonyComplete,
        Self::TelephonyTool,
        Self::WebIncoming,
        Self::WebComplete,
        Self::WebTool,
        Self::CallGraded,
        Self::IssueReported,
        Self::TestCallCompleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TelephonyIncoming => "telephony.incoming",
            Self::TelephonyComplete => "telephony.complete",
            Self::TelephonyTool => "telephony.tool",
            Self::WebIncoming => "web.incoming",
            Self::WebComplete => "web.complete",
            Self::WebTool => "web.tool",
            Self::CallGraded => "call.graded",
            Self::IssueReported => "issue.reported",
            Self::TestCallCompleted => "test-call.completed",
        }
    }
}

impl EventType {
    /// The name the legacy single-URL webhook uses: it predates the telephony/web split.
    pub fn legacy_name(self) -> &'static str {
        match self {
            Self::TelephonyIncoming | Self::WebIncoming => "call.incoming",
            Self::TelephonyComplete | Self::WebComplete => "call.complete",
            other => other.as_str(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a valid event type.")]
pub struct UnknownEventType(pub String);

impl FromStr for EventType {
    type Err = UnknownEventType;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == raw)
            .ok_or_else(|| UnknownEventType(raw.to_owned()))
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The event types an endpoint receives. Empty means every type, including types added later.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<EventType>", into = "Vec<EventType>")]
pub struct EventSubscription(Vec<EventType>);

impl EventSubscription {
    pub fn all() -> Self {
        Self(Vec::new())
    }

    /// Parses subscribed type names, collapsing duplicates and keeping first-seen order.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, UnknownEventType> {
        let types = names
            .into_iter()
            .map(EventType::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from(types))
    }

    pub fn is_all(&self) -> bool {
        self.0.is_empty()
    }

    pub fn includes(&self, event_type: EventType) -> bool {
        self.is_all() || self.0.contains(&event_type)
    }

    pub fn types(&self) -> &[EventType] {
        &self.0
    }
}

impl From<Vec<EventType>> for EventSubscription {
    fn from(types: Vec<EventType>) -> Self {
        let mut unique = Vec::with_capacity(types.len());
        for t in types {
            if !unique.contains(&t) {
                unique.push(t);
            }
        }
        Self(unique)
    }
}

impl From<EventSubscription> for Vec<EventType> {
    fn from(subscription: EventSubscription) -> Self {
        subscription.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_type_round_trips_through_its_name() {
        for t in EventType::ALL {
            assert_eq!(t.as_str().parse::<EventType>(), Ok(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
    }

    #[test]
    fn rejects_unknown_names_naming_the_value() {
        let err = EventSubscription::parse(["call.graded", "call.incoming"]).unwrap_err();
        assert_eq!(err, UnknownEventType("call.incoming".into()));
        assert!(err.to_string().contains("call.incoming"));
        assert!("Telephony.Incoming".parse::<EventType>().is_err());
    }

    #[test]
    fn legacy_names_merge_telephony_and_web() {
        assert_eq!(EventType::TelephonyIncoming.legacy_name(), "call.incoming");
        assert_eq!(EventType::WebIncoming.legacy_name(), "call.incoming");
        assert_eq!(EventType::TelephonyComplete.legacy_name(), "call.complete");
        assert_eq!(EventType::WebComplete.legacy_name(), "call.complete");
        assert_eq!(EventType::WebTool.legacy_name(), "web.tool");
        assert_eq!(EventType::CallGraded.legacy_name(), "call.graded");
    }

    #[test]
    fn empty_subscribes_to_everything() {
        let all = EventSubscription::parse([]).unwrap();
        assert!(all.is_all());
        assert!(EventType::ALL.iter().all(|t| all.includes(*t)));
    }

    #[test]
    fn collapses_duplicates_in_first_seen_order() {
        let s = EventSubscription::parse(["web.tool", "call.graded", "web.tool"]).unwrap();
        assert_eq!(s.types(), &[EventType::WebTool, EventType::CallGraded]);
        assert!(!s.includes(EventType::WebIncoming));
    }

    proptest! {
        #[test]
        fn parsed_subscriptions_are_duplicate_free_and_ordered(idx in proptest::collection::vec(0usize..9, 0..30)) {
            let names: Vec<&str> = idx.iter().map(|i| EventType::ALL[*i].as_str()).collect();
            let s = EventSubscription::parse(names.iter().copied()).unwrap();
            let mut expected: Vec<EventType> = Vec::new();
            for i in &idx {
                if !expected.contains(&EventType::ALL[*i]) {
                    expected.push(EventType::ALL[*i]);
                }
            }
            prop_assert_eq!(s.types(), expected.as_slice());
        }
    }
}
