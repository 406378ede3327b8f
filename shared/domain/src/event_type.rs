use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One entry of the platform's event catalogue: the variant, its wire name, whether the
/// receiver's answer configures a live call, and what it means.
macro_rules! catalogue {
    ($($variant:ident = $name:literal, $blocking:literal, $description:literal;)*) => {
        /// The event types the platform publishes: the official client's catalogue.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum EventType {
            $(#[serde(rename = $name)] $variant,)*
        }

        impl EventType {
            /// The catalogue in the official client's order (by name), as the catalogue route lists it.
            pub const ALL: [EventType; catalogue!(@count $($variant)*)] = [$(Self::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }

            /// Blocking events exist for their answer: the receiver's JSON configures a
            /// ringing call, so it has about 2 s instead of 30.
            pub fn is_blocking(self) -> bool {
                match self {
                    $(Self::$variant => $blocking,)*
                }
            }

            pub fn description(self) -> &'static str {
                match self {
                    $(Self::$variant => $description,)*
                }
            }
        }
    };
    (@count $($variant:ident)*) => { 0 $(+ catalogue!(@one $variant))* };
    (@one $variant:ident) => { 1 };
}

catalogue! {
    AlertTriggered = "alert.triggered", false,
        "A monitoring alert fired.";
    CallDataExtracted = "call.data_extracted", false,
        "Structured data was extracted from a call.";
    CallGraded = "call.graded", false,
        "A call was scored against its grading criteria.";
    CallTransferCompleted = "call.transfer_completed", false,
        "A call was transferred to another number or agent.";
    CampaignCompleted = "campaign.completed", false,
        "An outbound calling campaign finished.";
    IssueEscalated = "issue.escalated", false,
        "A reported issue was escalated.";
    IssueReported = "issue.reported", false,
        "An issue was reported about a call.";
    SmsFailed = "sms.failed", false,
        "An SMS message could not be delivered.";
    SmsReceived = "sms.received", false,
        "An SMS message was received.";
    SmsSent = "sms.sent", false,
        "An SMS message was sent.";
    TelephonyComplete = "telephony.complete", false,
        "A phone call ended; carries the transcript and summary.";
    TelephonyIncoming = "telephony.incoming", true,
        "A phone call is ringing; the answer configures the call.";
    TelephonyTool = "telephony.tool", false,
        "An agent called a tool during a phone call.";
    TelephonyTurn = "telephony.turn", false,
        "One conversational turn of a phone call.";
    TestCallCompleted = "test-call.completed", false,
        "A test call finished, with its scenario result.";
    WebComplete = "web.complete", false,
        "A web call ended; carries the transcript and summary.";
    WebIncoming = "web.incoming", true,
        "A web call is starting; the answer configures the call.";
    WebTool = "web.tool", false,
        "An agent called a tool during a web call.";
    WebTurn = "web.turn", false,
        "One conversational turn of a web call.";
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

    /// Subscriptions are sets: the same members in another order are the same subscription.
    pub fn same_set(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && self.0.iter().all(|t| other.0.contains(t))
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
    fn the_catalogue_is_the_official_clients_nineteen_in_its_order() {
        let names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(
            names,
            [
                "alert.triggered",
                "call.data_extracted",
                "call.graded",
                "call.transfer_completed",
                "campaign.completed",
                "issue.escalated",
                "issue.reported",
                "sms.failed",
                "sms.received",
                "sms.sent",
                "telephony.complete",
                "telephony.incoming",
                "telephony.tool",
                "telephony.turn",
                "test-call.completed",
                "web.complete",
                "web.incoming",
                "web.tool",
                "web.turn",
            ]
        );
    }

    #[test]
    fn only_the_incoming_types_block() {
        let blocking: Vec<EventType> = EventType::ALL
            .into_iter()
            .filter(|t| t.is_blocking())
            .collect();
        assert_eq!(
            blocking,
            [EventType::TelephonyIncoming, EventType::WebIncoming]
        );
        assert!(EventType::ALL.iter().all(|t| !t.description().is_empty()));
    }

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
        assert_eq!(EventType::SmsReceived.legacy_name(), "sms.received");
        assert_eq!(EventType::TelephonyTurn.legacy_name(), "telephony.turn");
    }

    #[test]
    fn types_display_and_subscriptions_serialize_as_their_names() {
        assert_eq!(EventType::SmsReceived.to_string(), "sms.received");
        let s = EventSubscription::parse(["web.tool", "call.graded"]).unwrap();
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            serde_json::json!(["web.tool", "call.graded"])
        );
        let back: EventSubscription =
            serde_json::from_value(serde_json::json!(["web.tool", "web.tool"])).unwrap();
        assert_eq!(back.types(), &[EventType::WebTool]);
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
        fn parsed_subscriptions_are_duplicate_free_and_ordered(idx in proptest::collection::vec(0usize..EventType::ALL.len(), 0..30)) {
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
