//! How domain values map to items: keys, projections and update expressions, via serde.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use webhook_domain::{
    DeliveryRef, DeliveryStats, Endpoint, EndpointChanges, EndpointId, OrgId, RequestedStatus,
    SigningSecret, Timestamp,
};

use super::Item;
use crate::StoreError;

pub(super) const ENDPOINT_SK_PREFIX: &str = "ENDPOINT#";
/// Sorts right after every `ENDPOINT#` key, so one Query range holds both; no other item of
/// the organization's partition may sort between them.
pub(super) const LEGACY_SK: &str = "LEGACY";

/// Every attribute of an endpoint item a reader needs; never keys, never a secret.
pub(super) const ENDPOINT_PROJECTION: &str = "#id, #org_id, #label, #url, #events, #status, #agent_id, #secret_hint, #created_at, #updated_at, #streak_reset_at";

pub(super) fn projection_names() -> HashMap<String, String> {
    [
        "id",
        "org_id",
        "label",
        "url",
        "events",
        "status",
        "agent_id",
        "secret_hint",
        "created_at",
        "updated_at",
        "streak_reset_at",
    ]
    .into_iter()
    .map(|name| (format!("#{name}"), name.to_owned()))
    .collect()
}

pub(super) struct Keys {
    pk: String,
    sk: String,
}

impl Keys {
    pub(super) fn org_pk(org: OrgId) -> String {
        format!("ORG#{org}")
    }

    pub(super) fn org(org: OrgId) -> Self {
        Self {
            pk: Self::org_pk(org),
            sk: "ORG".into(),
        }
    }

    pub(super) fn endpoint(org: OrgId, id: EndpointId) -> Self {
        Self {
            pk: Self::org_pk(org),
            sk: format!("{ENDPOINT_SK_PREFIX}{id}"),
        }
    }

    pub(super) fn legacy(org: OrgId) -> Self {
        Self {
            pk: Self::org_pk(org),
            sk: LEGACY_SK.into(),
        }
    }

    pub(super) fn secret(org: OrgId, id: EndpointId) -> Self {
        Self {
            pk: Self::org_pk(org),
            sk: format!("SECRET#{id}"),
        }
    }

    /// Delivery stats live in the endpoint's own partition, not the organization's, so a busy
    /// organization's delivery traffic spreads over many partitions.
    pub(super) fn stats(id: EndpointId) -> Self {
        Self {
            pk: format!("{ENDPOINT_SK_PREFIX}{id}"),
            sk: "STATS".into(),
        }
    }

    /// One shard of an organization's delivery log.
    pub(super) fn log_pk(org: OrgId, shard: u8) -> String {
        format!("LOG#{org}#{shard}")
    }

    pub(super) fn delivery(record: &DeliveryRef) -> Self {
        Self {
            pk: Self::log_pk(record.org_id, record.shard()),
            sk: record.log_key().as_str().to_owned(),
        }
    }

    pub(super) fn into_map(self) -> Item {
        HashMap::from([
            ("pk".to_owned(), AttributeValue::S(self.pk)),
            ("sk".to_owned(), AttributeValue::S(self.sk)),
        ])
    }
}

pub(super) fn to_item(value: &impl Serialize) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(StoreError::internal)
}

fn to_value(value: &impl Serialize) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(value).map_err(StoreError::internal)
}

pub(super) fn endpoint_item(endpoint: &Endpoint) -> Result<Item, StoreError> {
    let mut item = to_item(endpoint)?;
    item.extend(Keys::endpoint(endpoint.org_id, endpoint.id).into_map());
    Ok(item)
}

pub(super) fn secret_item(endpoint: &Endpoint, secret: &SigningSecret) -> Result<Item, StoreError> {
    let mut item = Keys::secret(endpoint.org_id, endpoint.id).into_map();
    item.insert("endpoint_id".into(), to_value(&endpoint.id)?);
    item.insert(
        "secret".into(),
        AttributeValue::S(secret.expose().to_owned()),
    );
    Ok(item)
}

pub(super) fn endpoint_from_item(item: Item) -> Result<Endpoint, StoreError> {
    serde_dynamo::from_item(item).map_err(StoreError::internal)
}

pub(super) fn stats_item(stats: &DeliveryStats) -> Result<Item, StoreError> {
    let mut item = to_item(stats)?;
    item.extend(Keys::stats(stats.endpoint_id).into_map());
    Ok(item)
}

