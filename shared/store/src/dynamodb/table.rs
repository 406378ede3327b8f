//! The table's shape, for the local server and the tests; `template.yaml` declares the same.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};

use super::errors::classify;
use super::keys::{
    DESTINATION_LOG_INDEX, DESTINATION_LOG_KEY, DESTINATION_LOG_PROJECTION, ENDPOINT_LOG_INDEX,
    ENDPOINT_LOG_KEY, EVENT_LOG_INDEX, EVENT_LOG_KEY, EXPIRES_AT, PROBLEM_LOG_INDEX,
    PROBLEM_LOG_KEY, STREAK_INDEX, STREAK_KEY,
};
use crate::{Result, StoreError};

/// Creates the table unless it exists, then waits until it is active.
pub async fn create_if_missing(client: &Client, table: &str) -> Result<()> {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(StoreError::internal)
    };
    let key = |name: &str, key_type| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .map_err(StoreError::internal)
    };
    let index = |name: &str, partition: &str, sort: Option<&str>, projection: Projection| {
        let mut index = GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(partition, KeyType::Hash)?);
        if let Some(sort) = sort {
            index = index.key_schema(key(sort, KeyType::Range)?);
        }
        index
            .projection(projection)
            .build()
            .map_err(StoreError::internal)
    };
    let all = || {
        Projection::builder()
            .projection_type(ProjectionType::All)
            .build()
    };
    let streaks = Projection::builder()
        .projection_type(ProjectionType::Include)
        .non_key_attributes("org_id")
        .non_key_attributes("endpoint_id")
        .build();
    let filtered = DESTINATION_LOG_PROJECTION
        .iter()
        .fold(
            Projection::builder().projection_type(ProjectionType::Include),
            |projection, name| projection.non_key_attributes(*name),
        )
        .build();
    // Keys only: it finds a record's table keys, the table gives the record.
    let keys_only = Projection::builder()
        .projection_type(ProjectionType::KeysOnly)
        .build();
    let created = client
        .create_table()
        .table_name(table)
        .attribute_definitions(attribute("pk")?)
        .attribute_definitions(attribute("sk")?)
        .attribute_definitions(attribute(STREAK_KEY)?)
        .attribute_definitions(attribute("failing_since")?)
        .attribute_definitions(attribute(ENDPOINT_LOG_KEY)?)
        .attribute_definitions(attribute(PROBLEM_LOG_KEY)?)
        .attribute_definitions(attribute(EVENT_LOG_KEY)?)
        .attribute_definitions(attribute(DESTINATION_LOG_KEY)?)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .global_secondary_indexes(index(
            STREAK_INDEX,
            STREAK_KEY,
            Some("failing_since"),
            streaks,
        )?)
        .global_secondary_indexes(index(
            ENDPOINT_LOG_INDEX,
            ENDPOINT_LOG_KEY,
            Some("sk"),
            all(),
        )?)
        .global_secondary_indexes(index(
            PROBLEM_LOG_INDEX,
            PROBLEM_LOG_KEY,
            Some("sk"),
            all(),
        )?)
        .global_secondary_indexes(index(EVENT_LOG_INDEX, EVENT_LOG_KEY, None, keys_only)?)
        .global_secondary_indexes(index(
            DESTINATION_LOG_INDEX,
            DESTINATION_LOG_KEY,
            Some("sk"),
            filtered,
        )?)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await;
    if let Err(error) = created
        && error.code() != Some("ResourceInUseException")
    {
        return Err(classify(error));
    }
    wait_until_active(client, table).await?;
    enable_expiry(client, table).await
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
        .map_err(classify)?;
    Ok(())
}

/// Polls DescribeTable; the SDK's own waiter sleeps 20 s between polls.
async fn wait_until_active(client: &Client, table: &str) -> Result<()> {
    for _ in 0..600 {
        let description = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(classify)?;
        let status = description.table.and_then(|t| t.table_status);
        if status == Some(TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(StoreError::internal(format!(
        "table {table} did not become active in 60 s"
    )))
}
