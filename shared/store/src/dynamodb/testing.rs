//! What tests and benchmarks need and no function binary ships (feature `testing`): bulk
//! import and the log's shard layout.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use webhook_domain::{DeliveryStats, Endpoint, OrgId, SigningSecret};

use super::errors::classify;
use super::items::{endpoint_item_with_secret, number, stats_item};
use super::keys::Keys;
use super::{DynamoStore, until_processed};
use crate::{Result, StoreError};

impl DynamoStore {
    /// Writes endpoints with their secrets and fresh delivery stats in batches of 25, then
    /// sets each organization's counter: for migrations and load tests. Unlike `create` it
    /// checks no limit and no existing item; run it on endpoints that are not there yet.
    pub async fn import(&self, endpoints: &[(Endpoint, SigningSecret)]) -> Result<()> {
        let mut requests = Vec::with_capacity(endpoints.len() * 2);
        let mut per_org: HashMap<OrgId, u64> = HashMap::new();
        for (endpoint, secret) in endpoints {
            *per_org.entry(endpoint.org_id).or_default() += 1;
            for item in [
                endpoint_item_with_secret(endpoint, secret)?,
                stats_item(&DeliveryStats::new(endpoint.org_id, endpoint.id))?,
            ] {
                requests.push(put_request(item)?);
            }
        }
        self.write_all(&requests).await?;
        for (org, count) in per_org {
            self.update(Keys::org(org))
                .update_expression("ADD endpoint_count :count")
                .expression_attribute_values(":count", number(count))
                .send()
                .await
                .map_err(classify)?;
        }
        Ok(())
    }

    /// Writes delivery records as they stand, in batches, each kept until its timestamp: for
    /// tests that need a large log.
    pub async fn import_deliveries(
        &self,
        records: &[(webhook_domain::DeliveryRecord, webhook_domain::Timestamp)],
    ) -> Result<()> {
        let requests = records
            .iter()
            .map(|(record, expires_at)| {
                put_request(super::log::delivery_item(record, *expires_at)?)
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.write_all(&requests).await
    }

    async fn write_all(&self, requests: &[WriteRequest]) -> Result<()> {
        for chunk in requests.chunks(25) {
            let batch = HashMap::from([(self.table.clone(), chunk.to_vec())]);
            // An import is not a request waiting on its answer: it waits longer (25 ms doubling:
            // ten tries, 12.8 s of waiting) for a throttled table.
            until_processed(batch, Duration::from_millis(6_400), |request| async move {
                let output = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(request))
                    .send()
                    .await
                    .map_err(classify)?;
                let left = output.unprocessed_items;
                let left = left.filter(|left| left.values().any(|items| !items.is_empty()));
                Ok((Vec::<()>::new(), left))
            })
            .await?;
        }
        Ok(())
    }
}

fn put_request(item: super::Item) -> Result<WriteRequest> {
    let put = PutRequest::builder()
        .set_item(Some(item))
        .build()
        .map_err(StoreError::internal)?;
    Ok(WriteRequest::builder().put_request(put).build())
}

/// How many partitions an organization's delivery log spans, for tests that read them raw.
pub const LOG_SHARDS: u8 = super::keys::LOG_SHARDS;

/// The table partition (`pk`) holding a delivery record, for tests that read it raw.
pub fn log_partition_of(record: &webhook_domain::DeliveryRef) -> String {
    super::keys::log_partition(record.org_id, super::keys::log_shard(record))
}
