//! How domain values map to items and attribute values, via serde; the one home of attribute
//! helpers. Key formats are in `keys.rs`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use webhook_domain::{
    DeliveryStats, Endpoint, EventSubscription, Hour, HourCount, RecentAttempts, Rotation,
    SigningSecret, Timestamp,
};

use super::Item;
use super::keys::{EVENTS_KEY, Keys};
use crate::{Result, StoreError};

/// Every attribute of an endpoint item a reader needs; never keys, never a secret.
pub(super) const ENDPOINT_PROJECTION: &str = "#id, #org_id, #label, #url, #role_arn, #events, #status, #agent_id, #headers, #rate_limit, #pace, #secret_hint, #created_at, #updated_at, #streak_reset_at";

/// The `#name` placeholders a projection uses, each standing for the attribute of that name.
pub(super) fn projection_names(projection: &str) -> HashMap<String, String> {
    projection
        .split(',')
        .map(str::trim)
        .filter_map(|word| Some((word.to_owned(), word.strip_prefix('#')?.to_owned())))
        .collect()
}

/// The names a read narrowed to `projection` sends: none without placeholders, as DynamoDB
/// refuses an empty map.
pub(super) fn projection_placeholders(projection: Option<&str>) -> Option<HashMap<String, String>> {
    projection
        .map(projection_names)
        .filter(|names| !names.is_empty())
}

/// When a rotated-out secret stops signing, read without reading any secret.
#[derive(serde::Deserialize)]
pub(super) struct StoredGrace {
    pub(super) previous_expires_at: Option<Timestamp>,
}

pub(super) const GRACE_PROJECTION: &str = "previous_expires_at";

/// What a reader of secrets projects: the attributes of a stored `SigningKeys`.
pub(super) const KEYS_PROJECTION: &str = "secret, previous_secret, previous_expires_at";

/// Whether a rotated item also takes the rotation's time as its `updated_at`: the legacy item
/// does; an endpoint's secret item has no such attribute (its endpoint item is stamped apart).
pub(super) enum Stamp {
    UpdatedAt,
    /// An endpoint item: `updated_at`, and the new secret's hint.
    UpdatedAtAndHint,
    Nothing,
}

/// An update expression that rotates the secrets of an item holding `SigningKeys`, mirroring
/// `SigningKeys::rotated`: the current secret becomes the previous one (every operand reads the
/// item as it was), or with no grace period there is none.
pub(super) fn rotation_update(
    rotation: &Rotation,
    stamp: Stamp,
) -> (String, HashMap<String, AttributeValue>) {
    let mut values = HashMap::from([(":new_secret".to_owned(), string(rotation.new.expose()))]);
    let also_set = match stamp {
        Stamp::UpdatedAt => {
            values.insert(":rotated_at".to_owned(), string(rotation.at));
            "updated_at = :rotated_at, "
        }
        Stamp::UpdatedAtAndHint => {
            values.insert(":rotated_at".to_owned(), string(rotation.at));
            values.insert(":hint".to_owned(), string(rotation.new.hint().as_str()));
            "updated_at = :rotated_at, secret_hint = :hint, "
        }
        Stamp::Nothing => "",
    };
    let update = match rotation.previous_until {
        Some(until) => {
            values.insert(":previous_until".to_owned(), string(until));
            format!(
                "SET {also_set}previous_secret = secret, previous_expires_at = :previous_until, \
                 secret = :new_secret"
            )
        }
        None => {
            format!(
                "SET {also_set}secret = :new_secret REMOVE previous_secret, previous_expires_at"
            )
        }
    };
    (update, values)
}

/// The attribute counting one hour's attempts of one outcome in a stats item: `ok_<hour>` or
/// `failed_<hour>`, the hour counted from the epoch (see `RecentAttempts`).
pub(super) fn bucket_attribute(hour: Hour, succeeded: bool) -> String {
    let outcome = if succeeded { "ok" } else { "failed" };
    format!("{outcome}_{}", hour.number())
}

