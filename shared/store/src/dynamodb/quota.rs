//! The test route's quota: one item per organization and minute, counted by a conditional ADD
//! and forgotten through TTL an hour after its minute.

use webhook_domain::{Minute, OrgId, TestRateLimit};

use super::DynamoStore;
use super::conditions::ADMITS;
use super::errors::written;
use super::items::{epoch_seconds, number};
use super::keys::{EXPIRES_AT, Keys};
use crate::{Result, TestQuotaStore};

impl TestQuotaStore for DynamoStore {
    async fn count_test_delivery(
        &self,
        org: OrgId,
        minute: Minute,
        limit: TestRateLimit,
    ) -> Result<bool> {
        let result = self
            .update(Keys::test_quota(org, minute))
            .update_expression("ADD used :one SET #expires = :expires")
            .condition_expression(ADMITS)
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":limit", number(limit.per_minute()))
            .expression_attribute_values(":expires", epoch_seconds(minute.forgettable_at()))
            .send()
            .await;
        written(result)
    }
}
