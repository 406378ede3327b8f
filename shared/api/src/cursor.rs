//! Delivery log cursors: opaque to clients, tamper-evident, and valid only for the organization
//! and filters that produced them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use webhook_domain::settings;
use webhook_domain::{DeliveryFilter, LogKey, OrgId, random_bytes};

type HmacSha256 = Hmac<Sha256>;

/// Cursors carry a truncated HMAC: 128 bits is far beyond guessing.
const TAG_BYTES: usize = 16;
const MIN_KEY_BYTES: usize = 32;

/// The key cursors are sealed with. Every instance serving the route must share it, or a cursor
/// from one is refused by another.
#[derive(Clone)]
pub struct CursorKey(Vec<u8>);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorKeyError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{0} must be at least {MIN_KEY_BYTES} bytes")]
    TooShort(&'static str),
    #[error("the system random number generator failed")]
    Random,
}

/// The environment variable the Lambda reads the key from.
pub const CURSOR_KEY_VARIABLE: &str = "CURSOR_SIGNING_KEY";

impl CursorKey {
    pub fn new(key: impl Into<Vec<u8>>) -> Result<Self, CursorKeyError> {
        let key = key.into();
        if key.len() < MIN_KEY_BYTES {
            return Err(CursorKeyError::TooShort("the cursor key"));
        }
        Ok(Self(key))
    }

    /// A key of this process only: right for one local server, wrong for a fleet.
    pub fn random() -> Result<Self, CursorKeyError> {
        let key: [u8; MIN_KEY_BYTES] = random_bytes().map_err(|_| CursorKeyError::Random)?;
        Ok(Self(key.to_vec()))
    }

    pub fn from_env() -> Result<Self, CursorKeyError> {
        let raw = settings::CURSOR_SIGNING_KEY
            .raw()
            .ok_or(CursorKeyError::Missing(CURSOR_KEY_VARIABLE))?;
        Self::new(raw.into_bytes()).map_err(|_| CursorKeyError::TooShort(CURSOR_KEY_VARIABLE))
    }

    /// The cursor for the page after `last`, under this organization and filter.
    pub(crate) fn seal(&self, org: OrgId, filter: &DeliveryFilter, last: &LogKey) -> String {
        let tag = self.mac(org, filter, last.as_str()).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(last.as_str()),
            URL_SAFE_NO_PAD.encode(&tag[..TAG_BYTES])
        )
    }

    /// The position a cursor names, if this key sealed it for this organization and filter.
    pub(crate) fn open(&self, cursor: &str, org: OrgId, filter: &DeliveryFilter) -> Option<LogKey> {
        let (position, tag) = cursor.split_once('.')?;
        let position = String::from_utf8(URL_SAFE_NO_PAD.decode(position).ok()?).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        if tag.len() != TAG_BYTES {
            return None;
        }
        self.mac(org, filter, &position)
            .verify_truncated_left(&tag)
            .ok()?;
        Some(LogKey::from_stored(position))
    }

    fn mac(&self, org: OrgId, filter: &DeliveryFilter, position: &str) -> HmacSha256 {
        let optional = |value: Option<String>| value.unwrap_or_else(|| "-".to_owned());
        let bound = [
            "webhook-deliveries cursor v1".to_owned(),
            org.to_string(),
            optional(filter.endpoint_id.map(|id| id.to_string())),
            optional(filter.agent_id.map(|id| id.get().to_string())),
            optional(filter.event_type.as_ref().map(|t| t.as_str().to_owned())),
            optional(filter.status.map(|s| s.as_str().to_owned())),
            optional(filter.since.map(|t| t.to_string())),
            position.to_owned(),
        ]
        .join("\n");
        // HMAC takes keys of any length; `new` keeps them at least 32 bytes.
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| <HmacSha256 as KeyInit>::new(&Default::default()));
        mac.update(bound.as_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webhook_domain::{DeliveryStatus, Timestamp};

    fn key() -> CursorKey {
        CursorKey::new(*b"0123456789abcdef0123456789abcdef").unwrap()
    }

    fn position() -> LogKey {
        LogKey::at(Timestamp::from_unix_millis(1_776_709_450_113).unwrap())
    }

    #[test]
    fn a_cursor_opens_only_for_its_org_filter_and_key() {
        let org = OrgId::new(7);
        let filter = DeliveryFilter {
            status: Some(DeliveryStatus::Failed),
            ..Default::default()
        };
        let cursor = key().seal(org, &filter, &position());
        assert_eq!(key().open(&cursor, org, &filter), Some(position()));
        assert_eq!(key().open(&cursor, OrgId::new(8), &filter), None);
        assert_eq!(key().open(&cursor, org, &DeliveryFilter::default()), None);
        assert_eq!(
            CursorKey::random().unwrap().open(&cursor, org, &filter),
            None
        );
    }

    #[test]
    fn any_change_to_a_cursor_breaks_it() {
        let org = OrgId::new(7);
        let filter = DeliveryFilter::default();
        let cursor = key().seal(org, &filter, &position());
        let (position_part, tag_part) = cursor.split_once('.').unwrap();
        let forged_position = URL_SAFE_NO_PAD.encode("2099-01-01T00:00:00.000Z");
        for tampered in [
            format!("{forged_position}.{tag_part}"),
            format!("{position_part}.{}", &tag_part[..tag_part.len() - 2]),
            format!("{position_part}."),
            position_part.to_owned(),
            String::new(),
            "not a cursor".to_owned(),
            cursor.to_uppercase(),
        ] {
            assert_eq!(key().open(&tampered, org, &filter), None, "{tampered}");
        }
    }

    #[test]
    fn keys_are_long_enough() {
        assert!(CursorKey::new(b"short".to_vec()).is_err());
    }
}
