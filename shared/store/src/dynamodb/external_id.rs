//! The organization's external id lives in an item of its own (`AWSID#<org>` / `AWSID`): written
//! once, by the first ask, and only read after that.

use aws_sdk_dynamodb::types::ReturnValue;
use webhook_domain::{ExternalId, OrgId};

use super::DynamoStore;
use super::Item;
use super::errors::classify;
use super::items::string;
use super::keys::Keys;
use crate::{ExternalIdStore, Result, StoreError};

const EXTERNAL_ID: &str = "external_id";

fn external_id_of(item: &Item) -> Option<ExternalId> {
    let id = item.get(EXTERNAL_ID)?.as_s().ok()?;
    Some(ExternalId::from_stored(id.clone()))
}

impl DynamoStore {
    /// The organization item's `external_id` alone: the one attribute IAM lets its reader see.
    async fn read_external_id(&self, org: OrgId) -> Result<Option<ExternalId>> {
        let item = self
            .read_item(Keys::external_id(org), Some(EXTERNAL_ID))
            .await?;
        Ok(item.as_ref().and_then(external_id_of))
    }
}

impl ExternalIdStore for DynamoStore {
    async fn external_id(&self, org: OrgId) -> Result<ExternalId> {
        if let Some(id) = self.read_external_id(org).await? {
            return Ok(id);
        }
        // Of two first asks at once, the first write's id stays and both answer it.
        let written = self
            .update(Keys::external_id(org))
            .update_expression("SET external_id = if_not_exists(external_id, :new)")
            .expression_attribute_values(":new", string(ExternalId::generate().as_str()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(classify)?;
        if let Some(id) = written.attributes.as_ref().and_then(external_id_of) {
            return Ok(id);
        }
        // moto leaves out of UPDATED_NEW what the write left as it was: the other ask's id.
        self.read_external_id(org)
            .await?
            .ok_or_else(|| StoreError::internal("the external id was not written"))
    }
}
