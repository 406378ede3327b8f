//! Per-minute quotas: one item per organization, quota and minute, counted by a conditional ADD
//! and forgotten through TTL an hour after its minute.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use webhook_domain::{PerMinute, QuotaCount};

use super::conditions::{ADMITS, COVERS};
use super::errors::{conditional, written};
use super::items::{epoch_seconds, number};
use super::keys::{EXPIRES_AT, Keys};
use super::{DynamoStore, Item};
use crate::{QuotaStore, Result};

/// A quota item's count; none when it is not a number.
fn used(item: &Item) -> Option<u32> {
    match item.get("used") {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        None => Some(0),
        Some(_) => None,
    }
}

/// A take that meets others is retried with what they left. A retry follows only a count that
/// grew (another take was granted), so this many end it but under a crowd of takes at once.
const TRIES: usize = 16;

impl QuotaStore for DynamoStore {
    async fn take(&self, count: QuotaCount, wanted: u32, limit: PerMinute) -> Result<u32> {
        let mut asking = limit.room(0, wanted);
        for _ in 0..TRIES {
            if asking == 0 {
                break;
            }
            let room = limit.per_minute() - asking;
            let result = self
                .update(Keys::quota(count))
                .update_expression("ADD used :asking SET #expires = :expires")
                .condition_expression(ADMITS)
                .expression_attribute_names("#expires", EXPIRES_AT)
                .expression_attribute_values(":asking", number(asking))
                .expression_attribute_values(":room", number(room))
                .expression_attribute_values(
                    ":expires",
                    epoch_seconds(count.minute.forgettable_at()),
                )
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            match conditional(result)? {
                Ok(_) => return Ok(asking),
                Err(item) => {
                    let used = item.as_ref().and_then(used).unwrap_or(u32::MAX);
                    asking = limit.room(used, wanted);
                }
            }
        }
        Ok(0)
    }

    async fn counted(&self, count: QuotaCount) -> Result<u32> {
        let item = self.read_item(Keys::quota(count), Some("used")).await?;
        // An unreadable count counts as full: a share is never exceeded on a guess.
        Ok(item.as_ref().map_or(Some(0), used).unwrap_or(u32::MAX))
    }

    async fn give_back(&self, count: QuotaCount, n: u32) -> Result<()> {
        // Only a count that is there and covers it: a minute forgotten stays forgotten.
        let result = self
            .update(Keys::quota(count))
            .update_expression("ADD used :less")
            .condition_expression(COVERS)
            .expression_attribute_values(":less", number(-i64::from(n)))
            .expression_attribute_values(":n", number(n))
            .send()
            .await;
        written(result).map(drop)
    }
}
