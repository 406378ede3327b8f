//! The legacy single-URL webhook: one URL per organization for every event type, signed with an
//! organization-level secret that, unlike endpoint secrets, can be read back.

use crate::{EndpointUrl, OrgId, Rotation, SigningKeys, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyWebhook {
    pub org_id: OrgId,
    pub url: EndpointUrl,
    /// The organization secret (shown by the legacy GET), and the previous one during a
    /// rotation's grace period.
    pub keys: SigningKeys,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl LegacyWebhook {
    /// After `rotation` at `now`.
    pub fn rotated(self, rotation: Rotation, now: Timestamp) -> Self {
        Self {
            keys: self.keys.rotated(rotation),
            updated_at: now,
            ..self
        }
    }
}
