//! Every setting a function reads from its environment, in one list: the variable, its default,
//! its bounds, and the stack parameter that sets it. Each function's `from_env` reads through
//! [`Setting::read`], dev-server's flags take their names and defaults from here, and a test
//! (`tests/template/test_settings_match_template.py`, over `dev-server --print-settings`) holds
//! the list to every `Environment` block and parameter default of `template.yaml`. Defaults are
//! written as text, as the template writes them; unit tests hold each to its domain constant.

use std::fmt::Display;
use std::str::FromStr;

use serde::Serialize;

/// One environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Setting {
    pub variable: &'static str,
    /// Used when the variable is unset or empty; `None`: the variable is required.
    pub default: Option<&'static str>,
    /// What a value must be, in words.
    pub bounds: &'static str,
    /// The `template.yaml` parameter that sets it, if one does.
    pub parameter: Option<&'static str>,
}

pub const TABLE_NAME: Setting = Setting {
    variable: "TABLE_NAME",
    default: None,
    bounds: "the stack's DynamoDB table",
    parameter: None,
};

pub const MAX_ENDPOINTS_PER_ORG: Setting = Setting {
    variable: "MAX_ENDPOINTS_PER_ORG",
    default: Some("50"),
    bounds: "a whole number, 1 or more",
    parameter: Some("MaxEndpointsPerOrg"),
};

pub const TEST_DELIVERIES_PER_MINUTE: Setting = Setting {
    variable: "TEST_DELIVERIES_PER_MINUTE",
    default: Some("60"),
    bounds: "1 to 10000",
    parameter: Some("TestDeliveriesPerMinute"),
};

pub const CURSOR_SIGNING_KEY: Setting = Setting {
    variable: "CURSOR_SIGNING_KEY",
    default: None,
    bounds: "at least 32 bytes, the same for every instance",
    parameter: None,
};

pub const DELIVERY_QUEUE_URL: Setting = Setting {
    variable: "DELIVERY_QUEUE_URL",
    default: None,
    bounds: "the delivery queue's URL",
    parameter: None,
};

pub const DEAD_LETTER_QUEUE_URL: Setting = Setting {
    variable: "DEAD_LETTER_QUEUE_URL",
    default: None,
    bounds: "the dead-letter queue's URL",
    parameter: None,
};

pub const RETRY_SCHEDULE: Setting = Setting {
    variable: "RETRY_SCHEDULE",
    default: Some(""),
    bounds: "empty for the standard schedule, or up to 50 comma-separated delays of 100ms to 1d, a week in all",
    parameter: Some("RetrySchedule"),
};

pub const DELIVERY_LOG_RETENTION: Setting = Setting {
    variable: "DELIVERY_LOG_RETENTION",
    default: Some("30d"),
    bounds: "1d to 3650d",
    parameter: Some("DeliveryLogRetention"),
};

pub const NOTICE_BUS: Setting = Setting {
    variable: "NOTICE_BUS",
    default: None,
    bounds: "an EventBridge bus name or ARN",
    parameter: Some("NoticeBus"),
};

pub const FAILING_AFTER: Setting = Setting {
    variable: "FAILING_AFTER",
    default: Some("24h"),
    bounds: "1s to 30d",
    parameter: Some("FailingAfter"),
};

pub const TLS_ROOTS: Setting = Setting {
    variable: "TLS_ROOTS",
    default: Some("amazon"),
    bounds: "amazon or system",
    parameter: Some("TlsRoots"),
};

pub const PORTAL_FRAME_ANCESTORS: Setting = Setting {
    variable: "PORTAL_FRAME_ANCESTORS",
    default: Some("'none'"),
    bounds: "'none', or 'self' and https origins separated by spaces",
    parameter: Some("PortalFrameAncestors"),
};

/// Every setting, in the order the docs list them.
pub const ALL: [Setting; 12] = [
    TABLE_NAME,
    MAX_ENDPOINTS_PER_ORG,
    TLS_ROOTS,
    CURSOR_SIGNING_KEY,
    DELIVERY_QUEUE_URL,
    DEAD_LETTER_QUEUE_URL,
    TEST_DELIVERIES_PER_MINUTE,
    DELIVERY_LOG_RETENTION,
    NOTICE_BUS,
    RETRY_SCHEDULE,
    FAILING_AFTER,
    PORTAL_FRAME_ANCESTORS,
];

impl Setting {
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
        let raw = self
            .raw()
            .ok_or_else(|| format!("{} is not set", self.variable))?;
        raw.trim()
            .parse()
            .map_err(|error| format!("{}: {error} ({})", self.variable, self.bounds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FailingPolicy, LogRetention, TestRateLimit};

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
            TestRateLimit::parse(default(TEST_DELIVERIES_PER_MINUTE)),
            Ok(TestRateLimit::default())
        );
    }

    #[test]
    fn every_setting_is_listed_once() {
        let mut names: Vec<&str> = ALL.iter().map(|s| s.variable).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }
}
