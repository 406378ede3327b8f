//! Idempotent requests: a client that retries a create, a rotation or a test with the same
//! `Idempotency-Key` gets the first call's answer instead of a second effect.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{EndpointId, SecretHint, SigningKeys, SigningSecret, Timestamp};

/// How long a key is remembered.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// How long a request that sends (the test route) holds its key before another call may take
/// it over: longer than any test waits for its receiver.
pub const IDEMPOTENCY_LEASE: Duration = Duration::from_secs(60);

/// The client's key: 1 to 255 printable ASCII characters.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Idempotency-Key must be 1 to 255 printable ASCII characters.")]
pub struct InvalidIdempotencyKey;

impl IdempotencyKey {
    pub const MAX_CHARS: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, InvalidIdempotencyKey> {
        let printable = raw.bytes().all(|b| (b' '..=b'~').contains(&b));
        (printable && !raw.trim().is_empty() && raw.len() <= Self::MAX_CHARS)
            .then(|| Self(raw.to_owned()))
            .ok_or(InvalidIdempotencyKey)
    }
}

crate::stored::read_back_unchecked!(IdempotencyKey);

/// Keys are the client's own words; logs show their length only.
impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({} chars)", self.0.len())
    }
}

/// What the first call answered, as far as storage keeps it: never a secret, only its hint,
/// so the secret is read back from where it lives. Stored as its variant's name in `replay`
/// beside the variant's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "replay", rename_all = "snake_case")]
pub enum Replay {
    /// The endpoint as stored now, with the secret this hint names.
    Endpoint {
        #[serde(rename = "endpoint_id")]
        id: EndpointId,
        secret_hint: SecretHint,
    },
    /// The legacy webhook as stored now, with the secret this hint names.
    LegacyWebhook { secret_hint: SecretHint },
    /// This exact body.
    Answer { body: String },
    /// The first call is still running (until then).
    InProgress { until: Timestamp },
}

/// One remembered request: which key, what was asked (a digest of the operation, its target and
/// its body), what was answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// Where the record is kept, not written in it; a reader hands it back.
    #[serde(skip_serializing)]
    pub key: IdempotencyKey,
    pub fingerprint: String,
    pub status: u16,
    #[serde(flatten)]
    pub replay: Replay,
    #[serde(rename = "valid_until")]
    pub expires_at: Timestamp,
}

/// What a repeated request gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repeat<'a> {
    /// Answer as the first call did.
    Replay(&'a Replay),
    /// The same key with another request.
    Mismatch,
    /// The first call has not finished.
    InProgress,
}

impl IdempotencyRecord {
    /// A record made at `now`, remembered for [`IDEMPOTENCY_WINDOW`].
    pub fn new(
        key: IdempotencyKey,
        fingerprint: String,
        status: u16,
        replay: Replay,
        now: Timestamp,
    ) -> Self {
        Self {
            key,
            fingerprint,
            status,
            replay,
            expires_at: now.checked_add(IDEMPOTENCY_WINDOW).unwrap_or(now),
        }
    }

    /// The record of a request that has started and not finished.
    pub fn in_progress(key: IdempotencyKey, fingerprint: String, now: Timestamp) -> Self {
        let until = now.checked_add(IDEMPOTENCY_LEASE).unwrap_or(now);
        Self::new(key, fingerprint, 0, Replay::InProgress { until }, now)
    }

    /// Whether a new request may take this key at `now`: the record has expired, or its first
    /// call died holding it. DynamoDB writes this as the reservation's condition.
    pub fn may_be_taken(&self, now: Timestamp) -> bool {
        self.expires_at <= now
            || matches!(self.replay, Replay::InProgress { until } if until <= now)
    }

    /// What a request with `fingerprint` gets from this record.
    pub fn repeat(&self, fingerprint: &str) -> Repeat<'_> {
        if self.fingerprint != fingerprint {
            Repeat::Mismatch
        } else if matches!(self.replay, Replay::InProgress { .. }) {
            Repeat::InProgress
        } else {
            Repeat::Replay(&self.replay)
        }
    }
}

/// The secret of `keys` a replay names, while it is still the current one. After a later
/// rotation the answer would pair the old secret with the endpoint's new hint, and hand a
/// rotated-out secret to whoever replays the key: `None`, and the replay is refused.
pub fn secret_named<'a>(keys: &'a SigningKeys, hint: &SecretHint) -> Option<&'a SigningSecret> {
    Some(&keys.current).filter(|current| current.hint() == *hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::at;

    #[test]
    fn keys_are_one_to_255_printable_ascii_characters() {
        for good in ["a", "order-42/retry 1", &"k".repeat(255), "~!"] {
            assert_eq!(IdempotencyKey::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", "   ", &"k".repeat(256), "tab\there", "é", "line\n"] {
            assert_eq!(
                IdempotencyKey::parse(bad),
                Err(InvalidIdempotencyKey),
                "{bad:?}"
            );
        }
        let key = IdempotencyKey::parse("secret-order-id").unwrap();
        assert!(!format!("{key:?}").contains("secret"));
    }

    #[test]
    fn a_record_replays_the_same_request_and_refuses_another() {
        let key = IdempotencyKey::parse("k").unwrap();
        let replay = Replay::Answer { body: "{}".into() };
        let record = IdempotencyRecord::new(key.clone(), "abc".into(), 200, replay.clone(), at(0));
        assert_eq!(record.expires_at, at(24 * 3600 * 1000));
        assert_eq!(record.repeat("abc"), Repeat::Replay(&replay));
        assert_eq!(record.repeat("abd"), Repeat::Mismatch);
        assert!(!record.may_be_taken(at(24 * 3600 * 1000 - 1)));
        assert!(record.may_be_taken(at(24 * 3600 * 1000)), "expired");

        let running = IdempotencyRecord::in_progress(key, "abc".into(), at(0));
        assert_eq!(running.repeat("abc"), Repeat::InProgress);
        assert_eq!(running.repeat("x"), Repeat::Mismatch);
        assert!(!running.may_be_taken(at(59_999)));
        assert!(running.may_be_taken(at(60_000)), "its first call died");
    }

    #[test]
    fn a_replay_finds_its_secret_while_it_is_the_current_one() {
        use crate::{Rotation, RotationGrace};
        let first = SigningSecret::generate().unwrap();
        let keys = SigningKeys::new(first.clone());
        assert_eq!(secret_named(&keys, &first.hint()), Some(&first));
        let keys =
            keys.rotated(Rotation::new(RotationGrace::from_hours(1).unwrap(), at(0)).unwrap());
        assert_eq!(
            secret_named(&keys, &first.hint()),
            None,
            "rotated out, even while it still signs"
        );
        assert_eq!(
            secret_named(&keys, &keys.current.hint()),
            Some(&keys.current)
        );
    }
}

#[cfg(test)]
mod shown {
    use super::*;

    #[test]
    fn a_key_shows_its_length_only() {
        let key = IdempotencyKey::parse("order-7781").unwrap();
        assert_eq!(format!("{key:?}"), "IdempotencyKey(10 chars)");
    }
}
