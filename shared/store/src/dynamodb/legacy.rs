//! The legacy webhook item: `ORG#<org>` / `LEGACY`, holding the URL and the readable org secret.

use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use webhook_domain::{LegacyWebhook, OrgId};

use super::conditions::LEGACY_ROTATES_FROM;
use super::endpoints::{failed_at, key_refused};
use super::errors::{cancellation_reasons, classify, conditional, item_when_refused};
use super::idempotency::remembering_put;
use super::items::{Stamp, from_item, number, rotation_update, string};
use super::keys::Keys;
use super::{DynamoStore, Item, TransactionAction};
use crate::{LegacyWebhookStore, Result, RotationAsked, StoreError};

/// The organization is the item's partition, not one of its attributes: given back for reading.
fn legacy_from_item(org: OrgId, mut item: Item) -> Result<LegacyWebhook> {
    item.insert("org_id".into(), number(org));
    from_item(item)
}

impl LegacyWebhookStore for DynamoStore {
    async fn legacy_webhook(&self, org: OrgId) -> Result<Option<LegacyWebhook>> {
        self.read_item(Keys::legacy(org), None)
            .await?
            .map(|item| legacy_from_item(org, item))
            .transpose()
    }

    async fn set_legacy_webhook(&self, new: &LegacyWebhook) -> Result<LegacyWebhook> {
        let org = new.org_id;
        // The secret and creation time are written only by the first call; if_not_exists keeps
        // them on every later one, so concurrent first calls still agree on one secret.
        let output = self
            .update(Keys::legacy(org))
            .update_expression(
                "SET #url = :url, updated_at = :now, secret = if_not_exists(secret, :secret), \
                 created_at = if_not_exists(created_at, :created)",
            )
            .expression_attribute_names("#url", "url")
            .expression_attribute_values(":url", string(new.url.as_str()))
            .expression_attribute_values(":now", string(new.updated_at))
            .expression_attribute_values(":created", string(new.created_at))
            .expression_attribute_values(":secret", string(new.keys.current.expose()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(classify)?;
        legacy_from_item(org, output.attributes.unwrap_or_default())
    }

    async fn rotate_legacy_secret(
        &self,
        asked: RotationAsked<'_, LegacyWebhook>,
    ) -> Result<LegacyWebhook> {
        let RotationAsked {
            from,
            rotation,
            remember,
        } = asked;
        let (org, now) = (from.org_id, rotation.at);
        let (update, mut values) = rotation_update(rotation, Stamp::UpdatedAt);
        values.insert(":seen".to_owned(), string(from.keys.current.expose()));
        let rotated = || from.clone().rotated(rotation.clone());
        if let Some(record) = remember {
            let rotate = self
                .update_in_transaction(Keys::legacy(org))
                .update_expression(update)
                .condition_expression(LEGACY_ROTATES_FROM)
                .set_expression_attribute_values(Some(values))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .action()?;
            let put = remembering_put(self, org, record, now)?;
            let Err(error) = self.write_together(vec![rotate, put]).await else {
                return Ok(rotated());
            };
            return match cancellation_reasons(&error).as_deref() {
                Some(reasons) if key_refused(reasons, 1) => Err(StoreError::KeyTaken),
                Some(reasons) if failed_at(reasons, 0) => {
                    Err(refused(item_when_refused(&error, 0)))
                }
                Some(["TransactionConflict", ..]) => Err(StoreError::Superseded),
                _ => Err(classify(error)),
            };
        }
        let result = self
            .update(Keys::legacy(org))
            .update_expression(update)
            .condition_expression(LEGACY_ROTATES_FROM)
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        conditional(result)?.map(|_| rotated()).map_err(refused)
    }
}

/// Why a rotation's condition failed, from the item as it stood: another rotation came first,
/// or (no item) the URL was removed.
fn refused(item: Option<Item>) -> StoreError {
    match item {
        Some(_) => StoreError::Superseded,
        None => StoreError::NotFound,
    }
}
