//! The legacy single-URL webhook: one URL per organization for every event type, signed with an
//! organization-level secret that, unlike endpoint secrets, can be read back.

use crate::{EndpointUrl, OrgId, SigningSecret, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyWebhook {
    pub org_id: OrgId,
    pub url: EndpointUrl,
    pub secret: SigningSecret,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
