//! Every setting a function reads from its environment, in one list: the variable, its default,
//! its bounds, and the stack parameter that sets it. Each function's `from_env` reads through
//! [`Setting::read`], dev-server's flags take their names and defaults from here, and a test
//! (`tests/template/test_settings_match_template.py`, over `dev-server --print-settings`) holds
//! the list to every `Environment` block and parameter default of `template.yaml`. Defaults are
//! written as text, as the template writes them; unit tests hold each to its domain constant.

use std::fmt::Display;
use std::str::FromStr;

/// One environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub variable: &'static str,
    /// Used when the variable is unset or empty; `None`: the variable is required.
    pub default: Option<&'static str>,
    /// What a value must be, in words.
    pub bounds: &'static str,
    /// Set from the stack parameter named after it (see [`Setting::parameter`]).
    pub from_stack_parameter: bool,
}

/// A variable the function cannot start without.
const fn required(variable: &'static str, bounds: &'static str) -> Setting {
    Setting {
        variable,
        default: None,
        bounds,
        from_stack_parameter: false,
    }
}

/// A variable its stack parameter sets, with the code's default for when it is unset.
const fn from_stack(
    variable: &'static str,
    default: &'static str,
    bounds: &'static str,
) -> Setting {
    Setting {
        variable,
        default: Some(default),
        bounds,
        from_stack_parameter: true,
    }
}

pub const TABLE_NAME: Setting = required("TABLE_NAME", "the stack's DynamoDB table");
pub const CURSOR_SIGNING_KEY: Setting = required(
    "CURSOR_SIGNING_KEY",
    "at least 32 bytes, the same for every instance",
);
pub const DELIVERY_QUEUE_URL: Setting = required("DELIVERY_QUEUE_URL", "the delivery queue's URL");
pub const DEAD_LETTER_QUEUE_URL: Setting =
    required("DEAD_LETTER_QUEUE_URL", "the dead-letter queue's URL");
/// Required by the code; the stack's parameter has the default.
pub const NOTICE_BUS: Setting = Setting {
    from_stack_parameter: true,
    ..required("NOTICE_BUS", "an EventBridge bus name or ARN")
};
pub const MAX_ENDPOINTS_PER_ORG: Setting = from_stack(
    "MAX_ENDPOINTS_PER_ORG",
    "50",
    "a whole number from 1 to 1000",
);

/// The most endpoints an organization may be allowed: fan-out reads them all for every event.
pub const ENDPOINT_LIMIT_MAX: u32 = 1000;

/// `MAX_ENDPOINTS_PER_ORG`'s value: 1 to [`ENDPOINT_LIMIT_MAX`].
pub fn endpoint_limit(raw: &str) -> Result<u32, String> {
    raw.trim()
        .parse()
        .ok()
        .filter(|limit| (1..=ENDPOINT_LIMIT_MAX).contains(limit))
        .ok_or_else(|| {
            format!("expected a whole number from 1 to {ENDPOINT_LIMIT_MAX}, got {raw:?}")
        })
}
pub const TEST_DELIVERIES_PER_MINUTE: Setting =
    from_stack("TEST_DELIVERIES_PER_MINUTE", "60", "1 to 100000");
pub const RESENDS_PER_MINUTE: Setting = from_stack("RESENDS_PER_MINUTE", "1000", "1 to 100000");
pub const RESENDS_IN_FLIGHT_PER_ORG: Setting =
    from_stack("RESENDS_IN_FLIGHT_PER_ORG", "10", "1 to 100000");
pub const RETRY_SCHEDULE: Setting = from_stack(
    "RETRY_SCHEDULE",
    "",
    "empty for the standard schedule, or up to 50 comma-separated delays of 100ms to 1d, a week in all",
);
pub const DELIVERY_LOG_RETENTION: Setting =
    from_stack("DELIVERY_LOG_RETENTION", "30d", "1d to 3650d");
pub const FAILING_AFTER: Setting = from_stack("FAILING_AFTER", "24h", "1s to 30d");
pub const TLS_ROOTS: Setting = from_stack("TLS_ROOTS", "amazon", "amazon or system");
pub const PORTAL_FRAME_ANCESTORS: Setting = from_stack(
    "PORTAL_FRAME_ANCESTORS",
    "'none'",
    "'none', or 'self' and https origins separated by spaces",
);

