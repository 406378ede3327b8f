//! API keys for the bundled authorizer: `sk_live_` and 32 random bytes (base64url). Only the
//! key's SHA-256 digest is stored; the key id is the digest's first 20 hex digits, so the
//! authorizer finds a key's record with one read of the digest it computed, and an id reveals
//! nothing usable about the key.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Caller, Label, OrgId, RandomnessUnavailable, Role, Timestamp, random_bytes};

/// A key as its holder presents it. Redacted in `Debug`, no `Display`: reading it takes
/// `expose()`, which only the key tool's one-time print does.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeySecret(String);

impl ApiKeySecret {
    pub const PREFIX: &'static str = "sk_live_";
    const RANDOM_BYTES: usize = 32;
    /// Longer bearer values are not keys; they are refused before hashing.
    pub const MAX_LEN: usize = 512;

    /// A portal session's token: a bearer value like a key, shown only in its sign-in link.
    pub const SESSION_PREFIX: &'static str = "ps_";

    pub fn generate() -> Result<Self, RandomnessUnavailable> {
        Self::random(Self::PREFIX)
    }

    pub fn generate_session() -> Result<Self, RandomnessUnavailable> {
        Self::random(Self::SESSION_PREFIX)
    }

    fn random(prefix: &str) -> Result<Self, RandomnessUnavailable> {
        let bytes: [u8; Self::RANDOM_BYTES] = random_bytes()?;
        Ok(Self(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))))
    }

    /// A key as presented in `Authorization: Bearer …`, or as dev-server's `--api-key` seeds it:
    /// any printable ASCII without spaces, up to [`Self::MAX_LEN`]. Whether it is a key anyone
    /// issued is the store's to say.
    pub fn presented(raw: &str) -> Option<Self> {
        let printable = raw.bytes().all(|b| b.is_ascii_graphic());
        (printable && !raw.is_empty() && raw.len() <= Self::MAX_LEN).then(|| Self(raw.to_owned()))
    }

    /// The key in an `Authorization` header value: `Bearer <key>`, the scheme in any case.
    pub fn from_authorization(header: &str) -> Option<Self> {
        let (scheme, key) = header.trim().split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| Self::presented(key.trim()))?
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A portal session's sign-in link on `origin` (`https://host`): the token rides in the
    /// fragment, which a browser never sends to a server or puts in a `Referer`.
    pub fn portal_link(&self, origin: &str) -> String {
        format!("{origin}/portal#token={}", self.0)
    }

    pub fn digest(&self) -> KeyDigest {
        KeyDigest(hex::encode(Sha256::digest(self.0.as_bytes())))
    }

    /// The first 12 characters, to tell keys apart in a listing.
    pub fn hint(&self) -> String {
        let end = self
            .0
            .char_indices()
            .nth(12)
            .map_or(self.0.len(), |(i, _)| i);
        format!("{}…", &self.0[..end])
    }
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeySecret(<redacted>)")
    }
}

/// The SHA-256 of a key, in lowercase hex: all that is stored of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyDigest(String);

impl KeyDigest {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn id(&self) -> KeyId {
        KeyId(self.0[..KeyId::LEN].to_owned())
    }
}

/// A key's name in listings and `keys revoke`: the first 20 hex digits of its digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

impl KeyId {
    const LEN: usize = 20;

    pub fn parse(raw: &str) -> Option<Self> {
        (raw.len() == Self::LEN && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for KeyId {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw).ok_or_else(|| format!("not a key id: {raw:?}"))
    }
}

impl From<KeyId> for String {
    fn from(id: KeyId) -> Self {
        id.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What is kept of an issued key.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub id: KeyId,
    pub digest: KeyDigest,
    pub org_id: OrgId,
    #[serde(with = "role_name")]
    pub role: Role,
    pub label: Option<Label>,
    pub hint: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    /// A portal session's end; keys issued by the key tool do not expire.
    pub valid_until: Option<Timestamp>,
    /// A portal session rather than a key: it may not open another session.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub session: bool,
}

impl ApiKeyRecord {
    pub fn new(
        key: &ApiKeySecret,
        org_id: OrgId,
        role: Role,
        label: Option<Label>,
        now: Timestamp,
    ) -> Self {
        let digest = key.digest();
        Self {
            id: digest.id(),
            digest,
            org_id,
            role,
            label,
            hint: key.hint(),
            created_at: now,
            revoked_at: None,
            valid_until: None,
            session: false,
        }
    }

    /// A portal session opened by `by`, with its role, until `valid_until`.
    pub fn session(
        token: &ApiKeySecret,
        by: Caller,
        valid_until: Timestamp,
        now: Timestamp,
    ) -> Self {
        Self {
            valid_until: Some(valid_until),
            session: true,
            ..Self::new(token, by.org, by.role, None, now)
        }
    }

