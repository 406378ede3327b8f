//! Turning request bodies into domain values, naming every field that is wrong.

use lambda_http::Body;
use serde_json::Value;
use webhook_domain::{
    CustomHeaders, EndpointChanges, EndpointUrl, EventName, EventSubscription, GraceOutOfRange,
    Label, NewEndpoint, RateLimit, RateLimitOutOfRange, RequestedStatus, RoleArn, RoleError,
    RotationGrace, SessionLength, Timestamp, UnknownEventType,
};

use crate::error::ApiError;
use crate::fields::{
    Fields, agent_or_null, destination, event_name, json_object, parsed, since, string,
};

const ENDPOINT_FIELDS: &[&str] = &[
    "label",
    "url",
    "events",
    "status",
    "agent_id",
    "headers",
    "rate_limit",
    "role_arn",
];
const LEGACY_FIELDS: &[&str] = &["url"];
const ROTATION_FIELDS: &[&str] = &["expire_previous_after_hours"];

pub(crate) fn new_endpoint(body: &Body) -> Result<NewEndpoint, ApiError> {
    let mut fields = Fields::new(json_object(body)?, ENDPOINT_FIELDS, "field");
    let label = fields.required("label", |v| parsed(v, Label::parse));
    let url = fields.required("url", |v| parsed(v, EndpointUrl::parse_endpoint));
    let role_arn = fields.optional("role_arn", role_arn);
    let role_arn = url
        .as_ref()
        .and_then(|url| paired_role(&mut fields, url, role_arn));
    let events = fields.optional("events", events);
    let status = fields.optional("status", |v| parsed(v, RequestedStatus::parse));
    let agent_id = fields.optional("agent_id", agent_or_null);
    let headers = fields.optional("headers", headers);
    let rate_limit = fields.optional("rate_limit", rate_limit);
    fields.finish_with(|| {
        Some(NewEndpoint {
            label: label?,
            url: url?,
            role_arn: role_arn?,
            events: events.unwrap_or_default(),
            status: status.unwrap_or(RequestedStatus::Active),
            agent_id: agent_id.flatten(),
            headers: headers.unwrap_or_default(),
            rate_limit: rate_limit.flatten(),
        })
    })
}

pub(crate) fn endpoint_changes(body: &Body) -> Result<EndpointChanges, ApiError> {
    let mut fields = Fields::new(json_object(body)?, ENDPOINT_FIELDS, "field");
    let url = fields.optional("url", |v| parsed(v, EndpointUrl::parse_endpoint));
    let role_arn = fields.optional("role_arn", role_arn);
    let role_arn = match &url {
        Some(url) => paired_role(&mut fields, url, role_arn),
        // A url that was refused is named as such; its role has nothing to add.
        None if role_arn.is_some() && !fields.given("url") => {
            fields.fail("role_arn", RoleError::WithoutUrl.to_string());
            None
        }
        None => None,
    };
    let changes = EndpointChanges {
        label: fields.optional("label", |v| parsed(v, Label::parse)),
        url,
        role_arn,
        events: fields.optional("events", events),
        status: fields.optional("status", |v| parsed(v, RequestedStatus::parse)),
        agent_id: fields.optional("agent_id", agent_or_null),
        headers: fields.optional("headers", headers),
        rate_limit: fields.optional("rate_limit", rate_limit),
    };
    fields.finish()?;
    Ok(changes)
}

/// The role `url` keeps (`RoleArn::for_url`), or its refusal named beside `role_arn`; nothing
/// more when the role itself was refused.
fn paired_role(
    fields: &mut Fields,
    url: &EndpointUrl,
    role: Option<Option<RoleArn>>,
) -> Option<Option<RoleArn>> {
    if role.is_none() && fields.given("role_arn") {
        return None;
    }
    match RoleArn::for_url(url, role.flatten()) {
        Ok(role) => Some(role),
        Err(error) => {
            fields.fail("role_arn", error.to_string());
            None
        }
    }
}

/// An IAM role's ARN, or `null` for none.
fn role_arn(value: &Value) -> Result<Option<RoleArn>, String> {
    (!value.is_null())
        .then(|| parsed(value, RoleArn::parse))
        .transpose()
}

