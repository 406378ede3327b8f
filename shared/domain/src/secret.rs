use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::TryRngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};

/// An endpoint's signing key in the Standard Webhooks format: `whsec_` + base64 of 24 random
/// bytes. It has no `Display` and a redacted `Debug`, so it cannot slip into logs or errors;
/// reading it takes an explicit `expose()`.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(String);

#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct RandomnessUnavailable;

impl SigningSecret {
    pub const PREFIX: &'static str = "whsec_";
    const KEY_BYTES: usize = 24;

    pub fn generate() -> Result<Self, RandomnessUnavailable> {
        let mut key = [0u8; Self::KEY_BYTES];
        OsRng
            .try_fill_bytes(&mut key)
            .map_err(|_| RandomnessUnavailable)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_standard_webhooks_secrets() {
        let secret = SigningSecret::generate().unwrap();
        let key = secret.expose().strip_prefix("whsec_").unwrap();
        assert_eq!(key.len(), 32);
        assert_eq!(STANDARD.decode(key).unwrap().len(), 24);
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
