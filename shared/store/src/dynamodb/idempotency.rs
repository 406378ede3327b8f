//! Idempotency records: `ORG#<org>` / `REQUEST#<key>`, one per key, removed by TTL a day on.

use aws_sdk_dynamodb::types::{ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use webhook_domain::{IdempotencyKey, IdempotencyRecord, OrgId, Timestamp};

use super::conditions::KEY_FREE;
use super::errors::{classify, conditional};
use super::items::{epoch_seconds, from_item, string, to_item};
use super::keys::{EXPIRES_AT, Keys};
use super::{DynamoStore, Item, TransactionAction};
use crate::{IdempotencyStore, Result, StoreError};

/// A record as stored: its key is in `sk`, and `expires_at` is its `valid_until` (to the
/// millisecond) in TTL's epoch seconds.
pub(super) fn request_item(org: OrgId, record: &IdempotencyRecord) -> Result<Item> {
    let mut item = to_item(record)?;
    item.extend(Keys::request(org, record.key.as_str()).into_map());
    item.insert(EXPIRES_AT.into(), epoch_seconds(record.expires_at));
    Ok(item)
}

/// The record from its item, given back the key it is kept under.
fn record_from_item(key: &IdempotencyKey, mut item: Item) -> Result<IdempotencyRecord> {
    item.insert("key".into(), string(key.as_str()));
    from_item(item)
}

/// The put that remembers `record` unless a live record holds its key, for a transaction of
/// its own or another write's.
pub(super) fn remembering_put(
    store: &DynamoStore,
    org: OrgId,
    record: &IdempotencyRecord,
    now: Timestamp,
) -> Result<TransactWriteItem> {
    store
        .put_in_transaction(request_item(org, record)?)
        .condition_expression(KEY_FREE)
        .expression_attribute_names("#until", "until")
        .expression_attribute_values(":now", string(now))
        .expression_attribute_values(":in_progress", string("in_progress"))
        .action()
}

impl IdempotencyStore for DynamoStore {
    async fn idempotency_record(
        &self,
        org: OrgId,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<Option<IdempotencyRecord>> {
        let Some(item) = self
            .read_item(Keys::request(org, key.as_str()), None)
            .await?
        else {
            return Ok(None);
        };
        let record = record_from_item(key, item)?;
        Ok((record.expires_at > now).then_some(record))
    }

    async fn reserve(
        &self,
        org: OrgId,
        record: &IdempotencyRecord,
        now: Timestamp,
    ) -> Result<Option<IdempotencyRecord>> {
        let result = self
            .put(request_item(org, record)?)
            .condition_expression(KEY_FREE)
            .expression_attribute_names("#until", "until")
            .expression_attribute_values(":now", string(now))
            .expression_attribute_values(":in_progress", string("in_progress"))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match conditional(result)? {
            Ok(_) => Ok(None),
            Err(Some(held)) => record_from_item(&record.key, held).map(Some),
            Err(None) => Err(StoreError::internal(
                "a refused reservation returned no record",
            )),
        }
    }

    async fn remember(&self, org: OrgId, record: &IdempotencyRecord) -> Result<()> {
        self.put(request_item(org, record)?)
            .send()
            .await
            .map(drop)
            .map_err(classify)
    }

    async fn forget(&self, org: OrgId, key: &IdempotencyKey) -> Result<()> {
        self.delete(Keys::request(org, key.as_str()))
            .send()
            .await
            .map(drop)
            .map_err(classify)
    }
}
