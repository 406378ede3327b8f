//! The legacy webhook item: `ORG#<org>` / `LEGACY`, holding the URL and the readable org secret.

use aws_sdk_dynamodb::types::ReturnValue;
use serde::Deserialize;
use webhook_domain::{
    EndpointUrl, IdempotencyRecord, LegacyWebhook, OrgId, Rotation, SigningSecret, Timestamp,
};

use super::conditions::EXISTS;
use super::endpoints::failed_at;
use super::errors::{Refusal, cancellation_reasons, classify, refusal};
use super::idempotency::remembering_put;
use super::items::{Stamp, StoredKeys, from_item, rotation_update, string};
use super::keys::Keys;
use super::{DynamoStore, Item, TransactionItem};
use crate::{LegacyWebhookStore, Result, StoreError};

/// The legacy item as stored; the organization is its partition.
#[derive(Deserialize)]
struct LegacyItem {
    url: EndpointUrl,
    #[serde(flatten)]
    keys: StoredKeys,
    created_at: Timestamp,
    updated_at: Timestamp,
}

fn legacy_from_item(org: OrgId, item: Item) -> Result<LegacyWebhook> {
    let stored: LegacyItem = from_item(item)?;
    Ok(LegacyWebhook {
        org_id: org,
        url: stored.url,
        keys: stored.keys.into(),
        created_at: stored.created_at,
        updated_at: stored.updated_at,
    })
}

impl LegacyWebhookStore for DynamoStore {
    async fn legacy_webhook(&self, org: OrgId) -> Result<Option<LegacyWebhook>> {
        self.read_item(Keys::legacy(org), None)
            .await?
            .map(|item| legacy_from_item(org, item))
            .transpose()
    }

    async fn set_legacy_webhook(
        &self,
        org: OrgId,
        url: &EndpointUrl,
        new_secret: &SigningSecret,
        now: Timestamp,
    ) -> Result<LegacyWebhook> {
        // The secret and creation time are written only by the first call; if_not_exists keeps
        // them on every later one, so concurrent first calls still agree on one secret.
        let output = self
            .update(Keys::legacy(org))
            .update_expression(
                "SET #url = :url, updated_at = :now, secret = if_not_exists(secret, :secret), \
                 created_at = if_not_exists(created_at, :now)",
            )
            .expression_attribute_names("#url", "url")
            .expression_attribute_values(":url", string(url.as_str()))
            .expression_attribute_values(":now", string(now))
            .expression_attribute_values(":secret", string(new_secret.expose()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(classify)?;
        legacy_from_item(org, output.attributes.unwrap_or_default())
    }

    async fn rotate_legacy_secret(
        &self,
        org: OrgId,
        rotation: &Rotation,
        remember: Option<&IdempotencyRecord>,
    ) -> Result<Option<LegacyWebhook>> {
        let now = rotation.at;
        let (update, values) = rotation_update(rotation, Stamp::UpdatedAt);
        if let Some(record) = remember {
            // A transaction returns no item: one more read answers.
            let rotate = self
                .update_in_transaction(Keys::legacy(org))
                .update_expression(update)
                .condition_expression(EXISTS)
                .set_expression_attribute_values(Some(values))
                .build()
                .map_err(StoreError::internal)?;
            let put = remembering_put(self, org, record, now)?;
            return match self.write_together(vec![rotate.item(), put.item()]).await {
                Ok(_) => self.legacy_webhook(org).await,
                Err(error) => match cancellation_reasons(&error).as_deref() {
                    Some(reasons) if failed_at(reasons, 0) => Ok(None),
                    Some(reasons) if failed_at(reasons, 1) => Err(StoreError::KeyTaken),
                    _ => Err(classify(error)),
                },
            };
        }
        let result = self
            .update(Keys::legacy(org))
            .update_expression(update)
            .condition_expression(EXISTS)
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => legacy_from_item(org, output.attributes.unwrap_or_default()).map(Some),
            Err(error) => match refusal(error) {
                Refusal::ConditionFailed(_) => Ok(None),
                Refusal::Failed(error) => Err(error),
            },
        }
    }
}
