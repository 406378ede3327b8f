//! The DynamoDB store: one table for the whole product.
//!
//! | item            | pk         | sk            | what it holds                           |
//! |-----------------|------------|---------------|-----------------------------------------|
//! | endpoint        | `ORG#<id>` | `ENDPOINT#<uuid>` | the endpoint as users see it, no secret |
//! | signing secret  | `ORG#<id>` | `SECRET#<uuid>`   | the full secret, written once by create |
//! | org counter     | `ORG#<id>` | `ORG`             | `endpoint_count`, the per-org limit     |
//! | delivery stats  | `ENDPOINT#<uuid>` | `STATS`    | outcomes and the current failure streak |
//! | legacy webhook  | `ORG#<id>` | `LEGACY`          | the single URL and its readable org secret |
//! | delivery record | `LOG#<id>#<shard>` | `<occurred_at>#<event>#<destination>` | one event at one destination, expires via TTL |
//!
//! An organization's endpoints share one partition, so listing them is one Query; secrets sit
//! in items of their own, so listing, updating (`ALL_NEW`) and deleting never read one.
//! Delivery stats live under `ENDPOINT#<uuid>` partitions of their own, so a busy
//! organization's delivery traffic spreads over many partitions; the sparse `failure-streaks`
//! index holds only the stats of endpoints in a failure streak. An organization's delivery log
//! is spread over `LOG_SHARDS` partitions by event and destination; a page of it queries every
//! shard newest first and merges them.

mod errors;
mod items;
mod legacy;
mod log;
mod stats;
pub mod table;

use std::collections::HashMap;
use std::ops::ControlFlow;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Get, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactGetItem, TransactWriteItem, Update,
};
use webhook_domain::{
    DeliveryStats, Endpoint, EndpointChanges, EndpointId, OrgId, SigningSecret, Timestamp,
};

use crate::{DeliveryTargets, EndpointStore, StoreError, sort_oldest_first};
use errors::{cancellation_reasons, classify};
use items::{Keys, endpoint_from_item, endpoint_item, secret_item, stats_item};
pub use stats::StreakCursor;

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

    /// Reads the endpoint item only (the projection leaves out everything else).
    async fn get(&self, org: OrgId, id: EndpointId) -> Result<Endpoint, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Keys::endpoint(org, id).into_map()))
            .projection_expression(items::ENDPOINT_PROJECTION)
            .set_expression_attribute_names(Some(items::projection_names()))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        output
            .item
            .map(endpoint_from_item)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }
}

impl DynamoStore {
    /// The organization's endpoints, oldest first, with one consistent Query (a page per
    /// megabyte). `with_legacy` extends the range to the legacy item, which sorts right after
    /// the endpoints (`ENDPOINT#…` < `LEGACY`); the projection leaves its secret out.
    async fn org_endpoints(
        &self,
        org: OrgId,
        with_legacy: bool,
    ) -> Result<DeliveryTargets, StoreError> {
        let key_condition = if with_legacy {
            "pk = :pk AND sk BETWEEN :endpoints AND :legacy"
        } else {
            "pk = :pk AND begins_with(sk, :endpoints)"
        };
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(key_condition)
            .expression_attribute_values(":pk", AttributeValue::S(Keys::org_pk(org)))
            .expression_attribute_values(
                ":endpoints",
                AttributeValue::S(items::ENDPOINT_SK_PREFIX.into()),
            )
            .projection_expression(format!("{}, sk", items::ENDPOINT_PROJECTION))
            .set_expression_attribute_names(Some(items::projection_names()))
            .consistent_read(true);
        if with_legacy {
            query = query
                .expression_attribute_values(":legacy", AttributeValue::S(items::LEGACY_SK.into()));
        }
        let mut targets = DeliveryTargets {
            endpoints: Vec::new(),
            legacy_url_set: false,
        };
        each_item(query, |item| {
            let sk = item.get("sk").and_then(|sk| sk.as_s().ok());
            if sk.map(String::as_str) == Some(items::LEGACY_SK) {
                targets.legacy_url_set = true;
            } else {
                targets.endpoints.push(endpoint_from_item(item)?);
            }
            Ok(ControlFlow::Continue(()))
        })
        .await?;
        sort_oldest_first(&mut targets.endpoints);
        Ok(targets)
    }
}

