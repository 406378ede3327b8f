use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointStatus {
    Active,
    /// Paused by the organization.
    Disabled,
    /// Set by the server after a long streak of failed deliveries; never requested by a caller.
    Failing,
}

impl EndpointStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
            Self::Failing => "failing",
        }
    }
}

/// A status a caller may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestedStatus {
    Active,
    Disabled,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    #[error("\"failing\" is set by the server only; use \"active\" or \"disabled\".")]
    ServerOnly,
    #[error("\"{0}\" is not a valid choice; use \"active\" or \"disabled\".")]
    Unknown(String),
}

impl RequestedStatus {
    pub fn parse(raw: &str) -> Result<Self, StatusError> {
        match raw {
            "active" => Ok(Self::Active),
            "disabled" => Ok(Self::Disabled),
            "failing" => Err(StatusError::ServerOnly),
            other => Err(StatusError::Unknown(other.to_owned())),
        }
    }
}

impl From<RequestedStatus> for EndpointStatus {
    fn from(status: RequestedStatus) -> Self {
        match status {
            RequestedStatus::Active => Self::Active,
            RequestedStatus::Disabled => Self::Disabled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_may_ask_for_active_or_disabled_only() {
        for (text, parsed) in [
            ("active", Ok(RequestedStatus::Active)),
            ("disabled", Ok(RequestedStatus::Disabled)),
            ("failing", Err(StatusError::ServerOnly)),
        ] {
            assert_eq!(RequestedStatus::parse(text), parsed, "{text}");
        }
        assert!(
            RequestedStatus::parse("failing")
                .unwrap_err()
                .to_string()
                .contains("server")
        );
        assert_eq!(
            RequestedStatus::parse("Active"),
            Err(StatusError::Unknown("Active".into()))
        );
    }

    #[test]
    fn status_names_are_the_ones_the_api_shows() {
        for (status, name) in [
            (EndpointStatus::Active, "active"),
            (EndpointStatus::Disabled, "disabled"),
            (EndpointStatus::Failing, "failing"),
        ] {
            assert_eq!(status.as_str(), name);
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(name)
            );
        }
    }

    #[test]
    fn a_requested_status_becomes_the_same_endpoint_status() {
        for name in ["active", "disabled"] {
            let requested = RequestedStatus::parse(name).unwrap();
            assert_eq!(EndpointStatus::from(requested).as_str(), name);
        }
    }
}
