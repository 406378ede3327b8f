//! The organization's external id lives on its `ORG#<org>` / `ORG` item, beside the count of its
//! endpoints: written once, by the first ask, and only read after that.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use webhook_domain::{ExternalId, OrgId};

use super::DynamoStore;
use super::Item;
use super::errors::classify;
use super::items::string;
use super::keys::Keys;
use crate::{ExternalIdStore, Result, StoreError};

const EXTERNAL_ID: &str = "external_id";

fn external_id_of(item: &Item) -> Option<ExternalId> {
    match item.get(EXTERNAL_ID) {
        Some(AttributeValue::S(id)) => Some(ExternalId::from_stored(id.clone())),
        _ => None,
    }
}

impl ExternalIdStore for DynamoStore {
    async fn external_id(&self, org: OrgId) -> Result<ExternalId> {
        if let Some(id) = self
            .read_item(Keys::org(org), None)
            .await?
            .as_ref()
            .and_then(external_id_of)
        {
            return Ok(id);
        }
        // Of two first asks at once, the first write's id stays and both answer it.
        let written = self
            .update(Keys::org(org))
            .update_expression("SET external_id = if_not_exists(external_id, :new)")
            .expression_attribute_values(":new", string(ExternalId::generate().as_str()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(classify)?;
        written
            .attributes
            .as_ref()
            .and_then(external_id_of)
            .ok_or_else(|| StoreError::internal("the external id was not written"))
    }
}
