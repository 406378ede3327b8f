//! The JSON users see: the product's endpoint object, exactly its fields.

use serde::Serialize;
use webhook_domain::{
    AgentId, Endpoint, EndpointId, EndpointStatus, EventSubscription, LegacyWebhook, SecretHint,
    SigningSecret, Timestamp,
};

#[derive(Serialize)]
pub(crate) struct EndpointView<'a> {
    id: EndpointId,
    label: &'a str,
    url: &'a str,
    events: &'a EventSubscription,
    status: EndpointStatus,
    agent_id: Option<AgentId>,
    /// This service keeps no agent directory, so it cannot name the agent.
    agent_name: Option<&'a str>,
    secret_hint: &'a SecretHint,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl<'a> From<&'a Endpoint> for EndpointView<'a> {
    fn from(endpoint: &'a Endpoint) -> Self {
        Self {
            id: endpoint.id,
            label: endpoint.label.as_str(),
            url: endpoint.url.as_str(),
            events: &endpoint.events,
            status: endpoint.status,
            agent_id: endpoint.agent_id,
            agent_name: None,
            secret_hint: &endpoint.secret_hint,
            created_at: endpoint.created_at,
            updated_at: endpoint.updated_at,
        }
    }
}

/// The create response: the only place the full secret is ever shown.
#[derive(Serialize)]
pub(crate) struct CreatedEndpointView<'a> {
    #[serde(flatten)]
    endpoint: EndpointView<'a>,
    secret: &'a str,
}

impl<'a> CreatedEndpointView<'a> {
    pub(crate) fn new(endpoint: &'a Endpoint, secret: &'a SigningSecret) -> Self {
        Self {
            endpoint: endpoint.into(),
            secret: secret.expose(),
        }
    }
}

/// The legacy webhook, secret included: unlike endpoint secrets it can be read back.
#[derive(Serialize)]
pub(crate) struct LegacyWebhookView<'a> {
    url: &'a str,
    secret: &'a str,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl<'a> From<&'a LegacyWebhook> for LegacyWebhookView<'a> {
    fn from(legacy: &'a LegacyWebhook) -> Self {
        Self {
            url: legacy.url.as_str(),
            secret: legacy.secret.expose(),
            created_at: legacy.created_at,
            updated_at: legacy.updated_at,
        }
    }
}
