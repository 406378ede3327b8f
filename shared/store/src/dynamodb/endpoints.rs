//! The endpoint operations: an organization's endpoints share its partition, so listing them
//! is one Query. An endpoint item holds its secret, so delivery reads one item; every other
//! reader projects the secret out, and IAM holds them to that (`docs/operations.md`). Endpoints
//! created before keep their secret in an item of their own, read and rotated there.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use webhook_domain::{
    DeliveryStats, Endpoint, EndpointChanges, EndpointId, IdempotencyRecord, OrgId,
    RequestedStatus, SigningKeys, SigningSecret, Timestamp,
};

use super::conditions::{
    ABSENT, EXISTS, ROTATES_FROM, ROTATES_KEPT_SECRET_FROM, UNDER_ENDPOINT_LIMIT,
};
use super::errors::{cancellation_reasons, classify, conditional, item_when_refused};
use super::idempotency::remembering_put;
use super::items::{
    ENDPOINT_PROJECTION, KEYS_PROJECTION, Stamp, endpoint_item_with_secret, events_key, from_item,
    number, projection_names, rotation_update, stats_item, string, to_value,
};
use super::keys::{ENDPOINT_SK_PREFIX, EVENTS_KEY, Keys, LEGACY_SK};
use super::{DynamoStore, Item, TransactionAction, query_all};
use crate::{DeliveryTargets, EndpointStore, Result, RotationAsked, StoreError, sort_oldest_first};

