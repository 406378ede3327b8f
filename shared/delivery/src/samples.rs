//! Realistic sample data for each event type, for test deliveries. Every sample says it is a
//! test (`"test": true`), so a receiver can tell it from a real call.

use serde_json::{Map, Value, json};
use webhook_domain::{AgentId, EventName, EventType, Timestamp};

/// The sample `data` for `event`, stamped with `now` and the endpoint's agent if it has one:
/// a realistic one for a catalogue type, a plain "this is a test" for `webhook.test`.
pub fn data(event: &EventName, agent: Option<AgentId>, now: Timestamp) -> Map<String, Value> {
    let agent_id = agent.map_or(Value::Null, |id| json!(id.get()));
    let mut data = match event.known() {
        Some(event_type) => catalogue_sample(event_type, agent_id, now),
        None => json!({
            "message": "This is a test delivery: your endpoint receives and can verify webhooks.",
            "agent_id": agent_id,
            "sent_at": now.to_string(),
        }),
    };
    data["test"] = Value::Bool(true);
    match data {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn catalogue_sample(event_type: EventType, agent_id: Value, now: Timestamp) -> Value {
    let channel = if event_type.as_str().starts_with("web.") {
        "web"
    } else {
        "telephony"
    };
    let call = || {
        json!({
            "call_id": 100_000_001,
            "agent_id": agent_id,
            "channel": channel,
            "direction": "inbound",
            "from_number": if channel == "telephony" { json!("+15555550100") } else { Value::Null },
            "to_number": if channel == "telephony" { json!("+15555550199") } else { Value::Null },
            "started_at": now.to_string(),
        })
    };
    match event_type {
        EventType::TelephonyIncoming | EventType::WebIncoming => call(),
        EventType::TelephonyComplete | EventType::WebComplete => {
            let mut complete = call();
            complete["ended_at"] = json!(now.to_string());
            complete["duration_seconds"] = json!(142);
            complete["end_reason"] = json!("caller_hung_up");
            complete["transcript"] = json!([
                {"role": "agent", "text": "Thanks for calling Acme Dental, how can I help?"},
                {"role": "caller", "text": "I'd like to move my appointment to Friday."},
                {"role": "agent", "text": "Done: Friday at 10:30. Anything else?"}
            ]);
            complete["summary"] = json!("Caller moved their appointment to Friday 10:30.");
            complete
        }
        EventType::TelephonyTool | EventType::WebTool => {
            let mut tool = call();
            tool["tool_call_id"] = json!("tc_sample_0001");
            tool["tool_name"] = json!("book_appointment");
            tool["arguments"] = json!({"date": "2026-12-04", "time": "10:30"});
            tool
        }
        EventType::TelephonyTurn | EventType::WebTurn => {
            let mut turn = call();
            turn["turn_index"] = json!(3);
            turn["role"] = json!("caller");
            turn["text"] = json!("I'd like to move my appointment to Friday.");
            turn
        }
        EventType::CallDataExtracted => json!({
            "call_id": 100_000_001,
            "agent_id": agent_id,
            "fields": {"patient_name": "Sam Rivera", "new_date": "2026-12-04", "new_time": "10:30"},
            "extracted_at": now.to_string(),
        }),
        EventType::CallTransferCompleted => json!({
            "call_id": 100_000_001,
            "agent_id": agent_id,
            "transferred_to": "+15555550142",
            "reason": "The caller asked for the front desk.",
            "completed_at": now.to_string(),
        }),
        EventType::SmsSent | EventType::SmsFailed | EventType::SmsReceived => {
            let inbound = event_type == EventType::SmsReceived;
            let mut sms = json!({
                "sms_id": 9_001,
                "call_id": 100_000_001,
                "agent_id": agent_id,
                "direction": if inbound { "inbound" } else { "outbound" },
                "from_number": if inbound { "+15555550100" } else { "+15555550199" },
                "to_number": if inbound { "+15555550199" } else { "+15555550100" },
                "body": "Your appointment is confirmed for Friday at 10:30.",
                "at": now.to_string(),
            });
            if event_type == EventType::SmsFailed {
                sms["error"] = json!("The carrier rejected the message.");
            }
            sms
        }
        EventType::CampaignCompleted => json!({
            "campaign_id": 301,
            "call_id": 100_000_001,
            "agent_id": agent_id,
            "name": "December reminders",
            "calls_placed": 120,
            "calls_answered": 87,
            "completed_at": now.to_string(),
        }),
        EventType::IssueEscalated => json!({
            "issue_id": 5_001,
            "call_id": 100_000_001,
            "agent_id": agent_id,
            "escalated_to": "support@acme-dental.example",
            "reason": "Reported twice in a day.",
            "escalated_at": now.to_string(),
        }),
        EventType::AlertTriggered => json!({
            "alert_id": 77,
            "call_id": 100_000_001,
            "agent_id": agent_id,
            "name": "Unanswered calls",
            "condition": "more than 5 unanswered calls in 10 minutes",
            "triggered_at": now.to_string(),
        }),
        EventType::CallGraded => json!({
            "call_id": 100_000_001,
            "agent_id": agent_id,
            "score": 92,
            "passed": true,
            "criteria": [
                {"name": "Greeted the caller", "passed": true},
                {"name": "Confirmed the booking", "passed": true}
            ],
        }),
        EventType::IssueReported => json!({
            "issue_id": 5_001,
            "call_id": 100_000_001,
            "agent_id": agent_id,
            "category": "wrong_information",
            "description": "The agent quoted last year's opening hours.",
            "reported_at": now.to_string(),
        }),
        EventType::TestCallCompleted => json!({
            "test_call_id": 7_001,
            "call_id": 100_000_001,
            "agent_id": agent_id,
            "scenario": "Reschedule an appointment",
            "passed": true,
            "duration_seconds": 64,
            "completed_at": now.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_a_sample_marked_as_a_test() {
        let now = Timestamp::from_unix_millis(1_776_709_450_113).unwrap();
        for event_type in EventType::ALL {
            let data = data(&event_type.into(), AgentId::new(3), now);
            assert_eq!(data["test"], true, "{event_type:?}");
            assert!(data.len() > 3, "{event_type:?} is more than a stub");
            assert_eq!(data["call_id"], 100_000_001, "{event_type:?}");
            assert_eq!(data["agent_id"], 3, "{event_type:?}");
        }
    }

    #[test]
    fn webhook_test_says_it_is_a_test() {
        let now = Timestamp::from_unix_millis(1_776_709_450_113).unwrap();
        let data = data(&EventName::WEBHOOK_TEST, None, now);
        assert_eq!(data["test"], true);
        assert!(data["message"].as_str().unwrap().contains("test"));
        assert_eq!(data["agent_id"], Value::Null);
    }
}
