//! Turning query strings into domain values, naming every parameter that is wrong.

use lambda_http::aws_lambda_events::query_map::QueryMap;
use std::collections::BTreeSet;

use serde_json::{Map, Value};
use webhook_domain::{AgentId, DeliveryFilter, DeliveryStatus, Destination, EndpointId};

use crate::error::ApiError;
use crate::fields::{Fields, destination, event_name, since, string};

const DELIVERY_PARAMETERS: &[&str] = &[
    "endpoint_id",
    "agent_id",
    "event_type",
    "status",
    "since",
    "limit",
    "cursor",
];

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 200;

/// `GET /v1/developer/webhook-deliveries`: which records, how many, from where.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct DeliveryQuery {
    pub filter: DeliveryFilter,
    pub limit: usize,
    pub cursor: Option<String>,
}

pub(crate) fn delivery_query(query: Option<&QueryMap>) -> Result<DeliveryQuery, ApiError> {
    let mut fields = query_fields(query, DELIVERY_PARAMETERS);
    let filter = DeliveryFilter {
        endpoint_id: fields.optional("endpoint_id", endpoint_id),
        agent_id: fields.optional("agent_id", agent_id),
        // Any well-formed name: the log also holds `webhook.test` and types newer than this build.
        event_type: fields.optional("event_type", event_name),
        status: fields.optional("status", status),
        since: fields.optional("since", since),
    };
    let limit = fields.optional("limit", limit);
    let cursor = fields.optional("cursor", |v| string(v).map(str::to_owned));
    fields.finish()?;
    Ok(DeliveryQuery {
        filter,
        limit: limit.unwrap_or(DEFAULT_PAGE_SIZE),
        cursor,
    })
}

/// `?endpoint_id=<endpoint id>|legacy`: which destination of an event (`None`: the legacy URL).
pub(crate) fn destination_query(query: Option<&QueryMap>) -> Result<Destination, ApiError> {
    let mut fields = query_fields(query, &["endpoint_id"]);
    let destination = fields.required("endpoint_id", destination);
    fields.finish_with(|| destination)
}

/// A cursor this service did not issue for this organization and these filters.
pub(crate) fn foreign_cursor() -> ApiError {
    invalid(
        "cursor",
        "Invalid cursor: pass a next_cursor from an earlier page, with the same filters.",
    )
}

fn invalid(name: &str, message: &str) -> ApiError {
    ApiError::Invalid([(name.to_owned(), vec![message.to_owned()])].into())
}

/// The query's parameters, each once: a repeated one is ambiguous, so it is refused rather
/// than guessed at, named with whatever else is wrong.
fn query_fields(query: Option<&QueryMap>, allowed: &[&str]) -> Fields {
    let mut values = Map::new();
    let mut repeated = BTreeSet::new();
    for (name, value) in query.into_iter().flat_map(QueryMap::iter) {
        let known = allowed.contains(&name);
        if values.insert(name.to_owned(), value.into()).is_some() && known {
            repeated.insert(name);
        }
    }
    let mut fields = Fields::new(values, allowed, "parameter");
    for name in repeated {
        fields.fail(name, "Give this parameter at most once.".into());
    }
    fields
}

fn endpoint_id(value: &Value) -> Result<EndpointId, String> {
    EndpointId::parse(string(value)?).ok_or_else(|| "Expected an endpoint id (a UUID).".into())
}

fn agent_id(value: &Value) -> Result<AgentId, String> {
    string(value)?
        .parse()
        .ok()
        .and_then(AgentId::new)
        .ok_or_else(|| "Expected an agent id (a positive whole number).".into())
}

fn status(value: &Value) -> Result<DeliveryStatus, String> {
    string(value)?
        .parse()
        .map_err(|_| "Expected one of delivered, retrying, failed.".into())
}

fn limit(value: &Value) -> Result<usize, String> {
    string(value)?
        .parse()
        .ok()
        .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
        .ok_or_else(|| format!("Expected a whole number from 1 to {MAX_PAGE_SIZE}."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FieldErrors;
    use webhook_domain::Timestamp;

    fn parse(query: &str) -> Result<DeliveryQuery, ApiError> {
        let map: QueryMap = query.parse().unwrap();
        delivery_query(Some(&map))
    }

    fn errors(query: &str) -> FieldErrors {
        match parse(query) {
            Err(ApiError::Invalid(errors)) => errors,
            other => panic!("expected parameter errors, got {other:?}"),
        }
    }

    #[test]
    fn nothing_given_is_the_first_page_of_everything() {
        assert_eq!(
            delivery_query(None).unwrap(),
            DeliveryQuery {
                filter: DeliveryFilter::default(),
                limit: 50,
                cursor: None
            }
        );
    }

    #[test]
    fn every_parameter_is_read() {
        let id = EndpointId::generate();
        let query = parse(&format!(
            "endpoint_id={id}&agent_id=12&event_type=call.graded&status=retrying\
             &since=2026-04-20T18:24:10%2B00:00&limit=200&cursor=abc.def"
        ))
        .unwrap();
        assert_eq!(
            query,
            DeliveryQuery {
                filter: DeliveryFilter {
                    endpoint_id: Some(id),
                    agent_id: AgentId::new(12),
                    event_type: Some(webhook_domain::EventType::CallGraded.into()),
                    status: Some(DeliveryStatus::Retrying),
                    since: Timestamp::parse("2026-04-20T18:24:10.000Z").ok(),
                },
                limit: 200,
                cursor: Some("abc.def".into()),
            }
        );
    }

    #[test]
    fn every_bad_parameter_is_named() {
        let all = errors(
            "endpoint_id=nope&agent_id=0&event_type=Call.Graded&status=done&since=yesterday\
             &limit=201&page=2",
        );
        assert_eq!(
            all.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "agent_id",
                "endpoint_id",
                "event_type",
                "limit",
                "page",
                "since",
                "status"
            ]
        );
        assert_eq!(errors("limit=0")["limit"].len(), 1);
        assert_eq!(errors("limit=ten")["limit"].len(), 1);
        let repeated = errors("status=failed&status=delivered&limit=0&page=2&page=3");
        assert_eq!(repeated["status"], ["Give this parameter at most once."]);
        assert_eq!(repeated["limit"].len(), 1, "named with the rest");
        assert_eq!(repeated["page"].len(), 1);
        assert!(repeated["page"][0].starts_with("Unknown parameter"));
    }
}