    /// Who a request presenting this key at `now` is: nobody once it is revoked or expired.
    pub fn caller(&self, now: Timestamp) -> Option<Caller> {
        let live = self.revoked_at.is_none() && self.valid_until.is_none_or(|end| now < end);
        live.then_some(Caller {
            org: self.org_id,
            role: self.role,
            session: self.session,
        })
    }

    /// The record of `key` if it is this one: the full digest must match, not just the id.
    pub fn admits(&self, key: &ApiKeySecret) -> bool {
        self.digest == key.digest()
    }
}

mod role_name {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::Role;

    pub fn serialize<S: Serializer>(role: &Role, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(role.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Role, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Role::parse(&raw).ok_or_else(|| serde::de::Error::custom(format!("unknown role {raw:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::from_unix_millis(1_700_000_000_000).unwrap()
    }

    #[test]
    fn a_new_key_is_the_prefix_and_32_random_bytes() {
        let key = ApiKeySecret::generate().unwrap();
        let random = key.expose().strip_prefix("sk_live_").unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(random).unwrap().len(), 32);
        assert_ne!(key, ApiKeySecret::generate().unwrap());
        assert_eq!(format!("{key:?}"), "ApiKeySecret(<redacted>)");
        assert_eq!(key.hint().chars().count(), 13);
        assert!(key.hint().starts_with("sk_live_"));
    }

    #[test]
    fn only_the_digest_is_kept_and_the_id_is_its_start() {
        let key = ApiKeySecret::presented("sk_test_admin").unwrap();
        let digest = key.digest();
        // sha256("sk_test_admin")
        assert_eq!(digest.as_str().len(), 64);
        assert_eq!(digest.id().as_str(), &digest.as_str()[..20]);
        let record = ApiKeyRecord::new(&key, OrgId::new(7), Role::Admin, None, now());
        assert!(
            !serde_json::to_string(&record)
                .unwrap()
                .contains("sk_test_admin\"")
        );
        assert!(record.admits(&key));
        assert!(!record.admits(&ApiKeySecret::presented("sk_test_other").unwrap()));
    }

    #[test]
    fn a_revoked_key_is_nobody() {
        let key = ApiKeySecret::generate().unwrap();
        let mut record = ApiKeyRecord::new(&key, OrgId::new(7), Role::Owner, None, now());
        assert_eq!(
            record.caller(now()),
            Some(Caller {
                org: OrgId::new(7),
                role: Role::Owner,
                session: false,
            })
        );
        record.revoked_at = Some(now());
        assert_eq!(record.caller(now()), None);
    }

    #[test]
    fn a_session_is_its_creators_org_and_role_until_it_expires() {
        let token = ApiKeySecret::generate_session().unwrap();
        let random = token.expose().strip_prefix("ps_").unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(random).unwrap().len(), 32);
        let by = Caller {
            org: OrgId::new(7),
            role: Role::Admin,
            session: false,
        };
        let end = Timestamp::from_unix_millis(1_700_000_060_000).unwrap();
        let record = ApiKeyRecord::session(&token, by, end, now());
        let just_before = Timestamp::from_unix_millis(1_700_000_059_999).unwrap();
        assert_eq!(
            record.caller(just_before),
            Some(Caller {
                session: true,
                ..by
            })
        );
        assert_eq!(record.caller(end), None, "expired at its end");
        assert!(record.admits(&token));
        assert!(!serde_json::to_string(&record).unwrap().contains(random));
    }

    #[test]
    fn the_authorization_header_carries_a_bearer_key() {
        let read = |h: &str| ApiKeySecret::from_authorization(h).map(|k| k.expose().to_owned());
        assert_eq!(read("Bearer sk_live_x").as_deref(), Some("sk_live_x"));
        assert_eq!(read("bearer  sk_live_x ").as_deref(), Some("sk_live_x"));
        assert_eq!(read("Basic sk_live_x"), None);
        assert_eq!(read("Bearer"), None);
        assert_eq!(read("Bearer sk live"), None);
        assert_eq!(read(&format!("Bearer {}", "a".repeat(513))), None);
    }

    #[test]
    fn key_ids_are_20_lowercase_hex_digits() {
        assert!(KeyId::parse("0123456789abcdef0123").is_some());
        for bad in ["0123456789ABCDEF0123", "0123", "0123456789abcdef012g", ""] {
            assert!(KeyId::parse(bad).is_none(), "{bad}");
        }
    }
}

#[cfg(test)]
mod key_ids {
    use super::*;

    #[test]
    fn a_key_id_reads_as_itself() {
        let id = KeyId::parse("0123456789abcdef0123").unwrap();
        assert_eq!(id.to_string(), "0123456789abcdef0123");
        assert_eq!(String::from(id), "0123456789abcdef0123");
    }
}