/// Runs a Query page by page, handing each item to `take` until it breaks or the pages end.
async fn each_item(
    query: QueryFluentBuilder,
    mut take: impl FnMut(Item) -> Result<ControlFlow<()>, StoreError>,
) -> Result<(), StoreError> {
    let mut start_key = None;
    loop {
        let output = query
            .clone()
            .set_exclusive_start_key(start_key)
            .send()
            .await
            .map_err(classify)?;
        for item in output.items.unwrap_or_default() {
            if take(item)?.is_break() {
                return Ok(());
            }
        }
        start_key = output.last_evaluated_key;
        if start_key.is_none() {
            return Ok(());
        }
    }
}

impl EndpointStore for DynamoStore {
    async fn list(&self, org: OrgId) -> Result<Vec<Endpoint>, StoreError> {
        Ok(self.org_endpoints(org, false).await?.endpoints)
    }

    async fn delivery_targets(&self, org: OrgId) -> Result<DeliveryTargets, StoreError> {
        self.org_endpoints(org, true).await
    }

    async fn create(
        &self,
        endpoint: &Endpoint,
        secret: &SigningSecret,
        max_per_org: u32,
    ) -> Result<(), StoreError> {
        // One transaction: the counter enforces the limit, the endpoint and its secret appear
        // together or not at all.
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Keys::org(endpoint.org_id).into_map()))
            .update_expression("SET endpoint_count = if_not_exists(endpoint_count, :zero) + :one")
            .condition_expression("attribute_not_exists(endpoint_count) OR endpoint_count < :limit")
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":limit", AttributeValue::N(max_per_org.to_string()))
            .build()
            .map_err(StoreError::internal)?;
        let put_endpoint = Put::builder()
            .table_name(&self.table)
            .set_item(Some(endpoint_item(endpoint)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(StoreError::internal)?;
        let put_secret = Put::builder()
            .table_name(&self.table)
            .set_item(Some(secret_item(endpoint, secret)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(StoreError::internal)?;
        let put_stats = Put::builder()
            .table_name(&self.table)
            .set_item(Some(stats_item(&DeliveryStats::new(
                endpoint.org_id,
                endpoint.id,
            ))?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(StoreError::internal)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(count).build())
            .transact_items(TransactWriteItem::builder().put(put_endpoint).build())
            .transact_items(TransactWriteItem::builder().put(put_secret).build())
            .transact_items(TransactWriteItem::builder().put(put_stats).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => match cancellation_reasons(&error).as_deref() {
                Some(["ConditionalCheckFailed", ..]) => {
                    Err(StoreError::LimitReached { limit: max_per_org })
                }
                _ => Err(classify(error)),
            },
        }
    }

    async fn update(
        &self,
        org: OrgId,
        id: EndpointId,
        changes: &EndpointChanges,
        now: Timestamp,
    ) -> Result<Endpoint, StoreError> {
        let Some(expression) = items::UpdateExpression::for_changes(changes, now)? else {
            return self.get(org, id).await;
        };
        // The condition both refuses to resurrect a deleted endpoint and skips writes that would
        // change nothing; on failure DynamoDB hands back the current item, which tells the two
        // apart without a second request.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Keys::endpoint(org, id).into_map()))
            .update_expression(expression.update)
            .condition_expression(expression.condition)
            .set_expression_attribute_names(Some(expression.names))
            .set_expression_attribute_values(Some(expression.values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => endpoint_from_item(output.attributes.unwrap_or_default()),
            Err(error) => match errors::conditional_check_item(&error) {
                Some(Some(current)) => endpoint_from_item(current),
                Some(None) => Err(StoreError::NotFound),
                None => Err(classify(error)),
            },
        }
    }

    async fn signing_target(
        &self,
        org: OrgId,
        id: EndpointId,
    ) -> Result<Option<(Endpoint, SigningSecret)>, StoreError> {
        // One consistent read of both items; the only read of a secret anywhere.
        let get = |keys: Keys, projection: &str, names: HashMap<String, String>| {
            Get::builder()
                .table_name(&self.table)
                .set_key(Some(keys.into_map()))
                .projection_expression(projection)
                .set_expression_attribute_names(Some(names))
                .build()
                .map_err(StoreError::internal)
        };
        let output = self
            .client
            .transact_get_items()
            .transact_items(
                TransactGetItem::builder()
                    .get(get(
                        Keys::endpoint(org, id),
                        items::ENDPOINT_PROJECTION,
                        items::projection_names(),
                    )?)
                    .build(),
            )
            .transact_items(
                TransactGetItem::builder()
                    .get(get(
                        Keys::secret(org, id),
                        "#secret",
                        HashMap::from([("#secret".to_owned(), "secret".to_owned())]),
                    )?)
                    .build(),
            )
            .send()
            .await
            .map_err(classify)?;
        let mut responses = output
            .responses
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.item);
        let (Some(Some(endpoint)), Some(Some(secret))) = (responses.next(), responses.next())
        else {
            return Ok(None);
        };
        let secret = secret
            .get("secret")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| StoreError::internal("secret item without a secret"))?;
        Ok(Some((
            endpoint_from_item(endpoint)?,
            SigningSecret::from_stored(secret.clone()),
        )))
    }

    async fn delete(&self, org: OrgId, id: EndpointId) -> Result<(), StoreError> {
        let delete_endpoint = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(Keys::endpoint(org, id).into_map()))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(StoreError::internal)?;
        let delete_secret = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(Keys::secret(org, id).into_map()))
            .build()
            .map_err(StoreError::internal)?;
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Keys::org(org).into_map()))
            .update_expression("ADD endpoint_count :minus_one")
            .expression_attribute_values(":minus_one", AttributeValue::N("-1".into()))
            .build()
            .map_err(StoreError::internal)?;
        let delete_stats = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(Keys::stats(id).into_map()))
            .build()
            .map_err(StoreError::internal)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(delete_endpoint).build())
            .transact_items(TransactWriteItem::builder().delete(delete_secret).build())
            .transact_items(TransactWriteItem::builder().update(count).build())
            .transact_items(TransactWriteItem::builder().delete(delete_stats).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => match cancellation_reasons(&error).as_deref() {
                Some(["ConditionalCheckFailed", ..]) => Err(StoreError::NotFound),
                _ => Err(classify(error)),
            },
        }
    }
}

