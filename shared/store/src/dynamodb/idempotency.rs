//! Idempotency records: `ORG#<org>` / `REQUEST#<key>`, one per key, removed by TTL a day on.

use aws_sdk_dynamodb::types::{Put, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};
use webhook_domain::{
    EndpointId, IdempotencyKey, IdempotencyRecord, OrgId, Replay, SecretHint, Timestamp,
};

use super::conditions::KEY_FREE;
use super::errors::{Refusal, classify, refusal};
use super::items::{epoch_seconds, from_item, string, to_item};
use super::keys::{EXPIRES_AT, Keys};
use super::{DynamoStore, Item};
use crate::{IdempotencyStore, Result, StoreError};

/// A record as stored; its key is in `sk`.
#[derive(Serialize, Deserialize)]
struct RequestItem {
    fingerprint: String,
    status: u16,
    #[serde(flatten)]
    replay: StoredReplay,
    /// The record's end, to the millisecond; `expires_at` is the same in TTL's epoch seconds.
    valid_until: Timestamp,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "replay", rename_all = "snake_case")]
enum StoredReplay {
    Endpoint {
        endpoint_id: EndpointId,
        secret_hint: SecretHint,
    },
    LegacyWebhook {
        secret_hint: SecretHint,
    },
    Answer {
        body: String,
    },
    InProgress {
        until: Timestamp,
    },
}

pub(super) fn request_item(org: OrgId, record: &IdempotencyRecord) -> Result<Item> {
    let replay = match &record.replay {
        Replay::Endpoint { id, secret_hint } => StoredReplay::Endpoint {
            endpoint_id: *id,
            secret_hint: secret_hint.clone(),
        },
        Replay::LegacyWebhook { secret_hint } => StoredReplay::LegacyWebhook {
            secret_hint: secret_hint.clone(),
        },
        Replay::Answer { body } => StoredReplay::Answer { body: body.clone() },
        Replay::InProgress { until } => StoredReplay::InProgress { until: *until },
    };
    let mut item = to_item(&RequestItem {
        fingerprint: record.fingerprint.clone(),
        status: record.status,
        replay,
        valid_until: record.expires_at,
    })?;
    item.extend(Keys::request(org, record.key.as_str()).into_map());
    item.insert(EXPIRES_AT.into(), epoch_seconds(record.expires_at));
    Ok(item)
}

fn record_from_item(key: &IdempotencyKey, item: Item) -> Result<IdempotencyRecord> {
    let stored: RequestItem = from_item(item)?;
    Ok(IdempotencyRecord {
        key: key.clone(),
        fingerprint: stored.fingerprint,
        status: stored.status,
        replay: match stored.replay {
            StoredReplay::Endpoint {
                endpoint_id,
                secret_hint,
            } => Replay::Endpoint {
                id: endpoint_id,
                secret_hint,
            },
            StoredReplay::LegacyWebhook { secret_hint } => Replay::LegacyWebhook { secret_hint },
            StoredReplay::Answer { body } => Replay::Answer { body },
            StoredReplay::InProgress { until } => Replay::InProgress { until },
        },
        expires_at: stored.valid_until,
    })
}

/// The put that remembers `record` unless a live record holds its key, for a transaction of
/// its own or another write's.
pub(super) fn remembering_put(
    store: &DynamoStore,
    org: OrgId,
    record: &IdempotencyRecord,
    now: Timestamp,
) -> Result<Put> {
    store
        .put_in_transaction(request_item(org, record)?)
        .condition_expression(KEY_FREE)
        .expression_attribute_names("#until", "until")
        .expression_attribute_values(":now", string(now))
        .expression_attribute_values(":in_progress", string("in_progress"))
        .build()
        .map_err(StoreError::internal)
}

impl IdempotencyStore for DynamoStore {
    async fn idempotency_record(
        &self,
        org: OrgId,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<Option<IdempotencyRecord>> {
        let Some(item) = self
            .read_item(Keys::request(org, key.as_str()), None)
            .await?
        else {
            return Ok(None);
        };
        let record = record_from_item(key, item)?;
        Ok((record.expires_at > now).then_some(record))
    }

    async fn reserve(
        &self,
        org: OrgId,
        record: &IdempotencyRecord,
        now: Timestamp,
    ) -> Result<Option<IdempotencyRecord>> {
        let result = self
            .put(request_item(org, record)?)
            .condition_expression(KEY_FREE)
            .expression_attribute_names("#until", "until")
            .expression_attribute_values(":now", string(now))
            .expression_attribute_values(":in_progress", string("in_progress"))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(error) => match refusal(error) {
                Refusal::ConditionFailed(Some(held)) => {
                    record_from_item(&record.key, held).map(Some)
                }
                Refusal::ConditionFailed(None) => Err(StoreError::internal(
                    "a refused reservation returned no record",
                )),
                Refusal::Failed(error) => Err(error),
            },
        }
    }

    async fn remember(&self, org: OrgId, record: &IdempotencyRecord) -> Result<()> {
        self.put(request_item(org, record)?)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn forget(&self, org: OrgId, key: &IdempotencyKey) -> Result<()> {
        self.delete(Keys::request(org, key.as_str()))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}
