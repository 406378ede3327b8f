use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::TryRngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use std::time::Duration;

use crate::Timestamp;

/// An endpoint's signing key in the Standard Webhooks format: `whsec_` + base64 of 24 random
/// bytes. It has no `Display` and a redacted `Debug`, so it cannot slip into logs or errors;
/// reading it takes an explicit `expose()`.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(String);

#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct RandomnessUnavailable;

/// `N` bytes from the operating system's random number generator.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], RandomnessUnavailable> {
    let mut bytes = [0; N];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|_| RandomnessUnavailable)?;
    Ok(bytes)
}

impl SigningSecret {
    pub const PREFIX: &'static str = "whsec_";
    const KEY_BYTES: usize = 24;

    pub fn generate() -> Result<Self, RandomnessUnavailable> {
        let key: [u8; Self::KEY_BYTES] = random_bytes()?;
        Ok(Self(format!("{}{}", Self::PREFIX, STANDARD.encode(key))))
    }

    /// Wraps a secret read back from storage.
    pub fn from_stored(secret: String) -> Self {
        Self(secret)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hint(&self) -> SecretHint {
        let tail_start = self
            .0
            .char_indices()
            .rev()
            .nth(SecretHint::TAIL_CHARS - 1)
            .map_or(0, |(i, _)| i);
        SecretHint(format!("{}…{}", Self::PREFIX, &self.0[tail_start..]))
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(<redacted>)")
    }
}

/// `whsec_…` and the secret's last six characters: enough to tell secrets apart, useless to sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretHint(String);

impl SecretHint {
    const TAIL_CHARS: usize = 6;

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The secrets deliveries to one destination are signed with: the current one and, for a grace
/// period after a rotation, the previous one, so a receiver can switch over without refusing a
/// delivery. Never more than two.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "StoredKeys")]
pub struct SigningKeys {
    pub current: SigningSecret,
    pub previous: Option<PreviousSecret>,
}

/// Keys as they are stored, flat; a previous secret missing either half is none. A half that
/// is there but unreadable fails the read rather than quietly dropping the previous secret.
#[derive(Deserialize)]
struct StoredKeys {
    secret: String,
    previous_secret: Option<String>,
    previous_expires_at: Option<Timestamp>,
}

impl From<StoredKeys> for SigningKeys {
    fn from(stored: StoredKeys) -> Self {
        let previous = stored.previous_secret.zip(stored.previous_expires_at);
        Self {
            current: SigningSecret::from_stored(stored.secret),
            previous: previous.map(|(secret, expires_at)| PreviousSecret {
                secret: SigningSecret::from_stored(secret),
                expires_at,
            }),
        }
    }
}

/// A rotated-out secret, still signing until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousSecret {
    pub secret: SigningSecret,
    pub expires_at: Timestamp,
}

/// One rotation: the new secret, and until when the one it replaces keeps signing (`None`: it
/// stops at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub new: SigningSecret,
    pub previous_until: Option<Timestamp>,
    /// When the new secret takes over: the rotated item's `updated_at`.
    pub at: Timestamp,
}

impl Rotation {
    /// A fresh secret; the current one stays valid for `grace` from `now`.
    pub fn new(grace: RotationGrace, now: Timestamp) -> Result<Self, RandomnessUnavailable> {
        Ok(Self {
            new: SigningSecret::generate()?,
            previous_until: now.checked_add(grace.0).filter(|_| !grace.0.is_zero()),
            at: now,
        })
    }
}

impl SigningKeys {
    pub fn new(current: SigningSecret) -> Self {
        Self {
            current,
            previous: None,
        }
    }

    /// What signs a delivery made at `now`: the current secret, then the previous one while its
    /// grace lasts.
    pub fn signing_at(&self, now: Timestamp) -> Vec<&SigningSecret> {
        let mut secrets = vec![&self.current];
        secrets.extend(self.previous_at(now).map(|previous| &previous.secret));
        secrets
    }

    /// The previous secret, if its grace period has not ended by `now`.
    pub fn previous_at(&self, now: Timestamp) -> Option<&PreviousSecret> {
        self.previous.as_ref().filter(|p| p.expires_at > now)
    }

    /// The keys after `rotation`: its new secret is current, the current one becomes the
    /// previous (for its grace period), and a previous one still in grace is dropped. DynamoDB
    /// writes this as one update expression (`SET previous_secret = secret, …`).
    pub fn rotated(self, rotation: Rotation) -> Self {
        Self {
            previous: rotation.previous_until.map(|expires_at| PreviousSecret {
                secret: self.current,
                expires_at,
            }),
            current: rotation.new,
        }
    }
}

/// How long a rotated-out secret keeps signing: 0 to 168 hours (a week), 24 by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationGrace(Duration);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Must be a whole number of hours from 0 to 168.")]
pub struct GraceOutOfRange;

