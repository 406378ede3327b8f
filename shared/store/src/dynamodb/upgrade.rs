//! One-off moves an operator runs after an upgrade (`webhooks-admin upgrade`), never a function:
//! they scan the table.

use aws_sdk_dynamodb::types::AttributeValue;

use super::errors::{cancellation_reasons, classify};
use super::items::KEYS_PROJECTION;
use super::keys::{ENDPOINT_SK_PREFIX, Keys};
use super::{DynamoStore, Item, TransactionAction};
use crate::{Result, StoreError};

/// What a pass of [`DynamoStore::move_secrets_into_endpoints`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MovedSecrets {
    /// Secrets now in their endpoint items, their own items deleted.
    pub moved: u64,
    /// Secrets that changed while being moved (a rotation came first): a later pass moves them.
    pub left: u64,
}

impl DynamoStore {
    /// Moves every endpoint secret still in an item of its own (`ORG#<org>` / `SECRET#<id>`,
    /// written before secrets moved into endpoint items) into its endpoint item, so that
    /// delivering to it reads one item. Each move is one transaction, conditioned on the
    /// secret being the one read: a rotation at the same moment leaves it for the next pass.
    /// Safe to run again, and while the stack serves traffic.
    pub async fn move_secrets_into_endpoints(&self) -> Result<MovedSecrets> {
        let mut done = MovedSecrets::default();
        let mut items = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(sk, :secret)")
            .expression_attribute_values(":secret", AttributeValue::S("SECRET#".into()))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        while let Some(item) = items.try_next().await.map_err(classify)? {
            if self.move_secret(item).await? {
                done.moved += 1;
            } else {
                done.left += 1;
            }
        }
        Ok(done)
    }

    /// Moves one secret item's keys into its endpoint item: `false` if either changed first.
    async fn move_secret(&self, secret_item: Item) -> Result<bool> {
        let text = |name: &str| secret_item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let (Some(pk), Some(sk), Some(secret)) = (text("pk"), text("sk"), text("secret")) else {
            return Err(StoreError::internal(
                "a secret item without its keys or secret",
            ));
        };
        let endpoint_sk = format!("{ENDPOINT_SK_PREFIX}{}", sk.trim_start_matches("SECRET#"));
        let mut sets = Vec::new();
        let mut take = self
            .update_in_transaction(Keys::new(pk.clone(), endpoint_sk))
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(secret)");
        // The attributes a secret item holds and an endpoint item takes over.
        for name in KEYS_PROJECTION.split(", ") {
            if let Some(value) = secret_item.get(name) {
                sets.push(format!("{name} = :{name}"));
                take = take.expression_attribute_values(format!(":{name}"), value.clone());
            }
        }
        let take = take
            .update_expression(format!("SET {}", sets.join(", ")))
            .action()?;
        let drop = self
            .delete_in_transaction(Keys::new(pk, sk))
            .condition_expression("secret = :seen")
            .expression_attribute_values(":seen", AttributeValue::S(secret))
            .action()?;
        match self.write_together(vec![take, drop]).await {
            Ok(_) => Ok(true),
            Err(error) => match cancellation_reasons(&error) {
                Some(reasons) if reasons.contains(&"ConditionalCheckFailed") => Ok(false),
                Some(reasons) if reasons.contains(&"TransactionConflict") => Ok(false),
                _ => Err(classify(error)),
            },
        }
    }
}