/// Both attributes of one hour's bucket.
pub(super) fn bucket_attributes(hour: Hour) -> [String; 2] {
    [bucket_attribute(hour, true), bucket_attribute(hour, false)]
}

/// The hourly buckets a stats item holds, read back from their attributes.
pub(super) fn recent_attempts(item: &Item) -> RecentAttempts {
    let mut hours: std::collections::BTreeMap<Hour, HourCount> = Default::default();
    for (name, value) in item {
        let (succeeded, hour) = match name.split_once('_') {
            Some(("ok", hour)) => (true, hour),
            Some(("failed", hour)) => (false, hour),
            _ => continue,
        };
        let (Ok(hour), AttributeValue::N(count)) = (hour.parse::<u64>(), value) else {
            continue;
        };
        let count = count.parse::<u64>().unwrap_or_default();
        let bucket = hours.entry(Hour::from_number(hour)).or_default();
        if succeeded {
            bucket.succeeded = count;
        } else {
            bucket.failed = count;
        }
    }
    RecentAttempts::from_hours(hours)
}

pub(super) fn to_item(value: &impl Serialize) -> Result<Item> {
    serde_dynamo::to_item(value).map_err(StoreError::internal)
}

pub(super) fn from_item<T: DeserializeOwned>(item: Item) -> Result<T> {
    serde_dynamo::from_item(item).map_err(StoreError::internal)
}

pub(super) fn string(value: impl ToString) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

pub(super) fn number(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// An instant as DynamoDB's TTL reads it: whole epoch seconds.
pub(super) fn epoch_seconds(at: Timestamp) -> AttributeValue {
    number(at.unix_millis().div_euclid(1000))
}

pub(super) fn to_value(value: &impl Serialize) -> Result<AttributeValue> {
    serde_dynamo::to_attribute_value(value).map_err(StoreError::internal)
}

/// The subscription as a set, for conditions: its type names sorted and joined. Two
/// subscriptions have the same key when `EventSubscription::same_set` says they are the same.
pub(super) fn events_key(events: &EventSubscription) -> AttributeValue {
    let mut names: Vec<&str> = events.types().iter().map(|t| t.as_str()).collect();
    names.sort_unstable();
    string(names.join(","))
}

/// The endpoint item with its signing secret: delivery reads both in one item (IAM keeps every
/// other reader off the secret's attributes, as for the legacy item).
pub(super) fn endpoint_item_with_secret(
    endpoint: &Endpoint,
    secret: &SigningSecret,
) -> Result<Item> {
    let mut item = to_item(endpoint)?;
    item.insert(EVENTS_KEY.into(), events_key(&endpoint.events));
    item.insert("secret".into(), string(secret.expose()));
    item.extend(Keys::endpoint(endpoint.org_id, endpoint.id).into_map());
    Ok(item)
}

pub(super) fn stats_item(stats: &DeliveryStats) -> Result<Item> {
    let mut item = to_item(stats)?;
    item.extend(Keys::stats(stats.endpoint_id).into_map());
    Ok(item)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_projection_is_plain_attributes_and_names_each_placeholder() {
        // `projection_names` reads placeholders off the text: it knows no paths or indexes.
        let listed = super::super::log::LISTED_PROJECTION;
        for projection in [
            ENDPOINT_PROJECTION,
            GRACE_PROJECTION,
            KEYS_PROJECTION,
            listed,
        ] {
            let terms: Vec<&str> = projection.split(',').map(str::trim).collect();
            let names = projection_names(projection);
            for term in &terms {
                let attribute = term.strip_prefix('#').unwrap_or(term);
                assert!(
                    !attribute.is_empty()
                        && attribute
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b == b'_'),
                    "{term:?} in {projection:?}"
                );
                if term.starts_with('#') {
                    assert_eq!(names.get(*term).map(String::as_str), Some(attribute));
                }
            }
            let placeholders = terms.iter().filter(|term| term.starts_with('#'));
            assert_eq!(names.len(), placeholders.count(), "{projection:?}");
        }
    }
}