impl DynamoStore {
    /// One conditional UpdateItem: the endpoint updated, or `Err` with the endpoint as it
    /// stands when the update was refused (nothing would change).
    async fn apply_update(
        &self,
        org: OrgId,
        id: EndpointId,
        expression: UpdateExpression,
    ) -> Result<Result<Endpoint, Endpoint>> {
        // The condition both refuses to resurrect a deleted endpoint and skips writes that would
        // change nothing; on failure DynamoDB hands back the current item, which tells the two
        // apart without a second request.
        let result = self
            .update(Keys::endpoint(org, id))
            .update_expression(expression.update)
            .condition_expression(expression.condition)
            .set_expression_attribute_names(Some(expression.names))
            .set_expression_attribute_values(Some(expression.values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match conditional(result)? {
            Ok(output) => Ok(Ok(from_item(output.attributes.unwrap_or_default())?)),
            Err(Some(current)) => Ok(Err(from_item(current)?)),
            Err(None) => Err(StoreError::NotFound),
        }
    }

    /// The organization's endpoints, oldest first, with one consistent Query (a page per
    /// megabyte). `with_legacy` extends the range to the legacy item, which sorts right after
    /// the endpoints (`ENDPOINT#…` < `LEGACY`); the projection leaves its secret out.
    async fn org_endpoints(&self, org: OrgId, with_legacy: bool) -> Result<DeliveryTargets> {
        let key_condition = if with_legacy {
            "pk = :pk AND sk BETWEEN :endpoints AND :legacy"
        } else {
            "pk = :pk AND begins_with(sk, :endpoints)"
        };
        let mut query = self
            .query(None)
            .key_condition_expression(key_condition)
            .expression_attribute_values(":pk", string(Keys::org_pk(org)))
            .expression_attribute_values(":endpoints", string(ENDPOINT_SK_PREFIX))
            .projection_expression(format!("{ENDPOINT_PROJECTION}, sk"))
            .set_expression_attribute_names(Some(projection_names(ENDPOINT_PROJECTION)))
            .consistent_read(true);
        if with_legacy {
            query = query.expression_attribute_values(":legacy", string(LEGACY_SK));
        }
        let mut targets = DeliveryTargets::default();
        for item in query_all(query).await? {
            let sk = item.get("sk").and_then(|sk| sk.as_s().ok());
            if sk.map(String::as_str) == Some(LEGACY_SK) {
                targets.legacy_url_set = true;
            } else {
                targets.endpoints.push(from_item(item)?);
            }
        }
        sort_oldest_first(&mut targets.endpoints);
        Ok(targets)
    }
}

impl EndpointStore for DynamoStore {
    async fn list(&self, org: OrgId) -> Result<Vec<Endpoint>> {
        Ok(self.org_endpoints(org, false).await?.endpoints)
    }

    async fn delivery_targets(&self, org: OrgId) -> Result<DeliveryTargets> {
        self.org_endpoints(org, true).await
    }

    async fn create(
        &self,
        endpoint: &Endpoint,
        secret: &SigningSecret,
        max_per_org: u32,
        remember: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        // One transaction: the counter enforces the limit, the endpoint and its secret appear
        // together or not at all.
        let count = self
            .update_in_transaction(Keys::org(endpoint.org_id))
            .update_expression("SET endpoint_count = if_not_exists(endpoint_count, :zero) + :one")
            .condition_expression(UNDER_ENDPOINT_LIMIT)
            .expression_attribute_values(":zero", number(0))
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":limit", number(max_per_org))
            .action()?;
        let put_endpoint = self
            .put_in_transaction(endpoint_item_with_secret(endpoint, secret)?)
            .condition_expression(ABSENT)
            .action()?;
        let stats = DeliveryStats::new(endpoint.org_id, endpoint.id);
        let put_stats = self
            .put_in_transaction(stats_item(&stats)?)
            .condition_expression(ABSENT)
            .action()?;
        let mut items = vec![count, put_endpoint, put_stats];
        if let Some(record) = remember {
            let at = endpoint.created_at;
            items.push(remembering_put(self, endpoint.org_id, record, at)?);
        }
        match self.write_together(items).await {
            Ok(_) => Ok(()),
            Err(error) => match cancellation_reasons(&error).as_deref() {
                Some(reasons) if key_refused(reasons, 3) => Err(StoreError::KeyTaken),
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
    ) -> Result<Endpoint> {
        let Some(expression) = UpdateExpression::for_changes(changes, now)? else {
            return self.get(org, id).await;
        };
        let current = match self.apply_update(org, id, expression).await? {
            Ok(updated) => return Ok(updated),
            Err(current) => current,
        };
        // Refused with the events given: they are the same set as stored. The rest of the
        // changes still apply, the stored order stays.
        let rest = EndpointChanges {
            events: None,
            ..changes.clone()
        };
        match UpdateExpression::for_changes(&rest, now)? {
            Some(expression) if changes.events.is_some() => {
                match self.apply_update(org, id, expression).await? {
                    Ok(endpoint) | Err(endpoint) => Ok(endpoint),
                }
            }
            _ => Ok(current),
        }
    }

    async fn signing_target(
        &self,
        org: OrgId,
        id: EndpointId,
    ) -> Result<Option<(Endpoint, SigningKeys)>> {
        // One consistent read of the endpoint item, which holds its keys: the only read of a
        // secret anywhere. An endpoint created before secrets moved there keeps them in an
        // item of its own, read next.
        let projection = format!("{ENDPOINT_PROJECTION}, {KEYS_PROJECTION}");
        let read_endpoint = || self.read_item(Keys::endpoint(org, id), Some(&projection));
        let Some(endpoint) = read_endpoint().await? else {
            return Ok(None);
        };
        if endpoint.contains_key("secret") {
            return signing_target_of(endpoint.clone(), endpoint);
        }
        let apart = self
            .read_item(Keys::secret(org, id), Some(KEYS_PROJECTION))
            .await?;
        match apart {
            Some(keys) => signing_target_of(endpoint, keys),
            // `webhooks-admin upgrade` may have moved it between the two reads: the endpoint
            // item holds it now, unless the endpoint is gone.
            None => match read_endpoint().await? {
                Some(endpoint) if endpoint.contains_key("secret") => {
                    signing_target_of(endpoint.clone(), endpoint)
                }
                _ => Ok(None),
            },
        }
    }

    async fn get(&self, org: OrgId, id: EndpointId) -> Result<Endpoint> {
        self.read_item(Keys::endpoint(org, id), Some(ENDPOINT_PROJECTION))
            .await?
            .map(from_item)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    async fn rotate_secret(&self, asked: RotationAsked<'_, Endpoint>) -> Result<Endpoint> {
        // One write of the endpoint item, which holds its secret, and only from the secret the
        // caller saw: of concurrent rotations one wins. An endpoint whose secret is in an item
        // of its own refuses it, and is rotated there.
        let kept = self.rotation_of_endpoint_item(asked)?;
        if let Some(rotated) = self.write_rotation(vec![kept], asked).await? {
            return Ok(rotated);
        }
        let apart = self.rotation_of_secret_item(asked)?;
        if let Some(rotated) = self.write_rotation(apart, asked).await? {
            return Ok(rotated);
        }
        // `webhooks-admin upgrade` moved it meanwhile: it is in the endpoint item. Each layout
        // is answered once by the other's write; met again, a rotation at the same moment
        // moved it on.
        let kept = self.rotation_of_endpoint_item(asked)?;
        let rotated = self.write_rotation(vec![kept], asked).await?;
        rotated.ok_or(StoreError::Superseded)
    }

    async fn delete(&self, org: OrgId, id: EndpointId) -> Result<()> {
        let delete_endpoint = self
            .delete_in_transaction(Keys::endpoint(org, id))
            .condition_expression(EXISTS)
            .action()?;
        let delete_secret = self.delete_in_transaction(Keys::secret(org, id)).action()?;
        let count = self
            .update_in_transaction(Keys::org(org))
            .update_expression("ADD endpoint_count :minus_one")
            .expression_attribute_values(":minus_one", number(-1))
            .action()?;
        let delete_stats = self.delete_in_transaction(Keys::stats(id)).action()?;
        let items = vec![delete_endpoint, delete_secret, count, delete_stats];
        match self.write_together(items).await {
            Ok(_) => Ok(()),
            Err(error) => match cancellation_reasons(&error).as_deref() {
                Some(["ConditionalCheckFailed", ..]) => Err(StoreError::NotFound),
                _ => Err(classify(error)),
            },
        }
    }
}

impl DynamoStore {
    /// The rotation as one update of an endpoint item that holds its secret.
    fn rotation_of_endpoint_item(
        &self,
        asked: RotationAsked<'_, Endpoint>,
    ) -> Result<TransactWriteItem> {
        let RotationAsked { from, rotation, .. } = asked;
        let (update, values) = rotation_update(rotation, Stamp::UpdatedAtAndHint);
        self.update_in_transaction(Keys::endpoint(from.org_id, from.id))
            .update_expression(update)
            .condition_expression(ROTATES_KEPT_SECRET_FROM)
            .set_expression_attribute_values(Some(values))
            .expression_attribute_values(":seen", string(from.secret_hint.as_str()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .action()
    }

    /// The rotation of an endpoint created before secrets moved into endpoint items: the hint
    /// in its endpoint item, the secrets in its secret item.
    fn rotation_of_secret_item(
        &self,
        asked: RotationAsked<'_, Endpoint>,
    ) -> Result<Vec<TransactWriteItem>> {
        let RotationAsked { from, rotation, .. } = asked;
        let (org, id) = (from.org_id, from.id);
        let show = self
            .update_in_transaction(Keys::endpoint(org, id))
            .update_expression("SET secret_hint = :hint, updated_at = :now")
            .condition_expression(ROTATES_FROM)
            .expression_attribute_values(":hint", string(rotation.new.hint().as_str()))
            .expression_attribute_values(":seen", string(from.secret_hint.as_str()))
            .expression_attribute_values(":now", string(rotation.at))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .action()?;
        let (update, values) = rotation_update(rotation, Stamp::Nothing);
        let rotate = self
            .update_in_transaction(Keys::secret(org, id))
            .update_expression(update)
            .condition_expression(EXISTS)
            .set_expression_attribute_values(Some(values))
            .action()?;
        Ok(vec![show, rotate])
    }

    /// Writes a rotation's items (the first conditioned on the endpoint item, asking for it
    /// back on refusal) with `remember`'s record, in one transaction. `None`: the secret is
    /// not where these items look for it, the other layout holds it.
    async fn write_rotation(
        &self,
        mut items: Vec<TransactWriteItem>,
        asked: RotationAsked<'_, Endpoint>,
    ) -> Result<Option<Endpoint>> {
        let RotationAsked {
            from,
            rotation,
            remember,
        } = asked;
        let rotating = items.len();
        if let Some(record) = remember {
            items.push(remembering_put(self, from.org_id, record, rotation.at)?);
        }
        let Err(refused) = self.write_together(items).await else {
            // The endpoint as the rotation left it, built from what was written.
            let mut rotated = from.clone();
            rotated.rotated(rotation);
            return Ok(Some(rotated));
        };
        match cancellation_reasons(&refused).as_deref() {
            Some(reasons) if key_refused(reasons, rotating) => Err(StoreError::KeyTaken),
            Some(reasons) if failed_at(reasons, 0) => match item_when_refused(&refused, 0) {
                None => Err(StoreError::NotFound),
                // The endpoint item holds no secret: it is in an item of its own.
                Some(item) if rotating == 1 && !item.contains_key("secret") => Ok(None),
                Some(_) => Err(StoreError::Superseded),
            },
            // Another rotation's transaction was writing the same items at that moment.
            Some(reasons) if reasons[..rotating].contains(&"TransactionConflict") => {
                Err(StoreError::Superseded)
            }
            // The secret item is gone while its endpoint stands: it moved into the endpoint item.
            Some(reasons) if rotating == 2 && failed_at(reasons, 1) => Ok(None),
            Some(reasons) if (0..rotating).any(|i| failed_at(reasons, i)) => {
                Err(StoreError::NotFound)
            }
            _ => Err(classify(refused)),
        }
    }
}

/// The endpoint and its keys from the items that hold them.
fn signing_target_of(endpoint: Item, keys: Item) -> Result<Option<(Endpoint, SigningKeys)>> {
    Ok(Some((from_item(endpoint)?, from_item(keys)?)))
}

/// Whether a transaction's item `index` was the one whose condition failed.
pub(super) fn failed_at(reasons: &[&str], index: usize) -> bool {
    reasons.get(index) == Some(&"ConditionalCheckFailed")
}

/// Whether a transaction's idempotency record, at `index`, was refused: its key is held, or a
/// request with the same key was writing it at that moment. Read before the other items'
/// reasons: a repeat finds them changed by its own first call.
pub(super) fn key_refused(reasons: &[&str], index: usize) -> bool {
    failed_at(reasons, index) || reasons.get(index) == Some(&"TransactionConflict")
}

/// An UpdateItem request for a set of changes.
struct UpdateExpression {
    pub update: String,
    /// The item exists and at least one requested value differs from the stored one.
    pub condition: String,
    pub names: HashMap<String, String>,
    pub values: Item,
}

impl UpdateExpression {
    /// `None` when there is nothing to change.
    fn for_changes(changes: &EndpointChanges, now: Timestamp) -> Result<Option<Self>> {
        // Each attribute to change and its new value (`None`: removed).
        let mut changed: Vec<(&str, Option<AttributeValue>)> = Vec::new();
        if let Some(label) = &changes.label {
            changed.push(("label", Some(to_value(label)?)));
        }
        if let Some(url) = &changes.url {
            changed.push(("url", Some(to_value(url)?)));
        }
        if let Some(role) = &changes.role_arn {
            changed.push(("role_arn", optional_value(role)?));
        }
        if let Some(events) = &changes.events {
            changed.push(("events", Some(to_value(events)?)));
            changed.push((EVENTS_KEY, Some(events_key(events))));
        }
        if let Some(status) = changes.status {
            let status = webhook_domain::EndpointStatus::from(status);
            changed.push(("status", Some(to_value(&status)?)));
        }
        if let Some(headers) = &changes.headers {
            let headers = Some(headers).filter(|headers| !headers.is_empty());
            changed.push(("headers", optional_value(&headers)?));
        }
        if let Some(limit) = &changes.rate_limit {
            changed.push(("rate_limit", optional_value(limit)?));
        }
        if let Some(agent) = &changes.agent_id {
            changed.push(("agent_id", optional_value(agent)?));
        }
        if changed.is_empty() {
            return Ok(None);
        }
        // Only these may be absent from an item; every other attribute is always there.
        const OPTIONAL: [&str; 5] = ["agent_id", "role_arn", "headers", "rate_limit", EVENTS_KEY];
        let (mut sets, mut removes, mut differs) = (Vec::new(), Vec::new(), Vec::new());
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        for (name, value) in changed {
            names.insert(format!("#{name}"), name.to_owned());
            match value {
                Some(value) => {
                    values.insert(format!(":{name}"), value);
                    sets.push(format!("#{name} = :{name}"));
                    differs.push(if OPTIONAL.contains(&name) {
                        format!("(attribute_not_exists(#{name}) OR #{name} <> :{name})")
                    } else {
                        format!("#{name} <> :{name}")
                    });
                }
                None => {
                    removes.push(format!("#{name}"));
                    differs.push(format!("attribute_exists(#{name})"));
                }
            }
        }
        names.insert("#updated_at".into(), "updated_at".into());
        values.insert(":updated_at".into(), to_value(&now)?);
        sets.push("#updated_at = :updated_at".into());
        // As EndpointChanges::apply: a real change asking for `active` restarts the failure clock.
        if changes.status == Some(RequestedStatus::Active) {
            names.insert("#streak_reset_at".into(), "streak_reset_at".into());
            sets.push("#streak_reset_at = :updated_at".into());
        }

        let mut update = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            update.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        // DynamoDB refuses redundant parentheses, so a single clause goes in bare. A new event
        // list must be a new set: the same set in another order is no change, and the caller
        // retries the rest of the changes without it (`EndpointChanges::apply`'s rule).
        let events_differ =
            format!("(attribute_not_exists(#{EVENTS_KEY}) OR #{EVENTS_KEY} <> :{EVENTS_KEY})");
        let condition = match differs.as_slice() {
            _ if changes.events.is_some() => format!("{EXISTS} AND {events_differ}"),
            [one] => format!("{EXISTS} AND {one}"),
            many => format!("{EXISTS} AND ({})", many.join(" OR ")),
        };
        Ok(Some(Self {
            update,
            condition,
            names,
            values,
        }))
    }
}

/// An optional attribute's value; `None` removes it.
fn optional_value(value: &Option<impl serde::Serialize>) -> Result<Option<AttributeValue>> {
    value.as_ref().map(to_value).transpose()
}