pub(super) fn stats_from_item(item: Item) -> Result<DeliveryStats, StoreError> {
    serde_dynamo::from_item(item).map_err(StoreError::internal)
}

/// The sparse index of endpoints in a failure streak: only stats items with a `failing_since`
/// carry `streak_shard`, so the index holds exactly the streaks, oldest first per shard.
pub(super) const STREAK_INDEX: &str = "failure-streaks";
/// Streak starts and ends are spread over this many index partitions.
pub(super) const STREAK_SHARDS: u8 = 4;

pub(super) fn streak_shard_key(shard: u8) -> String {
    format!("STREAK#{shard}")
}

fn shard_of(id: EndpointId) -> u8 {
    (id.as_uuid().as_u128() % u128::from(STREAK_SHARDS)) as u8
}

pub(super) fn streak_shard_of(id: EndpointId) -> String {
    streak_shard_key(shard_of(id))
}

/// Where a streak goes once it has made its endpoint failing: outside every sweep's Query.
pub(super) fn marked_shard_of(id: EndpointId) -> String {
    format!("MARKED#{}", shard_of(id))
}

/// Where a streak goes when its endpoint is paused or was re-activated after it began.
pub(super) fn parked_shard_of(id: EndpointId) -> String {
    format!("PARKED#{}", shard_of(id))
}

/// An UpdateItem request for a set of changes.
pub(super) struct UpdateExpression {
    pub update: String,
    /// The item exists and at least one requested value differs from the stored one.
    pub condition: String,
    pub names: HashMap<String, String>,
    pub values: Item,
}

impl UpdateExpression {
    /// `None` when there is nothing to change.
    pub(super) fn for_changes(
        changes: &EndpointChanges,
        now: Timestamp,
    ) -> Result<Option<Self>, StoreError> {
        let mut expression = Self {
            update: String::new(),
            condition: String::new(),
            names: HashMap::new(),
            values: HashMap::new(),
        };
        let mut sets = Vec::new();
        let mut removes = Vec::new();
        let mut differs = Vec::new();
        // Only agent_id may be absent from an item; every other attribute is always there.
        let mut set = |expression: &mut Self, name: &str, value: AttributeValue| {
            expression.names.insert(format!("#{name}"), name.to_owned());
            expression.values.insert(format!(":{name}"), value);
            sets.push(format!("#{name} = :{name}"));
            differs.push(if name == "agent_id" {
                format!("(attribute_not_exists(#{name}) OR #{name} <> :{name})")
            } else {
                format!("#{name} <> :{name}")
            });
        };
        if let Some(label) = &changes.label {
            set(&mut expression, "label", to_value(label)?);
        }
        if let Some(url) = &changes.url {
            set(&mut expression, "url", to_value(url)?);
        }
        if let Some(events) = &changes.events {
            set(&mut expression, "events", to_value(events)?);
        }
        if let Some(status) = changes.status {
            let status = webhook_domain::EndpointStatus::from(status);
            set(&mut expression, "status", to_value(&status)?);
        }
        match changes.agent_id {
            Some(Some(agent)) => set(&mut expression, "agent_id", to_value(&agent)?),
            Some(None) => {
                expression
                    .names
                    .insert("#agent_id".into(), "agent_id".into());
                removes.push("#agent_id".to_owned());
                differs.push("attribute_exists(#agent_id)".to_owned());
            }
            None => {}
        }
        if differs.is_empty() {
            return Ok(None);
        }
        expression
            .names
            .insert("#updated_at".into(), "updated_at".into());
        expression
            .values
            .insert(":updated_at".into(), to_value(&now)?);
        sets.push("#updated_at = :updated_at".into());
        // As EndpointChanges::apply: a real change asking for `active` restarts the failure clock.
        if changes.status == Some(RequestedStatus::Active) {
            expression
                .names
                .insert("#streak_reset_at".into(), "streak_reset_at".into());
            sets.push("#streak_reset_at = :updated_at".into());
        }

        expression.update = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression
                .update
                .push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        // DynamoDB refuses redundant parentheses, so a single clause goes in bare.
        expression.condition = match differs.as_slice() {
            [one] => format!("attribute_exists(pk) AND {one}"),
            many => format!("attribute_exists(pk) AND ({})", many.join(" OR ")),
        };
        Ok(Some(expression))
    }
}
