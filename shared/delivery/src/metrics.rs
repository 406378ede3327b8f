//! Delivery outcomes as CloudWatch metrics, written as embedded-metric-format (EMF) log lines
//! that CloudWatch Logs turns into metrics: no API call, no extra latency. The dimensions are
//! the result and the failure category only, never an organization or endpoint, so the number
//! of metric series stays fixed whatever the traffic.

use serde_json::json;
use webhook_domain::Attempt;

pub const NAMESPACE: &str = "Webhooks";

/// Where the pipeline reports each attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AttemptMetrics {
    /// Nowhere (tests, dev-server).
    #[default]
    Off,
    /// An EMF line on standard output (the deliver Lambda).
    EmbeddedMetricFormat,
}

impl AttemptMetrics {
    pub fn report(self, attempt: &Attempt) {
        if self == Self::EmbeddedMetricFormat {
            println!("{}", emf_line(attempt));
        }
    }
}

/// One attempt: `Attempts` (count) and `AttemptDuration` (milliseconds), by `Result`
/// (`delivered` or `failed`) and by `Result` and `FailureCategory` (`none` for a delivery).
pub fn emf_line(attempt: &Attempt) -> serde_json::Value {
    let result = if attempt.outcome.is_success() {
        "delivered"
    } else {
        "failed"
    };
    let category = attempt
        .outcome
        .failure()
        .and_then(|category| serde_json::to_value(category).ok())
        .unwrap_or_else(|| json!("none"));
    json!({
        "_aws": {
            "Timestamp": attempt.at.unix_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Result"], ["Result", "FailureCategory"]],
                "Metrics": [
                    {"Name": "Attempts", "Unit": "Count"},
                    {"Name": "AttemptDuration", "Unit": "Milliseconds"}
                ]
            }]
        },
        "Result": result,
        "FailureCategory": category,
        "Attempts": 1,
        "AttemptDuration": u64::try_from(attempt.duration.as_millis()).unwrap_or(u64::MAX),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use webhook_domain::{AttemptOutcome, FailureCategory, Timestamp};

    use super::*;

    fn attempt(outcome: AttemptOutcome) -> Attempt {
        Attempt {
            at: Timestamp::from_unix_millis(1_700_000_000_000).unwrap(),
            outcome,
            duration: Duration::from_millis(250),
        }
    }

    #[test]
    fn an_attempt_is_one_count_and_its_duration_by_result_and_category() {
        let line = emf_line(&attempt(AttemptOutcome::Failed {
            status: None,
            category: FailureCategory::Timeout,
        }));
        assert_eq!(line["Result"], "failed");
        assert_eq!(line["FailureCategory"], "timeout");
        assert_eq!(
            (&line["Attempts"], &line["AttemptDuration"]),
            (&json!(1), &json!(250))
        );
        assert_eq!(line["_aws"]["Timestamp"], 1_700_000_000_000_i64);
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Webhooks");
        // Every dimension named is a field of the line, and none is per organization or endpoint.
        for dimension in directive["Dimensions"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|d| d.as_array().unwrap())
        {
            let name = dimension.as_str().unwrap();
            assert!(line.get(name).is_some(), "{name}");
            assert!(["Result", "FailureCategory"].contains(&name), "{name}");
        }
        for metric in directive["Metrics"].as_array().unwrap() {
            assert!(line.get(metric["Name"].as_str().unwrap()).is_some());
        }
        let delivered = emf_line(&attempt(AttemptOutcome::from_status(204)));
        assert_eq!(
            (&delivered["Result"], &delivered["FailureCategory"]),
            (&json!("delivered"), &json!("none"))
        );
    }
}