/// Deliveries a second, or `null` for no limit.
fn rate_limit(value: &Value) -> Result<Option<RateLimit>, String> {
    if value.is_null() {
        return Ok(None);
    }
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or(RateLimitOutOfRange)
        .and_then(RateLimit::new)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// `{"Name": "value", ...}`, or `null` for none: every refused header named, in one message.
fn headers(value: &Value) -> Result<CustomHeaders, String> {
    let pairs = match value {
        Value::Null => return Ok(CustomHeaders::default()),
        Value::Object(object) => object
            .iter()
            .map(|(name, value)| match value {
                Value::String(text) => Ok((name.clone(), text.clone())),
                _ => Err(format!("{name}: the value must be a string.")),
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err("Expected an object of header names and string values, or null.".into()),
    };
    CustomHeaders::parse(pairs).map_err(|refused| {
        refused
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// The legacy webhook's `{"url": ...}`: required to set it (PUT), optional to update (PATCH).
pub(crate) fn legacy_url(body: &Body, required: bool) -> Result<Option<EndpointUrl>, ApiError> {
    let mut fields = Fields::new(json_object(body)?, LEGACY_FIELDS, "field");
    let url = if required {
        fields.required("url", |v| parsed(v, EndpointUrl::parse))
    } else {
        fields.optional("url", |v| parsed(v, EndpointUrl::parse))
    };
    fields.finish()?;
    Ok(url)
}

/// The test route's optional `{"event_type": ...}`: a catalogue type, or by default
/// `webhook.test`.
pub(crate) fn test_event_type(body: &Body) -> Result<EventName, ApiError> {
    let mut fields = Fields::new(json_object(body)?, &["event_type"], "field");
    let event_type = fields.optional("event_type", test_event);
    fields.finish()?;
    Ok(event_type.unwrap_or(EventName::WEBHOOK_TEST))
}

/// A portal session's optional `{"expires_in": "1h"}`, from 5 minutes to 24 hours, an hour
/// when absent.
pub(crate) fn portal_session(body: &Body) -> Result<SessionLength, ApiError> {
    let mut fields = Fields::new(json_object(body)?, &["expires_in"], "field");
    let length = fields.optional("expires_in", |v| parsed(v, SessionLength::parse));
    fields.finish()?;
    Ok(length.unwrap_or(SessionLength::DEFAULT))
}

/// A rotation's optional `{"expire_previous_after_hours": 0-168}`, 24 when absent.
pub(crate) fn rotation_grace(body: &Body) -> Result<RotationGrace, ApiError> {
    let mut fields = Fields::new(json_object(body)?, ROTATION_FIELDS, "field");
    let grace = fields.optional("expire_previous_after_hours", grace_hours);
    fields.finish()?;
    Ok(grace.unwrap_or(RotationGrace::DEFAULT))
}

fn grace_hours(value: &Value) -> Result<RotationGrace, String> {
    let hours = value.as_u64().ok_or_else(|| GraceOutOfRange.to_string())?;
    RotationGrace::from_hours(hours).map_err(|e| e.to_string())
}

/// What a test may send: a catalogue type, or `webhook.test`.
fn test_event(value: &Value) -> Result<EventName, String> {
    let name = event_name(value)?;
    if name.known().is_some() || name == EventName::WEBHOOK_TEST {
        Ok(name)
    } else {
        Err(UnknownEventType(name.to_string()).to_string())
    }
}

fn events(value: &Value) -> Result<EventSubscription, String> {
    let Value::Array(items) = value else {
        return Err("Expected a list of event types.".into());
    };
    let names = items
        .iter()
        .map(|item| {
            item.as_str()
                .ok_or_else(|| "Expected a list of event types (strings).".to_owned())
        })
        .collect::<Result<Vec<_>, _>>()?;
    EventSubscription::parse(names).map_err(|e| e.to_string())
}

/// `{"endpoint_id": <endpoint id> | "legacy"}`: which destination to resend to.
pub(crate) fn resend_destination(body: &Body) -> Result<webhook_domain::Destination, ApiError> {
    let mut fields = Fields::new(json_object(body)?, &["endpoint_id"], "field");
    let destination = fields.required("endpoint_id", destination);
    fields.finish_with(|| destination)
}

/// `{"since": <date-time>, "cursor": <next_cursor>}`: what a recover covers, and where a call
/// that stopped early goes on. `since` is required.
pub(crate) fn recovery(body: &Body) -> Result<(Timestamp, Option<String>), ApiError> {
    let mut fields = Fields::new(json_object(body)?, &["since", "cursor"], "field");
    let since = fields.required("since", since);
    let cursor = fields.optional("cursor", |v| string(v).map(str::to_owned));
    fields.finish_with(|| Some((since?, cursor)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FieldErrors;
    use crate::fields::MAX_BODY_BYTES;
    use webhook_domain::{AgentId, EventType};

    fn body(json: &str) -> Body {
        Body::Text(json.to_owned())
    }

    fn field_errors(result: Result<impl std::fmt::Debug, ApiError>) -> FieldErrors {
        match result {
            Err(ApiError::Invalid(errors)) => errors,
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn create_needs_label_and_url_and_defaults_the_rest() {
        let new =
            new_endpoint(&body(r#"{"label":" Ops ","url":"https://example.com/h"}"#)).unwrap();
        assert_eq!(new.label.as_str(), "Ops");
        assert!(new.events.is_all());
        assert_eq!(new.status, RequestedStatus::Active);
        assert_eq!(new.agent_id, None);

        let errors = field_errors(new_endpoint(&body("{}")));
        assert_eq!(errors["label"], ["This field is required."]);
        assert_eq!(errors["url"], ["This field is required."]);
    }

    #[test]
    fn a_role_is_refused_once_and_only_for_what_is_wrong_with_it() {
        let queue = "arn:aws:sqs:us-east-1:123456789012:q";
        let errors = field_errors(new_endpoint(&body(&format!(
            r#"{{"label":"q","url":"{queue}","role_arn":"arn:aws:iam::1:user/u"}}"#
        ))));
        assert_eq!(errors["role_arn"].len(), 1, "{errors:?}");
        assert!(errors["role_arn"][0].contains("IAM role ARN"));
        let errors = field_errors(endpoint_changes(&body(
            r#"{"url":"ftp://x","role_arn":"arn:aws:iam::123456789012:role/r"}"#,
        )));
        assert!(
            !errors.contains_key("role_arn"),
            "the url is what is wrong: {errors:?}"
        );
        let errors = field_errors(endpoint_changes(&body(
            r#"{"role_arn":"arn:aws:iam::123456789012:role/r"}"#,
        )));
        assert!(errors["role_arn"][0].contains("send both"));
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let errors = field_errors(new_endpoint(&body(
            r#"{"label":"","url":"http://example.com","events":["web.tool","nope"],"status":"failing","agent_id":0,"secret":"x"}"#,
        )));
        let names: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            ["agent_id", "events", "label", "secret", "status", "url"]
        );
        assert!(errors["events"][0].contains("nope"));
        assert!(errors["status"][0].contains("server"));
    }

    #[test]
    fn wrong_types_are_field_errors() {
        let errors = field_errors(new_endpoint(&body(
            r#"{"label":5,"url":null,"events":"web.tool","agent_id":"7"}"#,
        )));
        assert_eq!(errors["label"], ["Expected a string."]);
        assert_eq!(errors["url"], ["This field may not be null."]);
        assert_eq!(errors["events"], ["Expected a list of event types."]);
        assert_eq!(errors["agent_id"], ["Expected a positive integer or null."]);
        let errors = field_errors(new_endpoint(&body(
            r#"{"label":"x","url":"https://e.com","events":[1],"agent_id":-3}"#,
        )));
        assert!(errors.contains_key("events") && errors.contains_key("agent_id"));
        let errors = field_errors(new_endpoint(&body(
            r#"{"label":"x","url":"https://e.com","agent_id":1.5}"#,
        )));
        assert!(errors.contains_key("agent_id"));
    }

    #[test]
    fn whole_body_problems_are_bad_requests() {
        for raw in ["[]", "\"label\"", "null", "{", "{\"label\":}"] {
            assert!(
                matches!(new_endpoint(&body(raw)), Err(ApiError::BadRequest(_))),
                "{raw:?}"
            );
        }
        assert!(matches!(
            endpoint_changes(&Body::Binary(vec![0xff, 0xfe])),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn an_absent_body_is_an_empty_object() {
        for absent in [Body::Empty, body(""), body(" \n")] {
            assert_eq!(
                endpoint_changes(&absent).unwrap(),
                EndpointChanges::default()
            );
            assert_eq!(legacy_url(&absent, false).unwrap(), None);
            let errors = field_errors(legacy_url(&absent, true));
            assert_eq!(errors["url"], ["This field is required."]);
            let errors = field_errors(new_endpoint(&absent));
            assert_eq!(errors.len(), 2);
        }
    }

    #[test]
    fn oversized_bodies_are_refused_before_parsing() {
        let big = format!("{{\"label\":\"{}\"}}", "a".repeat(MAX_BODY_BYTES));
        assert!(matches!(
            endpoint_changes(&body(&big)),
            Err(ApiError::PayloadTooLarge { .. })
        ));
    }

    #[test]
    fn patch_distinguishes_absent_from_null_agent() {
        assert_eq!(
            endpoint_changes(&body("{}")).unwrap(),
            EndpointChanges::default()
        );
        let clear = endpoint_changes(&body(r#"{"agent_id":null}"#)).unwrap();
        assert_eq!(clear.agent_id, Some(None));
        let set = endpoint_changes(&body(r#"{"agent_id":12,"events":[]}"#)).unwrap();
        assert_eq!(set.agent_id, Some(AgentId::new(12)));
        assert_eq!(set.events, Some(EventSubscription::all()));
    }

    #[test]
    fn the_test_event_type_defaults_to_webhook_test_or_is_from_the_catalogue() {
        for empty in [Body::Empty, body(""), body("  "), body("{}")] {
            assert_eq!(test_event_type(&empty).unwrap(), EventName::WEBHOOK_TEST);
        }
        assert_eq!(
            test_event_type(&body(r#"{"event_type": "web.tool"}"#)).unwrap(),
            EventType::WebTool
        );
        assert_eq!(
            test_event_type(&body(r#"{"event_type": "webhook.test"}"#)).unwrap(),
            EventName::WEBHOOK_TEST
        );
        for bad in [
            r#"{"event_type": "call.incoming"}"#,
            r#"{"event_type": "Web.Tool"}"#,
            r#"{"event_type": null}"#,
            r#"{"event_type": 3}"#,
            r#"{"type": "web.tool"}"#,
        ] {
            assert_eq!(field_errors(test_event_type(&body(bad))).len(), 1, "{bad}");
        }
        assert!(matches!(
            test_event_type(&body("[]")),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn the_grace_period_is_whole_hours_up_to_a_week() {
        for (raw, hours) in [
            ("", 24),
            ("{}", 24),
            (r#"{"expire_previous_after_hours": 0}"#, 0),
        ] {
            assert_eq!(
                rotation_grace(&body(raw)).unwrap(),
                RotationGrace::from_hours(hours).unwrap(),
                "{raw}"
            );
        }
        assert_eq!(
            rotation_grace(&body(r#"{"expire_previous_after_hours": 168}"#)).unwrap(),
            RotationGrace::from_hours(168).unwrap()
        );
        for bad in ["169", "-1", "1.5", "null", "\"24\""] {
            let raw = format!(r#"{{"expire_previous_after_hours": {bad}}}"#);
            let errors = field_errors(rotation_grace(&body(&raw)));
            assert_eq!(
                errors["expire_previous_after_hours"],
                ["Must be a whole number of hours from 0 to 168."],
                "{bad}"
            );
        }
        assert!(field_errors(rotation_grace(&body(r#"{"hours": 1}"#))).contains_key("hours"));
    }

    #[test]
    fn duplicate_events_collapse() {
        let changes = endpoint_changes(&body(
            r#"{"events":["call.graded","web.tool","call.graded"]}"#,
        ))
        .unwrap();
        assert_eq!(
            changes.events.unwrap().types(),
            &[EventType::CallGraded, EventType::WebTool]
        );
    }
}
