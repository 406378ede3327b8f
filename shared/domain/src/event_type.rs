use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_with::{DeserializeFromStr, SerializeDisplay};

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

/// The type an event is published under: one of the catalogue's, or a well-formed name this
/// build does not know yet (the platform adds types before every deployment knows them).
/// Endpoints subscribed to every type and the legacy URL receive both kinds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, SerializeDisplay, DeserializeFromStr)]
pub struct EventName(Name);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Name {
    Known(EventType),
    Unlisted(Cow<'static, str>),
}

/// Longer names are malformed: a type names a kind of event, not an event.
pub const MAX_EVENT_NAME_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "\"{0}\" is not a valid event type: lowercase words of a-z, 0-9, '_' or '-', joined by dots, \
     at most 64 characters."
)]
pub struct MalformedEventName(pub String);

impl EventName {
    /// What the test route sends when no type is asked for: a sample that says it is a test.
    /// Not in the catalogue, so no subscription names it.
    pub const WEBHOOK_TEST: Self = Self(Name::Unlisted(Cow::Borrowed("webhook.test")));

    /// A catalogue type, or any name shaped like one (`word.word`, each word lowercase ASCII
    /// letters, digits, `_` or `-`, not starting with `_` or `-`).
    pub fn parse(raw: &str) -> Result<Self, MalformedEventName> {
        if let Ok(known) = raw.parse::<EventType>() {
            return Ok(Self(Name::Known(known)));
        }
        let word = |w: &str| {
            w.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        };
        if raw.len() <= MAX_EVENT_NAME_CHARS && raw.contains('.') && raw.split('.').all(word) {
            Ok(Self(Name::Unlisted(Cow::Owned(raw.to_owned()))))
        } else {
            Err(MalformedEventName(raw.to_owned()))
        }
    }

    /// The catalogue type, if this build knows the name.
    pub fn known(&self) -> Option<EventType> {
        match self.0 {
            Name::Known(known) => Some(known),
            Name::Unlisted(_) => None,
        }
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            Name::Known(known) => known.as_str(),
            Name::Unlisted(name) => name,
        }
    }

    /// Only catalogue types block: a type this build does not know gets the usual 30 s.
    pub fn is_blocking(&self) -> bool {
        self.known().is_some_and(EventType::is_blocking)
    }

    /// The name the legacy URL gets: [`EventType::legacy_name`], else the name itself.
    pub fn legacy_name(&self) -> &str {
        match &self.0 {
            Name::Known(known) => known.legacy_name(),
            Name::Unlisted(name) => name,
        }
    }
}

impl From<EventType> for EventName {
    fn from(known: EventType) -> Self {
        Self(Name::Known(known))
    }
}

impl PartialEq<EventType> for EventName {
    fn eq(&self, other: &EventType) -> bool {
        self.known() == Some(*other)
    }
}

impl FromStr for EventName {
    type Err = MalformedEventName;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl fmt::Display for EventName {
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
        names
            .into_iter()
            .map(EventType::from_str)
            .collect::<Result<Vec<_>, _>>()
            .map(Self::from)
    }

    pub fn is_all(&self) -> bool {
        self.0.is_empty()
    }

    /// Every type, known or not, when the subscription is to all; otherwise the listed ones.
    pub fn includes(&self, event: &EventName) -> bool {
        self.is_all() || event.known().is_some_and(|known| self.0.contains(&known))
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
        // A catalogue-sized list, read with every endpoint: a scan costs less than hashing.
        let mut kept = Vec::with_capacity(types.len());
        for t in types {
            if !kept.contains(&t) {
                kept.push(t);
            }
        }
        Self(kept)
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
        assert!(EventType::ALL.iter().all(|t| all.includes(&(*t).into())));
        assert!(all.includes(&EventName::parse("voicemail.left").unwrap()));
    }

    #[test]
    fn collapses_duplicates_in_first_seen_order() {
        let s = EventSubscription::parse(["web.tool", "call.graded", "web.tool"]).unwrap();
        assert_eq!(s.types(), &[EventType::WebTool, EventType::CallGraded]);
        assert!(!s.includes(&EventType::WebIncoming.into()));
        assert!(s.includes(&EventType::WebTool.into()));
        assert!(!s.includes(&EventName::parse("web.tool_v2").unwrap()));
    }

    #[test]
    fn well_formed_names_this_build_does_not_know_are_event_names() {
        let future = EventName::parse("voicemail.left").unwrap();
        assert_eq!(future.known(), None);
        assert_eq!(future.as_str(), "voicemail.left");
        assert_eq!(future.legacy_name(), "voicemail.left");
        assert!(!future.is_blocking());
        let incoming = EventName::parse("web.incoming").unwrap();
        assert_eq!(incoming, EventType::WebIncoming);
        assert_eq!(incoming.legacy_name(), "call.incoming");
        assert!(incoming.is_blocking());
        for good in [
            "a.b",
            "test-call.v2.completed",
            "x9.y_z",
            &format!("a.{}", "b".repeat(62)),
        ] {
            assert_eq!(EventName::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "call",
            "Call.graded",
            "call..graded",
            ".call",
            "call.",
            "call._graded",
            "call.-x",
            "call graded.x",
            "call.gradé",
            &format!("a.{}", "b".repeat(63)),
        ] {
            assert_eq!(
                EventName::parse(bad),
                Err(MalformedEventName(bad.to_owned())),
                "{bad}"
            );
        }
        assert_eq!(EventName::WEBHOOK_TEST.known(), None);
        assert_eq!(
            EventName::parse("webhook.test"),
            Ok(EventName::WEBHOOK_TEST)
        );
    }

    #[test]
    fn event_names_serialize_as_their_text_and_refuse_malformed_text() {
        let name: EventName = serde_json::from_str("\"sms.received\"").unwrap();
        assert_eq!(name, EventType::SmsReceived);
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"sms.received\"");
        let future: EventName = serde_json::from_str("\"fax.sent\"").unwrap();
        assert_eq!(future.to_string(), "fax.sent");
        assert!(serde_json::from_str::<EventName>("\"FAX\"").is_err());
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

#[cfg(test)]
mod sets_and_names {
    use super::*;

    #[test]
    fn subscriptions_are_the_same_set_only_with_the_same_members() {
        let set = |types: &[EventType]| EventSubscription::from(types.to_vec());
        let graded_and_tool = set(&[EventType::CallGraded, EventType::WebTool]);
        assert!(graded_and_tool.same_set(&set(&[EventType::WebTool, EventType::CallGraded])));
        assert!(!graded_and_tool.same_set(&set(&[EventType::CallGraded])));
        assert!(!graded_and_tool.same_set(&set(&[EventType::CallGraded, EventType::SmsSent])));
        assert!(!set(&[EventType::CallGraded]).same_set(&graded_and_tool));
    }

    #[test]
    fn a_name_equals_only_its_own_type() {
        let name = EventName::from(EventType::CallGraded);
        assert!(name == EventType::CallGraded);
        assert!(name != EventType::WebTool);
    }
}
