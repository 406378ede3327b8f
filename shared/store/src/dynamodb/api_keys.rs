//! API keys: each record twice, under `APIKEY#<id>` for the authorizer's one GetItem and in its
//! organization's partition for listing; both written in one transaction. A portal session is
//! only the first, removed by TTL once it ends.

use aws_sdk_dynamodb::types::TransactWriteItem;
use webhook_domain::{ApiKeyRecord, KeyId, OrgId, Timestamp};

use super::conditions::EXISTS;
use super::errors::classify;
use super::items::{epoch_seconds, from_item, string, to_item};
use super::keys::{API_KEY_SK_PREFIX, EXPIRES_AT, Keys};
use super::{DynamoStore, TransactionAction, query_all};
use crate::{ApiKeyStore, Result, StoreError};

fn api_key_item(keys: Keys, record: &ApiKeyRecord) -> Result<super::Item> {
    let mut item = to_item(record)?;
    item.extend(keys.into_map());
    Ok(item)
}

impl DynamoStore {
    fn api_key_put(&self, keys: Keys, record: &ApiKeyRecord) -> Result<TransactWriteItem> {
        self.put_in_transaction(api_key_item(keys, record)?)
            .action()
    }

    fn revoking(&self, keys: Keys, now: Timestamp) -> Result<TransactWriteItem> {
        self.update_in_transaction(keys)
            .update_expression("SET revoked_at = if_not_exists(revoked_at, :now)")
            .condition_expression(EXISTS)
            .expression_attribute_values(":now", string(now))
            .action()
    }
}

impl ApiKeyStore for DynamoStore {
    async fn put_api_key(&self, record: &ApiKeyRecord) -> Result<()> {
        if let Some(end) = record.valid_until.filter(|_| record.session) {
            let mut item = api_key_item(Keys::api_key(&record.id), record)?;
            item.insert(EXPIRES_AT.to_owned(), epoch_seconds(end));
            return self.put(item).send().await.map(drop).map_err(classify);
        }
        let items = vec![
            self.api_key_put(Keys::api_key(&record.id), record)?,
            self.api_key_put(Keys::org_api_key(record.org_id, &record.id), record)?,
        ];
        self.write_together(items).await.map_err(classify)
    }

    async fn api_key(&self, id: &KeyId) -> Result<Option<ApiKeyRecord>> {
        self.read_item(Keys::api_key(id), None)
            .await?
            .map(from_item)
            .transpose()
    }

    async fn api_keys(&self, org: OrgId) -> Result<Vec<ApiKeyRecord>> {
        let query = self
            .query(None)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", string(Keys::org_pk(org)))
            .expression_attribute_values(":prefix", string(API_KEY_SK_PREFIX))
            .consistent_read(true);
        let mut keys = query_all(query)
            .await?
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<ApiKeyRecord>>>()?;
        keys.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(keys)
    }

    async fn revoke_api_key(&self, id: &KeyId, now: Timestamp) -> Result<ApiKeyRecord> {
        let record = self.api_key(id).await?.ok_or(StoreError::NotFound)?;
        let mut items = vec![self.revoking(Keys::api_key(id), now)?];
        // A portal session has no copy in its organization's partition.
        if !record.session {
            items.push(self.revoking(Keys::org_api_key(record.org_id, id), now)?);
        }
        self.write_together(items).await.map_err(classify)?;
        self.api_key(id).await?.ok_or(StoreError::NotFound)
    }
}
