//! A JSON object's fields (a body's, or a query string's parameters), taken one by one, and the
//! value parsers bodies and queries share. dev-server's own route reads its body with these too.

use lambda_http::Body;
use serde_json::{Map, Value};
use webhook_domain::{AgentId, Destination, EventName, Timestamp};

use crate::error::{ApiError, FieldErrors};

/// Larger bodies are refused before parsing; a valid one is a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The fields of a JSON object (a body, or a query string's parameters), taken one by one;
/// whatever is left over or wrong is an error, all of them named at once.
pub struct Fields {
    object: Map<String, Value>,
    errors: FieldErrors,
}

pub type Parse<T> = fn(&Value) -> Result<T, String>;

impl Fields {
    /// `noun` is what the names are, for messages: a body's "field", a query's "parameter".
    pub fn new(object: Map<String, Value>, allowed: &[&str], noun: &str) -> Self {
        let mut errors = FieldErrors::new();
        for name in object.keys() {
            if !allowed.contains(&name.as_str()) {
                errors.entry(name.clone()).or_default().push(format!(
                    "Unknown {noun}; allowed {noun}s are {}.",
                    allowed.join(", ")
                ));
            }
        }
        Self { object, errors }
    }

    pub fn required<T>(&mut self, name: &str, parse: Parse<T>) -> Option<T> {
        if !self.object.contains_key(name) {
            self.fail(name, "This field is required.".into());
        }
        self.optional(name, parse)
    }

    /// The field parsed, if given and not refused already.
    pub fn optional<T>(&mut self, name: &str, parse: Parse<T>) -> Option<T> {
        if self.errors.contains_key(name) {
            return None;
        }
        let value = self.object.get(name)?;
        match parse(value) {
            Ok(parsed) => Some(parsed),
            Err(message) => {
                self.fail(name, message);
                None
            }
        }
    }

    /// Whether the body names the field, valid or not.
    pub fn given(&self, name: &str) -> bool {
        self.object.contains_key(name)
    }

    pub fn fail(&mut self, name: &str, message: String) {
        self.errors
            .entry(name.to_owned())
            .or_default()
            .push(message);
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Invalid(self.errors))
        }
    }

    /// Every error so far, else what `build` makes of the values taken. `build` finds each
    /// required value present: a missing one was an error already.
    pub fn finish_with<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, ApiError> {
        self.finish()?;
        build().ok_or_else(|| ApiError::internal("a required value missing after validation"))
    }
}

/// A catalogue type or a well-formed name this build does not know.
pub fn event_name(value: &Value) -> Result<EventName, String> {
    parsed(value, EventName::parse)
}

/// The body as a JSON object: none at all is `{}`; too large, not JSON or not an object is
/// refused.
pub fn json_object(body: &Body) -> Result<Map<String, Value>, ApiError> {
    let bytes: &[u8] = body.as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    // The official client sends no body for a call without fields (a PATCH that changes
    // nothing, a default test): an absent body is `{}`, and a required field says so by name.
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(ApiError::BadRequest(
            "Request body must be a JSON object.".into(),
        )),
        Err(error) => Err(ApiError::BadRequest(format!("Malformed JSON: {error}."))),
    }
}

pub fn string(value: &Value) -> Result<&str, String> {
    match value {
        Value::String(s) => Ok(s),
        Value::Null => Err("This field may not be null.".into()),
        _ => Err("Expected a string.".into()),
    }
}

/// A string as `parse` reads it, its refusal in words.
pub(crate) fn parsed<T, E: ToString>(
    value: &Value,
    parse: fn(&str) -> Result<T, E>,
) -> Result<T, String> {
    parse(string(value)?).map_err(|e| e.to_string())
}

/// `null` clears the agent; otherwise a positive integer.
pub fn agent_or_null(value: &Value) -> Result<Option<AgentId>, String> {
    if value.is_null() {
        return Ok(None);
    }
    value
        .as_u64()
        .and_then(AgentId::new)
        .map(Some)
        .ok_or_else(|| "Expected a positive integer or null.".into())
}

/// An endpoint id, or `legacy` for the organization's legacy URL.
pub fn destination(value: &Value) -> Result<Destination, String> {
    Destination::parse(string(value)?)
        .ok_or_else(|| "Expected an endpoint id (a UUID) or legacy.".into())
}

pub fn since(value: &Value) -> Result<Timestamp, String> {
    Timestamp::parse_iso8601(string(value)?)
        .map_err(|_| "Expected an ISO 8601 date-time such as 2026-04-20T18:24:10.113Z.".into())
}
