//! The table's shape, for the local server and the tests; `template.yaml` declares the same.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification, TimeToLiveStatus,
};

use super::errors::classify;
use super::keys::{EXPIRES_AT, Holds, INDEXES, Index};
use crate::{Result, StoreError};

/// Creates the table unless it exists, then waits until it is active.
pub async fn create_if_missing(client: &Client, table: &str) -> Result<()> {
    let mut create = client
        .create_table()
        .table_name(table)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .billing_mode(BillingMode::PayPerRequest);
    let mut keys = vec!["pk", "sk"];
    for index in INDEXES {
        keys.extend([Some(index.key), index.sort].into_iter().flatten());
        create = create.global_secondary_indexes(global_index(index)?);
    }
    keys.sort_unstable();
    keys.dedup();
    for name in keys {
        let attribute = AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(StoreError::internal)?;
        create = create.attribute_definitions(attribute);
    }
    let created = create.send().await;
    if let Err(error) = created
        && error.code() != Some("ResourceInUseException")
    {
        return Err(classify(error));
    }
    wait_until_active(client, table).await?;
    enable_expiry(client, table).await
}

fn key(name: &str, key_type: KeyType) -> Result<KeySchemaElement> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(StoreError::internal)
}

fn global_index(index: Index) -> Result<GlobalSecondaryIndex> {
    let holds = match index.holds {
        Holds::Everything => Projection::builder().projection_type(ProjectionType::All),
        Holds::KeysOnly => Projection::builder().projection_type(ProjectionType::KeysOnly),
        Holds::These(names) => Projection::builder()
            .projection_type(ProjectionType::Include)
            .set_non_key_attributes(Some(names.iter().map(|&name| name.to_owned()).collect())),
    };
    let mut built = GlobalSecondaryIndex::builder()
        .index_name(index.name)
        .key_schema(key(index.key, KeyType::Hash)?)
        .projection(holds.build());
    if let Some(sort) = index.sort {
        built = built.key_schema(key(sort, KeyType::Range)?);
    }
    built.build().map_err(StoreError::internal)
}

/// Delivery records carry their expiry; DynamoDB removes them after it passes. Checked on every
/// start, so a table created before (or a start that failed halfway) gets it too.
async fn enable_expiry(client: &Client, table: &str) -> Result<()> {
    let current = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(classify)?;
    let status = current
        .time_to_live_description
        .and_then(|d| d.time_to_live_status);
    if matches!(
        status,
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    ) {
        return Ok(());
    }
    let specification = TimeToLiveSpecification::builder()
        .attribute_name(EXPIRES_AT)
        .enabled(true)
        .build()
        .map_err(StoreError::internal)?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(specification)
        .send()
        .await
        .map(drop)
        .map_err(classify)
}

/// The SDK's waiter: it asks at once (a new table on moto, or one that was there, is active),
/// then after 20 s to 2 min, growing (a new table on AWS takes seconds). Only local set-up and
/// tests create tables; a deployed stack's table comes from `template.yaml`.
async fn wait_until_active(client: &Client, table: &str) -> Result<()> {
    let waited = client
        .wait_until_table_exists()
        .table_name(table)
        .wait(Duration::from_secs(300))
        .await;
    waited.map(drop).map_err(StoreError::internal)
}
