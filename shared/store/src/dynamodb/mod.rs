//! The DynamoDB store: one table for the whole product. Its items, keys, indexes and TTL are
//! described once, in `docs/storage.md`; the conditions its writes put, in `conditions`.

mod api_keys;
mod conditions;
mod endpoints;
mod errors;
mod external_id;
mod idempotency;
mod items;
mod keys;
mod legacy;
mod local;
mod log;
mod pace;
mod quota;
mod stats;
pub mod table;
#[cfg(feature = "testing")]
mod testing;
mod upgrade;

pub use upgrade::MovedSecrets;

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemFluentBuilder;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::builders::{DeleteBuilder, PutBuilder, UpdateBuilder};
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Get, KeysAndAttributes, Put, TransactGetItem, TransactWriteItem, Update,
};
use webhook_domain::settings;

use crate::{Result, StoreError};
use errors::classify;
use items::projection_placeholders;
pub use local::{local_client, local_config};
pub use stats::StreakCursor;
#[cfg(feature = "testing")]
pub use testing::{LOG_SHARDS, log_partition_of};

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    streak_page_size: i32,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            streak_page_size: 100,
        }
    }

    /// How many streak candidates one Query page returns (default 100).
    pub fn with_streak_page_size(mut self, size: u16) -> Self {
        self.streak_page_size = i32::from(size.max(1));
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
    /// The table named by `TABLE_NAME`, with the SDK configured from the environment.
    pub async fn from_env() -> Result<Self> {
        let config = webhook_aws::load_sdk_config()
            .await
            .map_err(StoreError::internal)?;
        Self::from_config(&config)
    }

    /// The table named by `TABLE_NAME`, with an SDK configuration the caller already loaded
    /// (functions that also build another client load it once).
    pub fn from_config(config: &aws_config::SdkConfig) -> Result<Self> {
        let table = settings::TABLE_NAME
            .raw()
            .ok_or_else(|| StoreError::internal("TABLE_NAME is not set"))?;
        Ok(Self::new(Client::new(config), table))
    }
}

// Requests, and actions of a transaction, on this table.
impl DynamoStore {
    fn update(&self, key: keys::Keys) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key.into_map()))
    }

    fn put(&self, item: Item) -> PutItemFluentBuilder {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
    }

    fn delete(&self, key: keys::Keys) -> DeleteItemFluentBuilder {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key.into_map()))
    }

    fn query(&self, index: Option<&str>) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_owned))
    }

    fn update_in_transaction(&self, key: keys::Keys) -> UpdateBuilder {
        Update::builder()
            .table_name(&self.table)
            .set_key(Some(key.into_map()))
    }

    fn put_in_transaction(&self, item: Item) -> PutBuilder {
        Put::builder().table_name(&self.table).set_item(Some(item))
    }

    fn delete_in_transaction(&self, key: keys::Keys) -> DeleteBuilder {
        Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key.into_map()))
    }

    /// One TransactWriteItems of `items`, in this order: cancellation reasons follow it.
    async fn write_together(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<(), SdkError<TransactWriteItemsError>> {
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map(drop)
    }

    /// One item, read consistently, narrowed to `projection` when given.
    async fn read_item(&self, keys: keys::Keys, projection: Option<&str>) -> Result<Option<Item>> {
        let names = projection_placeholders(projection);
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keys.into_map()))
            .set_projection_expression(projection.map(str::to_owned))
            .set_expression_attribute_names(names)
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(output.item)
    }

    /// The items at `keys` that exist, read consistently in a BatchGetItem per hundred (and
    /// again for any DynamoDB leaves unprocessed), narrowed to `projection` when given. In no
    /// particular order: keep the keys in the projection to match them up.
    async fn read_items(
        &self,
        keys: Vec<keys::Keys>,
        projection: Option<&str>,
    ) -> Result<Vec<Item>> {
        let names = projection_placeholders(projection);
        let mut items = Vec::new();
        for chunk in keys.chunks(100) {
            let keys = chunk.iter().map(|key| key.clone().into_map()).collect();
            let asked = KeysAndAttributes::builder()
                .consistent_read(true)
                .set_keys(Some(keys))
                .set_projection_expression(projection.map(str::to_owned))
                .set_expression_attribute_names(names.clone())
                .build()
                .map_err(StoreError::internal)?;
            let batch = HashMap::from([(self.table.clone(), asked)]);
            let read = until_processed(batch, UNPROCESSED_BACKOFF_MAX, |request| async move {
                let output = self
                    .client
                    .batch_get_item()
                    .set_request_items(Some(request))
                    .send()
                    .await
                    .map_err(classify)?;
                let read = output.responses.and_then(|mut t| t.remove(&self.table));
                let left = output.unprocessed_keys.filter(|left| !left.is_empty());
                Ok((read.unwrap_or_default(), left))
            });
            items.extend(read.await?);
        }
        Ok(items)
    }

    /// Reads several items in one consistent TransactGetItems, each with its own projection
    /// (`None`: the whole item); one answer per request, `None` where an item is missing.
    async fn read_items_together(
        &self,
        reads: Vec<(keys::Keys, Option<&str>)>,
    ) -> Result<Vec<Option<Item>>> {
        let mut transaction = self.client.transact_get_items();
        for (keys, projection) in reads {
            let names = projection_placeholders(projection);
            let get = Get::builder()
                .table_name(&self.table)
                .set_key(Some(keys.into_map()))
                .set_projection_expression(projection.map(str::to_owned))
                .set_expression_attribute_names(names)
                .build()
                .map_err(StoreError::internal)?;
            transaction = transaction.transact_items(TransactGetItem::builder().get(get).build());
        }
        let output = transaction.send().await.map_err(classify)?;
        Ok(output
            .responses
            .unwrap_or_default()
            .into_iter()
            .map(|response| response.item)
            .collect())
    }
}

