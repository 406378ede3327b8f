//! The legacy single-URL webhook: one URL per organization for every event type, signed with an
//! organization-level secret that, unlike endpoint secrets, can be read back.

use serde::Deserialize;

use crate::{EndpointUrl, OrgId, Rotation, SigningKeys, SigningSecret, Timestamp};

/// Read back in its stored shape, with its keys alongside its other fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LegacyWebhook {
    pub org_id: OrgId,
    pub url: EndpointUrl,
    /// The organization secret (shown by the legacy GET), and the previous one during a
    /// rotation's grace period.
    #[serde(flatten)]
    pub keys: SigningKeys,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl LegacyWebhook {
    /// The webhook a first set of `url` at `now` creates, signing with `secret`.
    pub fn new(org_id: OrgId, url: EndpointUrl, secret: SigningSecret, now: Timestamp) -> Self {
        Self {
            org_id,
            url,
            keys: SigningKeys::new(secret),
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether a rotation read from `seen` may replace this webhook's secret: only while it is
    /// still the secret that rotation saw, so of concurrent rotations one wins.
    pub fn may_rotate_from(&self, seen: &LegacyWebhook) -> bool {
        self.keys.current == seen.keys.current
    }

    /// After `rotation`, updated at its time.
    pub fn rotated(self, rotation: Rotation) -> Self {
        Self {
            updated_at: rotation.at,
            keys: self.keys.rotated(rotation),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RotationGrace;

    #[test]
    fn a_rotation_changes_the_keys_and_the_update_time() {
        let at = |millis| Timestamp::from_unix_millis(millis).unwrap();
        let first = SigningSecret::generate().unwrap();
        let legacy = LegacyWebhook {
            org_id: OrgId::new(1),
            url: EndpointUrl::parse("https://legacy.example.com/h").unwrap(),
            keys: SigningKeys::new(first.clone()),
            created_at: at(1_000),
            updated_at: at(1_000),
        };
        let rotation = Rotation::new(RotationGrace::DEFAULT, at(5_000)).unwrap();
        let new = rotation.new.clone();
        let rotated = legacy.rotated(rotation);
        assert_eq!(rotated.updated_at, at(5_000));
        assert_eq!(rotated.created_at, at(1_000));
        assert_eq!(rotated.keys.current, new);
        assert_eq!(rotated.keys.previous.map(|p| p.secret), Some(first));
    }
}
