use serde_json::{Map, Value};

use crate::error::{ApiError, FieldErrors};

/// The fields of a JSON object (a body, or a query string's parameters), taken one by one;
/// whatever is left over or wrong is an error, all of them named at once.
pub(crate) struct Fields {
    object: Map<String, Value>,
    errors: FieldErrors,
}

pub(crate) type Parse<T> = fn(&Value) -> Result<T, String>;

impl Fields {
    /// `noun` is what the names are, for messages: a body's "field", a query's "parameter".
    pub(crate) fn new(object: Map<String, Value>, allowed: &[&str], noun: &str) -> Self {
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

    pub(crate) fn required<T>(&mut self, name: &str, parse: Parse<T>) -> Option<T> {
        if !self.object.contains_key(name) {
            self.fail(name, "This field is required.".into());
        }
        self.optional(name, parse)
    }

    pub(crate) fn optional<T>(&mut self, name: &str, parse: Parse<T>) -> Option<T> {
        let value = self.object.get(name)?;
        match parse(value) {
            Ok(parsed) => Some(parsed),
            Err(message) => {
                self.fail(name, message);
                None
            }
        }
    }

    pub(crate) fn fail(&mut self, name: &str, message: String) {
        self.errors
            .entry(name.to_owned())
            .or_default()
            .push(message);
    }

    pub(crate) fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Invalid(self.errors))
        }
    }

    /// Every error so far, else what `build` makes of the values taken. `build` finds each
    /// required value present: a missing one was an error already.
    pub(crate) fn finish_with<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, ApiError> {
        self.finish()?;
        build().ok_or_else(|| ApiError::internal("a required value missing after validation"))
    }
}
