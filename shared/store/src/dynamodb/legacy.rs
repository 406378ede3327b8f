//! The legacy webhook item: `ORG#<org>` / `LEGACY`, holding the URL and the readable org secret.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use webhook_domain::{EndpointUrl, LegacyWebhook, OrgId, SigningSecret, Timestamp};

use super::errors::classify;
use super::items::Keys;
use super::{DynamoStore, Item};
use crate::{LegacyWebhookStore, StoreError};

fn legacy_from_item(org: OrgId, item: &Item) -> Result<LegacyWebhook, StoreError> {
    let text = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| StoreError::internal(format!("legacy webhook item without {name}")))
    };
    let timestamp = |name: &str| Timestamp::parse(text(name)?).map_err(StoreError::internal);
    Ok(LegacyWebhook {
        org_id: org,
        url: serde_dynamo::from_attribute_value(AttributeValue::S(text("url")?.clone()))
            .map_err(StoreError::internal)?,
        secret: SigningSecret::from_stored(text("secret")?.clone()),
        created_at: timestamp("created_at")?,
        updated_at: timestamp("updated_at")?,
    })
}

impl LegacyWebhookStore for DynamoStore {
    async fn legacy_webhook(&self, org: OrgId) -> Result<Option<LegacyWebhook>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Keys::legacy(org).into_map()))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        output
            .item
            .map(|item| legacy_from_item(org, &item))
            .transpose()
    }

    async fn set_legacy_webhook(
        &self,
        org: OrgId,
        url: &EndpointUrl,
        new_secret: &SigningSecret,
        now: Timestamp,
    ) -> Result<LegacyWebhook, StoreError> {
        // The secret and creation time are written only by the first call; if_not_exists keeps
        // them on every later one, so concurrent first calls still agree on one secret.
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Keys::legacy(org).into_map()))
            .update_expression(
                "SET #url = :url, updated_at = :now, secret = if_not_exists(secret, :secret), \
                 created_at = if_not_exists(created_at, :now)",
            )
            .expression_attribute_names("#url", "url")
            .expression_attribute_values(":url", AttributeValue::S(url.as_str().to_owned()))
            .expression_attribute_values(":now", AttributeValue::S(now.to_string()))
            .expression_attribute_values(
                ":secret",
                AttributeValue::S(new_secret.expose().to_owned()),
            )
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(classify)?;
        legacy_from_item(org, &output.attributes.unwrap_or_default())
    }
}
