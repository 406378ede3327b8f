use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use webhook_domain::{Endpoint, EndpointChanges, EndpointId, OrgId, SigningSecret, Timestamp};

use crate::{EndpointStore, StoreError, sort_oldest_first};

/// The embedded default store: everything in one process, gone when it exits.
#[derive(Debug, Default)]
pub struct MemoryStore {
    orgs: Mutex<HashMap<OrgId, Org>>,
}

#[derive(Debug, Default)]
struct Org {
    endpoints: HashMap<EndpointId, Endpoint>,
    secrets: HashMap<EndpointId, SigningSecret>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn orgs(&self) -> Result<MutexGuard<'_, HashMap<OrgId, Org>>, StoreError> {
        self.orgs
            .lock()
            .map_err(|_| StoreError::internal("memory store lock poisoned"))
    }

    /// The stored secret of an endpoint, for tests that check what create wrote.
    pub fn secret(&self, org: OrgId, id: EndpointId) -> Option<SigningSecret> {
        let orgs = self.orgs().ok()?;
        orgs.get(&org)?.secrets.get(&id).cloned()
    }
}

impl EndpointStore for MemoryStore {
    async fn list(&self, org: OrgId) -> Result<Vec<Endpoint>, StoreError> {
        let orgs = self.orgs()?;
        let mut endpoints: Vec<Endpoint> = orgs
            .get(&org)
            .map(|o| o.endpoints.values().cloned().collect())
            .unwrap_or_default();
        sort_oldest_first(&mut endpoints);
        Ok(endpoints)
    }

    async fn create(
        &self,
        endpoint: &Endpoint,
        secret: &SigningSecret,
        max_per_org: u32,
    ) -> Result<(), StoreError> {
        let mut orgs = self.orgs()?;
        let org = orgs.entry(endpoint.org_id).or_default();
        if org.endpoints.len() >= max_per_org as usize {
            return Err(StoreError::LimitReached { limit: max_per_org });
        }
        if org.endpoints.contains_key(&endpoint.id) {
            return Err(StoreError::internal("endpoint id already taken"));
        }
        org.endpoints.insert(endpoint.id, endpoint.clone());
        org.secrets.insert(endpoint.id, secret.clone());
        Ok(())
    }

    async fn update(
        &self,
        org: OrgId,
        id: EndpointId,
        changes: &EndpointChanges,
        now: Timestamp,
    ) -> Result<Endpoint, StoreError> {
        let mut orgs = self.orgs()?;
        let endpoint = orgs
            .get_mut(&org)
            .and_then(|o| o.endpoints.get_mut(&id))
            .ok_or(StoreError::NotFound)?;
        changes.apply(endpoint, now);
        Ok(endpoint.clone())
    }

    async fn delete(&self, org: OrgId, id: EndpointId) -> Result<(), StoreError> {
        let mut orgs = self.orgs()?;
        let org = orgs.get_mut(&org).ok_or(StoreError::NotFound)?;
        org.endpoints.remove(&id).ok_or(StoreError::NotFound)?;
        org.secrets.remove(&id);
        Ok(())
    }
}