impl RotationGrace {
    pub const MAX_HOURS: u64 = 168;
    pub const DEFAULT: Self = Self(Duration::from_secs(24 * 3600));

    pub fn from_hours(hours: u64) -> Result<Self, GraceOutOfRange> {
        (hours <= Self::MAX_HOURS)
            .then(|| Self(Duration::from_secs(hours * 3600)))
            .ok_or(GraceOutOfRange)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::at;

    #[test]
    fn stored_keys_read_a_previous_secret_only_whole_and_refuse_a_damaged_one() {
        let read = |item: serde_json::Value| serde_json::from_value::<SigningKeys>(item);
        let current = "whsec_Y3VycmVudC1zZWNyZXQtMjQtYnl0ZXMh";
        let (previous, until) = ("whsec_cHJldmlvdXMtc2VjcmV0LTI0LWJ5dGVzIQ==", at(9));
        let whole = read(serde_json::json!({
            "secret": current, "previous_secret": previous, "previous_expires_at": until,
        }))
        .unwrap();
        assert_eq!(whole.current.expose(), current);
        let kept = whole.previous.unwrap();
        assert_eq!((kept.secret.expose(), kept.expires_at), (previous, until));

        let half = read(serde_json::json!({"secret": current, "previous_secret": previous}));
        assert_eq!(half.unwrap().previous, None);
        let damaged = serde_json::json!({
            "secret": current, "previous_secret": previous, "previous_expires_at": "soon",
        });
        assert!(read(damaged).is_err());
    }

    #[test]
    fn generates_standard_webhooks_secrets() {
        let secret = SigningSecret::generate().unwrap();
        let key = secret.expose().strip_prefix("whsec_").unwrap();
        assert_eq!(key.len(), 32);
        assert_eq!(STANDARD.decode(key).unwrap().len(), 24);
    }

    #[test]
    fn a_rotation_keeps_the_previous_secret_for_its_grace_period_only() {
        let first = SigningSecret::generate().unwrap();
        let keys = SigningKeys::new(first.clone());
        assert_eq!(keys.signing_at(at(0)), [&first]);

        let grace = RotationGrace::from_hours(1).unwrap();
        let rotation = Rotation::new(grace, at(1_000)).unwrap();
        let second = rotation.new.clone();
        assert_eq!(rotation.previous_until, Some(at(1_000 + 3_600_000)));
        let keys = keys.rotated(rotation);
        assert_eq!(keys.signing_at(at(1_000)), [&second, &first], "new first");
        assert_eq!(keys.signing_at(at(3_600_999)), [&second, &first]);
        assert_eq!(keys.signing_at(at(3_601_000)), [&second], "expired");
        assert_eq!(keys.previous_at(at(3_601_000)), None);

        // Rotating again in the grace period replaces the previous one: never three.
        let third_rotation = Rotation::new(grace, at(2_000)).unwrap();
        let third = third_rotation.new.clone();
        let keys = keys.rotated(third_rotation);
        assert_eq!(keys.signing_at(at(2_000)), [&third, &second]);

        // No grace: the old secret stops at once.
        let fourth = Rotation::new(RotationGrace::from_hours(0).unwrap(), at(3_000)).unwrap();
        assert_eq!(fourth.previous_until, None);
        let keys = keys.rotated(fourth);
        assert_eq!(keys.signing_at(at(3_000)).len(), 1);
        assert_eq!(keys.previous, None);
    }

    #[test]
    fn the_grace_period_is_zero_to_a_week_in_hours() {
        assert_eq!(
            RotationGrace::from_hours(168),
            Ok(RotationGrace(Duration::from_secs(168 * 3600)))
        );
        assert_eq!(RotationGrace::from_hours(169), Err(GraceOutOfRange));
        assert_eq!(
            RotationGrace::DEFAULT,
            RotationGrace::from_hours(24).unwrap()
        );
    }

    #[test]
    fn secrets_differ() {
        let a = SigningSecret::generate().unwrap();
        let b = SigningSecret::generate().unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn hint_shows_prefix_ellipsis_and_last_six() {
        let secret = SigningSecret::from_stored("whsec_abcdefghijklmnopqrstuvwxyz012345".into());
        assert_eq!(secret.hint().as_str(), "whsec_…012345");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = SigningSecret::generate().unwrap();
        let shown = format!("{secret:?}");
        assert!(!shown.contains(secret.expose()));
        assert!(!shown.contains(&secret.expose()[6..12]));
    }

    #[test]
    fn debug_says_a_secret_was_redacted() {
        let secret = SigningSecret::from_stored("whsec_c2VjcmV0".into());
        assert_eq!(format!("{secret:?}"), "SigningSecret(<redacted>)");
    }

    #[test]
    fn a_stored_secret_is_exposed_unchanged() {
        let stored = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        assert_eq!(SigningSecret::from_stored(stored.into()).expose(), stored);
    }
}