/// Every setting, in the order the docs list them.
pub const ALL: [Setting; 14] = [
    TABLE_NAME,
    MAX_ENDPOINTS_PER_ORG,
    TLS_ROOTS,
    CURSOR_SIGNING_KEY,
    DELIVERY_QUEUE_URL,
    DEAD_LETTER_QUEUE_URL,
    TEST_DELIVERIES_PER_MINUTE,
    RESENDS_PER_MINUTE,
    RESENDS_IN_FLIGHT_PER_ORG,
    DELIVERY_LOG_RETENTION,
    NOTICE_BUS,
    RETRY_SCHEDULE,
    FAILING_AFTER,
    PORTAL_FRAME_ANCESTORS,
];

impl Setting {
    /// The stack parameter that sets it: its variable in CamelCase (`FAILING_AFTER` is set by
    /// `FailingAfter`), one rule rather than a second name to keep in step.
    pub fn parameter(&self) -> Option<String> {
        self.from_stack_parameter.then(|| {
            self.variable
                .split('_')
                .map(|word| {
                    let (first, rest) = word.split_at(1.min(word.len()));
                    first.to_owned() + &rest.to_lowercase()
                })
                .collect()
        })
    }

    /// The default as a flag's default text (empty when the variable is required).
    pub const fn default_text(&self) -> &'static str {
        match self.default {
            Some(text) => text,
            None => "",
        }
    }

    /// The value in force: the variable's, else the default; `None` when a required variable is
    /// unset.
    pub fn raw(&self) -> Option<String> {
        self.from(std::env::var(self.variable).ok())
    }

    fn from(&self, given: Option<String>) -> Option<String> {
        given
            .filter(|value| !value.trim().is_empty())
            .or_else(|| self.default.map(str::to_owned))
    }

    /// The value in force, parsed: a message naming the variable when it is missing or wrong,
    /// which stops a cold start.
    pub fn read<T>(&self) -> Result<T, String>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.read_with(str::parse)
    }

    /// [`Setting::read`] with the type's own parser.
    pub fn read_with<T, E: Display>(
        &self,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, String> {
        let raw = self
            .raw()
            .ok_or_else(|| format!("{} is not set", self.variable))?;
        parse(raw.trim()).map_err(|error| format!("{}: {error} ({})", self.variable, self.bounds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FailingPolicy, LogRetention, PerMinute};

    #[test]
    fn a_value_beats_the_default_and_empty_is_unset() {
        assert_eq!(FAILING_AFTER.from(Some("5m".into())).as_deref(), Some("5m"));
        assert_eq!(
            FAILING_AFTER.from(Some("  ".into())).as_deref(),
            Some("24h")
        );
        assert_eq!(TABLE_NAME.from(None), None, "required");
    }

    #[test]
    fn defaults_are_the_domain_constants() {
        let default = |setting: Setting| setting.default.unwrap_or_default();
        assert_eq!(
            default(DELIVERY_LOG_RETENTION).parse::<LogRetention>(),
            Ok(LogRetention::DEFAULT)
        );
        assert_eq!(
            FailingPolicy::parse(default(FAILING_AFTER)),
            Ok(FailingPolicy::default())
        );
        assert_eq!(
            PerMinute::parse(default(TEST_DELIVERIES_PER_MINUTE)),
            Ok(PerMinute::TESTS)
        );
        assert_eq!(
            PerMinute::parse(default(RESENDS_PER_MINUTE)),
            Ok(PerMinute::RESENDS)
        );
        assert_eq!(
            PerMinute::parse(default(RESENDS_IN_FLIGHT_PER_ORG)),
            Ok(PerMinute::RESENT_IN_FLIGHT)
        );
    }

    #[test]
    fn a_stack_parameter_is_its_variable_in_camel_case() {
        assert_eq!(
            TEST_DELIVERIES_PER_MINUTE.parameter().as_deref(),
            Some("TestDeliveriesPerMinute")
        );
        assert_eq!(TABLE_NAME.parameter(), None);
    }

    #[test]
    fn an_endpoint_limit_is_from_one_to_a_thousand() {
        assert_eq!(endpoint_limit("50"), Ok(50));
        assert_eq!(endpoint_limit("1000"), Ok(1000));
        for bad in ["0", "1001", "-1", "many"] {
            assert!(endpoint_limit(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_setting_is_listed_once() {
        let mut names: Vec<&str> = ALL.iter().map(|s| s.variable).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }
}