/// The longest wait before a request's read sends again what a batch left unprocessed (25 ms
/// doubling: seven tries, 1.6 s of waiting in all).
const UNPROCESSED_BACKOFF_MAX: Duration = Duration::from_millis(800);

/// Sends a batch, then what each answer left unprocessed, until nothing is: DynamoDB leaves
/// part of a batch when it throttles, and its advice is to wait, longer each time, from 25 ms
/// up to `longest_wait`. `send` answers what came back and what is left (`None`: nothing).
async fn until_processed<B, T, F>(
    batch: B,
    longest_wait: Duration,
    send: impl Fn(B) -> F,
) -> Result<Vec<T>>
where
    F: Future<Output = Result<(Vec<T>, Option<B>)>>,
{
    let (mut done, mut pending) = (Vec::new(), Some(batch));
    let mut backoff = Duration::from_millis(25);
    while let Some(batch) = pending {
        let (answered, left) = send(batch).await?;
        done.extend(answered);
        if left.is_some() {
            if backoff > longest_wait {
                return Err(StoreError::Unavailable(
                    "DynamoDB left part of a batch unprocessed after every retry".into(),
                ));
            }
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
        pending = left;
    }
    Ok(done)
}

/// A put, update or delete, built, as one action of a TransactWriteItems.
trait TransactionAction {
    fn action(self) -> Result<TransactWriteItem>;
}

impl TransactionAction for PutBuilder {
    fn action(self) -> Result<TransactWriteItem> {
        let put = self.build().map_err(StoreError::internal)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

impl TransactionAction for UpdateBuilder {
    fn action(self) -> Result<TransactWriteItem> {
        let update = self.build().map_err(StoreError::internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

impl TransactionAction for DeleteBuilder {
    fn action(self) -> Result<TransactWriteItem> {
        let delete = self.build().map_err(StoreError::internal)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }
}

/// Every item a Query finds, page by page.
async fn query_all(query: QueryFluentBuilder) -> Result<Vec<Item>> {
    let items = query.into_paginator().items().send();
    items.try_collect().await.map_err(classify)
}

type Item = HashMap<String, AttributeValue>;