type Item = HashMap<String, AttributeValue>;

/// Client settings for a DynamoDB-compatible server on this machine (moto, for instance):
/// the given endpoint, `AWS_REGION` or `us-east-1`, and placeholder credentials.
pub fn local_config(endpoint: &str) -> aws_sdk_dynamodb::config::Builder {
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
    aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new(region))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local", "local", None, None, "local",
        ))
        .endpoint_url(endpoint)
}

impl DynamoStore {
    /// The table named by `TABLE_NAME`, with the SDK configured from the environment.
    pub async fn from_env() -> Result<Self, StoreError> {
        let table = std::env::var("TABLE_NAME")
            .map_err(|_| StoreError::internal("TABLE_NAME is not set"))?;
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Ok(Self::new(Client::new(&config), table))
    }
}

/// A client for a DynamoDB-compatible server on this machine; see [`local_config`].
pub fn local_client(endpoint: &str) -> Client {
    Client::from_conf(local_config(endpoint).build())
}

impl DynamoStore {
    /// Writes endpoints with their secrets and fresh delivery stats in batches of 25, then
    /// sets each organization's counter: for migrations and load tests. Unlike `create` it
    /// checks no limit and no existing item; run it on endpoints that are not there yet.
    pub async fn import(&self, endpoints: &[(Endpoint, SigningSecret)]) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};

        let mut requests = Vec::with_capacity(endpoints.len() * 3);
        let mut per_org: HashMap<OrgId, u64> = HashMap::new();
        for (endpoint, secret) in endpoints {
            *per_org.entry(endpoint.org_id).or_default() += 1;
            for item in [
                endpoint_item(endpoint)?,
                secret_item(endpoint, secret)?,
                stats_item(&DeliveryStats::new(endpoint.org_id, endpoint.id))?,
            ] {
                let put = PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map_err(StoreError::internal)?;
                requests.push(WriteRequest::builder().put_request(put).build());
            }
        }
        for chunk in requests.chunks(25) {
            let mut pending = HashMap::from([(self.table.clone(), chunk.to_vec())]);
            for retry in 0u32.. {
                let output = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(pending))
                    .send()
                    .await
                    .map_err(classify)?;
                pending = output.unprocessed_items.unwrap_or_default();
                if pending.values().all(Vec::is_empty) {
                    break;
                }
                if retry == 10 {
                    return Err(StoreError::Unavailable(
                        "import: items left unprocessed".into(),
                    ));
                }
                tokio::time::sleep(std::time::Duration::from_millis(50 << retry.min(6))).await;
            }
        }
        for (org, count) in per_org {
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(Keys::org(org).into_map()))
                .update_expression("ADD endpoint_count :count")
                .expression_attribute_values(":count", AttributeValue::N(count.to_string()))
                .send()
                .await
                .map_err(classify)?;
        }
        Ok(())
    }
}
