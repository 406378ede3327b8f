//! What the platform hears when an endpoint's health changes: the sweeper marked it failing,
//! or a delivery's 2xx made it active again. A platform turns these into emails to its
//! customers; they name the receiver by host only, since paths and queries often hold tokens.

use serde::Serialize;

use crate::{Endpoint, EndpointId, OrgId, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Failing,
    Recovered,
}

impl NoticeKind {
    /// The notice's name on the event bus (its `detail-type`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Failing => "webhook-endpoint.failing",
            Self::Recovered => "webhook-endpoint.recovered",
        }
    }
}

/// One change of an endpoint's health, as published. `kind` is the event's name, not part of
/// its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointNotice {
    #[serde(skip)]
    pub kind: NoticeKind,
    pub org_id: OrgId,
    pub endpoint_id: EndpointId,
    pub label: String,
    pub url_host: String,
    /// When the failure streak began; unknown for an endpoint revived after its streak record
    /// was lost.
    pub failing_since: Option<Timestamp>,
    /// When the change happened.
    pub at: Timestamp,
}

impl EndpointNotice {
    /// The sweeper marked `endpoint` failing at `at`, for the streak that began `failing_since`.
    pub fn failing(endpoint: &Endpoint, failing_since: Timestamp, at: Timestamp) -> Self {
        Self::new(NoticeKind::Failing, endpoint, Some(failing_since), at)
    }

    /// A success at `at` made the failing `endpoint` active again.
    pub fn recovered(endpoint: &Endpoint, failing_since: Option<Timestamp>, at: Timestamp) -> Self {
        Self::new(NoticeKind::Recovered, endpoint, failing_since, at)
    }

    fn new(
        kind: NoticeKind,
        endpoint: &Endpoint,
        failing_since: Option<Timestamp>,
        at: Timestamp,
    ) -> Self {
        Self {
            kind,
            org_id: endpoint.org_id,
            endpoint_id: endpoint.id,
            label: endpoint.label.as_str().to_owned(),
            url_host: endpoint.url.host().to_owned(),
            failing_since,
            at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn a_notice_names_the_receiver_by_host_only() {
        let at = Timestamp::from_unix_millis(1_700_000_000_000).unwrap();
        let mut endpoint = fixtures::endpoint(OrgId::new(7));
        endpoint.url =
            crate::EndpointUrl::parse("https://Hooks.Example.com:8443/t/s3cret?token=abc").unwrap();
        let since = Timestamp::from_unix_millis(1_600_000_000_000).unwrap();
        let notice = EndpointNotice::failing(&endpoint, since, at);
        assert_eq!(notice.kind.as_str(), "webhook-endpoint.failing");
        let body = serde_json::to_value(&notice).unwrap();
        assert_eq!(body["url_host"], "hooks.example.com");
        assert_eq!(body["org_id"], 7);
        assert_eq!(body["endpoint_id"], endpoint.id.to_string());
        assert_eq!(body["label"], endpoint.label.as_str());
        assert_eq!(body["failing_since"], since.to_string());
        assert_eq!(body["at"], at.to_string());
        assert!(body.get("kind").is_none());
        assert!(!body.to_string().contains("s3cret") && !body.to_string().contains("token"));

        let recovered = EndpointNotice::recovered(&endpoint, None, at);
        assert_eq!(recovered.kind.as_str(), "webhook-endpoint.recovered");
        assert!(serde_json::to_value(&recovered).unwrap()["failing_since"].is_null());
    }
}
